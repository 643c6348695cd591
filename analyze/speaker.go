package analyze

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/vrrpctl/vrrpctl/decode"
)

// speaker is one router seen advertising for a group. Routers are told
// apart by the IP source of their adverts, never by MAC: a router that uses
// the virtual router MAC shares it with every other router of the VRID.
type speaker struct {
	ip netip.Addr
	// mac is the source MAC of its latest advert: the virtual router MAC
	// for routers that use it (virtual set), its interface's MAC otherwise.
	mac     decode.MAC
	virtual bool
	// own is the router's interface MAC when known: the source of adverts
	// not sent from the virtual MAC, of its IGMP/MLD reports, of ARP for
	// its own address.
	own decode.MAC
	// macs are the MACs it advertised from that it holds in the engine's
	// speakerOf (holdMAC).
	macs  [2]decode.MAC
	nmacs uint8

	priority    int // last non-zero priority
	maxPriority int
	// runs are the latest runs of adverts at one priority, oldest first:
	// what a backup heard before a priority dropped.
	runs []priorityRun

	version  int
	interval time.Duration
	authType uint8
	authPass string
	// vips is the sorted address list of its latest advert, shared with
	// other routers of its virtual router that advertise the same and
	// never written in place; nil when the list is not kept (the engine's
	// MaxAdvertisedAddrs), list tells which it was then.
	vips    []netip.Addr
	list    addrListID
	adverts int

	firstFrame, lastFrame uint64
	firstTime, lastTime   time.Time
	// gaps and missed count the silences checkGap found while it was
	// master and the adverts they lacked (Engine.Live).
	gaps, missed uint64
	// lastLive is the last advert with a non-zero priority.
	lastLive      time.Time
	lastLiveFrame uint64
	// lastClaim is the last sign that the speaker holds the VIP: an advert,
	// a GARP or unsolicited NA, an ARP reply or solicited NA for the VIP, a
	// router advertisement from a virtual address, a frame sent from the
	// VIP, or its priority-0 advert. A master in a split brain may barely
	// advertise (keepalived restarts its advert timer on every advert it
	// receives, even one it rejects), but it keeps answering for the VIP.
	lastClaim      time.Time
	lastClaimFrame uint64

	// findings maps a kind of bad advert (ttl, checksum) to the index of the
	// finding made for it, whose evidence grows with each bad advert.
	findings map[string]int
	ttlSeen  uint8
	// seenAt is when each capture of a merged analysis last saw its advert.
	seenAt []time.Time
	// routerSlot is its place among the routers of its address
	// (Engine.routers).
	routerSlot int
}

// priorityRun is a stretch of adverts at one priority.
type priorityRun struct {
	priority              int
	first, last           time.Time
	firstFrame, lastFrame uint64
}

// maxPriorityRuns bounds the history kept per speaker: tracking that flaps
// still costs a constant.
const maxPriorityRuns = 8

func (s *speaker) endpoint() Endpoint { return Endpoint{IP: s.ip.String(), MAC: s.mac.String()} }

func (s *speaker) claim(t time.Time, frame uint64) {
	if !t.Before(s.lastClaim) {
		s.lastClaim, s.lastClaimFrame = t, frame
	}
}

// heard records a live advert at priority p and reports the previous
// priority when it changed.
func (s *speaker) heard(p int, t time.Time, frame uint64) (old int, changed bool) {
	old, changed = s.priority, s.priority != 0 && s.priority != p
	s.priority = p
	s.maxPriority = max(s.maxPriority, p)
	if n := len(s.runs); n > 0 && s.runs[n-1].priority == p {
		s.runs[n-1].last, s.runs[n-1].lastFrame = t, frame
		return old, changed
	}
	if len(s.runs) == maxPriorityRuns {
		s.runs = append(s.runs[:0], s.runs[1:]...)
	}
	s.runs = append(s.runs, priorityRun{priority: p, first: t, last: t, firstFrame: frame, lastFrame: frame})
	return old, changed
}

// lastAtLeast is the speaker's latest advert with a priority of at least
// p: the last advert a backup of priority p did not discard (RFC 3768 and
// RFC 5798 section 6.4.2, with preemption).
func (s *speaker) lastAtLeast(p int) (priorityRun, bool) {
	for i := len(s.runs) - 1; i >= 0; i-- {
		if s.runs[i].priority >= p {
			return s.runs[i], true
		}
	}
	return priorityRun{}, false
}

// outranks reports whether an advert from s makes a master o give way:
// a higher priority, or the same priority from a higher address.
func (s *speaker) outranks(o *speaker) bool {
	return s.priority > o.priority || s.priority == o.priority && s.ip.Compare(o.ip) > 0
}

// claimWindow is how long a speaker may make no claim before it counts as
// gone: a Master_Down_Interval-like 3.5 advert intervals, so that two
// masters taking turns at advertising are not read as a string of takeovers.
func (s *speaker) claimWindow() time.Duration {
	iv := s.interval
	if iv <= 0 {
		iv = time.Second
	}
	return 3*iv + iv/2
}

func sortedCopy(a []netip.Addr) []netip.Addr {
	c := append([]netip.Addr(nil), a...)
	sortAddrs(c)
	return c
}

// sameAddrs reports whether a, in any order, holds the addresses of
// sorted.
func sameAddrs(sorted, a []netip.Addr) bool {
	if len(a) != len(sorted) {
		return false
	}
	var buf [8]netip.Addr
	c := append(buf[:0], a...)
	sortAddrs(c)
	return slices.Equal(c, sorted)
}

// vipList writes its advertised addresses, or their number when the list
// was not kept.
func (s *speaker) vipList() string { return vipText(s.vips, s.list.n) }

// vipText writes a router's advertised list, or the number n of its
// addresses when the list was not kept.
func vipText(vips []netip.Addr, n int) string {
	if vips == nil && n > 0 {
		return fmt.Sprintf("%d addresses", n)
	}
	return addrList(vips)
}

// addrListID tells address lists apart without keeping them: two lists
// with the same addresses, in any order, have the same ID.
type addrListID struct {
	sum uint64 // of a hash of each address
	n   int
}

func listID(a []netip.Addr) addrListID {
	id := addrListID{n: len(a)}
	for _, x := range a {
		b := x.As16()
		id.sum += mix64(binary.LittleEndian.Uint64(b[:8]) ^ mix64(binary.LittleEndian.Uint64(b[8:])+uint64(x.BitLen())))
	}
	return id
}

func addrList(a []netip.Addr) string {
	parts := make([]string, len(a))
	for i, x := range a {
		parts[i] = x.String()
	}
	return strings.Join(parts, ",")
}

func authText(s *speaker) string {
	switch s.authType {
	case decode.VRRPAuthNone:
		return "no authentication"
	case decode.VRRPAuthPass:
		return fmt.Sprintf("password %q", s.authPass)
	case decode.VRRPAuthAH:
		return "IP AH authentication"
	case decode.VRRPAuthCiscoMD5:
		return "Cisco MD5 authentication"
	}
	return fmt.Sprintf("auth type %d", s.authType)
}
