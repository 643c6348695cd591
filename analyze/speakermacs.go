package analyze

import (
	"encoding/binary"

	"github.com/vrrpctl/vrrpctl/decode"
)

// maxSpeakerMACs bounds the MACs remembered as advertising.
const maxSpeakerMACs = 65536

// macSet is the set of MACs that advertised, which are never taken for
// clients. A filter of a bit per hash answers most lookups of MACs that
// never did (a flood of clients) without touching the map.
type macSet struct {
	filter [8]uint64
	m      map[decode.MAC]struct{}
}

func macBit(mac decode.MAC) (word int, bit uint64) {
	h := uint64(binary.LittleEndian.Uint32(mac[2:])) * 0x9e3779b97f4a7c15
	return int(h >> 61), 1 << (h >> 55 & 63)
}

// add remembers mac; it reports false when the set is full.
func (s *macSet) add(mac decode.MAC) bool {
	if _, ok := s.m[mac]; ok {
		return true
	}
	if len(s.m) >= maxSpeakerMACs {
		return false
	}
	if s.m == nil {
		s.m = make(map[decode.MAC]struct{})
	}
	s.m[mac] = struct{}{}
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

// remove forgets mac; its filter bit stays, which only costs a lookup.
func (s *macSet) remove(mac decode.MAC) { delete(s.m, mac) }
