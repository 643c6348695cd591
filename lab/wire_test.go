package lab

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/vrrpctl/vrrpctl/capture"
	"github.com/vrrpctl/vrrpctl/decode"
)

// TestReadWire writes a capture of what the client may see and checks what
// the grading takes from it: well-formed adverts of the lab's VRID, GARPs
// for the VIP as decode classifies them, and the client's echo requests.
func TestReadWire(t *testing.T) {
	vip := VIP.Addr()
	r1 := net.HardwareAddr{2, 0x33, 0, 0, 0, 0x65}
	r2 := net.HardwareAddr{2, 0x33, 0, 0, 0, 0x66}
	client := net.HardwareAddr{2, 0x33, 0, 0, 0, 2}
	src1 := netip.MustParseAddr("192.168.33.101")
	group := netip.MustParseAddr("224.0.0.18")
	bcast := net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}

	frame := func(ls ...gopacket.SerializableLayer) []byte {
		t.Helper()
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
			t.Fatal(err)
		}
		return append([]byte(nil), buf.Bytes()...)
	}
	eth := func(src, dst net.HardwareAddr, et layers.EthernetType) *layers.Ethernet {
		return &layers.Ethernet{SrcMAC: src, DstMAC: dst, EthernetType: et}
	}
	ip4 := func(src, dst netip.Addr, proto layers.IPProtocol) *layers.IPv4 {
		return &layers.IPv4{Version: 4, TTL: 255, Protocol: proto, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
	}
	mkAdvert := func(vrid, prio uint8, typ uint8, badSum bool) []byte {
		v := &decode.VRRP{Version: 3, Type: typ, VRID: vrid, Priority: prio, CountAddr: 1, AdverInt: 100, Addrs: []netip.Addr{vip}}
		v.SetChecksumAddrs(src1, group)
		b := frame(eth(r1, net.HardwareAddr{1, 0, 0x5e, 0, 0, 0x12}, layers.EthernetTypeIPv4), ip4(src1, group, layers.IPProtocolVRRP), v)
		if badSum {
			b[14+20+7] ^= 0xff // the checksum's low octet
		}
		return b
	}
	arp := func(mac net.HardwareAddr, op uint16, sender, target netip.Addr) []byte {
		return frame(eth(mac, bcast, layers.EthernetTypeARP),
			&decode.ARP{Operation: op, SenderMAC: decode.MAC(mac), SenderIP: sender, TargetIP: target})
	}
	echo := func(src, dst net.HardwareAddr, to netip.Addr, typ uint8) []byte {
		return frame(eth(src, dst, layers.EthernetTypeIPv4), ip4(netip.MustParseAddr("192.168.33.2"), to, layers.IPProtocolICMPv4),
			&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(typ, 0), Id: 1, Seq: 1})
	}
	other := netip.MustParseAddr("192.168.33.200")
	frames := [][]byte{
		mkAdvert(VRID, 100, decode.VRRPAdvertisement, false), // 0: an advert
		mkAdvert(VRID, 0, decode.VRRPAdvertisement, false),   // 1: a priority-0 advert
		mkAdvert(VRID+1, 100, decode.VRRPAdvertisement, false),
		mkAdvert(VRID, 100, 2, false),                              // not an advertisement
		mkAdvert(VRID, 100, decode.VRRPAdvertisement, true),        // bad checksum
		arp(r2, decode.ARPOpRequest, vip, vip),                     // 5: announcement
		arp(r2, decode.ARPOpReply, vip, vip),                       // 6: gratuitous reply
		arp(r2, decode.ARPOpRequest, netip.IPv4Unspecified(), vip), // probe
		arp(r2, decode.ARPOpRequest, src1, vip),                    // ordinary request
		arp(r2, decode.ARPOpRequest, other, other),                 // a GARP for another address
		echo(client, r2, vip, layers.ICMPv4TypeEchoRequest),        // 10: the client's echo
		echo(client, r2, vip, layers.ICMPv4TypeEchoReply),          // not a request
		echo(r1, r2, vip, layers.ICMPv4TypeEchoRequest),            // not from the client
		echo(client, r2, other, layers.ICMPv4TypeEchoRequest),      // not to the VIP
	}
	path := filepath.Join(t.TempDir(), "client.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := capture.NewWriter(f, layers.LinkTypeEthernet, 0)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1_800_000_000, 0)
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Millisecond) }
	for i, b := range frames {
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: at(i), CaptureLength: len(b), Length: len(b)}, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	got, err := readWire(path, vip, client)
	if err != nil {
		t.Fatal(err)
	}
	adverts := func(as []advert) (out []string) {
		for _, a := range as {
			out = append(out, fmt.Sprintf("%d %s %d", a.Time.Sub(t0).Milliseconds(), a.MAC, a.Priority))
		}
		return out
	}
	frames2 := func(fs []frameAt) (out []string) {
		for _, f := range fs {
			out = append(out, fmt.Sprintf("%d %s", f.Time.Sub(t0).Milliseconds(), f.MAC))
		}
		return out
	}
	if g, w := adverts(got.adverts), []string{"0 " + r1.String() + " 100", "1 " + r1.String() + " 0"}; !slices.Equal(g, w) {
		t.Errorf("adverts %q; want %q", g, w)
	}
	if g, w := frames2(got.garps), []string{"5 " + r2.String(), "6 " + r2.String()}; !slices.Equal(g, w) {
		t.Errorf("GARPs %q; want %q", g, w)
	}
	if g, w := frames2(got.echoes), []string{"10 " + r2.String()}; !slices.Equal(g, w) {
		t.Errorf("echoes %q; want %q", g, w)
	}
}
