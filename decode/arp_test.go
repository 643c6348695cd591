package decode

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
)

var (
	macClient = MAC{0x02, 0, 0, 0, 0, 0x02}
	macNat1   = MAC{0x02, 0, 0, 0, 0, 0x65}
	macBcast  = MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	ipClient  = netip.MustParseAddr("192.168.33.2")
	ipVIP     = netip.MustParseAddr("192.168.33.100")
)

const arpHeader = "0001 0800 06 04"

var (
	arpRequest     = unhex(arpHeader + "0001 020000000002 c0a82102 000000000000 c0a82164")
	arpReply       = unhex(arpHeader + "0002 020000000065 c0a82164 020000000002 c0a82102")
	arpProbe       = unhex(arpHeader + "0001 020000000065 00000000 000000000000 c0a82164")
	arpAnnounce    = unhex(arpHeader + "0001 020000000065 c0a82164 000000000000 c0a82164")
	arpGratuitous  = unhex(arpHeader + "0002 020000000065 c0a82164 ffffffffffff c0a82164")
	arpPaddedReply = append(append([]byte(nil), arpReply...), make([]byte, 18)...)
)

func TestARPRoundTrip(t *testing.T) {
	tests := []struct {
		name       string
		wire       []byte
		want       ARP
		kind       ARPKind
		gratuitous bool
	}{
		{"request", arpRequest, ARP{Operation: 1, SenderMAC: macClient, SenderIP: ipClient, TargetIP: ipVIP}, ARPRequest, false},
		{"reply", arpReply, ARP{Operation: 2, SenderMAC: macNat1, SenderIP: ipVIP, TargetMAC: macClient, TargetIP: ipClient}, ARPReply, false},
		{"probe", arpProbe, ARP{Operation: 1, SenderMAC: macNat1, SenderIP: netip.IPv4Unspecified(), TargetIP: ipVIP}, ARPProbe, false},
		{"announcement", arpAnnounce, ARP{Operation: 1, SenderMAC: macNat1, SenderIP: ipVIP, TargetIP: ipVIP}, ARPAnnouncement, true},
		{"gratuitous reply", arpGratuitous, ARP{Operation: 2, SenderMAC: macNat1, SenderIP: ipVIP, TargetMAC: macBcast, TargetIP: ipVIP}, ARPGratuitousReply, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &ARP{}
			if err := a.DecodeFromBytes(tt.wire, gopacket.NilDecodeFeedback); err != nil {
				t.Fatalf("DecodeFromBytes: %v", err)
			}
			if a.Operation != tt.want.Operation || a.SenderMAC != tt.want.SenderMAC || a.SenderIP != tt.want.SenderIP ||
				a.TargetMAC != tt.want.TargetMAC || a.TargetIP != tt.want.TargetIP {
				t.Errorf("decoded\n got op %d %v %v %v %v\nwant op %d %v %v %v %v", a.Operation, a.SenderMAC, a.SenderIP, a.TargetMAC, a.TargetIP,
					tt.want.Operation, tt.want.SenderMAC, tt.want.SenderIP, tt.want.TargetMAC, tt.want.TargetIP)
			}
			if a.Kind() != tt.kind || a.IsGratuitous() != tt.gratuitous {
				t.Errorf("Kind() = %v, IsGratuitous() = %v; want %v, %v", a.Kind(), a.IsGratuitous(), tt.kind, tt.gratuitous)
			}
			if !bytes.Equal(a.Contents, tt.wire) || a.Payload != nil || a.NextLayerType() != gopacket.LayerTypeZero {
				t.Errorf("Contents %x Payload %x NextLayerType %v", a.Contents, a.Payload, a.NextLayerType())
			}
			buf := gopacket.NewSerializeBuffer()
			if err := tt.want.SerializeTo(buf, gopacket.SerializeOptions{}); err != nil {
				t.Fatalf("SerializeTo: %v", err)
			}
			if !bytes.Equal(buf.Bytes(), tt.wire) {
				t.Errorf("serialized\n got %x\nwant %x", buf.Bytes(), tt.wire)
			}
		})
	}
}

func TestARPPadding(t *testing.T) {
	a := &ARP{}
	if err := a.DecodeFromBytes(arpPaddedReply, gopacket.NilDecodeFeedback); err != nil {
		t.Fatal(err)
	}
	if len(a.Contents) != 28 || len(a.Payload) != 0 || a.Kind() != ARPReply {
		t.Errorf("padded reply: %d bytes of contents, %d of payload, kind %v", len(a.Contents), len(a.Payload), a.Kind())
	}
	// An unset sender IP is written as 0.0.0.0: a probe.
	buf := gopacket.NewSerializeBuffer()
	if err := (&ARP{Operation: 1, SenderMAC: macNat1, TargetIP: ipVIP}).SerializeTo(buf, gopacket.SerializeOptions{}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), arpProbe) {
		t.Errorf("probe from an unset sender IP: %x", buf.Bytes())
	}
}

func TestARPMalformed(t *testing.T) {
	with := func(i int, b ...byte) []byte {
		c := append([]byte(nil), arpRequest...)
		copy(c[i:], b)
		return c
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"hardware type", with(0, 0, 6), "arp: hardware type 6 is not Ethernet (1)"},
		{"protocol type", with(2, 0x86, 0xdd), "arp: protocol type 0x86dd is not IPv4 (0x0800)"},
		{"hardware length", with(4, 8), "arp: address lengths 8/4 are not Ethernet/IPv4 (6/4)"},
		{"protocol length", with(5, 16), "arp: address lengths 6/16 are not Ethernet/IPv4 (6/4)"},
		{"operation", with(6, 0, 3), "arp: operation 3 is neither request (1) nor reply (2)"},
	}
	for _, tt := range tests {
		err := (&ARP{}).DecodeFromBytes(tt.data, gopacket.NilDecodeFeedback)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
	for n := 0; n < len(arpRequest); n++ {
		err := (&ARP{}).DecodeFromBytes(arpRequest[:n], gopacket.NilDecodeFeedback)
		if err == nil || !strings.HasPrefix(err.Error(), "arp: packet of ") {
			t.Errorf("cut to %d bytes: error %v", n, err)
		}
	}
	err := (&ARP{Operation: 1, SenderIP: netip.MustParseAddr("2001:db8::1")}).SerializeTo(gopacket.NewSerializeBuffer(), gopacket.SerializeOptions{})
	if err == nil || err.Error() != "arp: sender IP 2001:db8::1 is not IPv4" {
		t.Errorf("serializing an IPv6 sender: %v", err)
	}
}

func TestARPKindString(t *testing.T) {
	for k, want := range map[ARPKind]string{ARPRequest: "request", ARPReply: "reply", ARPProbe: "probe",
		ARPAnnouncement: "announcement", ARPGratuitousReply: "gratuitous-reply"} {
		if k.String() != want {
			t.Errorf("ARPKind(%d).String() = %q, want %q", k, k.String(), want)
		}
	}
}
