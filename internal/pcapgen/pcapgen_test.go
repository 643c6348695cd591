package pcapgen

import (
	"net/netip"
	"testing"
	"time"
)

// TestBuilderBasics builds a capture by hand with the low-level calls.
func TestBuilderBasics(t *testing.T) {
	w := New(Ethernet, VLAN(7), Seed(42))
	r := w.Host("r", "10.0.0.1", "02:00:00:00:00:01")
	c := w.Host("c", "10.0.0.2", "02:00:00:00:00:02", Untagged())
	vip := netip.MustParseAddr("10.0.0.100")
	w.At(0).Join(r, VRRPGroup4)
	n := 0
	w.Every(time.Second, 5*time.Second, time.Second, func(int) {
		w.Advert(r, Advert{VRID: 9, Priority: 200, VIPs: []netip.Addr{vip}, Auth: "pass:secretlong"})
		n++
	})
	w.At(2*time.Second).GARP(r, vip)
	w.At(3*time.Second).Ping(c, vip, r.MAC, 1, 1)
	w.After(time.Millisecond).PingReply(r, vip, c, 1, 1)
	w.At(4*time.Second).TCPSyn(c, vip, r.MAC, 40000, 443, 1)
	w.At(6*time.Second).Leave(r, VRRPGroup4)
	if n != 4 {
		t.Fatalf("Every ran %d times, want 4", n)
	}
	b, err := w.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	fs := w.Frames()
	if len(fs) != 10 {
		t.Fatalf("%d frames, want 10", len(fs))
	}
	for i := 1; i < len(fs); i++ {
		if fs[i].At < fs[i-1].At {
			t.Fatal("frames out of order")
		}
	}
	// 24-byte file header, then 16 bytes per record plus the data.
	size := 24
	for _, f := range fs {
		size += 16 + len(f.Data)
	}
	if len(b) != size {
		t.Errorf("file is %d bytes, want %d", len(b), size)
	}
	// The advert: tagged 802.1Q VLAN 7, unpadded, password cut to 8 octets.
	adv := fs[1]
	if adv.kind != "vrrp" || len(adv.Data) != 18+20+20 || be16(adv.Data[12:]) != 0x8100 || be16(adv.Data[14:])&0xfff != 7 {
		t.Errorf("advert frame % x", adv.Data)
	}
	if got := adv.vrrp.AuthPassword(); got != "secretlo" {
		t.Errorf("password %q, want the first 8 octets", got)
	}
	if ping := fs[4]; ping.kind != "icmp" || be16(ping.Data[12:]) != 0x0800 || len(ping.Data) != 98 {
		t.Errorf("untagged ping frame: % x", ping.Data)
	}
	ng := New(Ethernet, AsPCAPNG())
	h := ng.Host("h", "10.0.0.1", "02:00:00:00:00:01")
	ng.Join(h, VRRPGroup4)
	nb, err := ng.Bytes()
	if err != nil || len(nb) < 4 || be16(nb) != 0x0a0d {
		t.Errorf("pcapng: % x, %v", nb[:min(8, len(nb))], err)
	}
}

func be16(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }
