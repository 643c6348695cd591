package analyze

import (
	"fmt"
	"net/netip"
	"sort"
	"time"

	"github.com/vrrpctl/vrrpctl/decode"
)

// clientKey identifies a host sending to a VIP by its MAC on its VLAN (its IP
// may be NATed or change; its MAC is what the ARP cache question is about).
type clientKey struct {
	vlan, outer uint16
	mac         decode.MAC
}

// client is little state: what a host that is not stale needs.
type client struct {
	key         clientKey
	ip          netip.Addr
	frames      int
	answers     int // frames from a VIP to it: answers are on the wire
	resolutions []string
	first       uint64
	seenAll     uint64 // the captures that saw every frame it sent to a VIP
}

func (c *client) model() Client {
	out := Client{IP: c.ip.String(), MAC: c.key.mac.String(), Frames: c.frames, Resolutions: c.resolutions}
	if out.Resolutions == nil {
		out.Resolutions = []string{}
	}
	return out
}

func (e *Engine) client(f *decode.Frame, mac decode.MAC, ip netip.Addr) *client {
	k := clientKey{vlan: f.VLAN, outer: f.OuterVLAN, mac: mac}
	c, _, evicted := e.clients.touch(k, func(c *client) { *c = client{key: k, ip: ip, first: f.Number} })
	if evicted > 0 {
		e.evicted("clients", uint64(evicted))
	}
	if ip.IsValid() {
		c.ip = ip
	}
	return c
}

// listedClients are the clients of the report: the MaxListedClients that
// sent the most frames, in the order they appeared.
func (e *Engine) listedClients() []*client {
	out := make([]*client, 0, e.clients.len())
	e.clients.each(func(_ clientKey, c *client) { out = append(out, c) })
	if len(out) > MaxListedClients {
		sort.Slice(out, func(i, j int) bool { return out[i].frames > out[j].frames })
		e.evicted("listed clients", uint64(len(out)-MaxListedClients))
		out = out[:MaxListedClients]
	}
	sort.Slice(out, func(i, j int) bool { return out[i].first < out[j].first })
	return out
}

// follow tracks how clients follow a change of master (or, provisionally,
// a contender's claim). With two MACs a client's ARP entry must move from
// the old to the new (stale-arp when it does not); with the virtual MAC it
// never moves, and what a client waits for is the switches learning the
// MAC on the new master's port: its requests go unanswered (client-outage).
type follow struct {
	failover       int // index into Analysis.Failovers; -1 while provisional
	from, to       *speaker
	oldMAC, newMAC decode.MAC
	t0             time.Time
	garpAt         time.Time
	clients        *lru[clientKey, followState]

	// With several captures (vantages.go): where the new master's GARPs
	// were seen first, where they went missing, and which captures'
	// garp-lost findings are made.
	garpSeenAt   []time.Time
	garpMiss     []garpMiss
	garpMask     uint64
	garps        []uint64
	lostReported uint64
}

type followState struct {
	c                     *client
	stale                 int
	firstStale, lastStale time.Time
	frames                []uint64
	switched              bool
	switchAt              time.Time
	staleReported         bool

	// Requests to the new master's MAC before the first answer.
	requests          int
	firstReq, lastReq time.Time
	reqFrames         []uint64
	answered          bool
	answerAt          time.Time
	answeredBefore    bool // answers to this client were on the wire before t0
	outageReported    bool
	// listed is the index of its entry in the failover's client list, -1
	// while it has none.
	listed int
}

// followClients starts following clients for a change of master at t0. A
// provisional follow (started when a contender appeared) is adopted by the
// failover it turned out to be.
func (e *Engine) followClients(g *group, failover int, from, to *speaker, t0 time.Time) {
	oldMAC, newMAC := from.mac, to.mac
	if fl := g.follow; fl != nil && fl.failover < 0 && fl.newMAC == newMAC && fl.oldMAC == oldMAC && fl.t0.Equal(t0) && failover >= 0 {
		fl.failover = failover
		fl.clients.each(func(_ clientKey, st *followState) { e.recordFollow(fl, st) })
		return
	}
	if g.follow != nil {
		e.closeFollow(g)
	}
	fl := &follow{failover: failover, from: from, to: to, oldMAC: oldMAC, newMAC: newMAC, t0: t0, clients: newLRU[clientKey, followState](MaxFollowed)}
	// A client forgotten is judged on what was seen of it.
	fl.clients.forget = func(_ clientKey, st *followState) {
		e.reportStale(g, fl, st, true)
		e.reportOutage(g, fl, st, e.last)
	}
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

func (e *Engine) followState(fl *follow, c *client) *followState {
	st, _, evicted := fl.clients.touch(c.key, func(st *followState) {
		*st = followState{c: c, answeredBefore: c.answers > 0, listed: -1}
	})
	if evicted > 0 {
		e.evicted("followed clients", uint64(evicted))
	}
	return st
}

// recordFollow writes a client's state into the failover's client list.
func (e *Engine) recordFollow(fl *follow, st *followState) {
	if fl.failover < 0 || st.listed == -2 {
		return
	}
	fo := &e.a.Failovers[fl.failover]
	if st.listed < 0 {
		if len(fo.Clients) >= MaxListedClients {
			st.listed = -2 // counted once
			e.evicted("listed clients", 1)
			return
		}
		// The names are written once; later frames only move the counts.
		st.listed = len(fo.Clients)
		fo.Clients = append(fo.Clients, ClientSwitch{IP: st.c.ip.String(), MAC: st.c.key.mac.String()})
	}
	cs := &fo.Clients[st.listed]
	cs.StaleFrames, cs.Unanswered = st.stale, st.requests
	if st.switched && fl.oldMAC != fl.newMAC && cs.SwitchMS == nil {
		cs.SwitchMS = msPtr(st.switchAt.Sub(fl.t0))
	}
	if st.answered && cs.AnswerMS == nil {
		cs.AnswerMS = msPtr(st.answerAt.Sub(fl.t0))
	}
	if st.stale > 0 {
		cs.StaleFrom, cs.StaleTo = st.firstStale, st.lastStale
	}
}

// staleEnough says whether a client's frames to the old MAC amount to a stale
// ARP entry rather than a frame in flight.
func (st *followState) staleEnough(t0 time.Time) bool {
	return st.stale >= 3 || (st.stale > 0 && st.lastStale.Sub(t0) >= 500*time.Millisecond)
}

// reportStale makes the stale-arp finding of a client; with several
// captures it waits for the end of the change (final), when the captures
// may tell garp-ignored or garp-lost instead.
func (e *Engine) reportStale(g *group, fl *follow, st *followState, final bool) {
	if st.staleReported || fl.failover < 0 || !st.staleEnough(fl.t0) || e.vant != nil && !final {
		return
	}
	code, why, refined := e.staleVerdict(fl, st)
	if refined && code == CodeGARPLost {
		st.staleReported = true // judgeFollow's garp-lost says it
		return
	}
	st.staleReported = true
	dur := st.lastStale.Sub(fl.t0)
	summary := fmt.Sprintf("client %s (%s) sent %d frame(s) for the VIP to the old master's MAC %s for %.1f s after the failover", st.c.ip, st.c.key.mac, st.stale, fl.oldMAC, dur.Seconds())
	if st.switched {
		summary += fmt.Sprintf(", then switched to %s", fl.newMAC)
	} else {
		summary += "; it never switched in the capture"
	}
	switch {
	case refined:
		summary += why
	case !fl.garpAt.IsZero() && fl.garpAt.Before(st.lastStale):
		summary += fmt.Sprintf(" (the new master's GARP at +%.3f s was ignored)", fl.garpAt.Sub(fl.t0).Seconds())
	default:
		summary += " (no GARP from the new master was on the wire before)"
	}
	if !refined {
		code = CodeStaleARP
	}
	fd := g.finding(code, st.frames, st.firstStale, summary)
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
func (e *Engine) reportOutage(g *group, fl *follow, st *followState, end time.Time) {
	if st.outageReported || fl.failover < 0 || !st.answeredBefore || st.requests < outageMinRequests {
		return
	}
	until := end
	if st.answered {
		until = st.answerAt
	}
	// From its first request after the failover: a client that sent to the
	// old MAC first is stale-arp's, not this.
	dur := until.Sub(st.firstReq)
	if dur < outageMin {
		return
	}
	st.outageReported = true
	summary := fmt.Sprintf("client %s (%s) got no answer from the VIP for %.1f s after the failover (%+.3f s): %d request(s) to %s unanswered", st.c.ip, st.c.key.mac, dur.Seconds(), st.firstReq.Sub(fl.t0).Seconds(), st.requests, fl.newMAC)
	switch {
	case !st.answered:
		summary += "; none was answered in the capture"
	case fl.oldMAC == fl.newMAC:
		summary += "; with the virtual MAC its ARP entry was right: the frames went to the old master's switch port until the switches learned the MAC on the new one"
	}
	fd := g.finding(CodeClientOutage, st.reqFrames, st.firstReq, summary)
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
	fl.clients.each(func(_ clientKey, st *followState) {
		e.reportStale(g, fl, st, true)
		e.reportOutage(g, fl, st, e.last)
	})
	g.follow = nil
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
	if e.speakerOf[f.SrcMAC] {
		return
	}
	c := e.client(f, f.SrcMAC, f.IP.Src)
	c.frames++
	if e.vant != nil {
		e.vant.clientFrame(c)
	}
	if ct := g.contest; ct != nil && f.HasDstMAC && f.DstMAC == ct.challenger.mac && ct.challenger.mac != ct.holder.mac {
		ct.movedClient(c, f.Number)
	}
	if fl := g.follow; fl != nil && !f.Time.Before(fl.t0) && (f.HasDstMAC || g.usesVirtualMAC()) {
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
	if fl := g.follow; fl != nil && !f.Time.Before(fl.t0) {
		if st := fl.clients.get(c.key); st != nil && !st.answered {
			return // waiting for its first answer since the failover: client-outage's to judge
		}
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
	toNew := !f.HasDstMAC || f.DstMAC == fl.newMAC
	switch {
	case fl.oldMAC == fl.newMAC:
	case st.switched:
	case f.DstMAC == fl.oldMAC:
		if st.stale == 0 {
			st.firstStale = f.Time
		}
		st.stale++
		st.lastStale = f.Time
		st.frames = addEvidence(st.frames, f.Number)
		e.recordFollow(fl, st)
	case f.DstMAC == fl.newMAC:
		st.switched, st.switchAt = true, f.Time
		e.recordFollow(fl, st)
		e.reportStale(g, fl, st, false)
	}
	if toNew && isRequest(f) && !st.answered {
		if st.requests == 0 {
			st.firstReq = f.Time
		}
		st.requests++
		st.lastReq = f.Time
		st.reqFrames = addEvidence(st.reqFrames, f.Number)
		e.recordFollow(fl, st)
	}
}

// fromVIP follows a frame from a VIP: an answer to a client, and the end
// of a run of unanswered requests.
func (e *Engine) fromVIP(g *group, f *decode.Frame) {
	if u := g.unans[f.IP.Src]; u != nil && isAnswer(f) {
		*u = unanswered{reported: u.reported}
	}
	var c *client
	if f.HasDstMAC {
		c = e.clients.get(clientKey{vlan: f.VLAN, outer: f.OuterVLAN, mac: f.DstMAC})
	}
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
	st.answered, st.answerAt = true, f.Time
	if st.requests > 0 {
		st.requests-- // the request this answers
	}
	e.recordFollow(fl, st)
	e.reportOutage(g, fl, st, f.Time)
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

// movedClient notes a client that sent to the contender's MAC.
func (ct *contest) movedClient(c *client, frame uint64) {
	for i := range ct.moved {
		if ct.moved[i].MAC == c.key.mac.String() {
			if len(ct.moved[i].Frames) < 8 {
				ct.moved[i].Frames = append(ct.moved[i].Frames, frame)
			}
			return
		}
	}
	if len(ct.moved) < 16 {
		ct.moved = append(ct.moved, ClientMove{IP: c.ip.String(), MAC: c.key.mac.String(), Frames: []uint64{frame}})
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
