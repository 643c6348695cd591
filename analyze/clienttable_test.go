package analyze

import (
	"math/rand/v2"
	"testing"

	"github.com/vrrpctl/vrrpctl/decode"
)

func tableKey(i int) clientKey {
	return clientKey{group: uint32(i % 3), vlan: uint16(i % 7), mac: decode.MAC{0x02, 0, byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)}}
}

// checkTable holds the table to its invariants: every entry found through
// the index at its own slot, and the index holding nothing else.
func checkTable(t *testing.T, tb *clientTable) {
	t.Helper()
	used := 0
	for _, v := range tb.index {
		if v != 0 {
			used++
		}
	}
	if used != tb.len() {
		t.Fatalf("index holds %d places for %d entries", used, tb.len())
	}
	for s := range tb.slots {
		k := tb.slots[s].key
		i := tb.find(k, hashClient(k))
		if i < 0 || tb.slotAt(tb.index[i]) != s {
			t.Fatalf("entry %v of slot %d not found at its slot (place %d)", k, s, i)
		}
	}
	if tb.len() > tb.limit {
		t.Fatalf("%d entries over the limit %d", tb.len(), tb.limit)
	}
}

// Random touches against a map of what must be there: no entry lost or
// doubled through growth, eviction and backward-shift deletion.
func TestClientTableAgainstMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tb := newClientTable(500)
	in := map[clientKey]uint64{} // key -> its first frame, as init set it
	for n := uint64(1); n <= 200000; n++ {
		k := tableKey(rng.IntN(2000))
		if rng.IntN(4) == 0 {
			k = tableKey(rng.IntN(20)) // a few hosts that keep sending
		}
		before := tb.len()
		c := tb.touch(k, n)
		switch first, ok := in[k]; {
		case ok && c == nil:
			t.Fatalf("frame %d: %v is in the table but touch returned nil", n, k)
		case ok && c.first != first:
			t.Fatalf("frame %d: %v has first %d, want %d", n, k, c.first, first)
		case !ok && c != nil:
			if c.first != n || c.key != k {
				t.Fatalf("frame %d: new entry %+v", n, c.key)
			}
			in[k] = n
			if tb.len() == before { // in place of a victim
				for old := range in {
					if tb.get(old) == nil {
						delete(in, old)
					}
				}
			}
		}
		if n%5000 == 0 {
			checkTable(t, tb)
			if len(in) != tb.len() {
				t.Fatalf("frame %d: table has %d entries, %d expected", n, tb.len(), len(in))
			}
		}
	}
	if tb.evicted == 0 || tb.rejected == 0 {
		t.Errorf("evicted %d, rejected %d: the test should exercise both", tb.evicted, tb.rejected)
	}
	for i := range 20 {
		if tb.get(tableKey(i)) == nil {
			t.Errorf("host %d, which keeps sending, was forgotten", i)
		}
	}
}

// A flood of hosts sending once each does not displace the hosts that keep
// sending, nor those under judgement in a change of master, and costs no
// growth past the limit.
func TestClientTableFlood(t *testing.T) {
	const limit = 1024
	tb := newClientTable(limit)
	for i := range limit {
		c := tb.touch(tableKey(i), 1)
		if i == 7 {
			c.st = followState{gen: 1, stale: 1} // under judgement
		}
	}
	for n := range 1_000_000 {
		tb.touch(tableKey(limit+n), 1)
		if n%100 == 0 {
			for i := range 8 {
				if i != 7 {
					tb.touch(tableKey(i), 1)
				}
			}
		}
	}
	checkTable(t, tb)
	for i := range 8 {
		if tb.get(tableKey(i)) == nil {
			t.Errorf("host %d was forgotten in the flood", i)
		}
	}
	if tb.rejected < 500_000 {
		t.Errorf("only %d of the flood's hosts were turned away", tb.rejected)
	}
	if len(tb.index) > 4*limit {
		t.Errorf("index grew to %d places for a limit of %d", len(tb.index), limit)
	}
}

func BenchmarkClientTableFlood(b *testing.B) {
	tb := newClientTable(MaxClients)
	for i := range MaxClients {
		tb.touch(tableKey(i), 1)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for n := range b.N {
		tb.touch(tableKey(MaxClients+n), 1)
	}
}

func BenchmarkClientTableHit(b *testing.B) {
	tb := newClientTable(MaxClients)
	for i := range 100000 {
		tb.touch(tableKey(i), 1)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for n := range b.N {
		tb.touch(tableKey(n%100000), 1)
	}
}
