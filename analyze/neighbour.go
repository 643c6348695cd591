package analyze

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/vrrpctl/vrrpctl/decode"
)

// localStaleAfter is how long this host's entry may point away from the
// master before it is called stale: long enough for a GARP to be processed.
const localStaleAfter = time.Second

// localEntry is this host's neighbour-table entry for a VIP (live only: the
// watcher follows the kernel's table over netlink).
type localEntry struct {
	vip      netip.Addr
	mac      decode.MAC
	usable   bool // the kernel would send to mac (not incomplete, failed or deleted)
	wrong    time.Time
	wrongMAC decode.MAC
	finding  int // index of the finding made for the current wrong period, or -1
}

// NeighbourEntry tells the engine what this host's neighbour table says about
// ip at t: the MAC and the kernel's state name (reachable, stale, delay,
// probe, permanent, incomplete, failed, or deleted). An entry for a VIP that
// points to a MAC other than the current master's for a second or more is a
// local-stale-arp finding: the article's `arp` command, automated.
func (e *Engine) NeighbourEntry(ip netip.Addr, mac decode.MAC, state string, t time.Time) {
	if e.local == nil {
		e.local = make(map[netip.Addr]*localEntry)
	}
	le := e.local[ip]
	if le == nil {
		if len(e.local) >= maxLocal {
			return // this host's table is followed for VIPs: a handful
		}
		le = &localEntry{vip: ip, finding: -1}
		e.local[ip] = le
	}
	le.mac = mac
	switch state {
	case "incomplete", "failed", "deleted", "none":
		le.usable = false
	default:
		le.usable = !mac.IsZero()
	}
	e.judgeLocal(le, t)
}

// The kernel's neighbour (NUD) states, bits of ndm_state in
// include/uapi/linux/neighbour.h.
const (
	nudIncomplete = 0x01
	nudReachable  = 0x02
	nudStale      = 0x04
	nudDelay      = 0x08
	nudProbe      = 0x10
	nudFailed     = 0x20
	nudNoARP      = 0x40
	nudPermanent  = 0x80
)

// NeighbourState names the kernel's neighbour state bits nud as `ip neigh`
// does, in lower case, as NeighbourEntry reads them: "reachable", "stale",
// ..., several joined by commas, and "none" for no bit.
func NeighbourState(nud int) string {
	names := []struct {
		bit  int
		name string
	}{
		{nudIncomplete, "incomplete"}, {nudReachable, "reachable"}, {nudStale, "stale"},
		{nudDelay, "delay"}, {nudProbe, "probe"}, {nudFailed, "failed"},
		{nudNoARP, "noarp"}, {nudPermanent, "permanent"},
	}
	var out []string
	for _, n := range names {
		if nud&n.bit != 0 {
			out = append(out, n.name)
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ",")
}

// vipGroup is the virtual router of a VIP on any VLAN (this host's
// neighbour table does not say which).
func (e *Engine) vipGroup(ip netip.Addr) *group { return e.byAddr[ip] }

// judgeLocal compares an entry with the VIP's current master at t.
func (e *Engine) judgeLocal(le *localEntry, t time.Time) {
	g := e.vipGroup(le.vip)
	if g == nil {
		return
	}
	// While a contender's takeover is undecided, either MAC may be right.
	m := g.master
	wrong := le.usable && m != nil && le.mac != m.mac && (g.contest == nil || le.mac != g.contest.challenger.mac)
	switch {
	case wrong && le.wrong.IsZero():
		le.wrong, le.wrongMAC, le.finding = t, le.mac, -1
	case wrong:
		if le.finding == -1 && t.Sub(le.wrong) >= localStaleAfter {
			le.finding = e.find(g.finding(CodeLocalStaleARP, nil, le.wrong,
				fmt.Sprintf("this host's ARP entry for %s points to %s, not to master %s's MAC %s (wrong since +%.2f s)",
					le.vip, le.mac, m.ip, m.mac, le.wrong.Sub(e.a.Source.Start).Seconds())))
			if le.finding < 0 {
				le.finding = -2 // findings full: counted, not kept
			}
		}
	case !le.wrong.IsZero():
		d := t.Sub(le.wrong)
		if le.finding >= 0 && le.finding < len(e.a.Findings) {
			fd := &e.a.Findings[le.finding]
			fd.Summary = fmt.Sprintf("this host's ARP entry for %s pointed to %s, not to the master's MAC, for %.2f s", le.vip, le.wrongMAC, d.Seconds())
			if d >= 5*time.Second {
				fd.Severity = Critical
			}
		}
		if d >= localStaleAfter {
			g.emit(e, Event{Time: t, Kind: "neighbour", VRID: int(g.key.vrid), VLAN: int(g.key.vlan), Target: le.vip.String(),
				Summary: fmt.Sprintf("this host's ARP entry for %s is right again after %.2f s", le.vip, d.Seconds())})
		}
		le.wrong = time.Time{}
	}
}

// judgeLocals re-checks every entry: the master may have changed under it.
func (e *Engine) judgeLocals(t time.Time) {
	for _, le := range e.local {
		e.judgeLocal(le, t)
	}
}
