package pcapgen

import (
	"bytes"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/vrrpctl/vrrpctl/vrrp"
)

// Failover causes.
const (
	CauseResign     = "resign"
	CauseMasterDown = "master-down"
	CausePreempt    = "preempt"
	// CauseNoBackup: the new master was never seen before the old one
	// left: no backup was running; the RFC times do not apply.
	CauseNoBackup = "no-backup"
)

// Expect is what a correct analysis of a scenario's capture concludes.
// Only what follows from the RFCs and the scenario's story is stated.
type Expect struct {
	LinkType  LinkType
	Frames    int  // frames in the capture
	HasDstMAC bool // false on Linux cooked captures
	// Must lists finding codes that must be reported; MustNot codes that
	// must not.
	Must, MustNot []string
	// Quiet means no finding of severity warning or critical other than
	// those in Must (info findings such as resign may appear).
	Quiet bool
	// Groups are the virtual routers, exactly (order not significant).
	Groups []ExpectGroup
	// CheckFailovers says whether Failovers is the exact list of failovers
	// in time order. It is false where the story does not settle what
	// counts as one (two masters at once).
	CheckFailovers bool
	Failovers      []ExpectFailover
	// CheckSplits says whether SplitBrains is the exact list of periods in
	// which two routers both held a VIP.
	CheckSplits bool
	SplitBrains []ExpectSplit
}

// ExpectSplit is one period in which two routers both held the VIP.
type ExpectSplit struct {
	Routers [2]string // the two routers' IPs, sorted
	// StartMS is the first claim of the later router while the other
	// still held the VIP; EndMS is the last claim (advert, GARP/NA, ARP
	// reply, frame from the VIP, or priority-0 advert) of the side that
	// gave up. Both are offsets in ms from the capture's first frame.
	StartMS, EndMS, TolMS float64
}

// ExpectGroup is one virtual router: a VRID on a VLAN for a family.
type ExpectGroup struct {
	VRID   int
	VLAN   int
	Family string   // "ipv4" or "ipv6"
	VIPs   []string // every VIP advertised by any speaker, sorted
	// Speakers are the addresses that advertised, sorted.
	Speakers []string
	// Master is the master at the end of the capture; empty where two
	// routers both claim mastership to the end, which the story does not
	// settle (an analyzer may name either).
	Master string
}

// ExpectFailover is one change of master.
type ExpectFailover struct {
	VRID  int
	VLAN  int
	From  string // old master's IP
	To    string // new master's IP
	Cause string
	// DetectMS is the time from the old master's last advert (its
	// priority-0 advert for a resign) to the new master's first advert, as
	// generated; an analyzer should match it within TolMS.
	DetectMS float64
	TolMS    float64
	// ExpectedMS is the RFC timer for the cause: Skew_Time (resign),
	// Master_Down_Interval (master-down), 0 for preempt.
	ExpectedMS float64
	// GARP says whether the new master sent a GARP (for IPv6: an
	// unsolicited neighbour advertisement) for a VIP before the next
	// failover; GarpMS is then the time from its first advert.
	GARP   bool
	GarpMS float64
	// PriorityDrop marks a preemption caused by the old master's priority
	// falling below the new master's (tracking). DetectMS then runs from
	// the old master's last advert at a priority the new master did not
	// discard, and ExpectedMS is the new master's Master_Down_Interval.
	PriorityDrop bool
	// VirtualMAC says the routers sent from the virtual router MAC.
	VirtualMAC bool
	// Clients are the clients sending to the VIP around the failover
	// (empty on cooked captures, where no destination MAC is recorded).
	Clients []ExpectClient
}

// ExpectClient is how one client followed a failover.
type ExpectClient struct {
	IP  string
	MAC string
	// The client's frames for the VIP sent to the old master's MAC after
	// the new master's first advert: StaleMin counts IP frames only,
	// StaleMax adds the unicast ARP requests for the VIP (Linux neighbour
	// probes); an analyzer's count must lie in [StaleMin, StaleMax].
	// In a virtual-MAC failover the client's entry never changes: both
	// are 0.
	StaleMin, StaleMax int
	// Switched says the client sent a frame for the VIP to the new
	// master's MAC; SwitchMS is the time of its first IP frame to it from
	// the new master's first advert. Both describe nothing in a
	// virtual-MAC failover and are left zero.
	Switched bool
	SwitchMS float64
	// For virtual-MAC failovers (a client never changes its ARP entry
	// there): Unanswered counts the client's requests to the VIP (ICMP and
	// ICMPv6 echo, TCP SYN) after the new master's first advert that got
	// no answer; Answered says the client got an answer from the VIP after
	// the new master's first advert, AnswerMS is the time from that advert
	// to the first answer.
	Unanswered int
	Answered   bool
	AnswerMS   float64
}

func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// skewTime is the RFC Skew_Time of a backup of priority prio hearing a
// master that advertises every interval (package vrrp computes it).
func skewTime(version, prio uint8, interval time.Duration) time.Duration {
	return vrrp.SkewTime(int(version), int(prio), interval)
}

// masterDown is the RFC Master_Down_Interval of a backup of priority prio.
func masterDown(version, prio uint8, interval time.Duration) time.Duration {
	return vrrp.MasterDownInterval(int(version), int(prio), interval)
}

// clientSwitch reads back from the frames how a client followed a change
// from oldMAC to newMAC during [from, until).
func (w *Writer) clientSwitch(c *Host, vip netip.Addr, oldMAC, newMAC net.HardwareAddr, from, until time.Duration) ExpectClient {
	ec := ExpectClient{IP: c.IP.String(), MAC: c.MAC.String()}
	for _, f := range w.Frames() {
		if f.At < from || f.At >= until || !bytes.Equal(f.src, c.MAC) {
			continue
		}
		switch {
		case f.arp != nil:
			if f.arp.TargetIP == vip && bytes.Equal(f.dst, oldMAC) {
				ec.StaleMax++
			}
		case f.ipDst == vip:
			if bytes.Equal(f.dst, oldMAC) {
				ec.StaleMin++
				ec.StaleMax++
			}
			if bytes.Equal(f.dst, newMAC) && !ec.Switched {
				ec.Switched, ec.SwitchMS = true, msOf(f.At-from)
			}
		}
	}
	return ec
}

// failover fills an ExpectFailover from the generated terms: old is the
// master that lost (lastAdvert its last advert seen), next the new term.
// until bounds the client window (the next failover or the end).
func (w *Writer) failover(oldR *Router, lastAdvert time.Duration, next *Term, cause string, until time.Duration, clients []*Host, vips []netip.Addr) ExpectFailover {
	r := next.Router
	f := ExpectFailover{VRID: int(r.VRID), VLAN: int(w.vlanOf(r.Host)), From: oldR.addr(), To: r.addr(), Cause: cause,
		DetectMS: msOf(next.First() - lastAdvert), TolMS: 2}
	switch cause {
	case CauseResign:
		f.ExpectedMS = msOf(skewTime(r.advert(0).version(), r.Priority, oldR.interval()))
	case CauseMasterDown:
		f.ExpectedMS = msOf(masterDown(r.advert(0).version(), r.Priority, oldR.interval()))
	}
	for _, g := range next.GARPs {
		if g < until {
			f.GARP, f.GarpMS = true, msOf(g-next.First())
			break
		}
	}
	f.VirtualMAC = r.VirtualMAC
	if w.link == Ethernet {
		for i, c := range clients {
			if r.VirtualMAC {
				f.Clients = append(f.Clients, w.clientAnswers(c, vips[i], next.First(), until))
				continue
			}
			f.Clients = append(f.Clients, w.clientSwitch(c, vips[i], oldR.MAC, r.MAC, next.First(), until))
		}
	}
	return f
}

// clientAnswers reads back from the frames how a client fared after a
// virtual-MAC failover: its requests to the VIP during [from, until) that
// got no answer, and its first answer from the VIP.
func (w *Writer) clientAnswers(c *Host, vip netip.Addr, from, until time.Duration) ExpectClient {
	ec := ExpectClient{IP: c.IP.String(), MAC: c.MAC.String()}
	if vip.Is6() {
		ec.IP = c.IP6.String()
	}
	answered := map[string]bool{}
	frames := w.Frames()
	for _, f := range frames {
		if f.rep != "" && f.ipSrc == vip && bytes.Equal(f.dst, c.MAC) {
			answered[f.rep] = true
			if f.At >= from && f.At < until && !ec.Answered {
				ec.Answered, ec.AnswerMS = true, msOf(f.At-from)
			}
		}
	}
	for _, f := range frames {
		if f.req != "" && f.host == c && f.ipDst == vip && f.At >= from && f.At < until && !answered[f.req] {
			ec.Unanswered++
		}
	}
	return ec
}

// claims lists the times r claimed one of its VIPs: its adverts (priority
// 0 too), its ARP frames with a VIP as sender (GARPs, replies), and its
// frames from a VIP (neighbour and router advertisements, answers).
func (w *Writer) claims(r *Router) []time.Duration {
	var out []time.Duration
	for _, f := range w.Frames() {
		if f.host != r.Host {
			continue
		}
		switch {
		case f.kind == "vrrp",
			f.arp != nil && slices.Contains(r.VIPs, f.arp.SenderIP),
			f.ipSrc.IsValid() && slices.Contains(r.VIPs, f.ipSrc):
			out = append(out, f.At)
		}
	}
	return out
}

// split is the Expect of a split brain: later began claiming the VIP at
// from while the other router held it; quitter gave up at until (its last
// claim is the last at or before until).
func (w *Writer) split(other, later *Router, from time.Duration, quitter *Router, until time.Duration) ExpectSplit {
	first := w.Frames()[0].At
	s := ExpectSplit{Routers: [2]string{other.addr(), later.addr()}, TolMS: 1}
	slices.Sort(s.Routers[:])
	for _, t := range w.claims(later) {
		if t >= from {
			s.StartMS = msOf(t - first)
			break
		}
	}
	for _, t := range w.claims(quitter) {
		if t <= until {
			s.EndMS = msOf(t - first)
		}
	}
	return s
}

func (r *Router) addr() string {
	if r.IPv6 {
		return r.IP6.String()
	}
	return r.IP.String()
}

// vlanOf is the innermost VLAN of a host's frames (0 untagged or cooked).
func (w *Writer) vlanOf(h *Host) uint16 {
	if w.link != Ethernet {
		return 0
	}
	tags := w.tags
	if h.tags != nil {
		tags = h.tags
	}
	if len(tags) == 0 {
		return 0
	}
	return tags[len(tags)-1]
}
