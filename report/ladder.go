package report

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vrrpctl/vrrpctl/analyze"
)

// The ladder (sequence) diagram of an analysis: one lane per router, per
// client and per other host the timeline names, and lanes for where frames
// went (the multicast groups, broadcast), with what happened placed on them
// in time. The terminal ladder (Ladder) and the HTML report (HTML) both
// draw from it. It only places what the model says: every time, count and
// measurement comes from the Analysis, and nothing is concluded here.
//
// Lanes are built in one place (newLadder) from the model's lists, each kind
// after the other. When the engine analyzes several captures at once and
// says where each frame was seen, a capture point becomes a lane kind of its
// own, built there like the others, and items name it as their lane.

type laneKind int

const (
	laneRouter    laneKind = iota
	laneClient             // a client of a VIP
	laneClients            // clients beyond maxClientLanes, folded into one lane
	laneHost               // another address the timeline names
	laneHosts              // hosts beyond maxHostLanes, folded into one lane
	laneGroup              // the multicast groups: the VRRP group, those joined
	laneBroadcast          // broadcast (GARPs) and all-nodes (unsolicited NAs)
)

// Lanes of one kind beyond these are folded into one lane.
const (
	maxClientLanes = 6
	maxHostLanes   = 2
)

// lane is one column of the ladder.
type lane struct {
	kind laneKind
	key  string // the address the model names it by; "" for the folded lanes
	// title is the lane's name; sub says what it is: its MAC, its role.
	title string
	sub   []string
	// members are the addresses a folded lane stands for.
	members []string
}

type itemKind int

const (
	itArrow     itemKind = iota // a frame, or a folded run of frames, from one lane to another
	itMark                      // something that happened on one lane
	itAdverts                   // a folded run of adverts: periodic ticks on the lane
	itMaster                    // a mastership: the lane holds the VIP from t0 to t1
	itContender                 // the contender of a split brain, holding the VIP as well
	itStale                     // a client sending to the old master's MAC after a failover
	itOutage                    // a client's requests unanswered after a failover
	itTakeover                  // a failover: old master's last advert to new master's first
	itSplit                     // a split brain: both routers held the VIP
	itSwitch                    // a client's first frame to the new master's MAC
	itNote                      // across the lanes: a lab action, a truncated timeline
)

// item is one thing drawn.
type item struct {
	kind itemKind
	ev   string // Event.Kind, for items made from timeline events
	// t0 is when it happened; t1 when it ended (spans) or t0.
	t0, t1   time.Time
	from, to int // lanes; to is -1 for anything on one lane, both -1 for notes
	// label is short, written on the arrow or beside the mark; text is the
	// whole sentence for the text column.
	label, text string
	// f0 and f1 are the first and last frame it stands for (0: none).
	f0, f1     uint64
	count      int
	vrid, vlan int
	// fo and sb index Failovers and SplitBrains (-1: none).
	fo, sb int
	period time.Duration // adverts: the interval between ticks
	// sub places the bars of several clients side by side on a folded lane:
	// this one's place among n.
	sub, nsub int
	// who is the client a stale period or an outage is of.
	who string
}

// ladder is the diagram's content: lanes and items in time order.
type ladder struct {
	a          *analyze.Analysis
	lanes      []lane
	index      map[string]int
	items      []item
	start, end time.Time
	// clientLane maps a client's key to its lane (folded clients to the folded lane).
	clientLane map[string]int
}

// Mark is a moment from outside the capture to draw across the ladder: an
// action of the lab, say.
type Mark struct {
	Time  time.Time
	Label string
}

// Multicast groups of VRRP, named in the lanes.
const (
	vrrpGroup4 = "224.0.0.18"
	vrrpGroup6 = "ff02::12"
)

func newLadder(a *analyze.Analysis, marks []Mark) *ladder {
	l := &ladder{a: a, index: map[string]int{}, clientLane: map[string]int{}, start: a.Source.Start, end: a.Source.End}
	l.span()
	l.routerLanes()
	l.clientLanes()
	l.hostLanes()
	l.sinkLanes()
	l.groupItems()
	l.eventItems()
	l.failoverItems()
	l.splitItems()
	for _, m := range marks {
		l.items = append(l.items, item{kind: itNote, ev: "mark", t0: m.Time, t1: m.Time, from: -1, to: -1,
			label: clean(m.Label), text: clean(m.Label), fo: -1, sb: -1})
	}
	sort.SliceStable(l.items, func(i, j int) bool { return l.items[i].t0.Before(l.items[j].t0) })
	return l
}

// span takes the capture's start and end, widened to whatever the model
// places outside them (a live capture's summary may lack them).
func (l *ladder) span() {
	widen := func(t time.Time) {
		if t.IsZero() {
			return
		}
		if l.start.IsZero() || t.Before(l.start) {
			l.start = t
		}
		if l.end.IsZero() || t.After(l.end) {
			l.end = t
		}
	}
	for _, ev := range l.a.Timeline {
		widen(ev.Time)
	}
	for _, fo := range l.a.Failovers {
		widen(fo.Time)
	}
	for _, sb := range l.a.SplitBrains {
		widen(sb.Start)
		widen(sb.End)
	}
}

func (l *ladder) add(ln lane) int {
	i := len(l.lanes)
	l.lanes = append(l.lanes, ln)
	if ln.key != "" {
		l.index[ln.key] = i
	}
	return i
}

func (l *ladder) routerLanes() {
	for _, g := range l.a.Groups {
		for _, s := range g.Speakers {
			if s.IP == "" {
				continue
			}
			if i, ok := l.index[s.IP]; ok {
				l.lanes[i].sub = appendUnique(l.lanes[i].sub, "VRID "+groupLabel(g.VRID, g.VLAN, ""))
				continue
			}
			mac := s.MAC
			if s.VirtualMAC {
				mac = s.OwnMAC
			}
			sub := []string{}
			if mac != "" {
				sub = append(sub, clean(mac))
			}
			if s.VirtualMAC {
				sub = append(sub, "virtual MAC")
			}
			prio := "prio " + strconv.Itoa(s.MaxPriority)
			if s.MaxPriority == 0 {
				prio = "prio " + strconv.Itoa(s.Priority)
			}
			sub = append(sub, "router, "+prio, "VRID "+groupLabel(g.VRID, g.VLAN, ""))
			l.add(lane{kind: laneRouter, key: s.IP, title: clean(s.IP), sub: sub})
		}
	}
}

func appendUnique(list []string, s string) []string {
	for _, v := range list {
		if v == s {
			return list
		}
	}
	return append(list, s)
}

// clientKey names a client by its address, or its MAC when it has none.
func clientKey(ip, mac string) string {
	if ip != "" {
		return ip
	}
	return mac
}

// clientLanes gives a lane to the clients that matter most (those that
// stayed with an old MAC, waited for answers, were moved in a split brain
// or had the VIP resolved), and folds the others into one lane.
func (l *ladder) clientLanes() {
	type client struct {
		key, mac      string
		stale, outage int
		moved, named  bool
		frames        int
		order         int
	}
	byKey := map[string]*client{}
	var all []*client
	get := func(ip, mac string) *client {
		k := clientKey(ip, mac)
		if k == "" {
			return nil
		}
		if _, router := l.index[k]; router {
			return nil
		}
		c := byKey[k]
		if c == nil {
			c = &client{key: k, mac: mac, order: len(all)}
			byKey[k] = c
			all = append(all, c)
		}
		if c.mac == "" {
			c.mac = mac
		}
		return c
	}
	for _, c := range l.a.Clients {
		if cl := get(c.IP, c.MAC); cl != nil {
			cl.frames += c.Frames
		}
	}
	for _, fo := range l.a.Failovers {
		for _, cs := range fo.Clients {
			if cl := get(cs.IP, cs.MAC); cl != nil {
				cl.stale += cs.StaleFrames
				cl.outage += cs.Unanswered
			}
		}
	}
	for _, sb := range l.a.SplitBrains {
		for _, m := range sb.Clients {
			if cl := get(m.IP, m.MAC); cl != nil {
				cl.moved = true
			}
		}
	}
	for _, ev := range l.a.Timeline {
		if c := byKey[ev.Target]; c != nil {
			c.named = true
		}
	}
	ranked := append([]*client(nil), all...)
	sort.SliceStable(ranked, func(i, j int) bool {
		a, b := ranked[i], ranked[j]
		if (a.stale > 0) != (b.stale > 0) {
			return a.stale > 0
		}
		if a.stale != b.stale {
			return a.stale > b.stale
		}
		if (a.outage > 0) != (b.outage > 0) {
			return a.outage > 0
		}
		if a.moved != b.moved {
			return a.moved
		}
		if a.named != b.named {
			return a.named
		}
		if a.frames != b.frames {
			return a.frames > b.frames
		}
		return a.order < b.order
	})
	shown := ranked
	var folded []*client
	if len(ranked) > maxClientLanes {
		shown, folded = ranked[:maxClientLanes-1], ranked[maxClientLanes-1:]
	}
	// Shown clients keep the model's order.
	sort.SliceStable(shown, func(i, j int) bool { return shown[i].order < shown[j].order })
	for _, c := range shown {
		sub := []string{}
		if c.mac != "" && c.mac != c.key {
			sub = append(sub, clean(c.mac))
		}
		sub = append(sub, "client")
		l.clientLane[c.key] = l.add(lane{kind: laneClient, key: c.key, title: clean(c.key), sub: sub})
	}
	if len(folded) > 0 {
		ln := lane{kind: laneClients, title: fmt.Sprintf("%d more clients", len(folded))}
		for _, c := range folded {
			ln.members = append(ln.members, clean(c.key))
		}
		stale := 0
		for _, c := range folded {
			if c.stale > 0 {
				stale++
			}
		}
		ln.sub = []string{"folded"}
		if stale > 0 {
			ln.sub = append(ln.sub, plural(stale, "stale", "stale"))
		}
		i := l.add(ln)
		for _, c := range folded {
			l.clientLane[c.key] = i
		}
	}
}

// vipGroup maps each VIP to the index of its group.
func (l *ladder) vipGroup(vip string) int {
	for gi, g := range l.a.Groups {
		for _, v := range g.VIPs {
			if v == vip {
				return gi
			}
		}
	}
	return -1
}

// isSink tells whether an address is where frames go rather than a host:
// broadcast or a multicast group.
func isSink(addr string) bool {
	if addr == "broadcast" {
		return true
	}
	a, err := netip.ParseAddr(addr)
	return err == nil && a.IsMulticast()
}

// hostLanes gives a lane to every other address that acts in the timeline:
// a host's link-local address, 0.0.0.0, a MAC; VIPs are drawn on their
// holder's lane.
func (l *ladder) hostLanes() {
	var hosts []string
	seen := map[string]bool{}
	note := func(addr string) {
		if addr == "" || seen[addr] || isSink(addr) {
			return
		}
		if _, ok := l.index[addr]; ok {
			return
		}
		if _, ok := l.clientLane[addr]; ok {
			return
		}
		seen[addr] = true
		hosts = append(hosts, addr)
	}
	for _, ev := range l.a.Timeline {
		if l.vipGroup(ev.Source) < 0 {
			note(ev.Source)
		}
		if l.vipGroup(ev.Target) < 0 {
			note(ev.Target)
		}
	}
	// A VIP answering while no router held it.
	for _, ev := range l.a.Timeline {
		if gi := l.vipGroup(ev.Source); gi >= 0 && l.holder(gi, ev.Time) < 0 {
			note(ev.Source)
		}
	}
	shown := hosts
	var folded []string
	if len(hosts) > maxHostLanes {
		shown, folded = hosts[:maxHostLanes-1], hosts[maxHostLanes-1:]
	}
	for _, h := range shown {
		sub := []string{"host"}
		if l.vipGroup(h) >= 0 {
			sub = []string{"VIP, no master"}
		}
		for _, g := range l.a.Groups {
			if g.VirtualMAC != "" && strings.EqualFold(g.VirtualMAC, h) {
				sub = []string{"virtual MAC,", "no router known"}
			}
		}
		l.add(lane{kind: laneHost, key: h, title: clean(h), sub: sub})
	}
	if len(folded) > 0 {
		ln := lane{kind: laneHosts, title: fmt.Sprintf("%d more hosts", len(folded)), sub: []string{"folded"}}
		i := l.add(ln)
		for _, h := range folded {
			l.lanes[i].members = append(l.lanes[i].members, clean(h))
			l.index[h] = i
		}
	}
}

// sinkLanes adds the multicast and broadcast lanes when something goes there.
func (l *ladder) sinkLanes() {
	groups, bcast := false, false
	var names []string
	v4, v6 := false, false
	for _, g := range l.a.Groups {
		v4 = v4 || g.Family != "ipv6"
		v6 = v6 || g.Family == "ipv6"
	}
	for _, ev := range l.a.Timeline {
		switch {
		case ev.Kind == "adverts":
		case ev.Target == "broadcast":
			bcast = true
		case isSink(ev.Target):
			groups = true
			if ev.Target == vrrpGroup4 || ev.Target == vrrpGroup6 {
				names = appendUnique(names, ev.Target)
			}
			if a, err := netip.ParseAddr(ev.Target); err == nil {
				v4 = v4 || a.Is4()
				v6 = v6 || a.Is6()
			}
		}
	}
	if groups {
		if len(names) == 0 {
			if v4 {
				names = append(names, vrrpGroup4)
			}
			if v6 {
				names = append(names, vrrpGroup6)
			}
		}
		sort.Strings(names)
		l.index["multicast"] = l.add(lane{kind: laneGroup, key: "multicast", title: "multicast",
			sub: []string{strings.Join(names, " ") + " VRRP", "and groups joined"}})
	}
	if bcast {
		sub := []string{"ff:ff:ff:ff:ff:ff"}
		if v6 {
			sub = []string{"ff:ff:ff:ff:ff:ff", "ff02::1 all nodes"}
			if !v4 {
				sub = []string{"ff02::1 all nodes"}
			}
		}
		l.index["broadcast"] = l.add(lane{kind: laneBroadcast, key: "broadcast", title: "broadcast", sub: sub})
	}
}

// holder is the lane of the master of group gi at t, or -1.
func (l *ladder) holder(gi int, t time.Time) int {
	g := l.a.Groups[gi]
	best := -1
	for _, m := range g.Masterships {
		if t.Before(m.From) {
			continue
		}
		if !m.To.IsZero() && t.After(m.To) {
			continue
		}
		if i, ok := l.index[m.IP]; ok {
			best = i
		}
	}
	return best
}

// laneOf finds the lane of an address at t: its own, its holder's for a
// VIP, the multicast or broadcast lane for those.
func (l *ladder) laneOf(addr string, t time.Time) int {
	if addr == "" {
		return -1
	}
	if i, ok := l.clientLane[addr]; ok {
		return i
	}
	if i, ok := l.index[addr]; ok && l.lanes[i].kind == laneRouter {
		return i // a router advertising from an address of the virtual router
	}
	if gi := l.vipGroup(addr); gi >= 0 {
		if i := l.holder(gi, t); i >= 0 {
			return i
		}
	}
	if i, ok := l.index[addr]; ok {
		return i
	}
	if addr == "broadcast" {
		return l.index["broadcast"]
	}
	if isSink(addr) {
		if i, ok := l.index["multicast"]; ok {
			return i
		}
	}
	return -1
}

// family is the address family of a virtual router, "" when unknown.
func (l *ladder) family(vrid, vlan int) string {
	f := ""
	for _, g := range l.a.Groups {
		if g.VRID != vrid || g.VLAN != vlan {
			continue
		}
		if f != "" && f != g.Family {
			return ""
		}
		f = g.Family
	}
	return f
}

// speakerInterval is the advert interval of a router of a virtual router.
func (l *ladder) speakerInterval(vrid, vlan int, ip string) time.Duration {
	for _, g := range l.a.Groups {
		if g.VRID != vrid || g.VLAN != vlan {
			continue
		}
		for _, s := range g.Speakers {
			if s.IP == ip && s.AdvertIntervalMS > 0 {
				return time.Duration(s.AdvertIntervalMS * float64(time.Millisecond))
			}
		}
	}
	return 0
}

// masterEnd is when the mastership of ip that holds t ended (the capture's
// end while it lasted), or zero.
func (l *ladder) masterEnd(vrid, vlan int, ip string, t time.Time) time.Time {
	for _, g := range l.a.Groups {
		if g.VRID != vrid || g.VLAN != vlan {
			continue
		}
		for _, m := range g.Masterships {
			if m.IP != ip || t.Before(m.From) {
				continue
			}
			if m.To.IsZero() {
				return l.end
			}
			if !t.After(m.To) {
				return m.To
			}
		}
	}
	return time.Time{}
}

func (l *ladder) groupItems() {
	for _, g := range l.a.Groups {
		for _, m := range g.Masterships {
			ln, ok := l.index[m.IP]
			if !ok {
				continue
			}
			to := m.To
			if to.IsZero() {
				to = l.end
			}
			l.items = append(l.items, item{kind: itMaster, t0: m.From, t1: to, from: ln, to: -1, label: "master",
				text: fmt.Sprintf("%s master, %s", clean(m.IP), plural(m.Adverts, "advert", "adverts")),
				vrid: g.VRID, vlan: g.VLAN, fo: -1, sb: -1})
		}
	}
}

// eventItems places the timeline. Reports of one host to several groups in
// one frame (an MLD report lists them all) become one arrow.
func (l *ladder) eventItems() {
	evs := l.a.Timeline
	for i := 0; i < len(evs); i++ {
		ev := evs[i]
		it := item{ev: ev.Kind, t0: ev.Time, t1: ev.Time, from: l.laneOf(ev.Source, ev.Time), to: -1,
			text: eventSummary(ev), f0: ev.Frame, f1: max(ev.LastFrame, ev.Frame), count: ev.Count,
			vrid: ev.VRID, vlan: ev.VLAN, fo: -1, sb: -1}
		it.text = strings.ReplaceAll(it.text, nbsp, " ")
		target := l.laneOf(ev.Target, ev.Time)
		switch ev.Kind {
		case "adverts":
			it.kind, it.label = itAdverts, "adverts"
			if ev.Count > 1 {
				it.label = "adverts ×" + strconv.Itoa(ev.Count)
			}
			it.period = l.speakerInterval(ev.VRID, ev.VLAN, ev.Source)
			if ev.Count > 1 && it.period > 0 {
				it.t1 = ev.Time.Add(time.Duration(ev.Count-1) * it.period)
				if end := l.masterEnd(ev.VRID, ev.VLAN, ev.Source, ev.Time); !end.IsZero() && end.Before(it.t1) {
					it.t1 = end
				}
				if it.t1.After(l.end) {
					it.t1 = l.end
				}
			}
		case "join", "leave":
			groups := []string{ev.Target}
			for i+1 < len(evs) && evs[i+1].Kind == ev.Kind && evs[i+1].Source == ev.Source &&
				evs[i+1].Frame == ev.Frame && evs[i+1].Time.Equal(ev.Time) {
				i++
				groups = append(groups, evs[i].Target)
				it.f1 = max(it.f1, evs[i].LastFrame)
			}
			it.kind, it.to = itArrow, target
			it.label = joinLabel(ev.Kind, groups)
			if len(groups) > 1 {
				it.text += fmt.Sprintf("; in the same report %d more groups: %s", len(groups)-1, clean(strings.Join(groups[1:], ", ")))
			}
		case "garp":
			// Announcements one by one (the engine could not say whose)
			// that go together: one arrow.
			n := max(ev.Count, 1)
			for i+1 < len(evs) && sameRun(ev, evs[i+1]) {
				i++
				n += max(evs[i].Count, 1)
				it.f1 = max(it.f1, evs[i].Frame, evs[i].LastFrame)
			}
			if n > max(ev.Count, 1) {
				it.count = n
				it.text += fmt.Sprintf("; %d in all", n)
			}
			ev.Count = n
			it.kind, it.to = itArrow, target
			word := "GARP"
			if l.family(ev.VRID, ev.VLAN) == "ipv6" {
				word = "NA"
			}
			it.label = word
			if ev.Count > 1 {
				it.label += " ×" + strconv.Itoa(ev.Count)
			}
		case "arp":
			word := "ARP reply"
			if l.family(ev.VRID, ev.VLAN) == "ipv6" {
				word = "NA reply"
			}
			it.label = word
			if target >= 0 {
				it.kind, it.to = itArrow, target
			} else {
				it.kind = itMark
			}
		case "resign":
			it.kind, it.to, it.label = itArrow, target, "priority 0"
		case "failover":
			it.kind, it.to, it.label = itArrow, target, "takes over"
		case "contend":
			it.kind, it.to, it.label = itArrow, target, "contends"
		case "election":
			it.kind, it.to, it.label = itArrow, target, "election"
		case "split-brain":
			it.kind, it.to, it.label = itArrow, target, "split brain"
			for si, sb := range l.a.SplitBrains {
				if sb.VRID == ev.VRID && sb.VLAN == ev.VLAN && (ev.Frame == sb.StartFrame || ev.Frame == sb.EndFrame) {
					it.sb = si
					if ev.Frame == sb.EndFrame && sb.EndFrame != sb.StartFrame {
						it.label = "split brain over"
					}
				}
			}
		case "master":
			it.kind, it.label = itMark, "master"
		case "silent":
			it.kind, it.label = itMark, "silent"
		case "priority":
			it.kind, it.label = itMark, "priority"
		default: // neighbour, truncated, and kinds to come
			it.kind, it.label = itMark, clean(ev.Kind)
			if target >= 0 && it.from >= 0 && target != it.from {
				it.kind, it.to = itArrow, target
			}
		}
		if it.kind == itArrow && (it.to < 0 || it.to == it.from) {
			it.kind, it.to = itMark, -1
		}
		if it.from < 0 {
			// Nobody on the wire acted: this host's own neighbour table, a
			// truncated timeline.
			it.kind, it.to = itNote, -1
		}
		l.items = append(l.items, it)
	}
}

// sameRun tells whether b repeats a: the same kind of event between the
// same two, within 10 ms.
func sameRun(a, b analyze.Event) bool {
	return a.Kind == b.Kind && a.Source == b.Source && a.Target == b.Target && a.VRID == b.VRID && a.VLAN == b.VLAN &&
		a.Count <= 1 && b.Count <= 1 && b.Time.Sub(a.Time) <= 10*time.Millisecond && !b.Time.Before(a.Time)
}

// joinLabel is "join 224.0.0.18", "leave ff02::12 +5".
func joinLabel(kind string, groups []string) string {
	first := groups[0]
	for _, g := range groups {
		if g == vrrpGroup4 || g == vrrpGroup6 {
			first = g
			break
		}
	}
	s := kind + " " + clean(first)
	if len(groups) > 1 {
		s += " +" + strconv.Itoa(len(groups)-1)
	}
	return s
}

// rfcName names the RFC time a failover is measured against.
func rfcName(fo analyze.Failover) string {
	switch {
	case fo.ExpectedMS <= 0:
		return ""
	case fo.Cause == analyze.CauseResign:
		return "Skew_Time"
	}
	return "Master_Down_Interval"
}

// takeoverText is what a failover window says: who, why, how long against
// the RFC.
func takeoverText(fo analyze.Failover) string {
	return fmt.Sprintf("%s → %s %s: %s", endpoint(fo.From), endpoint(fo.To), clean(fo.Cause), takeoverMeasures(fo))
}

// takeoverMeasures is how long a failover took against the RFC, and when
// the first GARP came.
func takeoverMeasures(fo analyze.Failover) string {
	s := "took " + fmtMS(fo.DetectMS)
	if fo.ExpectedMS > 0 {
		s += fmt.Sprintf(", RFC %s %s (%s)", rfcName(fo), fmtMS(fo.ExpectedMS), fmtDiffMS(fo.DetectMS-fo.ExpectedMS))
	} else {
		s += ", no RFC time for this cause"
	}
	if fo.GarpMS != nil {
		s += ", first GARP " + fmtDiffMS(*fo.GarpMS)
	}
	return s
}

func msDur(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

func (l *ladder) failoverItems() {
	for fi, fo := range l.a.Failovers {
		from, to := l.laneOf(fo.From.IP, fo.Time), -1
		if i, ok := l.index[fo.To.IP]; ok {
			to = i
		}
		if i, ok := l.index[fo.From.IP]; ok {
			from = i
		}
		start, end := l.takeoverSpan(fo)
		l.items = append(l.items, item{kind: itTakeover, t0: start, t1: end, from: from, to: to,
			label: fmt.Sprintf("failover %d", fi+1), text: takeoverText(fo), f0: fo.Frame, f1: fo.Frame,
			vrid: fo.VRID, vlan: fo.VLAN, fo: fi, sb: -1})
		// Bars on a folded lane stand side by side.
		nsub := map[int]int{}
		for _, c := range fo.Clients {
			if c.StaleFrames > 0 || c.Unanswered > 0 {
				nsub[l.clientLane[clientKey(c.IP, c.MAC)]]++
			}
		}
		used := map[int]int{}
		type agg struct {
			n    int
			max  float64
			lane int
		}
		folded := map[int]*agg{}
		for _, c := range fo.Clients {
			key := clientKey(c.IP, c.MAC)
			ln, ok := l.clientLane[key]
			if !ok {
				continue
			}
			base := item{from: ln, to: -1, vrid: fo.VRID, vlan: fo.VLAN, fo: fi, sb: -1, who: key}
			if c.StaleFrames > 0 || c.Unanswered > 0 {
				base.sub, base.nsub = used[ln], nsub[ln]
				used[ln]++
			}
			if c.StaleFrames > 0 {
				it := base
				it.kind, it.count = itStale, c.StaleFrames
				it.t0, it.t1 = c.StaleFrom, c.StaleTo
				if it.t0.IsZero() {
					it.t0 = fo.Time
				}
				if it.t1.Before(it.t0) {
					it.t1 = it.t0
				}
				it.label = fmt.Sprintf("stale ×%d", c.StaleFrames)
				it.text = fmt.Sprintf("client %s kept sending to the old master's MAC %s: %s over %s",
					clean(key), clean(fo.From.MAC), plural(c.StaleFrames, "frame", "frames"), fmtLapse(it.t1.Sub(it.t0)))
				if c.SwitchMS == nil {
					it.text += ", and never switched"
				}
				l.items = append(l.items, it)
			}
			if c.Unanswered > 0 {
				it := base
				it.kind, it.count, it.t0 = itOutage, c.Unanswered, fo.Time
				it.label = fmt.Sprintf("%d unanswered", c.Unanswered)
				if c.AnswerMS != nil {
					it.t1 = fo.Time.Add(msDur(*c.AnswerMS))
					it.text = fmt.Sprintf("client %s: %s to the VIP unanswered, first answer after %s",
						clean(key), plural(c.Unanswered, "request", "requests"), fmtMS(*c.AnswerMS))
				} else {
					it.t1 = l.end
					it.text = fmt.Sprintf("client %s: %s to the VIP unanswered, no answer in the capture",
						clean(key), plural(c.Unanswered, "request", "requests"))
				}
				l.items = append(l.items, it)
			}
			if c.SwitchMS != nil && to >= 0 {
				if l.lanes[ln].kind == laneClients {
					a := folded[ln]
					if a == nil {
						a = &agg{lane: ln}
						folded[ln] = a
					}
					a.n++
					a.max = max(a.max, *c.SwitchMS)
					continue
				}
				it := base
				it.sub, it.nsub = 0, 0
				it.kind, it.to = itSwitch, to
				it.t0 = fo.Time.Add(msDur(*c.SwitchMS))
				it.t1 = it.t0
				it.label = "to new MAC"
				it.text = fmt.Sprintf("client %s's first frame to %s's MAC, %s after the takeover", clean(key), endpoint(fo.To), fmtMS(*c.SwitchMS))
				l.items = append(l.items, it)
			}
		}
		for _, a := range folded {
			t := fo.Time.Add(msDur(a.max))
			l.items = append(l.items, item{kind: itSwitch, t0: t, t1: t, from: a.lane, to: to, vrid: fo.VRID, vlan: fo.VLAN, fo: fi, sb: -1,
				label: fmt.Sprintf("%d to new MAC", a.n), count: a.n,
				text: fmt.Sprintf("%s switched to %s's MAC within %s", plural(a.n, "more client", "more clients"), endpoint(fo.To), fmtMS(a.max))})
		}
	}
}

// takeoverSpan is the stretch a failover's detect_ms measures: from the
// old master's last advert to the new master's first sign of mastership.
// That is its first advert, or an announcement before it while no router
// was master; the model gives the first advert's time (Time) and, for a
// resign, the priority-0 advert as an event, so a resign is measured from
// that event and anything else back from Time.
func (l *ladder) takeoverSpan(fo analyze.Failover) (start, end time.Time) {
	det := msDur(max(fo.DetectMS, 0))
	if fo.Cause == analyze.CauseResign {
		var last time.Time
		for _, ev := range l.a.Timeline {
			if ev.Kind == "resign" && ev.Source == fo.From.IP && ev.VRID == fo.VRID && ev.VLAN == fo.VLAN && !ev.Time.After(fo.Time) {
				last = ev.Time
			}
		}
		if !last.IsZero() && !last.Add(det).After(fo.Time) {
			return last, last.Add(det)
		}
	}
	return fo.Time.Add(-det), fo.Time
}

// fmtLapse formats a lapse of time for people: "89.0 ms", "5.11 s".
func fmtLapse(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%.1f ms", ms(d))
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (l *ladder) splitItems() {
	for si, sb := range l.a.SplitBrains {
		var names []string
		for _, r := range sb.Routers {
			names = append(names, clean(r.IP))
		}
		text := fmt.Sprintf("split brain: %s held the VIP at once for %s", strings.Join(names, " and "), fmtSpan(sb.DurationMS))
		if sb.Ongoing {
			text += ", until the capture ended"
		}
		l.items = append(l.items, item{kind: itSplit, t0: sb.Start, t1: sb.End, from: -1, to: -1, label: "split brain",
			text: text, f0: sb.StartFrame, f1: sb.EndFrame, vrid: sb.VRID, vlan: sb.VLAN, fo: -1, sb: si})
		if len(sb.Routers) > 1 {
			c := sb.Routers[len(sb.Routers)-1]
			if ln, ok := l.index[c.IP]; ok {
				l.items = append(l.items, item{kind: itContender, t0: sb.Start, t1: sb.End, from: ln, to: -1, label: "also master",
					text: fmt.Sprintf("%s held the VIP as well (%s)", clean(c.IP), plural(c.Claims, "claim", "claims")),
					vrid: sb.VRID, vlan: sb.VLAN, fo: -1, sb: si})
			}
		}
	}
}

// overlaps tells whether an item shows in the window [lo, hi].
func (it item) overlaps(lo, hi time.Time) bool {
	return !it.t1.Before(lo) && !it.t0.After(hi)
}
