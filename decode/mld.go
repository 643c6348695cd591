package decode

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// MLD message types (RFC 2710, RFC 3810).
const (
	MLDQuery    = 130 // v1 or v2, by its length
	MLDv1Report = 131
	MLDv1Done   = 132
	MLDv2Report = 143
)

const (
	mldv1Len          = 24
	mldv2QueryMinLen  = 28
	mldv2ReportMinLen = 8
)

// isMLDType reports whether an ICMPv6 type is an MLD message.
func isMLDType(t uint8) bool {
	return t == MLDQuery || t == MLDv1Report || t == MLDv1Done || t == MLDv2Report
}

// MLD is a Multicast Listener Discovery message, version 1 (RFC 2710) or
// 2 (RFC 3810), the IPv6 counterpart of IGMP. The layer is the whole
// ICMPv6 message, from its type octet:
//
//	 0: type | code | checksum(16)
//	v1 query, report, done  4: max response delay(16) | reserved(16)  8: multicast address  (24 bytes)
//	v2 query                4: max response code(16) | reserved(16)   8: multicast address
//	                       24: reserved(4) S(1) QRV(3) | QQIC | number of sources(16)  28: sources
//	v2 report               4: reserved(16) | number of records(16)   8: records, each
//	                           record type | aux data len | number of sources(16), multicast address,
//	                           sources, aux data
//
// The version follows RFC 3810 section 8.1: a query of 24 bytes is v1, one
// of 28 bytes or more v2, other lengths are an error; the report types
// name theirs. Bytes after the message are Payload.
//
// Unlike gopacket's MLD layers, the message keeps no slice of the packet
// outside BaseLayer, and its slices are reused, so that it decodes without
// allocating once they have grown.
type MLD struct {
	layers.BaseLayer
	Version uint8       // 1 or 2
	Type    uint8       // MLDQuery, MLDv1Report, MLDv1Done, MLDv2Report
	Group   netip.Addr  // v1 report and done, queries (:: in a general query); unset for v2 reports
	Records []MLDRecord // v2 reports; reused between decodes

	Code     uint8 // 0 as sent
	Checksum uint16
	// MaxResp is the 16 bits after the checksum: the maximum response
	// delay in milliseconds of a v1 query, the maximum response code of a
	// v2 query (RFC 3810 section 5.1.3); in reports and dones the same
	// field (reserved in a v2 report), normally 0.
	MaxResp uint16

	// MLDv2 queries only (RFC 3810 section 5.1).
	SuppressRouterProcessing bool         // the S flag
	QRV                      uint8        // querier's robustness variable
	QQIC                     uint8        // querier's query interval code
	Sources                  []netip.Addr // reused between decodes

	// ckSrc and ckDst are the IP addresses of the checksum's
	// pseudo-header, set by SetNetworkLayerForChecksum or SetChecksumAddrs.
	ckSrc, ckDst netip.Addr
}

// LayerTypeMLD is the layer type of MLD messages, which gopacket.NewPacket
// gives this layer (see decodeICMPv6).
var LayerTypeMLD = gopacket.RegisterLayerType(2116, gopacket.LayerTypeMetadata{
	Name:    "MLD",
	Decoder: gopacket.DecodeFunc(decodeMLD),
})

// LayerType returns LayerTypeMLD.
func (m *MLD) LayerType() gopacket.LayerType { return LayerTypeMLD }

// CanDecode returns LayerTypeMLD.
func (m *MLD) CanDecode() gopacket.LayerClass { return LayerTypeMLD }

// NextLayerType returns gopacket.LayerTypeZero: MLD carries no payload.
func (m *MLD) NextLayerType() gopacket.LayerType { return gopacket.LayerTypeZero }

// Meaning says what a v1 message does to the membership of Group: a
// report joins, a done leaves. Queries and v2 reports (whose records
// carry their own Meaning) are MembershipNone.
func (m *MLD) Meaning() Membership {
	switch m.Type {
	case MLDv1Report:
		return MembershipJoin
	case MLDv1Done:
		return MembershipLeave
	}
	return MembershipNone
}

// TypeName names the message type, e.g. "v2 report" or "v1 query".
func (m *MLD) TypeName() string { return mldTypeName(m.Type, m.Version) }

// mldTypeName names an MLD message type; a query of version 0 is "query".
func mldTypeName(t, version uint8) string {
	switch t {
	case MLDQuery:
		if version == 0 {
			return "query"
		}
		return fmt.Sprintf("v%d query", version)
	case MLDv1Report:
		return "v1 report"
	case MLDv1Done:
		return "v1 done"
	case MLDv2Report:
		return "v2 report"
	}
	return fmt.Sprintf("ICMPv6 type %d", t)
}

// DecodeFromBytes decodes an MLD message. Records, their Sources and the
// query Sources are reused; nothing refers to data except BaseLayer.
func (m *MLD) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < icmpv6HeaderLen {
		df.SetTruncated()
		return fmt.Errorf("mld: message of %d bytes is shorter than the 4-byte ICMPv6 header", len(data))
	}
	typ := data[0]
	if !isMLDType(typ) {
		return fmt.Errorf("mld: ICMPv6 type %d is not an MLD message (130, 131, 132 or 143)", typ)
	}
	fixed := mldv1Len
	if typ == MLDv2Report {
		fixed = mldv2ReportMinLen
	}
	if len(data) < fixed {
		df.SetTruncated()
		return fmt.Errorf("mld: %s of %d bytes is shorter than its %d fixed bytes", mldTypeName(typ, 0), len(data), fixed)
	}
	m.Type = typ
	m.Code = data[1]
	m.Checksum = binary.BigEndian.Uint16(data[2:4])
	m.MaxResp = binary.BigEndian.Uint16(data[4:6])
	m.Group = netip.Addr{}
	m.Records = m.Records[:0]
	m.Sources = m.Sources[:0]
	m.SuppressRouterProcessing, m.QRV, m.QQIC = false, 0, 0

	end := mldv1Len
	switch typ {
	case MLDQuery:
		m.Group = netip.AddrFrom16([16]byte(data[8:24]))
		switch {
		case len(data) == mldv1Len:
			m.Version = 1
		case len(data) < mldv2QueryMinLen:
			return fmt.Errorf("mld: query of %d bytes is neither v1 (24 bytes) nor v2 (28 or more)", len(data))
		default:
			m.Version = 2
			m.SuppressRouterProcessing = data[24]&0x08 != 0
			m.QRV = data[24] & 0x07
			m.QQIC = data[25]
			n := int(binary.BigEndian.Uint16(data[26:28]))
			if rest := len(data) - mldv2QueryMinLen; 16*n > rest {
				df.SetTruncated()
				return fmt.Errorf("mld: query source count %d needs %d bytes, %d remain", n, 16*n, rest)
			}
			m.Sources = mldAddrs.decodeSources(m.Sources, data[mldv2QueryMinLen:], n)
			end = mldv2QueryMinLen + 16*n
		}
	case MLDv1Report, MLDv1Done:
		m.Version = 1
		m.Group = netip.AddrFrom16([16]byte(data[8:24]))
	case MLDv2Report:
		m.Version = 2
		var err error
		m.Records, end, err = mldAddrs.decodeRecords(m.Records, data, mldv2ReportMinLen, int(binary.BigEndian.Uint16(data[6:8])), df)
		if err != nil {
			return err
		}
	}
	m.BaseLayer = layers.BaseLayer{Contents: data[:end], Payload: data[end:]}
	return nil
}

func decodeMLD(data []byte, p gopacket.PacketBuilder) error {
	m := &MLD{}
	if err := m.DecodeFromBytes(data, p); err != nil {
		return err
	}
	p.AddLayer(m)
	return nil
}

// SetNetworkLayerForChecksum takes the addresses of the ICMPv6 checksum's
// pseudo-header from an *layers.IPv6, as layers.ICMPv6 does.
func (m *MLD) SetNetworkLayerForChecksum(l gopacket.NetworkLayer) error {
	src, dst, err := networkAddrs(l)
	if err != nil {
		return fmt.Errorf("mld: %w", err)
	}
	m.SetChecksumAddrs(src, dst)
	return nil
}

// SetChecksumAddrs sets the IPv6 source and destination that the ICMPv6
// checksum's pseudo-header covers.
func (m *MLD) SetChecksumAddrs(src, dst netip.Addr) { m.ckSrc, m.ckDst = src, dst }

// SerializeTo writes v1 reports and dones, queries of either version
// (Version 2 for a v2 query) and v2 reports. With opts.ComputeChecksums it
// computes the checksum, which needs SetNetworkLayerForChecksum or
// SetChecksumAddrs first; otherwise it writes Checksum as set. Counts of
// records and sources come from the slices; aux data is written as zeros.
// An unset Group is written as ::.
func (m *MLD) SerializeTo(b gopacket.SerializeBuffer, opts gopacket.SerializeOptions) error {
	var buf []byte
	var err error
	switch {
	case m.Type == MLDv2Report:
		size, err := mldAddrs.recordsLen(m.Records)
		if err != nil {
			return err
		}
		size += mldv2ReportMinLen
		if buf, err = b.PrependBytes(size); err != nil {
			return err
		}
		clear(buf)
		binary.BigEndian.PutUint16(buf[6:8], uint16(len(m.Records)))
		if err := mldAddrs.putRecords(buf[mldv2ReportMinLen:], m.Records); err != nil {
			return err
		}
	case m.Type == MLDQuery && m.Version == 2:
		if len(m.Sources) > 0xffff {
			return fmt.Errorf("mld: query has %d sources, at most 65535 fit", len(m.Sources))
		}
		if m.QRV > 7 {
			return fmt.Errorf("mld: QRV %d does not fit in 3 bits", m.QRV)
		}
		if buf, err = b.PrependBytes(mldv2QueryMinLen + 16*len(m.Sources)); err != nil {
			return err
		}
		clear(buf)
		buf[24] = m.QRV
		if m.SuppressRouterProcessing {
			buf[24] |= 0x08
		}
		buf[25] = m.QQIC
		binary.BigEndian.PutUint16(buf[26:28], uint16(len(m.Sources)))
		for i, s := range m.Sources {
			if !putIPv6(buf[28+16*i:44+16*i], s) {
				return fmt.Errorf("mld: query source %v is not IPv6", s)
			}
		}
	case m.Type == MLDQuery || m.Type == MLDv1Report || m.Type == MLDv1Done:
		if buf, err = b.PrependBytes(mldv1Len); err != nil {
			return err
		}
		clear(buf)
	default:
		return fmt.Errorf("mld: cannot serialize %s", m.TypeName())
	}
	buf[0], buf[1] = m.Type, m.Code
	binary.BigEndian.PutUint16(buf[4:6], m.MaxResp)
	if m.Type != MLDv2Report && !putIPv6(buf[8:24], m.Group) {
		return fmt.Errorf("mld: group %v is not IPv6", m.Group)
	}
	if opts.ComputeChecksums {
		sum, err := icmpv6PseudoHeaderSum("mld", m.ckSrc, m.ckDst, len(buf))
		if err != nil {
			return err
		}
		m.Checksum = foldChecksum(onesSum(sum, buf))
	}
	binary.BigEndian.PutUint16(buf[2:4], m.Checksum)
	return nil
}
