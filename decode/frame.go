// Package decode turns captured frames into the facts vrrpctl reasons about.
//
// Every wire format the project reads or writes lives here once: VRRP v2/v3
// (vrrp.go), IGMP v1/v2/v3 (igmp.go), ARP (arp.go), IPv6 neighbour
// discovery (nd.go) and MLD v1/v2 (mld.go) as gopacket DecodingLayers with
// SerializeTo; Register (register.go) makes gopacket.NewPacket and
// DecodingLayerParser use them for IP protocols 112 and 2 and EtherType
// 0x0806 (NewPacket alone for the ICMPv6 types of ND and MLD); importing
// the package leaves gopacket's tables alone. The link and IPv4 headers go
// through gopacket's own layers; IPv6 is parsed by hand (see decoder.go).
// Checksums are in checksum.go.
//
// A Decoder (decoder.go) fills a Frame, reusing all memory between calls, so
// the layers a Frame points to are only valid until the next Decode. It does
// not allocate for frames that are not VRRP, IGMP, ARP, ND or MLD, nor for
// those once their address and record slices have grown. A malformed VRRP,
// IGMP, ARP, ND or MLD message is a *FrameError; anything else it cannot
// make sense of is KindOther. Nothing in this package panics on malformed
// input.
package decode

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// MAC is an Ethernet address held by value, so frames carry it without allocating.
type MAC [6]byte

func (m MAC) String() string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

// IsZero reports whether m is 00:00:00:00:00:00 (also: not known).
func (m MAC) IsZero() bool { return m == MAC{} }

// IsMulticast reports whether the group bit is set (broadcast included).
func (m MAC) IsMulticast() bool { return m[0]&1 == 1 }

// Kind says which part of a Frame is filled.
type Kind uint8

const (
	KindOther Kind = iota // nothing of interest past the link header
	KindVRRP              // Frame.VRRP and Frame.IP are set
	KindIGMP              // Frame.IGMP and Frame.IP are set
	KindARP               // Frame.ARP is set
	KindIP                // another IPv4/IPv6 packet: Frame.IP and Frame.L4 are set
	KindND                // ICMPv6 neighbour discovery: Frame.ND and Frame.IP are set
	KindMLD               // MLD report or done (and queries): Frame.MLD and Frame.IP are set
)

func (k Kind) String() string {
	switch k {
	case KindVRRP:
		return "vrrp"
	case KindIGMP:
		return "igmp"
	case KindARP:
		return "arp"
	case KindIP:
		return "ip"
	case KindND:
		return "nd"
	case KindMLD:
		return "mld"
	}
	return "other"
}

// IPHeader is what the analysis needs of an IPv4 or IPv6 header.
type IPHeader struct {
	Version  uint8 // 4 or 6
	Src, Dst netip.Addr
	TTL      uint8 // hop limit for IPv6
	Protocol uint8 // for IPv6 the upper-layer protocol, after any extension headers
	TOS      uint8 // traffic class for IPv6
}

// Transport summarises the ICMP or TCP header of a KindIP frame: enough to
// tell a request from its answer (echo request/reply, SYN/SYN-ACK/RST).
type Transport struct {
	Protocol         uint8 // 1 ICMP, 6 TCP, 17 UDP, 58 ICMPv6, 0 none decoded
	ICMPType         uint8
	ICMPCode         uint8
	ICMPID, ICMPSeq  uint16
	SrcPort, DstPort uint16
	TCPFlags         uint8 // FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10
}

// ChecksumStatus is the result of verifying a VRRP or ICMPv6 checksum.
type ChecksumStatus uint8

const (
	ChecksumNotChecked ChecksumStatus = iota // truncated packet: cannot tell
	ChecksumOK                               // verifies as its version requires
	ChecksumBad                              // verifies in no known way
	ChecksumV2Style                          // a VRRPv3 packet that only verifies without the IP pseudo-header (VRRP only)
)

func (c ChecksumStatus) String() string {
	switch c {
	case ChecksumOK:
		return "ok"
	case ChecksumBad:
		return "bad"
	case ChecksumV2Style:
		return "v2-style"
	}
	return "not-checked"
}

// Frame is one captured frame, decoded. The pointers refer to the Decoder's
// reused layers: copy what you keep.
type Frame struct {
	Number   uint64 // 1-based, as in tcpdump and Wireshark
	Time     time.Time
	Length   int // original length on the wire
	CapLen   int // bytes captured
	LinkType layers.LinkType

	// VLAN is the innermost 802.1Q VLAN ID, OuterVLAN the 802.1ad (QinQ)
	// service tag when there are two; both 0 when untagged.
	VLAN, OuterVLAN uint16

	// SrcMAC is the Ethernet source (or the SLL address). DstMAC is only
	// meaningful when HasDstMAC: Linux cooked captures (SLL, SLL2) record
	// no destination address.
	SrcMAC, DstMAC MAC
	HasDstMAC      bool
	// SLLPacketType is the cooked header's packet type (0 host, 1 broadcast,
	// 2 multicast, 3 other host, 4 outgoing) on SLL/SLL2 captures.
	SLLPacketType uint16

	Kind Kind
	IP   IPHeader  // for KindVRRP, KindIGMP, KindIP, KindND, KindMLD
	L4   Transport // for KindIP

	VRRP *VRRP // for KindVRRP
	IGMP *IGMP // for KindIGMP
	ARP  *ARP  // for KindARP
	ND   *ND   // for KindND
	MLD  *MLD  // for KindMLD

	// VRRPChecksum is set for KindVRRP (the pseudo-header needs the IP layer).
	VRRPChecksum ChecksumStatus
	// ICMPv6Checksum is set for KindND and KindMLD: ChecksumOK or
	// ChecksumBad, or ChecksumNotChecked when the capture cut the packet
	// short. A bad checksum does not stop the message from decoding.
	ICMPv6Checksum ChecksumStatus
}

// LinkTypeName names a link type as gopacket does, or by its number where
// gopacket has no name for it (raw IPv4 and IPv6, 228 and 229).
func LinkTypeName(lt layers.LinkType) string {
	switch lt {
	case layers.LinkTypeIPv4:
		return "Raw IPv4"
	case layers.LinkTypeIPv6:
		return "Raw IPv6"
	}
	if name := lt.String(); name != "UnknownLinkType" {
		return name
	}
	return fmt.Sprint(uint16(lt))
}
