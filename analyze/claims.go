package analyze

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/vrrpctl/vrrpctl/decode"
	"github.com/vrrpctl/vrrpctl/vrrp"
)

// Claims to a VIP and who made them. A router shows that it holds a VIP by
// its adverts as master (mastership.go) and by the frames below. A MAC does
// not identify a router: a master sends from the virtual router MAC
// (RFC 3768 and RFC 5798 section 7.3; hardware routers, FRR and keepalived
// with use_vmac do), which every router of the VRID shares. So:
//
//   - A claim sent from a router's own MAC (the source of its adverts when
//     not the virtual MAC, of its IGMP/MLD reports, of ARP for its own
//     address) is that router's.
//   - A claim sent from the virtual MAC is the master's at that instant. In
//     a contest it is the contender's when it outranks a master that made
//     no claim since (a preemption); otherwise a GARP or NA is the router's
//     whose advert came just before it, and an answer or other traffic
//     belongs to nobody in particular. A claim stamped within sameInstant
//     before a new master's first advert is the new master's: capture
//     paths may write the GARP first with the same timestamp.
//   - An announcement from the virtual MAC made while nobody is master
//     waits up to orphanWait for the router about to become master, whose
//     first sign of mastership it is. One made by the master other than
//     right after its advert waits an advert interval and a half for a
//     router about to announce itself (a preempting router may send its
//     GARPs or NAs before its first advert); it is the master's if none
//     comes. Such a late attribution says who announced, never that two
//     routers held the VIP at once.
//   - An ARP reply for the VIP from the own MAC of a router that uses the
//     virtual MAC is not a claim: Linux answers ARP for every local address
//     on every interface (arp_ignore 0), so a backup with the VIP on its
//     inactive macvlan answers too. It is reported, not counted.
//   - An ARP reply for the VIP sent to a multicast or broadcast MAC (Cisco
//     sends them to 01:00:0c:cd:cd:cd) announces the VIP like a GARP; a
//     gratuitous ARP sent to one MAC (keepalived answers another router's
//     GARPs so) answers, it does not announce.
type claimKind uint8

const (
	claimAnnounce     claimKind = iota // GARP, unsolicited NA: an announcement
	claimReply                         // ARP reply or solicited NA for the VIP
	claimRouterAdvert                  // router advertisement from a virtual link-local address
	claimTraffic                       // a frame sent from the VIP
)

const (
	sameInstant = 2 * time.Millisecond
	// orphanWait is how long a claim from the virtual MAC made while no
	// router is master waits for the router about to become master: FRR
	// over IPv6 sends its neighbour advertisements a second before its
	// first advert.
	orphanWait = 2 * time.Second
	maxPending = 256
)

// pendingClaim is a claim from the virtual MAC waiting for the instant to
// pass, or for a router about to announce itself, before it is attributed.
type pendingClaim struct {
	kind  claimKind
	vip   netip.Addr
	mac   decode.MAC // the MAC announced (ARP sender, NA target link-layer address)
	src   decode.MAC // the Ethernet source
	t     time.Time
	frame uint64
	// An announcement made while nobody was master, or by the master
	// other than right after its advert, may be a newcomer's: it waits
	// until waitUntil for one, and is was's (the master then) otherwise.
	waitUntil time.Time
	was       *speaker
	mask      uint64 // the captures that saw it (merged analyses)
}

// claimVIP takes a claim to vip, one of g's addresses.
func (e *Engine) claimVIP(g *group, kind claimKind, vip netip.Addr, mac decode.MAC, f *decode.Frame) {
	e.promote(g)
	pc := pendingClaim{kind: kind, vip: vip, mac: mac, src: f.SrcMAC, t: f.Time, frame: f.Number}
	if e.vant != nil {
		pc.mask = e.vant.mask
	}
	if pc.mac != g.vmac && pc.src != g.vmac {
		e.applyClaim(g, pc, nil, false)
		return
	}
	g.vmacSeen = true
	if m := g.master; g.contest == nil {
		switch {
		case m == nil:
			pc.waitUntil = f.Time.Add(orphanWait)
		case kind == claimAnnounce && (m.lastLive.After(f.Time) || f.Time.Sub(m.lastLive) > announceAfterAdvert):
			pc.waitUntil, pc.was = f.Time.Add(m.interval+m.interval/2), m
		}
	}
	if len(g.pending) == maxPending {
		e.flushPending(g, time.Time{}, true)
	}
	if len(g.pending) == 0 {
		e.pendingGroups = append(e.pendingGroups, g)
	}
	g.pending = append(g.pending, pc)
}

// flushPending attributes the pending claims made before upto (all of
// them when upto is zero). final settles even a claim still waiting for a
// newcomer.
func (e *Engine) flushPending(g *group, upto time.Time, final bool) {
	if len(g.pending) == 0 {
		return
	}
	now := e.last
	kept := g.pending[:0]
	for _, pc := range g.pending {
		if !final && !upto.IsZero() && !pc.t.Before(upto) {
			kept = append(kept, pc)
			continue
		}
		if pc.waitUntil.IsZero() {
			s, weakHost := g.claimant(pc)
			e.applyClaim(g, pc, s, weakHost)
			continue
		}
		// Waiting for a newcomer: a router that became master or began to
		// contend since the claim.
		switch ct := g.contest; {
		case ct != nil && pc.was != nil && ct.holder == pc.was && !ct.start.Before(pc.t):
			e.applyDeferred(g, pc, ct.challenger)
		case pc.was == nil && g.master != nil:
			e.applyDeferred(g, pc, g.master)
		case pc.was != nil && g.master != pc.was && (ct == nil || ct.holder != pc.was):
			// The master it waited on is gone: the announcement was its last.
			e.applyDeferred(g, pc, pc.was)
		case final || !now.Before(pc.waitUntil):
			e.applyDeferred(g, pc, pc.was)
		default:
			kept = append(kept, pc)
		}
	}
	clear(g.pending[len(kept):])
	g.pending = kept
	if len(kept) == 0 {
		e.unpend(g)
	}
}

// unpend drops g from the groups with pending claims.
func (e *Engine) unpend(g *group) {
	for i, p := range e.pendingGroups {
		if p == g {
			e.pendingGroups = append(e.pendingGroups[:i], e.pendingGroups[i+1:]...)
			return
		}
	}
}

// earliestOrphan is the first pending claim from the virtual MAC made
// after t while nobody was master: the first sign of the next master.
func (g *group) earliestOrphan(t time.Time) (time.Time, bool) {
	for _, pc := range g.pending {
		if !pc.waitUntil.IsZero() && pc.was == nil && pc.t.After(t) {
			return pc.t, true
		}
	}
	return time.Time{}, false
}

// applyDeferred acts on an announcement that waited for a newcomer, as
// s's. It shows who announced the VIP, but not that s held it at that
// moment against another router: it never counts in a contest.
func (e *Engine) applyDeferred(g *group, pc pendingClaim, s *speaker) {
	if s == nil || g.contest != nil {
		if s != nil && pc.kind == claimAnnounce {
			e.announce(g, s, pc)
			return
		}
		e.applyClaim(g, pc, s, false)
		return
	}
	e.applyClaim(g, pc, s, false)
}

// applyClaim acts on a claim made by s (nil: nobody known).
func (e *Engine) applyClaim(g *group, pc pendingClaim, s *speaker, weakHost bool) {
	if s == nil && !weakHost && pc.mac != g.vmac && pc.src != g.vmac {
		s, weakHost = g.claimant(pc)
	}
	switch {
	case weakHost:
		g.emit(e, g.event(pc.frame, pc.t, "arp",
			fmt.Sprintf("%s answered ARP for %s with its own MAC %s, not the virtual MAC: not a claim of mastership", s.ip, pc.vip, pc.mac)).between(s.ip, nil))
		return
	case s == nil:
		if pc.kind == claimAnnounce {
			who := fmt.Sprintf("%s, which is not master", pc.mac)
			if pc.mac == g.vmac || pc.src == g.vmac {
				who = fmt.Sprintf("the virtual MAC %s, from no router in particular", g.vmac)
			}
			g.emit(e, g.event(pc.frame, pc.t, "garp", fmt.Sprintf("%s for %s from %s", announcement(pc.vip, 1), pc.vip, who)).between(pc.mac, broadcast))
		}
		return
	}
	if pc.kind == claimAnnounce {
		e.announce(g, s, pc)
	}
	g.noteClaim(e, s, pc.t, pc.frame)
}

// claimant names the router that made a claim. weakHost is set (with s
// the router) for an ARP reply from a virtual-MAC router's own MAC.
func (g *group) claimant(pc pendingClaim) (s *speaker, weakHost bool) {
	for _, sp := range g.speakers {
		if !sp.own.IsZero() && (sp.own == pc.src || sp.own == pc.mac) {
			if pc.kind == claimReply && sp.virtual && pc.mac == sp.own {
				return sp, true
			}
			return sp, false
		}
		if !sp.virtual && (sp.mac == pc.src || sp.mac == pc.mac) {
			return sp, false
		}
	}
	if pc.mac != g.vmac && pc.src != g.vmac {
		return nil, false
	}
	ct := g.contest
	if ct == nil {
		return g.master, false
	}
	// Two routers contend and both may send from the virtual MAC.
	h, c := ct.holder, ct.challenger
	if !ct.holderOn && c.outranks(h) {
		return c, false // a preemption: the old master stopped at once
	}
	if pc.kind != claimAnnounce {
		// Answers and traffic follow the clients, not the routers' timers:
		// from the shared MAC they show that someone holds the VIP, not who.
		return nil, false
	}
	// A router announces right after its advert.
	var last *speaker
	for _, s := range []*speaker{h, c} {
		if !s.lastLive.After(pc.t) && pc.t.Sub(s.lastLive) <= announceAfterAdvert && (last == nil || s.lastLive.After(last.lastLive)) {
			last = s
		}
	}
	return last, false
}

// announceAfterAdvert is how soon after its advert a router's GARP or NA
// from the virtual MAC is taken to be its own during a contest.
const announceAfterAdvert = 100 * time.Millisecond

// onARP follows gratuitous ARPs, replies for the VIPs (claims, and clients
// resolving a VIP) and the routers' own MACs.
func (e *Engine) onARP(f *decode.Frame) {
	a := f.ARP
	e.learnOwnMAC(f, a.SenderIP, a.SenderMAC)
	g := e.byVIP[vipKey{vlan: f.VLAN, outer: f.OuterVLAN, addr: a.SenderIP}]
	if g == nil {
		return
	}
	switch a.Kind() {
	case decode.ARPAnnouncement, decode.ARPGratuitousReply:
		if f.HasDstMAC && !f.DstMAC.IsMulticast() {
			// Sent to one host: an answer (keepalived answers another
			// router's GARP so, virtual MAC to virtual MAC), not an
			// announcement.
			e.claimVIP(g, claimReply, a.SenderIP, a.SenderMAC, f)
			return
		}
		e.claimVIP(g, claimAnnounce, a.SenderIP, a.SenderMAC, f)
	case decode.ARPReply:
		if a.TargetMAC.IsMulticast() || f.HasDstMAC && f.DstMAC.IsMulticast() {
			e.claimVIP(g, claimAnnounce, a.SenderIP, a.SenderMAC, f)
			return
		}
		e.claimVIP(g, claimReply, a.SenderIP, a.SenderMAC, f)
		e.resolved(g, f, a.TargetMAC, a.TargetIP, a.SenderIP, a.SenderMAC)
	}
}

// learnOwnMAC notes a router's own MAC from a frame it sent about its own
// address.
func (e *Engine) learnOwnMAC(f *decode.Frame, ip netip.Addr, mac decode.MAC) {
	if _, _, virtual := vrrp.ParseVirtualMAC(mac); virtual || mac.IsZero() || mac.IsMulticast() {
		return
	}
	if rl := e.routers[memberKey{vlan: f.VLAN, outer: f.OuterVLAN, ip: ip}]; rl != nil {
		for _, s := range rl.s {
			s.own = mac
		}
	}
}

// resolved records a client's resolution of a VIP (an ARP reply or a
// solicited neighbour advertisement to it).
func (e *Engine) resolved(g *group, f *decode.Frame, clientMAC decode.MAC, clientIP, vip netip.Addr, vipMAC decode.MAC) {
	if e.speakerOf.has(clientMAC) || clientMAC.IsZero() || clientMAC.IsMulticast() {
		return
	}
	if c := e.client(g, f, clientMAC, clientIP); c != nil {
		rs, _, evicted := e.resolutions.touch(c.key, nil)
		if evicted > 0 {
			e.evicted("resolutions", uint64(evicted))
		}
		if len(*rs) < maxResolutions {
			*rs = append(*rs, resolution{frame: f.Number, vip: vip, mac: vipMAC})
		}
	}
	// Resolutions that follow each other within a second, to the same MAC,
	// fold into one event: an ARP storm is one line, not thousands.
	if r := &g.resolving; r.idx == len(e.a.Timeline)-1 && r.idx >= 0 && r.vip == vip && r.mac == vipMAC && f.Time.Sub(r.first) < time.Second {
		ev := &e.a.Timeline[r.idx]
		if ev.Count < 2 {
			ev.Count = 1
		}
		if ev.Target != "" && ev.Target != clientIP.String() {
			// Several clients: the event names the first, addresses none.
			ev.Summary = fmt.Sprintf("clients resolved %s to %s, the first %s", vip, vipMAC, ev.Target)
			ev.Target = ""
		}
		ev.Count++
		ev.LastFrame = f.Number
		return
	}
	// Not held back: the answer was a claim, which took g off probation.
	e.emit(g.event(f.Number, f.Time, "arp", fmt.Sprintf("client %s resolved %s to %s", clientIP, vip, vipMAC)).between(vip, clientIP))
	g.resolving = resolutionRun{idx: len(e.a.Timeline) - 1, vip: vip, mac: vipMAC, first: f.Time}
}

// resolutionRun is the timeline event of a group's latest resolutions.
type resolutionRun struct {
	idx   int
	vip   netip.Addr
	mac   decode.MAC
	first time.Time
}

// onND follows IPv6 neighbour discovery as onARP follows ARP: an
// unsolicited neighbour advertisement announces a VIP (RFC 5798 section
// 6.4.2), a solicited one answers a client resolving it, and a router
// advertisement from a virtual link-local address is sent by its master.
func (e *Engine) onND(f *decode.Frame) {
	n := f.ND
	switch n.Type {
	case decode.NDNeighborAdvertisement:
		mac := f.SrcMAC
		if n.HasTargetLL {
			mac = n.TargetLL
		}
		e.learnOwnMAC(f, n.Target, mac)
		g := e.byVIP[vipKey{vlan: f.VLAN, outer: f.OuterVLAN, addr: n.Target}]
		if g == nil {
			return
		}
		if n.IsUnsolicitedNA() || f.HasDstMAC && f.DstMAC.IsMulticast() {
			e.claimVIP(g, claimAnnounce, n.Target, mac, f)
			return
		}
		e.claimVIP(g, claimReply, n.Target, mac, f)
		if f.HasDstMAC {
			e.resolved(g, f, f.DstMAC, f.IP.Dst, n.Target, mac)
		}
	case decode.NDNeighborSolicitation, decode.NDRouterSolicitation:
		if n.HasSourceLL {
			e.learnOwnMAC(f, f.IP.Src, n.SourceLL)
		}
	case decode.NDRouterAdvertisement:
		mac := f.SrcMAC
		if n.HasSourceLL {
			mac = n.SourceLL
		}
		if g := e.byVIP[vipKey{vlan: f.VLAN, outer: f.OuterVLAN, addr: f.IP.Src}]; g != nil {
			e.claimVIP(g, claimRouterAdvert, f.IP.Src, mac, f)
		} else {
			e.learnOwnMAC(f, f.IP.Src, mac)
		}
	}
}

// onIP follows traffic to and from the VIPs: clients, answers, and the
// VIP's holder.
func (e *Engine) onIP(f *decode.Frame) {
	k := vipKey{vlan: f.VLAN, outer: f.OuterVLAN, addr: f.IP.Dst}
	// The VIP of the previous frame to one spares the map a flood.
	if h := &e.lastVIP; h.g != nil && h.k == k {
		e.toVIP(h.g, f)
		return
	}
	if g := e.byVIP[k]; g != nil {
		e.lastVIP = vipHit{k, g}
		e.toVIP(g, f)
		return
	}
	k.addr = f.IP.Src
	if g := e.byVIP[k]; g != nil {
		// Whoever sends from the VIP holds it.
		e.claimVIP(g, claimTraffic, f.IP.Src, f.SrcMAC, f)
		e.fromVIP(g, f)
	}
}
