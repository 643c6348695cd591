package decode

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// ARPKind classifies an ARP packet the way RFC 5227 and operators speak of it.
type ARPKind uint8

const (
	ARPRequest         ARPKind = iota // who-has, ordinary
	ARPReply                          // is-at, ordinary
	ARPProbe                          // request with sender IP 0.0.0.0 (RFC 5227)
	ARPAnnouncement                   // gratuitous request: sender IP = target IP (RFC 5227 announcement)
	ARPGratuitousReply                // gratuitous reply: sender IP = target IP
)

func (k ARPKind) String() string {
	switch k {
	case ARPRequest:
		return "request"
	case ARPReply:
		return "reply"
	case ARPProbe:
		return "probe"
	case ARPAnnouncement:
		return "announcement"
	case ARPGratuitousReply:
		return "gratuitous-reply"
	}
	return fmt.Sprintf("arp-kind-%d", uint8(k))
}

// ARP operations (RFC 826).
const (
	ARPOpRequest = 1
	ARPOpReply   = 2
)

// arpHardwareEthernet is ARP hardware type 1, Ethernet (RFC 826).
const arpHardwareEthernet = 1

// arpLen is the size of an Ethernet/IPv4 ARP packet; Ethernet padding
// after it is not part of the layer.
const arpLen = 28

// ARP is an Ethernet/IPv4 ARP packet (RFC 826). Other hardware or protocol
// types, address lengths and operations other than request and reply decode
// with an error.
type ARP struct {
	layers.BaseLayer
	Operation uint16 // 1 request, 2 reply
	SenderMAC MAC
	SenderIP  netip.Addr
	TargetMAC MAC
	TargetIP  netip.Addr
}

// LayerTypeARP is the layer type of ARP. It replaces gopacket's own ARP
// decoder for EtherType 0x0806 after Register.
var LayerTypeARP = gopacket.RegisterLayerType(2114, gopacket.LayerTypeMetadata{
	Name:    "ARP",
	Decoder: gopacket.DecodeFunc(decodeARP),
})

// LayerType returns LayerTypeARP.
func (a *ARP) LayerType() gopacket.LayerType { return LayerTypeARP }

// CanDecode returns LayerTypeARP.
func (a *ARP) CanDecode() gopacket.LayerClass { return LayerTypeARP }

// NextLayerType returns gopacket.LayerTypeZero: what follows an ARP packet
// is link-layer padding.
func (a *ARP) NextLayerType() gopacket.LayerType { return gopacket.LayerTypeZero }

// Kind classifies the packet: probe, announcement, gratuitous reply, or an
// ordinary request or reply.
func (a *ARP) Kind() ARPKind {
	unspecified := a.SenderIP == netip.IPv4Unspecified()
	if a.Operation == ARPOpRequest {
		switch {
		case unspecified:
			return ARPProbe
		case a.SenderIP == a.TargetIP:
			return ARPAnnouncement
		}
		return ARPRequest
	}
	if a.SenderIP == a.TargetIP && !unspecified {
		return ARPGratuitousReply
	}
	return ARPReply
}

// IsGratuitous reports whether the packet announces the sender's own
// binding unasked: an announcement or a gratuitous reply (not a probe).
func (a *ARP) IsGratuitous() bool {
	k := a.Kind()
	return k == ARPAnnouncement || k == ARPGratuitousReply
}

// DecodeFromBytes decodes an Ethernet/IPv4 ARP packet. Bytes after the 28
// octets (Ethernet padding) are left out of Contents and Payload.
func (a *ARP) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < arpLen {
		df.SetTruncated()
		return fmt.Errorf("arp: packet of %d bytes is shorter than the 28 of Ethernet/IPv4 ARP", len(data))
	}
	if ht := binary.BigEndian.Uint16(data[0:2]); ht != arpHardwareEthernet {
		return fmt.Errorf("arp: hardware type %d is not Ethernet (1)", ht)
	}
	if pt := binary.BigEndian.Uint16(data[2:4]); pt != uint16(layers.EthernetTypeIPv4) {
		return fmt.Errorf("arp: protocol type 0x%04x is not IPv4 (0x0800)", pt)
	}
	if data[4] != 6 || data[5] != 4 {
		return fmt.Errorf("arp: address lengths %d/%d are not Ethernet/IPv4 (6/4)", data[4], data[5])
	}
	op := binary.BigEndian.Uint16(data[6:8])
	if op != ARPOpRequest && op != ARPOpReply {
		return fmt.Errorf("arp: operation %d is neither request (1) nor reply (2)", op)
	}
	a.Operation = op
	a.SenderMAC = MAC(data[8:14])
	a.SenderIP = netip.AddrFrom4([4]byte(data[14:18]))
	a.TargetMAC = MAC(data[18:24])
	a.TargetIP = netip.AddrFrom4([4]byte(data[24:28]))
	a.BaseLayer = layers.BaseLayer{Contents: data[:arpLen]}
	return nil
}

func decodeARP(data []byte, p gopacket.PacketBuilder) error {
	a := &ARP{}
	if err := a.DecodeFromBytes(data, p); err != nil {
		return err
	}
	p.AddLayer(a)
	return nil
}

// SerializeTo writes the 28-byte Ethernet/IPv4 ARP packet. An unset
// (zero netip.Addr) sender or target IP is written as 0.0.0.0.
func (a *ARP) SerializeTo(b gopacket.SerializeBuffer, opts gopacket.SerializeOptions) error {
	if a.Operation != ARPOpRequest && a.Operation != ARPOpReply {
		return fmt.Errorf("arp: operation %d is neither request (1) nor reply (2)", a.Operation)
	}
	buf, err := b.PrependBytes(arpLen)
	if err != nil {
		return err
	}
	binary.BigEndian.PutUint16(buf[0:2], arpHardwareEthernet)
	binary.BigEndian.PutUint16(buf[2:4], uint16(layers.EthernetTypeIPv4))
	buf[4], buf[5] = 6, 4
	binary.BigEndian.PutUint16(buf[6:8], a.Operation)
	copy(buf[8:14], a.SenderMAC[:])
	if !putIPv4(buf[14:18], a.SenderIP) {
		return fmt.Errorf("arp: sender IP %v is not IPv4", a.SenderIP)
	}
	copy(buf[18:24], a.TargetMAC[:])
	if !putIPv4(buf[24:28], a.TargetIP) {
		return fmt.Errorf("arp: target IP %v is not IPv4", a.TargetIP)
	}
	return nil
}
