package merge

import (
	"cmp"
	"slices"
)

// occurrence is one candidate frame kept for alignment: its key and when
// the capture says it was seen.
type occurrence struct {
	key uint64
	t   int64 // nanoseconds since the epoch, on the capture's own clock
}

// sample keeps a bounded set of a capture's candidate frames that still
// spans the whole capture, however long. It keeps every occurrence of the
// keys whose top level bits are zero, and raises level (dropping half the
// keys) when full. The choice depends on the key alone, so two captures
// keep the same frames: those they share are found in both samples.
type sample struct {
	limit  int
	perKey int  // occurrences kept of one key at most (an identical advert repeated all day)
	level  uint // keys kept: those whose top level bits are zero
	occ    []occurrence
	// count has the occurrences seen of each kept key, kept or not; nil
	// for a class whose frames are nearly all distinct (unicast), where
	// counting would cost more than it tells: every occurrence is kept.
	count map[uint64]int32
}

func newSample(limit int, counted bool) *sample {
	s := &sample{limit: limit, perKey: max(limit/32, 16)}
	if counted {
		s.count = make(map[uint64]int32)
	}
	return s
}

// maxLevel: the sample keeps keys by their top selBits bits.
const maxLevel = selBits

func keptAt(k uint64, level uint) bool { return level == 0 || k>>(64-level) == 0 }

// wants says whether a frame whose sel (the top of its key) is this would
// be kept: the key need not be computed otherwise.
func (s *sample) wants(sel uint64) bool {
	return keptAt(sel, s.level) && len(s.occ) < s.limit
}

func (s *sample) add(k uint64, t int64) {
	if !s.wants(k) {
		return
	}
	if s.count != nil {
		c := s.count[k]
		s.count[k] = c + 1
		if int(c) >= s.perKey {
			return
		}
	}
	s.occ = append(s.occ, occurrence{k, t})
	for len(s.occ) >= s.limit && s.level < maxLevel {
		s.raise()
	}
}

// raise halves the keys kept.
func (s *sample) raise() {
	s.level++
	s.occ = slices.DeleteFunc(s.occ, func(o occurrence) bool { return !keptAt(o.key, s.level) })
	for k := range s.count {
		if !keptAt(k, s.level) {
			delete(s.count, k)
		}
	}
}

// finish orders the occurrences by key, each key's in time order.
func (s *sample) finish() {
	slices.SortFunc(s.occ, func(a, b occurrence) int {
		if c := cmp.Compare(a.key, b.key); c != 0 {
			return c
		}
		return cmp.Compare(a.t, b.t)
	})
}

// complete reports whether every occurrence of key k was kept.
func (s *sample) complete(k uint64, kept int) bool {
	return s.count == nil || int(s.count[k]) == kept
}
