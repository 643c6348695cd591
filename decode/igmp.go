package decode

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// IGMP message types.
const (
	IGMPQuery    = 0x11
	IGMPv1Report = 0x12
	IGMPv2Report = 0x16
	IGMPv2Leave  = 0x17
	IGMPv3Report = 0x22
)

// IGMP is an IGMP v1, v2 or v3 message (RFC 1112, 2236, 3376).
//
// The version follows RFC 3376 section 7.1: a query of 8 bytes is v1 when
// MaxResp is 0 and v2 otherwise, a query of 12 bytes or more is v3; the
// report types name their version. Other message types (DVMRP, mtrace)
// decode their first 8 bytes with Version 0.
type IGMP struct {
	layers.BaseLayer
	Type     uint8
	Version  uint8 // 1, 2 or 3: from the type and, for queries, the length
	MaxResp  uint8 // queries: max response code; reports: the unused/reserved byte, normally 0
	Checksum uint16
	Group    netip.Addr   // v1/v2 messages and queries; unset for v3 reports
	Records  []IGMPRecord // v3 reports; reused between decodes

	// IGMPv3 queries only (RFC 3376 section 4.1).
	SuppressRouterProcessing bool         // the S flag
	QRV                      uint8        // querier's robustness variable
	QQIC                     uint8        // querier's query interval code
	Sources                  []netip.Addr // reused between decodes
}

const (
	igmpMinLen        = 8
	igmpv3QueryMinLen = 12
)

// LayerTypeIGMP is the layer type of IGMP. It replaces gopacket's own IGMP
// decoder for IP protocol 2 after Register.
var LayerTypeIGMP = gopacket.RegisterLayerType(2113, gopacket.LayerTypeMetadata{
	Name:    "IGMP",
	Decoder: gopacket.DecodeFunc(decodeIGMP),
})

// LayerType returns LayerTypeIGMP.
func (g *IGMP) LayerType() gopacket.LayerType { return LayerTypeIGMP }

// CanDecode returns LayerTypeIGMP.
func (g *IGMP) CanDecode() gopacket.LayerClass { return LayerTypeIGMP }

// NextLayerType returns gopacket.LayerTypeZero: IGMP carries no payload.
func (g *IGMP) NextLayerType() gopacket.LayerType { return gopacket.LayerTypeZero }

// Meaning says what a v1 or v2 message does to the membership of Group:
// a report joins, a leave leaves. Queries and v3 reports (whose records
// carry their own Meaning) are MembershipNone.
func (g *IGMP) Meaning() Membership {
	switch g.Type {
	case IGMPv1Report, IGMPv2Report:
		return MembershipJoin
	case IGMPv2Leave:
		return MembershipLeave
	}
	return MembershipNone
}

// TypeName names the message type, e.g. "v3 report" or "v2 query".
func (g *IGMP) TypeName() string {
	switch g.Type {
	case IGMPQuery:
		return fmt.Sprintf("v%d query", g.Version)
	case IGMPv1Report:
		return "v1 report"
	case IGMPv2Report:
		return "v2 report"
	case IGMPv2Leave:
		return "v2 leave"
	case IGMPv3Report:
		return "v3 report"
	}
	return fmt.Sprintf("type 0x%02x", g.Type)
}

// DecodeFromBytes decodes an IGMP message. Records, their Sources and the
// query Sources are reused; nothing refers to data except BaseLayer.
func (g *IGMP) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < igmpMinLen {
		df.SetTruncated()
		return fmt.Errorf("igmp: message of %d bytes is shorter than the 8-byte header", len(data))
	}
	g.Type = data[0]
	g.MaxResp = data[1]
	g.Checksum = binary.BigEndian.Uint16(data[2:4])
	g.Group = netip.Addr{}
	g.Records = g.Records[:0]
	g.Sources = g.Sources[:0]
	g.SuppressRouterProcessing, g.QRV, g.QQIC = false, 0, 0

	end := igmpMinLen
	switch g.Type {
	case IGMPQuery:
		g.Group = netip.AddrFrom4([4]byte(data[4:8]))
		switch {
		case len(data) == igmpMinLen && g.MaxResp == 0:
			g.Version = 1
		case len(data) == igmpMinLen:
			g.Version = 2
		case len(data) < igmpv3QueryMinLen:
			return fmt.Errorf("igmp: query of %d bytes is neither v1/v2 (8 bytes) nor v3 (12 or more)", len(data))
		default:
			g.Version = 3
			g.SuppressRouterProcessing = data[8]&0x08 != 0
			g.QRV = data[8] & 0x07
			g.QQIC = data[9]
			n := int(binary.BigEndian.Uint16(data[10:12]))
			if rest := len(data) - igmpv3QueryMinLen; 4*n > rest {
				df.SetTruncated()
				return fmt.Errorf("igmp: query source count %d needs %d bytes, %d remain", n, 4*n, rest)
			}
			g.Sources = igmpAddrs.decodeSources(g.Sources, data[igmpv3QueryMinLen:], n)
			end = igmpv3QueryMinLen + 4*n
		}
	case IGMPv1Report:
		g.Version = 1
		g.Group = netip.AddrFrom4([4]byte(data[4:8]))
	case IGMPv2Report, IGMPv2Leave:
		g.Version = 2
		g.Group = netip.AddrFrom4([4]byte(data[4:8]))
	case IGMPv3Report:
		g.Version = 3
		var err error
		g.Records, end, err = igmpAddrs.decodeRecords(g.Records, data, igmpMinLen, int(binary.BigEndian.Uint16(data[6:8])), df)
		if err != nil {
			return err
		}
	default:
		g.Version = 0
		g.Group = netip.AddrFrom4([4]byte(data[4:8]))
	}
	g.BaseLayer = layers.BaseLayer{Contents: data[:end], Payload: data[end:]}
	return nil
}

func decodeIGMP(data []byte, p gopacket.PacketBuilder) error {
	g := &IGMP{}
	if err := g.DecodeFromBytes(data, p); err != nil {
		return err
	}
	p.AddLayer(g)
	return nil
}

// SerializeTo writes v1/v2 reports, v2 leaves, queries of every version
// (Version 3 for a v3 query) and v3 reports. With opts.ComputeChecksums it
// computes the checksum; otherwise it writes Checksum as set. Counts of
// records and sources come from the slices; aux data is written as zeros.
func (g *IGMP) SerializeTo(b gopacket.SerializeBuffer, opts gopacket.SerializeOptions) error {
	var buf []byte
	var err error
	switch {
	case g.Type == IGMPv3Report:
		size, err := igmpAddrs.recordsLen(g.Records)
		if err != nil {
			return err
		}
		size += igmpMinLen
		if buf, err = b.PrependBytes(size); err != nil {
			return err
		}
		clear(buf)
		buf[0] = g.Type
		buf[1] = g.MaxResp // reserved in a v3 report: normally 0
		binary.BigEndian.PutUint16(buf[6:8], uint16(len(g.Records)))
		if err := igmpAddrs.putRecords(buf[igmpMinLen:], g.Records); err != nil {
			return err
		}
	case g.Type == IGMPQuery && g.Version == 3:
		if len(g.Sources) > 0xffff {
			return fmt.Errorf("igmp: query has %d sources, at most 65535 fit", len(g.Sources))
		}
		if g.QRV > 7 {
			return fmt.Errorf("igmp: QRV %d does not fit in 3 bits", g.QRV)
		}
		if buf, err = b.PrependBytes(igmpv3QueryMinLen + 4*len(g.Sources)); err != nil {
			return err
		}
		buf[0] = g.Type
		buf[1] = g.MaxResp
		if !putIPv4(buf[4:8], g.Group) {
			return fmt.Errorf("igmp: group %v is not IPv4", g.Group)
		}
		buf[8] = g.QRV
		if g.SuppressRouterProcessing {
			buf[8] |= 0x08
		}
		buf[9] = g.QQIC
		binary.BigEndian.PutUint16(buf[10:12], uint16(len(g.Sources)))
		for i, s := range g.Sources {
			if !putIPv4(buf[12+4*i:16+4*i], s) {
				return fmt.Errorf("igmp: query source %v is not IPv4", s)
			}
		}
	case g.Type == IGMPv1Report || g.Type == IGMPv2Report || g.Type == IGMPv2Leave || g.Type == IGMPQuery:
		if buf, err = b.PrependBytes(igmpMinLen); err != nil {
			return err
		}
		buf[0] = g.Type
		buf[1] = g.MaxResp
		if !putIPv4(buf[4:8], g.Group) {
			return fmt.Errorf("igmp: group %v is not IPv4", g.Group)
		}
	default:
		return fmt.Errorf("igmp: cannot serialize %s", g.TypeName())
	}
	buf[2], buf[3] = 0, 0
	if opts.ComputeChecksums {
		g.Checksum = foldChecksum(onesSum(0, buf))
	}
	binary.BigEndian.PutUint16(buf[2:4], g.Checksum)
	return nil
}

// putIPv4 writes an IPv4 address into dst (4 bytes); the zero netip.Addr
// writes 0.0.0.0. It reports false for an IPv6 address.
func putIPv4(dst []byte, a netip.Addr) bool {
	if !a.IsValid() {
		clear(dst[:4])
		return true
	}
	a = a.Unmap()
	if !a.Is4() {
		return false
	}
	a4 := a.As4()
	copy(dst, a4[:])
	return true
}
