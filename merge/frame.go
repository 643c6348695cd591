package merge

import (
	"encoding/binary"
	"hash/maphash"
	"net/netip"

	"github.com/gopacket/gopacket/layers"
)

// EtherTypes and link types read here.
const (
	etherIPv4  = 0x0800
	etherARP   = 0x0806
	etherIPv6  = 0x86dd
	etherDot1Q = 0x8100
	etherQinQ  = 0x88a8
	ether9100  = 0x9100

	linkRawDLT12 = 12 // DLT_RAW on most systems, as some files carry it
	linkRawDLT14 = 14 // DLT_RAW on OpenBSD

	sllOutgoing = 4 // Linux cooked capture packet type: sent by this host
)

// keyBytes bounds the network-layer bytes a frame is known by: enough to
// tell frames apart, few enough that two captures with different snap
// lengths still agree.
const keyBytes = 128

// seed hashes frames: one per process, the same for every capture.
var seed = maphash.MakeSeed()

// frame is what the merge reads of one captured frame.
type frame struct {
	net     []byte // the network layer (IP or ARP header on), cut to its declared length
	etype   uint16 // the EtherType of net; 0 when the frame has no network layer read here
	l2Dst   bool   // the link layer carries a destination MAC
	l2Group bool   // and it is multicast or broadcast
	sllType int    // Linux cooked capture packet type, -1 for other link types
}

// parse finds the network layer of a frame of link type lt: behind
// Ethernet (802.1Q and 802.1ad tags skipped), Linux cooked headers (SLL,
// SLL2), or none (raw IP). The same frame seen on an Ethernet interface and
// on "any" has the same network layer.
func parse(lt layers.LinkType, data []byte) frame {
	fr := frame{sllType: -1}
	var etype uint16
	var payload []byte
	switch lt {
	case layers.LinkTypeEthernet:
		if len(data) < 14 {
			return fr
		}
		fr.l2Dst, fr.l2Group = true, data[0]&1 == 1
		etype, payload = binary.BigEndian.Uint16(data[12:]), data[14:]
	case layers.LinkTypeLinuxSLL:
		if len(data) < 16 {
			return fr
		}
		fr.sllType = int(binary.BigEndian.Uint16(data))
		etype, payload = binary.BigEndian.Uint16(data[14:]), data[16:]
	case layers.LinkTypeLinuxSLL2:
		if len(data) < 20 {
			return fr
		}
		fr.sllType = int(data[10])
		etype, payload = binary.BigEndian.Uint16(data), data[20:]
	case layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6, linkRawDLT12, linkRawDLT14:
		if len(data) == 0 {
			return fr
		}
		switch data[0] >> 4 {
		case 4:
			etype = etherIPv4
		case 6:
			etype = etherIPv6
		default:
			return fr
		}
		payload = data
	default:
		return fr
	}
	for etype == etherDot1Q || etype == etherQinQ || etype == ether9100 {
		if len(payload) < 4 {
			return fr
		}
		etype, payload = binary.BigEndian.Uint16(payload[2:]), payload[4:]
	}
	n := 0
	switch etype {
	case etherIPv4:
		if len(payload) < 20 || payload[0]>>4 != 4 {
			return fr
		}
		if n = int(binary.BigEndian.Uint16(payload[2:])); n < 20 {
			return fr
		}
	case etherIPv6:
		if len(payload) < 40 || payload[0]>>4 != 6 {
			return fr
		}
		n = 40 + int(binary.BigEndian.Uint16(payload[4:]))
	case etherARP:
		if len(payload) < 8 {
			return fr
		}
		n = 8 + 2*int(payload[4]) + 2*int(payload[5])
	default:
		return fr
	}
	// Ethernet pads short frames and some captures keep the FCS: the
	// header's own length says where the packet ends.
	fr.net, fr.etype = payload[:min(n, len(payload))], etype
	return fr
}

// sel is a cheap hash of a frame's first network-layer bytes, which
// decides whether the first pass keeps it (before the key is computed) and
// is the top of its key.
func (fr *frame) sel() uint64 {
	p := fr.net
	p = p[:min(len(p), selBytes)]
	h := uint64(len(fr.net))
	k := uint64(0x9e3779b97f4a7c15)
	for ; len(p) >= 8; p = p[8:] {
		h ^= binary.LittleEndian.Uint64(p) * k
		h = h<<23 | h>>41
		k += 0x632be59bd9b4e019
	}
	var tail [8]byte
	copy(tail[:], p)
	return mix(h ^ binary.LittleEndian.Uint64(tail[:])*k)
}

// selBytes: the IP header and the start of the transport header (ports,
// sequence numbers), which tell most frames apart.
const selBytes = 48

// mix is splitmix64's finalizer.
func mix(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	return h ^ h>>31
}

// selBits of a key are its sel's: the sample keeps keys by them.
const (
	selBits = 16
	selMask = uint64(1<<selBits-1) << (64 - selBits)
)

// key identifies a frame by its network-layer bytes (never its time), so
// that copies of one frame captured at several places have the same key
// whatever their link layers. A frame without a network layer read here is
// known by all its bytes (and matches only a copy of the same link type).
// comparable is false when too few bytes were captured for the key to
// mean the same in another capture.
func (fr *frame) key(lt layers.LinkType, data []byte) (k uint64, comparable bool) {
	if fr.etype == 0 {
		var h maphash.Hash
		h.SetSeed(seed)
		var b [2]byte
		binary.BigEndian.PutUint16(b[:], uint16(lt))
		h.Write(b[:])
		h.Write(data)
		return h.Sum64(), false
	}
	return fr.keyWith(fr.sel())
}

// keyWith is key for a frame whose sel is known.
func (fr *frame) keyWith(sel uint64) (k uint64, comparable bool) {
	want := min(fr.declared(), keyBytes)
	if len(fr.net) < want {
		return maphash.Bytes(seed, fr.net), false
	}
	return sel&selMask | maphash.Bytes(seed, fr.net[:want])&^selMask, true
}

// declared is the network layer's length by its own header.
func (fr *frame) declared() int {
	p := fr.net
	switch fr.etype {
	case etherIPv4:
		return int(binary.BigEndian.Uint16(p[2:]))
	case etherIPv6:
		return 40 + int(binary.BigEndian.Uint16(p[4:]))
	case etherARP:
		return 8 + 2*int(p[4]) + 2*int(p[5])
	}
	return len(p)
}

// sameNet reports whether two frames carry the same network-layer bytes,
// as far as the key looks.
func sameNet(a, b *frame) bool {
	if a.etype != b.etype || a.etype == 0 {
		return false
	}
	n := min(len(a.net), len(b.net), keyBytes)
	return string(a.net[:n]) == string(b.net[:n])
}

// Candidate classes: the frames that align clocks, each class sampled on
// its own so that the best are kept however many others there are.
const (
	notCandidate = iota
	preferred    // VRRP adverts, IGMP and MLD reports: every router and switch port sees them
	broadcast    // ARP, other multicast and broadcast: seen all over a segment
	unicast      // other IP packets: seen where they are sent and received (a client and a router)
	numClasses
)

// IP protocol numbers.
const (
	protoHopByHop = 0
	protoIGMP     = 2
	protoRouting  = 43
	protoICMPv6   = 58
	protoDstOpts  = 60
	protoVRRP     = 112
)

// class says whether a frame can align clocks, and how well.
func (fr *frame) class() int {
	p := fr.net
	switch fr.etype {
	case etherARP:
		return broadcast
	case etherIPv4:
		group := p[16]&0xf0 == 0xe0 || binary.BigEndian.Uint32(p[16:]) == 0xffffffff || fr.l2Group
		if !group {
			return unicast
		}
		if proto := p[9]; proto == protoVRRP || proto == protoIGMP {
			return preferred
		}
		return broadcast
	case etherIPv6:
		if p[24] != 0xff && !fr.l2Group {
			return unicast
		}
		next, off := p[6], 40
		for (next == protoHopByHop || next == protoRouting || next == protoDstOpts) && off+8 <= len(p) {
			next, off = p[off], off+8+8*int(p[off+1])
		}
		switch {
		case next == protoVRRP:
			return preferred
		case next == protoICMPv6 && off < len(p):
			switch p[off] {
			case 130, 131, 132, 143: // MLD query, v1 report, done, v2 report
				return preferred
			}
		}
		return broadcast
	}
	return notCandidate
}

// source returns the IP source of a packet, and whether it is a VRRP
// advert (whose source is a router's own address).
func (fr *frame) source() (src netip.Addr, advert, ok bool) {
	p := fr.net
	switch fr.etype {
	case etherIPv4:
		return netip.AddrFrom4([4]byte(p[12:16])), p[9] == protoVRRP, true
	case etherIPv6:
		return netip.AddrFrom16([16]byte(p[8:24])), p[6] == protoVRRP, true
	}
	return src, false, false
}
