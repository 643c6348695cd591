package decode

import (
	"net/netip"

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

// IGMPv3 group record types (RFC 3376 section 4.2.12).
const (
	IGMPModeIsInclude   = 1
	IGMPModeIsExclude   = 2
	IGMPChangeToInclude = 3
	IGMPChangeToExclude = 4
	IGMPAllowNewSources = 5
	IGMPBlockOldSources = 6
)

// Membership is what a report means for a host's membership in a group.
type Membership uint8

const (
	MembershipNone    Membership = iota // a query, or a record that changes sources only
	MembershipJoin                      // CHANGE_TO_EXCLUDE / MODE_IS_EXCLUDE with no sources, v1/v2 report
	MembershipLeave                     // CHANGE_TO_INCLUDE / MODE_IS_INCLUDE with no sources, v2 leave
	MembershipSources                   // a source-filtered change: ALLOW/BLOCK, or INCLUDE/EXCLUDE with sources
)

// IGMPRecord is one IGMPv3 group record. Sources is reused between decodes.
type IGMPRecord struct {
	Type    uint8
	AuxLen  uint8 // in 32-bit words; the aux data itself is skipped
	Group   netip.Addr
	Sources []netip.Addr
}

// IGMP is an IGMP v1, v2 or v3 message (RFC 1112, 2236, 3376).
//
// TODO(decode): implement DecodeFromBytes, CanDecode, NextLayerType,
// LayerType, SerializeTo, Meaning.
type IGMP struct {
	layers.BaseLayer
	Type     uint8
	Version  uint8 // 1, 2 or 3: from the type and, for queries, the length
	MaxResp  uint8
	Checksum uint16
	Group    netip.Addr   // v1/v2 messages and queries; unset for v3 reports
	Records  []IGMPRecord // v3 reports; reused between decodes
}
