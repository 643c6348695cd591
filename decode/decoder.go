package decode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Decoder decodes the frames of one capture into Frames. It keeps one of
// each layer and reuses it, so a Frame's VRRP, IGMP, ARP, ND and MLD
// pointers are valid only until the next Decode. A Decoder is not safe for
// concurrent use.
type Decoder struct {
	link layers.LinkType

	eth   layers.Ethernet
	dot1q layers.Dot1Q
	sll   layers.LinuxSLL
	sll2  layers.LinuxSLL2
	ip4   layers.IPv4

	vrrp VRRP
	igmp IGMP
	arp  ARP
	nd   ND
	mld  MLD

	fb truncationFeedback

	// gopacketLayers decodes Ethernet and every IPv4 header through
	// gopacket's layers, as before the direct reading of the common ones
	// (the tests compare the two).
	gopacketLayers bool
}

// truncationFeedback records whether a layer found its data cut short.
type truncationFeedback struct{ truncated bool }

func (t *truncationFeedback) SetTruncated() { t.truncated = true }

// FrameError reports a malformed VRRP, IGMP, ARP, ND or MLD part of a frame.
type FrameError struct {
	Number uint64 // the frame number passed to Decode
	Kind   Kind   // what the frame would have been
	Err    error  // what the layer said, e.g. "vrrp: version 4 is neither 2 nor 3"
}

func (e *FrameError) Error() string { return fmt.Sprintf("frame %d: %v", e.Number, e.Err) }

func (e *FrameError) Unwrap() error { return e.Err }

// The EtherType of the pre-standard QinQ service tag, still sent by some
// switches.
const etherTypeQinQ9100 layers.EthernetType = 0x9100

// NewDecoder returns a Decoder for captures of link type lt: Ethernet,
// Linux cooked (SLL and SLL2) or raw IP (LINKTYPE_RAW, LINKTYPE_IPV4,
// LINKTYPE_IPV6).
func NewDecoder(lt layers.LinkType) (*Decoder, error) {
	switch lt {
	case layers.LinkTypeEthernet, layers.LinkTypeLinuxSLL, layers.LinkTypeLinuxSLL2,
		layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6:
		return &Decoder{link: lt}, nil
	}
	return nil, fmt.Errorf("decode: link type %v (%d) is not supported: use Ethernet, Linux cooked (SLL, SLL2) or raw IP", lt, uint16(lt))
}

// LinkType is the link type the Decoder was made for.
func (d *Decoder) LinkType() layers.LinkType { return d.link }

// Decode resets *f and fills it from one captured frame. A frame that is
// not VRRP, IGMP, ARP or IP, or whose link or IP header is malformed, is
// KindOther without an error. ICMPv6 neighbour discovery and MLD messages
// are KindND and KindMLD; other ICMPv6 messages (echo, errors) are KindIP.
// A malformed VRRP, IGMP, ARP, ND or MLD message, or a truncated IP header
// in front of a VRRP or IGMP one, is a *FrameError, with f.Kind
// KindOther and the link-layer and (when it decoded) IP fields filled.
// Decode does not panic on any input; f refers to data only through the
// layers' Contents and Payload, valid until the next call.
func (d *Decoder) Decode(data []byte, ci gopacket.CaptureInfo, number uint64, f *Frame) error {
	return d.DecodeAt(data, ci.Timestamp, ci.Length, number, f)
}

// DecodeAt is Decode given the two fields of the capture info it reads: the
// frame's time and its length on the wire (0: its captured length).
func (d *Decoder) DecodeAt(data []byte, ts time.Time, length int, number uint64, f *Frame) error {
	*f = Frame{}
	f.Number = number
	f.Time = ts
	f.Length = length
	f.CapLen = len(data)
	f.LinkType = d.link
	if f.Length == 0 {
		f.Length = len(data)
	}
	d.fb.truncated = false

	var etype layers.EthernetType
	var payload []byte
	switch d.link {
	case layers.LinkTypeEthernet:
		if d.gopacketLayers {
			if d.eth.DecodeFromBytes(data, &d.fb) != nil {
				return nil
			}
			f.DstMAC = MAC(d.eth.DstMAC)
			f.SrcMAC = MAC(d.eth.SrcMAC)
			f.HasDstMAC = true
			etype, payload = d.eth.EthernetType, d.eth.Payload
			break
		}
		// As gopacket's Ethernet layer reads it, without its slices: an
		// 802.3 length field (below 0x0600) is LLC, which nothing below
		// decodes.
		if len(data) < 14 {
			return nil
		}
		f.DstMAC = MAC(data[0:6])
		f.SrcMAC = MAC(data[6:12])
		f.HasDstMAC = true
		etype, payload = layers.EthernetType(binary.BigEndian.Uint16(data[12:14])), data[14:]
	case layers.LinkTypeLinuxSLL:
		if d.sll.DecodeFromBytes(data, &d.fb) != nil {
			return nil
		}
		f.SLLPacketType = uint16(d.sll.PacketType)
		if len(d.sll.Addr) == 6 {
			f.SrcMAC = MAC(d.sll.Addr)
		}
		etype, payload = d.sll.EthernetType, d.sll.Payload
	case layers.LinkTypeLinuxSLL2:
		if d.sll2.DecodeFromBytes(data, &d.fb) != nil {
			return nil
		}
		f.SLLPacketType = uint16(d.sll2.PacketType)
		if len(d.sll2.Addr) == 6 {
			f.SrcMAC = MAC(d.sll2.Addr)
		}
		etype, payload = d.sll2.ProtocolType, d.sll2.Payload
	default: // raw IP: the version nibble says which
		if len(data) == 0 {
			return nil
		}
		switch data[0] >> 4 {
		case 4:
			etype = layers.EthernetTypeIPv4
		case 6:
			etype = layers.EthernetTypeIPv6
		default:
			return nil
		}
		payload = data
	}

	// 802.1Q and 802.1ad tags, outermost first.
	for tags := 0; etype == layers.EthernetTypeDot1Q || etype == layers.EthernetTypeQinQ || etype == etherTypeQinQ9100; tags++ {
		if d.dot1q.DecodeFromBytes(payload, &d.fb) != nil {
			f.VLAN, f.OuterVLAN = 0, 0
			return nil
		}
		switch tags {
		case 0:
			f.VLAN = d.dot1q.VLANIdentifier
		case 1:
			f.OuterVLAN = f.VLAN
			fallthrough
		default:
			f.VLAN = d.dot1q.VLANIdentifier
		}
		etype, payload = d.dot1q.Type, d.dot1q.Payload
	}

	switch etype {
	case layers.EthernetTypeARP:
		if err := d.arp.DecodeFromBytes(payload, &d.fb); err != nil {
			return &FrameError{Number: number, Kind: KindARP, Err: err}
		}
		f.Kind, f.ARP = KindARP, &d.arp
		return nil
	case layers.EthernetTypeIPv4:
		return d.decodeIPv4(payload, number, f)
	case layers.EthernetTypeIPv6:
		return d.decodeIPv6(payload, number, f)
	}
	return nil
}

func (d *Decoder) decodeIPv4(data []byte, number uint64, f *Frame) error {
	if len(data) == 0 || data[0]>>4 != 4 {
		return nil
	}
	if !d.gopacketLayers && len(data) >= 20 && data[0] == 0x45 {
		return d.decodeIPv4NoOptions(data, number, f)
	}
	if err := d.ip4.DecodeFromBytes(data, &d.fb); err != nil {
		// Only a VRRP or IGMP packet behind a broken header is worth an error.
		if len(data) >= 10 {
			switch layers.IPProtocol(data[9]) {
			case layers.IPProtocolVRRP:
				return &FrameError{Number: number, Kind: KindVRRP, Err: fmt.Errorf("ipv4 header of a vrrp packet: %v", err)}
			case layers.IPProtocolIGMP:
				return &FrameError{Number: number, Kind: KindIGMP, Err: fmt.Errorf("ipv4 header of an igmp packet: %v", err)}
			}
		}
		return nil
	}
	ip := &f.IP
	ip.Version = 4
	ip.Src = netip.AddrFrom4([4]byte(d.ip4.SrcIP))
	ip.Dst = netip.AddrFrom4([4]byte(d.ip4.DstIP))
	ip.TTL = d.ip4.TTL
	ip.Protocol = uint8(d.ip4.Protocol)
	ip.TOS = d.ip4.TOS
	if d.ip4.FragOffset != 0 || d.ip4.Flags&layers.IPv4MoreFragments != 0 {
		// A fragment: the upper layer is not whole (or not here at all).
		f.Kind = KindIP
		return nil
	}
	return d.decodeUpper(d.ip4.Payload, false, number, f)
}

// decodeIPv4NoOptions reads an IPv4 header without options (IHL 5) as
// gopacket's IPv4 layer does, with no layer in between: the common header,
// in a few loads. A total length below 20 is left to the layer, which
// says what is wrong with it.
func (d *Decoder) decodeIPv4NoOptions(data []byte, number uint64, f *Frame) error {
	length := int(binary.BigEndian.Uint16(data[2:4]))
	if length == 0 {
		length = len(data) // TCP segmentation offload leaves it 0
	}
	if length < 20 {
		d.gopacketLayers = true
		defer func() { d.gopacketLayers = false }()
		return d.decodeIPv4(data, number, f)
	}
	if len(data) > length {
		data = data[:length] // drop link-layer padding
	} else if len(data) < length {
		d.fb.SetTruncated()
	}
	ip := &f.IP
	ip.Version = 4
	ip.Src = netip.AddrFrom4([4]byte(data[12:16]))
	ip.Dst = netip.AddrFrom4([4]byte(data[16:20]))
	ip.TTL = data[8]
	ip.Protocol = data[9]
	ip.TOS = data[1]
	if flagsFrags := binary.BigEndian.Uint16(data[6:8]); flagsFrags&0x1fff != 0 || flagsFrags&0x2000 != 0 {
		// A fragment: the upper layer is not whole (or not here at all).
		f.Kind = KindIP
		return nil
	}
	return d.decodeUpper(data[20:], false, number, f)
}

// decodeIPv6 parses the IPv6 header and its extension headers by hand:
// gopacket's IPv6 layer allocates for every hop-by-hop option, which every
// MLD report carries.
func (d *Decoder) decodeIPv6(data []byte, number uint64, f *Frame) error {
	const hdrLen = 40
	if len(data) < hdrLen || data[0]>>4 != 6 {
		if len(data) >= 7 && data[0]>>4 == 6 && layers.IPProtocol(data[6]) == layers.IPProtocolVRRP {
			return &FrameError{Number: number, Kind: KindVRRP,
				Err: fmt.Errorf("ipv6 header of a vrrp packet: %d bytes, 40 needed", len(data))}
		}
		return nil
	}
	plen := int(binary.BigEndian.Uint16(data[4:6]))
	payload := data[hdrLen:]
	if plen < len(payload) {
		payload = payload[:plen] // drop link-layer padding
	} else if plen > len(payload) {
		d.fb.SetTruncated()
	}
	ip := &f.IP
	ip.Version = 6
	ip.Src = netip.AddrFrom16([16]byte(data[8:24]))
	ip.Dst = netip.AddrFrom16([16]byte(data[24:40]))
	ip.TTL = data[7]
	ip.Protocol = data[6]
	ip.TOS = uint8(binary.BigEndian.Uint16(data[0:2]) >> 4)
	f.Kind = KindIP

	// Skip extension headers to the upper layer.
	next := data[6]
walk:
	for {
		switch layers.IPProtocol(next) {
		case layers.IPProtocolIPv6HopByHop, layers.IPProtocolIPv6Routing, layers.IPProtocolIPv6Destination:
			if len(payload) < 2 {
				return nil
			}
			n := 8 * (int(payload[1]) + 1)
			if n > len(payload) {
				return nil
			}
			next, payload = payload[0], payload[n:]
		case layers.IPProtocolIPv6Fragment:
			// Only a first fragment has an upper-layer header, and not
			// necessarily a whole one: treat every fragment as opaque.
			return nil
		default:
			break walk
		}
	}
	// Protocol names the upper layer, not the first extension header.
	f.IP.Protocol = next
	return d.decodeUpper(payload, true, number, f)
}

// decodeUpper decodes what follows the IP header: VRRP, IGMP (IPv4 only),
// ND and MLD (IPv6 only), or a Transport summary for anything else.
func (d *Decoder) decodeUpper(data []byte, v6 bool, number uint64, f *Frame) error {
	icmpv6 := v6 && f.IP.Protocol == uint8(layers.IPProtocolICMPv6) && len(data) > 0
	switch {
	case icmpv6 && ndFixedLen(data[0]) != 0:
		if err := d.nd.DecodeFromBytes(data, &d.fb); err != nil {
			f.Kind = KindOther
			return &FrameError{Number: number, Kind: KindND, Err: err}
		}
		f.Kind, f.ND = KindND, &d.nd
		f.ICMPv6Checksum = d.icmpv6Checksum(data, f)
		return nil
	case icmpv6 && isMLDType(data[0]):
		if err := d.mld.DecodeFromBytes(data, &d.fb); err != nil {
			f.Kind = KindOther
			return &FrameError{Number: number, Kind: KindMLD, Err: err}
		}
		f.Kind, f.MLD = KindMLD, &d.mld
		f.ICMPv6Checksum = d.icmpv6Checksum(data, f)
		return nil
	case f.IP.Protocol == uint8(layers.IPProtocolVRRP):
		d.vrrp.IPv6 = v6
		if err := d.vrrp.DecodeFromBytes(data, &d.fb); err != nil {
			f.Kind = KindOther
			return &FrameError{Number: number, Kind: KindVRRP, Err: err}
		}
		if d.vrrp.NoAuthData && d.fb.truncated {
			// The IP packet was longer than what the capture kept.
			f.Kind = KindOther
			return &FrameError{Number: number, Kind: KindVRRP,
				Err: errors.New("vrrp: the capture ends after the address list: the authentication data was cut off, not left out")}
		}
		f.Kind, f.VRRP = KindVRRP, &d.vrrp
		if d.fb.truncated {
			f.VRRPChecksum = ChecksumNotChecked
		} else {
			f.VRRPChecksum = VerifyChecksum(data, f.IP.Src, f.IP.Dst)
		}
		return nil
	case f.IP.Protocol == uint8(layers.IPProtocolIGMP) && !v6:
		if err := d.igmp.DecodeFromBytes(data, &d.fb); err != nil {
			f.Kind = KindOther
			return &FrameError{Number: number, Kind: KindIGMP, Err: err}
		}
		f.Kind, f.IGMP = KindIGMP, &d.igmp
		return nil
	}
	f.Kind = KindIP
	transport(&f.L4, f.IP.Protocol, data)
	return nil
}

// icmpv6Checksum verifies the checksum of the ICMPv6 message msg, unless
// the capture cut the packet short.
func (d *Decoder) icmpv6Checksum(msg []byte, f *Frame) ChecksumStatus {
	if d.fb.truncated {
		return ChecksumNotChecked
	}
	return verifyICMPv6Checksum(msg, f.IP.Src, f.IP.Dst)
}

// transport summarises an ICMP, ICMPv6, TCP or UDP header into t (zero
// on entry), reading only the bytes it needs; a header too short for them
// leaves Protocol 0.
func transport(t *Transport, proto uint8, data []byte) {
	switch layers.IPProtocol(proto) {
	case layers.IPProtocolICMPv4, layers.IPProtocolICMPv6:
		if len(data) < 4 {
			return
		}
		t.Protocol, t.ICMPType, t.ICMPCode = proto, data[0], data[1]
		if len(data) >= 8 && isEcho(proto, data[0]) {
			t.ICMPID = binary.BigEndian.Uint16(data[4:6])
			t.ICMPSeq = binary.BigEndian.Uint16(data[6:8])
		}
	case layers.IPProtocolTCP:
		if len(data) < 14 {
			return
		}
		t.Protocol = proto
		t.SrcPort = binary.BigEndian.Uint16(data[0:2])
		t.DstPort = binary.BigEndian.Uint16(data[2:4])
		t.TCPFlags = data[13]
	case layers.IPProtocolUDP:
		if len(data) < 4 {
			return
		}
		t.Protocol = proto
		t.SrcPort = binary.BigEndian.Uint16(data[0:2])
		t.DstPort = binary.BigEndian.Uint16(data[2:4])
	}
}

// isEcho reports whether an ICMP or ICMPv6 type is an echo request or
// reply, the ones whose next 4 bytes are identifier and sequence number.
func isEcho(proto, typ uint8) bool {
	if layers.IPProtocol(proto) == layers.IPProtocolICMPv4 {
		return typ == 0 || typ == 8
	}
	return typ == 128 || typ == 129
}

// PlainIPv4 recognises, in a few byte comparisons, an Ethernet frame that
// Decode makes KindIP (or KindOther) and nothing more of: an untagged IPv4
// packet of a protocol other than VRRP and IGMP. It returns the packet's
// source and destination addresses as Decode reads them into Frame.IP, and
// ok; ok is false for every other frame, which must be decoded to know
// what it is. A caller that has no use for KindIP frames between addresses
// it does not follow can skip decoding them.
func PlainIPv4(data []byte) (src, dst uint32, ok bool) {
	if len(data) < 34 || data[12] != 0x08 || data[13] != 0x00 || data[14]>>4 != 4 {
		return 0, 0, false
	}
	if p := layers.IPProtocol(data[23]); p == layers.IPProtocolVRRP || p == layers.IPProtocolIGMP {
		return 0, 0, false
	}
	return binary.BigEndian.Uint32(data[26:30]), binary.BigEndian.Uint32(data[30:34]), true
}
