package analyze

import "fmt"

// The engine's tables are bounded, so that no input, a MAC flood or a
// capture of days, takes memory beyond a ceiling: at its limit a table
// forgets its least recently seen entry. A table may pass over a few
// entries it should keep (maxKeepTries of them, given a second chance as
// if seen now); after those it forgets the least recently seen regardless,
// so no input takes a table past its limit. What was forgotten is counted
// (Eviction) and said in the notes.
const (
	// MaxClients bounds the hosts followed as clients of a VIP.
	MaxClients = 65536
	// MaxFollowed bounds the clients followed through one change of master
	// (stale ARP entries, answers); one that is forgotten is judged first.
	MaxFollowed = 16384
	// MaxListedClients bounds a failover's client list and the analysis's
	// client list: the clients that lagged come first.
	MaxListedClients = 1024
	// MaxGroups bounds the virtual routers (VLAN × VRID × family).
	MaxGroups = 4096
	// MaxSpeakers bounds the routers of one virtual router.
	MaxSpeakers = 32
	// MaxVIPs bounds the addresses of one virtual router.
	MaxVIPs = 256
	// MaxMembers bounds the hosts followed as members of the VRRP groups
	// (224.0.0.18, ff02::12).
	MaxMembers = 4096
	// MaxFindingsPerCode and MaxFindings bound the findings.
	MaxFindingsPerCode = 256
	MaxFindings        = 2048
	// maxTimeline bounds the timeline; runs are folded before it fills.
	maxTimeline = 20000
	// maxErrors bounds the decode errors listed (all are counted).
	maxErrors = 1000
	// maxLocal bounds this host's neighbour entries followed (live).
	maxLocal = 1024
	// maxKeepTries bounds the entries a full table passes over because it
	// should keep them, before it forgets the least recently seen anyway.
	maxKeepTries = 8
)

// Eviction counts the entries a bounded table forgot to stay within its
// limit.
type Eviction struct {
	Table   string `json:"table"`
	Limit   int    `json:"limit"`
	Evicted uint64 `json:"evicted"`
}

// tables names the bounded tables, in the order they are reported.
var tables = []struct {
	name  string
	limit int
	what  string
}{
	{"clients", MaxClients, "clients (hosts sending to a VIP)"},
	{"followed clients", MaxFollowed, "clients followed through one change of master"},
	{"listed clients", MaxListedClients, "clients listed for one failover or in the client list"},
	{"groups", MaxGroups, "virtual routers"},
	{"speakers", MaxSpeakers, "routers of one virtual router"},
	{"vips", MaxVIPs, "addresses of one virtual router"},
	{"members", MaxMembers, "members of 224.0.0.18 and ff02::12"},
	{"findings", MaxFindingsPerCode, "findings of one code"},
	{"timeline", maxTimeline, "timeline events"},
}

// evicted counts an eviction from table.
func (e *Engine) evicted(table string, n uint64) {
	if e.evictions == nil {
		e.evictions = make(map[string]uint64)
	}
	e.evictions[table] += n
}

// Evictions returns every bounded table with what it forgot so far, zero
// included: the watcher's metrics.
func (e *Engine) Evictions() []Eviction {
	out := make([]Eviction, 0, len(tables))
	for _, t := range tables {
		out = append(out, Eviction{Table: t.name, Limit: t.limit, Evicted: e.evictions[t.name]})
	}
	return out
}

// reportEvictions writes the tables that forgot something into the
// analysis and its notes.
func (e *Engine) reportEvictions() {
	for _, t := range tables {
		n := e.evictions[t.name]
		if n == 0 {
			continue
		}
		e.a.Evictions = append(e.a.Evictions, Eviction{Table: t.name, Limit: t.limit, Evicted: n})
		e.note(fmt.Sprintf("The table of %s is limited to %d entries: %d were forgotten, least recently seen first (their frames still count in the totals).", t.what, t.limit, n))
	}
}

// lru is a table of at most limit entries that forgets the least recently
// touched one (evictOne). Entries are linked through their node, so
// touching one and forgetting one cost the same whatever the size.
type lru[K comparable, V any] struct {
	m          map[K]*lruNode[K, V]
	head, tail *lruNode[K, V] // head: most recently touched
	limit      int
	// keep says an entry should not be forgotten now: evictOne passes over
	// a few such; forget is told what is forgotten.
	keep   func(*V) bool
	forget func(K, *V)
}

type lruNode[K comparable, V any] struct {
	key        K
	val        V
	prev, next *lruNode[K, V]
}

func newLRU[K comparable, V any](limit int) *lru[K, V] {
	return &lru[K, V]{m: make(map[K]*lruNode[K, V]), limit: limit}
}

func (l *lru[K, V]) len() int { return len(l.m) }

// get returns the entry of k without touching it.
func (l *lru[K, V]) get(k K) *V {
	if n := l.m[k]; n != nil {
		return &n.val
	}
	return nil
}

// touch returns the entry of k, creating it with init when it is missing
// (after forgetting an entry when the table is full, see evictOne), and
// makes it the most recently touched. evicted reports how many entries
// were forgotten. The table never holds more than limit entries.
func (l *lru[K, V]) touch(k K, init func(*V)) (v *V, created bool, evicted int) {
	if n := l.m[k]; n != nil {
		l.front(n)
		return &n.val, false, 0
	}
	for len(l.m) >= l.limit && l.evictOne() {
		evicted++
	}
	n := &lruNode[K, V]{key: k}
	if init != nil {
		init(&n.val)
	}
	l.m[k] = n
	l.pushFront(n)
	return &n.val, true, evicted
}

// evictOne forgets the least recently touched entry, passing over (and
// moving to the front) at most maxKeepTries that keep says to keep: after
// those it forgets the least recently touched regardless. It reports
// false only when the table is empty.
func (l *lru[K, V]) evictOne() bool {
	n := l.tail
	if n == nil {
		return false
	}
	for tries := 0; tries < maxKeepTries && n.prev != nil && l.keep != nil && l.keep(&n.val); tries++ {
		prev := n.prev
		l.front(n)
		n = prev
	}
	l.remove(n)
	if l.forget != nil {
		l.forget(n.key, &n.val)
	}
	return true
}

// each calls f for every entry, most recently touched first.
func (l *lru[K, V]) each(f func(K, *V)) {
	for n := l.head; n != nil; {
		next := n.next
		f(n.key, &n.val)
		n = next
	}
}

func (l *lru[K, V]) remove(n *lruNode[K, V]) {
	delete(l.m, n.key)
	l.unlink(n)
}

func (l *lru[K, V]) unlink(n *lruNode[K, V]) {
	if n.prev != nil {
		n.prev.next = n.next
	} else {
		l.head = n.next
	}
	if n.next != nil {
		n.next.prev = n.prev
	} else {
		l.tail = n.prev
	}
	n.prev, n.next = nil, nil
}

func (l *lru[K, V]) pushFront(n *lruNode[K, V]) {
	n.next = l.head
	if l.head != nil {
		l.head.prev = n
	}
	l.head = n
	if l.tail == nil {
		l.tail = n
	}
}

func (l *lru[K, V]) front(n *lruNode[K, V]) {
	if l.head == n {
		return
	}
	l.unlink(n)
	l.pushFront(n)
}
