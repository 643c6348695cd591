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

func FuzzND(f *testing.F) {
	var seeds [][]byte
	for _, v := range ndVectors {
		seeds = append(seeds, v.wire)
	}
	seedLayers(f, func(fr *Frame) []byte {
		if fr.ND != nil {
			return fr.ND.Contents
		}
		return nil
	}, seeds...)
	f.Fuzz(func(t *testing.T, data []byte) {
		n := &ND{}
		if n.DecodeFromBytes(data, gopacket.NilDecodeFeedback) != nil {
			return
		}
		if len(n.Contents) != len(data) || len(n.Payload) != 0 {
			t.Fatalf("contents %d + payload %d of %d bytes", len(n.Contents), len(n.Payload), len(data))
		}
		if n.IsUnsolicitedNA() != (data[0] == NDNeighborAdvertisement && data[4]&0x40 == 0) {
			t.Fatalf("IsUnsolicitedNA %v for %x", n.IsUnsolicitedNA(), data)
		}
		if n.Target.IsValid() != (n.Type == NDNeighborSolicitation || n.Type == NDNeighborAdvertisement || n.Type == NDRedirect) {
			t.Fatalf("target %v in a %s", n.Target, n.TypeName())
		}
		buf := gopacket.NewSerializeBuffer()
		if err := n.SerializeTo(buf, gopacket.SerializeOptions{}); err != nil {
			t.Fatalf("decoded message does not serialize: %v", err)
		}
		n2 := &ND{}
		if err := n2.DecodeFromBytes(buf.Bytes(), gopacket.NilDecodeFeedback); err != nil {
			t.Fatalf("re-serialized %x does not decode: %v", buf.Bytes(), err)
		}
		if !reflect.DeepEqual(ndOf(n), ndOf(n2)) {
			t.Fatalf("round trip changed\n%+v\n%+v", ndOf(n), ndOf(n2))
		}
	})
}

func FuzzMLD(f *testing.F) {
	var seeds [][]byte
	for _, v := range mldVectors {
		seeds = append(seeds, v.wire)
	}
	seedLayers(f, func(fr *Frame) []byte {
		if fr.MLD != nil {
			return fr.MLD.Contents
		}
		return nil
	}, seeds...)
	f.Fuzz(func(t *testing.T, data []byte) {
		m := &MLD{}
		if m.DecodeFromBytes(data, gopacket.NilDecodeFeedback) != nil {
			return
		}
		if len(m.Contents)+len(m.Payload) != len(data) {
			t.Fatalf("contents %d + payload %d of %d bytes", len(m.Contents), len(m.Payload), len(data))
		}
		if m.Version != 1 && m.Version != 2 {
			t.Fatalf("version %d", m.Version)
		}
		for i := range m.Records {
			_ = m.Records[i].Meaning()
		}
		_ = m.Meaning()
		buf := gopacket.NewSerializeBuffer()
		if err := m.SerializeTo(buf, gopacket.SerializeOptions{}); err != nil {
			t.Fatalf("decoded message does not serialize: %v", err)
		}
		m2 := &MLD{}
		if err := m2.DecodeFromBytes(buf.Bytes(), gopacket.NilDecodeFeedback); err != nil {
			t.Fatalf("re-serialized %x does not decode: %v", buf.Bytes(), err)
		}
		if !reflect.DeepEqual(mldOf(m), mldOf(m2)) {
			t.Fatalf("round trip changed\n%+v\n%+v", mldOf(m), mldOf(m2))
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
	for _, g := range generatedFrames(f) {
		f.Add(uint8(0), g.data)
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
		if (fr.VRRP != nil) != (fr.Kind == KindVRRP) || (fr.IGMP != nil) != (fr.Kind == KindIGMP) || (fr.ARP != nil) != (fr.Kind == KindARP) ||
			(fr.ND != nil) != (fr.Kind == KindND) || (fr.MLD != nil) != (fr.Kind == KindMLD) {
			t.Fatalf("kind %v with pointers vrrp %v igmp %v arp %v nd %v mld %v", fr.Kind, fr.VRRP != nil, fr.IGMP != nil, fr.ARP != nil, fr.ND != nil, fr.MLD != nil)
		}
		if fr.ICMPv6Checksum != ChecksumNotChecked && fr.Kind != KindND && fr.Kind != KindMLD {
			t.Fatalf("ICMPv6Checksum %v on a %v frame", fr.ICMPv6Checksum, fr.Kind)
		}
		if fr.Kind == KindND || fr.Kind == KindMLD {
			if fr.IP.Version != 6 || fr.IP.Protocol != 58 {
				t.Fatalf("%v frame with IP header %+v", fr.Kind, fr.IP)
			}
		}
		if fr.CapLen != len(data) {
			t.Fatalf("CapLen %d of %d bytes", fr.CapLen, len(data))
		}
		// The direct reading of Ethernet and IPv4 headers decodes as
		// gopacket's layers do.
		sameAsGopacket(t, links[int(link)%len(links)], data)
		// A frame PlainIPv4 recognises is one Decode makes KindIP (with its
		// addresses) or KindOther, without an error.
		if d.link == layers.LinkTypeEthernet {
			if src, dst, ok := PlainIPv4(data); ok {
				switch {
				case err != nil || fr.Kind != KindIP && fr.Kind != KindOther:
					t.Fatalf("PlainIPv4 recognises a %v frame (error %v)", fr.Kind, err)
				case fr.Kind == KindIP && (fr.IP.Src.As4() != [4]byte{byte(src >> 24), byte(src >> 16), byte(src >> 8), byte(src)} ||
					fr.IP.Dst.As4() != [4]byte{byte(dst >> 24), byte(dst >> 16), byte(dst >> 8), byte(dst)}):
					t.Fatalf("PlainIPv4 says %08x > %08x, Decode %v > %v", src, dst, fr.IP.Src, fr.IP.Dst)
				}
			}
		}
		if fr.Kind == KindVRRP && len(fr.VRRP.Addrs) != int(fr.VRRP.CountAddr) {
			t.Fatalf("%d addresses for count %d", len(fr.VRRP.Addrs), fr.VRRP.CountAddr)
		}
		if fr.Kind == KindVRRP || fr.Kind == KindIGMP || fr.Kind == KindIP || fr.Kind == KindND || fr.Kind == KindMLD {
			if fr.IP.Version != 4 && fr.IP.Version != 6 || fr.IP.Src.Is4() != (fr.IP.Version == 4) {
				t.Fatalf("IP header %+v", fr.IP)
			}
		}
	})
}
