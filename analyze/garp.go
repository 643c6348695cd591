package analyze

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/vrrpctl/vrrpctl/kaconf"
)

// garpTrain is the gratuitous ARP a speaker sent for one VIP during one
// mastership (or one contention).
type garpTrain struct {
	s          *speaker
	vip        netip.Addr
	start      time.Time
	startFrame uint64
	end        time.Time
	expect     bool // a GARP is owed: the mastership began in the capture
	failover   int  // index into Analysis.Failovers, or -1
	checked    bool // the no-garp deadline has been looked at

	count      int
	frames     []uint64
	first      time.Time
	firstBurst int
	bursts     []time.Time // burst starts, bounded
	burstCount int
	burstFirst uint64
	last       time.Time
	firstGaps  []time.Duration // gaps between the GARPs of the first burst

	secStart  time.Time
	secCount  int
	stormSecs int
	storm     bool
}

const maxBursts = 256

// garpPlan is what the configuration (or keepalived's defaults) promises.
type garpPlan struct {
	repeat   int
	interval time.Duration // pacing
	delay    time.Duration
	refresh  time.Duration
	known    bool // from a configuration, not defaults
}

func (p garpPlan) burstGap() time.Duration {
	if p.interval > 0 {
		return p.interval*3/2 + 100*time.Millisecond
	}
	// Hardware routers repeat their GARP once a second for a few seconds:
	// one burst, not several.
	return 1500 * time.Millisecond
}

func (e *Engine) garpPlan(g *group) garpPlan {
	if p, ok := e.expect.garp(g); ok {
		return p
	}
	return garpPlan{repeat: kaconf.DefaultGARPRepeat, delay: kaconf.DefaultGARPDelay}
}

// startTrains opens a GARP train per VIP for a speaker that starts to
// advertise as master (or contender), unless one is open already.
func (e *Engine) startTrains(g *group, s *speaker, t time.Time, frame uint64) {
	for _, tr := range g.trains {
		if tr.s == s && tr.end.IsZero() {
			return
		}
	}
	// A GARP is owed by a router that became master in the capture, unless
	// it sends from the virtual MAC: clients then never change their entry,
	// and the switches learn the MAC from its adverts.
	expect := (g.prev != nil && g.prev != s || g.contest != nil && g.contest.challenger == s || e.joinedBefore(g, s, t)) && !s.virtual
	vips := s.vips
	if len(vips) == 0 {
		vips = g.vips
	}
	for i, v := range vips {
		// Every virtual router has its share, whatever the others hold.
		if i >= vipShare && e.trains >= MaxTrains {
			e.evicted("garp trains", uint64(len(vips)-i))
			break
		}
		tr := g.newTrain()
		*tr = garpTrain{s: s, vip: v, start: t, startFrame: frame, expect: expect, failover: -1}
		g.trains = append(g.trains, tr)
		e.trains++
	}
}

func (g *group) openTrains(s *speaker) []*garpTrain {
	var out []*garpTrain
	for _, tr := range g.trains {
		if tr.s == s && tr.end.IsZero() {
			out = append(out, tr)
		}
	}
	return out
}

// announce adds a VIP announcement by s (a gratuitous ARP for IPv4, an
// unsolicited neighbour advertisement for IPv6, RFC 5798 section 6.4.2) to
// its GARP train.
func (e *Engine) announce(g *group, s *speaker, pc pendingClaim) {
	var tr *garpTrain
	for _, t := range g.trains {
		if t.end.IsZero() && t.vip == pc.vip && t.s == s {
			tr = t
			break
		}
	}
	if tr == nil {
		if s != g.master && (g.contest == nil || g.contest.challenger != s) {
			g.emit(e, g.event(pc.frame, pc.t, "garp", fmt.Sprintf("%s for %s from %s (%s), which is not master", announcement(pc.vip, 1), pc.vip, s.ip, pc.mac)).between(s.ip, broadcast))
			return
		}
		// Its change of master opened no train for this VIP (past
		// MaxTrains, or a VIP learnt since): told, not judged.
		g.emit(e, g.event(pc.frame, pc.t, "garp", fmt.Sprintf("%s sent a %s for %s, not judged: no GARP train was opened for it at the change of master", s.ip, announcement(pc.vip, 1), pc.vip)).between(s.ip, broadcast))
		e.followGARP(g, s, pc)
		return
	}
	plan := e.garpPlan(g)
	if tr.count == 0 {
		tr.first = pc.t
		if tr.failover >= 0 {
			e.a.Failovers[tr.failover].noteGARP(pc.t)
		}
	}
	if tr.count == 0 || pc.t.Sub(tr.last) > plan.burstGap() {
		e.closeBurst(g, tr)
		if len(tr.bursts) < maxBursts {
			tr.bursts = append(tr.bursts, pc.t)
		}
		tr.burstCount, tr.burstFirst = 0, pc.frame
	}
	if len(tr.bursts) == 1 && tr.burstCount > 0 && len(tr.firstGaps) < maxBursts {
		tr.firstGaps = append(tr.firstGaps, pc.t.Sub(tr.last))
	}
	tr.burstCount++
	if len(tr.bursts) == 1 {
		tr.firstBurst = tr.burstCount
	}
	tr.count++
	tr.last = pc.t
	tr.frames = addEvidence(tr.frames, pc.frame)
	e.followGARP(g, s, pc)
	// A storm: ten or more GARPs a second for three seconds running.
	if pc.t.Sub(tr.secStart) >= time.Second {
		if tr.secCount >= 10 {
			tr.stormSecs++
		} else {
			tr.stormSecs = 0
		}
		tr.secStart, tr.secCount = pc.t, 0
	}
	tr.secCount++
	if tr.stormSecs >= 3 && !tr.storm {
		tr.storm = true
	}
}

// followGARP notes a GARP of the new master in the change of master
// followed.
func (e *Engine) followGARP(g *group, s *speaker, pc pendingClaim) {
	if fl := g.follow; fl != nil && fl.to == s && !pc.t.Before(fl.t0.Add(-sameInstant)) {
		if fl.garpAt.IsZero() {
			fl.garpAt = pc.t
		}
		if e.vant != nil {
			e.vant.garp(fl, s, pc)
		}
	}
}

// closeBurst reports the burst that just ended as one timeline event.
func (e *Engine) closeBurst(g *group, tr *garpTrain) {
	if tr.burstCount == 0 || len(tr.bursts) == 0 {
		return
	}
	start := tr.bursts[len(tr.bursts)-1]
	s := fmt.Sprintf("%s sent a %s for %s", tr.s.ip, announcement(tr.vip, 1), tr.vip)
	if tr.burstCount > 1 {
		s = fmt.Sprintf("%s sent %d %s for %s over %.2f s", tr.s.ip, tr.burstCount, announcement(tr.vip, 2), tr.vip, tr.last.Sub(start).Seconds())
	}
	ev := g.event(tr.burstFirst, start, "garp", s).between(tr.s.ip, broadcast)
	ev.Count = tr.burstCount
	g.emit(e, ev)
	tr.burstCount = 0
}

// checkTrains reports a master that owed a GARP and sent none in time.
func (e *Engine) checkTrains(g *group, now time.Time) {
	for _, tr := range g.trains {
		if tr.checked || !tr.expect {
			continue
		}
		deadline := tr.deadline()
		if now.Before(deadline) {
			continue
		}
		if !tr.end.IsZero() && tr.end.Before(deadline) && tr.count == 0 {
			tr.checked = true // the mastership ended too soon to tell
			continue
		}
		tr.checked = true
		if tr.count > 0 || (g.master != tr.s && tr.end.IsZero()) {
			continue
		}
		if own, ok := e.notSent(tr.s, tr.start); ok {
			e.find(g.finding(CodeNotSent, []uint64{tr.startFrame}, tr.start,
				fmt.Sprintf("%s became master at frame %d and, its own capture %s shows, sent no %s for %s within %.1f s", tr.s.ip, tr.startFrame, own, announcement(tr.vip, 1), tr.vip, deadline.Sub(tr.start).Seconds())))
			continue
		}
		fd := g.finding(CodeNoGARP, []uint64{tr.startFrame}, tr.start,
			fmt.Sprintf("%s became master at frame %d and sent no %s for %s within %.1f s", tr.s.ip, tr.startFrame, announcement(tr.vip, 1), tr.vip, deadline.Sub(tr.start).Seconds()))
		e.find(fd)
	}
}

// deadline is when a train that owes a GARP and has none is reported
// (checkTrains).
func (tr *garpTrain) deadline() time.Time { return tr.start.Add(2*time.Second + tr.s.interval) }

func (e *Engine) endTrains(g *group, s *speaker, end time.Time) {
	for _, tr := range g.openTrains(s) {
		e.closeBurst(g, tr)
		tr.end = end
		e.judgeTrain(g, tr)
		if end.Before(tr.deadline()) {
			// Its mastership ended before the deadline: whether it sent a
			// GARP or not, checkTrains would have nothing to report.
			tr.checked = true
		}
	}
	e.pruneTrains(g)
}

// pruneTrains keeps memory bounded: closed trains are dropped once
// checkTrains has nothing left to look at in them.
func (e *Engine) pruneTrains(g *group) {
	e.dropTrains(g, func(tr *garpTrain) bool { return !tr.end.IsZero() && (!tr.expect || tr.checked) })
}

// dropTrains drops g's GARP trains for which drop is true, counting them
// out of the engine's (MaxTrains).
func (e *Engine) dropTrains(g *group, drop func(*garpTrain) bool) {
	kept := g.trains[:0]
	for _, tr := range g.trains {
		if !drop(tr) {
			kept = append(kept, tr)
		}
	}
	e.trains -= len(g.trains) - len(kept)
	clear(g.trains[len(kept):])
	g.trains = kept
}

func (e *Engine) finishTrains(g *group, end time.Time) {
	e.checkTrains(g, end)
	for _, tr := range g.trains {
		if tr.end.IsZero() {
			e.closeBurst(g, tr)
			tr.end = end
			e.judgeTrain(g, tr)
		}
	}
}

// judgeTrain compares a closed GARP train with the plan.
func (e *Engine) judgeTrain(g *group, tr *garpTrain) {
	if tr.count == 0 {
		return
	}
	plan := e.garpPlan(g)
	var issues []string
	severity := Info
	// The first burst: judged only when the mastership outlived it.
	window := time.Duration(plan.repeat)*plan.interval + time.Second
	// keepalived's defaults are only a yardstick for a router that may be
	// keepalived: one sending from the virtual MAC is compared with a
	// configuration or not at all.
	if (plan.known || !tr.s.virtual) && tr.end.Sub(tr.first) >= window && tr.firstBurst < plan.repeat && tr.first.Sub(tr.start) < 2*time.Second+tr.s.interval {
		src := "keepalived's default"
		if plan.known {
			src = "configured"
			severity = Warning
		}
		issues = append(issues, fmt.Sprintf("the first burst had %d GARP(s) where %d are %s (vrrp_garp_master_repeat)", tr.firstBurst, plan.repeat, src))
	}
	// The pacing within the first burst, against vrrp_garp_interval.
	if plan.known && plan.interval > 0 && len(tr.firstGaps) > 0 {
		tol := plan.interval / 5
		if tol < 250*time.Millisecond {
			tol = 250 * time.Millisecond
		}
		for _, gap := range tr.firstGaps {
			if d := gap - plan.interval; d > tol || d < -tol {
				severity = Warning
				issues = append(issues, fmt.Sprintf("the burst's GARPs came %s apart where vrrp_garp_interval is %.1f s", fmtGaps(tr.firstGaps), plan.interval.Seconds()))
				break
			}
		}
	}
	if gaps := burstGaps(tr.bursts); len(gaps) >= 3 {
		sorted := append([]time.Duration(nil), gaps...)
		sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
		median := sorted[len(sorted)/2]
		spread := sorted[len(sorted)-1] - sorted[0]
		if spread > 500*time.Millisecond && spread*5 > median {
			severity = Warning
			issues = append(issues, fmt.Sprintf("GARPs came at irregular intervals (gaps %s)", fmtGaps(gaps)))
		}
		if plan.known && plan.refresh > 0 {
			diff := median - plan.refresh
			if diff < 0 {
				diff = -diff
			}
			if diff > 500*time.Millisecond && diff*10 > plan.refresh {
				severity = Warning
				issues = append(issues, fmt.Sprintf("the refresh came every %.1f s (median) where vrrp_garp_master_refresh is %.1f s", median.Seconds(), plan.refresh.Seconds()))
			}
		}
	}
	if tr.storm {
		severity = Warning
		issues = append(issues, "a GARP storm: 10 or more GARPs a second for 3 seconds or more")
	}
	if len(issues) == 0 {
		return
	}
	fd := g.finding(CodeGARPInterval, tr.frames, tr.first,
		fmt.Sprintf("GARPs from %s for %s: %s", tr.s.ip, tr.vip, strings.Join(issues, "; ")))
	fd.Severity = severity
	if plan.known {
		fd.Detail += fmt.Sprintf(" Configured: vrrp_garp_master_repeat %d, vrrp_garp_interval %.3f s, vrrp_garp_master_delay %.1f s, vrrp_garp_master_refresh %.1f s, advert_int %s.",
			plan.repeat, plan.interval.Seconds(), plan.delay.Seconds(), plan.refresh.Seconds(), fmtDur(tr.s.interval))
	}
	fd.Detail += fmt.Sprintf(" Observed: %d GARP(s) in %d burst(s) at %s after becoming master.", tr.count, len(tr.bursts), fmtOffsets(tr.bursts, tr.start))
	e.find(fd)
}

func burstGaps(starts []time.Time) []time.Duration {
	var gaps []time.Duration
	for i := 1; i < len(starts); i++ {
		gaps = append(gaps, starts[i].Sub(starts[i-1]))
	}
	return gaps
}

func fmtGaps(g []time.Duration) string {
	parts := make([]string, len(g))
	for i, d := range g {
		parts[i] = fmt.Sprintf("%.1f", d.Seconds())
	}
	return strings.Join(parts, ", ") + " s"
}

func fmtOffsets(ts []time.Time, base time.Time) string {
	parts := make([]string, 0, len(ts))
	for i, t := range ts {
		if i == 12 {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, fmt.Sprintf("+%.2f", t.Sub(base).Seconds()))
	}
	return strings.Join(parts, ", ") + " s"
}

// joinedBefore reports whether the speaker's IGMP join of 224.0.0.18 is in the
// capture: then its first mastership began in the capture too.
func (e *Engine) joinedBefore(g *group, s *speaker, t time.Time) bool {
	m := e.members.get(memberKey{vlan: g.key.vlan, outer: g.key.outer, ip: s.ip})
	return m != nil && !m.joined.IsZero() && m.joined.Before(t)
}

// announcement names how a VIP is announced: GARP for IPv4, unsolicited NA
// for IPv6.
func announcement(vip netip.Addr, n int) string {
	switch {
	case vip.Is4() && n == 1:
		return "gratuitous ARP"
	case vip.Is4():
		return "gratuitous ARPs"
	case n == 1:
		return "unsolicited neighbour advertisement"
	}
	return "unsolicited neighbour advertisements"
}
