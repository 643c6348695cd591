package analyze_test

import (
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

// Adverts for every VRID on hundreds of VLANs: the virtual routers stay
// within their limit, and the last ones heard are followed.
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
	a := e.Finish()
	if len(a.Groups) > analyze.MaxGroups || len(a.Groups) < analyze.MaxGroups/2 {
		t.Errorf("%d groups, want at most (and near) %d", len(a.Groups), analyze.MaxGroups)
	}
	var evicted uint64
	for _, ev := range a.Evictions {
		if ev.Table == "groups" {
			evicted = ev.Evicted
		}
	}
	if evicted < 3*200*255-analyze.MaxGroups {
		t.Errorf("groups evicted %d, want about %d", evicted, 3*200*255-analyze.MaxGroups)
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
