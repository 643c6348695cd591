package analyze

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/vrrpctl/vrrpctl/decode"
	"github.com/vrrpctl/vrrpctl/vrrp"
)

// speaker is one router seen advertising for a group.
type speaker struct {
	ip       netip.Addr
	mac      decode.MAC
	priority int // last non-zero priority
	version  int
	interval time.Duration
	authType uint8
	authPass string
	vips     []netip.Addr
	adverts  int

	firstFrame, lastFrame uint64
	firstTime, lastTime   time.Time
	// lastLive is the last advert with a non-zero priority.
	lastLive      time.Time
	lastLiveFrame uint64
	// lastClaim is the last sign that the speaker holds the VIP: an advert,
	// a GARP, an ARP reply for the VIP, or a frame sent from the VIP. A
	// master in a split brain may barely advertise (keepalived restarts its
	// advert timer on every advert it receives, even one it rejects), but it
	// keeps answering for the VIP.
	lastClaim      time.Time
	lastClaimFrame uint64

	// findings maps a kind of bad advert (ttl, checksum) to the index of the
	// finding made for it, whose evidence grows with each bad advert.
	findings map[string]int
	ttlSeen  uint8
}

func (s *speaker) endpoint() Endpoint { return Endpoint{IP: s.ip.String(), MAC: s.mac.String()} }

func (s *speaker) claim(t time.Time, frame uint64) {
	if !t.Before(s.lastClaim) {
		s.lastClaim, s.lastClaimFrame = t, frame
	}
}

// claimWindow is how long a speaker may make no claim before it counts as
// gone: a Master_Down_Interval-like 3.5 advert intervals, so that two masters
// taking turns at advertising are not read as a string of takeovers.
func (s *speaker) claimWindow() time.Duration {
	iv := s.interval
	if iv <= 0 {
		iv = time.Second
	}
	return 3*iv + iv/2
}

// speakerByMAC finds the speaker that uses mac, if any.
func (g *group) speakerByMAC(mac decode.MAC) *speaker {
	for _, s := range g.speakers {
		if s.mac == mac {
			return s
		}
	}
	return nil
}

func (s *speaker) vipList() string { return addrList(s.vips) }

func addrList(a []netip.Addr) string {
	parts := make([]string, len(a))
	for i, x := range a {
		parts[i] = x.String()
	}
	return strings.Join(parts, ",")
}

// group is one virtual router and the state machine that follows its
// mastership: who advertises, who took over from whom and why.
type group struct {
	key      groupKey
	speakers []*speaker
	vips     []netip.Addr

	master      *speaker
	masterships []Mastership
	// prev is the master before the current (or before none), how its
	// mastership ended, and its last advert before it ended.
	prev         *speaker
	prevResigned bool
	prevLast     time.Time
	prevLastNum  uint64

	// A challenger advertises while the master still does: a preemption
	// under way, or the start of a split brain.
	challenger     *speaker
	challengeStart time.Time
	challengeFrame uint64
	challengeAds   int
	masterAds      int // the master's adverts since the challenge began
	masterLastPre  time.Time
	masterLastNum  uint64
	split          *splitBrain

	run      advertRun
	changes  []time.Time // for flapping
	flapped  time.Time
	mismatch map[string]bool // mismatch codes already reported

	switches *switchTracker // clients following the latest failover
	trains   []*garpTrain   // the GARP train of each mastership, per VIP
	unans    map[netip.Addr]*unanswered
}

type splitBrain struct {
	a, b     *speaker
	start    time.Time
	frames   []uint64
	reported bool
}

// advertRun folds a master's periodic adverts into one timeline event.
type advertRun struct {
	s                   *speaker
	prio                int
	count               int
	firstNum, lastNum   uint64
	firstTime, lastTime time.Time
}

func (g *group) speaker(ip netip.Addr, mac decode.MAC) *speaker {
	for _, s := range g.speakers {
		if s.ip == ip {
			if s.mac != mac {
				s.mac = mac
			}
			return s
		}
	}
	s := &speaker{ip: ip, mac: mac}
	g.speakers = append(g.speakers, s)
	return s
}

func (e *Engine) onAdvert(f *decode.Frame) {
	v := f.VRRP
	if v.Type != 1 {
		return
	}
	g := e.group(f)
	s := g.speaker(f.IP.Src, f.SrcMAC)
	e.speakerOf[f.SrcMAC] = true
	prevLive, prevLiveFrame := s.lastLive, s.lastLiveFrame
	if s.adverts == 0 {
		s.firstFrame, s.firstTime = f.Number, f.Time
	}
	s.adverts++
	s.lastFrame, s.lastTime = f.Number, f.Time
	s.version = int(v.Version)
	s.interval = v.Interval()
	s.authType = v.AuthType
	s.authPass = ""
	if v.Version == 2 && v.AuthType == 1 {
		s.authPass = v.AuthPassword()
	}
	if len(s.vips) != len(v.Addrs) || addrList(s.vips) != addrList(sortedCopy(v.Addrs)) {
		s.vips = sortedCopy(v.Addrs)
	}
	e.learnVIPs(g, v.Addrs)
	e.checkHeader(g, s, f)
	e.checkMismatch(g, s, f)

	if v.Priority == 0 {
		g.flushRun(e)
		e.emit(Event{Frame: f.Number, Time: f.Time, Kind: "resign", VRID: int(g.key.vrid), VLAN: int(g.key.vlan),
			Summary: fmt.Sprintf("%s sent a priority-0 advert: it is giving up mastership", s.ip)})
		switch {
		case g.split != nil && (g.master == s || g.challenger == s):
			// One of two masters stops: the split brain is over and the
			// other simply remains master; the VIP did not move.
			g.resignFromSplit(e, s, f)
		case g.master == s:
			g.endMastership(e, f.Time, f.Number, true)
			e.find(g.finding(CodeResign, []uint64{f.Number}, f.Time,
				fmt.Sprintf("%s resigned (priority 0 at frame %d): a graceful handover", s.ip, f.Number)))
		case g.challenger == s:
			g.challenger = nil
		}
		return
	}
	s.priority = int(v.Priority)
	s.lastLive, s.lastLiveFrame = f.Time, f.Number
	s.claim(f.Time, f.Number)

	switch {
	case g.master == nil:
		g.takeover(e, s, f.Time, f.Number, "")
	case g.master == s:
		if g.challenger != nil {
			g.masterAds++
			g.checkSplit(e, f)
		} else if !prevLive.IsZero() {
			g.checkGap(e, s, prevLive, prevLiveFrame, f)
		}
		e.checkUnanswered(g, s, f.Time)
		g.fold(e, s, f)
	default:
		m := g.master
		gap := f.Time.Sub(m.lastLive)
		mdi := vrrp.MasterDownInterval(s.version, s.priority, m.interval)
		switch {
		case g.challenger == s:
			// Already contending: advance decides takeover or split brain.
			g.challengeAds++
			g.checkSplit(e, f)
		case gap >= mdi*3/4:
			// The master went quiet long enough for this router to take over.
			g.endMastership(e, m.lastLive, m.lastLiveFrame, false)
			g.takeover(e, s, f.Time, f.Number, "master-down")
		case g.challenger == nil:
			g.flushRun(e)
			g.challenger = s
			g.challengeStart, g.challengeFrame = f.Time, f.Number
			g.challengeAds, g.masterAds = 1, 0
			g.masterLastPre, g.masterLastNum = m.lastLive, m.lastLiveFrame
			e.startTrains(g, s, f.Time, f.Number)
			e.trackSwitch(g, -1, m.mac, s.mac, f.Time)
			e.emit(Event{Frame: f.Number, Time: f.Time, Kind: "contend", VRID: int(g.key.vrid), VLAN: int(g.key.vlan),
				Summary: fmt.Sprintf("%s advertises (priority %d) while %s (priority %d) is master", s.ip, s.priority, m.ip, m.priority)})
		}
	}
}

func sortedCopy(a []netip.Addr) []netip.Addr {
	c := append([]netip.Addr(nil), a...)
	sortAddrs(c)
	return c
}

// checkSplit declares a split brain once both routers have kept advertising
// past the challenge: a preempted master stops at once, a split brain does not.
func (g *group) checkSplit(e *Engine, f *decode.Frame) {
	if g.split != nil {
		g.split.frames = addEvidence(g.split.frames, f.Number)
		return
	}
	if g.challengeAds < 2 || g.masterAds < 2 {
		return
	}
	g.startSplit(e, f.Time, f.Number)
}

// startSplit records that master and challenger both hold the VIP.
func (g *group) startSplit(e *Engine, t time.Time, frame uint64) {
	m, c := g.master, g.challenger
	g.split = &splitBrain{a: m, b: c, start: g.challengeStart, frames: []uint64{g.challengeFrame, frame}}
	e.emit(Event{Frame: frame, Time: t, Kind: "split-brain", VRID: int(g.key.vrid), VLAN: int(g.key.vlan),
		Summary: fmt.Sprintf("two masters: %s and %s both hold the VIP", m.ip, c.ip)})
}

// resignFromSplit ends a split brain by one side's priority-0 advert.
func (g *group) resignFromSplit(e *Engine, s *speaker, f *decode.Frame) {
	m, c := g.master, g.challenger
	g.reportSplit(e, m, c, f.Time)
	e.find(g.finding(CodeResign, []uint64{f.Number}, f.Time,
		fmt.Sprintf("%s resigned (priority 0 at frame %d) during the split brain", s.ip, f.Number)))
	g.split, g.challenger = nil, nil
	if s == c {
		return
	}
	// The challenger had been master all along: its mastership began when it
	// first advertised.
	g.flushRun(e)
	if n := len(g.masterships); n > 0 {
		g.masterships[n-1].To, g.masterships[n-1].ToFrame = f.Time, f.Number
	}
	e.endTrains(g, m, f.Time)
	g.master = c
	g.masterships = append(g.masterships, Mastership{Endpoint: c.endpoint(), FromFrame: g.challengeFrame, From: g.challengeStart})
	e.emit(Event{Frame: f.Number, Time: f.Time, Kind: "master", VRID: int(g.key.vrid), VLAN: int(g.key.vlan),
		Summary: fmt.Sprintf("%s remains the only master", c.ip)})
}

// checkGap flags a master that skipped adverts without losing mastership.
func (g *group) checkGap(e *Engine, s *speaker, prev time.Time, prevFrame uint64, f *decode.Frame) {
	if s.interval <= 0 {
		return
	}
	gap := f.Time.Sub(prev)
	if gap*10 < s.interval*18 { // under 1.8 intervals: at most jitter
		return
	}
	missed := int(gap/s.interval) - 1
	if missed < 1 {
		missed = 1
	}
	mdi := vrrp.MasterDownInterval(s.version, 1, s.interval)
	fd := g.finding(CodeAdvertGap, []uint64{prevFrame, f.Number}, f.Time,
		fmt.Sprintf("master %s was silent for %.2f s (%d advert(s) missed at %.2f s intervals) and kept mastership", s.ip, gap.Seconds(), missed, s.interval.Seconds()))
	if gap >= mdi*3/4 {
		fd.Summary += "; no backup took over"
	}
	fd.Detail += fmt.Sprintf(" Here the gap was %.0f ms; a backup of the lowest priority declares the master down after %.0f ms.", ms(gap), ms(mdi))
	e.find(fd)
}

// takeover makes s the master at t. cause is empty when it follows from how
// the previous mastership ended.
func (g *group) takeover(e *Engine, s *speaker, t time.Time, frame uint64, cause string) {
	g.flushRun(e)
	prev := g.prev
	g.master = s
	g.challenger = nil
	g.split = nil
	g.masterships = append(g.masterships, Mastership{Endpoint: s.endpoint(), FromFrame: frame, From: t})
	e.startTrains(g, s, t, frame)
	vr, vl := int(g.key.vrid), int(g.key.vlan)
	if prev == nil || prev == s {
		if prev == s {
			e.emit(Event{Frame: frame, Time: t, Kind: "master", VRID: vr, VLAN: vl,
				Summary: fmt.Sprintf("%s advertises again after %.2f s of silence; no other router took over", s.ip, t.Sub(g.prevLast).Seconds())})
			return
		}
		e.emit(Event{Frame: frame, Time: t, Kind: "master", VRID: vr, VLAN: vl,
			Summary: fmt.Sprintf("%s is master (priority %d, every %s, VRRPv%d, VIP %s)", s.ip, s.priority, fmtDur(s.interval), s.version, s.vipList())})
		return
	}
	fo := Failover{VRID: vr, VLAN: vl, Family: g.family(), Frame: frame, Time: t,
		From: prev.endpoint(), To: s.endpoint(), Clients: []ClientSwitch{}}
	fo.DetectMS = ms(t.Sub(g.prevLast))
	switch {
	case cause != "" && cause != "master-down":
		fo.Cause = cause
	case g.prevResigned:
		fo.Cause = "resign"
		fo.ExpectedMS = ms(vrrp.SkewTime(s.version, s.priority, prev.interval))
	default:
		fo.Cause = "master-down"
		fo.ExpectedMS = ms(vrrp.MasterDownInterval(s.version, s.priority, prev.interval))
	}
	e.a.Failovers = append(e.a.Failovers, fo)
	idx := len(e.a.Failovers) - 1
	summary := fmt.Sprintf("%s took over from %s (%s) after %.0f ms%s", s.ip, prev.ip, fo.Cause, fo.DetectMS, expectedText(fo))
	if mb := e.members[memberKey{vlan: g.key.vlan, outer: g.key.outer, ip: s.ip}]; fo.Cause == "preempt" && mb != nil && mb.in && mb.joined.Before(t) {
		// A preempting backup waits out its own Master_Down_Interval from
		// start-up: it discards the lower-priority master's adverts.
		summary += fmt.Sprintf("; it had joined 224.0.0.18 %.2f s before (its Master_Down_Interval: %.2f s)",
			t.Sub(mb.joined).Seconds(), vrrp.MasterDownInterval(s.version, s.priority, s.interval).Seconds())
	}
	e.emit(Event{Frame: frame, Time: t, Kind: "failover", VRID: vr, VLAN: vl, Summary: summary})
	if fo.ExpectedMS > 0 && fo.DetectMS > fo.ExpectedMS*1.25+100 {
		e.find(g.finding(CodeSlowFailover, []uint64{g.prevLastNum, frame}, t,
			fmt.Sprintf("%s took over from %s after %.0f ms; the RFC time for %s is %.0f ms", s.ip, prev.ip, fo.DetectMS, fo.Cause, fo.ExpectedMS)))
	}
	for _, tr := range g.openTrains(s) {
		if tr.failover < 0 {
			tr.failover = idx
			if tr.count > 0 && e.a.Failovers[idx].GarpMS == nil {
				e.a.Failovers[idx].GarpMS = msPtr(tr.first.Sub(t))
			}
		}
	}
	e.trackSwitch(g, idx, prev.mac, s.mac, t)
	g.changes = append(g.changes, t)
	g.checkFlapping(e, t, frame)
	if e.opt.OnFailover != nil {
		e.opt.OnFailover(fo)
	}
}

func expectedText(fo Failover) string {
	if fo.ExpectedMS <= 0 {
		return ""
	}
	return fmt.Sprintf(" (RFC: %.0f ms)", fo.ExpectedMS)
}

func fmtDur(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

// endMastership closes the current mastership; last is the master's last
// advert (its priority-0 advert when it resigned).
func (g *group) endMastership(e *Engine, last time.Time, lastNum uint64, resigned bool) {
	m := g.master
	if m == nil {
		return
	}
	g.flushRun(e)
	if n := len(g.masterships); n > 0 {
		ms := &g.masterships[n-1]
		ms.To, ms.ToFrame = last, lastNum
	}
	e.endTrains(g, m, last)
	g.prev, g.prevResigned, g.prevLast, g.prevLastNum = m, resigned, last, lastNum
	g.master = nil
	g.challenger = nil
	g.split = nil
}

// advance resolves what silence means at time now: a master that stopped, a
// challenger that gave up, a split brain that ended.
func (g *group) advance(e *Engine, now time.Time) {
	e.checkTrains(g, now)
	m := g.master
	if m == nil {
		return
	}
	if c := g.challenger; c != nil {
		// In a split brain a master may stay quiet for seconds and still be
		// master (keepalived restarts its advert timer on each advert it
		// hears and rejects): ending one takes twice the window.
		mWin, cWin := m.claimWindow(), c.claimWindow()
		if g.split != nil {
			mWin, cWin = 2*mWin, 2*cWin
		}
		mQuiet := now.Sub(m.lastClaim) > mWin
		cQuiet := now.Sub(c.lastClaim) > cWin
		// Both went on claiming the VIP well after the challenge began: a
		// preempted master stops at once.
		after := g.challengeStart.Add(max(m.interval, c.interval))
		both := m.lastClaim.After(after) && c.lastClaim.After(after)
		switch {
		case g.split == nil && !mQuiet && !cQuiet && both:
			g.startSplit(e, now, max(m.lastClaimFrame, c.lastClaimFrame))
		case g.split != nil && (mQuiet || cQuiet):
			g.endSplit(e, now, mQuiet, cQuiet)
		case g.split == nil && mQuiet && !cQuiet:
			// The master stopped once the challenger spoke: a takeover.
			cause := "unknown"
			if c.priority > m.priority || (c.priority == m.priority && c.ip.Compare(m.ip) > 0) {
				cause = "preempt"
			}
			g.prev, g.prevResigned, g.prevLast, g.prevLastNum = m, false, g.masterLastPre, g.masterLastNum
			if n := len(g.masterships); n > 0 {
				g.masterships[n-1].To, g.masterships[n-1].ToFrame = m.lastClaim, m.lastClaimFrame
			}
			e.endTrains(g, m, m.lastClaim)
			g.master = nil
			g.takeover(e, c, g.challengeStart, g.challengeFrame, cause)
		case g.split == nil && cQuiet:
			e.emit(Event{Frame: c.lastClaimFrame, Time: c.lastClaim, Kind: "contend", VRID: int(g.key.vrid), VLAN: int(g.key.vlan),
				Summary: fmt.Sprintf("%s stopped advertising after %d advert(s); %s stays master", c.ip, g.challengeAds, m.ip)})
			g.challenger = nil
		}
		return
	}
	if m.interval > 0 && now.Sub(m.lastLive) > vrrp.MasterDownInterval(m.version, 1, m.interval) {
		e.emit(Event{Frame: m.lastLiveFrame, Time: m.lastLive, Kind: "silent", VRID: int(g.key.vrid), VLAN: int(g.key.vlan),
			Summary: fmt.Sprintf("master %s went silent (last advert at frame %d)", m.ip, m.lastLiveFrame)})
		g.endMastership(e, m.lastLive, m.lastLiveFrame, false)
	}
}

// endSplit closes a split brain when one side has made no claim for its
// window: whoever still holds the VIP is master.
func (g *group) endSplit(e *Engine, now time.Time, mQuiet, cQuiet bool) {
	m, c := g.master, g.challenger
	end := c.lastClaim
	if !cQuiet {
		end = m.lastClaim
	}
	g.reportSplit(e, m, c, end)
	g.split = nil
	g.challenger = nil
	if mQuiet && !cQuiet {
		g.prev, g.prevResigned, g.prevLast, g.prevLastNum = m, false, m.lastLive, m.lastLiveFrame
		e.endTrains(g, m, m.lastClaim)
		g.master = nil
		g.takeover(e, c, c.lastLive, c.lastLiveFrame, "unknown")
	}
}

// reportSplit makes the split-brain finding for an episode that ended at end.
func (g *group) reportSplit(e *Engine, m, c *speaker, end time.Time) {
	sb := g.split
	dur := end.Sub(sb.start)
	e.find(g.finding(CodeSplitBrain, sb.frames, sb.start,
		fmt.Sprintf("%s and %s were both master for %.1f s. %s", m.ip, c.ip, dur.Seconds(), g.splitCause(m, c))))
	e.emit(Event{Frame: max(m.lastClaimFrame, c.lastClaimFrame), Time: end, Kind: "split-brain", VRID: int(g.key.vrid), VLAN: int(g.key.vlan),
		Summary: fmt.Sprintf("split brain over after %.1f s", dur.Seconds())})
}

// splitCause names the likely reason two routers did not hear each other.
func (g *group) splitCause(a, b *speaker) string {
	var causes []string
	if a.interval != b.interval {
		causes = append(causes, fmt.Sprintf("their advert intervals differ (%s vs %s): a VRRPv2 router discards adverts of another interval", fmtDur(a.interval), fmtDur(b.interval)))
	}
	if a.version != b.version {
		causes = append(causes, fmt.Sprintf("they speak different versions (VRRPv%d vs VRRPv%d)", a.version, b.version))
	}
	if a.authType != b.authType || a.authPass != b.authPass {
		causes = append(causes, "their authentication differs")
	}
	if a.vipList() != b.vipList() {
		causes = append(causes, fmt.Sprintf("their VIP lists differ (%s vs %s)", a.vipList(), b.vipList()))
	}
	if a.ttlSeen != 255 || b.ttlSeen != 255 {
		causes = append(causes, "adverts arrive with a TTL other than 255 and are discarded")
	}
	hi, lo := a, b
	if b.priority > a.priority {
		hi, lo = b, a
	}
	if len(causes) == 0 {
		if hi.priority != lo.priority {
			return fmt.Sprintf("Likely cause: %s (priority %d) kept advertising although %s advertised a higher priority (%d): it evidently does not hear %s (a firewall dropping IP protocol 112, or multicast not forwarded).", lo.ip, lo.priority, hi.ip, hi.priority, hi.ip)
		}
		return "Likely cause: the routers do not hear each other (a firewall dropping IP protocol 112, or multicast not forwarded)."
	}
	return "Likely cause: " + strings.Join(causes, "; ") + "."
}

func (g *group) checkFlapping(e *Engine, t time.Time, frame uint64) {
	const window, limit = time.Minute, 4
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
	ev := Event{Frame: r.firstNum, Time: r.firstTime, Kind: "adverts", VRID: int(g.key.vrid), VLAN: int(g.key.vlan), Count: r.count}
	if r.count > 1 {
		ev.LastFrame = r.lastNum
		every := r.lastTime.Sub(r.firstTime) / time.Duration(r.count-1)
		ev.Summary = fmt.Sprintf("%s advertised every %.2f s x %d (priority %d)", r.s.ip, every.Seconds(), r.count, r.prio)
	} else {
		ev.Summary = fmt.Sprintf("%s advertised (priority %d)", r.s.ip, r.prio)
	}
	*r = advertRun{}
	e.emit(ev)
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

// finish closes open runs and reports what only the whole capture shows.
func (g *group) finish(e *Engine, end time.Time) {
	if g.split != nil {
		// No more evidence will come: judge the split brain's end on the
		// single window. One side quiet: it ended. Both active: the capture
		// ends with two masters, and there is no one master.
		m, c := g.master, g.challenger
		mQuiet, cQuiet := end.Sub(m.lastClaim) > m.claimWindow(), end.Sub(c.lastClaim) > c.claimWindow()
		if mQuiet != cQuiet {
			g.endSplit(e, end, mQuiet, cQuiet)
		}
	}
	if g.split != nil {
		g.endSplit(e, end, false, true)
		g.endMastership(e, g.master.lastLive, g.master.lastLiveFrame, false)
		e.emit(Event{Frame: g.prevLastNum, Time: end, Kind: "split-brain", VRID: int(g.key.vrid), VLAN: int(g.key.vlan),
			Summary: "the capture ends with both routers still master"})
	}
	g.flushRun(e)
	e.finishTrains(g, end)
	if len(g.speakers) == 1 && !e.hasOtherMember(g) {
		s := g.speakers[0]
		if s.adverts >= 3 {
			e.find(g.finding(CodeNoBackup, []uint64{s.firstFrame}, s.firstTime,
				fmt.Sprintf("only %s was seen for VRID %d; no other router advertised or joined 224.0.0.18", s.ip, g.key.vrid)))
		}
	}
}

func (g *group) model() Group {
	out := Group{VRID: int(g.key.vrid), VLAN: int(g.key.vlan), Family: g.family(), VIPs: []string{}, Speakers: []Speaker{}, Masterships: []Mastership{}}
	for _, v := range g.vips {
		out.VIPs = append(out.VIPs, v.String())
	}
	for _, s := range g.speakers {
		sp := Speaker{IP: s.ip.String(), MAC: s.mac.String(), Priority: s.priority, AdvertIntervalMS: ms(s.interval),
			Version: s.version, Auth: authName(s.authType), AuthPass: s.authPass, VIPs: []string{}, Adverts: s.adverts,
			FirstFrame: s.firstFrame, LastFrame: s.lastFrame, LastAdvert: s.lastTime}
		for _, v := range s.vips {
			sp.VIPs = append(sp.VIPs, v.String())
		}
		out.Speakers = append(out.Speakers, sp)
	}
	out.Masterships = append(out.Masterships, g.masterships...)
	if g.master != nil {
		ep := g.master.endpoint()
		out.Master = &ep
	}
	return out
}

func authName(t uint8) string {
	switch t {
	case 0:
		return "none"
	case 1:
		return "pass"
	case 2:
		return "ah"
	}
	return fmt.Sprintf("type-%d", t)
}
