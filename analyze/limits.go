package analyze

import "fmt"

// The engine's tables are bounded, so that no input, a MAC flood or a
// capture of days, takes memory beyond a ceiling: at its limit a table
// forgets its least recently seen entry. A table may pass over a few
// entries it should keep (maxKeepTries of them, given a second chance as
// if seen now); after those it forgets the least recently seen regardless,
// so no input takes a table past its limit. What was forgotten is counted
// (Eviction) and said in the notes.
//
// Virtual routers (groupTable) are forgotten by a rule of their own, as a
// flood of adverts for every VRID on thousands of VLANs (a trunk seen from
// a mirror port, a scan, a generator) would otherwise push out the few
// routers that matter between two of their adverts:
//
//   - A group seen in one advert only, with no claim to its VIPs, is on
//     probation; a second advert or a claim takes it off.
//   - At most MaxGroups groups are followed, at most a quarter of them on
//     probation. A new group that finds its limit reached (the table full,
//     or for a group going on probation, a quarter on probation) displaces
//     the least recently seen group on probation; only when none is on
//     probation, the least recently seen of the others, passing over
//     (maxKeepTries at most) those that saw two routers or a change of
//     master.
//   - The keys and advert counts of the last MaxGhosts groups forgotten are
//     remembered: a group that comes back is not on probation, as it was
//     seen before. What it did before it was forgotten is lost; the notes
//     count such returns.
//   - A group on probation holds back its timeline events until it leaves
//     probation or the capture ends: a forgotten one's go with it.
//   - When groups on probation were forgotten, those still on probation
//     when the capture ends are like them: they are counted, not listed,
//     and their events are left out.
//   - The analysis lists at most MaxListedGroups groups: those that saw two
//     routers or a change of master first, then those that advertised over
//     the most intervals (a burst of adverts counts as one).
//
// A real virtual router advertises every interval (a second by default),
// so it leaves probation at its second advert unless more than a quarter of
// MaxGroups new groups appeared in between, and even then it is recognised
// when it comes back, unless more than MaxGhosts groups were forgotten in
// between. A group on probation costs about 1.5 KiB and no timeline event
// and, once forgotten, its memory serves the next new group.
const (
	// MaxClients bounds the hosts followed as clients of a VIP.
	MaxClients = 131072
	// MaxFollowed bounds the clients followed through one change of master
	// (stale ARP entries, answers); one that is forgotten is judged first.
	MaxFollowed = 16384
	// MaxListedClients bounds a failover's client list and the analysis's
	// client list: the clients that lagged come first.
	MaxListedClients = 1024
	// MaxGroups bounds the virtual routers (VLAN × VRID × family) followed,
	// a quarter of them on probation (seen in one advert).
	MaxGroups = 4096
	// MaxGhosts bounds the virtual routers forgotten whose key and advert
	// count are remembered, to recognise them when they come back: 65536,
	// 16 × MaxGroups.
	MaxGhosts = 1 << (ghostBits - 1)
	// MaxListedGroups bounds the virtual routers listed in the analysis.
	MaxListedGroups = 1024
	// MaxSpeakers bounds the routers of one virtual router, MaxAllSpeakers
	// those of all virtual routers together.
	MaxSpeakers    = 32
	MaxAllSpeakers = speakerShare * MaxGroups
	// MaxVIPs bounds the addresses of one virtual router.
	MaxVIPs = 256
	// MaxAllVIPs bounds the addresses of all virtual routers together, and
	// MaxAdvertisedAddrs the addresses kept of each router's latest list,
	// all routers together (a list equal to another router's of the same
	// virtual router is shared, and counted for each).
	MaxAllVIPs         = vipShare * MaxGroups
	MaxAdvertisedAddrs = 16384
	// MaxTrains bounds the GARP trains (one for each VIP of each change of
	// master, until it is judged) of all virtual routers together, past
	// every virtual router's share of vipShare at each change of master.
	MaxTrains = 4096
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
	// speakerShare and vipShare are every virtual router's share of the
	// routers and addresses of all virtual routers (see richSet), and
	// maxRobTries bounds the virtual routers looked at for one above it
	// that can give.
	speakerShare = 2
	vipShare     = 4
	maxRobTries  = 64
)

// The routers and the addresses of all virtual routers together are
// bounded (MaxAllSpeakers, MaxAllVIPs), and a full table refuses
// newcomers, with one exception: every virtual router has a share of each
// (two routers, a master and its backup; four addresses), the limits
// being the shares of the most virtual routers followed. One below its
// share takes what it needs from one above it, so a flood of virtual
// routers, each with 32 routers and hundreds of addresses, cannot keep
// out the routers and addresses of an ordinary pair that come later, as a
// backup's first advert at its takeover. The limits being the sum of the
// shares, when one is below its share in a full table another is above
// it: the groups above their share are kept in a set (richSet), so that
// finding one costs the same whatever the number of groups.

// richSet holds the groups above their share of one table, each knowing
// its place in it (*at, 1-based; 0 when it is not in the set).
type richSet struct {
	g  []*group
	at func(*group) *int
}

// note puts g in the set or takes it out, as rich says.
func (r *richSet) note(g *group, rich bool) {
	i := r.at(g)
	switch {
	case rich && *i == 0:
		r.g = append(r.g, g)
		*i = len(r.g)
	case !rich && *i != 0:
		last := r.g[len(r.g)-1]
		r.g[*i-1] = last
		*r.at(last) = *i
		r.g[len(r.g)-1] = nil
		r.g = r.g[:len(r.g)-1]
		*i = 0
	}
}

// rob calls take for groups of the set other than g until one gives
// (take reports it): of the latest maxRobTries to join the set, the one
// whose adverts were heard least recently first, so that a flood's
// virtual routers, heard in bursts, give before a pair that advertises
// every interval. It reports whether one gave.
func (r *richSet) rob(g *group, take func(*group) bool) bool {
	var cand [maxRobTries]*group
	n := 0
	for i := len(r.g) - 1; i >= 0 && n < maxRobTries; i-- {
		if h := r.g[i]; h != g {
			cand[n] = h
			n++
		}
	}
	for ; n > 0; n-- {
		oldest := 0
		for i := 1; i < n; i++ {
			if cand[i].lastBeat.Before(cand[oldest].lastBeat) {
				oldest = i
			}
		}
		if take(cand[oldest]) {
			return true
		}
		cand[oldest] = cand[n-1]
	}
	return false
}

// noteSpeakers and noteVIPs file g in the set of the groups above their
// share of routers or addresses, after a change to them.
func (e *Engine) noteSpeakers(g *group) { e.richSpeakers.note(g, len(g.speakers) > speakerShare) }
func (e *Engine) noteVIPs(g *group)     { e.richVIPs.note(g, len(g.vips) > vipShare) }

// robSpeaker makes room for a router of g, below its share, by forgetting
// a router of a virtual router above it. It reports whether it did.
func (e *Engine) robSpeaker(g *group) bool {
	if len(g.speakers) >= speakerShare {
		return false
	}
	return e.richSpeakers.rob(g, func(h *group) bool {
		if !h.forgetOldestSpeaker(e) {
			return false // its routers are master, or in a contest
		}
		e.evicted("all speakers", 1)
		return true
	})
}

// robVIP makes room for an address of g, below its share, by forgetting
// the highest address of a virtual router above it, which learns it
// again when there is room. It reports whether it did.
func (e *Engine) robVIP(g *group) bool {
	if len(g.vips) >= vipShare {
		return false
	}
	return e.richVIPs.rob(g, func(h *group) bool {
		e.dropVIP(h, h.vips[len(h.vips)-1])
		e.evicted("all vips", 1)
		return true
	})
}

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
	{"listed groups", MaxListedGroups, "virtual routers listed"},
	{"speakers", MaxSpeakers, "routers of one virtual router"},
	{"all speakers", MaxAllSpeakers, "routers of all virtual routers"},
	{"vips", MaxVIPs, "addresses of one virtual router"},
	{"all vips", MaxAllVIPs, "addresses of all virtual routers"},
	{"advertised lists", MaxAdvertisedAddrs, "addresses of the routers' advertised lists, all routers"},
	{"garp trains", MaxTrains, "GARP trains of all virtual routers (one for each VIP of a change of master, until judged)"},
	{"members", MaxMembers, "members of 224.0.0.18 and ff02::12"},
	{"resolutions", maxResolving, "clients whose resolutions of a VIP are listed"},
	{"speaker MACs", maxSpeakerMACs, "MACs known to advertise (never taken for clients)"},
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
		out = append(out, Eviction{Table: t.name, Limit: t.limit, Evicted: e.evictedFrom(t.name)})
	}
	return out
}

// reportEvictions writes the tables that forgot something into the
// analysis and its notes.
func (e *Engine) reportEvictions() {
	for _, t := range tables {
		n := e.evictedFrom(t.name)
		if n == 0 {
			continue
		}
		e.a.Evictions = append(e.a.Evictions, Eviction{Table: t.name, Limit: t.limit, Evicted: n})
		note := fmt.Sprintf("The table of %s is limited to %d entries: %d were forgotten, least recently seen first (their frames still count in the totals).", t.what, t.limit, n)
		switch t.name {
		case "clients":
			note = fmt.Sprintf("The table of %s is limited to %d entries: once full, a new host took the place of one only after it had sent more often; %d were not followed and %d forgotten (their frames still count in the totals).", t.what, t.limit, e.clients.rejected, e.clients.evicted)
		case "groups":
			note = e.groups.note(n)
		case "listed groups":
			note = e.listedNote(n)
		}
		e.note(note)
	}
}

// evictedFrom is what table forgot so far.
func (e *Engine) evictedFrom(table string) uint64 {
	n := e.evictions[table]
	if table == "clients" {
		n += e.clients.rejected + e.clients.evicted
	}
	return n
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

// groupTable holds the virtual routers by the rule at the top of this
// file: one map, and two lists (least recently seen at the tail) threaded
// through the groups themselves, so that finding, moving and forgetting a
// group costs the same whatever the size and allocates nothing.
type groupTable struct {
	m         map[uint64]*group // by packed key
	probation groupList         // seen in one advert, no claim
	kept      groupList         // the others
	ghosts    ghosts
	// returned counts the groups that came back after being forgotten,
	// onProbation those forgotten on probation.
	returned, onProbation uint64
	// spare is the group forgotten last, reused for the next new one.
	spare *group
	// forget is told what is forgotten, before it is.
	forget func(*group)
}

// groupList is a list of groups, most recently seen first.
type groupList struct {
	head, tail *group
	n          int
}

func newGroupTable() *groupTable {
	return &groupTable{m: make(map[uint64]*group)}
}

func (t *groupTable) len() int { return len(t.m) }

// touch returns the group of k, or nil, and makes it the most recently
// seen: a group on probation seen again leaves it (promoted reports it).
func (t *groupTable) touch(k groupKey) (g *group, promoted bool) {
	if g = t.m[k.packed()]; g == nil {
		return nil, false
	}
	if g.probation {
		t.probation.unlink(g)
		g.probation = false
		t.kept.pushFront(g)
		return g, true
	}
	t.kept.front(g)
	return g, false
}

// add enters the new group of k, after making room for it: on
// probation, unless it was forgotten not long ago (its advert count is
// then restored). The last group forgotten is reused. evicted reports how
// many groups were forgotten.
func (t *groupTable) add(k groupKey) (g *group, evicted int) {
	pk := k.packed()
	adverts, back := t.ghosts.take(pk)
	for len(t.m) >= MaxGroups || !back && t.probation.n >= MaxGroups/4 {
		t.evictOne()
		evicted++
	}
	if g = t.spare; g != nil {
		t.spare = nil
		g.reuse(k)
	} else {
		g = newGroup(k)
	}
	if back {
		g.adverts = adverts
		t.returned++
		t.kept.pushFront(g)
	} else {
		g.probation = true
		t.probation.pushFront(g)
	}
	t.m[pk] = g
	return g, evicted
}

// promote takes g off probation (a claim to its VIPs). It reports whether
// g was on probation.
func (t *groupTable) promote(g *group) bool {
	if !g.probation {
		return false
	}
	t.probation.unlink(g)
	g.probation = false
	t.kept.pushFront(g)
	return true
}

// evictOne forgets one group: the least recently seen on probation, or
// when none is, the least recently seen of the others, passing over at
// most maxKeepTries of those that saw two routers or a change of master.
func (t *groupTable) evictOne() {
	l := &t.probation
	if l.n == 0 {
		l = &t.kept
	} else {
		t.onProbation++
	}
	g := l.tail
	for tries := 0; tries < maxKeepTries && g.newer != nil && g.eventful(); tries++ {
		newer := g.newer
		l.front(g)
		g = newer
	}
	if t.forget != nil {
		t.forget(g)
	}
	l.unlink(g)
	pk := g.key.packed()
	delete(t.m, pk)
	t.ghosts.add(pk, g.adverts)
	t.spare = g
}

// note says what the table forgot, n groups in all.
func (t *groupTable) note(n uint64) string {
	s := fmt.Sprintf("The table of virtual routers is limited to %d entries: %d were forgotten (their frames still count in the totals), %d of them seen in one advert only.", MaxGroups, n, t.onProbation)
	if t.returned > 0 {
		s += fmt.Sprintf(" %d came back after they were forgotten and were followed again from then on: what they did before is missing.", t.returned)
	}
	return s
}

// each calls f for every group, those off probation first, most recently
// seen first in each list.
func (t *groupTable) each(f func(*group)) {
	for _, l := range []*groupList{&t.kept, &t.probation} {
		for g := l.head; g != nil; {
			next := g.older
			f(g)
			g = next
		}
	}
}

func (l *groupList) pushFront(g *group) {
	g.newer, g.older = nil, l.head
	if l.head != nil {
		l.head.newer = g
	}
	l.head = g
	if l.tail == nil {
		l.tail = g
	}
	l.n++
}

func (l *groupList) unlink(g *group) {
	if g.newer != nil {
		g.newer.older = g.older
	} else {
		l.head = g.older
	}
	if g.older != nil {
		g.older.newer = g.newer
	} else {
		l.tail = g.newer
	}
	g.newer, g.older = nil, nil
	l.n--
}

func (l *groupList) front(g *group) {
	if l.head == g {
		return
	}
	l.unlink(g)
	l.pushFront(g)
}

// ghosts remembers the keys and advert counts of the last MaxGhosts groups
// forgotten: a ring of keys and counts, the oldest overwritten first, and
// an index from each key to its slot in the ring: open addressing with
// linear probing, at most half full, 8 bytes a slot, so that a look-up
// reads one cache line of a table of 1 MiB (a map reads more, of more).
// Nothing is allocated before the first group is forgotten.
type ghosts struct {
	keys    []uint64 // the ring: packed keys
	adverts []int32  // and their advert counts
	next    int      // the slot written next once the ring is full
	index   []uint64 // 2 × MaxGhosts slots: packed key + 1, its ring slot above; 0 is free
}

const (
	// ghostBits sizes the ghosts' index: 1 << ghostBits slots, 2 × MaxGhosts.
	ghostBits = 17
	// ghostKeyBits holds a packed key + 1 (groupKey.packed: 41 bits).
	ghostKeyBits = 42
	ghostKeyMask = 1<<ghostKeyBits - 1
)

func ghostHome(key uint64) int { return int(key * 0x9e3779b97f4a7c15 >> (64 - ghostBits)) }

// find returns the index slot of k, or -1.
func (gh *ghosts) find(k uint64) int {
	if gh.index == nil {
		return -1
	}
	k++
	mask := len(gh.index) - 1
	for i := ghostHome(k); gh.index[i] != 0; i = (i + 1) & mask {
		if gh.index[i]&ghostKeyMask == k {
			return i
		}
	}
	return -1
}

// free empties index slot i, moving back the entries after it that would
// no longer be found (Knuth's algorithm R).
func (gh *ghosts) free(i int) {
	mask := len(gh.index) - 1
	gh.index[i] = 0
	for j := (i + 1) & mask; gh.index[j] != 0; j = (j + 1) & mask {
		h := ghostHome(gh.index[j] & ghostKeyMask)
		if i <= j && i < h && h <= j || i > j && (i < h || h <= j) {
			continue // still found from its home
		}
		gh.index[i], gh.index[j] = gh.index[j], 0
		i = j
	}
}

// add remembers k, forgotten after n adverts, forgetting the oldest ghost
// when MaxGhosts are remembered. k must not be remembered already (a key
// is taken when its group is made).
func (gh *ghosts) add(k uint64, n int) {
	if gh.index == nil {
		gh.index = make([]uint64, 1<<ghostBits)
	}
	slot := len(gh.keys)
	if slot < MaxGhosts {
		gh.keys = append(gh.keys, k)
		gh.adverts = append(gh.adverts, 0)
	} else {
		slot = gh.next
		gh.next = (gh.next + 1) % MaxGhosts
		// The oldest key, unless it came back (and was forgotten again
		// since: then its entry names a newer slot).
		if i := gh.find(gh.keys[slot]); i >= 0 && gh.index[i]>>ghostKeyBits == uint64(slot) {
			gh.free(i)
		}
		gh.keys[slot] = k
	}
	gh.adverts[slot] = int32(min(n, 1<<31-1))
	mask := len(gh.index) - 1
	i := ghostHome(k + 1)
	for gh.index[i] != 0 {
		i = (i + 1) & mask
	}
	gh.index[i] = k + 1 | uint64(slot)<<ghostKeyBits
}

// take returns the advert count of k if it is remembered, and forgets it.
func (gh *ghosts) take(k uint64) (int, bool) {
	i := gh.find(k)
	if i < 0 {
		return 0, false
	}
	n := int(gh.adverts[gh.index[i]>>ghostKeyBits])
	gh.free(i)
	return n, true
}
