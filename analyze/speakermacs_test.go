package analyze

import (
	"net/netip"
	"testing"
	"time"

	"github.com/vrrpctl/vrrpctl/decode"
)

// advertFrom feeds e an advert of vrid for vip from router ip, sent from mac.
func advertFrom(e *Engine, n uint64, vrid uint8, ip, vip netip.Addr, mac decode.MAC) {
	v := decode.VRRP{Version: 2, Type: 1, VRID: vrid, Priority: 100, CountAddr: 1, AdverInt: 1, Addrs: []netip.Addr{vip}}
	f := decode.Frame{Number: n, Time: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Second),
		LinkType: 1, SrcMAC: mac, DstMAC: decode.MAC{0x01, 0, 0x5e, 0, 0, 0x12}, HasDstMAC: true,
		Kind: decode.KindVRRP, VRRP: &v, VRRPChecksum: decode.ChecksumOK,
		IP: decode.IPHeader{Version: 4, Src: ip, Dst: netip.MustParseAddr("224.0.0.18"), TTL: 255, Protocol: 112}}
	e.Feed(&f)
}

func groupOf(t *testing.T, e *Engine, vrid uint8) *group {
	t.Helper()
	var found *group
	e.eachGroup(func(g *group) {
		if g.key.vrid == vrid {
			found = g
		}
	})
	if found == nil {
		t.Fatalf("no virtual router %d", vrid)
	}
	return found
}

// A router's MAC serves all its virtual routers: forgetting one of them
// leaves the MAC known as a router's (never a client's) until the last is
// forgotten.
func TestSpeakerMACSharedByVirtualRouters(t *testing.T) {
	e := NewEngine(Options{})
	mac := decode.MAC{0x52, 0x54, 0, 0, 0, 1}
	ip := netip.MustParseAddr("192.168.33.2")
	advertFrom(e, 1, 1, ip, netip.MustParseAddr("192.168.33.100"), mac)
	advertFrom(e, 2, 2, ip, netip.MustParseAddr("192.168.33.200"), mac)
	advertFrom(e, 3, 1, ip, netip.MustParseAddr("192.168.33.100"), mac)
	if n := e.speakerOf.m[mac]; n != 2 {
		t.Fatalf("the MAC is counted for %d routers, want 2 (one per virtual router, not per advert)", n)
	}
	e.forgetGroup(groupOf(t, e, 1))
	if !e.speakerOf.has(mac) {
		t.Fatal("forgetting virtual router 1 forgot the MAC that virtual router 2's router still advertises from")
	}
	e.forgetGroup(groupOf(t, e, 2))
	if e.speakerOf.has(mac) {
		t.Error("the MAC is still a router's after both virtual routers were forgotten")
	}
}

// A router holds its own MAC and the virtual one; a new interface MAC takes
// the place of the old one, which no router holds any more.
func TestSpeakerMACsOfOneRouter(t *testing.T) {
	e := NewEngine(Options{})
	ip := netip.MustParseAddr("192.168.33.2")
	vip := netip.MustParseAddr("192.168.33.100")
	own, vmac, newOwn := decode.MAC{0x52, 0x54, 0, 0, 0, 1}, decode.MAC{0, 0, 0x5e, 0, 1, 1}, decode.MAC{0x52, 0x54, 0, 0, 0, 9}
	advertFrom(e, 1, 1, ip, vip, own)
	advertFrom(e, 2, 1, ip, vip, vmac)
	advertFrom(e, 3, 1, ip, vip, own)
	if !e.speakerOf.has(own) || !e.speakerOf.has(vmac) || len(e.speakerOf.m) != 2 {
		t.Fatalf("speaker MACs %v, want the router's own and the virtual MAC", e.speakerOf.m)
	}
	advertFrom(e, 4, 1, ip, vip, newOwn)
	if e.speakerOf.has(own) || !e.speakerOf.has(newOwn) || !e.speakerOf.has(vmac) {
		t.Errorf("after a new interface MAC: %v, want the new one and the virtual MAC", e.speakerOf.m)
	}
}
