package analyze

import (
	"container/heap"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"time"

	"github.com/vrrpctl/vrrpctl/decode"
)

// clientKey identifies a host sending to a VIP by its MAC on its VLAN (its IP
// may be NATed or change; its MAC is what the ARP cache question is about),
// for one virtual router (group.seq): a host that uses two VIPs is followed
// through each one's changes of master apart.
type clientKey struct {
	group       uint32
	vlan, outer uint16
	mac         decode.MAC
}

// client is what the engine keeps of a host sending to a VIP: little, and
// no pointer (see clientTable). Its followState is that of the latest change
// of master of its group it was followed through.
type client struct {
	key     clientKey
	ip      [16]byte
	ipLen   uint8 // 0: no address seen; 4 or 16
	ref     bool  // touched since the table's CLOCK hand last passed
	frames  uint32
	answers uint32 // frames from a VIP to it: answers are on the wire
	first   uint64
	seenAll uint64 // the captures that saw every frame it sent to a VIP
	st      followState
}

func (c *client) addr() netip.Addr {
	switch c.ipLen {
	case 4:
		return netip.AddrFrom4([4]byte(c.ip[:4]))
	case 16:
		return netip.AddrFrom16(c.ip)
	}
	return netip.Addr{}
}

func (c *client) setAddr(ip netip.Addr) {
	if ip.Is4() {
		c.ipLen = 4
		a := ip.As4()
		copy(c.ip[:], a[:])
		return
	}
	c.ipLen, c.ip = 16, ip.As16()
}

// judging reports whether the client is under judgement in a change of
// master: frames to the old MAC or unanswered requests not yet reported.
// The table forgets it last.
func (c *client) judging() bool {
	st := &c.st
	return st.gen != 0 && (st.stale > 0 && !st.staleReported || st.requests > 0 && !st.answered && !st.outageReported)
}

// resolution is a client's resolution of a VIP: frame N, VIP is-at MAC.
type resolution struct {
	frame uint64
	vip   netip.Addr
	mac   decode.MAC
}

// maxResolving bounds the clients whose resolutions of a VIP are kept, and
// maxResolutions those kept of each.
const (
	maxResolving   = 4096
	maxResolutions = 32
)

func (e *Engine) clientModel(key clientKey, ip netip.Addr, frames int) Client {
	out := Client{IP: ip.String(), MAC: key.mac.String(), Frames: frames, Resolutions: []string{}}
	if rs := e.resolutions.get(key); rs != nil {
		for _, r := range *rs {
			out.Resolutions = append(out.Resolutions, fmt.Sprintf("frame %d: %s is-at %s", r.frame, r.vip, r.mac))
		}
	}
	return out
}

// client returns the entry of the host with mac sending to a VIP of g, or
// nil when the table, full, does not take it in (see clientTable).
func (e *Engine) client(g *group, f *decode.Frame, mac decode.MAC, ip netip.Addr) *client {
	c := e.clients.touch(clientKey{group: uint32(g.seq), vlan: f.VLAN, outer: f.OuterVLAN, mac: mac}, f.Number)
	if c != nil && ip.IsValid() {
		c.setAddr(ip)
	}
	return c
}

// listedClients are the clients of the report: the MaxListedClients that
// sent the most frames, in the order they appeared. A host that used the
// VIPs of several virtual routers is listed once. The choice keeps a heap of
// the list's size, not a copy of the table.
func (e *Engine) listedClients() []Client {
	t := e.clients
	less := func(a, b int32) bool { // fewer frames, or as many and later
		ca, cb := &t.slots[a], &t.slots[b]
		return ca.frames < cb.frames || ca.frames == cb.frames && ca.first > cb.first
	}
	var top clientHeap
	top.less = less
	for i := range t.slots {
		switch {
		case len(top.slots) < MaxListedClients:
			heap.Push(&top, int32(i))
		case less(top.slots[0], int32(i)):
			top.slots[0] = int32(i)
			heap.Fix(&top, 0)
		}
	}
	if n := t.len() - len(top.slots); n > 0 {
		e.evicted("listed clients", uint64(n))
	}
	type listed struct {
		c      *client
		frames int
	}
	idx := make(map[clientKey]int, len(top.slots))
	var out []listed
	for _, slot := range top.slots {
		c := &t.slots[slot]
		k := c.key
		k.group = 0
		if i, ok := idx[k]; ok {
			out[i].frames += int(c.frames)
			if c.first < out[i].c.first {
				out[i].c = c
			}
			continue
		}
		idx[k] = len(out)
		out = append(out, listed{c: c, frames: int(c.frames)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].c.first < out[j].c.first })
	models := make([]Client, 0, len(out))
	for _, l := range out {
		models = append(models, e.clientModel(l.c.key, l.c.addr(), l.frames))
	}
	return models
}

// clientHeap is a min-heap of table slots under less.
type clientHeap struct {
	slots []int32
	less  func(a, b int32) bool
}

func (h *clientHeap) Len() int           { return len(h.slots) }
func (h *clientHeap) Less(i, j int) bool { return h.less(h.slots[i], h.slots[j]) }
func (h *clientHeap) Swap(i, j int)      { h.slots[i], h.slots[j] = h.slots[j], h.slots[i] }
func (h *clientHeap) Push(x any)         { h.slots = append(h.slots, x.(int32)) }
func (h *clientHeap) Pop() any {
	x := h.slots[len(h.slots)-1]
	h.slots = h.slots[:len(h.slots)-1]
	return x
}

// follow tracks how clients follow a change of master (or, provisionally,
// a contender's claim). With two MACs a client's ARP entry must move from
// the old to the new (stale-arp when it does not); with the virtual MAC it
// never moves, and what a client waits for is the switches learning the
// MAC on the new master's port: its requests go unanswered (client-outage).
type follow struct {
	failover       int // index into Analysis.Failovers; -1 while provisional
	gen            uint32
	from, to       *speaker
	oldMAC, newMAC decode.MAC
	t0             time.Time
	garpAt         time.Time
	// members are the table slots of the clients that joined it (a slot
	// reused by another client is told by its followState's gen).
	members []int32
	// unlisted counts the clients the failover's full list left out.
	unlisted int

	// With several captures (vantages.go): where the new master's GARPs
	// were seen first, where they went missing, and which captures'
	// garp-lost findings are made.
	garpSeenAt   []time.Time
	garpMiss     []garpMiss
	garpMask     uint64
	garps        []uint64
	lostReported uint64
}

// followState is how one client follows one change of master. Times are
// offsets from the change (follow.t0): nothing in it is a pointer.
type followState struct {
	firstStale, lastStale time.Duration
	switchAt              time.Duration
	firstReq              time.Duration // requests to the new master's MAC before the first answer
	answerAt              time.Duration

	gen      uint32 // the follow it belongs to; 0: none
	stale    uint32
	requests uint32
	// listed is the index of its entry in the failover's client list, -1
	// while it has none, -2 when the list was full.
	listed int32
	// ev is its evidence record (Engine.evidence) + 1; 0: none.
	ev int32

	switched       bool
	staleReported  bool
	answered       bool
	answeredBefore bool // answers to this client were on the wire before t0
	outageReported bool
}

// maxClientEvidence bounds the frames kept as evidence of one client in one
// change of master, of each kind (to the old MAC, unanswered requests).
const maxClientEvidence = 16

// clientEvidence is the frame numbers of a client under judgement.
type clientEvidence struct {
	stale, req   [maxClientEvidence]uint64
	nStale, nReq uint8
	next         int32 // the free list
}

func (ev *clientEvidence) staleFrames() []uint64 { return ev.stale[:ev.nStale] }
func (ev *clientEvidence) reqFrames() []uint64   { return ev.req[:ev.nReq] }

// evidenceOf returns the evidence record of st, taking one when it has
// none; nil when MaxFollowed clients already hold one (counted: its
// findings will name no frame).
func (e *Engine) evidenceOf(st *followState) *clientEvidence {
	switch {
	case st.ev > 0:
		return &e.evidence[st.ev-1]
	case st.ev < 0:
		return nil
	}
	switch {
	case e.freeEvidence > 0:
		st.ev = e.freeEvidence
		e.freeEvidence = e.evidence[st.ev-1].next
	case len(e.evidence) < MaxFollowed:
		if len(e.evidence) == cap(e.evidence) {
			e.evidence = append(make([]clientEvidence, 0, nextCap(cap(e.evidence), MaxFollowed)), e.evidence...)
		}
		e.evidence = e.evidence[:len(e.evidence)+1]
		st.ev = int32(len(e.evidence))
	default:
		st.ev = -1
		e.evicted("followed clients", 1)
	}
	if st.ev < 0 {
		return nil
	}
	e.evidence[st.ev-1] = clientEvidence{}
	return &e.evidence[st.ev-1]
}

// evidenceFrames are st's frames of one kind, nil without a record.
func (e *Engine) evidenceFrames(st *followState, req bool) []uint64 {
	if st.ev <= 0 {
		return nil
	}
	if req {
		return e.evidence[st.ev-1].reqFrames()
	}
	return e.evidence[st.ev-1].staleFrames()
}

// release ends st's part in its change of master, returning its evidence
// record.
func (e *Engine) release(st *followState) {
	if st.ev > 0 {
		e.evidence[st.ev-1].next = e.freeEvidence
		e.freeEvidence = st.ev
	}
	*st = followState{}
}

// followClients starts following clients for a change of master at t0. A
// provisional follow (started when a contender appeared) is adopted by the
// failover it turned out to be.
func (e *Engine) followClients(g *group, failover int, from, to *speaker, t0 time.Time) {
	oldMAC, newMAC := from.mac, to.mac
	if fl := g.follow; fl != nil && fl.failover < 0 && fl.newMAC == newMAC && fl.oldMAC == oldMAC && fl.t0.Equal(t0) && failover >= 0 {
		fl.failover = failover
		e.eachFollowed(fl, func(c *client) { e.recordFollow(fl, c) })
		return
	}
	if g.follow != nil {
		e.closeFollow(g)
	}
	e.followGen++
	if e.followGen == 0 {
		e.followGen = 1
	}
	fl := &follow{failover: failover, gen: e.followGen, from: from, to: to, oldMAC: oldMAC, newMAC: newMAC, t0: t0}
	g.follow = fl
	if failover >= 0 {
		for _, tr := range g.openTrains(g.master) {
			if tr.count > 0 && !tr.first.Before(t0) {
				fl.garpAt = tr.first
				break
			}
		}
	}
}

// followState returns c's state in fl, starting it when c has none there.
func (e *Engine) followState(fl *follow, c *client) *followState {
	st := &c.st
	if st.gen == fl.gen {
		return st
	}
	e.release(st)
	*st = followState{gen: fl.gen, answeredBefore: c.answers > 0, listed: -1}
	if len(fl.members) >= 2*e.clients.limit {
		fl.members = e.liveMembers(fl)
	}
	fl.members = append(fl.members, e.clients.slotOf(c))
	return st
}

// liveMembers are fl's members still in it, each once.
func (e *Engine) liveMembers(fl *follow) []int32 {
	slices.Sort(fl.members)
	members := slices.Compact(fl.members)
	live := members[:0]
	for _, slot := range members {
		if e.clients.slots[slot].st.gen == fl.gen {
			live = append(live, slot)
		}
	}
	return live
}

// eachFollowed calls f for every client followed through fl.
func (e *Engine) eachFollowed(fl *follow, f func(*client)) {
	fl.members = e.liveMembers(fl)
	for _, slot := range fl.members {
		f(&e.clients.slots[slot])
	}
}

// dropFollow ends g's follow without judging its clients (a provisional
// follow the contender did not turn into a failover, a group forgotten).
func (e *Engine) dropFollow(g *group) {
	if fl := g.follow; fl != nil {
		e.eachFollowed(fl, func(c *client) { e.release(&c.st) })
		g.follow = nil
	}
}

// recordFollow writes a client's state into the failover's client list.
func (e *Engine) recordFollow(fl *follow, c *client) {
	st := &c.st
	if fl.failover < 0 || st.listed == -2 {
		return
	}
	fo := &e.a.Failovers[fl.failover]
	if st.listed < 0 {
		if len(fo.Clients) >= MaxListedClients {
			st.listed = -2 // counted once
			fl.unlisted++
			e.evicted("listed clients", 1)
			return
		}
		// The names are written once; later frames only move the counts.
		st.listed = int32(len(fo.Clients))
		fo.Clients = append(fo.Clients, ClientSwitch{IP: c.addr().String(), MAC: c.key.mac.String()})
	}
	cs := &fo.Clients[st.listed]
	cs.StaleFrames, cs.Unanswered = int(st.stale), int(st.requests)
	if st.switched && fl.oldMAC != fl.newMAC && cs.SwitchMS == nil {
		cs.SwitchMS = msPtr(st.switchAt)
	}
	if st.answered && cs.AnswerMS == nil {
		cs.AnswerMS = msPtr(st.answerAt)
	}
	if st.stale > 0 {
		cs.StaleFrom, cs.StaleTo = fl.t0.Add(st.firstStale), fl.t0.Add(st.lastStale)
	}
}

// staleEnough says whether a client's frames to the old MAC amount to a stale
// ARP entry rather than a frame in flight.
func (st *followState) staleEnough() bool {
	return st.stale >= 3 || (st.stale > 0 && st.lastStale >= 500*time.Millisecond)
}

// reportStale makes the stale-arp finding of a client; with several
// captures it waits for the end of the change (final), when the captures
// may tell garp-ignored or garp-lost instead.
func (e *Engine) reportStale(g *group, fl *follow, c *client, final bool) {
	st := &c.st
	if st.staleReported || fl.failover < 0 || !st.staleEnough() || e.vant != nil && !final {
		return
	}
	code, why, refined := e.staleVerdict(fl, c)
	if refined && code == CodeGARPLost {
		st.staleReported = true // judgeFollow's garp-lost says it
		return
	}
	st.staleReported = true
	dur := st.lastStale
	summary := fmt.Sprintf("client %s (%s) sent %d frame(s) for the VIP to the old master's MAC %s for %.1f s after the failover", c.addr(), c.key.mac, st.stale, fl.oldMAC, dur.Seconds())
	if st.switched {
		summary += fmt.Sprintf(", then switched to %s", fl.newMAC)
	} else {
		summary += "; it never switched in the capture"
	}
	switch {
	case refined:
		summary += why
	case !fl.garpAt.IsZero() && fl.garpAt.Before(fl.t0.Add(st.lastStale)):
		summary += fmt.Sprintf(" (the new master's GARP at +%.3f s was ignored)", fl.garpAt.Sub(fl.t0).Seconds())
	default:
		summary += " (no GARP from the new master was on the wire before)"
	}
	if !refined {
		code = CodeStaleARP
	}
	fd := g.finding(code, e.evidenceFrames(st, false), fl.t0.Add(st.firstStale), summary)
	if !st.switched || dur >= 5*time.Second {
		fd.Severity = Critical
	}
	e.find(fd)
}

// Thresholds of a client outage after a failover: under outageWarning it
// is noted (keepalived with use_vmac can lose a second when the old master
// answers the new one's GARPs and the switch moves the MAC back for an
// advert interval); from outageCritical, or never answered, it is critical.
const (
	outageMinRequests = 3
	outageMin         = 500 * time.Millisecond
	outageWarning     = 2 * time.Second
	outageCritical    = 5 * time.Second
)

// reportOutage judges a client whose requests to the new master's MAC went
// unanswered after a failover. Only clients whose answers the capture holds
// are judged: a capture that sees one direction only proves nothing.
func (e *Engine) reportOutage(g *group, fl *follow, c *client, end time.Time) {
	st := &c.st
	if st.outageReported || fl.failover < 0 || !st.answeredBefore || st.requests < outageMinRequests {
		return
	}
	until := end.Sub(fl.t0)
	if st.answered {
		until = st.answerAt
	}
	// From its first request after the failover: a client that sent to the
	// old MAC first is stale-arp's, not this.
	dur := until - st.firstReq
	if dur < outageMin {
		return
	}
	st.outageReported = true
	summary := fmt.Sprintf("client %s (%s) got no answer from the VIP for %.1f s after the failover (%+.3f s): %d request(s) to %s unanswered", c.addr(), c.key.mac, dur.Seconds(), st.firstReq.Seconds(), st.requests, fl.newMAC)
	switch {
	case !st.answered:
		summary += "; none was answered in the capture"
	case fl.oldMAC == fl.newMAC:
		summary += "; with the virtual MAC its ARP entry was right: the frames went to the old master's switch port until the switches learned the MAC on the new one"
	}
	fd := g.finding(CodeClientOutage, e.evidenceFrames(st, true), fl.t0.Add(st.firstReq), summary)
	switch {
	case !st.answered || dur >= outageCritical:
		fd.Severity = Critical
	case dur < outageWarning:
		fd.Severity = Info
	}
	e.find(fd)
}

func (e *Engine) closeFollow(g *group) {
	fl := g.follow
	if fl == nil {
		return
	}
	e.judgeFollow(g, fl)
	e.eachFollowed(fl, func(c *client) {
		e.reportStale(g, fl, c, true)
		e.reportOutage(g, fl, c, e.last)
	})
	if fl.unlisted > 0 {
		e.relist(fl)
	}
	e.eachFollowed(fl, func(c *client) { e.release(&c.st) })
	g.follow = nil
}

// relist rewrites a failover's client list that filled up: first come is
// no rule under a flood of hosts that sent once. It keeps the clients that
// lagged (stale, then unanswered the longest), then those that sent most.
func (e *Engine) relist(fl *follow) {
	fo := &e.a.Failovers[fl.failover]
	var cs []*client
	e.eachFollowed(fl, func(c *client) { cs = append(cs, c) })
	sort.SliceStable(cs, func(i, j int) bool {
		a, b := &cs[i].st, &cs[j].st
		if a.stale != b.stale {
			return a.stale > b.stale
		}
		if a.requests != b.requests {
			return a.requests > b.requests
		}
		if cs[i].frames != cs[j].frames {
			return cs[i].frames > cs[j].frames
		}
		return cs[i].first < cs[j].first
	})
	cs = cs[:min(len(cs), MaxListedClients)]
	// In the order they first sent, as the list was written.
	sort.Slice(cs, func(i, j int) bool { return cs[i].first < cs[j].first })
	fo.Clients = fo.Clients[:0]
	for _, c := range cs {
		c.st.listed = -1
		e.recordFollow(fl, c)
	}
}

func (e *Engine) finishClients() {
	e.eachGroup(e.closeFollow)
}

// unanswered counts requests to the VIP that got no answer while the master
// was up: the signature of a firewall DROP on the VIP (vrrp_strict).
type unanswered struct {
	count       int
	first, last time.Time
	frames      []uint64
	reported    bool
}

// toVIP follows a client's frame to a VIP.
func (e *Engine) toVIP(g *group, f *decode.Frame) {
	if e.speakerOf.has(f.SrcMAC) {
		return
	}
	c := e.client(g, f, f.SrcMAC, f.IP.Src)
	if c != nil {
		c.frames++
	}
	if e.vant != nil {
		e.vant.clientFrame(c)
	}
	if ct := g.contest; ct != nil && f.HasDstMAC && f.DstMAC == ct.challenger.mac && ct.challenger.mac != ct.holder.mac {
		ct.movedClient(f)
	}
	fl := g.follow
	after := fl != nil && !f.Time.Before(fl.t0)
	if c != nil && after && (f.HasDstMAC || g.usesVirtualMAC()) {
		e.followFrame(g, fl, c, f)
	}
	// Without destination MACs a client with a stale ARP entry looks the
	// same as a VIP behind a DROP rule: no conclusion then.
	// A request only counts while the master is evidently up (it advertised
	// within the last interval and a half); the conclusion waits for its next
	// advert (checkUnanswered), since a master that just died answers nothing
	// either.
	m := g.master
	if m == nil || !isRequest(f) || g.contest != nil || !f.HasDstMAC || f.DstMAC != m.mac {
		return
	}
	if after && (c == nil || c.st.gen == fl.gen && !c.st.answered) {
		return // waiting for its first answer since the failover (or not followed): client-outage's to judge
	}
	if f.Time.Sub(m.lastLive) > m.interval*3/2 {
		return
	}
	if g.unans == nil {
		g.unans = make(map[netip.Addr]*unanswered)
	}
	u := g.unans[f.IP.Dst]
	if u == nil {
		u = &unanswered{}
		g.unans[f.IP.Dst] = u
	}
	if u.count == 0 {
		u.first = f.Time
	}
	u.count++
	u.last = f.Time
	u.frames = addEvidence(u.frames, f.Number)
}

// followFrame updates how client c follows the change of master.
func (e *Engine) followFrame(g *group, fl *follow, c *client, f *decode.Frame) {
	st := e.followState(fl, c)
	at := f.Time.Sub(fl.t0)
	toNew := !f.HasDstMAC || f.DstMAC == fl.newMAC
	switch {
	case fl.oldMAC == fl.newMAC:
	case st.switched:
	case f.DstMAC == fl.oldMAC:
		if st.stale == 0 {
			st.firstStale = at
		}
		st.stale++
		st.lastStale = at
		if ev := e.evidenceOf(st); ev != nil && ev.nStale < maxClientEvidence {
			ev.stale[ev.nStale] = f.Number
			ev.nStale++
		}
		e.recordFollow(fl, c)
	case f.DstMAC == fl.newMAC:
		st.switched, st.switchAt = true, at
		e.recordFollow(fl, c)
		e.reportStale(g, fl, c, false)
	}
	if toNew && isRequest(f) && !st.answered {
		if st.requests == 0 {
			st.firstReq = at
		}
		st.requests++
		if ev := e.evidenceOf(st); ev != nil && ev.nReq < maxClientEvidence {
			ev.req[ev.nReq] = f.Number
			ev.nReq++
		}
		e.recordFollow(fl, c)
	}
}

// fromVIP follows a frame from a VIP: an answer to a client, and the end
// of a run of unanswered requests.
func (e *Engine) fromVIP(g *group, f *decode.Frame) {
	if u := g.unans[f.IP.Src]; u != nil && isAnswer(f) {
		*u = unanswered{reported: u.reported}
	}
	if !f.HasDstMAC {
		return
	}
	c := e.clients.get(clientKey{group: uint32(g.seq), vlan: f.VLAN, outer: f.OuterVLAN, mac: f.DstMAC})
	if c == nil {
		return
	}
	c.answers++
	fl := g.follow
	if fl == nil || f.Time.Before(fl.t0) {
		return
	}
	st := e.followState(fl, c)
	if st.answered {
		return
	}
	st.answered, st.answerAt = true, f.Time.Sub(fl.t0)
	if st.requests > 0 {
		st.requests-- // the request this answers
	}
	e.recordFollow(fl, c)
	e.reportOutage(g, fl, c, f.Time)
}

// checkUnanswered runs on each of the master's adverts: requests that went
// unanswered while it kept advertising point at a DROP on the VIP.
func (e *Engine) checkUnanswered(g *group, m *speaker, t time.Time) {
	for vip, u := range g.unans {
		if u.reported || u.count < 5 || u.last.Sub(u.first) < 2*time.Second || !t.After(u.last) {
			continue
		}
		u.reported = true
		e.find(g.finding(CodeVIPUnanswered, u.frames, u.first,
			fmt.Sprintf("%d requests to %s at master %s's MAC over %.1f s got no answer while %s kept advertising", u.count, vip, m.ip, u.last.Sub(u.first).Seconds(), m.ip)))
	}
}

// movedClient notes a client that sent frame f to the contender's MAC.
func (ct *contest) movedClient(f *decode.Frame) {
	for i := range ct.moved {
		if ct.movedMACs[i] == f.SrcMAC {
			if len(ct.moved[i].Frames) < 8 {
				ct.moved[i].Frames = append(ct.moved[i].Frames, f.Number)
			}
			return
		}
	}
	if len(ct.moved) < 16 {
		ct.movedMACs = append(ct.movedMACs, f.SrcMAC)
		ct.moved = append(ct.moved, ClientMove{IP: f.IP.Src.String(), MAC: f.SrcMAC.String(), Frames: []uint64{f.Number}})
	}
}

// isRequest: an ICMP echo request or a TCP SYN.
func isRequest(f *decode.Frame) bool {
	l := f.L4
	switch l.Protocol {
	case 1:
		return l.ICMPType == 8
	case 58:
		return l.ICMPType == 128
	case 6:
		return l.TCPFlags&0x12 == 0x02
	}
	return false
}

// isAnswer: an ICMP echo reply, a SYN-ACK or a RST from the VIP.
func isAnswer(f *decode.Frame) bool {
	l := f.L4
	switch l.Protocol {
	case 1:
		return l.ICMPType == 0
	case 58:
		return l.ICMPType == 129
	case 6:
		return l.TCPFlags&0x12 == 0x12 || l.TCPFlags&0x04 != 0
	}
	return false
}
