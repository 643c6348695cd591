package analyze_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vrrpctl/vrrpctl/analyze"
	"github.com/vrrpctl/vrrpctl/capture"
	"github.com/vrrpctl/vrrpctl/decode"
)

// heapMiB is the live heap after a collection.
func heapMiB() float64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapAlloc) / (1 << 20)
}

// replayFailover feeds testdata/failover.pcap to e, calling between(prev, next)
// before each of its frames so a test can add frames in the gaps.
func replayFailover(t *testing.T, e *analyze.Engine, between func(prev, next *decode.Frame)) {
	t.Helper()
	src, err := capture.OpenFile("../testdata/failover.pcap", "")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dec, err := decode.NewDecoder(src.LinkType())
	if err != nil {
		t.Fatal(err)
	}
	var f, prev decode.Frame
	for n := uint64(1); ; n++ {
		data, ci, err := src.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := dec.Decode(data, ci, n, &f); err != nil {
			t.Fatal(err)
		}
		if n > 1 {
			between(&prev, &f)
		}
		e.Feed(&f)
		prev = decode.Frame{Number: f.Number, Time: f.Time}
	}
}

// floodMAC is the i-th host of a flood.
func floodMAC(i int) decode.MAC {
	return decode.MAC{0x02, 0xf1, byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)}
}

// A MAC flood toward the VIP (every frame from a new host) around the
// failover capture: the clients table stays within its limit, the memory
// stays flat, the failovers are still found, and the report says what was
// forgotten.
func TestFloodOfClients(t *testing.T) {
	const perGap = 1200 // about 345 000 hosts over the capture's 288 gaps
	e := analyze.NewEngine(analyze.Options{})
	hosts := 0
	var peak float64
	replayFailover(t, e, func(prev, next *decode.Frame) {
		step := next.Time.Sub(prev.Time) / (perGap + 1)
		for i := range perGap {
			hosts++
			dst := nat1MAC
			if hosts%2 == 0 {
				dst = nat2MAC
			}
			f := decode.Frame{Number: prev.Number, Time: prev.Time.Add(time.Duration(i+1) * step), LinkType: next.LinkType,
				SrcMAC: floodMAC(hosts), DstMAC: dst, HasDstMAC: true, Kind: decode.KindIP,
				IP: decode.IPHeader{Version: 4, Src: netip.AddrFrom4([4]byte{10, byte(hosts >> 16), byte(hosts >> 8), byte(hosts)}), Dst: vip, TTL: 64, Protocol: 1},
				L4: decode.Transport{Protocol: 1, ICMPType: 8}}
			e.Feed(&f)
		}
		if next.Number%50 == 0 {
			peak = max(peak, heapMiB())
		}
	})
	peak = max(peak, heapMiB())
	a := e.Finish()
	if hosts < 2*analyze.MaxClients {
		t.Fatalf("only %d hosts: the flood must overflow the table", hosts)
	}
	if peak > 64 {
		t.Errorf("live heap reached %.1f MiB, want under 64", peak)
	}
	if len(a.Failovers) != 2 || a.Failovers[0].Frame != 43 || a.Failovers[1].Frame != 185 {
		t.Errorf("failovers %+v, want the capture's two (frames 43, 185)", a.Failovers)
	}
	if len(a.Clients) > analyze.MaxListedClients {
		t.Errorf("%d clients listed, want at most %d", len(a.Clients), analyze.MaxListedClients)
	}
	for _, fo := range a.Failovers {
		if len(fo.Clients) > analyze.MaxListedClients {
			t.Errorf("failover at frame %d lists %d clients", fo.Frame, len(fo.Clients))
		}
	}
	evicted := map[string]uint64{}
	for _, ev := range a.Evictions {
		evicted[ev.Table] = ev.Evicted
	}
	// The hosts before the first advert (two gaps) are no clients yet: the
	// VIP is not known.
	if evicted["clients"] < uint64(hosts-analyze.MaxClients-2*perGap) {
		t.Errorf("evictions %+v: the clients table should have forgotten about %d", a.Evictions, hosts-analyze.MaxClients)
	}
	if !strings.Contains(strings.Join(a.Notes, "\n"), fmt.Sprintf("clients (hosts sending to a VIP) is limited to %d entries", analyze.MaxClients)) {
		t.Errorf("notes do not say the clients were limited: %q", a.Notes)
	}
	// The real client, which sends all through the capture, is still listed.
	found := false
	for _, c := range a.Clients {
		found = found || c.IP == "192.168.33.2"
	}
	if !found {
		t.Errorf("the capture's own client 192.168.33.2 is not among the clients listed")
	}
	live := map[string]uint64{}
	for _, ev := range e.Evictions() {
		live[ev.Table] = ev.Evicted
	}
	if live["clients"] != evicted["clients"] || len(e.Evictions()) < len(a.Evictions) {
		t.Errorf("Engine.Evictions %+v disagrees with the analysis %+v", e.Evictions(), a.Evictions)
	}
}

// Adverts for every VRID on hundreds of VLANs, three rounds: the virtual
// routers stay within their limit, those that come back are recognised,
// and the list is bounded.
func TestFloodOfGroups(t *testing.T) {
	e := analyze.NewEngine(analyze.Options{})
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	n := uint64(0)
	var v decode.VRRP
	for round := range 3 {
		for vlan := uint16(1); vlan <= 200; vlan++ {
			for vrid := 1; vrid <= 255; vrid++ {
				n++
				v = decode.VRRP{Version: 2, Type: 1, VRID: uint8(vrid), Priority: 100, CountAddr: 1, AdverInt: 1,
					Addrs: []netip.Addr{netip.AddrFrom4([4]byte{10, byte(vlan), byte(vrid), 1})}}
				f := decode.Frame{Number: n, Time: t0.Add(time.Duration(round)*time.Second + time.Duration(n%51000)*time.Microsecond),
					LinkType: 1, VLAN: vlan, SrcMAC: floodMAC(int(vlan)<<8 | vrid), HasDstMAC: true, Kind: decode.KindVRRP, VRRP: &v,
					IP:           decode.IPHeader{Version: 4, Src: netip.AddrFrom4([4]byte{10, byte(vlan), byte(vrid), 2}), Dst: netip.MustParseAddr("224.0.0.18"), TTL: 255, Protocol: 112},
					VRRPChecksum: decode.ChecksumOK}
				e.Feed(&f)
			}
		}
	}
	if heap := heapMiB(); heap > 64 {
		t.Errorf("live heap %.1f MiB, want under 64", heap)
	}
	if n := len(e.Groups()); n != analyze.MaxGroups {
		t.Errorf("%d groups followed, want the table full (%d)", n, analyze.MaxGroups)
	}
	a := e.Finish()
	if len(a.Groups) != analyze.MaxListedGroups {
		t.Errorf("%d groups listed, want %d", len(a.Groups), analyze.MaxListedGroups)
	}
	evicted := map[string]uint64{}
	for _, ev := range a.Evictions {
		evicted[ev.Table] = ev.Evicted
	}
	if evicted["groups"] != 3*200*255-analyze.MaxGroups || evicted["listed groups"] != analyze.MaxGroups-analyze.MaxListedGroups {
		t.Errorf("evictions %+v, want %d groups forgotten and %d not listed", a.Evictions, 3*200*255-analyze.MaxGroups, analyze.MaxGroups-analyze.MaxListedGroups)
	}
	// 51000 groups: each is forgotten before the next round, and the
	// ghosts remember it then.
	notes := strings.Join(a.Notes, "\n")
	if !strings.Contains(notes, "came back after they were forgotten") || !strings.Contains(notes, "virtual routers are not listed") {
		t.Errorf("notes %q", a.Notes)
	}
}

// floodGroups feeds adverts for every VRID on VLANs 1..2000, round-robin,
// spaced evenly between prev and next, each numbered as prev (the capture's
// own frames keep their numbers): perSecond of them a second of the gap,
// or perGap when perSecond is zero.
type floodGroups struct {
	e                 *analyze.Engine
	perSecond, perGap int
	sent              int
	v                 decode.VRRP
	addr              [1]netip.Addr
}

func (fl *floodGroups) between(prev, next *decode.Frame) {
	n := fl.perGap
	if fl.perSecond > 0 {
		n = int(next.Time.Sub(prev.Time).Seconds() * float64(fl.perSecond))
	}
	step := next.Time.Sub(prev.Time) / time.Duration(n+1)
	for i := range n {
		grp := fl.sent % (2000 * 255)
		fl.sent++
		vlan, vrid := uint16(1+grp/255), uint8(1+grp%255)
		fl.addr[0] = netip.AddrFrom4([4]byte{10, byte(vlan >> 8), byte(vlan), vrid})
		fl.v = decode.VRRP{Version: 2, Type: 1, VRID: vrid, Priority: 100, CountAddr: 1, AdverInt: 1, Addrs: fl.addr[:]}
		f := decode.Frame{Number: prev.Number, Time: prev.Time.Add(time.Duration(i+1) * step), LinkType: next.LinkType, VLAN: vlan,
			SrcMAC: decode.MAC{0x02, 0x56, byte(vlan >> 8), byte(vlan), 0, 1}, DstMAC: decode.MAC{0x01, 0x00, 0x5e, 0, 0, 0x12}, HasDstMAC: true,
			Kind: decode.KindVRRP, VRRP: &fl.v, VRRPChecksum: decode.ChecksumOK,
			IP: decode.IPHeader{Version: 4, Src: netip.AddrFrom4([4]byte{100, 64 | byte(vlan>>8), byte(vlan), 1}), Dst: netip.MustParseAddr("224.0.0.18"), TTL: 255, Protocol: 112}}
		fl.e.Feed(&f)
	}
}

// The failover capture interleaved with adverts for every VRID on 2000
// VLANs (510 000 virtual routers, 20 000 adverts a second, as
// bench/out/vlans.pcap): the capture's own virtual router is followed as
// if alone, with the same failovers, findings and timeline; the memory
// stays flat and the notes say what was forgotten and left out.
func TestFloodOfGroupsAroundFailover(t *testing.T) {
	clean := analyze.NewEngine(analyze.Options{})
	replayFailover(t, clean, func(prev, next *decode.Frame) {})
	want := clean.Finish()

	e := analyze.NewEngine(analyze.Options{})
	fl := &floodGroups{e: e, perSecond: 20000}
	var peak float64
	replayFailover(t, e, func(prev, next *decode.Frame) {
		fl.between(prev, next)
		if next.Number%50 == 0 {
			peak = max(peak, heapMiB())
		}
	})
	peak = max(peak, heapMiB())
	a := e.Finish()
	if fl.sent < 500000 {
		t.Fatalf("only %d flood adverts", fl.sent)
	}
	if peak > 64 {
		t.Errorf("live heap reached %.1f MiB, want under 64", peak)
	}
	same := func(what string, got, want any) {
		t.Helper()
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		if !bytes.Equal(g, w) {
			t.Errorf("%s differ from the capture's alone:\n got %s\nwant %s", what, g, w)
		}
	}
	same("failovers", a.Failovers, want.Failovers)
	same("findings", a.Findings, want.Findings)
	same("groups", a.Groups, want.Groups)
	same("timeline", a.Timeline, want.Timeline)
	same("clients", a.Clients, want.Clients)
	if len(a.Failovers) != 2 {
		t.Errorf("failovers %+v, want the capture's two", a.Failovers)
	}
	evicted := map[string]uint64{}
	for _, ev := range a.Evictions {
		evicted[ev.Table] = ev.Evicted
	}
	if evicted["groups"] < uint64(fl.sent-analyze.MaxGroups) || evicted["listed groups"] == 0 {
		t.Errorf("evictions %+v after %d flood adverts", a.Evictions, fl.sent)
	}
	notes := strings.Join(a.Notes, "\n")
	if !strings.Contains(notes, "The table of virtual routers is limited to 4096 entries") || !strings.Contains(notes, "seen in one advert only") {
		t.Errorf("notes do not say what was forgotten: %q", a.Notes)
	}
	live := map[string]uint64{}
	for _, ev := range e.Evictions() {
		live[ev.Table] = ev.Evicted
	}
	if live["groups"] != evicted["groups"] {
		t.Errorf("Engine.Evictions %+v disagrees with the analysis %+v", e.Evictions(), a.Evictions)
	}
}

// A flood so dense that the capture's virtual router is forgotten between
// its first two adverts (more new groups in between than probation holds):
// it is recognised when it comes back, and its failovers are found.
func TestGroupForgottenOnProbationComesBack(t *testing.T) {
	e := analyze.NewEngine(analyze.Options{})
	fl := &floodGroups{e: e, perGap: analyze.MaxGroups / 2}
	replayFailover(t, e, fl.between)
	a := e.Finish()
	if len(a.Failovers) != 2 || a.Failovers[0].Frame != 43 || a.Failovers[0].Cause != "resign" || a.Failovers[1].Frame != 185 || a.Failovers[1].Cause != "preempt" {
		t.Errorf("failovers %+v, want the capture's two (frames 43, 185)", a.Failovers)
	}
	if len(a.Groups) != 1 || a.Groups[0].VRID != 51 {
		t.Errorf("groups %+v, want the capture's only", a.Groups)
	}
	if !strings.Contains(strings.Join(a.Notes, "\n"), "1 came back after they were forgotten") {
		t.Errorf("notes %q do not say the group came back", a.Notes)
	}
}

// A capture of a few virtual routers, some seen in one advert only: no
// table forgets anything, all are listed with their events.
func TestFewGroupsNothingForgotten(t *testing.T) {
	e := analyze.NewEngine(analyze.Options{})
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	n := uint64(0)
	for sec := range 5 {
		for vlan := uint16(10); vlan < 13; vlan++ {
			for vrid := uint8(1); vrid <= 4; vrid++ {
				if vrid == 4 && sec > 0 {
					continue // VRID 4 advertises once
				}
				n++
				v := decode.VRRP{Version: 2, Type: 1, VRID: vrid, Priority: 100, CountAddr: 1, AdverInt: 1,
					Addrs: []netip.Addr{netip.AddrFrom4([4]byte{10, byte(vlan), vrid, 1})}}
				f := decode.Frame{Number: n, Time: t0.Add(time.Duration(sec)*time.Second + time.Duration(n)*time.Millisecond), LinkType: 1, VLAN: vlan,
					SrcMAC: floodMAC(int(vlan)<<8 | int(vrid)), HasDstMAC: true, Kind: decode.KindVRRP, VRRP: &v, VRRPChecksum: decode.ChecksumOK,
					IP: decode.IPHeader{Version: 4, Src: netip.AddrFrom4([4]byte{10, byte(vlan), vrid, 2}), Dst: netip.MustParseAddr("224.0.0.18"), TTL: 255, Protocol: 112}}
				e.Feed(&f)
			}
		}
	}
	a := e.Finish()
	if len(a.Evictions) != 0 || len(a.Notes) != 0 {
		t.Errorf("evictions %+v, notes %q: want none", a.Evictions, a.Notes)
	}
	if len(a.Groups) != 12 {
		t.Errorf("%d groups listed, want 12", len(a.Groups))
	}
	masters := 0
	for _, ev := range a.Timeline {
		if ev.Kind == "master" {
			masters++
		}
	}
	if masters != 12 {
		t.Errorf("%d master events, want one per group (those seen once too)", masters)
	}
	for _, ev := range e.Evictions() {
		if ev.Evicted != 0 {
			t.Errorf("Engine.Evictions: %+v", ev)
		}
	}
}

// Every virtual router sees two routers (the table would rather keep them
// all): the table still holds no more than its limit.
func TestGroupsBoundedWhenAllEventful(t *testing.T) {
	e := analyze.NewEngine(analyze.Options{})
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	n := uint64(0)
	for grp := range 3 * analyze.MaxGroups {
		vlan, vrid := uint16(1+grp/255), uint8(1+grp%255)
		for r := byte(1); r <= 2; r++ {
			n++
			v := decode.VRRP{Version: 2, Type: 1, VRID: vrid, Priority: 100 + r, CountAddr: 1, AdverInt: 1,
				Addrs: []netip.Addr{netip.AddrFrom4([4]byte{10, byte(vlan >> 8), byte(vlan), vrid})}}
			f := decode.Frame{Number: n, Time: t0.Add(time.Duration(n) * time.Millisecond), LinkType: 1, VLAN: vlan,
				SrcMAC: decode.MAC{2, 0, byte(vlan >> 8), byte(vlan), vrid, r}, HasDstMAC: true, Kind: decode.KindVRRP, VRRP: &v, VRRPChecksum: decode.ChecksumOK,
				IP: decode.IPHeader{Version: 4, Src: netip.AddrFrom4([4]byte{100, byte(vlan >> 8), byte(vlan), r}), Dst: netip.MustParseAddr("224.0.0.18"), TTL: 255, Protocol: 112}}
			e.Feed(&f)
		}
		if grp%512 != 511 {
			continue
		}
		if got := len(e.Groups()); got > analyze.MaxGroups {
			t.Fatalf("%d groups followed after %d, want at most %d", got, grp+1, analyze.MaxGroups)
		}
	}
	a := e.Finish()
	for _, ev := range a.Evictions {
		if ev.Table == "groups" && ev.Evicted != 2*analyze.MaxGroups {
			t.Errorf("groups forgotten %d, want %d", ev.Evicted, 2*analyze.MaxGroups)
		}
	}
}

// A router flood on one VRID (adverts from thousands of addresses, all of
// lower priority than the master): the routers followed stay within their
// limit and the master stays master.
func TestFloodOfSpeakers(t *testing.T) {
	e := analyze.NewEngine(analyze.Options{})
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	master := netip.MustParseAddr("192.168.33.101")
	advert := func(n uint64, t time.Time, src netip.Addr, mac decode.MAC, prio uint8) {
		v := decode.VRRP{Version: 2, Type: 1, VRID: 51, Priority: prio, CountAddr: 1, AdverInt: 1, Addrs: []netip.Addr{vip}}
		f := decode.Frame{Number: n, Time: t, LinkType: 1, SrcMAC: mac, HasDstMAC: true, Kind: decode.KindVRRP, VRRP: &v,
			IP: decode.IPHeader{Version: 4, Src: src, Dst: netip.MustParseAddr("224.0.0.18"), TTL: 255, Protocol: 112}, VRRPChecksum: decode.ChecksumOK}
		e.Feed(&f)
	}
	n := uint64(0)
	for sec := range 30 {
		n++
		advert(n, t0.Add(time.Duration(sec)*time.Second), master, nat1MAC, 200)
		for i := range 1000 {
			n++
			k := sec*1000 + i
			src := netip.AddrFrom4([4]byte{10, byte(k >> 16), byte(k >> 8), byte(k)})
			advert(n, t0.Add(time.Duration(sec)*time.Second+time.Duration(i+1)*time.Millisecond/2), src, floodMAC(sec*1000+i), 10)
		}
	}
	a := e.Finish()
	if len(a.Groups) != 1 {
		t.Fatalf("groups %+v", a.Groups)
	}
	g := a.Groups[0]
	if len(g.Speakers) > analyze.MaxSpeakers {
		t.Errorf("%d speakers, want at most %d", len(g.Speakers), analyze.MaxSpeakers)
	}
	if g.Master == nil || g.Master.IP != master.String() {
		t.Errorf("master at end %+v, want %s", g.Master, master)
	}
}

// loadedAdvert feeds e an advert of virtual router gi (VLAN and VRID from
// it) from its router r, listing addrs.
func loadedAdvert(e *analyze.Engine, n uint64, gi, r int, addrs []netip.Addr) {
	v := decode.VRRP{Version: 2, Type: 1, VRID: uint8(1 + gi%255), Priority: uint8(100 + r), CountAddr: uint8(len(addrs)), AdverInt: 1, Addrs: addrs}
	f := decode.Frame{Number: n, Time: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Microsecond),
		LinkType: 1, VLAN: uint16(1 + gi/255), SrcMAC: decode.MAC{2, byte(gi >> 8), byte(gi), byte(r), 0, 1}, HasDstMAC: true,
		Kind: decode.KindVRRP, VRRP: &v, VRRPChecksum: decode.ChecksumOK,
		IP: decode.IPHeader{Version: 4, Src: netip.AddrFrom4([4]byte{100, byte(gi >> 8), byte(gi), byte(r)}), Dst: netip.MustParseAddr("224.0.0.18"), TTL: 255, Protocol: 112}}
	e.Feed(&f)
}

// Every virtual router the table holds, each with as many routers and
// addresses as one may have (32 routers, 256 addresses in two adverts of
// 128): the routers and addresses of all of them together stay within
// their limits, and the memory flat. Before those limits, this input took
// 1 GiB and five minutes.
func TestFloodOfLoadedGroups(t *testing.T) {
	e := analyze.NewEngine(analyze.Options{})
	addrs := make([]netip.Addr, 128)
	n := uint64(0)
	for range 2 {
		for gi := range analyze.MaxGroups {
			for half := range 2 {
				for i := range addrs {
					addrs[i] = netip.AddrFrom4([4]byte{10, byte(gi >> 4), byte(gi&15)<<4 | byte(half)<<3, byte(i)})
				}
				for r := range analyze.MaxSpeakers {
					n++
					loadedAdvert(e, n, gi, r, addrs)
				}
			}
		}
	}
	if heap := heapMiB(); heap > 32 {
		t.Errorf("live heap %.1f MiB, want under 32", heap)
	}
	a := e.Finish()
	evicted := map[string]uint64{}
	for _, ev := range a.Evictions {
		evicted[ev.Table] = ev.Evicted
	}
	for _, table := range []string{"all speakers", "all vips", "advertised lists"} {
		if evicted[table] == 0 {
			t.Errorf("nothing evicted from %q: %+v", table, a.Evictions)
		}
	}
	vips, speakers := 0, 0
	for _, g := range a.Groups {
		vips += len(g.VIPs)
		speakers += len(g.Speakers)
	}
	if vips > analyze.MaxAllVIPs || speakers > analyze.MaxAllSpeakers {
		t.Errorf("%d addresses and %d routers listed, limits %d and %d", vips, speakers, analyze.MaxAllVIPs, analyze.MaxAllSpeakers)
	}
}

// Past the limit of the advertised lists kept, two routers of a virtual
// router that advertise different addresses are still told apart (by a
// hash of each list), and the finding gives the number of addresses of a
// list not kept.
func TestVIPMismatchPastListLimit(t *testing.T) {
	e := analyze.NewEngine(analyze.Options{})
	addrs := make([]netip.Addr, 256)
	n := uint64(0)
	fill := analyze.MaxAdvertisedAddrs / len(addrs)
	for gi := range fill {
		for i := range addrs {
			addrs[i] = netip.AddrFrom4([4]byte{10, byte(gi >> 4), byte(gi&15)<<4 | byte(i>>7), byte(i)})
		}
		n++
		loadedAdvert(e, n, gi, 0, addrs[:255])
	}
	for r := range 2 {
		for i := range addrs {
			addrs[i] = netip.AddrFrom4([4]byte{172, 16, byte(r), byte(i)})
		}
		n++
		loadedAdvert(e, n, fill, r, addrs[:200])
	}
	a := e.Finish()
	var found bool
	for _, f := range a.Findings {
		if f.Code == analyze.CodeVIPMismatch {
			found = true
			if !strings.Contains(f.Summary, "200 addresses") {
				t.Errorf("vip-mismatch %q: want the number of addresses of the lists not kept", f.Summary)
			}
		}
	}
	if !found {
		t.Errorf("no vip-mismatch past the limit of the lists kept; findings %+v, evictions %+v", a.Findings, a.Evictions)
	}
}

// floodLoaded interleaves adverts of fully loaded virtual routers (32
// routers each, every router listing 256 addresses in two adverts of 128,
// as bench/out/loaded.pcap) with a capture, perSecond of them a second,
// over groups virtual routers on VLANs from 1.
type floodLoaded struct {
	e         *analyze.Engine
	perSecond int
	groups    int
	sent      int
	v         decode.VRRP
	addrs     [128]netip.Addr
}

func (fl *floodLoaded) between(prev, next *decode.Frame) {
	n := int(next.Time.Sub(prev.Time).Seconds() * float64(fl.perSecond))
	step := next.Time.Sub(prev.Time) / time.Duration(n+1)
	for i := range n {
		k := fl.sent
		fl.sent++
		r, half, grp := k%32, k/32%2, k/64%fl.groups
		vlan, vrid := uint16(1+grp/255), uint8(1+grp%255)
		for a := range fl.addrs {
			fl.addrs[a] = netip.AddrFrom4([4]byte{11, byte(grp >> 7), byte(grp<<1 | half), byte(a)})
		}
		fl.v = decode.VRRP{Version: 2, Type: 1, VRID: vrid, Priority: uint8(100 + r), CountAddr: 128, AdverInt: 1, Addrs: fl.addrs[:]}
		f := decode.Frame{Number: prev.Number, Time: prev.Time.Add(time.Duration(i+1) * step), LinkType: next.LinkType, VLAN: vlan,
			SrcMAC: decode.MAC{0x02, 0x56, byte(vlan >> 8), byte(vlan), byte(r), 2}, DstMAC: decode.MAC{0x01, 0x00, 0x5e, 0, 0, 0x12}, HasDstMAC: true,
			Kind: decode.KindVRRP, VRRP: &fl.v, VRRPChecksum: decode.ChecksumOK,
			IP: decode.IPHeader{Version: 4, Src: netip.AddrFrom4([4]byte{100, 64 | byte(vlan>>8), byte(vlan), byte(r + 1)}), Dst: netip.MustParseAddr("224.0.0.18"), TTL: 255, Protocol: 112}}
		fl.e.Feed(&f)
	}
}

// The failover capture among 4335 fully loaded virtual routers, more than
// are followed: they fill the routers and addresses of all virtual routers
// together long before the capture's backup sends its first advert, at its
// takeover. That backup and the VIP still take their places (every
// virtual router has its share of both), so the capture's failovers are
// found as if it were alone. Of the virtual routers, more than are listed,
// each advertised in bursts of 64 adverts; the capture's, which advertised
// every second, is listed, with its VIP and both routers. The counts of
// GARP trains and of the groups above their share stay true throughout.
func TestFloodOfLoadedGroupsAroundFailover(t *testing.T) {
	clean := analyze.NewEngine(analyze.Options{})
	replayFailover(t, clean, func(prev, next *decode.Frame) {})
	want := clean.Finish()
	if len(want.Evictions) != 0 {
		t.Errorf("the capture alone forgets %+v", want.Evictions)
	}

	e := analyze.NewEngine(analyze.Options{})
	fl := &floodLoaded{e: e, perSecond: 12000, groups: 17 * 255}
	replayFailover(t, e, func(prev, next *decode.Frame) {
		fl.between(prev, next)
		if next.Number%20 == 0 {
			if bad := e.CheckShares(); bad != "" {
				t.Fatalf("at frame %d: %s", next.Number, bad)
			}
		}
	})
	a := e.Finish()
	evicted := map[string]uint64{}
	for _, ev := range a.Evictions {
		evicted[ev.Table] = ev.Evicted
	}
	for _, table := range []string{"groups", "all speakers", "all vips", "garp trains", "listed groups"} {
		if evicted[table] == 0 {
			t.Errorf("nothing forgotten from %q after %d loaded adverts: %+v", table, fl.sent, a.Evictions)
		}
	}
	var failovers []analyze.Failover
	for _, fo := range a.Failovers {
		if fo.VLAN == 0 {
			failovers = append(failovers, fo)
		}
	}
	g, _ := json.Marshal(failovers)
	w, _ := json.Marshal(want.Failovers)
	if !bytes.Equal(g, w) {
		t.Errorf("the capture's failovers differ from the capture's alone:\n got %s\nwant %s", g, w)
	}
	var base *analyze.Group
	for i := range a.Groups {
		if a.Groups[i].VLAN == 0 {
			base = &a.Groups[i]
		}
	}
	if base == nil {
		t.Fatalf("the capture's virtual router is not listed among %d", len(a.Groups))
	}
	if len(base.Speakers) != 2 || len(base.VIPs) != 1 || base.VIPs[0] != "192.168.33.100" {
		t.Errorf("the capture's virtual router lists routers %+v and VIPs %v, want both routers and 192.168.33.100", base.Speakers, base.VIPs)
	}
}
