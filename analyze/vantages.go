package analyze

import (
	"fmt"
	"math/bits"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/vrrpctl/vrrpctl/decode"
)

// Several captures of one incident (merge.go feeds them): each frame comes
// once, with the vantages that saw it. The conclusions drawn from them,
// only where the vantages make them certain:
//
//   - A vantage *receives* when it saw adverts of two routers or frames of
//     a client: a router's own capture of what it sent (tcpdump -Q out)
//     witnesses nothing lost on the way to it.
//   - garp-lost: the new master's GARPs were seen at one vantage and not at
//     a receiving one that saw that master's adverts before and after
//     them: the segment dropped them in between.
//   - garp-ignored: a client's own capture holds the new master's GARP,
//     and the client went on sending to the old MAC.
//   - advert-lost: adverts of a router missing at a receiving vantage that
//     was capturing before and after them; a split brain that follows
//     names it as its cause.
//   - not-sent: a router's own capture shows it became master and sent no
//     GARP.
//
// A client's own capture is the one that saw every frame it sent to a VIP;
// a router's, the one whose host (or name) is its address, or the one that
// saw its adverts and nothing of any other router or client.

// vantages is the engine's view of the captures of a merged analysis.
type vantages struct {
	list []Vantage
	mask uint64 // the current frame's vantages
	now  []Sighting
	obs  []vantageObs
	ring sightRing
	// lost counts adverts missing at each vantage, per router.
	lost map[*speaker][]advertMiss
}

type vantageObs struct {
	routers  [2]netip.Addr // the first two routers whose adverts it saw
	nRouters int
	clients  int // frames of clients to a VIP it saw
	last     time.Time
	// delay sums how much later than their first sighting it saw adverts.
	delay   time.Duration
	adverts int
}

type advertMiss struct {
	count             int
	frames            []uint64
	first, last       time.Time
	firstNum, lastNum uint64
}

func newVantages(list []Vantage) *vantages {
	return &vantages{list: list, obs: make([]vantageObs, len(list)), lost: make(map[*speaker][]advertMiss), ring: newSightRing()}
}

// UseVantages tells the engine the captures of a merged analysis; frames
// are then fed with FeedSeen.
func (e *Engine) UseVantages(list []Vantage) {
	if len(list) > 64 {
		list = list[:64]
	}
	e.vant = newVantages(list)
}

// FeedSeen advances the engine by one frame and where it was seen.
func (e *Engine) FeedSeen(f *decode.Frame, seen []Sighting) {
	if v := e.vant; v != nil {
		v.mask, v.now = 0, seen
		for _, s := range seen {
			if s.Vantage < len(v.obs) {
				v.mask |= 1 << s.Vantage
				if s.Time.After(v.obs[s.Vantage].last) {
					v.obs[s.Vantage].last = s.Time
				}
			}
		}
		v.ring.put(f.Number, seen)
	}
	e.Feed(f)
}

func (v *vantages) receiving(i int) bool { return v.obs[i].nRouters >= 2 || v.obs[i].clients > 0 }

// each calls f for each vantage in mask.
func each(mask uint64, f func(int)) {
	for mask != 0 {
		i := bits.TrailingZeros64(mask)
		f(i)
		mask &^= 1 << i
	}
}

// advert notes where s's live advert was seen: which routers each vantage
// hears, the hop delay, and adverts missing at a vantage that was
// capturing.
func (v *vantages) advert(s *speaker, f *decode.Frame) {
	if s.seenAt == nil {
		s.seenAt = make([]time.Time, len(v.list))
	}
	var first time.Time
	for _, sg := range v.now {
		if first.IsZero() || sg.Time.Before(first) {
			first = sg.Time
		}
	}
	for _, sg := range v.now {
		i := sg.Vantage
		if i >= len(v.obs) {
			continue
		}
		o := &v.obs[i]
		s.seenAt[i] = sg.Time
		if o.nRouters < 2 && (o.nRouters == 0 || o.routers[0] != s.ip) {
			o.routers[o.nRouters] = s.ip
			o.nRouters++
		}
		o.delay += sg.Time.Sub(first)
		o.adverts++
	}
	// Missing at a vantage that heard this router before and was capturing
	// within the last interval and a half: confirmed at the end if it
	// receives (a capture of what one router sends witnesses no loss) and
	// went on capturing.
	for i := range v.list {
		if v.mask&(1<<i) != 0 || s.seenAt[i].IsZero() || f.Time.Sub(v.obs[i].last) > s.interval+s.interval/2 {
			continue
		}
		ms := v.lost[s]
		if ms == nil {
			ms = make([]advertMiss, len(v.list))
			v.lost[s] = ms
		}
		m := &ms[i]
		if m.count == 0 {
			m.first, m.firstNum = f.Time, f.Number
		}
		m.count++
		m.last, m.lastNum = f.Time, f.Number
		m.frames = addEvidence(m.frames, f.Number)
	}
}

// clientFrame notes where a client's frame to a VIP was seen.
func (v *vantages) clientFrame(c *client) {
	each(v.mask, func(i int) { v.obs[i].clients++ })
	if c == nil {
		return
	}
	if c.frames == 1 {
		c.seenAll = v.mask
	} else {
		c.seenAll &= v.mask
	}
}

// ownOf is the capture taken on the host at addr, or -1.
func (v *vantages) ownOf(addr netip.Addr) int {
	for i, x := range v.list {
		if x.Host == addr.String() || x.Name == addr.String() {
			return i
		}
	}
	return -1
}

// routerOwn is router s's own capture, or -1: its host's, or the one that
// saw its adverts and nothing of any other router or client.
func (v *vantages) routerOwn(s *speaker) int {
	if i := v.ownOf(s.ip); i >= 0 {
		return i
	}
	for i, o := range v.obs {
		if o.nRouters == 1 && o.routers[0] == s.ip && o.clients == 0 {
			return i
		}
	}
	return -1
}

// clientOwn is the capture taken on client c, or -1: its host's, or the
// receiving one that saw every frame it sent to a VIP.
func (v *vantages) clientOwn(c *client) int {
	if i := v.ownOf(c.addr()); i >= 0 {
		return i
	}
	for m := c.seenAll; m != 0; m &^= 1 << bits.TrailingZeros64(m) {
		if i := bits.TrailingZeros64(m); i < len(v.list) && v.receiving(i) {
			return i
		}
	}
	return -1
}

// garp notes where an announcement by s, the new master of fl, was seen
// and where it went missing.
func (v *vantages) garp(fl *follow, s *speaker, pc pendingClaim) {
	if fl.garpSeenAt == nil {
		fl.garpSeenAt = make([]time.Time, len(v.list))
		fl.garpMiss = make([]garpMiss, len(v.list))
	}
	fl.garpMask |= pc.mask
	fl.garps = addEvidence(fl.garps, pc.frame)
	each(pc.mask, func(i int) {
		if i < len(fl.garpSeenAt) && fl.garpSeenAt[i].IsZero() {
			fl.garpSeenAt[i] = pc.t
		}
	})
	for i := range v.list {
		if pc.mask&(1<<i) != 0 || !v.receiving(i) || s.seenAt == nil || s.seenAt[i].IsZero() || pc.t.Sub(s.seenAt[i]) > s.interval+s.interval/2 {
			continue
		}
		m := &fl.garpMiss[i]
		m.count++
		m.last = pc.t
	}
}

// garpMiss counts a new master's announcements missing at a vantage that
// heard its adverts before them.
type garpMiss struct {
	count int
	last  time.Time
}

// lostAt reports whether the new master's GARPs went missing at vantage i:
// some were seen elsewhere, none there, though it heard the master's
// adverts before and after them.
func (fl *follow) lostAt(i int, s *speaker) bool {
	if fl.garpMiss == nil || i < 0 || i >= len(fl.garpMiss) {
		return false
	}
	m := fl.garpMiss[i]
	return m.count > 0 && fl.garpSeenAt[i].IsZero() && s.seenAt != nil && s.seenAt[i].After(m.last)
}

// judgeFollow makes the findings of one change of master that only several
// captures tell: GARPs lost on the way to a capture, and clients that got
// them and ignored them.
func (e *Engine) judgeFollow(g *group, fl *follow) {
	v := e.vant
	if v == nil || fl.failover < 0 {
		return
	}
	fo := &e.a.Failovers[fl.failover]
	s := fl.to
	seen := v.names(fl.garpMask)
	for i := range v.list {
		if !fl.lostAt(i, s) {
			continue
		}
		fl.lostReported |= 1 << i
		var stale []string
		e.eachFollowed(fl, func(c *client) {
			if st := &c.st; st.staleEnough() && v.clientOwn(c) == i {
				stale = append(stale, fmt.Sprintf("%s (%d frames to the old MAC over %.1f s)", c.addr(), st.stale, st.lastStale.Seconds()))
				st.staleReported = true // garp-lost says why
			}
		})
		summary := fmt.Sprintf("%s's %d %s after it took over were seen at %s and none at %s, which heard %s's adverts before and after them: dropped between them",
			s.ip, fl.garpMiss[i].count, announcement(g.vips[0], 2), seen, v.list[i].Name, s.ip)
		if len(stale) > 0 {
			summary += "; clients there kept the old MAC: " + strings.Join(stale, ", ")
		}
		fd := g.finding(CodeGARPLost, fl.garps, fo.Time, summary)
		if len(stale) > 0 {
			fd.Severity = Critical
		}
		e.find(fd)
	}
}

// staleVerdict refines a stale client with several captures: it received
// the new master's GARP and ignored it (garp-ignored), or the GARP never
// reached it (garp-lost, reported by judgeFollow). ok is false when the
// captures do not tell.
func (e *Engine) staleVerdict(fl *follow, c *client) (code, why string, ok bool) {
	v := e.vant
	if v == nil || fl.garpSeenAt == nil {
		return "", "", false
	}
	i := v.clientOwn(c)
	if i < 0 {
		return "", "", false
	}
	if t := fl.garpSeenAt[i]; !t.IsZero() && t.Before(fl.t0.Add(c.st.lastStale)) {
		return CodeGARPIgnored, fmt.Sprintf(" (its own capture, %s, holds the new master's GARP at +%.3f s: it ignored it)", v.list[i].Name, t.Sub(fl.t0).Seconds()), true
	}
	if fl.lostReported&(1<<i) != 0 {
		return CodeGARPLost, "", true
	}
	return "", "", false
}

// notSent reports whether s's own capture shows it master since start and
// sending no GARP: then not-sent replaces no-garp.
func (e *Engine) notSent(s *speaker, start time.Time) (string, bool) {
	v := e.vant
	if v == nil {
		return "", false
	}
	i := v.routerOwn(s)
	if i < 0 || s.seenAt == nil || !s.seenAt[i].After(start) {
		return "", false
	}
	return v.list[i].Name, true
}

// finishVantages makes the findings only the whole capture settles (adverts
// lost on the way) and writes each vantage's figures.
func (e *Engine) finishVantages() {
	v := e.vant
	if v == nil {
		return
	}
	for _, g := range e.sortedGroups() {
		for _, s := range g.speakers {
			for i, m := range v.lost[s] {
				if m.count < 3 || !v.receiving(i) || !v.obs[i].last.After(m.first) {
					continue
				}
				fd := g.finding(CodeAdvertLost, m.frames, m.first,
					fmt.Sprintf("%d adverts of %s (frames %d to %d) were seen elsewhere and not at %s, which was capturing meanwhile: lost on the way to it", m.count, s.ip, m.firstNum, m.lastNum, v.list[i].Name))
				e.find(fd)
			}
		}
	}
	for i := range v.list {
		o := v.obs[i]
		if o.adverts > 0 {
			v.list[i].AdvertsSeen = o.adverts
			v.list[i].AdvertDelayMS = ms(o.delay / time.Duration(o.adverts))
		}
	}
	e.a.Sources = v.list
}

// advertLossCause names adverts of a lost on the way to b's capture, for a
// split brain between them.
func (e *Engine) advertLossCause(a, b *speaker) string {
	v := e.vant
	if v == nil {
		return ""
	}
	i := v.routerOwn(b)
	if i < 0 || v.lost[a] == nil || v.lost[a][i].count == 0 {
		return ""
	}
	m := v.lost[a][i]
	return fmt.Sprintf("Cause, from the captures: %d adverts of %s were seen elsewhere and not at %s (%s's own capture): one-way loss on the way to it.", m.count, a.ip, v.list[i].Name, b.ip)
}

// names lists the vantages of mask.
func (v *vantages) names(mask uint64) string {
	var out []string
	each(mask, func(i int) {
		if i < len(v.list) {
			out = append(out, v.list[i].Name)
		}
	})
	if len(out) == 0 {
		return "no capture"
	}
	return strings.Join(out, ", ")
}

// framesAt translates a finding's evidence into each capture's own frame
// numbers.
func (v *vantages) framesAt(frames []uint64) map[string][]uint64 {
	out := map[string][]uint64{}
	for _, n := range frames {
		for _, sg := range v.ring.get(n) {
			if sg.Vantage < len(v.list) {
				name := v.list[sg.Vantage].Name
				if !slices.Contains(out[name], sg.Frame) {
					out[name] = append(out[name], sg.Frame)
				}
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// sightRing remembers where the latest frames were seen, for translating
// evidence into each capture's frame numbers; older frames are forgotten.
type sightRing struct {
	nums   []uint64
	sights [][maxRingSights]Sighting
	count  []uint8
}

const (
	ringFrames    = 1 << 16
	maxRingSights = 8
)

func newSightRing() sightRing {
	return sightRing{nums: make([]uint64, ringFrames), sights: make([][maxRingSights]Sighting, ringFrames), count: make([]uint8, ringFrames)}
}

func (r *sightRing) put(n uint64, seen []Sighting) {
	i := n % ringFrames
	r.nums[i] = n
	c := copy(r.sights[i][:], seen)
	r.count[i] = uint8(c)
}

func (r *sightRing) get(n uint64) []Sighting {
	i := n % ringFrames
	if r.nums[i] != n {
		return nil
	}
	return r.sights[i][:r.count[i]]
}

// seenAt is where the frame of an event was seen.
func (v *vantages) seenAt(frame uint64) []Sighting {
	return slices.Clone(v.ring.get(frame))
}
