package analyze_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vrrpctl/vrrpctl/analyze"
	"github.com/vrrpctl/vrrpctl/decode"
)

// The tests of the limits of all virtual routers together (routers,
// addresses, GARP trains) and of every virtual router's share of them.

var sharesT0 = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// sharesAdvert feeds an advert of router r of VRID vrid on vlan, at t0+at.
func sharesAdvert(e *analyze.Engine, n *uint64, at time.Duration, vlan uint16, vrid uint8, r byte, prio uint8, addrs []netip.Addr) {
	*n++
	v := decode.VRRP{Version: 2, Type: 1, VRID: vrid, Priority: prio, CountAddr: uint8(len(addrs)), AdverInt: 1, Addrs: addrs}
	f := decode.Frame{Number: *n, Time: sharesT0.Add(at), LinkType: 1, VLAN: vlan,
		SrcMAC: decode.MAC{2, byte(vlan >> 8), byte(vlan), vrid, r, 1}, DstMAC: decode.MAC{0x01, 0x00, 0x5e, 0, 0, 0x12}, HasDstMAC: true,
		Kind: decode.KindVRRP, VRRP: &v, VRRPChecksum: decode.ChecksumOK,
		IP: decode.IPHeader{Version: 4, Src: netip.AddrFrom4([4]byte{100, byte(vlan), vrid, r}), Dst: netip.MustParseAddr("224.0.0.18"), TTL: 255, Protocol: 112}}
	e.Feed(&f)
}

// sharesGARP feeds a gratuitous ARP request of router r for vip.
func sharesGARP(e *analyze.Engine, n *uint64, at time.Duration, vlan uint16, vrid uint8, r byte, vip netip.Addr) {
	*n++
	mac := decode.MAC{2, byte(vlan >> 8), byte(vlan), vrid, r, 1}
	a := decode.ARP{Operation: 1, SenderMAC: mac, SenderIP: vip, TargetIP: vip}
	f := decode.Frame{Number: *n, Time: sharesT0.Add(at), LinkType: 1, VLAN: vlan, SrcMAC: mac,
		DstMAC: decode.MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, HasDstMAC: true, Kind: decode.KindARP, ARP: &a}
	e.Feed(&f)
}

func vipsOf(e *analyze.Engine, vlan uint16, vrid int) []string {
	for _, g := range e.Groups() {
		if g.VLAN == int(vlan) && g.VRID == vrid {
			return g.VIPs
		}
	}
	return nil
}

// addrs4 is n addresses a.b.c.(first+i).
func addrs4(a, b, c byte, first, n int) []netip.Addr {
	out := make([]netip.Addr, n)
	for i := range out {
		out[i] = netip.AddrFrom4([4]byte{a, b, c, byte(first + i)})
	}
	return out
}

// A virtual router that lists an address another of its VLAN holds takes
// it once the other is forgotten, though its own list did not change.
func TestVIPTakenWhenItsHolderIsForgotten(t *testing.T) {
	e := analyze.NewEngine(analyze.Options{})
	var n uint64
	x := []netip.Addr{netip.MustParseAddr("10.9.9.9")}
	at := time.Duration(0)
	sharesAdvert(e, &n, at, 1, 1, 1, 100, x) // A holds X
	sharesAdvert(e, &n, at, 1, 1, 1, 100, x)
	for range 3 {
		at += time.Millisecond
		sharesAdvert(e, &n, at, 1, 2, 1, 100, x) // B lists X too
	}
	if got := vipsOf(e, 1, 2); len(got) != 0 {
		t.Fatalf("B holds %v while A holds 10.9.9.9", got)
	}
	for i := range analyze.MaxGroups + 100 { // A is forgotten
		at += 10 * time.Microsecond
		a := []netip.Addr{netip.AddrFrom4([4]byte{10, 50 + byte(i>>8), byte(i), 1})}
		sharesAdvert(e, &n, at, uint16(10+i/255), uint8(1+i%255), 1, 100, a)
		sharesAdvert(e, &n, at, uint16(10+i/255), uint8(1+i%255), 1, 100, a)
		if i%100 == 0 {
			sharesAdvert(e, &n, at, 1, 2, 1, 100, x)
		}
	}
	for range 3 {
		at += time.Second
		sharesAdvert(e, &n, at, 1, 2, 1, 100, x)
	}
	if got := vipsOf(e, 1, 2); len(got) != 1 || got[0] != "10.9.9.9" {
		t.Errorf("B's VIPs after A was forgotten: %v, want [10.9.9.9]", got)
	}
	if bad := e.CheckShares(); bad != "" {
		t.Error(bad)
	}
}

// eightVIPFailover has a pair with eight VIPs on VLAN 1 fail over (router 1
// resigns, router 2 takes over and announces every VIP), calling between
// after the takeover and before the announcements; it returns the
// analysis and the timeline events of VLAN 1.
func eightVIPFailover(t *testing.T, e *analyze.Engine, events *[]analyze.Event, n *uint64, at time.Duration, between func(time.Duration)) (*analyze.Analysis, []analyze.Event) {
	t.Helper()
	vips := addrs4(192, 168, 1, 10, 8)
	for k := range 3 {
		sharesAdvert(e, n, at+time.Duration(k)*time.Second, 1, 7, 1, 200, vips)
	}
	at += 3 * time.Second
	sharesAdvert(e, n, at, 1, 7, 1, 0, vips)
	at += 600 * time.Millisecond
	sharesAdvert(e, n, at, 1, 7, 2, 100, vips)
	between(at)
	for j, v := range vips {
		sharesGARP(e, n, at+time.Duration(j+2)*time.Millisecond, 1, 7, 2, v)
	}
	for k := 1; k <= 5; k++ {
		sharesAdvert(e, n, at+time.Duration(k)*time.Second, 1, 7, 2, 100, vips)
	}
	if bad := e.CheckShares(); bad != "" {
		t.Error(bad)
	}
	a := e.Finish()
	var mine []analyze.Event
	for _, ev := range *events {
		if ev.VLAN == 1 && ev.Kind == "garp" {
			mine = append(mine, ev)
		}
	}
	return a, mine
}

// Past the limit of GARP trains, a new master still has trains for its
// share of VIPs; its GARPs for the others are told as its own, never as a
// router's that is not master, and are not judged.
func TestGARPTrainsPastTheirLimit(t *testing.T) {
	var events []analyze.Event
	e := analyze.NewEngine(analyze.Options{OnEvent: func(ev analyze.Event) { events = append(events, ev) }})
	var n uint64
	at := time.Duration(0)
	for i := range 1100 { // 4400 trains, open: each virtual router's only master
		at += 10 * time.Microsecond
		a := addrs4(10, 50+byte(i>>8), byte(i), 1, 4)
		sharesAdvert(e, &n, at, uint16(10+i/255), uint8(1+i%255), 1, 100, a)
		sharesAdvert(e, &n, at, uint16(10+i/255), uint8(1+i%255), 1, 100, a)
	}
	a, garps := eightVIPFailover(t, e, &events, &n, at, func(time.Duration) {})
	evicted := map[string]uint64{}
	for _, ev := range a.Evictions {
		evicted[ev.Table] = ev.Evicted
	}
	if evicted["garp trains"] != 8 {
		t.Errorf("garp trains forgotten: %d, want the 4 VIPs past each master's share", evicted["garp trains"])
	}
	notJudged := 0
	for _, ev := range garps {
		if strings.Contains(ev.Summary, "not master") {
			t.Errorf("a master's GARP told as not master's: %s", ev.Summary)
		}
		if strings.Contains(ev.Summary, "not judged") {
			notJudged++
		}
	}
	if notJudged != 4 {
		t.Errorf("%d GARPs told as not judged, want 4: %+v", notJudged, garps)
	}
	for _, f := range a.Findings {
		if f.VLAN == 1 && f.Code == analyze.CodeNoGARP {
			t.Errorf("no-garp after GARPs for every VIP: %s", f.Summary)
		}
	}
}

// A virtual router below its share of addresses takes one from a
// virtual router above it: from the one heard least recently, a flood's,
// not the pair that just failed over; and a VIP taken is taken with its
// GARP train, so no no-garp comes of it.
func TestVIPTakenFromTheLeastRecentlyHeard(t *testing.T) {
	var events []analyze.Event
	e := analyze.NewEngine(analyze.Options{OnEvent: func(ev analyze.Event) { events = append(events, ev) }})
	var n uint64
	at := time.Duration(0)
	for i := range 64 { // 64 virtual routers of 256 addresses fill all of them, but 8
		cnt := 256
		if i == 63 {
			cnt = 248
		}
		a := make([]netip.Addr, cnt)
		for j := range a {
			a[j] = netip.AddrFrom4([4]byte{10, 100 + byte(i), byte(j >> 8), byte(j)})
		}
		for h := 0; h < cnt; h += 128 {
			at += time.Millisecond
			sharesAdvert(e, &n, at, uint16(10+i), 1, 1, 100, a[h:min(h+128, cnt)])
		}
		at += time.Millisecond
		sharesAdvert(e, &n, at, uint16(10+i), 1, 1, 0, a[:128])
	}
	a, _ := eightVIPFailover(t, e, &events, &n, at, func(at time.Duration) {
		// A newcomer with one address: the table is full.
		sharesAdvert(e, &n, at+time.Millisecond, 2, 9, 1, 100, []netip.Addr{netip.MustParseAddr("172.16.0.1")})
		if got := vipsOf(e, 2, 9); len(got) != 1 {
			t.Errorf("the newcomer's VIPs: %v, want 172.16.0.1", got)
		}
		if got := vipsOf(e, 1, 7); len(got) != 8 {
			t.Errorf("the pair that just failed over lost an address: %v", got)
		}
	})
	for _, f := range a.Findings {
		if f.VLAN == 1 && f.Code == analyze.CodeNoGARP {
			t.Errorf("no-garp after GARPs for every VIP: %s", f.Summary)
		}
	}
	evicted := map[string]uint64{}
	for _, ev := range a.Evictions {
		evicted[ev.Table] = ev.Evicted
	}
	if evicted["all vips"] == 0 {
		t.Errorf("nothing taken from the full table: %+v", a.Evictions)
	}
}
