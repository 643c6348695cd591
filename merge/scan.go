package merge

import (
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"strings"

	"github.com/vrrpctl/vrrpctl/decode"

	"github.com/gopacket/gopacket/layers"
	"github.com/vrrpctl/vrrpctl/capture"
)

// Bounds of what the first pass keeps of one capture.
const (
	maxPairs     = 8192 // unicast conversations counted (of each IP version), for the host a capture was taken on
	maxOutgoing  = 256  // sources of outgoing frames counted
	maxIfaceSeen = 64   // pcapng interfaces whose names are noted
)

// scan is what the first pass learns of one capture: a sample of its
// candidate frames for the clocks, and what tells where it was taken.
type scan struct {
	frames      uint64
	first, last int64 // nanoseconds, the capture's own clock; first is the anchor of its drift
	linkTypes   []layers.LinkType
	samples     [numClasses]*sample
	err         error // the read error that stopped the pass, if any

	ifaces   []capture.Interface // of the interfaces frames came from
	ifSeen   [maxIfaceSeen]bool
	outgoing map[netip.Addr]int  // SLL outgoing frames per IP source; adverts count more
	pairs4   *counter64          // unicast frames per IPv4 conversation (the lower address on top)
	pairs6   map[[32]byte]uint32 // and per IPv6 one
	overflow bool                // a conversation was not counted: the pairs are incomplete
}

// convSample picks the unicast frames whose conversations are counted:
// one in four, the same frames in every capture (by their bytes).
const convSample = 3 << 20

// advertWeight makes a router's own address (the source of its adverts)
// win over the VIP (the source of its GARPs and replies) among outgoing
// frames.
const advertWeight = 64

// scanFile reads a whole capture once.
func scanFile(path string, limit int) (*scan, error) {
	f, err := capture.OpenFile(path, "")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s := &scan{outgoing: make(map[netip.Addr]int), pairs4: newCounter64(maxPairs), pairs6: make(map[[32]byte]uint32)}
	for c := preferred; c < numClasses; c++ {
		s.samples[c] = newSample(limit, c != unicast)
	}
	lastLT := layers.LinkType(0xffff)
	for {
		data, ci, err := f.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				if s.frames == 0 {
					return nil, err
				}
				s.err = err
			}
			break
		}
		t := ci.Timestamp.UnixNano()
		if s.frames == 0 {
			s.first = t
		}
		s.last = max(s.last, t)
		s.frames++
		lt := f.FrameLinkType()
		if lt != lastLT {
			lastLT = lt
			if !containsLT(s.linkTypes, lt) {
				s.linkTypes = append(s.linkTypes, lt)
			}
		}
		if i := ci.InterfaceIndex; i < maxIfaceSeen && !s.ifSeen[i] {
			s.ifSeen[i] = true
			if in, ok := f.FrameInterface(); ok {
				s.ifaces = append(s.ifaces, in)
			}
		}
		fr := parse(lt, data)
		if fr.etype == 0 {
			continue
		}
		if fr.sllType == sllOutgoing {
			s.outgoingFrame(&fr)
		}
		c := fr.class()
		if c == notCandidate {
			continue
		}
		sel := fr.sel()
		if c == unicast && sel&convSample == 0 {
			s.conversation(&fr)
		}
		if s.samples[c].wants(sel) {
			if k, ok := fr.keyWith(sel); ok {
				s.samples[c].add(k, t)
			}
		}
	}
	for c := preferred; c < numClasses; c++ {
		s.samples[c].finish()
	}
	return s, nil
}

func containsLT(lts []layers.LinkType, lt layers.LinkType) bool {
	for _, l := range lts {
		if l == lt {
			return true
		}
	}
	return false
}

// conversation counts a unicast frame between two addresses.
func (s *scan) conversation(fr *frame) {
	p := fr.net
	if fr.etype == etherIPv4 {
		a, b := binary.BigEndian.Uint32(p[12:]), binary.BigEndian.Uint32(p[16:])
		if b < a {
			a, b = b, a
		}
		// 0.0.0.0 talks to nobody: the key is never 0.
		if !s.pairs4.add(uint64(a)<<32 | uint64(b)) {
			s.overflow = true
		}
		return
	}
	var k [32]byte
	if a, b := p[8:24], p[24:40]; string(b) < string(a) {
		copy(k[:16], b)
		copy(k[16:], a)
	} else {
		copy(k[:16], a)
		copy(k[16:], b)
	}
	if n, ok := s.pairs6[k]; ok {
		s.pairs6[k] = n + 1
	} else if len(s.pairs6) < maxPairs {
		s.pairs6[k] = 1
	} else {
		s.overflow = true
	}
}

// eachPair calls f for every conversation counted.
func (s *scan) eachPair(f func(a, b netip.Addr, n uint32)) {
	s.pairs4.each(func(k uint64, n uint32) {
		var a, b [4]byte
		binary.BigEndian.PutUint32(a[:], uint32(k>>32))
		binary.BigEndian.PutUint32(b[:], uint32(k))
		f(netip.AddrFrom4(a), netip.AddrFrom4(b), n)
	})
	for k, n := range s.pairs6 {
		f(netip.AddrFrom16([16]byte(k[:16])), netip.AddrFrom16([16]byte(k[16:])), n)
	}
}

func (s *scan) outgoingFrame(fr *frame) {
	src, advert, ok := fr.source()
	if !ok || !src.IsValid() || src.IsUnspecified() {
		return
	}
	w := 1
	if advert {
		w = advertWeight
	}
	if _, ok := s.outgoing[src]; ok || len(s.outgoing) < maxOutgoing {
		s.outgoing[src] += w
	}
}

// linkTypeNames names the link types as analyze does ("Ethernet, Linux SLL2").
func linkTypeNames(lts []layers.LinkType) string {
	names := make([]string, len(lts))
	for i, lt := range lts {
		names[i] = decode.LinkTypeName(lt)
	}
	return strings.Join(names, ", ")
}
