package decode

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/gopacket/gopacket"
)

// IGMPv3 group record types (RFC 3376 section 4.2.12), also the MLDv2
// multicast address record types (RFC 3810 section 5.2.12).
const (
	IGMPModeIsInclude   = 1
	IGMPModeIsExclude   = 2
	IGMPChangeToInclude = 3
	IGMPChangeToExclude = 4
	IGMPAllowNewSources = 5
	IGMPBlockOldSources = 6
)

// Membership is what an IGMP or MLD report means for a host's membership
// in a group.
type Membership uint8

const (
	MembershipNone    Membership = iota // a query, or a record of unknown type
	MembershipJoin                      // CHANGE_TO_EXCLUDE / MODE_IS_EXCLUDE with no sources, IGMP v1/v2 report, MLDv1 report
	MembershipLeave                     // CHANGE_TO_INCLUDE / MODE_IS_INCLUDE with no sources, IGMPv2 leave, MLDv1 done
	MembershipSources                   // a source-filtered change: ALLOW/BLOCK, or INCLUDE/EXCLUDE with sources
)

func (m Membership) String() string {
	switch m {
	case MembershipJoin:
		return "join"
	case MembershipLeave:
		return "leave"
	case MembershipSources:
		return "sources"
	}
	return "none"
}

// GroupRecord is one IGMPv3 group record (RFC 3376 section 4.2.4) or
// MLDv2 multicast address record (RFC 3810 section 5.2.4). The two share
// their layout, their types and their meaning; only the addresses differ,
// 4 bytes in IGMPv3 and 16 in MLDv2:
//
//	record type | aux data len (32-bit words) | number of sources(16) | group | sources | aux data
//
// Sources is reused between decodes.
type GroupRecord struct {
	Type    uint8
	AuxLen  uint8 // in 32-bit words; the aux data itself is skipped (MLDv2 defines none)
	Group   netip.Addr
	Sources []netip.Addr
}

// IGMPRecord is an IGMPv3 group record.
type IGMPRecord = GroupRecord

// MLDRecord is an MLDv2 multicast address record.
type MLDRecord = GroupRecord

// Meaning says what the record does to the membership of its group: see
// recordMeaning.
func (r *GroupRecord) Meaning() Membership { return recordMeaning(r.Type, len(r.Sources)) }

// TypeName is the RFC name of the record type, e.g. CHANGE_TO_EXCLUDE.
func (r *GroupRecord) TypeName() string { return IGMPRecordTypeName(r.Type) }

func (r GroupRecord) String() string {
	return fmt.Sprintf("%s %v sources %v", IGMPRecordTypeName(r.Type), r.Group, r.Sources)
}

// recordMeaning is the rule for IGMPv3 and MLDv2 records alike: an
// exclude-mode record with no sources is a join (RFC 3376 section 5.1: a
// v2-style join), an include-mode record with no sources a leave, anything
// else with a known type a change of sources.
func recordMeaning(typ uint8, sources int) Membership {
	switch typ {
	case IGMPModeIsExclude, IGMPChangeToExclude:
		if sources == 0 {
			return MembershipJoin
		}
		return MembershipSources
	case IGMPModeIsInclude, IGMPChangeToInclude:
		if sources == 0 {
			return MembershipLeave
		}
		return MembershipSources
	case IGMPAllowNewSources, IGMPBlockOldSources:
		return MembershipSources
	}
	return MembershipNone
}

// IGMPRecordTypeName names an IGMPv3 group record type as RFC 3376 does,
// or an MLDv2 multicast address record type (the same names, RFC 3810).
func IGMPRecordTypeName(t uint8) string {
	switch t {
	case IGMPModeIsInclude:
		return "MODE_IS_INCLUDE"
	case IGMPModeIsExclude:
		return "MODE_IS_EXCLUDE"
	case IGMPChangeToInclude:
		return "CHANGE_TO_INCLUDE"
	case IGMPChangeToExclude:
		return "CHANGE_TO_EXCLUDE"
	case IGMPAllowNewSources:
		return "ALLOW_NEW_SOURCES"
	case IGMPBlockOldSources:
		return "BLOCK_OLD_SOURCES"
	}
	return fmt.Sprintf("record type %d", t)
}

// addrCodec reads and writes the addresses of one family of membership
// messages: IGMP's of 4 bytes, MLD's of 16. Errors start with its name.
type addrCodec struct {
	name string // "igmp" or "mld"
	size int    // 4 or 16
}

var (
	igmpAddrs = addrCodec{"igmp", 4}
	mldAddrs  = addrCodec{"mld", 16}
)

func (c addrCodec) family() string {
	if c.size == 4 {
		return "IPv4"
	}
	return "IPv6"
}

// read returns the address at the start of b, which holds at least c.size bytes.
func (c addrCodec) read(b []byte) netip.Addr {
	if c.size == 4 {
		return netip.AddrFrom4([4]byte(b))
	}
	return netip.AddrFrom16([16]byte(b))
}

// put writes a into dst; the zero netip.Addr writes the unspecified
// address. It reports false for an address of the other family.
func (c addrCodec) put(dst []byte, a netip.Addr) bool {
	if c.size == 4 {
		return putIPv4(dst, a)
	}
	return putIPv6(dst, a)
}

// recordHeaderLen is the fixed part of a group record: 4 bytes and the group.
func (c addrCodec) recordHeaderLen() int { return 4 + c.size }

// decodeSources appends the n addresses at the start of data to dst; the
// caller has checked that data holds them.
func (c addrCodec) decodeSources(dst []netip.Addr, data []byte, n int) []netip.Addr {
	for i := 0; i < n; i++ {
		dst = append(dst, c.read(data[i*c.size:]))
	}
	return dst
}

// decodeRecords reads n group records from data starting at off, appending
// them to recs (reusing the Sources of records decoded earlier in the same
// slots). It returns the records and the offset after the last one.
func (c addrCodec) decodeRecords(recs []GroupRecord, data []byte, off, n int, df gopacket.DecodeFeedback) ([]GroupRecord, int, error) {
	hlen := c.recordHeaderLen()
	for i := 0; i < n; i++ {
		if rest := len(data) - off; rest < hlen {
			df.SetTruncated()
			return recs, off, fmt.Errorf("%s: record %d of %d needs %d bytes, %d remain", c.name, i+1, n, hlen, rest)
		}
		h := data[off : off+hlen]
		auxLen := h[1]
		nsrc := int(binary.BigEndian.Uint16(h[2:4]))
		need := hlen + c.size*nsrc + 4*int(auxLen)
		if rest := len(data) - off; need > rest {
			df.SetTruncated()
			return recs, off, fmt.Errorf("%s: record %d of %d with %d sources and %d words of aux data needs %d bytes, %d remain", c.name, i+1, n, nsrc, auxLen, need, rest)
		}
		if len(recs) < cap(recs) {
			recs = recs[:len(recs)+1]
		} else {
			recs = append(recs, GroupRecord{})
		}
		r := &recs[len(recs)-1]
		r.Type = h[0]
		r.AuxLen = auxLen
		r.Group = c.read(h[4:])
		r.Sources = c.decodeSources(r.Sources[:0], data[off+hlen:], nsrc)
		off += need
	}
	return recs, off, nil
}

// recordsLen is the number of bytes the records take on the wire, or an
// error when a count does not fit its 16 bits.
func (c addrCodec) recordsLen(recs []GroupRecord) (int, error) {
	if len(recs) > 0xffff {
		return 0, fmt.Errorf("%s: %d records, at most 65535 fit", c.name, len(recs))
	}
	size := 0
	for i := range recs {
		r := &recs[i]
		if len(r.Sources) > 0xffff {
			return 0, fmt.Errorf("%s: record %d has %d sources, at most 65535 fit", c.name, i+1, len(r.Sources))
		}
		size += c.recordHeaderLen() + c.size*len(r.Sources) + 4*int(r.AuxLen)
	}
	return size, nil
}

// putRecords writes the records into buf, which recordsLen sized and which
// is zeroed (aux data is written as zeros).
func (c addrCodec) putRecords(buf []byte, recs []GroupRecord) error {
	off := 0
	for i := range recs {
		r := &recs[i]
		buf[off] = r.Type
		buf[off+1] = r.AuxLen
		binary.BigEndian.PutUint16(buf[off+2:off+4], uint16(len(r.Sources)))
		if !c.put(buf[off+4:], r.Group) {
			return fmt.Errorf("%s: record %d group %v is not %s", c.name, i+1, r.Group, c.family())
		}
		off += c.recordHeaderLen()
		for _, s := range r.Sources {
			if !c.put(buf[off:], s) {
				return fmt.Errorf("%s: record %d source %v is not %s", c.name, i+1, s, c.family())
			}
			off += c.size
		}
		off += 4 * int(r.AuxLen)
	}
	return nil
}
