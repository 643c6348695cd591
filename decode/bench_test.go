package decode

import (
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

func benchmarkDecode(b *testing.B, data []byte, want Kind) {
	d, err := NewDecoder(layers.LinkTypeEthernet)
	if err != nil {
		b.Fatal(err)
	}
	ci := gopacket.CaptureInfo{CaptureLength: len(data), Length: len(data)}
	var f Frame
	if err := d.Decode(data, ci, 1, &f); err != nil || f.Kind != want {
		b.Fatalf("kind %v error %v, want %v", f.Kind, err, want)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for i := 0; b.Loop(); i++ {
		_ = d.Decode(data, ci, uint64(i), &f)
	}
}

func BenchmarkDecodeUDP(b *testing.B) {
	benchmarkDecode(b, serialize(b, eth(layers.EthernetTypeIPv4), ipv4(layers.IPProtocolUDP),
		gopacket.Payload{0x14, 0xe9, 0, 53, 0, 40, 0, 0}, gopacket.Payload(make([]byte, 32))), KindIP)
}

func BenchmarkDecodeVRRP(b *testing.B) {
	benchmarkDecode(b, serialize(b, eth(layers.EthernetTypeIPv4), ipv4(layers.IPProtocolVRRP), gopacket.Payload(vrrpV2Pass)), KindVRRP)
}

func BenchmarkDecodeVRRPv3IPv6(b *testing.B) {
	ip6 := &layers.IPv6{Version: 6, HopLimit: 255, NextHeader: layers.IPProtocolVRRP, SrcIP: vrrpSrc6.AsSlice(), DstIP: vrrpDst6.AsSlice()}
	benchmarkDecode(b, serialize(b, eth(layers.EthernetTypeIPv6), ip6, gopacket.Payload(vrrpV3IPv6)), KindVRRP)
}

func BenchmarkDecodeIGMPv3(b *testing.B) {
	benchmarkDecode(b, serialize(b, eth(layers.EthernetTypeIPv4), ipv4(layers.IPProtocolIGMP, routerAlert), gopacket.Payload(igmpV3Six)), KindIGMP)
}

func BenchmarkDecodeNA(b *testing.B) {
	benchmarkDecode(b, ndFrame(b, ndNAUnsolicited, ll1, allNodes), KindND)
}

// BenchmarkDecodeMLDv2 decodes a report of 6 records behind the hop-by-hop
// router alert, as BenchmarkDecodeIGMPv3 does for IGMP.
func BenchmarkDecodeMLDv2(b *testing.B) {
	benchmarkDecode(b, mldFrame(b, mldV2Six, ll1, mldv2Routers), KindMLD)
}

// BenchmarkDecodeMLDv2Join decodes a join as Linux sends it.
func BenchmarkDecodeMLDv2Join(b *testing.B) {
	benchmarkDecode(b, mldFrame(b, mldV2Join, ll1, mldv2Routers), KindMLD)
}

func BenchmarkDecodeICMPv6Echo(b *testing.B) {
	benchmarkDecode(b, serialize(b, eth6(hwNat1, ll2), ipv6(ll1, ll2, 64, layers.IPProtocolICMPv6), icmpv6Echo(b, ll1, ll2, 128, 0x1234, 7)), KindIP)
}

func BenchmarkDecodeARP(b *testing.B) {
	benchmarkDecode(b, serialize(b, eth(layers.EthernetTypeARP), gopacket.Payload(arpGratuitous)), KindARP)
}

// BenchmarkDecodeCapture decodes every frame of the reference captures.
func BenchmarkDecodeCapture(b *testing.B) {
	var frames []captureFrame
	for _, path := range referenceCaptures(b) {
		_, fs := readCapture(b, path)
		frames = append(frames, fs...)
	}
	d, _ := NewDecoder(layers.LinkTypeEthernet)
	var f Frame
	b.ReportAllocs()
	for b.Loop() {
		for i, c := range frames {
			_ = d.Decode(c.data, c.ci, uint64(i), &f)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(frames)), "ns/frame")
}

// BenchmarkParserUDP is the same frame through gopacket's
// DecodingLayerParser, for comparison with BenchmarkDecodeUDP.
func BenchmarkParserUDP(b *testing.B) {
	data := serialize(b, eth(layers.EthernetTypeIPv4), ipv4(layers.IPProtocolUDP),
		gopacket.Payload{0x14, 0xe9, 0, 53, 0, 40, 0, 0}, gopacket.Payload(make([]byte, 32)))
	var (
		eth  layers.Ethernet
		ip4  layers.IPv4
		udp  layers.UDP
		vrrp VRRP
		igmp IGMP
		arp  ARP
	)
	p := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &ip4, &udp, &vrrp, &igmp, &arp)
	p.IgnoreUnsupported = true
	decoded := make([]gopacket.LayerType, 0, 8)
	b.ReportAllocs()
	for b.Loop() {
		_ = p.DecodeLayers(data, &decoded)
	}
}
