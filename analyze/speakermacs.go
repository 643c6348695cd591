package analyze

import (
	"encoding/binary"

	"github.com/vrrpctl/vrrpctl/decode"
)

// maxSpeakerMACs bounds the MACs remembered as advertising.
const maxSpeakerMACs = 65536

// macSet is the set of MACs that advertise, which are never taken for
// clients. Each counts the routers that advertised from it (a router's own
// MAC serves all its virtual routers; the virtual MAC all the routers of
// one), so that forgetting one router keeps the MACs of the others. A
// filter of a bit per hash answers most lookups of MACs that never did (a
// flood of clients) without touching the map.
type macSet struct {
	filter [8]uint64
	m      map[decode.MAC]int32
}

func macBit(mac decode.MAC) (word int, bit uint64) {
	h := uint64(binary.LittleEndian.Uint32(mac[2:])) * 0x9e3779b97f4a7c15
	return int(h >> 61), 1 << (h >> 55 & 63)
}

// add counts one more router advertising from mac; it reports false when
// the set is full.
func (s *macSet) add(mac decode.MAC) bool {
	if n, ok := s.m[mac]; ok {
		s.m[mac] = n + 1
		return true
	}
	if len(s.m) >= maxSpeakerMACs {
		return false
	}
	if s.m == nil {
		s.m = make(map[decode.MAC]int32)
	}
	s.m[mac] = 1
	w, bit := macBit(mac)
	s.filter[w] |= bit
	return true
}

func (s *macSet) has(mac decode.MAC) bool {
	if w, bit := macBit(mac); s.filter[w]&bit == 0 {
		return false
	}
	_, ok := s.m[mac]
	return ok
}

// remove counts one router fewer advertising from mac, and forgets mac
// with the last; its filter bit stays, which only costs a lookup.
func (s *macSet) remove(mac decode.MAC) {
	if n := s.m[mac]; n > 1 {
		s.m[mac] = n - 1
	} else {
		delete(s.m, mac)
	}
}

// holdMAC counts mac among the MACs that advertise, once for router s. A
// router holds at most two, its own and the virtual MAC: a third (its
// interface replaced) takes the place of the one that is not the virtual
// router's.
func (e *Engine) holdMAC(g *group, s *speaker, mac decode.MAC) {
	for _, m := range s.macs[:s.nmacs] {
		if m == mac {
			return
		}
	}
	if int(s.nmacs) == len(s.macs) {
		drop := 0
		if s.macs[0] == g.vmac {
			drop = 1
		}
		e.speakerOf.remove(s.macs[drop])
		s.macs[0], s.nmacs = s.macs[1-drop], 1
	}
	if !e.speakerOf.add(mac) {
		e.evicted("speaker MACs", 1)
		return
	}
	s.macs[s.nmacs] = mac
	s.nmacs++
}

// releaseMACs gives up the MACs router s holds: it is forgotten.
func (e *Engine) releaseMACs(s *speaker) {
	for _, m := range s.macs[:s.nmacs] {
		e.speakerOf.remove(m)
	}
	s.nmacs = 0
}
