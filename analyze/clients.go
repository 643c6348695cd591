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

type client struct {
	key         clientKey
	ip          netip.Addr
	frames      int
	resolutions []string
	first       uint64
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
	c := e.clients[k]
	if c == nil {
		c = &client{key: k, ip: ip, first: f.Number}
		e.clients[k] = c
	}
	if ip.IsValid() {
		c.ip = ip
	}
	return c
}

func (e *Engine) sortedClients() []*client {
	out := make([]*client, 0, len(e.clients))
	for _, c := range e.clients {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].first < out[j].first })
	return out
}

// switchTracker follows how clients move from the old master's MAC to the new
// one after a failover (or, provisionally, during a contention).
type switchTracker struct {
	failover       int // index into Analysis.Failovers; -1 while provisional
	oldMAC, newMAC decode.MAC
	t0             time.Time
	garpAt         time.Time
	states         map[clientKey]*switchState
}

type switchState struct {
	c                     *client
	stale                 int
	firstStale, lastStale time.Time
	frames                []uint64
	switched              bool
	switchAt              time.Time
	reported              bool
}

// trackSwitch starts following clients for a change of master at t0. A
// provisional tracker (started when a contender appeared) is adopted by the
// failover it turned out to be.
func (e *Engine) trackSwitch(g *group, failover int, oldMAC, newMAC decode.MAC, t0 time.Time) {
	if sw := g.switches; sw != nil && sw.failover < 0 && sw.newMAC == newMAC && sw.oldMAC == oldMAC && failover >= 0 {
		sw.failover = failover
		for _, st := range sw.states {
			e.recordSwitch(sw, st)
		}
		return
	}
	if g.switches != nil {
		e.closeTracker(g)
	}
	g.switches = &switchTracker{failover: failover, oldMAC: oldMAC, newMAC: newMAC, t0: t0, states: make(map[clientKey]*switchState)}
	if failover >= 0 {
		if sw := g.switches; sw != nil {
			for _, tr := range g.openTrains(g.master) {
				if tr.count > 0 && !tr.first.Before(t0) {
					sw.garpAt = tr.first
					break
				}
			}
		}
	}
}

// recordSwitch writes a client's state into the failover's client list.
func (e *Engine) recordSwitch(sw *switchTracker, st *switchState) {
	if sw.failover < 0 {
		return
	}
	fo := &e.a.Failovers[sw.failover]
	cs := ClientSwitch{IP: st.c.ip.String(), MAC: st.c.key.mac.String(), StaleFrames: st.stale}
	if st.switched {
		cs.SwitchMS = msPtr(st.switchAt.Sub(sw.t0))
	}
	for i := range fo.Clients {
		if fo.Clients[i].MAC == cs.MAC {
			fo.Clients[i] = cs
			return
		}
	}
	fo.Clients = append(fo.Clients, cs)
}

// staleEnough says whether a client's frames to the old MAC amount to a stale
// ARP entry rather than a frame in flight.
func (st *switchState) staleEnough(t0 time.Time) bool {
	return st.stale >= 3 || (st.stale > 0 && st.lastStale.Sub(t0) >= 500*time.Millisecond)
}

func (e *Engine) reportStale(g *group, sw *switchTracker, st *switchState, end time.Time) {
	if st.reported || sw.failover < 0 || !st.staleEnough(sw.t0) {
		return
	}
	st.reported = true
	dur := st.lastStale.Sub(sw.t0)
	summary := fmt.Sprintf("client %s (%s) sent %d frame(s) for the VIP to the old master's MAC %s for %.1f s after the failover", st.c.ip, st.c.key.mac, st.stale, sw.oldMAC, dur.Seconds())
	if st.switched {
		summary += fmt.Sprintf(", then switched to %s", sw.newMAC)
	} else {
		summary += "; it never switched in the capture"
	}
	switch {
	case !sw.garpAt.IsZero() && sw.garpAt.Before(st.lastStale):
		summary += fmt.Sprintf(" (the new master's GARP at +%.3f s was ignored)", sw.garpAt.Sub(sw.t0).Seconds())
	default:
		summary += " (no GARP from the new master was on the wire before)"
	}
	fd := g.finding(CodeStaleARP, st.frames, st.firstStale, summary)
	if !st.switched || dur >= 5*time.Second {
		fd.Severity = Critical
	}
	e.find(fd)
}

func (e *Engine) closeTracker(g *group) {
	sw := g.switches
	if sw == nil {
		return
	}
	for _, st := range sw.states {
		e.reportStale(g, sw, st, st.lastStale)
	}
	g.switches = nil
}

func (e *Engine) finishClients(end time.Time) {
	for _, g := range e.groups {
		e.closeTracker(g)
	}
}

// unanswered counts requests to the VIP that got no answer while the master
// was up: the signature of a firewall DROP on the VIP (vrrp_strict).
type unanswered struct {
	count       int
	first, last time.Time
	frames      []uint64
	reported    bool
}

func (e *Engine) onIP(f *decode.Frame) {
	if f.L4.Protocol == 58 && f.L4.ICMPType == 136 {
		// A neighbour advertisement sent from a VIP announces it.
		e.announce(f, f.IP.Src, f.SrcMAC)
		return
	}
	k := vipKey{vlan: f.VLAN, outer: f.OuterVLAN, addr: f.IP.Dst}
	if g := e.byVIP[k]; g != nil {
		e.toVIP(g, f)
		return
	}
	k.addr = f.IP.Src
	if g := e.byVIP[k]; g != nil {
		// Whoever sends from the VIP holds it.
		if s := g.speakerByMAC(f.SrcMAC); s != nil {
			s.claim(f.Time, f.Number)
		}
		if u := g.unans[f.IP.Src]; u != nil && isAnswer(f) {
			*u = unanswered{reported: u.reported}
		}
	}
}

func (e *Engine) toVIP(g *group, f *decode.Frame) {
	if e.speakerOf[f.SrcMAC] {
		return
	}
	c := e.client(f, f.SrcMAC, f.IP.Src)
	c.frames++
	if sw := g.switches; sw != nil && f.HasDstMAC && !f.Time.Before(sw.t0) && sw.oldMAC != sw.newMAC {
		st := sw.states[c.key]
		if st == nil {
			st = &switchState{c: c}
			sw.states[c.key] = st
		}
		switch {
		case st.switched:
		case f.DstMAC == sw.oldMAC:
			if st.stale == 0 {
				st.firstStale = f.Time
			}
			st.stale++
			st.lastStale = f.Time
			st.frames = addEvidence(st.frames, f.Number)
			e.recordSwitch(sw, st)
		case f.DstMAC == sw.newMAC:
			st.switched, st.switchAt = true, f.Time
			e.recordSwitch(sw, st)
			e.reportStale(g, sw, st, f.Time)
		}
	}
	// Without destination MACs a client with a stale ARP entry looks the
	// same as a VIP behind a DROP rule: no conclusion then.
	// A request only counts while the master is evidently up (it advertised
	// within the last interval and a half); the conclusion waits for its next
	// advert (checkUnanswered), since a master that just died answers nothing
	// either.
	m := g.master
	if m == nil || !isRequest(f) || g.challenger != nil || !f.HasDstMAC || f.DstMAC != m.mac {
		return
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

func (e *Engine) onARP(f *decode.Frame) {
	a := f.ARP
	switch a.Kind() {
	case decode.ARPAnnouncement, decode.ARPGratuitousReply:
		e.onGARP(f)
	case decode.ARPReply:
		g := e.byVIP[vipKey{vlan: f.VLAN, outer: f.OuterVLAN, addr: a.SenderIP}]
		if g == nil {
			return
		}
		if s := g.speakerByMAC(a.SenderMAC); s != nil {
			s.claim(f.Time, f.Number) // it answers for the VIP: it holds it
		}
		if e.speakerOf[a.TargetMAC] {
			return
		}
		c := e.client(f, a.TargetMAC, a.TargetIP)
		r := fmt.Sprintf("frame %d: %s is-at %s", f.Number, a.SenderIP, a.SenderMAC)
		if len(c.resolutions) < 32 {
			c.resolutions = append(c.resolutions, r)
		}
		e.emit(Event{Frame: f.Number, Time: f.Time, Kind: "arp", VRID: int(g.key.vrid), VLAN: int(g.key.vlan),
			Summary: fmt.Sprintf("client %s resolved %s to %s", a.TargetIP, a.SenderIP, a.SenderMAC)})
	}
}
