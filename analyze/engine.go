// Package analyze is vrrpctl's correlation engine: a streaming state machine
// over decoded frames that infers virtual routers, their speakers and masters,
// failovers with their causes and timing, clients following the VIP, and the
// findings that explain what went wrong.
//
// The engine never looks back at packets: its memory is bounded by the number
// of virtual routers, speakers, VIPs and clients. Time comes only from the
// frames (and, live, from Advance), so a capture replays exactly.
package analyze

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/vrrpctl/vrrpctl/decode"
	"github.com/vrrpctl/vrrpctl/kaconf"
)

// Options configure an Engine.
type Options struct {
	// File names the capture in the report.
	File string
	// Configs are keepalived configurations, one per router, to compare the
	// capture with (expected-behaviour mode).
	Configs []*kaconf.Config

	// Streaming callbacks, called as soon as the engine concludes something.
	// Folded timeline events (advert runs, GARP bursts) are reported when
	// the run ends, and those of a virtual router on probation (limits.go)
	// when it leaves probation, so they may arrive after later events.
	OnEvent    func(Event)
	OnFinding  func(Finding)
	OnFailover func(Failover)
}

// checkEvery is how often (in capture time) silence timers are checked.
const checkEvery = 20 * time.Millisecond

// Engine consumes frames in capture order.
type Engine struct {
	opt Options
	a   Analysis

	groups   *groupTable
	groupSeq uint64 // groups created so far: their order in the report
	byVIP    map[vipKey]*group
	lastVIP  vipHit                // the latest VIP found in byVIP
	byAddr   map[netip.Addr]*group // the latest group of each VIP, on any VLAN
	// trains counts the GARP trains of all groups (MaxTrains).
	trains int
	// richSpeakers and richVIPs are the groups above their share of
	// routers and addresses (richSet).
	richSpeakers, richVIPs richSet
	// allVIPs counts the addresses of all groups (MaxAllVIPs), advertised
	// those of the routers' kept lists (MaxAdvertisedAddrs).
	allVIPs, advertised int
	// speakers counts the routers of all groups (MaxAllSpeakers).
	speakers int
	clients  *clientTable
	// resolutions are clients' resolutions of a VIP, for the client list.
	resolutions *lru[clientKey, []resolution]
	// followGen numbers the follows of changes of master; evidence holds the
	// frames of the clients under judgement in one, freeEvidence its free
	// list (+1).
	followGen    uint32
	evidence     []clientEvidence
	freeEvidence int32
	members      *lru[memberKey, member]  // hosts that joined 224.0.0.18 or ff02::12
	speakerOf    macSet                   // MACs that advertise: never clients
	routers      map[memberKey]*routerSet // the speakers of each router address
	// pendingGroups are the groups holding claims from the virtual MAC not
	// yet attributed.
	pendingGroups []*group
	igmpLast      map[reportKey]*igmpSeen
	local         map[netip.Addr]*localEntry // this host's neighbour entries (live)

	vant      *vantages         // the captures of a merged analysis, or nil
	evictions map[string]uint64 // what each bounded table forgot
	perCode   map[string]int    // findings made per code
	notes     map[string]bool

	expect *expectations

	started   bool
	finishing bool   // Finish is under way: groups on probation hold nothing back
	unlisted  uint64 // groups on probation not listed (listedGroups)
	last      time.Time
	nextCheck time.Time
	dstMissed bool
}

// NewEngine returns an engine ready for Feed.
func NewEngine(opt Options) *Engine {
	e := &Engine{
		opt:         opt,
		groups:      newGroupTable(),
		byVIP:       make(map[vipKey]*group),
		byAddr:      make(map[netip.Addr]*group),
		clients:     newClientTable(MaxClients),
		resolutions: newLRU[clientKey, []resolution](maxResolving),
		members:     newLRU[memberKey, member](MaxMembers),
		routers:     make(map[memberKey]*routerSet),
	}
	e.groups.forget = e.forgetGroup
	e.richSpeakers.at = func(g *group) *int { return &g.richS }
	e.richVIPs.at = func(g *group) *int { return &g.richV }
	e.a.Schema = Schema
	e.a.Source.File = opt.File
	e.a.Source.HasDstMAC = true
	e.expect = newExpectations(opt.Configs)
	return e
}

type groupKey struct {
	vlan, outer uint16
	vrid        uint8
	v6          bool
}

// packed is the key as one number: a cheaper map key.
func (k groupKey) packed() uint64 {
	p := uint64(k.vlan) | uint64(k.outer)<<16 | uint64(k.vrid)<<32
	if k.v6 {
		p |= 1 << 40
	}
	return p
}

type vipKey struct {
	vlan, outer uint16
	addr        netip.Addr
}

type vipHit struct {
	k vipKey
	g *group
}

type memberKey struct {
	vlan, outer uint16
	ip          netip.Addr
}

type member struct {
	joined time.Time
	frame  uint64
	in     bool
	mac    decode.MAC // the router's own MAC: the source of its reports
}

// Feed advances the engine by one decoded frame.
func (e *Engine) Feed(f *decode.Frame) {
	e.start(f.Time)
	if e.a.Source.LinkType == "" {
		e.a.Source.LinkType = f.LinkType.String()
	}
	e.a.Source.Frames++
	if !f.HasDstMAC && !e.dstMissed {
		e.dstMissed = true
		e.a.Source.HasDstMAC = false
		e.note("The capture has no destination MAC addresses (Linux cooked capture, as on interface \"any\"): which MAC a client sent to is unknown, so stale ARP entries and client switch times cannot be concluded.")
	}
	for i := len(e.pendingGroups) - 1; i >= 0; i-- {
		e.flushPending(e.pendingGroups[i], f.Time.Add(-sameInstant), false)
	}
	if !f.Time.Before(e.nextCheck) {
		e.advance(f.Time)
		e.nextCheck = f.Time.Add(checkEvery)
	}
	switch f.Kind {
	case decode.KindVRRP:
		e.onAdvert(f)
	case decode.KindARP:
		e.onARP(f)
	case decode.KindIGMP:
		e.onIGMP(f)
	case decode.KindND:
		e.onND(f)
	case decode.KindMLD:
		e.onMLD(f)
	case decode.KindIP:
		e.onIP(f)
	}
}

// start notes a frame's time, decoded or not: the first one starts the
// capture.
func (e *Engine) start(t time.Time) {
	if !e.started {
		e.started = true
		e.a.Source.Start, e.last, e.nextCheck = t, t, t
	}
	if t.After(e.last) {
		e.last = t
	}
}

// DecodeError records a frame that could not be decoded.
func (e *Engine) DecodeError(frame uint64, t time.Time, err error) {
	e.start(t)
	e.a.Source.Frames++
	e.a.Source.DecodeErrors++
	// The frame number is a field of its own: keep the layer's message.
	var fe *decode.FrameError
	if errors.As(err, &fe) && fe.Err != nil {
		err = fe.Err
	}
	if len(e.a.Errors) < maxErrors {
		e.a.Errors = append(e.a.Errors, FrameError{Frame: frame, Error: err.Error()})
	}
}

// Advance tells a live engine that time has passed without frames, so that a
// master that went silent is noticed on time.
func (e *Engine) Advance(now time.Time) {
	if !e.started || now.Before(e.last) {
		return
	}
	e.advance(now)
}

func (e *Engine) advance(now time.Time) {
	e.eachGroup(func(g *group) { g.advance(e, now) })
	e.judgeLocals(now)
}

// eachGroup calls f for every virtual router.
func (e *Engine) eachGroup(f func(*group)) { e.groups.each(f) }

// sortedGroups returns the virtual routers in the order they appeared.
func (e *Engine) sortedGroups() []*group {
	out := make([]*group, 0, e.groups.len())
	e.eachGroup(func(g *group) { out = append(out, g) })
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

// listedGroups bounds the groups listed in the analysis (limits.go):
// none still on probation when groups on probation were forgotten, then
// those that saw two routers or a change of master first, then those that
// advertised over the most intervals (group.beat), in the order they
// appeared.
func (e *Engine) listedGroups(groups []*group) []*group {
	out := make([]*group, 0, len(groups))
	for _, g := range groups {
		if g.unlisted(e) {
			e.unlisted++
			continue
		}
		out = append(out, g)
	}
	if len(out) > MaxListedGroups {
		sort.SliceStable(out, func(i, j int) bool {
			if a, b := out[i].eventful(), out[j].eventful(); a != b {
				return a
			}
			if a, b := out[i].beats, out[j].beats; a != b {
				return a > b
			}
			return out[i].adverts > out[j].adverts
		})
		out = out[:MaxListedGroups]
		sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	}
	if n := len(groups) - len(out); n > 0 {
		e.evicted("listed groups", uint64(n))
	}
	return out
}

// listedNote says why n groups were not listed.
func (e *Engine) listedNote(n uint64) string {
	var why []string
	if e.unlisted > 0 {
		why = append(why, fmt.Sprintf("%d seen in one advert only were on probation when the capture ended, like the %d forgotten on probation: they are counted here, and their timeline events are left out", e.unlisted, e.groups.onProbation))
	}
	if beyond := n - e.unlisted; beyond > 0 {
		why = append(why, fmt.Sprintf("%d are beyond the %d listed, which are those that saw two routers or a change of master, then those that advertised over the most intervals", beyond, MaxListedGroups))
	}
	return fmt.Sprintf("%d virtual routers are not listed: %s.", n, strings.Join(why, "; "))
}

// Groups returns a snapshot of the virtual routers as they stand, for a live
// status line.
func (e *Engine) Groups() []Group {
	gs := e.sortedGroups()
	out := make([]Group, 0, len(gs))
	for _, g := range gs {
		out = append(out, g.model())
	}
	return out
}

// Finish closes every open run and returns the analysis. The engine must not
// be fed afterwards.
func (e *Engine) Finish() *Analysis {
	end := e.last
	e.finishing = true
	e.eachGroup(func(g *group) {
		if !g.unlisted(e) {
			g.release(e)
		}
	})
	e.advance(end)
	groups := e.sortedGroups()
	for _, g := range groups {
		g.finish(e, end)
	}
	e.finishClients()
	e.finishVantages()
	e.expect.compare(e)
	if e.started {
		e.a.Source.End = e.last
		e.a.Source.SpanMS = ms(e.a.Source.End.Sub(e.a.Source.Start))
	}
	for _, g := range e.listedGroups(groups) {
		e.a.Groups = append(e.a.Groups, g.model())
	}
	e.a.Clients = append(e.a.Clients, e.listedClients()...)
	e.reportEvictions()
	if v := e.vant; v != nil {
		for i := range e.a.Findings {
			e.a.Findings[i].FramesAt = v.framesAt(e.a.Findings[i].Frames)
		}
	}
	sort.SliceStable(e.a.Timeline, func(i, j int) bool {
		ti, tj := e.a.Timeline[i], e.a.Timeline[j]
		if !ti.Time.Equal(tj.Time) {
			return ti.Time.Before(tj.Time)
		}
		return ti.Frame < tj.Frame
	})
	sort.SliceStable(e.a.Failovers, func(i, j int) bool { return e.a.Failovers[i].Time.Before(e.a.Failovers[j].Time) })
	sort.SliceStable(e.a.SplitBrains, func(i, j int) bool { return e.a.SplitBrains[i].Start.Before(e.a.SplitBrains[j].Start) })
	sort.SliceStable(e.a.Findings, func(i, j int) bool {
		ri, rj := severityRank(e.a.Findings[i].Severity), severityRank(e.a.Findings[j].Severity)
		if ri != rj {
			return ri > rj
		}
		return e.a.Findings[i].Time.Before(e.a.Findings[j].Time)
	})
	a := e.a
	return &a
}

func severityRank(s Severity) int {
	switch s {
	case Critical:
		return 2
	case Warning:
		return 1
	}
	return 0
}

// ExitStatus maps the findings to a monitoring-plugin exit status: 0 nothing
// above info, 1 warnings, 2 critical findings.
func (a *Analysis) ExitStatus() int {
	worst := 0
	for _, f := range a.Findings {
		if r := severityRank(f.Severity); r > worst {
			worst = r
		}
	}
	return worst
}

// HasFinding reports whether a finding with the code was made.
func (a *Analysis) HasFinding(code string) bool {
	for _, f := range a.Findings {
		if f.Code == code {
			return true
		}
	}
	return false
}

func (e *Engine) emit(ev Event) {
	ev.SeenAt = e.seenAt(ev.Frame)
	e.record(ev)
}

// seenAt is where a frame was seen, in a merged analysis: to be read
// while the frame is recent.
func (e *Engine) seenAt(frame uint64) []Sighting {
	if e.vant == nil || frame == 0 {
		return nil
	}
	return e.vant.seenAt(frame)
}

// record adds an event, its SeenAt set, to the timeline.
func (e *Engine) record(ev Event) {
	if len(e.a.Timeline) < maxTimeline {
		e.a.Timeline = append(e.a.Timeline, ev)
	} else if len(e.a.Timeline) == maxTimeline {
		e.note("The timeline was cut at 20000 events; findings and failovers are complete.")
		e.a.Timeline = append(e.a.Timeline, Event{Kind: "truncated", Time: ev.Time, Frame: ev.Frame, Summary: "timeline truncated"})
	}
	if e.opt.OnEvent != nil {
		e.opt.OnEvent(ev)
	}
}

// find makes a finding and returns its index, or -1 when its code (or the
// whole list) is full: then it is counted, not kept.
func (e *Engine) find(f Finding) int {
	if e.perCode == nil {
		e.perCode = make(map[string]int)
	}
	if e.perCode[f.Code] >= MaxFindingsPerCode || len(e.a.Findings) >= MaxFindings {
		e.evicted("findings", 1)
		return -1
	}
	e.perCode[f.Code]++
	e.a.Findings = append(e.a.Findings, f)
	if e.opt.OnFinding != nil {
		e.opt.OnFinding(f)
	}
	return len(e.a.Findings) - 1
}

func (e *Engine) note(s string) {
	if e.notes[s] {
		return
	}
	if e.notes == nil {
		e.notes = make(map[string]bool)
	}
	e.notes[s] = true
	e.a.Notes = append(e.a.Notes, s)
}

// group returns the virtual router of an advert, creating it, and counts
// the advert.
func (e *Engine) group(f *decode.Frame) *group {
	k := groupKey{vlan: f.VLAN, outer: f.OuterVLAN, vrid: f.VRRP.VRID, v6: f.IP.Version == 6}
	g, promoted := e.groups.touch(k)
	if g == nil {
		var evicted int
		g, evicted = e.groups.add(k)
		if evicted > 0 {
			e.evicted("groups", uint64(evicted))
		}
		e.groupSeq++
		g.seq = e.groupSeq
	}
	g.adverts++
	if promoted {
		g.release(e)
	}
	return g
}

// promote takes g off probation: a claim to its VIPs.
func (e *Engine) promote(g *group) {
	if e.groups.promote(g) {
		g.release(e)
	}
}

// forgetGroup drops what refers to an evicted virtual router.
func (e *Engine) forgetGroup(g *group) {
	e.trains -= len(g.trains) // kept as spares when g is reused
	for len(g.vips) > 0 {
		e.forgetVIP(g, g.vips[len(g.vips)-1])
	}
	e.richSpeakers.note(g, false)
	for _, s := range g.speakers {
		e.unlistSpeaker(g, s)
	}
	if len(g.pending) > 0 {
		e.unpend(g)
	}
	e.dropFollow(g)
	if e.vant != nil {
		g.speakers = nil // a merged analysis knows routers by their address in memory: none is reused
	}
}

// dropVIP forgets v, one of g's addresses, and its open GARP trains: a
// GARP for it is no longer g's to judge. g learns it again from its next
// advert that lists it.
func (e *Engine) dropVIP(g *group, v netip.Addr) {
	e.dropTrains(g, func(tr *garpTrain) bool { return tr.vip == v })
	e.forgetVIP(g, v)
}

// forgetVIP forgets v, one of g's addresses (g.vips holds those whose
// byVIP entry is g).
func (e *Engine) forgetVIP(g *group, v netip.Addr) {
	if e.lastVIP.g == g && e.lastVIP.k.addr == v {
		e.lastVIP = vipHit{}
	}
	delete(e.byVIP, vipKey{vlan: g.key.vlan, outer: g.key.outer, addr: v})
	if e.byAddr[v] == g {
		delete(e.byAddr, v)
	}
	if i, found := slices.BinarySearchFunc(g.vips, v, netip.Addr.Compare); found {
		g.vips = slices.Delete(g.vips, i, i+1)
		e.allVIPs--
	}
	g.learnt = [len(g.learnt)]addrListID{}
	e.noteVIPs(g)
}

// learnVIPs makes addrs, the list id advertised for g, g's VIPs, unless
// they are another virtual router's of the same VLAN already (g takes one
// from its next advert after the other lets it go). Once every one is
// g's, the list is not looked at again: g remembers the last few lists
// learnt (its routers advertise one list, or two while they change it).
func (e *Engine) learnVIPs(g *group, id addrListID, addrs []netip.Addr) {
	if len(addrs) == 0 || slices.Contains(g.learnt[:], id) {
		return
	}
	added, complete := false, true
	for _, a := range addrs {
		k := vipKey{vlan: g.key.vlan, outer: g.key.outer, addr: a}
		if o := e.byVIP[k]; o != nil {
			if o != g {
				complete = false
			}
		} else {
			if len(g.vips) >= MaxVIPs {
				e.evicted("vips", 1)
				complete = false
				continue
			}
			if e.allVIPs >= MaxAllVIPs && !e.robVIP(g) {
				e.evicted("all vips", 1)
				complete = false
				continue
			}
			e.byVIP[k] = g
			e.byAddr[a] = g
			g.vips = append(g.vips, a)
			e.allVIPs++
			added = true
		}
	}
	if added {
		sortAddrs(g.vips)
		e.noteVIPs(g)
	}
	if complete {
		copy(g.learnt[1:], g.learnt[:])
		g.learnt[0] = id
	}
}

// advertisedVIPs notes the address list of router s's advert: its ID
// always, the list itself shared with a router of g that advertises
// the same, or copied while the routers' lists together stay within
// MaxAdvertisedAddrs.
func (e *Engine) advertisedVIPs(g *group, s *speaker, addrs []netip.Addr) {
	id := listID(addrs)
	if id == s.list {
		return // the same list: kept, or not while it stays the same
	}
	e.releaseVIPs(s)
	s.list = id
	if len(addrs) == 0 {
		return
	}
	for _, o := range g.speakers {
		if o != s && o.vips != nil && o.list == id && sameAddrs(o.vips, addrs) {
			s.vips = o.vips
			e.advertised += len(addrs)
			return
		}
	}
	if e.advertised+len(addrs) > MaxAdvertisedAddrs {
		// Only kept to be shown (the list's ID serves the checks): not
		// worth forgetting virtual routers for.
		e.evicted("advertised lists", 1)
		return
	}
	s.vips = sortedCopy(addrs)
	e.advertised += len(addrs)
}

// releaseVIPs gives up router s's kept address list.
func (e *Engine) releaseVIPs(s *speaker) {
	e.advertised -= len(s.vips)
	s.vips = nil
}

func sortAddrs(a []netip.Addr) { slices.SortFunc(a, netip.Addr.Compare) }
