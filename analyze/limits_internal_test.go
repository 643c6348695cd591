package analyze

import (
	"net/netip"
	"testing"

	"github.com/vrrpctl/vrrpctl/decode"
)

// An lru whose every entry should be kept still holds no more than its
// limit: after a few tries it forgets the least recently touched.
func TestLRUBoundedWhenAllKept(t *testing.T) {
	l := newLRU[int, int](100)
	l.keep = func(*int) bool { return true }
	forgotten := 0
	l.forget = func(int, *int) { forgotten++ }
	for k := range 10000 {
		_, created, evicted := l.touch(k, func(v *int) { *v = k })
		if !created {
			t.Fatalf("key %d not created", k)
		}
		if l.len() > 100 {
			t.Fatalf("%d entries after key %d, limit 100", l.len(), k)
		}
		if k >= 100 && evicted != 1 {
			t.Fatalf("key %d: %d evicted, want 1", k, evicted)
		}
	}
	if forgotten != 10000-100 {
		t.Errorf("%d forgotten, want %d", forgotten, 10000-100)
	}
	// One entry, kept: still forgotten for a new one.
	one := newLRU[int, int](1)
	one.keep = func(*int) bool { return true }
	one.touch(1, nil)
	one.touch(2, nil)
	if one.len() != 1 || one.get(2) == nil {
		t.Errorf("a table of one holds %d entries", one.len())
	}
}

// An lru passes over entries it should keep before forgetting others.
func TestLRUKeepsWhatItCan(t *testing.T) {
	l := newLRU[int, int](10)
	l.keep = func(v *int) bool { return *v < 0 }
	l.touch(0, func(v *int) { *v = -1 }) // the least recently touched, kept
	for k := 1; k < 100; k++ {
		l.touch(k, func(v *int) { *v = k })
	}
	if l.get(0) == nil || l.len() != 10 {
		t.Errorf("kept entry forgotten (or %d entries)", l.len())
	}
}

// The ghosts remember exactly the last MaxGhosts keys forgotten, with
// their counts; a key taken and forgotten again is remembered from then.
func TestGhosts(t *testing.T) {
	if 1<<ghostBits != 2*MaxGhosts {
		t.Fatalf("index of %d slots for %d ghosts", 1<<ghostBits, MaxGhosts)
	}
	var gh ghosts
	const n = 3 * MaxGhosts
	key := func(i int) uint64 {
		return groupKey{vlan: uint16(i % 4094), vrid: uint8(i / 4094), v6: i%2 == 0}.packed()
	}
	for i := range n {
		gh.add(key(i), i)
	}
	for _, i := range []int{0, n - MaxGhosts - 1} {
		if _, ok := gh.take(key(i)); ok {
			t.Errorf("key %d still remembered", i)
		}
	}
	// A key forgotten again after it came back outlives its first slot (the
	// 21 adds below expire the 21 oldest).
	back := n - MaxGhosts + 10
	if c, ok := gh.take(key(back)); !ok || c != back {
		t.Fatalf("key %d: %d, %v", back, c, ok)
	}
	gh.add(key(back), 7)
	for i := range 20 {
		gh.add(key(n+i), 0)
	}
	if c, ok := gh.take(key(back)); !ok || c != 7 {
		t.Errorf("key %d forgotten again: %d, %v", back, c, ok)
	}
	for i := n - MaxGhosts + 21; i < n; i++ {
		if c, ok := gh.take(key(i)); !ok || c != i {
			t.Fatalf("key %d: %d, %v", i, c, ok)
		}
	}
}

// In a merged analysis, what a forgotten router's adverts missed at each
// vantage is forgotten with it: the table follows the routers, whatever
// their number.
func TestLostAdvertsForgottenWithRouter(t *testing.T) {
	e := NewEngine(Options{})
	e.UseVantages([]Vantage{{Name: "a"}, {Name: "b"}})
	ip := netip.MustParseAddr("192.168.33.2")
	advertFrom(e, 1, 1, ip, netip.MustParseAddr("192.168.33.100"), decode.MAC{0x52, 0x54, 0, 0, 0, 1})
	g := groupOf(t, e, 1)
	if len(g.speakers) != 1 {
		t.Fatalf("%d routers, want 1", len(g.speakers))
	}
	e.vant.lost[g.speakers[0]] = make([]advertMiss, 2)
	e.forgetGroup(g)
	if n := len(e.vant.lost); n != 0 {
		t.Errorf("%d routers' lost adverts remembered after their virtual router was forgotten", n)
	}
}
