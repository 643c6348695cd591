package decode

import (
	"bytes"
	"net/netip"
	"reflect"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// seedLayers adds to the corpus the bytes that want picks from each frame
// of the reference captures, plus extra seeds.
func seedLayers(f *testing.F, want func(fr *Frame) []byte, extra ...[]byte) {
	for _, path := range referenceCaptures(f) {
		lt, frames := readCapture(f, path)
		d, err := NewDecoder(lt)
		if err != nil {
			f.Fatal(err)
		}
		var fr Frame
		for i, c := range frames {
			if d.Decode(c.data, c.ci, uint64(i+1), &fr) != nil {
				continue
			}
			if b := want(&fr); b != nil {
				f.Add(append([]byte(nil), b...))
			}
		}
	}
	for _, e := range extra {
		f.Add(e)
	}
}

func FuzzVRRP(f *testing.F) {
	seedLayers(f, func(fr *Frame) []byte {
		if fr.VRRP != nil {
			return fr.VRRP.Contents
		}
		return nil
	}, vrrpV2Pass, vrrpV2NoAuth, vrrpV2CiscoMD5, vrrpV3IPv4, vrrpV3IPv6, vrrpV3V2Style)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, ipv6 := range []bool{false, true} {
			v := &VRRP{IPv6: ipv6}
			if v.DecodeFromBytes(data, gopacket.NilDecodeFeedback) != nil {
				continue
			}
			_ = VerifyChecksum(data, vrrpSrc4, vrrpDst4)
			if len(v.Addrs) != int(v.CountAddr) || len(v.Contents)+len(v.Payload) != len(data) {
				t.Fatalf("%d addrs for count %d; contents %d + payload %d of %d bytes", len(v.Addrs), v.CountAddr, len(v.Contents), len(v.Payload), len(data))
			}
			buf := gopacket.NewSerializeBuffer()
			if err := v.SerializeTo(buf, gopacket.SerializeOptions{}); err != nil {
				t.Fatalf("decoded message does not serialize: %v", err)
			}
			// Reserved bits (v3 above the 12-bit interval) are not kept;
			// everything else is.
			want := append([]byte(nil), v.Contents...)
			if v.Version == 3 {
				want[4] &= 0x0f
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Fatalf("re-serialized %x, decoded from %x", buf.Bytes(), want)
			}
			v2 := &VRRP{IPv6: ipv6}
			if err := v2.DecodeFromBytes(buf.Bytes(), gopacket.NilDecodeFeedback); err != nil {
				t.Fatalf("re-serialized message does not decode: %v", err)
			}
			if !reflect.DeepEqual(vrrpOf(v), vrrpOf(v2)) {
				t.Fatalf("round trip changed\n%+v\n%+v", vrrpOf(v), vrrpOf(v2))
			}
		}
	})
}

func FuzzIGMP(f *testing.F) {
	seedLayers(f, func(fr *Frame) []byte {
		if fr.IGMP != nil {
			return fr.IGMP.Contents
		}
		return nil
	}, igmpV3Join, igmpV3Leave, igmpV3AuxRec, igmpV3Six, igmpV2Report, igmpV2Leave, igmpV1Report,
		igmpV1Query, igmpV2Query, igmpV2GSQuery, igmpV3Query, igmpV3GSQuery)
	f.Fuzz(func(t *testing.T, data []byte) {
		g := &IGMP{}
		if g.DecodeFromBytes(data, gopacket.NilDecodeFeedback) != nil {
			return
		}
		if len(g.Contents)+len(g.Payload) != len(data) {
			t.Fatalf("contents %d + payload %d of %d bytes", len(g.Contents), len(g.Payload), len(data))
		}
		for i := range g.Records {
			_ = g.Records[i].Meaning()
		}
		_ = g.Meaning()
		buf := gopacket.NewSerializeBuffer()
		if err := g.SerializeTo(buf, gopacket.SerializeOptions{}); err != nil {
			return // a type this package does not write
		}
		g2 := &IGMP{}
		if err := g2.DecodeFromBytes(buf.Bytes(), gopacket.NilDecodeFeedback); err != nil {
			t.Fatalf("re-serialized %x does not decode: %v", buf.Bytes(), err)
		}
		if !reflect.DeepEqual(igmpOf(g), igmpOf(g2)) {
			t.Fatalf("round trip changed\n%+v\n%+v", igmpOf(g), igmpOf(g2))
		}
	})
}

func FuzzARP(f *testing.F) {
	seedLayers(f, func(fr *Frame) []byte {
		if fr.ARP != nil {
			return fr.ARP.Contents
		}
		return nil
	}, arpRequest, arpReply, arpProbe, arpAnnounce, arpGratuitous, arpPaddedReply)
	f.Fuzz(func(t *testing.T, data []byte) {
		a := &ARP{}
		if a.DecodeFromBytes(data, gopacket.NilDecodeFeedback) != nil {
			return
		}
		buf := gopacket.NewSerializeBuffer()
		if err := a.SerializeTo(buf, gopacket.SerializeOptions{}); err != nil {
			t.Fatalf("decoded packet does not serialize: %v", err)
		}
		if !bytes.Equal(buf.Bytes(), data[:28]) {
			t.Fatalf("re-serialized %x, decoded from %x", buf.Bytes(), data[:28])
		}
		k := a.Kind()
		if a.IsGratuitous() != (k == ARPAnnouncement || k == ARPGratuitousReply) || (k == ARPProbe) != (a.Operation == 1 && a.SenderIP == netip.IPv4Unspecified()) {
			t.Fatalf("kind %v, gratuitous %v for %+v", k, a.IsGratuitous(), a)
		}
	})
}

// FuzzDecode feeds whole frames to Ethernet and Linux cooked decoders.
func FuzzDecode(f *testing.F) {
	for _, path := range referenceCaptures(f) {
		_, frames := readCapture(f, path)
		for _, c := range frames {
			f.Add(uint8(0), c.data)
			// The same frame as a Linux cooked capture of it.
			f.Add(uint8(1), prepend(sll(0, c.data[6:12], layers.EthernetType(uint16(c.data[12])<<8|uint16(c.data[13]))), c.data[14:]))
		}
	}
	for _, c := range frameCases(f) {
		switch c.link {
		case layers.LinkTypeEthernet:
			f.Add(uint8(0), c.data)
		case layers.LinkTypeLinuxSLL:
			f.Add(uint8(1), c.data)
		case layers.LinkTypeLinuxSLL2:
			f.Add(uint8(2), c.data)
		default:
			f.Add(uint8(3), c.data)
		}
	}
	links := []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeLinuxSLL, layers.LinkTypeLinuxSLL2, layers.LinkTypeRaw}
	decoders := make([]*Decoder, len(links))
	for i, lt := range links {
		decoders[i], _ = NewDecoder(lt)
	}
	f.Fuzz(func(t *testing.T, link uint8, data []byte) {
		d := decoders[int(link)%len(decoders)]
		var fr Frame
		err := d.Decode(data, gopacket.CaptureInfo{}, 1, &fr)
		if err != nil && fr.Kind != KindOther {
			t.Fatalf("error %v with kind %v", err, fr.Kind)
		}
		if (fr.VRRP != nil) != (fr.Kind == KindVRRP) || (fr.IGMP != nil) != (fr.Kind == KindIGMP) || (fr.ARP != nil) != (fr.Kind == KindARP) {
			t.Fatalf("kind %v with pointers vrrp %v igmp %v arp %v", fr.Kind, fr.VRRP != nil, fr.IGMP != nil, fr.ARP != nil)
		}
		if fr.CapLen != len(data) {
			t.Fatalf("CapLen %d of %d bytes", fr.CapLen, len(data))
		}
		if fr.Kind == KindVRRP && len(fr.VRRP.Addrs) != int(fr.VRRP.CountAddr) {
			t.Fatalf("%d addresses for count %d", len(fr.VRRP.Addrs), fr.VRRP.CountAddr)
		}
		if fr.Kind == KindVRRP || fr.Kind == KindIGMP || fr.Kind == KindIP {
			if fr.IP.Version != 4 && fr.IP.Version != 6 || fr.IP.Src.Is4() != (fr.IP.Version == 4) {
				t.Fatalf("IP header %+v", fr.IP)
			}
		}
	})
}
