package decode

import (
	"bytes"
	"net"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// VRRP test vectors. The checksums were verified with Wireshark's VRRP
// dissector (vrrp.checksum.status), with and without its
// vrrp.v3_checksum_as_in_v2 preference.
var (
	vrrpV2Pass = []byte{
		0x21, 0x33, 0x64, 0x01, 0x01, 0x01, 0x5b, 0x71, // v2 advert, VRID 51, prio 100, 1 addr, auth 1, 1 s
		0xc0, 0xa8, 0x21, 0x64, // 192.168.33.100
		's', 'e', 'c', 'r', 'e', 't', 0x00, 0x00,
	}
	vrrpV3IPv4 = []byte{
		0x31, 0x33, 0x64, 0x02, 0x00, 0x64, 0xe3, 0x47, // v3, VRID 51, prio 100, 2 addrs, 100 cs
		0xc0, 0xa8, 0x21, 0x64, 0xc0, 0xa8, 0x21, 0xc8, // 192.168.33.100, .200
	}
	vrrpV3IPv6 = []byte{
		0x31, 0x07, 0xc8, 0x01, 0x00, 0x64, 0xd9, 0xba, // v3, VRID 7, prio 200, 1 addr, 100 cs
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00, // 2001:db8::100
	}
	// A VRRPv3 message whose checksum covers the message only.
	vrrpV3V2Style = []byte{
		0x31, 0x33, 0x64, 0x01, 0x00, 0x64, 0x88, 0x5a,
		0xc0, 0xa8, 0x21, 0x64,
	}
	// A VRRPv2 advert with auth type 0 that ends after its address list.
	vrrpV2NoAuth = []byte{
		0x21, 0x33, 0x64, 0x01, 0x00, 0x01, 0x98, 0xbd, // v2, VRID 51, prio 100, 1 addr, auth 0, 1 s
		0xc0, 0xa8, 0x21, 0x64,
	}
	// A VRRPv2 advert with Cisco's MD5 auth type 254.
	vrrpV2CiscoMD5 = []byte{
		0x21, 0x33, 0x64, 0x01, 0xfe, 0x01, 0x8a, 0xa8, // auth 254
		0xc0, 0xa8, 0x21, 0x64,
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
	}
)

var (
	vrrpSrc4 = netip.MustParseAddr("192.168.33.101")
	vrrpDst4 = netip.MustParseAddr("224.0.0.18")
	vrrpSrc6 = netip.MustParseAddr("fe80::1")
	vrrpDst6 = netip.MustParseAddr("ff02::12")
)

func addrs(s ...string) []netip.Addr {
	out := make([]netip.Addr, len(s))
	for i, a := range s {
		out[i] = netip.MustParseAddr(a)
	}
	return out
}

// vrrpFields is the comparable part of a decoded VRRP layer.
type vrrpFields struct {
	Version, Type, VRID, Priority, CountAddr, AuthType uint8
	AuthData                                           [8]byte
	NoAuthData                                         bool
	AdverInt, Checksum                                 uint16
	IPv6                                               bool
	Addrs                                              []netip.Addr
}

func vrrpOf(v *VRRP) vrrpFields {
	return vrrpFields{v.Version, v.Type, v.VRID, v.Priority, v.CountAddr, v.AuthType,
		v.AuthData, v.NoAuthData, v.AdverInt, v.Checksum, v.IPv6, append([]netip.Addr(nil), v.Addrs...)}
}

func TestVRRPRoundTrip(t *testing.T) {
	tests := []struct {
		name     string
		wire     []byte
		ipv6     bool
		src, dst netip.Addr
		want     vrrpFields
		interval time.Duration
		password string
	}{
		{
			name: "v2 simple password", wire: vrrpV2Pass, src: vrrpSrc4, dst: vrrpDst4,
			want: vrrpFields{Version: 2, Type: 1, VRID: 51, Priority: 100, CountAddr: 1, AuthType: 1,
				AuthData: [8]byte{'s', 'e', 'c', 'r', 'e', 't'}, AdverInt: 1, Checksum: 0x5b71,
				Addrs: addrs("192.168.33.100")},
			interval: time.Second, password: "secret",
		},
		{
			name: "v2 auth type 0 without authentication data", wire: vrrpV2NoAuth, src: vrrpSrc4, dst: vrrpDst4,
			want: vrrpFields{Version: 2, Type: 1, VRID: 51, Priority: 100, CountAddr: 1, NoAuthData: true,
				AdverInt: 1, Checksum: 0x98bd, Addrs: addrs("192.168.33.100")},
			interval: time.Second,
		},
		{
			name: "v2 cisco md5", wire: vrrpV2CiscoMD5, src: vrrpSrc4, dst: vrrpDst4,
			want: vrrpFields{Version: 2, Type: 1, VRID: 51, Priority: 100, CountAddr: 1, AuthType: VRRPAuthCiscoMD5,
				AuthData: [8]byte{1, 2, 3, 4, 5, 6, 7, 8}, AdverInt: 1, Checksum: 0x8aa8, Addrs: addrs("192.168.33.100")},
			interval: time.Second, password: "\x01\x02\x03\x04\x05\x06\x07\x08",
		},
		{
			name: "v3 IPv4", wire: vrrpV3IPv4, src: vrrpSrc4, dst: vrrpDst4,
			want: vrrpFields{Version: 3, Type: 1, VRID: 51, Priority: 100, CountAddr: 2,
				AdverInt: 100, Checksum: 0xe347, Addrs: addrs("192.168.33.100", "192.168.33.200")},
			interval: time.Second,
		},
		{
			name: "v3 IPv6", wire: vrrpV3IPv6, ipv6: true, src: vrrpSrc6, dst: vrrpDst6,
			want: vrrpFields{Version: 3, Type: 1, VRID: 7, Priority: 200, CountAddr: 1,
				AdverInt: 100, Checksum: 0xd9ba, IPv6: true, Addrs: addrs("2001:db8::100")},
			interval: time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &VRRP{IPv6: tt.ipv6}
			if err := v.DecodeFromBytes(tt.wire, gopacket.NilDecodeFeedback); err != nil {
				t.Fatalf("DecodeFromBytes: %v", err)
			}
			if got := vrrpOf(v); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("decoded\n got %+v\nwant %+v", got, tt.want)
			}
			if got := v.Interval(); got != tt.interval {
				t.Errorf("Interval() = %v, want %v", got, tt.interval)
			}
			if got := v.AuthPassword(); got != tt.password {
				t.Errorf("AuthPassword() = %q, want %q", got, tt.password)
			}
			if !bytes.Equal(v.Contents, tt.wire) || len(v.Payload) != 0 {
				t.Errorf("Contents/Payload = %x/%x, want all in Contents", v.Contents, v.Payload)
			}
			if got := v.NextLayerType(); got != gopacket.LayerTypeZero {
				t.Errorf("NextLayerType() = %v, want Zero", got)
			}
			if got := VerifyChecksum(tt.wire, tt.src, tt.dst); got != ChecksumOK {
				t.Errorf("VerifyChecksum = %v, want ok", got)
			}

			// Serialize from the fields with a wrong count and checksum:
			// FixLengths and ComputeChecksums must restore the wire bytes.
			s := &VRRP{Version: tt.want.Version, Type: tt.want.Type, VRID: tt.want.VRID,
				Priority: tt.want.Priority, CountAddr: 99, AuthType: tt.want.AuthType,
				AuthData: tt.want.AuthData, NoAuthData: tt.want.NoAuthData, AdverInt: tt.want.AdverInt, Checksum: 0xdead,
				IPv6: tt.ipv6, Addrs: tt.want.Addrs}
			s.SetChecksumAddrs(tt.src, tt.dst)
			buf := gopacket.NewSerializeBuffer()
			if err := s.SerializeTo(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}); err != nil {
				t.Fatalf("SerializeTo: %v", err)
			}
			if !bytes.Equal(buf.Bytes(), tt.wire) {
				t.Errorf("serialized\n got %x\nwant %x", buf.Bytes(), tt.wire)
			}
			// Without options the fields go out as they are.
			buf = gopacket.NewSerializeBuffer()
			if err := v.SerializeTo(buf, gopacket.SerializeOptions{}); err != nil {
				t.Fatalf("SerializeTo without options: %v", err)
			}
			if !bytes.Equal(buf.Bytes(), tt.wire) {
				t.Errorf("re-serialized\n got %x\nwant %x", buf.Bytes(), tt.wire)
			}
		})
	}
}

func TestVRRPDecodeReusesAddrs(t *testing.T) {
	v := &VRRP{}
	if err := v.DecodeFromBytes(vrrpV3IPv4, gopacket.NilDecodeFeedback); err != nil {
		t.Fatal(err)
	}
	first := &v.Addrs[0]
	if err := v.DecodeFromBytes(vrrpV2Pass, gopacket.NilDecodeFeedback); err != nil {
		t.Fatal(err)
	}
	if &v.Addrs[0] != first {
		t.Error("Addrs was reallocated although it had room")
	}
	if len(v.Addrs) != 1 || v.Addrs[0] != netip.MustParseAddr("192.168.33.100") {
		t.Errorf("Addrs = %v after the second decode", v.Addrs)
	}
	// v3 clears what only v2 has.
	v.IPv6 = false
	if err := v.DecodeFromBytes(vrrpV3IPv4, gopacket.NilDecodeFeedback); err != nil {
		t.Fatal(err)
	}
	if v.AuthType != 0 || v.AuthData != [8]byte{} {
		t.Errorf("v3 decode left AuthType %d AuthData %q", v.AuthType, v.AuthData)
	}
	// The decoded message must not alias the input past Contents.
	data := append([]byte(nil), vrrpV2Pass...)
	if err := v.DecodeFromBytes(data, gopacket.NilDecodeFeedback); err != nil {
		t.Fatal(err)
	}
	clear(data)
	if v.Addrs[0] != netip.MustParseAddr("192.168.33.100") || v.AuthPassword() != "secret" {
		t.Errorf("fields changed with the input buffer: %v %q", v.Addrs, v.AuthPassword())
	}
}

func TestVRRPTrailingBytes(t *testing.T) {
	data := append(append([]byte(nil), vrrpV3IPv4...), 0xaa, 0xbb)
	v := &VRRP{}
	if err := v.DecodeFromBytes(data, gopacket.NilDecodeFeedback); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(v.Payload, []byte{0xaa, 0xbb}) || v.NextLayerType() != gopacket.LayerTypePayload {
		t.Errorf("Payload = %x, NextLayerType = %v; want aabb, Payload", v.Payload, v.NextLayerType())
	}
}

func TestVRRPMalformed(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		ipv6 bool
		want string
	}{
		{"empty", nil, false, "vrrp: message of 0 bytes is shorter than the 8-byte header"},
		{"version 1", append([]byte{0x11}, vrrpV2Pass[1:]...), false, "vrrp: version 1 is neither 2 nor 3"},
		{"version 4", append([]byte{0x41}, vrrpV3IPv4[1:]...), false, "vrrp: version 4 is neither 2 nor 3"},
		{"v2 count overruns", []byte{0x21, 51, 100, 4, 1, 1, 0, 0, 192, 168, 33, 100, 0, 0, 0, 0, 0, 0, 0, 0},
			false, "vrrp: address count 4 needs 24 bytes with the authentication data, 12 remain"},
		{"v2 auth type 0 count overruns", []byte{0x21, 51, 100, 4, 0, 1, 0, 0, 192, 168, 33, 100, 0, 0, 0, 0, 0, 0, 0, 0},
			false, "vrrp: address count 4 needs 16 bytes, 12 remain"},
		{"v2 pass without authentication data", []byte{0x21, 51, 100, 1, 1, 1, 0, 0, 192, 168, 33, 100},
			false, "vrrp: auth type 1 (pass) needs 8 bytes of authentication data after the addresses, 0 remain: only auth type 0 may leave them out"},
		{"v2 ah with half the authentication data", []byte{0x21, 51, 100, 1, 2, 1, 0, 0, 192, 168, 33, 100, 0, 0, 0, 0},
			false, "vrrp: auth type 2 (ah) needs 8 bytes of authentication data after the addresses, 4 remain: only auth type 0 may leave them out"},
		{"v2 cisco md5 without authentication data", vrrpV2CiscoMD5[:12],
			false, "vrrp: auth type 254 (cisco-md5) needs 8 bytes of authentication data after the addresses, 0 remain: only auth type 0 may leave them out"},
		{"v2 auth type 0 with part of the authentication data", []byte{0x21, 51, 100, 1, 0, 1, 0, 0, 192, 168, 33, 100, 0, 0, 0},
			false, "vrrp: 3 bytes of authentication data after the addresses: auth type 0 sends 8 or none"},
		{"v3 count overruns", []byte{0x31, 51, 100, 3, 0, 100, 0, 0, 192, 168, 33, 100, 192, 168, 33, 101, 192, 168, 33},
			false, "vrrp: address count 3 needs 12 bytes, 11 remain"},
		{"v3 count 255", append([]byte{0x31, 51, 100, 255}, vrrpV3IPv4[4:]...), false, "vrrp: address count 255 needs 1020 bytes, 8 remain"},
		{"v3 IPv6 count overruns", vrrpV3IPv4, true, "vrrp: address count 2 needs 32 bytes, 8 remain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &VRRP{IPv6: tt.ipv6}
			err := v.DecodeFromBytes(tt.data, gopacket.NilDecodeFeedback)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestVRRPEveryTruncationFails(t *testing.T) {
	for _, tt := range []struct {
		name string
		wire []byte
		ipv6 bool
	}{{"v2", vrrpV2Pass, false}, {"v2 without auth data", vrrpV2NoAuth, false}, {"v2 cisco md5", vrrpV2CiscoMD5, false},
		{"v3 IPv4", vrrpV3IPv4, false}, {"v3 IPv6", vrrpV3IPv6, true}} {
		for n := 0; n < len(tt.wire); n++ {
			v := &VRRP{IPv6: tt.ipv6}
			var fb truncationFeedback
			err := v.DecodeFromBytes(tt.wire[:n], &fb)
			if err == nil || !strings.HasPrefix(err.Error(), "vrrp: ") {
				t.Errorf("%s cut to %d bytes: error %v, want a vrrp: error", tt.name, n, err)
			}
			if !fb.truncated {
				t.Errorf("%s cut to %d bytes: SetTruncated not called", tt.name, n)
			}
		}
	}
}

func TestVerifyChecksum(t *testing.T) {
	flip := func(b []byte, i int) []byte {
		c := append([]byte(nil), b...)
		c[i] ^= 0x01
		return c
	}
	tests := []struct {
		name     string
		msg      []byte
		src, dst netip.Addr
		want     ChecksumStatus
	}{
		{"v2 ok", vrrpV2Pass, vrrpSrc4, vrrpDst4, ChecksumOK},
		{"v2 ok without addresses", vrrpV2Pass, netip.Addr{}, netip.Addr{}, ChecksumOK},
		{"v2 bad", flip(vrrpV2Pass, 2), vrrpSrc4, vrrpDst4, ChecksumBad},
		{"v3 IPv4 ok", vrrpV3IPv4, vrrpSrc4, vrrpDst4, ChecksumOK},
		{"v3 IPv4 wrong source", vrrpV3IPv4, netip.MustParseAddr("192.168.33.102"), vrrpDst4, ChecksumBad},
		{"v3 IPv4-mapped addresses", vrrpV3IPv4, netip.AddrFrom16(vrrpSrc4.As16()), netip.AddrFrom16(vrrpDst4.As16()), ChecksumOK},
		{"v3 IPv6 ok", vrrpV3IPv6, vrrpSrc6, vrrpDst6, ChecksumOK},
		{"v3 IPv6 bad", flip(vrrpV3IPv6, 20), vrrpSrc6, vrrpDst6, ChecksumBad},
		{"v3 v2-style", vrrpV3V2Style, vrrpSrc4, vrrpDst4, ChecksumV2Style},
		{"v3 without addresses", vrrpV3IPv4, netip.Addr{}, netip.Addr{}, ChecksumNotChecked},
		{"v3 mixed families", vrrpV3IPv4, vrrpSrc4, vrrpDst6, ChecksumNotChecked},
		{"too short", vrrpV2Pass[:7], vrrpSrc4, vrrpDst4, ChecksumNotChecked},
		{"version 5", append([]byte{0x51}, vrrpV2Pass[1:]...), vrrpSrc4, vrrpDst4, ChecksumNotChecked},
	}
	for _, tt := range tests {
		if got := VerifyChecksum(tt.msg, tt.src, tt.dst); got != tt.want {
			t.Errorf("%s: VerifyChecksum = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestVRRPSerializeErrors(t *testing.T) {
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	tests := []struct {
		name string
		v    VRRP
		want string
	}{
		{"version", VRRP{Version: 4}, "vrrp: cannot serialize version 4, only 2 and 3"},
		{"v2 interval", VRRP{Version: 2, AdverInt: 256}, "vrrp: VRRPv2 advertisement interval 256 s does not fit in 8 bits"},
		{"v3 interval", VRRP{Version: 3, AdverInt: 4096}, "vrrp: VRRPv3 advertisement interval 4096 cs does not fit in 12 bits"},
		{"v2 IPv6", VRRP{Version: 2, IPv6: true}, "vrrp: VRRPv2 carries IPv4 addresses only"},
		{"IPv6 in IPv4 list", VRRP{Version: 3, Addrs: addrs("2001:db8::1")}, "vrrp: address 0 (2001:db8::1) is not IPv4"},
		{"IPv4 in IPv6 list", VRRP{Version: 3, IPv6: true, Addrs: addrs("192.0.2.1")}, "vrrp: address 0 (192.0.2.1) is not IPv6"},
		{"v3 checksum without addresses", VRRP{Version: 3}, "vrrp: VRRPv3 checksum needs the IP addresses: call SetNetworkLayerForChecksum or SetChecksumAddrs"},
		{"pass without authentication data", VRRP{Version: 2, AuthType: 1, NoAuthData: true},
			"vrrp: auth type 1 (pass) cannot leave out the authentication data: only auth type 0 may"},
	}
	for _, tt := range tests {
		err := tt.v.SerializeTo(gopacket.NewSerializeBuffer(), opts)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestVRRPSetNetworkLayerForChecksum(t *testing.T) {
	ip4 := &layers.IPv4{SrcIP: net.IP(vrrpSrc4.AsSlice()), DstIP: net.IP(vrrpDst4.AsSlice())}
	ip6 := &layers.IPv6{SrcIP: net.IP(vrrpSrc6.AsSlice()), DstIP: net.IP(vrrpDst6.AsSlice())}
	for _, tt := range []struct {
		ip   gopacket.NetworkLayer
		v    VRRP
		wire []byte
	}{
		{ip4, VRRP{Version: 3, Type: 1, VRID: 51, Priority: 100, AdverInt: 100, Addrs: addrs("192.168.33.100", "192.168.33.200")}, vrrpV3IPv4},
		{ip6, VRRP{Version: 3, Type: 1, VRID: 7, Priority: 200, AdverInt: 100, IPv6: true, Addrs: addrs("2001:db8::100")}, vrrpV3IPv6},
	} {
		if err := tt.v.SetNetworkLayerForChecksum(tt.ip); err != nil {
			t.Fatal(err)
		}
		buf := gopacket.NewSerializeBuffer()
		if err := tt.v.SerializeTo(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), tt.wire) {
			t.Errorf("got %x, want %x", buf.Bytes(), tt.wire)
		}
	}
	var v VRRP
	if err := v.SetNetworkLayerForChecksum(&layers.IPv4{}); err == nil {
		t.Error("IPv4 layer without addresses: no error")
	}
}

// gopacket.NewPacket and DecodingLayerParser must hand IP protocol 112 to
// this package's layer, with the address family taken from the length.
func TestVRRPThroughGopacket(t *testing.T) {
	Register()
	for _, tt := range []struct {
		name string
		ip   gopacket.SerializableLayer
		msg  []byte
		ipv6 bool
	}{
		{"IPv4", &layers.IPv4{Version: 4, TTL: 255, Protocol: layers.IPProtocolVRRP, SrcIP: vrrpSrc4.AsSlice(), DstIP: vrrpDst4.AsSlice()}, vrrpV3IPv4, false},
		{"IPv6", &layers.IPv6{Version: 6, HopLimit: 255, NextHeader: layers.IPProtocolVRRP, SrcIP: vrrpSrc6.AsSlice(), DstIP: vrrpDst6.AsSlice()}, vrrpV3IPv6, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			buf := gopacket.NewSerializeBuffer()
			err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
				&layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{1, 0, 0x5e, 0, 0, 0x12},
					EthernetType: map[bool]layers.EthernetType{false: layers.EthernetTypeIPv4, true: layers.EthernetTypeIPv6}[tt.ipv6]},
				tt.ip, gopacket.Payload(tt.msg))
			if err != nil {
				t.Fatal(err)
			}
			p := gopacket.NewPacket(buf.Bytes(), layers.LinkTypeEthernet, gopacket.Default)
			if el := p.ErrorLayer(); el != nil {
				t.Fatalf("decode error: %v", el.Error())
			}
			l, ok := p.Layer(LayerTypeVRRP).(*VRRP)
			if !ok {
				t.Fatalf("no VRRP layer in %v", p.Layers())
			}
			if l.IPv6 != tt.ipv6 || l.Version != 3 || len(l.Addrs) != int(l.CountAddr) {
				t.Errorf("NewPacket gave %+v", vrrpOf(l))
			}

			var eth layers.Ethernet
			var ip4 layers.IPv4
			var ip6 layers.IPv6
			v := VRRP{IPv6: tt.ipv6}
			parser := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &ip4, &ip6, &v)
			var decoded []gopacket.LayerType
			if err := parser.DecodeLayers(buf.Bytes(), &decoded); err != nil {
				t.Fatalf("DecodingLayerParser: %v", err)
			}
			if decoded[len(decoded)-1] != LayerTypeVRRP || !bytes.Equal(v.Contents, tt.msg) {
				t.Errorf("DecodingLayerParser decoded %v, VRRP contents %x", decoded, v.Contents)
			}
		})
	}
}

func TestChecksumStatusString(t *testing.T) {
	for s, want := range map[ChecksumStatus]string{ChecksumNotChecked: "not-checked", ChecksumOK: "ok", ChecksumBad: "bad", ChecksumV2Style: "v2-style"} {
		if s.String() != want {
			t.Errorf("%d.String() = %q, want %q", s, s.String(), want)
		}
	}
}

// An auth-type-0 advert cut after its addresses decodes as one sent without
// authentication data, its checksum over the bytes present; the whole
// advert keeps its 8 octets. A v3 advert never has NoAuthData.
func TestVRRPNoAuthData(t *testing.T) {
	full := []byte{0x21, 0x33, 0x64, 0x01, 0x00, 0x01, 0x98, 0xbd, 0xc0, 0xa8, 0x21, 0x64, 0, 0, 0, 0, 0, 0, 0, 0}
	v := &VRRP{}
	if err := v.DecodeFromBytes(full, gopacket.NilDecodeFeedback); err != nil || v.NoAuthData || len(v.Contents) != 20 {
		t.Errorf("with its authentication data: err %v, NoAuthData %v, %d bytes of contents", err, v.NoAuthData, len(v.Contents))
	}
	if err := v.DecodeFromBytes(vrrpV2NoAuth, gopacket.NilDecodeFeedback); err != nil || !v.NoAuthData || len(v.Contents) != 12 {
		t.Errorf("without: err %v, NoAuthData %v, %d bytes of contents", err, v.NoAuthData, len(v.Contents))
	}
	if got := VerifyChecksum(vrrpV2NoAuth, vrrpSrc4, vrrpDst4); got != ChecksumOK {
		t.Errorf("checksum over the bytes present: %v", got)
	}
	if err := v.DecodeFromBytes(vrrpV3IPv4, gopacket.NilDecodeFeedback); err != nil || v.NoAuthData {
		t.Errorf("v3 after a v2 without auth data: err %v, NoAuthData %v", err, v.NoAuthData)
	}
	// Serializing a v3 advert ignores the flag.
	buf := gopacket.NewSerializeBuffer()
	s := &VRRP{Version: 3, Type: 1, VRID: 51, Priority: 100, AdverInt: 100, NoAuthData: true, Addrs: addrs("192.168.33.100", "192.168.33.200")}
	s.SetChecksumAddrs(vrrpSrc4, vrrpDst4)
	if err := s.SerializeTo(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}); err != nil || !bytes.Equal(buf.Bytes(), vrrpV3IPv4) {
		t.Errorf("v3 with NoAuthData: err %v, %x", err, buf.Bytes())
	}
}

func TestAuthTypeName(t *testing.T) {
	for typ, want := range map[uint8]string{0: "none", 1: "pass", 2: "ah", 3: "type-3", 253: "type-253", 254: "cisco-md5", 255: "type-255"} {
		if got := AuthTypeName(typ); got != want {
			t.Errorf("AuthTypeName(%d) = %q, want %q", typ, got, want)
		}
	}
}
