package vrrpd

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/vrrpctl/vrrpctl/decode"
)

// TestNAFrame: the unsolicited neighbour advertisement of a virtual IPv6
// address carries the Router flag (RFC 5798 8.2.2) and Override, not
// Solicited, with the MAC as target link-layer address, from the
// link-local source to ff02::1 with hop limit 255 and a valid checksum.
func TestNAFrame(t *testing.T) {
	mac := net.HardwareAddr{0x00, 0x00, 0x5e, 0x00, 0x02, 0x33}
	src, vip := netip.MustParseAddr("fe80::1"), netip.MustParseAddr("2001:db8::51")
	b, err := naFrame(mac, src, vip)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := decode.NewDecoder(layers.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	var f decode.Frame
	if err := dec.Decode(b, gopacket.CaptureInfo{CaptureLength: len(b), Length: len(b), Timestamp: time.Unix(0, 0)}, 1, &f); err != nil {
		t.Fatal(err)
	}
	nd := f.ND
	if f.Kind != decode.KindND || nd.Type != decode.NDNeighborAdvertisement || !nd.Router || !nd.Override || nd.Solicited ||
		nd.Target != vip || !nd.HasTargetLL || net.HardwareAddr(nd.TargetLL[:]).String() != mac.String() {
		t.Errorf("NA %+v", nd)
	}
	if f.IP.Src != src || f.IP.Dst != netip.MustParseAddr("ff02::1") || f.IP.TTL != 255 {
		t.Errorf("IPv6 %s -> %s hop limit %d", f.IP.Src, f.IP.Dst, f.IP.TTL)
	}
}

// TestChecksumAsV2: v3_checksum_as_v2 sends a VRRPv3 checksum without the
// pseudo-header, which receivers see as ChecksumV2Style.
func TestChecksumAsV2(t *testing.T) {
	cfg := RouterConfig{Name: "x", Interface: "eth1", VRID: 51, Priority: 100, Version: 3, AdvertInterval: time.Second,
		VIPs: []netip.Prefix{netip.MustParsePrefix("192.168.33.100/24")}}
	src := netip.MustParseAddr("192.168.33.101")
	for _, v2 := range []bool{false, true} {
		cfg.ChecksumAsV2 = v2
		b, err := encodeAdvert(&cfg, 100, src, Group4)
		if err != nil {
			t.Fatal(err)
		}
		want := decode.ChecksumOK
		if v2 {
			want = decode.ChecksumV2Style
		}
		if got := decode.VerifyChecksum(b, src, Group4); got != want {
			t.Errorf("ChecksumAsV2 %v: checksum %v; want %v", v2, got, want)
		}
	}
}
