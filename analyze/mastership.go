package analyze

import (
	"fmt"
	"strings"
	"time"

	"github.com/vrrpctl/vrrpctl/decode"
	"github.com/vrrpctl/vrrpctl/vrrp"
)

// The mastership rules, all in this file:
//
//   - Only a master advertises: the first router to advertise is master.
//   - A router that advertises while the master holds the VIP is a
//     contender. A master that hears a higher priority (or the same
//     priority from a higher address) stops at once (RFC 3768 and RFC 5798
//     section 6.4.3), so a contender that outranks a master that then makes
//     no claim has taken over at its first advert: a preemption, decided as
//     soon as the old master misses its next advert, or at the end of the
//     capture.
//   - If both go on claiming the VIP after the contest began (each at least
//     a grace period later, so that frames in flight do not count), both
//     hold it: a split brain, however short. It ends with the last claim of
//     the side that gave up: its priority-0 advert, or the last claim before
//     it stayed quiet for twice its claim window.
//   - A contender that stops after its first claims while the master goes
//     on gave up: it heard the master. When the one that gave way had been
//     master for less than one and a half of its advert intervals since
//     nobody was, the two were electing a master at start-up: not a failover.
//   - A master that stays silent for a Master_Down_Interval is gone; the next
//     router to advertise takes over (master-down), after Skew_Time when the
//     old master resigned with priority 0 (resign). A new master that was not
//     running when the old one left is no failover the RFC times apply to
//     (no-backup).

// contest is a second router claiming the VIP while the master holds it.
type contest struct {
	holder, challenger *speaker
	start              time.Time // the challenger's first advert
	startFrame         uint64
	// holderLast is the holder's last advert before the contest.
	holderLast    time.Time
	holderLastNum uint64
	grace         time.Duration
	// holderOn and challengerOn: the side made a claim more than grace
	// after the start. Both means both held the VIP at once.
	holderOn, challengerOn bool
	split                  bool
	splitFinding           int // index of the split-brain finding
	hClaims, cClaims       int
	hFrames, cFrames       []uint64
	challengerAds          int
	moved                  []ClientMove
	movedMACs              []decode.MAC // of moved, to find a client without formatting its MAC
}

// endContest forgets the contest, noting when it ended.
func (g *group) endContest() {
	if g.contest != nil {
		g.contestEnd = g.contest.holder.lastClaim
		if c := g.contest.challenger.lastClaim; c.After(g.contestEnd) {
			g.contestEnd = c
		}
	}
	g.contest = nil
}

// contestGrace is how long after a contest begins a claim still counts as
// in flight: the old master's GARP already queued, an answer sent before the
// contender's advert arrived.
func contestGrace(a, b *speaker) time.Duration {
	return min(100*time.Millisecond, min(a.interval, b.interval)/2)
}

// onAdvert follows the mastership of the advert's virtual router.
func (e *Engine) onAdvert(f *decode.Frame) {
	v := f.VRRP
	if v.Type != 1 {
		return
	}
	g := e.group(f)
	g.beat(f.Time, v.Interval())
	s := g.speaker(e, f.IP.Src)
	if s == nil {
		return // a flood of routers: the ones followed are masters or contend
	}
	s.mac, s.virtual = f.SrcMAC, f.SrcMAC == g.vmac
	if s.virtual {
		g.vmacSeen = true
	} else {
		s.own = f.SrcMAC
	}
	e.holdMAC(g, s, f.SrcMAC)
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
	e.advertisedVIPs(g, s, v.Addrs)
	e.learnVIPs(g, s.list, v.Addrs)
	e.checkHeader(g, s, f)
	e.checkMismatch(g, s, f)

	if v.Priority == 0 {
		g.resign(e, s, f)
	} else {
		if old, changed := s.heard(int(v.Priority), f.Time, f.Number); changed {
			g.flushRun(e)
			g.emit(e, g.event(f.Number, f.Time, "priority",
				fmt.Sprintf("%s's priority changed from %d to %d", s.ip, old, s.priority)).between(s.ip, nil))
		}
		s.lastLive, s.lastLiveFrame = f.Time, f.Number
		if e.vant != nil {
			e.vant.advert(s, f)
		}
		g.onLiveAdvert(e, s, f, prevLive, prevLiveFrame)
	}
	// Claims from the virtual MAC stamped with this advert's instant belong
	// to whoever is master now that it has been read.
	e.flushPending(g, f.Time.Add(time.Nanosecond), false)
}

func (g *group) onLiveAdvert(e *Engine, s *speaker, f *decode.Frame, prevLive time.Time, prevLiveFrame uint64) {
	t, n := f.Time, f.Number
	m := g.master
	switch {
	case m == nil:
		g.takeover(e, s, t, n, "", 1)
		g.fold(e, s, f)
	case m == s:
		// A gap that began during a contest is the contest's: keepalived
		// holds back a master's adverts while it hears the other's.
		if g.contest == nil && !prevLive.IsZero() && !prevLive.Before(g.contestEnd) {
			g.checkGap(e, s, prevLive, prevLiveFrame, f)
		}
		e.checkUnanswered(g, s, t)
		g.fold(e, s, f)
	case g.contest != nil:
		if s == g.contest.challenger {
			g.contest.challengerAds++
		}
		// A third router while two contend: its adverts are noted, the
		// contest goes on between the first two.
	case t.Sub(m.lastLive) >= vrrp.MasterDownInterval(s.version, s.priority, m.interval)*3/4:
		// The master went quiet long enough for this router to take over.
		g.endMastership(e, m.lastLive, m.lastLiveFrame, false)
		g.takeover(e, s, t, n, "master-down", 1)
		g.fold(e, s, f)
	default:
		g.startContest(e, m, s, t, n)
	}
	g.noteClaim(e, s, t, n)
}

func (g *group) startContest(e *Engine, m, s *speaker, t time.Time, frame uint64) {
	g.flushRun(e)
	g.contest = &contest{holder: m, challenger: s, start: t, startFrame: frame,
		holderLast: m.lastLive, holderLastNum: m.lastLiveFrame, grace: contestGrace(m, s), challengerAds: 1, splitFinding: -1}
	e.startTrains(g, s, t, frame)
	e.followClients(g, -1, m, s, t)
	g.emit(e, g.event(frame, t, "contend",
		fmt.Sprintf("%s advertises (priority %d) while %s (priority %d) is master", s.ip, s.priority, m.ip, m.priority)).between(s.ip, m.ip))
}

// noteClaim records a claim to the VIP by s; in a contest it may show
// that both sides hold the VIP.
func (g *group) noteClaim(e *Engine, s *speaker, t time.Time, frame uint64) {
	s.claim(t, frame)
	ct := g.contest
	if ct == nil {
		return
	}
	after := t.Sub(ct.start) > ct.grace
	switch s {
	case ct.holder:
		ct.hClaims++
		ct.hFrames = addEvidence(ct.hFrames, frame)
		ct.holderOn = ct.holderOn || after
	case ct.challenger:
		ct.cClaims++
		ct.cFrames = addEvidence(ct.cFrames, frame)
		ct.challengerOn = ct.challengerOn || after
	default:
		return
	}
	if !ct.split && ct.holderOn && ct.challengerOn {
		g.startSplit(e, t, frame)
	}
}

// resign handles a priority-0 advert: a router giving up what it held
// since its last claim.
func (g *group) resign(e *Engine, s *speaker, f *decode.Frame) {
	g.flushRun(e)
	g.emit(e, g.event(f.Number, f.Time, "resign", fmt.Sprintf("%s sent a priority-0 advert: it is giving up mastership", s.ip)).between(s.ip, g.vrrpGroup()))
	if ct := g.contest; ct != nil && (s == ct.holder || s == ct.challenger) {
		other, before := ct.holder, s.lastClaim
		if other == s {
			other = ct.challenger
		}
		g.noteClaim(e, s, f.Time, f.Number)
		switch {
		case ct.split && before.Sub(other.lastClaim) > ct.grace && f.Time.Sub(other.lastClaim) > other.claimWindow():
			// The other side had stopped claiming for its whole window
			// while this one went on: it gave up then, and this is an
			// ordinary resignation.
			g.endSplit(e, other, other.lastClaim, other.lastClaimFrame)
		case ct.split:
			g.endSplit(e, s, f.Time, f.Number)
			e.find(g.finding(CodeResign, []uint64{f.Number}, f.Time,
				fmt.Sprintf("%s resigned (priority 0 at frame %d) during the split brain", s.ip, f.Number)))
			return
		case s == ct.challenger:
			g.endContest()
			return
		case !ct.holderOn:
			// The master resigned as the contender appeared: it gave way.
			g.concede(e, "preempt")
			e.find(g.finding(CodeResign, []uint64{f.Number}, f.Time,
				fmt.Sprintf("%s resigned (priority 0 at frame %d) as %s took over", s.ip, f.Number, ct.challenger.ip)))
			return
		default:
			// The contender had stopped; the master resigns as it would alone.
			g.endContest()
		}
	}
	if g.master == s {
		g.endMastership(e, f.Time, f.Number, true)
		e.find(g.finding(CodeResign, []uint64{f.Number}, f.Time,
			fmt.Sprintf("%s resigned (priority 0 at frame %d): a graceful handover", s.ip, f.Number)))
	}
}

// advance resolves what silence means at time now: a master that stopped,
// a contender that gave up or took over, a split brain that ended.
func (g *group) advance(e *Engine, now time.Time) {
	e.flushPending(g, now.Add(-sameInstant), false)
	e.checkTrains(g, now)
	if g.contest != nil {
		g.decideContest(e, now)
		return
	}
	m := g.master
	if m == nil || m.interval <= 0 {
		return
	}
	if now.Sub(m.lastLive) > vrrp.MasterDownInterval(m.version, 1, m.interval) {
		g.emit(e, g.event(m.lastLiveFrame, m.lastLive, "silent", fmt.Sprintf("master %s went silent (last advert at frame %d)", m.ip, m.lastLiveFrame)).between(m.ip, nil))
		g.endMastership(e, m.lastLive, m.lastLiveFrame, false)
	}
}

// decideContest settles who is master when the claims allow it. The window
// it waits is only for deciding who is master now: whether both held the
// VIP was settled by noteClaim.
func (g *group) decideContest(e *Engine, now time.Time) {
	ct := g.contest
	h, c := ct.holder, ct.challenger
	hWin, cWin := h.claimWindow(), c.claimWindow()
	if ct.split {
		// In a split brain a master may stay quiet for seconds and still be
		// master (keepalived restarts its advert timer on each advert it
		// hears and rejects): ending one takes twice the window.
		hWin, cWin = 2*hWin, 2*cWin
	}
	hQuiet, cQuiet := now.Sub(h.lastClaim) > hWin, now.Sub(c.lastClaim) > cWin
	switch {
	case ct.split && (hQuiet || cQuiet):
		loser := h
		if cQuiet && (!hQuiet || c.lastClaim.Before(h.lastClaim)) {
			loser = c
		}
		g.endSplit(e, loser, loser.lastClaim, loser.lastClaimFrame)
	case ct.split:
	case !ct.holderOn && c.outranks(h) && now.Sub(ct.start) > h.interval+h.interval/2:
		// The master missed its next advert after a higher priority spoke.
		g.concede(e, "preempt")
	case !ct.holderOn && hQuiet && !cQuiet:
		g.concede(e, "unknown")
	case cQuiet:
		g.contenderGaveUp(e)
	}
}

// finishContest settles a contest the capture ends in.
func (g *group) finishContest(e *Engine, end time.Time) {
	ct := g.contest
	if ct == nil {
		return
	}
	h, c := ct.holder, ct.challenger
	hQuiet, cQuiet := end.Sub(h.lastClaim) > h.claimWindow(), end.Sub(c.lastClaim) > c.claimWindow()
	switch {
	case ct.split && hQuiet != cQuiet:
		loser := h
		if cQuiet {
			loser = c
		}
		g.endSplit(e, loser, loser.lastClaim, loser.lastClaimFrame)
	case ct.split:
		// Both still claim: the capture ends with two masters, and no one.
		g.reportSplit(e, nil, end, 0)
		g.endContest()
		g.endMastership(e, h.lastLive, h.lastLiveFrame, false)
		g.emit(e, g.event(max(h.lastClaimFrame, c.lastClaimFrame), end, "split-brain", "the capture ends with both routers still master").between(h.ip, c.ip))
	case !ct.holderOn && (c.outranks(h) || hQuiet):
		// The master made no claim after a higher priority spoke: it
		// stopped at once, as the RFCs say it must.
		cause := "unknown"
		if c.outranks(h) {
			cause = "preempt"
		}
		g.concede(e, cause)
	default:
		g.contenderGaveUp(e)
	}
}

func (g *group) contenderGaveUp(e *Engine) {
	ct := g.contest
	g.endContest()
	c := ct.challenger
	g.emit(e, g.event(c.lastClaimFrame, c.lastClaim, "contend",
		fmt.Sprintf("%s stopped after %d advert(s); %s stays master", c.ip, ct.challengerAds, ct.holder.ip)).between(c.ip, ct.holder.ip))
	e.endTrains(g, c, c.lastClaim)
	if f := g.follow; f != nil && f.failover < 0 {
		e.dropFollow(g) // the provisional follow-up of the contender's takeover
	}
}

// concede ends a contest by the holder giving way: the contender has been
// master since its first advert.
func (g *group) concede(e *Engine, cause string) {
	ct := g.contest
	h, c := ct.holder, ct.challenger
	g.endContest()
	g.closeMastership(e, h, h.lastClaim, h.lastClaimFrame)
	g.prev, g.prevResigned, g.prevLast, g.prevLastNum = h, false, ct.holderLast, ct.holderLastNum
	g.master = nil
	g.takeover(e, c, ct.start, ct.startFrame, cause, ct.challengerAds)
}

// closeMastership ends m's mastership record at its last claim.
func (g *group) closeMastership(e *Engine, m *speaker, last time.Time, lastNum uint64) {
	g.flushRun(e)
	if n := len(g.masterships); n > 0 {
		ms := &g.masterships[n-1]
		ms.to, ms.toFrame = last, lastNum
		ms.adverts = m.adverts - g.msBase
	}
	e.endTrains(g, m, last)
}

// endMastership closes the current mastership; last is the master's last
// advert (its priority-0 advert when it resigned).
func (g *group) endMastership(e *Engine, last time.Time, lastNum uint64, resigned bool) {
	m := g.master
	if m == nil {
		return
	}
	g.closeMastership(e, m, last, lastNum)
	g.prev, g.prevResigned, g.prevLast, g.prevLastNum = m, resigned, last, lastNum
	g.master = nil
	g.endContest()
}

// takeover makes s the master at t, its first advert as master; adverts
// is how many it has sent since. cause is empty when it follows from how
// the previous mastership ended.
func (g *group) takeover(e *Engine, s *speaker, t time.Time, frame uint64, cause string, adverts int) {
	g.flushRun(e)
	prev := g.prev
	fromNone := prev == nil || prev == s || g.prevLast.IsZero()
	election := cause == CausePreempt && g.isElection(prev, t)
	g.master = s
	g.msBase = s.adverts - adverts
	g.masterships = append(g.masterships, mastership{ip: s.ip, mac: s.mac, fromFrame: frame, from: t})
	e.startTrains(g, s, t, frame)
	switch {
	case prev == s:
		g.emit(e, g.event(frame, t, "master",
			fmt.Sprintf("%s advertises again after %.2f s of silence; no other router took over", s.ip, t.Sub(g.prevLast).Seconds())).between(s.ip, nil))
		return
	case fromNone:
		g.emitMaster(e, masterNote{s: s, frame: frame, t: t, priority: s.priority, interval: s.interval, version: s.version, vips: s.vips, nvips: s.list.n})
		return
	case election:
		g.emit(e, g.event(frame, t, "election",
			fmt.Sprintf("start-up election: %s (priority %d) advertised first, %s (priority %d) won %.0f ms later", prev.ip, prev.priority, s.ip, s.priority, ms(t.Sub(g.masterships[len(g.masterships)-2].from)))).between(prev.ip, s.ip))
		g.emitMaster(e, masterNote{s: s, frame: frame, t: t, priority: s.priority, interval: s.interval, version: s.version, vips: s.vips, nvips: s.list.n})
		return
	}
	fo := g.failover(e, prev, s, t, frame, cause)
	e.a.Failovers = append(e.a.Failovers, fo)
	idx := len(e.a.Failovers) - 1
	summary := fmt.Sprintf("%s took over from %s (%s) after %.0f ms%s", s.ip, prev.ip, fo.Cause, fo.DetectMS, expectedText(fo))
	if fo.Reason != "" {
		summary += ": " + fo.Reason
	}
	g.emit(e, g.event(frame, t, "failover", summary).between(prev.ip, s.ip))
	if fo.ExpectedMS > 0 && fo.DetectMS > fo.ExpectedMS*1.25+100 {
		e.find(g.finding(CodeSlowFailover, []uint64{g.prevLastNum, frame}, t,
			fmt.Sprintf("%s took over from %s after %.0f ms; the RFC time for %s is %.0f ms", s.ip, prev.ip, fo.DetectMS, fo.Cause, fo.ExpectedMS)))
	}
	if fo.Cause == CauseNoBackup {
		e.find(g.finding(CodeNoBackup, []uint64{g.prevLastNum, frame}, t,
			fmt.Sprintf("no backup was running when %s left (frame %d): the VIP had no master for %.1f s, until %s started and took over", prev.ip, g.prevLastNum, fo.DetectMS/1000, s.ip)))
	}
	for _, tr := range g.openTrains(s) {
		if tr.failover < 0 {
			tr.failover = idx
			if tr.count > 0 {
				e.a.Failovers[idx].noteGARP(tr.first)
			}
		}
	}
	e.followClients(g, idx, prev, s, t)
	g.changes = append(g.changes, t)
	g.checkFlapping(e, t, frame)
	if e.opt.OnFailover != nil {
		e.opt.OnFailover(fo)
	}
}

// noteGARP records an announcement of the new master at t: garp_ms is its
// earliest, for any VIP.
func (fo *Failover) noteGARP(t time.Time) {
	if d := ms(t.Sub(fo.Time)); fo.GarpMS == nil || d < *fo.GarpMS {
		fo.GarpMS = &d
	}
}

// Failover causes.
const (
	CauseResign     = "resign"
	CauseMasterDown = "master-down"
	CausePreempt    = "preempt"
	CauseNoBackup   = "no-backup"
	CauseUnknown    = "unknown"
)

// failover describes the change from prev to s at t with its timing.
func (g *group) failover(e *Engine, prev, s *speaker, t time.Time, frame uint64, cause string) Failover {
	vr, vl := int(g.key.vrid), int(g.key.vlan)
	fo := Failover{VRID: vr, VLAN: vl, Family: g.family(), Frame: frame, Time: t, From: prev.endpoint(), To: s.endpoint(),
		VirtualMAC: s.virtual, Clients: []ClientSwitch{}, DetectMS: ms(t.Sub(g.prevLast))}
	switch {
	case cause == CausePreempt:
		fo.Cause = CausePreempt
		// A backup with preemption discards adverts of a lower priority than
		// its own and takes over Master_Down_Interval after the last one it
		// did not discard: a master whose priority fell is preempted then.
		if prev.priority < s.priority {
			if r, ok := prev.lastAtLeast(s.priority); ok && !r.last.Before(g.masterships[len(g.masterships)-2].from) {
				fo.PriorityDrop = true
				fo.DetectMS = ms(g.firstSign(s, t).Sub(r.last))
				fo.ExpectedMS = ms(vrrp.MasterDownInterval(s.version, s.priority, prev.interval))
				fo.Reason = fmt.Sprintf("%s's priority fell from %d to %d, below %s's %d", prev.ip, r.priority, prev.priority, s.ip, s.priority)
				g.prevLast, g.prevLastNum = r.last, r.lastFrame // the slow-failover evidence
			}
		}
		if !fo.PriorityDrop {
			fo.Reason = fmt.Sprintf("priority %d over %d", s.priority, prev.priority)
		}
	case cause != "" && cause != CauseMasterDown:
		fo.Cause = cause
	case g.prevResigned:
		fo.Cause = CauseResign
		fo.ExpectedMS = ms(vrrp.SkewTime(s.version, s.priority, prev.interval))
	default:
		fo.Cause = CauseMasterDown
		fo.ExpectedMS = ms(vrrp.MasterDownInterval(s.version, s.priority, prev.interval))
	}
	if t0, ok := g.earliestOrphan(g.prevLast); ok && t0.Before(t) && (fo.Cause == CauseResign || fo.Cause == CauseMasterDown) {
		// It announced the VIP from the virtual MAC before its first
		// advert (FRR over IPv6 waits for its link-local address): its
		// mastership began there.
		fo.DetectMS = ms(t0.Sub(g.prevLast))
		fo.Reason = fmt.Sprintf("it announced the VIP %.0f ms before its first advert", ms(t.Sub(t0)))
	}
	if (fo.Cause == CauseResign || fo.Cause == CauseMasterDown) && fo.DetectMS > 2*fo.ExpectedMS+1000 && !e.seenBefore(g, s, g.prevLast) {
		// Nothing of the new master was on the wire while the old one was:
		// it was started later, and no RFC timer was running.
		fo.Reason = fmt.Sprintf("%s was not running when %s left (no advert or %s join of it before)", s.ip, prev.ip, vrrpGroupName(g.key.v6))
		fo.Cause, fo.ExpectedMS = CauseNoBackup, 0
	}
	return fo
}

// firstSign is when s, taking over at t, first showed itself master: its
// first announcement when that came before its first advert.
func (g *group) firstSign(s *speaker, t time.Time) time.Time {
	for _, tr := range g.openTrains(s) {
		if tr.count > 0 && tr.first.Before(t) {
			t = tr.first
		}
	}
	return t
}

// isElection reports whether prev's mastership, ending at t, was a start-up
// election: it began when nobody was master and lasted less than one and a
// half of prev's advert intervals.
func (g *group) isElection(prev *speaker, t time.Time) bool {
	n := len(g.masterships)
	if prev == nil || n == 0 || g.masterships[n-1].ip != prev.ip {
		return false
	}
	cur := g.masterships[n-1]
	if n >= 2 && !g.masterships[n-2].to.IsZero() && cur.from.Sub(g.masterships[n-2].to) < 4*prev.interval {
		return false // it followed another master: a failover, not a start
	}
	return t.Sub(cur.from) < prev.interval+prev.interval/2
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

// checkGap flags a master that skipped adverts without losing mastership.
func (g *group) checkGap(e *Engine, s *speaker, prev time.Time, prevFrame uint64, f *decode.Frame) {
	if s.interval <= 0 {
		return
	}
	gap := f.Time.Sub(prev)
	if gap*10 < s.interval*18 { // under 1.8 intervals: at most jitter
		return
	}
	missed := max(int(gap/s.interval)-1, 1)
	s.gaps++
	s.missed += uint64(missed)
	mdi := vrrp.MasterDownInterval(s.version, 1, s.interval)
	fd := g.finding(CodeAdvertGap, []uint64{prevFrame, f.Number}, f.Time,
		fmt.Sprintf("master %s was silent for %.2f s (%d advert(s) missed at %.2f s intervals) and kept mastership", s.ip, gap.Seconds(), missed, s.interval.Seconds()))
	if gap >= mdi*3/4 {
		fd.Summary += "; no backup took over"
	}
	fd.Detail += fmt.Sprintf(" Here the gap was %.0f ms; a backup of the lowest priority declares the master down after %.0f ms.", ms(gap), ms(mdi))
	e.find(fd)
}

// startSplit records that holder and contender both hold the VIP.
func (g *group) startSplit(e *Engine, t time.Time, frame uint64) {
	ct := g.contest
	ct.split = true
	h, c := ct.holder, ct.challenger
	ct.splitFinding = e.find(g.finding(CodeSplitBrain, []uint64{ct.startFrame, frame}, ct.start,
		fmt.Sprintf("%s and %s both hold the VIP since frame %d. %s", h.ip, c.ip, ct.startFrame, g.splitCause(h, c))))
	g.emit(e, g.event(frame, t, "split-brain", fmt.Sprintf("two masters: %s and %s both hold the VIP", h.ip, c.ip)).between(h.ip, c.ip))
}

// endSplit closes a split brain given up by loser at end (its last claim):
// the other side is the only master.
func (g *group) endSplit(e *Engine, loser *speaker, end time.Time, endFrame uint64) {
	ct := g.contest
	g.reportSplit(e, loser, end, endFrame)
	g.endContest()
	if loser == ct.challenger {
		e.endTrains(g, loser, end)
		if f := g.follow; f != nil && f.failover < 0 {
			e.dropFollow(g)
		}
		return
	}
	// The first master gave up: the contender, master since its first
	// advert, remains.
	h, c := ct.holder, ct.challenger
	g.closeMastership(e, h, end, endFrame)
	g.prev, g.prevResigned, g.prevLast, g.prevLastNum = h, false, ct.holderLast, ct.holderLastNum
	g.master = nil
	g.takeover(e, c, ct.start, ct.startFrame, CauseUnknown, ct.challengerAds)
	if n := len(e.a.Failovers); n > 0 && e.a.Failovers[n-1].To.IP == c.ip.String() {
		e.a.Failovers[n-1].Reason = fmt.Sprintf("a split brain that ended with %s giving up at frame %d", h.ip, endFrame)
	}
}

// reportSplit writes the split brain of the current contest, ended by
// loser's last claim at end (loser nil: the capture ended during it).
func (g *group) reportSplit(e *Engine, loser *speaker, end time.Time, endFrame uint64) {
	ct := g.contest
	h, c := ct.holder, ct.challenger
	sb := SplitBrain{VRID: int(g.key.vrid), VLAN: int(g.key.vlan), Family: g.family(), Start: ct.start, StartFrame: ct.startFrame,
		End: end, EndFrame: endFrame, DurationMS: ms(end.Sub(ct.start)), Ongoing: loser == nil, Cause: g.splitCause(h, c),
		Routers: []SplitSide{
			{IP: h.ip.String(), MAC: h.mac.String(), Claims: ct.hClaims, Frames: ct.hFrames, GaveUp: loser == h},
			{IP: c.ip.String(), MAC: c.mac.String(), Claims: ct.cClaims, Frames: ct.cFrames, GaveUp: loser == c},
		},
		Clients: ct.moved}
	for _, pair := range [][2]*speaker{{h, c}, {c, h}} {
		if why := e.advertLossCause(pair[0], pair[1]); why != "" {
			sb.Cause = why + " " + sb.Cause
		}
	}
	if loser == nil {
		sb.EndFrame = max(h.lastClaimFrame, c.lastClaimFrame)
	}
	e.a.SplitBrains = append(e.a.SplitBrains, sb)
	summary := fmt.Sprintf("%s and %s were both master for %s (frames %d to %d)", h.ip, c.ip, fmtSpan(end.Sub(ct.start)), ct.startFrame, sb.EndFrame)
	if loser == nil {
		summary = fmt.Sprintf("%s and %s were both master from frame %d to the end of the capture (%s)", h.ip, c.ip, ct.startFrame, fmtSpan(end.Sub(ct.start)))
	} else {
		summary += fmt.Sprintf("; %s gave up", loser.ip)
	}
	if len(ct.moved) > 0 {
		var names []string
		for _, m := range ct.moved {
			names = append(names, fmt.Sprintf("%s (frame %d)", m.IP, m.Frames[0]))
		}
		summary += fmt.Sprintf("; %s's GARPs moved %s to its MAC", c.ip, strings.Join(names, ", "))
	}
	summary += ". " + sb.Cause
	if i := ct.splitFinding; i >= 0 && i < len(e.a.Findings) {
		fd := &e.a.Findings[i]
		fd.Summary = summary
		for _, n := range append(append([]uint64(nil), ct.cFrames...), sb.EndFrame) {
			if len(fd.Frames) < maxEvidence && !containsFrame(fd.Frames, n) {
				fd.Frames = append(fd.Frames, n)
			}
		}
	}
	g.emit(e, g.event(sb.EndFrame, end, "split-brain", fmt.Sprintf("split brain over after %s", fmtSpan(end.Sub(ct.start)))).between(h.ip, c.ip))
}

func containsFrame(list []uint64, n uint64) bool {
	for _, x := range list {
		if x == n {
			return true
		}
	}
	return false
}

// fmtSpan prints a duration for people: milliseconds under a second.
func fmtSpan(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%.0f ms", ms(d))
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
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
