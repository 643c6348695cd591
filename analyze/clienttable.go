package analyze

import (
	"encoding/binary"
	"math/bits"
)

// clientTable holds the clients of the VIPs: at most limit entries, flat
// and free of pointers, so that the garbage collector never walks them and
// a flood of new hosts allocates nothing. Entries are found through an
// open-addressing index (linear probing, deletion by backward shift, so no
// tombstones build up under churn).
//
// When the table is full, a new client takes the place of one found by a
// CLOCK hand (an entry not touched since the hand last passed, and not
// holding a client under judgement), and only if it has been seen more
// often than that one, and at least admitAfter times (TinyLFU admission:
// a sketch counts every client's frames, those not in the table included).
// A MAC flood, where each host sends a frame or two, then passes by the
// table: the clients that keep sending stay, whatever the flood's size,
// and a frame of a new host costs a lookup and a count.
type clientTable struct {
	slots  []client
	hashes []uint64 // hashClient of each slot's key
	// index holds, in each place, slot+1 in its low slotBits bits and a
	// tag of the key's hash in the others; 0 is an empty place. Its length
	// is a power of two at least twice the slots', and a key's place is
	// the high bits of its hash. Four bytes a place keep it small enough
	// for the processor's cache.
	index    []uint32
	slotBits uint
	limit    int
	hand     int
	sketch   freqSketch
	// rejected counts the clients not admitted, evicted those forgotten.
	rejected, evicted uint64
}

// admitAfter is how many frames a new host must have sent (within the
// sketch's memory) before it takes another's place in a full table: a
// host of a flood sends one or two.
const admitAfter = 3

// clientProbe bounds the entries the CLOCK hand looks at for a victim; past
// it the entry under the hand goes, under judgement or not, so the table
// stays bounded whatever it holds.
const clientProbe = 32

func newClientTable(limit int) *clientTable {
	return &clientTable{limit: limit, slotBits: uint(bits.Len(uint(limit)))}
}

func (t *clientTable) len() int { return len(t.slots) }

// home is the index place of the key hashed to h in an empty index, and
// tag the bits of h an index entry keeps.
func (t *clientTable) home(h uint64) int { return int(h>>32) & (len(t.index) - 1) }
func (t *clientTable) tag(h uint64) uint32 {
	return uint32(h) >> t.slotBits << t.slotBits
}

// slotAt is the slot an index entry points to.
func (t *clientTable) slotAt(v uint32) int { return int(v&(1<<t.slotBits-1)) - 1 }

// hashClient mixes a client's key into 64 bits (a fixed function: the same
// capture gives the same table, run after run).
func hashClient(k clientKey) uint64 {
	a := uint64(k.group) | uint64(k.vlan)<<32 | uint64(k.outer)<<48
	b := uint64(binary.LittleEndian.Uint32(k.mac[:4])) | uint64(binary.LittleEndian.Uint16(k.mac[4:]))<<32
	return mix64(a*0x9e3779b97f4a7c15 ^ b)
}

// mix64 is the finaliser of SplitMix64.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// find returns the index place of k, or -1.
func (t *clientTable) find(k clientKey, h uint64) int {
	if len(t.index) == 0 {
		return -1
	}
	mask := len(t.index) - 1
	tag := t.tag(h)
	for i := t.home(h); ; i = (i + 1) & mask {
		v := t.index[i]
		if v == 0 {
			return -1
		}
		if v&^(1<<t.slotBits-1) == tag && t.slots[t.slotAt(v)].key == k {
			return i
		}
	}
}

// get returns the entry of k, or nil. The pointer is valid until the next
// touch.
func (t *clientTable) get(k clientKey) *client {
	i := t.find(k, hashClient(k))
	if i < 0 {
		return nil
	}
	c := &t.slots[t.slotAt(t.index[i])]
	c.ref = true
	return c
}

// slotOf is the slot of c, an entry of the table.
func (t *clientTable) slotOf(c *client) int32 {
	return int32(t.slotAt(t.index[t.find(c.key, hashClient(c.key))]))
}

// touch returns the entry of k, counting the frame. A missing client is
// added (first sent in frame first) while the table has room, or in place of a
// victim it was seen more often than; otherwise touch returns nil. The
// pointer is valid until the next touch.
func (t *clientTable) touch(k clientKey, first uint64) *client {
	h := hashClient(k)
	full := t.len() >= t.limit
	if full {
		if t.sketch.blocks == nil {
			t.sketch.init(t.limit)
			t.markAll()
		}
		if t.sketch.tick() {
			t.markAll()
		}
		if !t.sketch.testAndSet(h) {
			// Not seen since the counts last faded, so not in the table,
			// whose entries keep their doorkeeper bits: a host's first
			// frame costs no more than this.
			t.rejected++
			return nil
		}
	}
	if i := t.find(k, h); i >= 0 {
		c := &t.slots[t.slotAt(t.index[i])]
		c.ref = true
		if full {
			// Clients in the table are counted too, so that a newcomer's
			// count is comparable with its would-be victim's.
			t.sketch.count(h)
		}
		return c
	}
	var slot int
	if !full {
		if len(t.slots) == cap(t.slots) {
			n := nextCap(cap(t.slots), t.limit)
			t.slots = append(make([]client, 0, n), t.slots...)
			t.hashes = append(make([]uint64, 0, n), t.hashes...)
		}
		if 2*(len(t.slots)+1) > len(t.index) {
			t.grow()
		}
		t.slots = t.slots[:len(t.slots)+1]
		t.hashes = t.hashes[:len(t.hashes)+1]
		slot = len(t.slots) - 1
	} else {
		seen := 1 + t.sketch.count(h)
		if seen < admitAfter {
			t.rejected++
			return nil
		}
		victim := t.victim()
		if t.sketch.estimate(t.hashes[victim]) >= seen {
			t.rejected++
			return nil
		}
		t.remove(victim)
		t.evicted++
		slot = victim
	}
	c := &t.slots[slot]
	*c = client{key: k, ref: true, first: first}
	t.hashes[slot] = h
	t.insert(h, slot)
	return c
}

// markAll sets the doorkeeper bits of every entry.
func (t *clientTable) markAll() {
	for _, h := range t.hashes {
		t.sketch.mark(h)
	}
}

// victim moves the CLOCK hand to the entry to forget: the first not
// touched since the hand last passed and not under judgement, clearing
// the marks it passes; after clientProbe entries, the one under the hand.
func (t *clientTable) victim() int {
	for range clientProbe {
		c := &t.slots[t.hand]
		if !c.ref && !c.judging() {
			return t.hand
		}
		c.ref = false
		t.hand = (t.hand + 1) % len(t.slots)
	}
	return t.hand
}

func (t *clientTable) insert(h uint64, slot int) {
	mask := len(t.index) - 1
	i := t.home(h)
	for t.index[i] != 0 {
		i = (i + 1) & mask
	}
	t.index[i] = t.tag(h) | uint32(slot+1)
}

// remove takes slot's entry out of the index, shifting back the entries
// that probed past it.
func (t *clientTable) remove(slot int) {
	i := t.find(t.slots[slot].key, t.hashes[slot])
	mask := len(t.index) - 1
	for {
		t.index[i] = 0
		j := i
		for {
			j = (j + 1) & mask
			v := t.index[j]
			if v == 0 {
				return
			}
			// The entry at j moves back to i unless its home lies in
			// (i, j].
			home := t.home(t.hashes[t.slotAt(v)])
			if i <= j && i < home && home <= j || i > j && (i < home || home <= j) {
				continue
			}
			t.index[i] = v
			i = j
			break
		}
	}
}

// grow doubles the index and places every entry anew.
func (t *clientTable) grow() {
	t.index = make([]uint32, max(64, 2*len(t.index)))
	for s, h := range t.hashes {
		t.insert(h, s)
	}
}

// freqSketch estimates how often each client was seen (TinyLFU): a
// doorkeeper (two bits a key) notes a client's first frame, a count-min
// sketch of four rows of saturating counters the next ones; every twice
// the table's size in frames, the counts are halved and the doorkeeper
// cleared (but for the clients in the table), so that old counts fade. A
// key's four counters lie in one 64-byte block, one per 16-byte row of it.
type freqSketch struct {
	blocks []sketchBlock
	door   []uint64
	added  int
	period int
}

type sketchBlock [4][16]uint8

// sketchMax is where a counter saturates: enough to tell a host that keeps
// sending from one of a flood.
const sketchMax = 15

func (s *freqSketch) init(limit int) {
	// Four counters a client of a full table, and sixteen doorkeeper bits
	// for each frame of a period, so that few hosts of a flood find their
	// bits set by others: small enough to stay in the processor's cache.
	s.blocks = make([]sketchBlock, 1<<bits.Len(uint(max(limit, 64)/16-1)))
	s.period = 2 * limit
	s.door = make([]uint64, 1<<bits.Len(uint(max(s.period, 64)/4-1)))
}

// doorBit is where the key hashed to h has its doorkeeper bits: two in one
// word, which cost one memory access as one bit would, and let through far
// fewer newcomers whose bits others set (each of which costs a lookup in
// the table and the sketch).
func (s *freqSketch) doorBit(h uint64) (word int, bit uint64) {
	d := h * 0xd6e8feb86659fd93
	return int(d>>20) & (len(s.door) - 1), 1<<(d>>52&63) | 1<<(d>>58)
}

// testAndSet sets the doorkeeper bits of the key hashed to h and reports
// whether they were set.
func (s *freqSketch) testAndSet(h uint64) bool {
	w, bit := s.doorBit(h)
	was := s.door[w]&bit == bit
	s.door[w] |= bit
	return was
}

func (s *freqSketch) mark(h uint64) {
	w, bit := s.doorBit(h)
	s.door[w] |= bit
}

// counters returns the four counters of the key hashed to h.
func (s *freqSketch) counters(h uint64) (*sketchBlock, [4]uint8) {
	b := &s.blocks[h&uint64(len(s.blocks)-1)]
	return b, [4]uint8{uint8(h>>32) & 15, uint8(h>>36) & 15, uint8(h>>40) & 15, uint8(h>>44) & 15}
}

// count counts a frame of the key hashed to h, past its first, and returns
// the least of its counters.
func (s *freqSketch) count(h uint64) uint8 {
	b, at := s.counters(h)
	est := uint8(sketchMax)
	for r, i := range at {
		if b[r][i] < sketchMax {
			b[r][i]++
		}
		est = min(est, b[r][i])
	}
	return est
}

// estimate is how many frames of the key hashed to h were seen, as far as
// the sketch tells.
func (s *freqSketch) estimate(h uint64) uint8 {
	w, bit := s.doorBit(h)
	if s.door[w]&bit != bit {
		return 0
	}
	b, at := s.counters(h)
	est := uint8(sketchMax)
	for r, i := range at {
		est = min(est, b[r][i])
	}
	return 1 + est
}

// tick counts a frame and, every period, halves the counts and clears the
// doorkeeper; it reports whether it did.
func (s *freqSketch) tick() bool {
	if s.added++; s.added < s.period {
		return false
	}
	s.added = 0
	for i := range s.blocks {
		for r := range s.blocks[i] {
			for j := range s.blocks[i][r] {
				s.blocks[i][r][j] /= 2
			}
		}
	}
	clear(s.door)
	return true
}

// nextCap is the capacity a pointer-free table of cur entries grows to, at
// most limit: by doubling while small; past a thousand entries, the whole
// limit at once. The system lends that memory page by page as entries fill
// it, and no copies are left behind for the garbage collector.
func nextCap(cur, limit int) int {
	n := max(16, 2*cur)
	if n > 1024 {
		n = limit
	}
	return min(limit, n)
}
