package decode

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Neighbour discovery message types (RFC 4861 section 4).
const (
	NDRouterSolicitation    = 133
	NDRouterAdvertisement   = 134
	NDNeighborSolicitation  = 135
	NDNeighborAdvertisement = 136
	NDRedirect              = 137
)

// The link-layer address options (RFC 4861 section 4.6.1); on Ethernet
// each is 8 octets, a length of 1 (RFC 2464 section 8).
const (
	ndOptSourceLL = 1
	ndOptTargetLL = 2
	ndOptLLLen    = 8
)

// icmpv6HeaderLen is the type, code and checksum every ICMPv6 message
// starts with.
const icmpv6HeaderLen = 4

// ND is an ICMPv6 neighbour discovery message (RFC 4861): router
// solicitation and advertisement, neighbour solicitation and
// advertisement, redirect. The layer is the whole ICMPv6 message, from
// its type octet:
//
//	 0: type | code | checksum(16)
//	RS        4: reserved(32)                                                 8: options
//	RA        4: cur hop limit | M O reserved(6) | router lifetime(16)
//	          8: reachable time(32)  12: retrans timer(32)                   16: options
//	NS        4: reserved(32)         8: target address                      24: options
//	NA        4: R S O reserved(29)   8: target address                      24: options
//	redirect  4: reserved(32)         8: target address  24: destination    40: options
//
// Options run to the end of the message, each type | length (in units of
// 8 octets, never 0) | data. The layer reads the Ethernet link-layer
// address options where RFC 4861 section 4.6.1 gives them a meaning (the
// source's in solicitations and router advertisements, the target's in
// neighbour advertisements and redirects; receivers ignore them
// elsewhere), the first of each; other options (prefix information, MTU,
// redirected header, link-layer addresses of other lengths) are checked
// for length and skipped. Reserved bits are not kept: SerializeTo writes
// zeros, and only the options this layer reads.
//
// Unlike gopacket's ICMPv6 neighbour discovery layers, the message keeps
// no slice of the packet outside BaseLayer and decodes without allocating.
type ND struct {
	layers.BaseLayer
	Type     uint8 // NDRouterSolicitation ... NDRedirect
	Code     uint8 // 0: RFC 4861 has receivers discard any other
	Checksum uint16

	// Router, Solicited and Override are the flags of a neighbour
	// advertisement (RFC 4861 section 4.4); see IsUnsolicitedNA.
	Router, Solicited, Override bool
	// Target is the target address of a neighbour solicitation,
	// neighbour advertisement or redirect; unset for router messages.
	Target netip.Addr

	// SourceLL and TargetLL are the source and target link-layer address
	// options (types 1 and 2), valid when HasSourceLL and HasTargetLL.
	SourceLL, TargetLL       MAC
	HasSourceLL, HasTargetLL bool

	// Router advertisement fields (RFC 4861 section 4.2).
	CurHopLimit    uint8  // the hop limit hosts should use; 0 unspecified
	RouterLifetime uint16 // seconds as a default router; 0 not one
	ManagedFlag    bool   // M: addresses are available through DHCPv6
	OtherFlag      bool   // O: other configuration is available through DHCPv6
	ReachableTime  uint32 // milliseconds; 0 unspecified
	RetransTimer   uint32 // milliseconds; 0 unspecified

	// Destination is the destination address of a redirect.
	Destination netip.Addr

	// ckSrc and ckDst are the IP addresses of the checksum's
	// pseudo-header, set by SetNetworkLayerForChecksum or SetChecksumAddrs.
	ckSrc, ckDst netip.Addr
}

// LayerTypeND is the layer type of ICMPv6 neighbour discovery messages,
// which gopacket.NewPacket gives this layer (see decodeICMPv6).
var LayerTypeND = gopacket.RegisterLayerType(2115, gopacket.LayerTypeMetadata{
	Name:    "ND",
	Decoder: gopacket.DecodeFunc(decodeND),
})

// LayerType returns LayerTypeND.
func (n *ND) LayerType() gopacket.LayerType { return LayerTypeND }

// CanDecode returns LayerTypeND.
func (n *ND) CanDecode() gopacket.LayerClass { return LayerTypeND }

// NextLayerType returns gopacket.LayerTypeZero: the options run to the end
// of the message.
func (n *ND) NextLayerType() gopacket.LayerType { return gopacket.LayerTypeZero }

// IsUnsolicitedNA reports whether the message is a neighbour advertisement
// with the Solicited flag clear: an announcement of the sender's binding
// (RFC 4861 section 7.2.6), as a VRRP master sends for each IPv6 address
// when it takes over (RFC 5798 section 6.4.2).
func (n *ND) IsUnsolicitedNA() bool {
	return n.Type == NDNeighborAdvertisement && !n.Solicited
}

// TypeName names the message type, e.g. "neighbour advertisement".
func (n *ND) TypeName() string { return ndTypeName(n.Type) }

func ndTypeName(t uint8) string {
	switch t {
	case NDRouterSolicitation:
		return "router solicitation"
	case NDRouterAdvertisement:
		return "router advertisement"
	case NDNeighborSolicitation:
		return "neighbour solicitation"
	case NDNeighborAdvertisement:
		return "neighbour advertisement"
	case NDRedirect:
		return "redirect"
	}
	return fmt.Sprintf("ICMPv6 type %d", t)
}

// ndFixedLen is the size of a message of type t before its options, or 0
// when t is not a neighbour discovery type.
func ndFixedLen(t uint8) int {
	switch t {
	case NDRouterSolicitation:
		return 8
	case NDRouterAdvertisement:
		return 16
	case NDNeighborSolicitation, NDNeighborAdvertisement:
		return 24
	case NDRedirect:
		return 40
	}
	return 0
}

// DecodeFromBytes decodes a neighbour discovery message. Every field is
// reset; nothing refers to data except BaseLayer.
func (n *ND) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < icmpv6HeaderLen {
		df.SetTruncated()
		return fmt.Errorf("nd: message of %d bytes is shorter than the 4-byte ICMPv6 header", len(data))
	}
	typ := data[0]
	fixed := ndFixedLen(typ)
	if fixed == 0 {
		return fmt.Errorf("nd: ICMPv6 type %d is not a neighbour discovery message (133 to 137)", typ)
	}
	if len(data) < fixed {
		df.SetTruncated()
		return fmt.Errorf("nd: %s of %d bytes is shorter than its %d fixed bytes", ndTypeName(typ), len(data), fixed)
	}
	*n = ND{
		Type: typ, Code: data[1], Checksum: binary.BigEndian.Uint16(data[2:4]),
		ckSrc: n.ckSrc, ckDst: n.ckDst,
	}
	switch typ {
	case NDRouterAdvertisement:
		n.CurHopLimit = data[4]
		n.ManagedFlag = data[5]&0x80 != 0
		n.OtherFlag = data[5]&0x40 != 0
		n.RouterLifetime = binary.BigEndian.Uint16(data[6:8])
		n.ReachableTime = binary.BigEndian.Uint32(data[8:12])
		n.RetransTimer = binary.BigEndian.Uint32(data[12:16])
	case NDNeighborAdvertisement:
		n.Router = data[4]&0x80 != 0
		n.Solicited = data[4]&0x40 != 0
		n.Override = data[4]&0x20 != 0
		n.Target = netip.AddrFrom16([16]byte(data[8:24]))
	case NDNeighborSolicitation:
		n.Target = netip.AddrFrom16([16]byte(data[8:24]))
	case NDRedirect:
		n.Target = netip.AddrFrom16([16]byte(data[8:24]))
		n.Destination = netip.AddrFrom16([16]byte(data[24:40]))
	}
	sourceLL := typ == NDRouterSolicitation || typ == NDRouterAdvertisement || typ == NDNeighborSolicitation
	for off, i := fixed, 1; off < len(data); i++ {
		rest := len(data) - off
		if rest < 2 {
			df.SetTruncated()
			return fmt.Errorf("nd: option %d: %d byte left, too few for its type and length", i, rest)
		}
		otype, olen := data[off], 8*int(data[off+1])
		if olen == 0 {
			return fmt.Errorf("nd: option %d (type %d) has length 0", i, otype)
		}
		if olen > rest {
			df.SetTruncated()
			return fmt.Errorf("nd: option %d (type %d) of %d bytes overruns the message, %d remain", i, otype, olen, rest)
		}
		if olen == ndOptLLLen {
			switch {
			case otype == ndOptSourceLL && sourceLL && !n.HasSourceLL:
				n.SourceLL, n.HasSourceLL = MAC(data[off+2:off+8]), true
			case otype == ndOptTargetLL && !sourceLL && !n.HasTargetLL:
				n.TargetLL, n.HasTargetLL = MAC(data[off+2:off+8]), true
			}
		}
		off += olen
	}
	n.BaseLayer = layers.BaseLayer{Contents: data}
	return nil
}

func decodeND(data []byte, p gopacket.PacketBuilder) error {
	n := &ND{}
	if err := n.DecodeFromBytes(data, p); err != nil {
		return err
	}
	p.AddLayer(n)
	return nil
}

// SetNetworkLayerForChecksum takes the addresses of the ICMPv6 checksum's
// pseudo-header from an *layers.IPv6, as layers.ICMPv6 does.
func (n *ND) SetNetworkLayerForChecksum(l gopacket.NetworkLayer) error {
	src, dst, err := networkAddrs(l)
	if err != nil {
		return fmt.Errorf("nd: %w", err)
	}
	n.SetChecksumAddrs(src, dst)
	return nil
}

// SetChecksumAddrs sets the IPv6 source and destination that the ICMPv6
// checksum's pseudo-header covers.
func (n *ND) SetChecksumAddrs(src, dst netip.Addr) { n.ckSrc, n.ckDst = src, dst }

// SerializeTo writes the message with the link-layer address options that
// HasSourceLL and HasTargetLL ask for, source first. With
// opts.ComputeChecksums it computes the checksum, which needs
// SetNetworkLayerForChecksum or SetChecksumAddrs first; otherwise it
// writes Checksum as set. An unset Target or Destination is written as ::.
func (n *ND) SerializeTo(b gopacket.SerializeBuffer, opts gopacket.SerializeOptions) error {
	fixed := ndFixedLen(n.Type)
	if fixed == 0 {
		return fmt.Errorf("nd: cannot serialize ICMPv6 type %d: not a neighbour discovery message (133 to 137)", n.Type)
	}
	size := fixed
	if n.HasSourceLL {
		size += ndOptLLLen
	}
	if n.HasTargetLL {
		size += ndOptLLLen
	}
	buf, err := b.PrependBytes(size)
	if err != nil {
		return err
	}
	clear(buf)
	buf[0], buf[1] = n.Type, n.Code
	switch n.Type {
	case NDRouterAdvertisement:
		buf[4] = n.CurHopLimit
		if n.ManagedFlag {
			buf[5] |= 0x80
		}
		if n.OtherFlag {
			buf[5] |= 0x40
		}
		binary.BigEndian.PutUint16(buf[6:8], n.RouterLifetime)
		binary.BigEndian.PutUint32(buf[8:12], n.ReachableTime)
		binary.BigEndian.PutUint32(buf[12:16], n.RetransTimer)
	case NDNeighborAdvertisement, NDNeighborSolicitation, NDRedirect:
		if n.Type == NDNeighborAdvertisement {
			if n.Router {
				buf[4] |= 0x80
			}
			if n.Solicited {
				buf[4] |= 0x40
			}
			if n.Override {
				buf[4] |= 0x20
			}
		}
		if !putIPv6(buf[8:24], n.Target) {
			return fmt.Errorf("nd: target %v is not IPv6", n.Target)
		}
		if n.Type == NDRedirect && !putIPv6(buf[24:40], n.Destination) {
			return fmt.Errorf("nd: destination %v is not IPv6", n.Destination)
		}
	}
	off := fixed
	if n.HasSourceLL {
		buf[off], buf[off+1] = ndOptSourceLL, ndOptLLLen/8
		copy(buf[off+2:off+8], n.SourceLL[:])
		off += ndOptLLLen
	}
	if n.HasTargetLL {
		buf[off], buf[off+1] = ndOptTargetLL, ndOptLLLen/8
		copy(buf[off+2:off+8], n.TargetLL[:])
	}
	if opts.ComputeChecksums {
		sum, err := icmpv6PseudoHeaderSum("nd", n.ckSrc, n.ckDst, len(buf))
		if err != nil {
			return err
		}
		n.Checksum = foldChecksum(onesSum(sum, buf))
	}
	binary.BigEndian.PutUint16(buf[2:4], n.Checksum)
	return nil
}

// putIPv6 writes an IPv6 address into dst (16 bytes); the zero netip.Addr
// writes ::. It reports false for an IPv4 address.
func putIPv6(dst []byte, a netip.Addr) bool {
	if !a.IsValid() {
		clear(dst[:16])
		return true
	}
	if !a.Is6() {
		return false
	}
	a16 := a.As16()
	copy(dst, a16[:])
	return true
}

// gopacketICMPv6 is gopacket's own decoder of ICMPv6 messages, for the
// types that are neither ND nor MLD.
var gopacketICMPv6 = layers.IPProtocolMetadata[layers.IPProtocolICMPv6].DecodeWith

// decodeICMPv6 hands an ICMPv6 message to ND, MLD, or gopacket's ICMPv6
// layer, by its type.
func decodeICMPv6(data []byte, p gopacket.PacketBuilder) error {
	if len(data) > 0 {
		switch {
		case ndFixedLen(data[0]) != 0:
			return decodeND(data, p)
		case isMLDType(data[0]):
			return decodeMLD(data, p)
		}
	}
	return gopacketICMPv6.Decode(data, p)
}
