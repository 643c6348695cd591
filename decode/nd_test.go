package decode

import (
	"bytes"
	"net"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

var (
	ll1          = netip.MustParseAddr("fe80::1") // nat1's link-local address
	ll2          = netip.MustParseAddr("fe80::2") // the client's
	allNodes     = netip.MustParseAddr("ff02::1")
	allRouters   = netip.MustParseAddr("ff02::2")
	solicitedVIP = netip.MustParseAddr("ff02::1:ff00:100") // solicited-node address of vip6
	vip6         = netip.MustParseAddr("2001:db8::100")
	macNat2      = MAC{0x02, 0, 0, 0, 0, 0x66}
)

// ND test vectors, each with the addresses its checksum covers; tshark
// reads them the same way (TestGeneratedCapture).
var (
	ndNAUnsolicited = unhex("8800a6ff a0000000 20010db8000000000000000000000100 0201 020000000065") // R O, target LL
	ndNASolicited   = unhex("88006780 e0000000 20010db8000000000000000000000100 0201 020000000065") // R S O, target LL
	ndNS            = unhex("87004961 00000000 20010db8000000000000000000000100 0101 020000000002") // source LL
	ndNSDAD         = unhex("87004aef 00000000 20010db8000000000000000000000100")                   // from ::, no option
	ndRA            = unhex("8600ecc5 40c00708 00000000 00000000" +                                 // hop limit 64, M O, 1800 s
		"0501 0000 000005dc" + // MTU 1500
		"0304 40c0 00278d00 00093a80 00000000 20010db8000000000000000000000000" + // prefix 2001:db8::/64
		"0101 020000000065") // source LL
	ndRS       = unhex("85007a2a 00000000 0101 020000000002")
	ndRedirect = unhex("89004853 00000000 fe800000000000000000000000000003 20010db8000000000000000000000099 0201 020000000066")
)

// ndVector is an ND test vector with the IPv6 addresses of its packet.
type ndVector struct {
	name     string
	wire     []byte
	src, dst netip.Addr
}

var ndVectors = []ndVector{
	{"unsolicited NA", ndNAUnsolicited, ll1, allNodes},
	{"solicited NA", ndNASolicited, ll1, ll2},
	{"NS", ndNS, ll2, solicitedVIP},
	{"NS for DAD", ndNSDAD, netip.IPv6Unspecified(), solicitedVIP},
	{"RA", ndRA, ll1, allNodes},
	{"RS", ndRS, ll2, allRouters},
	{"redirect", ndRedirect, ll1, ll2},
}

// ndOf is the comparable part of a decoded ND layer.
func ndOf(n *ND) ND {
	c := *n
	c.BaseLayer = layers.BaseLayer{}
	c.ckSrc, c.ckDst = netip.Addr{}, netip.Addr{}
	return c
}

func TestNDRoundTrip(t *testing.T) {
	tests := []struct {
		vec         ndVector
		want        ND
		name        string
		unsolicited bool
		// otherOptions: the wire has options this layer does not keep.
		otherOptions bool
	}{
		{vec: ndVectors[0], name: "neighbour advertisement", unsolicited: true,
			want: ND{Type: 136, Checksum: 0xa6ff, Router: true, Override: true, Target: vip6, TargetLL: macNat1, HasTargetLL: true}},
		{vec: ndVectors[1], name: "neighbour advertisement",
			want: ND{Type: 136, Checksum: 0x6780, Router: true, Solicited: true, Override: true, Target: vip6, TargetLL: macNat1, HasTargetLL: true}},
		{vec: ndVectors[2], name: "neighbour solicitation",
			want: ND{Type: 135, Checksum: 0x4961, Target: vip6, SourceLL: macClient, HasSourceLL: true}},
		{vec: ndVectors[3], name: "neighbour solicitation",
			want: ND{Type: 135, Checksum: 0x4aef, Target: vip6}},
		{vec: ndVectors[4], name: "router advertisement", otherOptions: true,
			want: ND{Type: 134, Checksum: 0xecc5, CurHopLimit: 64, ManagedFlag: true, OtherFlag: true, RouterLifetime: 1800,
				SourceLL: macNat1, HasSourceLL: true}},
		{vec: ndVectors[5], name: "router solicitation",
			want: ND{Type: 133, Checksum: 0x7a2a, SourceLL: macClient, HasSourceLL: true}},
		{vec: ndVectors[6], name: "redirect",
			want: ND{Type: 137, Checksum: 0x4853, Target: netip.MustParseAddr("fe80::3"), Destination: netip.MustParseAddr("2001:db8::99"),
				TargetLL: macNat2, HasTargetLL: true}},
	}
	for _, tt := range tests {
		t.Run(tt.vec.name, func(t *testing.T) {
			n := &ND{}
			if err := n.DecodeFromBytes(tt.vec.wire, gopacket.NilDecodeFeedback); err != nil {
				t.Fatalf("DecodeFromBytes: %v", err)
			}
			if got := ndOf(n); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("decoded\n got %+v\nwant %+v", got, tt.want)
			}
			if !bytes.Equal(n.Contents, tt.vec.wire) || len(n.Payload) != 0 || n.NextLayerType() != gopacket.LayerTypeZero {
				t.Errorf("Contents %x Payload %x NextLayerType %v", n.Contents, n.Payload, n.NextLayerType())
			}
			if n.IsUnsolicitedNA() != tt.unsolicited || n.TypeName() != tt.name {
				t.Errorf("IsUnsolicitedNA() = %v, TypeName() = %q", n.IsUnsolicitedNA(), n.TypeName())
			}
			if got := verifyICMPv6Checksum(tt.vec.wire, tt.vec.src, tt.vec.dst); got != ChecksumOK {
				t.Errorf("checksum %v", got)
			}

			// From the fields, with a wrong checksum to recompute.
			s := tt.want
			s.Checksum = 0xdead
			s.SetChecksumAddrs(tt.vec.src, tt.vec.dst)
			buf := gopacket.NewSerializeBuffer()
			if err := s.SerializeTo(buf, gopacket.SerializeOptions{ComputeChecksums: true}); err != nil {
				t.Fatalf("SerializeTo: %v", err)
			}
			if tt.otherOptions {
				// The options this layer does not keep are left out: the
				// rest decodes the same, under a checksum that verifies.
				n2 := &ND{}
				if err := n2.DecodeFromBytes(buf.Bytes(), gopacket.NilDecodeFeedback); err != nil {
					t.Fatal(err)
				}
				want := tt.want
				want.Checksum = n2.Checksum
				if got := ndOf(n2); !reflect.DeepEqual(got, want) || len(buf.Bytes()) >= len(tt.vec.wire) {
					t.Errorf("re-decoded from %d bytes\n got %+v\nwant %+v", len(buf.Bytes()), got, want)
				}
				if got := verifyICMPv6Checksum(buf.Bytes(), tt.vec.src, tt.vec.dst); got != ChecksumOK {
					t.Errorf("serialized checksum %v", got)
				}
				return
			}
			if !bytes.Equal(buf.Bytes(), tt.vec.wire) {
				t.Errorf("serialized\n got %x\nwant %x", buf.Bytes(), tt.vec.wire)
			}
			// Without options the fields go out as they are.
			buf = gopacket.NewSerializeBuffer()
			if err := n.SerializeTo(buf, gopacket.SerializeOptions{}); err != nil || !bytes.Equal(buf.Bytes(), tt.vec.wire) {
				t.Errorf("re-serialized: err %v\n got %x\nwant %x", err, buf.Bytes(), tt.vec.wire)
			}
		})
	}
}

// The link-layer address options count where RFC 4861 gives them a
// meaning, the first of each, and only as Ethernet addresses.
func TestNDOptions(t *testing.T) {
	na := "8800 0000 20000000 20010db8000000000000000000000100"
	ns := "8700 0000 00000000 20010db8000000000000000000000100"
	tests := []struct {
		name                     string
		wire                     string
		sourceLL, targetLL       MAC
		hasSourceLL, hasTargetLL bool
	}{
		{"NA ignores a source LL", na + "0101 020000000002", MAC{}, MAC{}, false, false},
		{"NS ignores a target LL", ns + "0201 020000000065", MAC{}, MAC{}, false, false},
		{"NA takes the first target LL", na + "0201 020000000065 0201 020000000066", MAC{}, macNat1, false, true},
		{"NS takes the first source LL", ns + "0101 020000000002 0101 020000000065", macClient, MAC{}, true, false},
		{"a target LL of 16 bytes is not Ethernet", na + "0202 020000000065 0000000000000000", MAC{}, MAC{}, false, false},
		{"after an unknown option", na + "fe02 0000000000000000 000000000000 0201 020000000065", MAC{}, macNat1, false, true},
		{"NA with both, in either order", na + "0201 020000000065 0101 020000000002", MAC{}, macNat1, false, true},
	}
	for _, tt := range tests {
		n := &ND{}
		if err := n.DecodeFromBytes(unhex(tt.wire), gopacket.NilDecodeFeedback); err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if n.SourceLL != tt.sourceLL || n.TargetLL != tt.targetLL || n.HasSourceLL != tt.hasSourceLL || n.HasTargetLL != tt.hasTargetLL {
			t.Errorf("%s: source %v %v target %v %v", tt.name, n.SourceLL, n.HasSourceLL, n.TargetLL, n.HasTargetLL)
		}
		if len(n.Contents) != len(unhex(tt.wire)) {
			t.Errorf("%s: %d bytes of contents", tt.name, len(n.Contents))
		}
	}
}

func TestNDMalformed(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "nd: message of 0 bytes is shorter than the 4-byte ICMPv6 header"},
		{"echo request", unhex("80000000 12340001"), "nd: ICMPv6 type 128 is not a neighbour discovery message (133 to 137)"},
		{"MLD report", mldV1Report, "nd: ICMPv6 type 131 is not a neighbour discovery message (133 to 137)"},
		{"short NA", ndNASolicited[:23], "nd: neighbour advertisement of 23 bytes is shorter than its 24 fixed bytes"},
		{"short RA", ndRA[:15], "nd: router advertisement of 15 bytes is shorter than its 16 fixed bytes"},
		{"short redirect", ndRedirect[:39], "nd: redirect of 39 bytes is shorter than its 40 fixed bytes"},
		{"option of length 0", unhex("85000000 00000000 0100 020000000002"), "nd: option 1 (type 1) has length 0"},
		{"second option overruns", unhex("85000000 00000000 0101 020000000002 0502 000000000000"), "nd: option 2 (type 5) of 16 bytes overruns the message, 8 remain"},
		{"a byte after the options", unhex("85000000 00000000 0101 020000000002 01"), "nd: option 2: 1 byte left, too few for its type and length"},
	}
	for _, tt := range tests {
		var fb truncationFeedback
		err := (&ND{}).DecodeFromBytes(tt.data, &fb)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
}

// ndOptionEnds lists where the options of a whole ND message end: a cut
// there leaves a shorter message that is whole.
func ndOptionEnds(wire []byte) map[int]bool {
	ends := map[int]bool{}
	for off := ndFixedLen(wire[0]); off < len(wire); off += 8 * int(wire[off+1]) {
		ends[off] = true
	}
	return ends
}

// Every cut of a message fails, and says the data was truncated, but a
// cut between two options.
func TestNDEveryTruncationFails(t *testing.T) {
	for _, v := range ndVectors {
		ends := ndOptionEnds(v.wire)
		for n := 0; n < len(v.wire); n++ {
			var fb truncationFeedback
			nd := &ND{}
			err := nd.DecodeFromBytes(v.wire[:n], &fb)
			if ends[n] {
				if err != nil || len(nd.Contents) != n {
					t.Errorf("%s cut to %d bytes, between options: err %v", v.name, n, err)
				}
				continue
			}
			if err == nil || !strings.HasPrefix(err.Error(), "nd: ") || !fb.truncated {
				t.Errorf("%s cut to %d of %d bytes: error %v, truncated %v", v.name, n, len(v.wire), err, fb.truncated)
			}
		}
	}
}

func TestNDReuse(t *testing.T) {
	n := &ND{}
	n.SetChecksumAddrs(ll1, allNodes)
	if err := n.DecodeFromBytes(ndNASolicited, gopacket.NilDecodeFeedback); err != nil {
		t.Fatal(err)
	}
	if err := n.DecodeFromBytes(ndRS, gopacket.NilDecodeFeedback); err != nil {
		t.Fatal(err)
	}
	if want := (ND{Type: 133, Checksum: 0x7a2a, SourceLL: macClient, HasSourceLL: true}); !reflect.DeepEqual(ndOf(n), want) {
		t.Errorf("an RS after an NA: %+v", ndOf(n))
	}
	if n.ckSrc != ll1 || n.ckDst != allNodes {
		t.Errorf("decoding forgot the checksum addresses: %v %v", n.ckSrc, n.ckDst)
	}
	data := append([]byte(nil), ndNAUnsolicited...)
	if err := n.DecodeFromBytes(data, gopacket.NilDecodeFeedback); err != nil {
		t.Fatal(err)
	}
	clear(data)
	if n.Target != vip6 || n.TargetLL != macNat1 {
		t.Errorf("fields changed with the input buffer: %v %v", n.Target, n.TargetLL)
	}
	if a := testing.AllocsPerRun(100, func() {
		for _, v := range ndVectors {
			_ = n.DecodeFromBytes(v.wire, gopacket.NilDecodeFeedback)
		}
	}); a != 0 {
		t.Errorf("%v allocations decoding every vector, want 0", a)
	}
}

func TestNDSerializeErrors(t *testing.T) {
	opts := gopacket.SerializeOptions{ComputeChecksums: true}
	withAddrs := func(n ND, src, dst netip.Addr) ND { n.SetChecksumAddrs(src, dst); return n }
	tests := []struct {
		name string
		n    ND
		want string
	}{
		{"echo", ND{Type: 128}, "nd: cannot serialize ICMPv6 type 128: not a neighbour discovery message (133 to 137)"},
		{"IPv4 target", ND{Type: 136, Target: ipVIP}, "nd: target 192.168.33.100 is not IPv6"},
		{"IPv4 destination", ND{Type: 137, Target: vip6, Destination: ipVIP}, "nd: destination 192.168.33.100 is not IPv6"},
		{"checksum without addresses", ND{Type: 133},
			"nd: ICMPv6 checksum needs the IP addresses: call SetNetworkLayerForChecksum or SetChecksumAddrs"},
		{"checksum over IPv4 addresses", withAddrs(ND{Type: 133}, vrrpSrc4, vrrpDst4),
			"nd: ICMPv6 checksum addresses 192.168.33.101 and 224.0.0.18 are not both IPv6"},
	}
	for _, tt := range tests {
		err := tt.n.SerializeTo(gopacket.NewSerializeBuffer(), opts)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
	if err := (&ND{}).SetNetworkLayerForChecksum(&layers.IPv6{}); err == nil || err.Error() != "nd: IPv6 layer has no valid addresses (src <nil>, dst <nil>)" {
		t.Errorf("IPv6 layer without addresses: %v", err)
	}
}

// SerializeLayers with an IPv6 layer takes the checksum's addresses from it.
func TestNDSetNetworkLayerForChecksum(t *testing.T) {
	ip6 := &layers.IPv6{Version: 6, HopLimit: 255, NextHeader: layers.IPProtocolICMPv6, SrcIP: net.IP(ll1.AsSlice()), DstIP: net.IP(allNodes.AsSlice())}
	n := &ND{Type: 136, Router: true, Override: true, Target: vip6, TargetLL: macNat1, HasTargetLL: true}
	if err := n.SetNetworkLayerForChecksum(ip6); err != nil {
		t.Fatal(err)
	}
	data := serialize(t, ip6, n)
	if !bytes.Equal(data[40:], ndNAUnsolicited) {
		t.Errorf("got %x, want %x", data[40:], ndNAUnsolicited)
	}
}

func TestNDTypeNames(t *testing.T) {
	for typ, want := range map[uint8]string{133: "router solicitation", 134: "router advertisement", 135: "neighbour solicitation",
		136: "neighbour advertisement", 137: "redirect", 1: "ICMPv6 type 1"} {
		if got := (&ND{Type: typ}).TypeName(); got != want {
			t.Errorf("TypeName(%d) = %q, want %q", typ, got, want)
		}
	}
	if (&ND{Type: 135}).IsUnsolicitedNA() {
		t.Error("an NS is not an unsolicited NA")
	}
}

// gopacket.NewPacket hands ND and MLD messages to this package's layers
// and every other ICMPv6 message to gopacket's.
func TestICMPv6ThroughGopacket(t *testing.T) {
	Register()
	ip6 := func(dst netip.Addr, next layers.IPProtocol) *layers.IPv6 {
		return &layers.IPv6{Version: 6, HopLimit: 255, NextHeader: next, SrcIP: ll1.AsSlice(), DstIP: dst.AsSlice()}
	}
	tests := []struct {
		name string
		data []byte
		want gopacket.LayerType
	}{
		{"NA", serialize(t, eth(layers.EthernetTypeIPv6), ip6(allNodes, layers.IPProtocolICMPv6), gopacket.Payload(ndNAUnsolicited)), LayerTypeND},
		{"MLDv2 report behind hop-by-hop", serialize(t, eth(layers.EthernetTypeIPv6), ip6(mldv2Routers, layers.IPProtocolIPv6HopByHop),
			gopacket.Payload(hopByHopRouterAlert), gopacket.Payload(mldV2Join)), LayerTypeMLD},
		{"echo request", serialize(t, eth(layers.EthernetTypeIPv6), ip6(ll2, layers.IPProtocolICMPv6), gopacket.Payload{128, 0, 0, 0, 0x12, 0x34, 0, 1}), layers.LayerTypeICMPv6Echo},
	}
	for _, tt := range tests {
		p := gopacket.NewPacket(tt.data, layers.LinkTypeEthernet, gopacket.Default)
		if el := p.ErrorLayer(); el != nil {
			t.Errorf("%s: %v", tt.name, el.Error())
			continue
		}
		if p.Layer(tt.want) == nil {
			t.Errorf("%s: no %v layer in %v", tt.name, tt.want, p.Layers())
		}
	}
	// A DecodingLayerParser started on the ICMPv6 message uses the layer.
	var n ND
	parser := gopacket.NewDecodingLayerParser(LayerTypeND, &n)
	var decoded []gopacket.LayerType
	if err := parser.DecodeLayers(ndNASolicited, &decoded); err != nil || len(decoded) != 1 || !n.Solicited {
		t.Errorf("DecodingLayerParser: err %v, decoded %v, %+v", err, decoded, ndOf(&n))
	}
}
