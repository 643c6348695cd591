package pcapgen

import (
	"net/netip"
	"time"
)

// Router is a keepalived vrrp_instance running on a host. Zero fields take
// keepalived's defaults.
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
}

func (r *Router) advert(prio uint8) Advert {
	return Advert{Version: r.Version, VRID: r.VRID, Priority: prio, Interval: r.Interval, VIPs: r.VIPs,
		Auth: r.Auth, TTL: r.TTL, BadChecksum: r.BadChecksum, V2StyleChecksum: r.V2StyleChecksum, IPv6: r.IPv6}
}

func (r *Router) interval() time.Duration { return r.advert(0).interval() }

func (r *Router) garpRepeat() int {
	switch {
	case r.GARPRepeat == 0:
		return 5
	case r.GARPRepeat < 0:
		return 0
	}
	return r.GARPRepeat
}

func (r *Router) garpDelay() time.Duration {
	switch {
	case r.GARPDelay == 0:
		return 5 * time.Second
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
// Over IPv6 the MLD report is not generated.
func (w *Writer) Start(r *Router, t time.Duration) {
	r.vrrpID = 1
	if r.IPv6 {
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
		return
	}
	w.Leave(r.Host, VRRPGroup4)
	w.After(w.Jitter(400*time.Millisecond, time.Second)).Leave(r.Host, VRRPGroup4)
}

// Term is one period of mastership as generated.
type Term struct {
	Router   *Router
	From, To time.Duration   // as asked
	Adverts  []time.Duration // send time of every advert
	GARPs    []time.Duration // send time of every GARP
	pauseAt  time.Duration
	pauseFor time.Duration
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

// Master generates r's behaviour as master from from until to: its first
// advert at from followed by the GARP burst, adverts every interval with the
// small drift of keepalived's timer, the delayed GARP burst and refreshes.
// The host holds the VIPs (answers ARP and traffic for them) during
// [from, to). Nothing is sent at to: follow with Stop for a resign, or
// nothing for a link cut.
func (w *Writer) Master(r *Router, from, to time.Duration, opts ...MasterOpt) *Term {
	term := &Term{Router: r, From: from, To: to}
	for _, o := range opts {
		o(term)
	}
	w.owners = append(w.owners, owner{r: r, from: from, to: to})
	ival := r.interval()
	vips := r.v4VIPs()
	if r.IPv6 {
		vips = r.VIPs // announced by unsolicited neighbour advertisements
	}
	garps := func(at time.Duration, n int, before bool) time.Duration {
		w.At(at)
		for range n {
			for _, v := range vips {
				term.GARPs = append(term.GARPs, w.Now())
				if v.Is4() {
					w.GARP(r.Host, v)
				} else {
					w.UnsolicitedNA(r.Host, v)
				}
				if r.GARPInterval > 0 {
					w.After(r.GARPInterval + w.Jitter(0, 600*time.Microsecond))
				} else {
					w.After(w.Jitter(30*time.Microsecond, 300*time.Microsecond))
				}
			}
		}
		return w.Now()
	}
	// Becoming master: the advert, then the GARP burst.
	w.At(from)
	term.Adverts = append(term.Adverts, from)
	w.Advert(r.Host, r.advert(r.Priority))
	if n := r.garpRepeat(); n > 0 && len(vips) > 0 {
		garps(from+w.Jitter(250*time.Microsecond, 1200*time.Microsecond), n, false)
	}
	delayed := r.garpDelay() > 0 && r.garpRepeat() > 0
	nextRefresh := time.Duration(-1)
	if r.GARPRefresh > 0 {
		nextRefresh = from + r.GARPRefresh
	}
	t := from
	for {
		t += ival + w.Jitter(80*time.Microsecond, 260*time.Microsecond)
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
		w.Advert(r.Host, r.advert(r.Priority))
	}
	return term
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
