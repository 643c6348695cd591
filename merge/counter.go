package merge

// counter64 counts occurrences of uint64 keys (never 0) in a fixed-size
// open-addressing table: a Go map costs several times more on the first
// pass's hot path.
type counter64 struct {
	keys   []uint64
	counts []uint32
	n, max int
}

func newCounter64(max int) *counter64 {
	size := 1
	for size < 2*max {
		size <<= 1
	}
	return &counter64{keys: make([]uint64, size), counts: make([]uint32, size), max: max}
}

// add counts k and reports false when the table is full and k is new.
func (c *counter64) add(k uint64) bool {
	mask := uint64(len(c.keys) - 1)
	for i := mix(k) & mask; ; i = (i + 1) & mask {
		switch c.keys[i] {
		case k:
			c.counts[i]++
			return true
		case 0:
			if c.n >= c.max {
				return false
			}
			c.keys[i], c.counts[i] = k, 1
			c.n++
			return true
		}
	}
}

func (c *counter64) each(f func(k uint64, n uint32)) {
	for i, k := range c.keys {
		if k != 0 {
			f(k, c.counts[i])
		}
	}
}
