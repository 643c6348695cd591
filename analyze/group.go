package analyze

import (
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/vrrpctl/vrrpctl/decode"
	"github.com/vrrpctl/vrrpctl/vrrp"
)

// group is one virtual router (a VRID on a VLAN for one address family)
// and what the engine knows of it. The state machine that follows its
// mastership is in mastership.go, claims to its VIPs in claims.go.
type group struct {
	key      groupKey
	seq      uint64     // its order of appearance
	adverts  int        // adverts heard, including before it was last forgotten
	vmac     decode.MAC // the VRID's virtual router MAC
	vmacSeen bool       // a frame came from it
	speakers []*speaker
	vips     []netip.Addr
	// beats counts its adverts at least half an interval apart (beat),
	// the last of them at lastBeat.
	beats    int
	lastBeat time.Time
	// richS and richV are its places in the engine's sets of groups above
	// their share of routers and addresses (richSet).
	richS, richV int
	// learnt holds the IDs of the last address lists whose every address
	// was learnt (learnVIPs); the zero ID of the empty list never is.
	learnt [2]addrListID

	master      *speaker
	masterships []mastership
	// msBase is the master's advert count before its mastership began.
	msBase int
	// prev is the master before the current (or before none), how its
	// mastership ended, and its last advert before it ended.
	prev         *speaker
	prevResigned bool
	prevLast     time.Time
	prevLastNum  uint64
	// contest is a second router claiming the VIP while the master holds
	// it: a preemption under way, a start-up election or a split brain.
	contest    *contest
	contestEnd time.Time // the last claim of the last contest

	run      advertRun
	changes  []time.Time // for flapping
	flapped  time.Time
	mismatch map[string]bool // mismatch codes already reported

	follow    *follow      // clients following the latest change of master
	trains    []*garpTrain // the GARP train of each mastership, per VIP
	unans     map[netip.Addr]*unanswered
	pending   []pendingClaim // claims from the virtual MAC not yet attributed
	resolving resolutionRun  // the latest run of clients resolving a VIP

	// Its place in the table of virtual routers (limits.go): on probation
	// or not, and its neighbours in its list.
	probation    bool
	newer, older *group
	// held are the timeline events of a group on probation, heldMaster its
	// first master's event, made when it is emitted: a flood of groups
	// seen once costs no text.
	held       []Event
	heldMaster masterNote
	// spareSpeakers and spareTrains are a forgotten group's, for reuse.
	spareSpeakers []*speaker
	spareTrains   []*garpTrain
}

// mastership is one period during which a speaker was master (Mastership
// in the analysis).
type mastership struct {
	ip                 netip.Addr
	mac                decode.MAC
	fromFrame, toFrame uint64
	from, to           time.Time
	adverts            int
}

func (m *mastership) model() Mastership {
	return Mastership{Endpoint: Endpoint{IP: m.ip.String(), MAC: m.mac.String()}, FromFrame: m.fromFrame, From: m.from, ToFrame: m.toFrame, To: m.to, Adverts: m.adverts}
}

// masterNote is what the event of a router becoming master says.
type masterNote struct {
	s        *speaker
	frame    uint64
	t        time.Time
	priority int
	interval time.Duration
	version  int
	vips     []netip.Addr
	nvips    int        // how many addresses it advertised: written when vips was not kept
	seenAt   []Sighting // where its frame was seen (merged analyses)
}

func (n *masterNote) event(g *group) Event {
	return g.event(n.frame, n.t, "master",
		fmt.Sprintf("%s is master (priority %d, every %s, VRRPv%d, VIP %s)", n.s.ip, n.priority, fmtDur(n.interval), n.version, vipText(n.vips, n.nvips))).between(n.s.ip, nil)
}

// emit adds an event of the group to the timeline, or holds it while the
// group is on probation.
func (g *group) emit(e *Engine, ev Event) {
	if g.probation && (!e.finishing || g.unlisted(e)) {
		ev.SeenAt = e.seenAt(ev.Frame)
		g.held = append(g.held, ev)
		return
	}
	e.emit(ev)
}

// emitMaster emits the event of a router becoming master; a group on
// probation notes what it will say.
func (g *group) emitMaster(e *Engine, n masterNote) {
	if g.probation && (!e.finishing || g.unlisted(e)) && g.heldMaster.s == nil && len(g.held) == 0 {
		n.seenAt = e.seenAt(n.frame)
		g.heldMaster = n
		return
	}
	g.emit(e, n.event(g))
}

// unlisted reports whether the group is left out of the analysis: on
// probation when the capture ends, while others on probation were
// forgotten.
func (g *group) unlisted(e *Engine) bool {
	return g.probation && e.finishing && e.groups.onProbation > 0
}

// release emits the events a group held on probation.
func (g *group) release(e *Engine) {
	if n := &g.heldMaster; n.s != nil {
		ev := n.event(g)
		ev.SeenAt = n.seenAt
		e.record(ev)
		*n = masterNote{}
	}
	for _, ev := range g.held {
		e.record(ev)
	}
	clear(g.held)
	g.held = g.held[:0]
}

// eventful reports whether the group saw two routers or a change of
// master: the table of virtual routers passes over it when it can.
func (g *group) eventful() bool {
	return len(g.speakers) > 1 || len(g.masterships) > 1
}

// beat counts an advert at t that came at least half an interval after the
// last one counted: a virtual router that advertises all along counts one
// an interval, a burst of adverts (a flood, a generator) one.
func (g *group) beat(t time.Time, interval time.Duration) {
	if interval <= 0 {
		interval = time.Second // a malformed advert's: not every advert a beat
	}
	if g.beats == 0 || t.Sub(g.lastBeat) >= interval/2 {
		g.beats++
		g.lastBeat = t
	}
}

// advertRun folds a master's periodic adverts into one timeline event.
type advertRun struct {
	s                   *speaker
	prio                int
	count               int
	firstNum, lastNum   uint64
	firstTime, lastTime time.Time
}

func newGroup(k groupKey) *group {
	g := &group{}
	g.init(k)
	return g
}

func (g *group) init(k groupKey) {
	*g = group{key: k, vmac: decode.MAC(vrrp.VirtualMAC(k.vrid, k.v6)), resolving: resolutionRun{idx: -1}}
}

// maxSpare bounds the routers and GARP trains a reused group keeps for
// its own.
const maxSpare = 4

// reuse makes a forgotten group the new group of k, keeping the memory of
// its lists, routers and GARP trains: once forgotten (forgetGroup) nothing
// refers to them. A flood of groups seen once then allocates nothing.
func (g *group) reuse(k groupKey) {
	spareS, spareT := g.spareSpeakers, g.spareTrains
	for _, s := range g.speakers {
		if len(spareS) < maxSpare {
			spareS = append(spareS, s)
		}
	}
	for _, tr := range g.trains {
		if len(spareT) < maxSpare {
			spareT = append(spareT, tr)
		}
	}
	speakers, trains, masterships, vips, changes, held := g.speakers, g.trains, g.masterships, g.vips, g.changes, g.held
	g.init(k)
	clear(speakers)
	clear(trains)
	clear(held)
	g.speakers, g.trains, g.masterships, g.vips, g.changes, g.held = speakers[:0], trains[:0], masterships[:0], vips[:0], changes[:0], held[:0]
	g.spareSpeakers, g.spareTrains = spareS, spareT
}

// newSpeaker returns a router of ip, reusing a spare one.
func (g *group) newSpeaker(ip netip.Addr) *speaker {
	n := len(g.spareSpeakers)
	if n == 0 {
		return &speaker{ip: ip}
	}
	s := g.spareSpeakers[n-1]
	g.spareSpeakers[n-1] = nil
	g.spareSpeakers = g.spareSpeakers[:n-1]
	*s = speaker{ip: ip, runs: s.runs[:0]} // vips may be shared: not reused
	return s
}

// newTrain returns a GARP train to fill, reusing a spare one.
func (g *group) newTrain() *garpTrain {
	n := len(g.spareTrains)
	if n == 0 {
		return new(garpTrain)
	}
	p := g.spareTrains[n-1]
	g.spareTrains[n-1] = nil
	g.spareTrains = g.spareTrains[:n-1]
	return p
}

// speaker returns the router advertising from ip, creating it.
func (g *group) speaker(e *Engine, ip netip.Addr) *speaker {
	for _, s := range g.speakers {
		if s.ip == ip {
			return s
		}
	}
	if len(g.speakers) >= MaxSpeakers {
		if !g.forgetOldestSpeaker(e) {
			return nil
		}
		e.evicted("speakers", 1)
	}
	if e.speakers >= MaxAllSpeakers && !e.robSpeaker(g) {
		// Only a virtual router with fewer than its share takes a router of
		// another: the routers of a flood make room among their own, or
		// are refused.
		e.evicted("all speakers", 1)
		if !g.forgetOldestSpeaker(e) {
			return nil
		}
	}
	e.speakers++
	s := g.newSpeaker(ip)
	k := memberKey{vlan: g.key.vlan, outer: g.key.outer, ip: ip}
	if mb := e.members.get(k); mb != nil {
		s.own = mb.mac
	}
	g.speakers = append(g.speakers, s)
	e.noteSpeakers(g)
	rl := e.routers[k]
	if rl == nil {
		rl = &routerSet{}
		e.routers[k] = rl
	}
	s.routerSlot = len(rl.s)
	rl.s = append(rl.s, s)
	return s
}

// forgetOldestSpeaker makes room for a router by forgetting the one that
// advertised least recently, unless it is master or in a contest. It
// reports whether it forgot one.
func (g *group) forgetOldestSpeaker(e *Engine) bool {
	oldest := -1
	for i, s := range g.speakers {
		if s == g.master || g.contest != nil && (s == g.contest.holder || s == g.contest.challenger) || s == g.prev {
			continue
		}
		if oldest < 0 || s.lastTime.Before(g.speakers[oldest].lastTime) {
			oldest = i
		}
	}
	if oldest < 0 {
		return false
	}
	s := g.speakers[oldest]
	g.speakers = append(g.speakers[:oldest], g.speakers[oldest+1:]...)
	e.forgetSpeaker(g, s)
	e.noteSpeakers(g)
	return true
}

// forgetSpeaker drops the engine's and the group's references to a router
// no longer followed.
func (e *Engine) forgetSpeaker(g *group, s *speaker) {
	e.unlistSpeaker(g, s)
	e.dropTrains(g, func(tr *garpTrain) bool { return tr.s == s })
}

// routerSet holds the speakers of one router address, each at its
// routerSlot.
type routerSet struct{ s []*speaker }

// unlistSpeaker drops the engine's references to a router no longer
// followed.
func (e *Engine) unlistSpeaker(g *group, s *speaker) {
	k := memberKey{vlan: g.key.vlan, outer: g.key.outer, ip: s.ip}
	if rl := e.routers[k]; rl != nil {
		if i := s.routerSlot; i < len(rl.s) && rl.s[i] == s {
			last := len(rl.s) - 1
			rl.s[i] = rl.s[last]
			rl.s[i].routerSlot = i
			rl.s[last] = nil
			rl.s = rl.s[:last]
		}
		if len(rl.s) == 0 {
			delete(e.routers, k)
		}
	}
	e.releaseMACs(s)
	e.releaseVIPs(s)
	e.speakers--
	if e.vant != nil {
		delete(e.vant.lost, s)
	}
}

// isVIP reports whether a is one of the group's virtual addresses (sorted
// by learnVIPs: up to MaxVIPs of them, looked at for every router of
// every advert).
func (g *group) isVIP(a netip.Addr) bool {
	_, found := slices.BinarySearchFunc(g.vips, a, netip.Addr.Compare)
	return found
}

// usesVirtualMAC reports whether the routers of the group send from the
// virtual router MAC: then clients never change their ARP entry.
func (g *group) usesVirtualMAC() bool { return g.vmacSeen }

func (g *group) fold(e *Engine, s *speaker, f *decode.Frame) {
	r := &g.run
	if r.s == s && r.prio == s.priority {
		r.count++
		r.lastNum, r.lastTime = f.Number, f.Time
		return
	}
	g.flushRun(e)
	*r = advertRun{s: s, prio: s.priority, count: 1, firstNum: f.Number, lastNum: f.Number, firstTime: f.Time, lastTime: f.Time}
}

func (g *group) flushRun(e *Engine) {
	r := &g.run
	if r.s == nil || r.count == 0 {
		*r = advertRun{}
		return
	}
	ev := g.event(r.firstNum, r.firstTime, "adverts", "").between(r.s.ip, g.vrrpGroup())
	ev.Count = r.count
	if r.count > 1 {
		ev.LastFrame = r.lastNum
		every := r.lastTime.Sub(r.firstTime) / time.Duration(r.count-1)
		ev.Summary = fmt.Sprintf("%s advertised every %.2f s (priority %d)", r.s.ip, every.Seconds(), r.prio)
	} else {
		ev.Summary = fmt.Sprintf("%s advertised (priority %d)", r.s.ip, r.prio)
	}
	*r = advertRun{}
	g.emit(e, ev)
}

func (g *group) event(frame uint64, t time.Time, kind, summary string) Event {
	return Event{Frame: frame, Time: t, Kind: kind, VRID: int(g.key.vrid), VLAN: int(g.key.vlan), Summary: summary}
}

// between sets who acted and whom it addressed.
func (ev Event) between(source, target fmt.Stringer) Event {
	if source != nil {
		ev.Source = source.String()
	}
	if target != nil {
		ev.Target = target.String()
	}
	return ev
}

// broadcast is the target of a GARP or unsolicited NA.
type broadcastTarget struct{}

func (broadcastTarget) String() string { return "broadcast" }

var broadcast fmt.Stringer = broadcastTarget{}

// vrrpGroup is the multicast group the group's adverts go to.
func (g *group) vrrpGroup() fmt.Stringer {
	if g.key.v6 {
		return vrrpGroup6
	}
	return vrrpGroup4
}

func (g *group) finding(code string, frames []uint64, t time.Time, summary string) Finding {
	f := newFinding(code, &g.key, frames, summary)
	f.Time = t
	return f
}

func (g *group) family() string {
	if g.key.v6 {
		return "ipv6"
	}
	return "ipv4"
}

func (g *group) checkFlapping(e *Engine, t time.Time, frame uint64) {
	// Four changes in a minute are an operator's test (stop, return, a
	// tracked priority drop, its restoration); six are an unstable router.
	const window, limit = time.Minute, 6
	// Only the last minute matters: keep memory bounded on a long capture.
	kept := g.changes[:0]
	for _, c := range g.changes {
		if t.Sub(c) <= window {
			kept = append(kept, c)
		}
	}
	g.changes = kept
	n := len(kept)
	if n >= limit && (g.flapped.IsZero() || t.Sub(g.flapped) > window) {
		g.flapped = t
		e.find(g.finding(CodeFlapping, []uint64{frame}, t,
			fmt.Sprintf("mastership changed %d times within %s", n, window)))
	}
}

// finish resolves what only the end of the capture settles and reports
// what only the whole capture shows.
func (g *group) finish(e *Engine, end time.Time) {
	e.flushPending(g, time.Time{}, true)
	g.finishContest(e, end)
	g.flushRun(e)
	if m := g.master; m != nil && len(g.masterships) > 0 {
		g.masterships[len(g.masterships)-1].adverts = m.adverts - g.msBase
	}
	e.finishTrains(g, end)
	if len(g.speakers) == 1 && !e.hasOtherMember(g) {
		s := g.speakers[0]
		if s.adverts >= 3 {
			e.find(g.finding(CodeNoBackup, []uint64{s.firstFrame}, s.firstTime,
				fmt.Sprintf("only %s was seen for VRID %d; no other router advertised or joined %s", s.ip, g.key.vrid, vrrpGroupName(g.key.v6))))
		}
	}
}

func (g *group) model() Group {
	out := Group{VRID: int(g.key.vrid), VLAN: int(g.key.vlan), Family: g.family(), VIPs: []string{}, Speakers: []Speaker{}, Masterships: []Mastership{}}
	if g.vmacSeen {
		out.VirtualMAC = g.vmac.String()
	}
	for _, v := range g.vips {
		out.VIPs = append(out.VIPs, v.String())
	}
	for _, s := range g.speakers {
		sp := Speaker{IP: s.ip.String(), MAC: s.mac.String(), VirtualMAC: s.virtual, Priority: s.priority, MaxPriority: s.maxPriority,
			AdvertIntervalMS: ms(s.interval), Version: s.version, Auth: decode.AuthTypeName(s.authType), AuthPass: s.authPass, VIPs: []string{},
			Adverts: s.adverts, FirstFrame: s.firstFrame, LastFrame: s.lastFrame, LastAdvert: s.lastTime}
		if !s.own.IsZero() {
			sp.OwnMAC = s.own.String()
		}
		for _, v := range s.vips {
			sp.VIPs = append(sp.VIPs, v.String())
		}
		out.Speakers = append(out.Speakers, sp)
	}
	for i := range g.masterships {
		out.Masterships = append(out.Masterships, g.masterships[i].model())
	}
	if m := g.master; m != nil {
		if n := len(out.Masterships); n > 0 && out.Masterships[n-1].To.IsZero() {
			out.Masterships[n-1].Adverts = m.adverts - g.msBase
		}
		ep := m.endpoint()
		out.Master = &ep
	}
	return out
}
