package pcapgen

import (
	"net"
	"net/netip"
	"time"

	"github.com/vrrpctl/vrrpctl/kaconf"

	"github.com/vrrpctl/vrrpctl/vrrp"
)

// Router is a keepalived vrrp_instance running on a host. Zero fields take
// keepalived's defaults; the fields after Drop model other implementations
// (hardware routers, FRR, keepalived with use_vmac) and leave keepalived's
// behaviour unchanged when zero.
type Router struct {
	*Host
	VRID     uint8
	Priority uint8
	Version  uint8         // 2 when zero
	Interval time.Duration // advert_int; 1 s when zero
	VIPs     []netip.Addr
	Auth     string // as Advert.Auth
	IPv6     bool   // advertise over IPv6 (VRRPv3)
	TTL      uint8  // 255 when zero
	// BadChecksum corrupts the checksum of every advert.
	BadChecksum bool
	// V2StyleChecksum computes VRRPv3 checksums without the IP
	// pseudo-header, as some implementations do (keepalived accepts them).
	V2StyleChecksum bool

	// GARPRepeat is vrrp_garp_master_repeat (5 when zero, -1 for none):
	// GARPs per VIP sent on becoming master and again after GARPDelay.
	GARPRepeat int
	// GARPDelay is vrrp_garp_master_delay (5 s when zero, -1 for none).
	GARPDelay time.Duration
	// GARPInterval is vrrp_garp_interval: the pacing between GARPs
	// (0: back to back, a fraction of a millisecond apart).
	GARPInterval time.Duration
	// GARPRefresh is vrrp_garp_master_refresh (0: none); refresh GARPs go
	// out with the first advert at or after each period.
	GARPRefresh time.Duration

	// Drop makes the router drop IP traffic to its VIPs while it holds
	// them (vrrp_strict's firewall rule); it still answers ARP.
	Drop bool

	// VirtualMAC makes the router send, while master, its adverts (the
	// priority-0 advert too), GARPs, ARP replies and neighbour
	// advertisements for the VIPs and its traffic from the VIPs from the
	// virtual router MAC 00:00:5e:00:01:VRID (00:00:5e:00:02:VRID over
	// IPv6), as RFC 3768/5798 section 7.3 prescribe and hardware routers,
	// FRR and keepalived with use_vmac do. Its IGMP/MLD reports and ARP
	// for its own address keep the interface MAC.
	VirtualMAC bool
	// HWGARP replaces keepalived's GARP bursts (GARPRepeat, GARPDelay,
	// GARPRefresh) by a hardware router's pattern. Over IPv6 it paces the
	// unsolicited neighbour advertisements, which then carry the Router
	// and Override flags (RFC 5798 6.4.2) instead of keepalived's Override
	// alone.
	HWGARP *GARPPattern
	// Jitter draws every advert interval uniformly within ±Jitter of
	// Interval (0.02: ±2 %), as hardware timers show, instead of
	// keepalived's fraction of a millisecond of drift.
	Jitter float64
	// Track changes the priority at the given times (tracked interfaces
	// or objects going down and up): the adverts carry the new priority
	// from then on. Sorted by At.
	Track []PriorityChange
	// MLD makes an IPv6 router send MLDv2 reports (from its link-local
	// address, with the interface MAC) joining ff02::12 on Start and
	// leaving it on Stop, twice each as Linux does.
	MLD bool
	// RAEvery makes an IPv6 master send router advertisements from the
	// virtual link-local address (the first link-local VIP), with the MAC
	// in use as source link-layer address: one on becoming master, then
	// every RAEvery less up to a quarter, drawn (RFC 4861 randomizes
	// them). RFC 5798 6.4.3 and 8.2.3: only the master sends them.
	RAEvery time.Duration
}

// GARPPattern is how a hardware router announces its VIPs on becoming
// master: Count GARPs per VIP (unsolicited NAs over IPv6), the first right
// after its first advert, then one every Every, while it stays master.
type GARPPattern struct {
	Count int           // 3 when zero
	Every time.Duration // 1 s when zero
	// Cisco sends each IPv4 announcement as two gratuitous ARP replies
	// (sender and target IP the VIP, sender MAC the MAC in use): one to
	// ff:ff:ff:ff:ff:ff with that target MAC, one to 01:00:0c:cd:cd:cd
	// (Cisco's STP UplinkFast multicast, which switches flood and use to
	// relearn a moved MAC) with that target MAC, as Cisco IOS routers
	// taking over a virtual MAC are seen to send (and tools imitating them,
	// such as Loki's HSRP, VRRP and GLBP modules, send).
	Cisco bool
}

// PriorityChange sets a router's priority from At on.
type PriorityChange struct {
	At       time.Duration
	Priority uint8
}

// ciscoUplinkFast is the multicast MAC Cisco routers send their
// gratuitous ARP replies to besides the broadcast.
var ciscoUplinkFast = net.HardwareAddr{0x01, 0x00, 0x0c, 0xcd, 0xcd, 0xcd}

// vmac is the router's virtual router MAC.
func (r *Router) vmac() net.HardwareAddr {
	m := vrrp.VirtualMAC(r.VRID, r.IPv6)
	return net.HardwareAddr(m[:])
}

// vipMAC is the MAC the router uses for its VIPs while master.
func (r *Router) vipMAC() net.HardwareAddr {
	if r.VirtualMAC {
		return r.vmac()
	}
	return r.MAC
}

// priorityAt is the router's priority at t.
func (r *Router) priorityAt(t time.Duration) uint8 {
	p := r.Priority
	for _, c := range r.Track {
		if c.At <= t {
			p = c.Priority
		}
	}
	return p
}

// step is the time to the next advert: the interval with keepalived's
// drift, or drawn within ±Jitter.
func (r *Router) step(w *Writer) time.Duration {
	ival := r.interval()
	if r.Jitter > 0 {
		d := time.Duration(float64(ival) * r.Jitter)
		return ival - d + w.Jitter(0, 2*d)
	}
	return ival + w.Jitter(80*time.Microsecond, 260*time.Microsecond)
}

func (r *Router) advert(prio uint8) Advert {
	a := Advert{Version: r.Version, VRID: r.VRID, Priority: prio, Interval: r.Interval, VIPs: r.VIPs,
		Auth: r.Auth, TTL: r.TTL, BadChecksum: r.BadChecksum, V2StyleChecksum: r.V2StyleChecksum, IPv6: r.IPv6}
	if r.VirtualMAC {
		a.SrcMAC = r.vmac()
	}
	return a
}

func (r *Router) interval() time.Duration { return r.advert(0).interval() }

func (r *Router) garpRepeat() int {
	switch {
	case r.GARPRepeat == 0:
		return kaconf.DefaultGARPRepeat
	case r.GARPRepeat < 0:
		return 0
	}
	return r.GARPRepeat
}

func (r *Router) garpDelay() time.Duration {
	switch {
	case r.GARPDelay == 0:
		return kaconf.DefaultGARPDelay
	case r.GARPDelay < 0:
		return 0
	}
	return r.GARPDelay
}

// v4VIPs are the VIPs a GARP is sent for.
func (r *Router) v4VIPs() []netip.Addr {
	var out []netip.Addr
	for _, a := range r.VIPs {
		if a.Is4() {
			out = append(out, a)
		}
	}
	return out
}

// Start is keepalived starting on r at t: it resets its advert counter and
// joins 224.0.0.18 (the kernel repeats the report once, within a second).
// Over IPv6 it joins ff02::12 by MLDv2 if r.MLD, the same way.
func (w *Writer) Start(r *Router, t time.Duration) {
	r.vrrpID = 1
	if r.IPv6 {
		if r.MLD {
			w.At(t).JoinMLD(r.Host, VRRPGroup6)
			w.After(w.Jitter(200*time.Millisecond, time.Second)).JoinMLD(r.Host, VRRPGroup6)
		}
		return
	}
	w.At(t).Join(r.Host, VRRPGroup4)
	w.After(w.Jitter(200*time.Millisecond, time.Second)).Join(r.Host, VRRPGroup4)
}

// Stop is keepalived stopping on r at t. A master (wasMaster) first sends a
// priority-0 advert; then the host leaves the group, twice.
func (w *Writer) Stop(r *Router, t time.Duration, wasMaster bool) {
	w.At(t)
	if wasMaster {
		w.Advert(r.Host, r.advert(0))
		w.After(w.Jitter(10*time.Millisecond, 16*time.Millisecond))
	}
	if r.IPv6 {
		if r.MLD {
			w.LeaveMLD(r.Host, VRRPGroup6)
			w.After(w.Jitter(400*time.Millisecond, time.Second)).LeaveMLD(r.Host, VRRPGroup6)
		}
		return
	}
	w.Leave(r.Host, VRRPGroup4)
	w.After(w.Jitter(400*time.Millisecond, time.Second)).Leave(r.Host, VRRPGroup4)
}

// Term is one period of mastership as generated.
type Term struct {
	Router    *Router
	From, To  time.Duration   // as asked
	Adverts   []time.Duration // send time of every advert
	GARPs     []time.Duration // send time of every GARP
	pauseAt   time.Duration
	pauseFor  time.Duration
	garpFirst bool
	resumed   bool
}

// First is the time of the first advert.
func (t *Term) First() time.Duration { return t.Adverts[0] }

// Last is the time of the last advert.
func (t *Term) Last() time.Duration { return t.Adverts[len(t.Adverts)-1] }

// MasterOpt changes how a Master term is generated.
type MasterOpt func(*Term)

// Pause makes the master send nothing from at for d (a blocked process):
// the adverts due meanwhile are lost and the cadence restarts after d.
func Pause(at, d time.Duration) MasterOpt {
	return func(t *Term) { t.pauseAt, t.pauseFor = at, d }
}

// GARPFirst makes the first GARP (or NA) of each VIP carry the same
// timestamp as the first advert and come before it in the file, as some
// capture paths order frames sent within the same microsecond.
func GARPFirst() MasterOpt { return func(t *Term) { t.garpFirst = true } }

// resume continues a mastership already under way at from (the capture
// began during it, or its priority changed): adverts only, no
// announcements of becoming master.
func resume() MasterOpt { return func(t *Term) { t.resumed = true } }

// continueMaster continues prev's mastership until to, its priority
// having changed: adverts on the same cadence, the VIPs held without a
// gap, no announcements.
func (w *Writer) continueMaster(prev *Term, to time.Duration) *Term {
	r := prev.Router
	t := w.Master(r, max(prev.To, prev.Last()+r.step(w)), to, resume())
	w.owners[len(w.owners)-1].from = prev.To
	return t
}

// Master generates r's behaviour as master from from until to: its first
// advert at from followed by the GARP burst, adverts every interval with the
// small drift of keepalived's timer, the delayed GARP burst and refreshes
// (or, with HWGARP, a hardware router's GARPs once a second), and with
// RAEvery the router advertisements of an IPv6 master. The adverts carry
// the priority in force (Track). The host holds the VIPs (answers ARP and
// traffic for them) during [from, to). Nothing is sent at to: follow with
// Stop for a resign, or nothing for a link cut or for a master that hears a
// higher priority and stops at once.
func (w *Writer) Master(r *Router, from, to time.Duration, opts ...MasterOpt) *Term {
	term := &Term{Router: r, From: from, To: to}
	for _, o := range opts {
		o(term)
	}
	w.owners = append(w.owners, owner{r: r, from: from, to: to})
	vips := r.v4VIPs()
	if r.IPv6 {
		vips = r.VIPs // announced by unsolicited neighbour advertisements
	}
	announce := func(v netip.Addr) {
		term.GARPs = append(term.GARPs, w.Now())
		w.announce(r, v)
	}
	garps := func(at time.Duration, n int, before bool) time.Duration {
		w.At(at)
		for range n {
			for _, v := range vips {
				announce(v)
				if r.GARPInterval > 0 {
					w.After(r.GARPInterval + w.Jitter(0, 600*time.Microsecond))
				} else {
					w.After(w.Jitter(30*time.Microsecond, 300*time.Microsecond))
				}
			}
		}
		return w.Now()
	}
	// Becoming master: the advert, then the GARP burst (its first GARPs
	// within the advert's microsecond and before it, with GARPFirst).
	w.At(from)
	burst := r.garpRepeat()
	if term.resumed {
		vips = nil
	}
	if term.garpFirst && len(vips) > 0 {
		for _, v := range vips {
			announce(v)
		}
		w.At(from)
		burst--
	}
	term.Adverts = append(term.Adverts, from)
	w.Advert(r.Host, r.advert(r.priorityAt(from)))
	switch {
	case r.HWGARP != nil && len(vips) > 0:
		w.hwGARPs(r, term, vips, announce)
	case burst > 0 && len(vips) > 0:
		garps(from+w.Jitter(250*time.Microsecond, 1200*time.Microsecond), burst, false)
	}
	delayed := r.HWGARP == nil && r.garpDelay() > 0 && r.garpRepeat() > 0 && len(vips) > 0
	nextRefresh := time.Duration(-1)
	if r.HWGARP == nil && r.GARPRefresh > 0 {
		nextRefresh = from + r.GARPRefresh
	}
	t := from
	for {
		t += r.step(w)
		if term.pauseFor > 0 && t >= term.pauseAt && t < term.pauseAt+term.pauseFor {
			t = term.pauseAt + term.pauseFor
		}
		if t >= to {
			break
		}
		at := t
		// GARPs due at this tick go out just before the advert.
		if delayed && t >= from+r.garpDelay() {
			delayed = false
			at = garps(t, r.garpRepeat(), true)
		}
		if nextRefresh >= 0 && t >= nextRefresh {
			at = garps(at, 1, true)
			nextRefresh = t + r.GARPRefresh
		}
		if at > t {
			at += w.Jitter(10*time.Microsecond, 60*time.Microsecond)
		}
		w.At(at)
		term.Adverts = append(term.Adverts, at)
		w.Advert(r.Host, r.advert(r.priorityAt(at)))
	}
	if r.IPv6 && r.RAEvery > 0 && !term.resumed {
		w.routerAdverts(r, from, to)
	}
	return term
}

// announce sends one announcement of vip by r at the cursor: a GARP
// (request, or Cisco's pair of replies) or an unsolicited NA, from the MAC
// r uses for its VIPs.
func (w *Writer) announce(r *Router, vip netip.Addr) {
	mac := r.vipMAC()
	switch {
	case vip.Is6() && r.HWGARP != nil:
		w.unsolicitedNA(r.Host, mac, vip, naRouter|naOverride)
	case vip.Is6():
		w.unsolicitedNA(r.Host, mac, vip, naOverride)
	case r.HWGARP != nil && r.HWGARP.Cisco:
		w.arp(r.Host, broadcastMAC, 2, mac, vip, broadcastMAC, vip)
		w.After(w.Jitter(20*time.Microsecond, 80*time.Microsecond))
		w.arp(r.Host, ciscoUplinkFast, 2, mac, vip, ciscoUplinkFast, vip)
	default:
		w.arp(r.Host, broadcastMAC, 1, mac, vip, broadcastMAC, vip)
	}
}

// hwGARPs schedules a hardware router's announcements: HWGARP.Count per
// VIP, the first right after the first advert, then every HWGARP.Every,
// as long as the router is master.
func (w *Writer) hwGARPs(r *Router, term *Term, vips []netip.Addr, announce func(netip.Addr)) {
	n, every := r.HWGARP.Count, r.HWGARP.Every
	if n == 0 {
		n = 3
	}
	if every == 0 {
		every = time.Second
	}
	for k := range n {
		if k == 0 && term.garpFirst {
			continue
		}
		at := term.From + time.Duration(k)*every + w.Jitter(250*time.Microsecond, 1200*time.Microsecond)
		if at >= term.To {
			return
		}
		w.At(at)
		for _, v := range vips {
			announce(v)
			w.After(w.Jitter(30*time.Microsecond, 300*time.Microsecond))
		}
	}
}

// routerAdverts sends an IPv6 master's router advertisements during
// [from, to) from its virtual link-local address, announcing the /64 of
// each global VIP.
func (w *Writer) routerAdverts(r *Router, from, to time.Duration) {
	var src netip.Addr
	var prefixes []netip.Prefix
	for _, v := range r.VIPs {
		switch {
		case v.Is6() && v.IsLinkLocalUnicast():
			if !src.IsValid() {
				src = v
			}
		case v.Is6():
			p, _ := v.Prefix(64)
			prefixes = append(prefixes, p)
		}
	}
	if !src.IsValid() {
		return
	}
	for t := from + w.Jitter(2*time.Millisecond, 4*time.Millisecond); t < to; t += w.Jitter(r.RAEvery*3/4, r.RAEvery) {
		w.At(t).routerAdvert(r.Host, r.vipMAC(), src, prefixes)
	}
}

// owner is a period during which a router holds its VIPs.
type owner struct {
	r        *Router
	from, to time.Duration
}

// ownersAt lists the routers holding vip at t, first registered first.
func (w *Writer) ownersAt(vip netip.Addr, t time.Duration) []*owner {
	var out []*owner
	for i := range w.owners {
		o := &w.owners[i]
		if t < o.from || t >= o.to {
			continue
		}
		for _, v := range o.r.VIPs {
			if v == vip {
				out = append(out, o)
				break
			}
		}
	}
	return out
}
