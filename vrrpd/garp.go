package vrrpd

import (
	"net/netip"
	"time"
)

// GARPItem is one gratuitous ARP (or unsolicited neighbour advertisement)
// waiting to be sent.
type GARPItem struct {
	Router int // index of the router it belongs to
	Addr   netip.Addr
}

// Pacer is the GARP queue of one interface: everything sent on the interface
// goes through it, at most one item per Interval (keepalived's
// vrrp_garp_interval); with Interval 0 items leave as soon as they come. It
// has no clock and is not safe for concurrent use.
type Pacer struct {
	Interval time.Duration
	queue    []GARPItem
	last     time.Time // when the last item left
}

// Push queues a burst: repeat times every address, in order.
func (p *Pacer) Push(router, repeat int, addrs []netip.Addr) {
	for range repeat {
		for _, a := range addrs {
			p.queue = append(p.queue, GARPItem{Router: router, Addr: a})
		}
	}
}

// Drop removes the queued items of router (it stopped being master).
func (p *Pacer) Drop(router int) {
	q := p.queue[:0]
	for _, it := range p.queue {
		if it.Router != router {
			q = append(q, it)
		}
	}
	p.queue = q
}

// Len is the number of items waiting.
func (p *Pacer) Len() int { return len(p.queue) }

// NextDeadline returns when Pop will next return something.
func (p *Pacer) NextDeadline() (time.Time, bool) {
	if len(p.queue) == 0 {
		return time.Time{}, false
	}
	if p.Interval <= 0 || p.last.IsZero() {
		return time.Time{}, true // now
	}
	return p.last.Add(p.Interval), true
}

// Pop removes and returns the items due at now.
func (p *Pacer) Pop(now time.Time) []GARPItem {
	var out []GARPItem
	for len(p.queue) > 0 {
		if p.Interval > 0 && !p.last.IsZero() && now.Before(p.last.Add(p.Interval)) {
			break
		}
		out = append(out, p.queue[0])
		p.queue = p.queue[1:]
		p.last = now
	}
	return out
}
