package decode

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

var (
	hwNat1  = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x65}
	hwVRRP  = net.HardwareAddr{0x01, 0x00, 0x5e, 0, 0, 0x12}
	ip4Nat1 = net.IP{192, 168, 33, 101}
	ip4VRRP = net.IP{224, 0, 0, 18}
)

// serialize builds a frame from layers, fixing lengths and checksums.
func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatalf("serializing %v: %v", ls, err)
	}
	return buf.Bytes()
}

func eth(et layers.EthernetType) *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: hwNat1, DstMAC: hwVRRP, EthernetType: et}
}

func ipv4(proto layers.IPProtocol, opts ...layers.IPv4Option) *layers.IPv4 {
	return &layers.IPv4{Version: 4, TOS: 0xc0, TTL: 255, Protocol: proto, SrcIP: ip4Nat1, DstIP: ip4VRRP, Options: opts}
}

var routerAlert = layers.IPv4Option{OptionType: 148, OptionLength: 4, OptionData: []byte{0, 0}}

func vrrpLayer(t testing.TB, wire []byte, ipv6 bool, ip gopacket.NetworkLayer) *VRRP {
	t.Helper()
	v := &VRRP{IPv6: ipv6}
	if err := v.DecodeFromBytes(wire, gopacket.NilDecodeFeedback); err != nil {
		t.Fatal(err)
	}
	v.Addrs = append([]netip.Addr(nil), v.Addrs...)
	if err := v.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	return v
}

// sll is a Linux cooked header (gopacket cannot serialize one).
func sll(pktType uint16, addr net.HardwareAddr, proto layers.EthernetType) gopacket.Payload {
	h := make([]byte, 16)
	binary.BigEndian.PutUint16(h[0:2], pktType)
	binary.BigEndian.PutUint16(h[2:4], 1) // ARPHRD_ETHER
	binary.BigEndian.PutUint16(h[4:6], uint16(len(addr)))
	copy(h[6:14], addr)
	binary.BigEndian.PutUint16(h[14:16], uint16(proto))
	return h
}

// sll2 is a Linux cooked v2 header.
func sll2(pktType uint8, addr net.HardwareAddr, proto layers.EthernetType) gopacket.Payload {
	h := make([]byte, 20)
	binary.BigEndian.PutUint16(h[0:2], uint16(proto))
	binary.BigEndian.PutUint32(h[4:8], 3) // interface index
	binary.BigEndian.PutUint16(h[8:10], 1)
	h[10] = pktType
	h[11] = uint8(len(addr))
	copy(h[12:20], addr)
	return h
}

// prepend puts a raw header in front of serialized layers.
func prepend(h gopacket.Payload, rest []byte) []byte {
	return append(append([]byte(nil), h...), rest...)
}

type frameCase struct {
	name string
	link layers.LinkType
	data []byte
	// check inspects the decoded frame.
	check func(t *testing.T, f *Frame)
}

// tcp builds a TCP header without a checksum, which needs the IP layer.
func tcp(l *layers.TCP) gopacket.Payload {
	buf := gopacket.NewSerializeBuffer()
	if err := l.SerializeTo(buf, gopacket.SerializeOptions{FixLengths: true}); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// eth6 is an Ethernet header for an IPv6 packet to dst: 33:33 and the low
// 32 bits of a multicast address, nat1's MAC for fe80::1, the client's
// for other unicast addresses.
func eth6(src net.HardwareAddr, dst netip.Addr) *layers.Ethernet {
	mac := net.HardwareAddr(macClient[:])
	switch a := dst.As16(); {
	case dst.IsMulticast():
		mac = net.HardwareAddr{0x33, 0x33, a[12], a[13], a[14], a[15]}
	case dst == ll1:
		mac = hwNat1
	}
	return &layers.Ethernet{SrcMAC: src, DstMAC: mac, EthernetType: layers.EthernetTypeIPv6}
}

func ipv6(src, dst netip.Addr, hopLimit uint8, next layers.IPProtocol) *layers.IPv6 {
	return &layers.IPv6{Version: 6, HopLimit: hopLimit, NextHeader: next, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
}

// ndFrame is an Ethernet frame of the ND message wire from src to dst,
// with hop limit 255 (RFC 4861), its checksum computed anew.
func ndFrame(t testing.TB, wire []byte, src, dst netip.Addr) []byte {
	t.Helper()
	n := &ND{}
	if err := n.DecodeFromBytes(wire, gopacket.NilDecodeFeedback); err != nil {
		t.Fatal(err)
	}
	ip := ipv6(src, dst, 255, layers.IPProtocolICMPv6)
	if err := n.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	hw := hwNat1
	if src != ll1 {
		hw = net.HardwareAddr(macClient[:])
	}
	return serialize(t, eth6(hw, dst), ip, n)
}

// mldFrame is an Ethernet frame of the MLD message wire from src to dst as
// Linux sends it: hop limit 1, behind a hop-by-hop header with the router
// alert; its checksum is computed anew.
func mldFrame(t testing.TB, wire []byte, src, dst netip.Addr) []byte {
	t.Helper()
	m := &MLD{}
	if err := m.DecodeFromBytes(wire, gopacket.NilDecodeFeedback); err != nil {
		t.Fatal(err)
	}
	ip := ipv6(src, dst, 1, layers.IPProtocolIPv6HopByHop)
	if err := m.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	return serialize(t, eth6(hwNat1, dst), ip, gopacket.Payload(hopByHopRouterAlert), m)
}

func frameCases(t testing.TB) []frameCase {
	ip4 := ipv4(layers.IPProtocolVRRP)
	ip6 := &layers.IPv6{Version: 6, TrafficClass: 0xe0, HopLimit: 255, NextHeader: layers.IPProtocolVRRP,
		SrcIP: vrrpSrc6.AsSlice(), DstIP: vrrpDst6.AsSlice()}
	arpLayer := func(wire []byte) *ARP {
		a := &ARP{}
		if err := a.DecodeFromBytes(wire, gopacket.NilDecodeFeedback); err != nil {
			t.Fatal(err)
		}
		return a
	}
	igmpLayer := func(wire []byte) *IGMP {
		g := &IGMP{}
		if err := g.DecodeFromBytes(wire, gopacket.NilDecodeFeedback); err != nil {
			t.Fatal(err)
		}
		return g
	}
	vrrpCheck := func(vlan, outer uint16, vrid uint8, hasDst bool) func(t *testing.T, f *Frame) {
		return func(t *testing.T, f *Frame) {
			if f.Kind != KindVRRP || f.VRRP == nil || f.VRRP.VRID != vrid || f.VRRPChecksum != ChecksumOK {
				t.Fatalf("kind %v, vrrp %+v, checksum %v", f.Kind, f.VRRP, f.VRRPChecksum)
			}
			if f.VLAN != vlan || f.OuterVLAN != outer {
				t.Errorf("VLAN %d outer %d, want %d %d", f.VLAN, f.OuterVLAN, vlan, outer)
			}
			if f.HasDstMAC != hasDst || (hasDst && f.DstMAC != MAC(hwVRRP)) || (!hasDst && !f.DstMAC.IsZero()) {
				t.Errorf("HasDstMAC %v DstMAC %v", f.HasDstMAC, f.DstMAC)
			}
		}
	}
	return []frameCase{
		{"ethernet vrrp v2", layers.LinkTypeEthernet,
			serialize(t, eth(layers.EthernetTypeIPv4), ip4, gopacket.Payload(vrrpV2Pass)),
			func(t *testing.T, f *Frame) {
				want := IPHeader{Version: 4, Src: vrrpSrc4, Dst: vrrpDst4, TTL: 255, Protocol: 112, TOS: 0xc0}
				if f.Kind != KindVRRP || f.IP != want || f.SrcMAC != MAC(hwNat1) || f.DstMAC != MAC(hwVRRP) || !f.HasDstMAC {
					t.Errorf("kind %v IP %+v src %v dst %v has %v", f.Kind, f.IP, f.SrcMAC, f.DstMAC, f.HasDstMAC)
				}
				if f.VRRP.Version != 2 || f.VRRP.AuthPassword() != "secret" || f.VRRPChecksum != ChecksumOK || f.VLAN != 0 {
					t.Errorf("vrrp %+v checksum %v vlan %d", f.VRRP, f.VRRPChecksum, f.VLAN)
				}
				if f.VRRP.IPv6 {
					t.Error("IPv6 set on an IPv4 advert")
				}
			}},
		{"ethernet vrrp v2 without auth data", layers.LinkTypeEthernet,
			serialize(t, eth(layers.EthernetTypeIPv4), ip4, gopacket.Payload(vrrpV2NoAuth)),
			func(t *testing.T, f *Frame) {
				vrrpCheck(0, 0, 51, true)(t, f)
				if !f.VRRP.NoAuthData || f.VRRP.AuthType != 0 || len(f.VRRP.Contents) != 12 || f.CapLen != 60 {
					t.Errorf("vrrp %+v in %d bytes: the Ethernet padding is not authentication data", f.VRRP, f.CapLen)
				}
			}},
		{"802.1Q vrrp v3", layers.LinkTypeEthernet,
			serialize(t, eth(layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 100, Type: layers.EthernetTypeIPv4},
				ip4, vrrpLayer(t, vrrpV3IPv4, false, ip4)),
			vrrpCheck(100, 0, 51, true)},
		{"QinQ 802.1ad arp", layers.LinkTypeEthernet,
			serialize(t, eth(layers.EthernetTypeQinQ), &layers.Dot1Q{VLANIdentifier: 200, Type: layers.EthernetTypeDot1Q},
				&layers.Dot1Q{VLANIdentifier: 100, Type: layers.EthernetTypeARP}, arpLayer(arpAnnounce)),
			func(t *testing.T, f *Frame) {
				if f.Kind != KindARP || f.ARP.Kind() != ARPAnnouncement || f.VLAN != 100 || f.OuterVLAN != 200 {
					t.Errorf("kind %v arp %+v vlan %d outer %d", f.Kind, f.ARP, f.VLAN, f.OuterVLAN)
				}
			}},
		{"QinQ 0x8100 outer igmp", layers.LinkTypeEthernet,
			serialize(t, eth(layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 300, Type: layers.EthernetTypeDot1Q},
				&layers.Dot1Q{VLANIdentifier: 10, Type: layers.EthernetTypeIPv4},
				ipv4(layers.IPProtocolIGMP, routerAlert), igmpLayer(igmpV3Join)),
			func(t *testing.T, f *Frame) {
				if f.Kind != KindIGMP || f.VLAN != 10 || f.OuterVLAN != 300 {
					t.Fatalf("kind %v vlan %d outer %d", f.Kind, f.VLAN, f.OuterVLAN)
				}
				if len(f.IGMP.Records) != 1 || f.IGMP.Records[0].Meaning() != MembershipJoin || f.IP.Protocol != 2 {
					t.Errorf("igmp %+v IP %+v", f.IGMP, f.IP)
				}
			}},
		{"three tags", layers.LinkTypeEthernet,
			serialize(t, eth(layers.EthernetTypeQinQ), &layers.Dot1Q{VLANIdentifier: 1, Type: layers.EthernetTypeDot1Q},
				&layers.Dot1Q{VLANIdentifier: 2, Type: layers.EthernetTypeDot1Q},
				&layers.Dot1Q{VLANIdentifier: 3, Type: layers.EthernetTypeIPv4}, ip4, gopacket.Payload(vrrpV2Pass)),
			vrrpCheck(3, 1, 51, true)},
		{"SLL vrrp", layers.LinkTypeLinuxSLL,
			prepend(sll(2, hwNat1, layers.EthernetTypeIPv4), serialize(t, ip4, gopacket.Payload(vrrpV2Pass))),
			func(t *testing.T, f *Frame) {
				vrrpCheck(0, 0, 51, false)(t, f)
				if f.SrcMAC != MAC(hwNat1) || f.SLLPacketType != 2 {
					t.Errorf("SrcMAC %v packet type %d", f.SrcMAC, f.SLLPacketType)
				}
			}},
		{"SLL tagged vrrp", layers.LinkTypeLinuxSLL,
			prepend(sll(4, hwNat1, layers.EthernetTypeDot1Q), serialize(t, &layers.Dot1Q{VLANIdentifier: 42, Type: layers.EthernetTypeIPv4}, ip4, gopacket.Payload(vrrpV2Pass))),
			func(t *testing.T, f *Frame) {
				vrrpCheck(42, 0, 51, false)(t, f)
				if f.SLLPacketType != 4 {
					t.Errorf("packet type %d", f.SLLPacketType)
				}
			}},
		{"SLL short address", layers.LinkTypeLinuxSLL,
			prepend(sll(0, net.HardwareAddr{1, 2, 3, 4}, layers.EthernetTypeARP), arpRequest),
			func(t *testing.T, f *Frame) {
				if f.Kind != KindARP || !f.SrcMAC.IsZero() || f.HasDstMAC {
					t.Errorf("kind %v SrcMAC %v HasDstMAC %v", f.Kind, f.SrcMAC, f.HasDstMAC)
				}
			}},
		{"SLL2 arp", layers.LinkTypeLinuxSLL2,
			prepend(sll2(1, hwNat1, layers.EthernetTypeARP), arpGratuitous),
			func(t *testing.T, f *Frame) {
				if f.Kind != KindARP || f.ARP.Kind() != ARPGratuitousReply || f.SrcMAC != MAC(hwNat1) || f.SLLPacketType != 1 || f.HasDstMAC {
					t.Errorf("kind %v arp %+v src %v type %d", f.Kind, f.ARP, f.SrcMAC, f.SLLPacketType)
				}
			}},
		{"SLL2 vrrp v3 IPv6", layers.LinkTypeLinuxSLL2,
			prepend(sll2(2, hwNat1, layers.EthernetTypeIPv6), serialize(t, ip6, vrrpLayer(t, vrrpV3IPv6, true, ip6))),
			func(t *testing.T, f *Frame) {
				vrrpCheck(0, 0, 7, false)(t, f)
				want := IPHeader{Version: 6, Src: vrrpSrc6, Dst: vrrpDst6, TTL: 255, Protocol: 112, TOS: 0xe0}
				if f.IP != want || !f.VRRP.IPv6 || f.VRRP.Addrs[0] != netip.MustParseAddr("2001:db8::100") {
					t.Errorf("IP %+v vrrp %+v", f.IP, f.VRRP)
				}
			}},
		{"raw IPv4 udp", layers.LinkTypeRaw,
			serialize(t, ipv4(layers.IPProtocolUDP), gopacket.Payload{0x14, 0xe9, 0, 53, 0, 9, 0, 0, 'x'}),
			func(t *testing.T, f *Frame) {
				if f.Kind != KindIP || f.L4 != (Transport{Protocol: 17, SrcPort: 5353, DstPort: 53}) || f.HasDstMAC {
					t.Errorf("kind %v L4 %+v", f.Kind, f.L4)
				}
			}},
		{"raw IPv6 vrrp v3", layers.LinkTypeIPv6,
			serialize(t, ip6, vrrpLayer(t, vrrpV3IPv6, true, ip6)),
			vrrpCheck(0, 0, 7, false)},
		{"raw IPv4 link type 228 vrrp", layers.LinkTypeIPv4,
			serialize(t, ip4, gopacket.Payload(vrrpV3V2Style)),
			func(t *testing.T, f *Frame) {
				if f.Kind != KindVRRP || f.VRRPChecksum != ChecksumV2Style {
					t.Errorf("kind %v checksum %v", f.Kind, f.VRRPChecksum)
				}
			}},
		{"icmp echo", layers.LinkTypeEthernet,
			serialize(t, eth(layers.EthernetTypeIPv4), ipv4(layers.IPProtocolICMPv4),
				&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0), Id: 0x1234, Seq: 7}, gopacket.Payload("ping")),
			func(t *testing.T, f *Frame) {
				if f.Kind != KindIP || f.L4 != (Transport{Protocol: 1, ICMPType: 8, ICMPID: 0x1234, ICMPSeq: 7}) || f.IP.Protocol != 1 {
					t.Errorf("kind %v L4 %+v", f.Kind, f.L4)
				}
			}},
		{"icmp unreachable", layers.LinkTypeEthernet,
			serialize(t, eth(layers.EthernetTypeIPv4), ipv4(layers.IPProtocolICMPv4),
				&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(3, 1), Id: 0x1234, Seq: 7}),
			func(t *testing.T, f *Frame) {
				if f.L4 != (Transport{Protocol: 1, ICMPType: 3, ICMPCode: 1}) {
					t.Errorf("L4 %+v: id and seq only belong to echo", f.L4)
				}
			}},
		{"tcp syn-ack", layers.LinkTypeEthernet,
			serialize(t, eth(layers.EthernetTypeIPv4), ipv4(layers.IPProtocolTCP), tcp(&layers.TCP{SrcPort: 22, DstPort: 40000, SYN: true, ACK: true, Window: 64240})),
			func(t *testing.T, f *Frame) {
				if f.L4 != (Transport{Protocol: 6, SrcPort: 22, DstPort: 40000, TCPFlags: 0x12}) {
					t.Errorf("L4 %+v", f.L4)
				}
			}},
		{"ipv6 mld v2 join behind hop-by-hop", layers.LinkTypeEthernet,
			mldFrame(t, mldV2Join, ll1, mldv2Routers),
			func(t *testing.T, f *Frame) {
				want := IPHeader{Version: 6, Src: ll1, Dst: mldv2Routers, TTL: 1, Protocol: 58}
				if f.Kind != KindMLD || f.IP != want || f.ICMPv6Checksum != ChecksumOK {
					t.Fatalf("kind %v IP %+v checksum %v", f.Kind, f.IP, f.ICMPv6Checksum)
				}
				if f.MLD.Version != 2 || len(f.MLD.Records) != 1 || f.MLD.Records[0].Meaning() != MembershipJoin || f.MLD.Records[0].Group != group12 {
					t.Errorf("mld %+v", mldOf(f.MLD))
				}
			}},
		{"ipv6 mld v2 report without records or checksum", layers.LinkTypeEthernet,
			serialize(t, eth6(hwNat1, mldv2Routers), ipv6(ll1, mldv2Routers, 1, layers.IPProtocolIPv6HopByHop),
				gopacket.Payload(hopByHopRouterAlert), gopacket.Payload{143, 0, 0, 0, 0, 0, 0, 0}),
			func(t *testing.T, f *Frame) {
				if f.Kind != KindMLD || f.ICMPv6Checksum != ChecksumBad || len(f.MLD.Records) != 0 {
					t.Errorf("kind %v checksum %v mld %+v: a bad checksum is reported, not rejected", f.Kind, f.ICMPv6Checksum, f.MLD)
				}
			}},
		{"SLL2 ipv6 mld v1 done", layers.LinkTypeLinuxSLL2,
			prepend(sll2(4, hwNat1, layers.EthernetTypeIPv6), mldFrame(t, mldV1Done, ll1, allRouters)[14:]),
			func(t *testing.T, f *Frame) {
				if f.Kind != KindMLD || f.MLD.Meaning() != MembershipLeave || f.MLD.Group != group12 || f.ICMPv6Checksum != ChecksumOK || f.HasDstMAC {
					t.Errorf("kind %v mld %+v checksum %v", f.Kind, f.MLD, f.ICMPv6Checksum)
				}
			}},
		{"ipv6 unsolicited nd na", layers.LinkTypeEthernet,
			ndFrame(t, ndNAUnsolicited, ll1, allNodes),
			func(t *testing.T, f *Frame) {
				want := IPHeader{Version: 6, Src: ll1, Dst: allNodes, TTL: 255, Protocol: 58}
				if f.Kind != KindND || f.IP != want || f.ICMPv6Checksum != ChecksumOK || f.SrcMAC != MAC(hwNat1) {
					t.Fatalf("kind %v IP %+v checksum %v", f.Kind, f.IP, f.ICMPv6Checksum)
				}
				if !f.ND.IsUnsolicitedNA() || f.ND.Target != vip6 || f.ND.TargetLL != macNat1 || !f.ND.Router || !f.ND.Override {
					t.Errorf("nd %+v", ndOf(f.ND))
				}
			}},
		{"802.1Q ipv6 nd ns", layers.LinkTypeEthernet,
			func() []byte {
				fr := ndFrame(t, ndNS, ll2, solicitedVIP)
				return serialize(t, &layers.Ethernet{SrcMAC: fr[6:12], DstMAC: fr[0:6], EthernetType: layers.EthernetTypeDot1Q},
					&layers.Dot1Q{VLANIdentifier: 10, Type: layers.EthernetTypeIPv6}, gopacket.Payload(fr[14:]))
			}(),
			func(t *testing.T, f *Frame) {
				if f.Kind != KindND || f.VLAN != 10 || f.ND.Type != NDNeighborSolicitation || f.ND.SourceLL != macClient || f.ICMPv6Checksum != ChecksumOK {
					t.Errorf("kind %v vlan %d nd %+v checksum %v", f.Kind, f.VLAN, f.ND, f.ICMPv6Checksum)
				}
			}},
		{"raw IPv6 nd ra", layers.LinkTypeIPv6,
			ndFrame(t, ndRA, ll1, allNodes)[14:],
			func(t *testing.T, f *Frame) {
				if f.Kind != KindND || !f.ND.ManagedFlag || f.ND.RouterLifetime != 1800 || f.ND.SourceLL != macNat1 || f.ICMPv6Checksum != ChecksumOK {
					t.Errorf("kind %v nd %+v checksum %v", f.Kind, f.ND, f.ICMPv6Checksum)
				}
			}},
		{"ipv6 destination unreachable", layers.LinkTypeEthernet,
			serialize(t, eth6(hwNat1, ll2), ipv6(ll1, ll2, 64, layers.IPProtocolICMPv6), gopacket.Payload{1, 4, 0, 0, 0, 0, 0, 0}),
			func(t *testing.T, f *Frame) {
				if f.Kind != KindIP || f.L4 != (Transport{Protocol: 58, ICMPType: 1, ICMPCode: 4}) || f.ICMPv6Checksum != ChecksumNotChecked {
					t.Errorf("kind %v L4 %+v checksum %v", f.Kind, f.L4, f.ICMPv6Checksum)
				}
			}},
		{"ipv4 carries no nd", layers.LinkTypeEthernet,
			serialize(t, eth(layers.EthernetTypeIPv4), ipv4(layers.IPProtocolICMPv6), gopacket.Payload(ndNASolicited)),
			func(t *testing.T, f *Frame) {
				if f.Kind != KindIP || f.L4 != (Transport{Protocol: 58, ICMPType: 136}) {
					t.Errorf("kind %v L4 %+v", f.Kind, f.L4)
				}
			}},
		{"ipv6 echo reply", layers.LinkTypeEthernet,
			serialize(t, eth(layers.EthernetTypeIPv6),
				&layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolICMPv6, SrcIP: vrrpSrc6.AsSlice(), DstIP: net.ParseIP("fe80::2")},
				gopacket.Payload{129, 0, 0, 0, 0xab, 0xcd, 0, 9}),
			func(t *testing.T, f *Frame) {
				if f.L4 != (Transport{Protocol: 58, ICMPType: 129, ICMPID: 0xabcd, ICMPSeq: 9}) {
					t.Errorf("L4 %+v", f.L4)
				}
			}},
		{"ipv4 fragment of vrrp", layers.LinkTypeEthernet,
			serialize(t, eth(layers.EthernetTypeIPv4),
				&layers.IPv4{Version: 4, TTL: 255, Protocol: layers.IPProtocolVRRP, Flags: layers.IPv4MoreFragments, SrcIP: ip4Nat1, DstIP: ip4VRRP},
				gopacket.Payload(vrrpV2Pass[:8])),
			func(t *testing.T, f *Frame) {
				if f.Kind != KindIP || f.IP.Protocol != 112 || f.L4 != (Transport{}) {
					t.Errorf("kind %v IP %+v L4 %+v", f.Kind, f.IP, f.L4)
				}
			}},
		{"lldp", layers.LinkTypeEthernet,
			serialize(t, eth(layers.EthernetTypeLinkLayerDiscovery), gopacket.Payload{1, 2, 3}),
			func(t *testing.T, f *Frame) {
				if f.Kind != KindOther || f.SrcMAC != MAC(hwNat1) {
					t.Errorf("kind %v src %v", f.Kind, f.SrcMAC)
				}
			}},
	}
}

func TestDecoderFrames(t *testing.T) {
	ts := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	decoders := map[layers.LinkType]*Decoder{}
	for _, c := range frameCases(t) {
		t.Run(c.name, func(t *testing.T) {
			d := decoders[c.link]
			if d == nil {
				var err error
				if d, err = NewDecoder(c.link); err != nil {
					t.Fatal(err)
				}
				decoders[c.link] = d
			}
			// A dirty frame: Decode must reset every field.
			f := Frame{Kind: KindARP, VLAN: 9, OuterVLAN: 9, HasDstMAC: true, DstMAC: MAC{1}, SLLPacketType: 9,
				L4: Transport{Protocol: 9}, VRRPChecksum: ChecksumBad, ICMPv6Checksum: ChecksumBad, IP: IPHeader{Version: 9},
				ND: &ND{}, MLD: &MLD{}}
			ci := gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(c.data), Length: len(c.data) + 4}
			if err := d.Decode(c.data, ci, 42, &f); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if f.Number != 42 || !f.Time.Equal(ts) || f.CapLen != len(c.data) || f.Length != len(c.data)+4 || f.LinkType != c.link {
				t.Errorf("number %d time %v caplen %d len %d link %v", f.Number, f.Time, f.CapLen, f.Length, f.LinkType)
			}
			checkPointers(t, &f)
			if f.Kind != KindVRRP && f.VRRPChecksum != ChecksumNotChecked {
				t.Errorf("VRRPChecksum %v on a %v frame", f.VRRPChecksum, f.Kind)
			}
			if f.Kind != KindND && f.Kind != KindMLD && f.ICMPv6Checksum != ChecksumNotChecked {
				t.Errorf("ICMPv6Checksum %v on a %v frame", f.ICMPv6Checksum, f.Kind)
			}
			if f.Kind != KindIP && f.L4 != (Transport{}) {
				t.Errorf("L4 %+v on a %v frame", f.L4, f.Kind)
			}
			c.check(t, &f)
		})
	}
}

// checkPointers checks that exactly the layer of the frame's kind is set.
func checkPointers(t testing.TB, f *Frame) {
	t.Helper()
	if (f.VRRP != nil) != (f.Kind == KindVRRP) || (f.IGMP != nil) != (f.Kind == KindIGMP) || (f.ARP != nil) != (f.Kind == KindARP) ||
		(f.ND != nil) != (f.Kind == KindND) || (f.MLD != nil) != (f.Kind == KindMLD) {
		t.Errorf("kind %v with pointers vrrp %v igmp %v arp %v nd %v mld %v", f.Kind, f.VRRP != nil, f.IGMP != nil, f.ARP != nil, f.ND != nil, f.MLD != nil)
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{KindOther: "other", KindVRRP: "vrrp", KindIGMP: "igmp", KindARP: "arp", KindIP: "ip", KindND: "nd", KindMLD: "mld"} {
		if k.String() != want {
			t.Errorf("Kind %d String() = %q, want %q", k, k.String(), want)
		}
	}
}

func TestNewDecoderUnsupported(t *testing.T) {
	_, err := NewDecoder(layers.LinkTypeIEEE802_11)
	if err == nil || !strings.Contains(err.Error(), "link type") || !strings.Contains(err.Error(), "(105)") {
		t.Errorf("error %v, want one naming link type 105", err)
	}
}

func TestDecoderErrors(t *testing.T) {
	badVRRP := append([]byte{0x41}, vrrpV2Pass[1:]...)
	tests := []struct {
		name string
		data []byte
		kind Kind   // FrameError.Kind, or KindOther for no error
		want string // the error text
	}{
		{"vrrp version 4", serialize(t, eth(layers.EthernetTypeIPv4), ipv4(layers.IPProtocolVRRP), gopacket.Payload(badVRRP)),
			KindVRRP, "frame 7: vrrp: version 4 is neither 2 nor 3"},
		{"vrrp count overruns", serialize(t, eth(layers.EthernetTypeIPv4), ipv4(layers.IPProtocolVRRP), gopacket.Payload(vrrpV3IPv4[:12])),
			KindVRRP, "frame 7: vrrp: address count 2 needs 8 bytes, 4 remain"},
		{"vrrp v2 auth type 0 cut by the capture after its addresses",
			serialize(t, eth(layers.EthernetTypeIPv4), ipv4(layers.IPProtocolVRRP), gopacket.Payload(append(append([]byte(nil), vrrpV2NoAuth...), make([]byte, 8)...)))[:14+20+12],
			KindVRRP, "frame 7: vrrp: the capture ends after the address list: the authentication data was cut off, not left out"},
		{"igmp short", serialize(t, eth(layers.EthernetTypeIPv4), ipv4(layers.IPProtocolIGMP), gopacket.Payload(igmpV2Leave[:6])),
			KindIGMP, "frame 7: igmp: message of 6 bytes is shorter than the 8-byte header"},
		{"arp operation", prepend(gopacket.Payload(serialize(t, eth(layers.EthernetTypeARP))[:14]), append(append([]byte(nil), arpRequest[:7]...), append([]byte{9}, arpRequest[8:]...)...)),
			KindARP, "frame 7: arp: operation 9 is neither request (1) nor reply (2)"},
		{"ipv4 header cut in a vrrp packet", serialize(t, eth(layers.EthernetTypeIPv4), ipv4(layers.IPProtocolVRRP), gopacket.Payload(vrrpV2Pass))[:14+15],
			KindVRRP, "frame 7: ipv4 header of a vrrp packet: Invalid ip4 header. Length 15 less than 20"},
		{"ipv4 header cut in an igmp packet", serialize(t, eth(layers.EthernetTypeIPv4), ipv4(layers.IPProtocolIGMP, routerAlert), gopacket.Payload(igmpV2Leave))[:14+22],
			KindIGMP, "frame 7: ipv4 header of an igmp packet: Not all IP header bytes available"},
		{"ipv6 header cut in a vrrp packet", serialize(t, eth(layers.EthernetTypeIPv6),
			&layers.IPv6{Version: 6, NextHeader: layers.IPProtocolVRRP, SrcIP: vrrpSrc6.AsSlice(), DstIP: vrrpDst6.AsSlice()}, gopacket.Payload(vrrpV3IPv6))[:14+30],
			KindVRRP, "frame 7: ipv6 header of a vrrp packet: 30 bytes, 40 needed"},
		{"nd option of length 0", serialize(t, eth6(hwNat1, allNodes), ipv6(ll1, allNodes, 255, layers.IPProtocolICMPv6),
			gopacket.Payload(unhex("88000000 20000000 20010db8000000000000000000000100 0200 020000000065"))),
			KindND, "frame 7: nd: option 1 (type 2) has length 0"},
		{"nd cut in its target", serialize(t, eth6(hwNat1, allNodes), ipv6(ll1, allNodes, 255, layers.IPProtocolICMPv6),
			gopacket.Payload(ndNAUnsolicited[:20])),
			KindND, "frame 7: nd: neighbour advertisement of 20 bytes is shorter than its 24 fixed bytes"},
		{"mld query of 26 bytes", serialize(t, eth6(hwNat1, allNodes), ipv6(ll1, allNodes, 1, layers.IPProtocolIPv6HopByHop),
			gopacket.Payload(hopByHopRouterAlert), gopacket.Payload(mldV2Query[:26])),
			KindMLD, "frame 7: mld: query of 26 bytes is neither v1 (24 bytes) nor v2 (28 or more)"},
		{"mld record overruns", serialize(t, eth6(hwNat1, mldv2Routers), ipv6(ll1, mldv2Routers, 1, layers.IPProtocolIPv6HopByHop),
			gopacket.Payload(hopByHopRouterAlert), gopacket.Payload(unhex("8f000000 00000002 04000000 ff020000000000000000000000000012"))),
			KindMLD, "frame 7: mld: record 2 of 2 needs 20 bytes, 0 remain"},
		{"ipv4 header cut in a udp packet", serialize(t, eth(layers.EthernetTypeIPv4), ipv4(layers.IPProtocolUDP), gopacket.Payload("hello"))[:14+15],
			KindOther, ""},
		{"ethernet header cut", serialize(t, eth(layers.EthernetTypeIPv4), ipv4(layers.IPProtocolVRRP), gopacket.Payload(vrrpV2Pass))[:13],
			KindOther, ""},
		{"ipv4 version nibble 5", func() []byte {
			b := serialize(t, eth(layers.EthernetTypeIPv4), ipv4(layers.IPProtocolVRRP), gopacket.Payload(vrrpV2Pass))
			b[14] = 0x55
			return b
		}(), KindOther, ""},
	}
	d, err := NewDecoder(layers.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f Frame
			err := d.Decode(tt.data, gopacket.CaptureInfo{}, 7, &f)
			if f.Kind != KindOther || f.VRRP != nil || f.IGMP != nil || f.ARP != nil || f.ND != nil || f.MLD != nil {
				t.Errorf("kind %v with pointers %v %v %v %v %v, want KindOther and none", f.Kind, f.VRRP, f.IGMP, f.ARP, f.ND, f.MLD)
			}
			if f.Number != 7 || f.CapLen != len(tt.data) || f.Length != len(tt.data) {
				t.Errorf("number %d caplen %d length %d", f.Number, f.CapLen, f.Length)
			}
			if tt.kind == KindOther {
				if err != nil {
					t.Errorf("error %v, want none", err)
				}
				return
			}
			var fe *FrameError
			if !errors.As(err, &fe) || fe.Kind != tt.kind || fe.Number != 7 || err.Error() != tt.want {
				t.Errorf("error %v (%#v), want FrameError kind %v %q", err, fe, tt.kind, tt.want)
			}
		})
	}
}

// Every prefix of a VRRP, IGMP or ARP frame that cuts into the IP header
// or the message is an error; shorter ones are KindOther. None panics.
func TestDecoderTruncations(t *testing.T) {
	tests := []struct {
		name     string
		data     []byte
		ipFrom   int // first length that is KindIP without an error (0: none)
		errFrom  int // first length that is an error
		complete int // first length that decodes
		kind     Kind
	}{
		{"vrrp", serialize(t, eth(layers.EthernetTypeIPv4), ipv4(layers.IPProtocolVRRP), gopacket.Payload(vrrpV2Pass)), 0, 14 + 10, 14 + 20 + 20, KindVRRP},
		{"igmp", serialize(t, eth(layers.EthernetTypeIPv4), ipv4(layers.IPProtocolIGMP, routerAlert), gopacket.Payload(igmpV3Six)), 0, 14 + 10, 14 + 24 + len(igmpV3Six), KindIGMP},
		{"arp", serialize(t, eth(layers.EthernetTypeARP), gopacket.Payload(arpRequest)), 0, 14, 14 + 28, KindARP},
		// An IPv6 header whose ICMPv6 message has not begun is KindIP; an
		// ND message cut between its options is a shorter one.
		{"nd ns", ndFrame(t, ndNSDAD, netip.IPv6Unspecified(), solicitedVIP), 14 + 40, 14 + 40 + 1, 14 + 40 + 24, KindND},
		// Behind a hop-by-hop header that is cut, nothing says MLD yet.
		{"mld", mldFrame(t, mldV2Six, ll1, mldv2Routers), 14 + 40, 14 + 40 + 8 + 1, 14 + 40 + 8 + len(mldV2Six), KindMLD},
	}
	d, _ := NewDecoder(layers.LinkTypeEthernet)
	for _, tt := range tests {
		for n := 0; n <= len(tt.data); n++ {
			var f Frame
			err := d.Decode(tt.data[:n], gopacket.CaptureInfo{}, 1, &f)
			switch {
			case tt.ipFrom > 0 && n >= tt.ipFrom && n < tt.errFrom:
				if err != nil || f.Kind != KindIP {
					t.Errorf("%s cut to %d: kind %v error %v, want KindIP, no error", tt.name, n, f.Kind, err)
				}
			case n < tt.errFrom:
				if err != nil || f.Kind != KindOther {
					t.Errorf("%s cut to %d: kind %v error %v, want KindOther, no error", tt.name, n, f.Kind, err)
				}
			case n < tt.complete:
				if err == nil || f.Kind != KindOther {
					t.Errorf("%s cut to %d: kind %v error %v, want an error", tt.name, n, f.Kind, err)
				}
			default:
				if err != nil || f.Kind != tt.kind {
					t.Errorf("%s cut to %d: kind %v error %v, want %v", tt.name, n, f.Kind, err, tt.kind)
				}
			}
		}
	}
	// No panic on any prefix of any test frame, for every link type.
	for _, c := range frameCases(t) {
		for _, lt := range []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeLinuxSLL, layers.LinkTypeLinuxSLL2, layers.LinkTypeRaw} {
			d, _ := NewDecoder(lt)
			for n := 0; n <= len(c.data); n++ {
				var f Frame
				_ = d.Decode(c.data[:n], gopacket.CaptureInfo{}, 1, &f)
			}
		}
	}
}

// A VRRP packet cut by the snap length after a whole message but before the
// end of the IP packet cannot have its checksum checked.
func TestDecoderTruncatedChecksum(t *testing.T) {
	data := serialize(t, eth(layers.EthernetTypeIPv4), ipv4(layers.IPProtocolVRRP), gopacket.Payload(append(append([]byte(nil), vrrpV3IPv4...), 1, 2, 3, 4)))
	d, _ := NewDecoder(layers.LinkTypeEthernet)
	var f Frame
	if err := d.Decode(data[:14+20+16], gopacket.CaptureInfo{}, 1, &f); err != nil {
		t.Fatal(err)
	}
	if f.Kind != KindVRRP || f.VRRPChecksum != ChecksumNotChecked {
		t.Errorf("kind %v checksum %v, want vrrp not-checked", f.Kind, f.VRRPChecksum)
	}
}

// An ND or MLD message whose IP packet the capture cut short, but which is
// whole itself (an ND message ends between options), decodes without a
// checksum status.
func TestDecoderTruncatedICMPv6Checksum(t *testing.T) {
	d, _ := NewDecoder(layers.LinkTypeEthernet)
	var f Frame
	na := ndFrame(t, ndNASolicited, ll1, ll2)
	if err := d.Decode(na[:14+40+24], gopacket.CaptureInfo{}, 1, &f); err != nil || f.Kind != KindND || f.ICMPv6Checksum != ChecksumNotChecked || f.ND.HasTargetLL {
		t.Errorf("NA cut before its option: kind %v err %v checksum %v", f.Kind, err, f.ICMPv6Checksum)
	}
	// A v1 report with 4 bytes after it, under a checksum that covers them.
	msg := append(append([]byte(nil), mldV1Report...), 0xaa, 0xbb, 0xcc, 0xdd)
	msg[2], msg[3] = 0, 0
	sum, _ := pseudoHeaderSum(ll1, group12, 58, len(msg))
	binary.BigEndian.PutUint16(msg[2:4], foldChecksum(onesSum(sum, msg)))
	report := serialize(t, eth6(hwNat1, group12), ipv6(ll1, group12, 1, layers.IPProtocolIPv6HopByHop),
		gopacket.Payload(hopByHopRouterAlert), gopacket.Payload(msg))
	if err := d.Decode(report[:len(report)-2], gopacket.CaptureInfo{}, 1, &f); err != nil || f.Kind != KindMLD || f.ICMPv6Checksum != ChecksumNotChecked {
		t.Errorf("MLD report cut in its trailing bytes: kind %v err %v checksum %v", f.Kind, err, f.ICMPv6Checksum)
	}
	if err := d.Decode(report, gopacket.CaptureInfo{}, 1, &f); err != nil || f.Kind != KindMLD || f.ICMPv6Checksum != ChecksumOK {
		t.Errorf("whole MLD report with trailing bytes: kind %v err %v checksum %v", f.Kind, err, f.ICMPv6Checksum)
	}
}

func TestDecoderAllocs(t *testing.T) {
	var plain, interesting []frameCase
	kinds := map[Kind]bool{}
	classify, _ := NewDecoder(layers.LinkTypeEthernet)
	for _, c := range frameCases(t) {
		if c.link != layers.LinkTypeEthernet {
			continue
		}
		var f Frame
		if err := classify.Decode(c.data, gopacket.CaptureInfo{}, 1, &f); err != nil {
			t.Fatal(err)
		}
		kinds[f.Kind] = true
		if f.Kind == KindIP || f.Kind == KindOther {
			plain = append(plain, c)
		} else {
			interesting = append(interesting, c)
		}
	}
	if len(plain) < 5 || len(interesting) < 8 || !kinds[KindND] || !kinds[KindMLD] {
		t.Fatalf("%d plain and %d interesting frames of kinds %v: the test cases changed", len(plain), len(interesting), kinds)
	}
	var f Frame
	// Frames that are not VRRP, IGMP, ARP, ND or MLD never allocate, not
	// even on the first decode.
	d, _ := NewDecoder(layers.LinkTypeEthernet)
	if n := testing.AllocsPerRun(1, func() {
		for _, c := range plain {
			_ = d.Decode(c.data, gopacket.CaptureInfo{}, 1, &f)
		}
	}); n != 0 {
		t.Errorf("%v allocations decoding %d plain frames, want 0", n, len(plain))
	}
	// The others stop allocating once their slices have grown.
	if n := testing.AllocsPerRun(100, func() {
		for _, c := range interesting {
			if err := d.Decode(c.data, gopacket.CaptureInfo{}, 1, &f); err != nil {
				panic(err)
			}
		}
	}); n != 0 {
		t.Errorf("%v allocations per round of %d VRRP/IGMP/ARP/ND/MLD frames after warm-up, want 0", n, len(interesting))
	}
}
