package pcapgen

import (
	"fmt"
	"hash/fnv"
	"net/netip"
	"slices"
	"time"

	"github.com/vrrpctl/vrrpctl/analyze"
)

// Scenario is a named capture with what a correct analysis concludes.
type Scenario struct {
	Name  string
	Story string
	build func(seed uint64) (*Writer, Expect)
}

// Build generates the scenario: the Writer holding its frames and what a
// correct analysis concludes. The jitter is seeded from the name, so each
// scenario has its own MACs and timing, the same on every run.
func (s Scenario) Build() (*Writer, Expect) {
	h := fnv.New64a()
	h.Write([]byte(s.Name))
	w, e := s.build(h.Sum64())
	e.LinkType = w.link
	e.Frames = len(w.frames)
	e.HasDstMAC = w.link == Ethernet
	return w, e
}

// Generate returns the capture file and its Expect.
func (s Scenario) Generate() ([]byte, Expect, error) {
	w, e := s.Build()
	b, err := w.Bytes()
	if err != nil {
		return nil, e, fmt.Errorf("scenario %s: %w", s.Name, err)
	}
	return b, e, nil
}

// Scenarios lists every scenario, in a stable order.
func Scenarios() []Scenario { return slices.Clone(all) }

// Get returns the scenario called name.
func Get(name string) (Scenario, bool) {
	for _, s := range all {
		if s.Name == name {
			return s, true
		}
	}
	return Scenario{}, false
}

// The codes a healthy pair must not raise.
var warnings = []string{analyze.CodeStaleARP, analyze.CodeNoGARP, analyze.CodeGARPInterval, analyze.CodeSplitBrain, analyze.CodeIntervalMismatch,
	analyze.CodeAuthMismatch, analyze.CodeVersionMismatch, analyze.CodeVIPMismatch, analyze.CodeEqualPriority, analyze.CodeTTL, analyze.CodeChecksum,
	analyze.CodeAdvertGap, analyze.CodeFlapping, analyze.CodeNoBackup, analyze.CodeVIPUnanswered, analyze.CodeSlowFailover, analyze.CodeClientOutage}

// except returns warnings without the given codes.
func except(codes ...string) []string {
	var out []string
	for _, c := range warnings {
		if !slices.Contains(codes, c) {
			out = append(out, c)
		}
	}
	return out
}

var all = []Scenario{
	{"healthy-v2", "A keepalived pair (VRID 51, advert_int 1, nat1 priority 100, nat2 priority 10) as in the reference captures. nat1 becomes master 3.6 s after starting, nat2 starts as backup, the client resolves the VIP and pings it every 200 ms. At about 9 s nat1 stops: priority-0 advert, IGMP leave. nat2 takes over after Skew_Time (246/256 s), sends 5 GARPs at once and 5 more 5 s later; the client follows the first GARP without a lost reply. Failover cause resign, no warnings.",
		func(seed uint64) (*Writer, Expect) { return healthy(pairOpts{seed: seed}) }},
	{"healthy-v2-pcapng", "healthy-v2 written as pcapng.",
		func(seed uint64) (*Writer, Expect) { return healthy(pairOpts{seed: seed, opts: []Option{AsPCAPNG()}}) }},
	{"healthy-v3-100ms", "A VRRPv3 pair advertising every 100 ms (10 centiseconds). The master's link is cut at about 9 s: it goes silent with no priority-0 advert. The backup (priority 10) takes over after Master_Down_Interval = 3*0.1 + 246*0.1/256 s = 396 ms, with its GARPs; the client follows at once. Failover cause master-down, no warnings.",
		healthyV3},
	{"v3-v2-style-checksum", "healthy-v3-100ms, but nat1 computes its VRRPv3 checksums without the IP pseudo-header (the VRRPv2 way), as some implementations do; nat2 accepts them, as keepalived does, so the failover is as healthy as before. checksum at info severity, nothing above.",
		func(seed uint64) (*Writer, Expect) { return v3Pair(seed, true) }},
	{"slow-failover", "nat1's link is cut at about 9 s (no priority-0 advert); nat2 (priority 10) is starved and takes over 2.5 s after its Master_Down_Interval of 3.96 s. Cause master-down, slow-failover.",
		slowFailover},
	{"preempt", "nat1 (priority 100) resigns at about 9 s and nat2 (priority 10) takes over; nat1 starts again at 15 s, joins, hears nat2's lower-priority adverts, discards them (preemption) and becomes master 3.6 s later with its GARPs; nat2 falls back to backup silently (no priority-0 advert). Two failovers: resign, then preempt.",
		preempt},
	{"client-ignores-garp", "healthy-v2 with a client that ignores gratuitous ARP (an appliance with a fixed 20 s ARP timeout). After the failover nat2 sends its GARPs but the client keeps sending echo requests to nat1's MAC, unanswered, until its entry times out; then it ARPs and follows nat2. stale-arp (the GARPs were on the wire), no no-garp.",
		func(seed uint64) (*Writer, Expect) {
			return healthy(pairOpts{seed: seed, client: StaticClient, end: 32 * time.Second, must: []string{analyze.CodeStaleARP}})
		}},
	{"no-garp", "healthy-v2, but nat2 sends no GARP on becoming master (GARPs filtered on the way). The Linux client's entry for the VIP stays on nat1's MAC: it keeps pinging nat1 unanswered until the entry's reachable time runs out, probes nat1's MAC three times by unicast ARP, fails, and resolves the VIP again by broadcast: nat2 answers. no-garp and stale-arp.",
		func(seed uint64) (*Writer, Expect) {
			return healthy(pairOpts{seed: seed, noGARP: true, reachable: 17 * time.Second, end: 36 * time.Second, must: []string{analyze.CodeNoGARP, analyze.CodeStaleARP}})
		}},
	{"split-brain", "As testdata/split-brain.pcap: nat1 is master; from about 8.6 s nat2 drops incoming VRRP, so at about 12.6 s it becomes master too (priority 10) and both advertise for about 5 s. nat1 answers every lower-priority advert with an advert and 5 GARPs; the client's ARP entry flips between the two MACs. Then nat2 hears nat1 again and falls back silently.",
		splitBrain},
	{"interval-mismatch", "nat1 advertises every 1 s, nat2 is configured with advert_int 2. In VRRPv2 a backup discards adverts with another interval (RFC 3768 7.1), so nat2 never hears nat1 and becomes master after its own Master_Down_Interval (6.96 s); nat1 discards nat2's adverts as well: both stay master until the end. interval-mismatch and split-brain.",
		func(seed uint64) (*Writer, Expect) {
			return mismatch(seed, func(r *Router) { r.Interval = 2 * time.Second }, analyze.CodeIntervalMismatch, false)
		}},
	{"auth-mismatch", "nat1 uses auth_type PASS with \"secret1\", nat2 \"secret2\": each discards the other's adverts, so nat2 becomes master too and both advertise until the end. auth-mismatch and split-brain.",
		func(seed uint64) (*Writer, Expect) {
			return mismatch(seed, func(r *Router) { r.Auth = "pass:secret2" }, analyze.CodeAuthMismatch, false, func(r *Router) { r.Auth = "pass:secret1" })
		}},
	{"version-mismatch", "nat1 speaks VRRPv2, nat2 VRRPv3 (1 s = 100 cs): each discards the other's adverts, so both are master. version-mismatch and split-brain.",
		func(seed uint64) (*Writer, Expect) {
			return mismatch(seed, func(r *Router) { r.Version = 3 }, analyze.CodeVersionMismatch, false)
		}},
	{"vip-mismatch", "nat2's virtual_ipaddress lists 192.168.33.100 and 192.168.33.200, nat1's only 192.168.33.100. With vrrp_skip_check_adv_addr (as in the reference configuration) nat2 still accepts nat1's adverts and stays backup; when nat1 resigns, nat2 takes over and announces both addresses. vip-mismatch, no split brain.",
		vipMismatch},
	{"equal-priority", "As testdata/equal-prio.pcap: both routers priority 100. nat1 starts first and becomes master; nat2 stays backup (an equal-priority advert does not make a backup take over). nat1 stops at about 11 s; nat2 takes over after Skew_Time 156/256 s. nat1 returns at 14 s and stays backup: no failback. One failover (resign); equal-priority.",
		equalPriority},
	{"ttl", "nat1's adverts leave with TTL 64 (sent through a routing hop). nat2 must discard them (RFC 3768 7.1), so it becomes master too after its Master_Down_Interval: ttl and split-brain.",
		func(seed uint64) (*Writer, Expect) {
			return mismatch(seed, nil, analyze.CodeTTL, true, func(r *Router) { r.TTL = 64 })
		}},
	{"checksum", "nat1's adverts carry a checksum that does not verify (a NIC offload bug). nat2 discards them and becomes master too: checksum and split-brain.",
		func(seed uint64) (*Writer, Expect) {
			return mismatch(seed, nil, analyze.CodeChecksum, true, func(r *Router) { r.BadChecksum = true })
		}},
	{"advert-gap", "nat1 is master; at about 10 s its keepalived is blocked for 2.5 s and sends no advert, then resumes. nat2 (priority 10) waits Master_Down_Interval 3.96 s, so it does not take over: no failover, but advert-gap.",
		advertGap},
	{"flapping", "nat1's keepalived is in a restart loop: it stops (priority-0 advert), nat2 takes over, nat1 starts again 2 s later and preempts 3.6 s after that, four times within a minute: eight failovers alternating resign and preempt. flapping.",
		flapping},
	{"no-backup", "Only nat1 runs keepalived; no other router advertises or joins 224.0.0.18. The client pings the VIP. no-backup.",
		noBackup},
	{"vrrp-strict-drop", "nat1 is master with vrrp_strict: its firewall drops traffic to the VIP. The client resolves the VIP to nat1's MAC (ARP is answered), sends echo requests every 200 ms and two TCP connection attempts to port 80 (SYN retransmitted after 1, 3 and 7 s); nothing comes back from the VIP while nat1 keeps advertising. vip-unanswered.",
		strictDrop},
	{"garp-storm", "healthy-v2, but nat2 announces the VIP with 300 GARPs at 50 per second (vrrp_garp_master_repeat 300, vrrp_garp_interval 0.02) when it becomes master. garp-interval.",
		func(seed uint64) (*Writer, Expect) {
			return healthy(pairOpts{seed: seed, nat2: func(r *Router) {
				r.GARPRepeat, r.GARPInterval, r.GARPDelay = 300, 20*time.Millisecond, -1
			}, must: []string{analyze.CodeGARPInterval}})
		}},
	{"garp-short-burst", "healthy-v2, but nat2 sends a single GARP on becoming master and a single one 5 s later, where keepalived's default is a burst of 5. garp-interval.",
		func(seed uint64) (*Writer, Expect) {
			return healthy(pairOpts{seed: seed, nat2: func(r *Router) { r.GARPRepeat = 1 }, must: []string{analyze.CodeGARPInterval}})
		}},
	{"vlan", "Captured on a trunk (frames padded to 60 bytes): the healthy-v2 pair and client on VLAN 10, and another pair with the same VRID 51 (10.20.0.11 priority 150, 10.20.0.12 priority 50, VIP 10.20.0.1) on VLAN 20, whose master keeps the VIP. Two groups; one failover (resign) on VLAN 10; no split brain and no VIP mismatch across VLANs.",
		vlanScenario},
	{"qinq", "healthy-v2 behind an 802.1ad service tag 100 and customer VLAN 10: one group on VLAN 10.",
		func(seed uint64) (*Writer, Expect) {
			return healthy(pairOpts{seed: seed, opts: []Option{QinQ(100, 10)}})
		}},
	{"sll", "healthy-v2 captured with tcpdump -i any on the client (Linux cooked, SLL): no destination MACs, so no client switch and no stale-arp can be concluded.",
		func(seed uint64) (*Writer, Expect) { return healthy(pairOpts{seed: seed, link: LinuxSLL}) }},
	{"sll2", "healthy-v2 captured as Linux cooked v2 (SLL2).",
		func(seed uint64) (*Writer, Expect) { return healthy(pairOpts{seed: seed, link: LinuxSLL2}) }},
	{"sll-ignores-garp", "client-ignores-garp captured as SLL: the client's echo requests to the old master cannot be told apart from those to the new one, so stale-arp must not be concluded.",
		func(seed uint64) (*Writer, Expect) {
			return healthy(pairOpts{seed: seed, link: LinuxSLL, client: StaticClient, end: 32 * time.Second, mustNot: []string{analyze.CodeStaleARP}, notQuiet: true})
		}},
	{"ipv6-v3", "A VRRPv3 pair over IPv6 (adverts to ff02::12, hop limit 255, VIPs fe80::1 and 2001:db8:33::100). nat1 resigns at about 9 s; nat2 takes over after Skew_Time and announces both VIPs with unsolicited neighbour advertisements (5 each, and 5 more 5 s later: the IPv6 counterpart of the GARP bursts). No client traffic. Failover cause resign in an ipv6 group, no warnings.",
		ipv6V3},
	{"hw-vmac-failover", "A hardware-router pair (VRRPv2, VRID 51, 1 s adverts, rtr1 192.168.33.101 priority 110, rtr2 .102 priority 100) that sends adverts, GARPs and ARP replies from the virtual MAC 00:00:5e:00:01:33 (RFC 3768 7.3, as Cisco, Juniper, Arista and FRR do) and announces the VIP with a GARP once a second, three times (Cisco's HSRP documents three; Loki imitates Cisco the same way). The client resolves the VIP to the virtual MAC and pings it every 200 ms. At about 9 s rtr1's link is cut: no priority-0 advert. rtr2 takes over Master_Down_Interval (3 + 156/256 s) after rtr1's last advert, with its GARPs; the client's ARP entry never changes and its pings are answered again from the takeover on. Failover cause master-down, no warnings.",
		hwVMACFailover},
	{"hw-vmac-resign-preempt", "The hw-vmac-failover pair: at about 9 s rtr1 resigns with a priority-0 advert sent from the virtual MAC; rtr2 takes over after Skew_Time (156/256 s). At 15 s rtr1 starts again in backup, discards rtr2's lower-priority adverts (preemption, RFC 3768 6.4.2) and takes over Master_Down_Interval (3 + 146/256 s) after its start; rtr2 hears rtr1's higher-priority advert and stops at once, sending nothing more (RFC 3768 6.4.3). The client pings the virtual MAC throughout. Two failovers, resign then preempt, no warnings.",
		func(seed uint64) (*Writer, Expect) { return hwResignPreempt(seed, false, false, true, 0) }},
	{"hw-vmac-same-instant", "The hw-vmac-failover pair; rtr1 resigns at about 9 s and rtr2 takes over after Skew_Time. rtr2's first GARP carries the same microsecond timestamp as its first advert and is written before it in the file, as some capture paths order frames sent together; like the advert it comes from the virtual MAC. The GARP is rtr2's: GARP time 0 ms from its first advert. One failover (resign), no warnings.",
		func(seed uint64) (*Writer, Expect) { return hwResignPreempt(seed, true, false, false, 0) }},
	{"hw-priority-tracking", "A virtual-MAC pair where rtr1 (priority 105) tracks an uplink, rtr2 has 100 and preempts. At about 8.5 s the uplink fails and rtr1 advertises 95; rtr2 discards those adverts (lower than its own priority, RFC 3768 6.4.2) and takes over Master_Down_Interval after the last advert it accepted; rtr1 hears rtr2's 100 and stops at once. At about 16 s the uplink returns: rtr1, backup at 105, discards rtr2's adverts and preempts back Master_Down_Interval (3 + 151/256 s) after the last one it accepted; rtr2 stops at once. Two failovers, both preempt, the first caused by rtr1's priority falling below rtr2's. No warnings.",
		hwPriorityTracking},
	{"hw-10s-jitter", "A virtual-MAC pair advertising every 10 s (VRRPv2) with ±2 % jitter on every interval, as hardware timers show. The capture starts while rtr1 has long been master (no start-up in it); the client pings every 500 ms. At about 35 s rtr1's link is cut; rtr2 takes over Master_Down_Interval (30 + 156/256 s) after rtr1's last advert, computed from the advertised 10 s, with its GARPs. The client's entry times out meanwhile (Linux probes, then broadcasts, unanswered) and is completed by rtr2's first GARP. Failover cause master-down, no warnings.",
		hw10sJitter},
	{"hw-cisco-garp", "hw-vmac-same-instant's resign without the same-instant GARP, with Cisco's form of the GARPs: each announcement is two gratuitous ARP replies from the virtual MAC (sender and target IP the VIP), one to ff:ff:ff:ff:ff:ff with target MAC ff:ff:ff:ff:ff:ff, one to 01:00:0c:cd:cd:cd (Cisco's STP UplinkFast multicast) with that target MAC, once a second three times, as Cisco routers are seen to send and ERNW's Loki reproduces. One failover (resign), no warnings.",
		func(seed uint64) (*Writer, Expect) { return hwResignPreempt(seed, false, true, false, 0) }},
	{"hw-ipv6", "A VRRPv3 pair over IPv6 with virtual MAC 00:00:5e:00:02:33 (VIPs fe80::1, the virtual link-local address, and 2001:db8:33::100), modelled on RFC 5798 and FRR: adverts from each router's link-local to ff02::12 with hop limit 255, sent from the virtual MAC; MLDv2 reports (Router Alert hop-by-hop option, from the router's own MAC) joining ff02::12 at start and leaving it at stop; on becoming master an unsolicited NA per VIP with the Router and Override flags (RFC 5798 6.4.2), once a second three times, and router advertisements from fe80::1 with the virtual MAC as source link-layer address every 3 to 4 s (RFC 5798 6.4.3, 8.2). The client 2001:db8:33::2 resolves the VIP by NS (answered by a solicited NA with R, S and O from the virtual MAC) and pings it. rtr1 resigns at about 9 s, rtr2 takes over after Skew_Time; rtr1 starts again at 15 s and preempts Master_Down_Interval later, rtr2 stops at once. Two failovers (resign, preempt), no warnings.",
		hwIPv6},
	{"vmac-client-outage", "hw-vmac-same-instant's resign without the same-instant GARP, but the switch keeps sending the virtual MAC to rtr1's port for 3 s after rtr2 takes over (MAC-move damping), although rtr2 sends from it: rtr1, now backup, discards the client's echo requests, so for 3 s they go unanswered; then the switch learns rtr2's port and the replies come back. The client's ARP entry never changes. client-outage.",
		func(seed uint64) (*Writer, Expect) {
			return hwResignPreempt(seed, false, false, false, 3*time.Second, analyze.CodeClientOutage)
		}},
	{"startup-election", "The keepalived pair (nat1 100, nat2 10) configured with state MASTER starts at the same instant; both act as master at once. nat2's advert and its 5 GARPs go out first, nat1's advert 150 ms later; nat2 hears the higher priority and becomes backup at once (RFC 3768 6.4.3), sending nothing more. An election at start-up: no split brain, no failover, nat1 master at the end.",
		func(seed uint64) (*Writer, Expect) { return startupElection(seed, false) }},
	{"startup-election-vmac", "startup-election with the virtual-MAC hardware pair (rtr1 110, rtr2 100): rtr2's advert and first GARP from the virtual MAC go out first, rtr1's advert 150 ms later, and rtr2 stops at once. No split brain, no failover, rtr1 master at the end.",
		func(seed uint64) (*Writer, Expect) { return startupElection(seed, true) }},
	{"short-split-brain", "The keepalived pair: from about 8.6 s nat2 stops hearing nat1, so Master_Down_Interval later it becomes master too: it sends 2 adverts (a second apart) and its 5 GARPs while nat1 keeps advertising (answering each of nat2's adverts with an advert and 5 GARPs, as keepalived does); then nat2 hears nat1's next advert and falls back at once. A split brain from nat2's first advert to its last claim (advert, GARP or echo reply from the VIP). split-brain; no failover.",
		func(seed uint64) (*Writer, Expect) { return shortSplitBrain(seed, false) }},
	{"short-split-brain-vmac", "short-split-brain with the virtual-MAC hardware pair: rtr2 sends 2 adverts and its GARPs from the virtual MAC over 1 to 2 s; rtr1, a hardware master, discards rtr2's lower-priority adverts without answering (RFC 3768 6.4.3); then rtr2 hears rtr1 and stops at once. The split brain runs from rtr2's first advert to its last advert or GARP. split-brain; no failover.",
		func(seed uint64) (*Writer, Expect) { return shortSplitBrain(seed, true) }},
	{"resign-split-end", "As split-brain: nat2 stops hearing nat1 and becomes master too about 12.6 s in; both advertise for about 4 s (nat1 answering nat2's adverts). Then nat2's keepalived hangs: 3 s without an advert from it, though it still holds the VIP; then it is stopped and sends a priority-0 advert, which nat1 answers with an advert at once (RFC 3768 6.4.3). The split brain ends with that priority-0 advert. split-brain; no failover.",
		resignSplitEnd},
	{"late-preempt-at-end", "preempt cut short: nat1 resigns at about 9 s, nat2 takes over; nat1 starts again at 15 s and preempts 3.6 s later, and the capture ends 1.5 s after that (two adverts of nat1). Two failovers, resign then preempt; nat1 master at the end.",
		latePreemptAtEnd},
	{"no-backup-running", "Only nat1 runs at first; it resigns at about 9 s (priority-0 advert, IGMP leave) with no backup to take over. 50 s later nat2, never seen before, starts, joins 224.0.0.18 and becomes master Master_Down_Interval after its start. The failover has cause no-backup: the RFC timers do not apply (no slow-failover). The client's pings go unanswered in between; it follows nat2's GARPs. no-backup.",
		noBackupRunning},
}

// lab is the reference topology: nat1, nat2 and the client "here".
type lab struct {
	w          *Writer
	nat1, nat2 *Router
	here       *Host
	vip        netip.Addr
}

// randMAC draws a locally administered unicast MAC, like a veth's.
func (w *Writer) randMAC() string {
	b := make([]byte, 6)
	for i := range b {
		b[i] = byte(w.rng.IntN(256))
	}
	b[0] = b[0]&0xfc | 0x02
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5])
}

func newLab(seed uint64, link LinkType, opts ...Option) *lab {
	w := New(link, append([]Option{Seed(seed)}, opts...)...)
	l := &lab{w: w, vip: netip.MustParseAddr("192.168.33.100")}
	l.nat1 = &Router{Host: w.Host("nat1", "192.168.33.101", w.randMAC(), WithIPv6("fe80::101")), VRID: 51, Priority: 100, VIPs: []netip.Addr{l.vip}}
	l.nat2 = &Router{Host: w.Host("nat2", "192.168.33.102", w.randMAC(), WithIPv6("fe80::102")), VRID: 51, Priority: 10, VIPs: []netip.Addr{l.vip}}
	l.here = w.Host("here", "192.168.33.2", w.randMAC())
	w.SetCapture(l.here)
	return l
}

// startup starts nat1 at 0 and nat2 a little later, and returns when nat1
// becomes master: Master_Down_Interval after its start, as keepalived
// starts in backup.
func (l *lab) startup() time.Duration {
	w := l.w
	w.Start(l.nat1, 0)
	up := masterDown(l.nat1.advert(0).version(), l.nat1.Priority, l.nat1.interval()) -
		w.Jitter(5*time.Millisecond, 18*time.Millisecond)
	w.Start(l.nat2, up+w.Jitter(300*time.Millisecond, 400*time.Millisecond))
	return up
}

// takeover is when a backup of priority prio acts on a resign at t:
// Skew_Time later plus keepalived's few milliseconds.
func (w *Writer) takeover(r *Router, masterInterval time.Duration, t time.Duration) time.Duration {
	return t + skewTime(r.advert(0).version(), r.Priority, masterInterval) + w.Jitter(2*time.Millisecond, 5*time.Millisecond)
}

// group is the Expect of a group whose advertising routers are routers.
func (l *lab) group(master string, routers ...*Router) ExpectGroup {
	g := ExpectGroup{VRID: int(routers[0].VRID), VLAN: int(l.w.vlanOf(routers[0].Host)), Family: "ipv4", Master: master}
	for _, r := range routers {
		if r.IPv6 {
			g.Family = "ipv6"
		}
		g.Speakers = append(g.Speakers, r.addr())
		for _, v := range r.VIPs {
			if !slices.Contains(g.VIPs, v.String()) {
				g.VIPs = append(g.VIPs, v.String())
			}
		}
	}
	slices.Sort(g.Speakers)
	slices.Sort(g.VIPs)
	return g
}

type pairOpts struct {
	seed      uint64
	link      LinkType
	opts      []Option
	nat2      func(*Router)
	client    ClientModel
	reachable time.Duration
	noGARP    bool
	end       time.Duration
	must      []string
	mustNot   []string
	notQuiet  bool
	// drop is a rule of the segment, set before anything is sent.
	drop func(l *lab) func(*Frame, *Host) bool
}

// healthy is the healthy-v2 story with variations.
func healthy(o pairOpts) (*Writer, Expect) {
	l := newLab(o.seed, o.link, o.opts...)
	w := l.w
	if o.drop != nil {
		w.Drop(o.drop(l))
	}
	if o.nat2 != nil {
		o.nat2(l.nat2)
	}
	if o.noGARP {
		l.nat2.GARPRepeat, l.nat2.GARPDelay = -1, -1
	}
	end := o.end
	if end == 0 {
		end = 17 * time.Second
	}
	up := l.startup()
	stop := 8*time.Second + 900*time.Millisecond + w.Jitter(0, 100*time.Millisecond)
	w.Master(l.nat1, up, stop)
	w.Stop(l.nat1, stop, true)
	t2 := w.Master(l.nat2, w.takeover(l.nat2, l.nat1.interval(), stop), end)
	w.Client(Traffic{Client: l.here, VIP: l.vip, From: 6*time.Second + 900*time.Millisecond, To: end,
		Model: o.client, Reachable: o.reachable})
	e := Expect{
		Must:           append([]string{analyze.CodeResign}, o.must...),
		Quiet:          !o.notQuiet,
		Groups:         []ExpectGroup{l.group(l.nat2.addr(), l.nat1, l.nat2)},
		CheckFailovers: true,
		Failovers: []ExpectFailover{w.failover(l.nat1, stop, t2, CauseResign, end,
			[]*Host{l.here}, []netip.Addr{l.vip})},
	}
	e.MustNot = append(except(o.must...), o.mustNot...)
	return w, e
}

func healthyV3(seed uint64) (*Writer, Expect) { return v3Pair(seed, false) }

// v3Pair is healthy-v3-100ms; with v2Sum nat1 computes its checksums the
// VRRPv2 way, which nat2 accepts (as keepalived does): an info finding only.
func v3Pair(seed uint64, v2Sum bool) (*Writer, Expect) {
	l := newLab(seed, Ethernet)
	w := l.w
	for _, r := range []*Router{l.nat1, l.nat2} {
		r.Version, r.Interval = 3, 100*time.Millisecond
	}
	l.nat1.V2StyleChecksum = v2Sum
	end := 17 * time.Second
	up := l.startup()
	cut := 9*time.Second + w.Jitter(0, 100*time.Millisecond)
	t1 := w.Master(l.nat1, up, cut)
	// The link is cut: nothing more from nat1. nat2 acts Master_Down_Interval
	// after nat1's last advert.
	mdi := masterDown(3, l.nat2.Priority, l.nat1.interval())
	t2 := w.Master(l.nat2, t1.Last()+mdi+w.Jitter(500*time.Microsecond, 2*time.Millisecond), end)
	w.Client(Traffic{Client: l.here, VIP: l.vip, From: 6*time.Second + 900*time.Millisecond, To: end})
	var must []string
	if v2Sum {
		must = []string{analyze.CodeChecksum} // at info severity: Quiet allows no warning
	}
	return w, Expect{
		// A link cut is not a graceful handover: no resign either.
		Must: must, MustNot: append(except(must...), analyze.CodeResign), Quiet: true,
		Groups:         []ExpectGroup{l.group(l.nat2.addr(), l.nat1, l.nat2)},
		CheckFailovers: true,
		Failovers:      []ExpectFailover{w.failover(l.nat1, t1.Last(), t2, CauseMasterDown, end, []*Host{l.here}, []netip.Addr{l.vip})},
	}
}

// slowFailover: nat1's link is cut, but nat2 is starved (a busy CPU, a
// blocked keepalived) and takes over 2.5 s after its Master_Down_Interval.
func slowFailover(seed uint64) (*Writer, Expect) {
	l := newLab(seed, Ethernet)
	w := l.w
	end := 20 * time.Second
	up := l.startup()
	cut := 9*time.Second + w.Jitter(0, 100*time.Millisecond)
	t1 := w.Master(l.nat1, up, cut)
	mdi := masterDown(2, l.nat2.Priority, l.nat1.interval())
	t2 := w.Master(l.nat2, t1.Last()+mdi+2500*time.Millisecond+w.Jitter(0, 2*time.Millisecond), end)
	w.Client(Traffic{Client: l.here, VIP: l.vip, From: 6*time.Second + 900*time.Millisecond, To: end})
	return w, Expect{
		Must: []string{analyze.CodeSlowFailover}, MustNot: except(analyze.CodeSlowFailover), Quiet: true,
		Groups:         []ExpectGroup{l.group(l.nat2.addr(), l.nat1, l.nat2)},
		CheckFailovers: true,
		Failovers:      []ExpectFailover{w.failover(l.nat1, t1.Last(), t2, CauseMasterDown, end, []*Host{l.here}, []netip.Addr{l.vip})},
	}
}

func preempt(seed uint64) (*Writer, Expect) {
	l := newLab(seed, Ethernet)
	w := l.w
	end := 26 * time.Second
	up := l.startup()
	stop := 8*time.Second + 900*time.Millisecond + w.Jitter(0, 100*time.Millisecond)
	w.Master(l.nat1, up, stop)
	w.Stop(l.nat1, stop, true)
	restart := 15*time.Second + w.Jitter(0, 100*time.Millisecond)
	back := restart + masterDown(2, l.nat1.Priority, time.Second) - w.Jitter(2*time.Millisecond, 10*time.Millisecond)
	t2 := w.Master(l.nat2, w.takeover(l.nat2, time.Second, stop), back)
	w.Start(l.nat1, restart)
	t3 := w.Master(l.nat1, back, end)
	w.Client(Traffic{Client: l.here, VIP: l.vip, From: 6*time.Second + 900*time.Millisecond, To: end})
	cl, vips := []*Host{l.here}, []netip.Addr{l.vip}
	return w, Expect{
		Must: []string{analyze.CodeResign}, MustNot: warnings, Quiet: true,
		Groups:         []ExpectGroup{l.group(l.nat1.addr(), l.nat1, l.nat2)},
		CheckFailovers: true,
		Failovers: []ExpectFailover{
			w.failover(l.nat1, stop, t2, CauseResign, t3.First(), cl, vips),
			w.failover(l.nat2, t2.Last(), t3, CausePreempt, end, cl, vips),
		},
	}
}

func splitBrain(seed uint64) (*Writer, Expect) {
	l := newLab(seed, Ethernet)
	w := l.w
	end := 24 * time.Second
	up := l.startup()
	t1 := w.Master(l.nat1, up, end)
	// nat2 stops hearing nat1 after nat1's advert at about 8.6 s; its
	// Master_Down_Interval (3.96 s) later it becomes master.
	var deaf time.Duration
	for _, a := range t1.Adverts {
		if a > 8*time.Second+500*time.Millisecond {
			deaf = a
			break
		}
	}
	from := deaf + masterDown(2, 10, time.Second) + w.Jitter(time.Millisecond, 3*time.Millisecond)
	heal := from + 5*time.Second + w.Jitter(10*time.Millisecond, 60*time.Millisecond)
	t2 := w.Master(l.nat2, from, heal)
	answerLower(w, l.nat1, t2, l.vip)
	w.Client(Traffic{Client: l.here, VIP: l.vip, From: 6*time.Second + 880*time.Millisecond, To: end})
	return w, Expect{
		Must:    []string{analyze.CodeSplitBrain},
		MustNot: except(analyze.CodeSplitBrain, analyze.CodeStaleARP, analyze.CodeGARPInterval, analyze.CodeFlapping),
		Groups:  []ExpectGroup{l.group(l.nat1.addr(), l.nat1, l.nat2)},
	}
}

// mismatch is a pair whose backup does not accept the master's adverts
// (set2 changes nat2, set1 nat1): nat2 becomes master too and both keep
// advertising to the end. When nat1 still hears nat2 (hears), it answers
// each lower-priority advert with an advert and 5 GARPs, as keepalived does.
func mismatch(seed uint64, set2 func(*Router), code string, hears bool, set1 ...func(*Router)) (*Writer, Expect) {
	l := newLab(seed, Ethernet)
	w := l.w
	if set2 != nil {
		set2(l.nat2)
	}
	for _, f := range set1 {
		f(l.nat1)
	}
	end := 24 * time.Second
	w.Start(l.nat1, 0)
	up := masterDown(2, l.nat1.Priority, time.Second) - w.Jitter(5*time.Millisecond, 18*time.Millisecond)
	start2 := up + w.Jitter(300*time.Millisecond, 400*time.Millisecond)
	w.Start(l.nat2, start2)
	w.Master(l.nat1, up, end)
	from := start2 + masterDown(l.nat2.advert(0).version(), l.nat2.Priority, l.nat2.interval()) + w.Jitter(time.Millisecond, 4*time.Millisecond)
	t2 := w.Master(l.nat2, from, end)
	if hears {
		answerLower(w, l.nat1, t2, l.vip)
	}
	w.Client(Traffic{Client: l.here, VIP: l.vip, From: 6*time.Second + 880*time.Millisecond, To: end})
	return w, Expect{
		Must:    []string{code, analyze.CodeSplitBrain},
		MustNot: except(code, analyze.CodeSplitBrain, analyze.CodeStaleARP, analyze.CodeGARPInterval, analyze.CodeFlapping),
		Groups:  []ExpectGroup{l.group("", l.nat1, l.nat2)},
	}
}

// answerLower has master r answer each advert of the lower-priority term
// with an advert of its own and a burst of 5 GARPs, as keepalived does.
func answerLower(w *Writer, r *Router, lower *Term, vip netip.Addr) {
	for _, a := range lower.Adverts {
		w.At(a + w.Jitter(80*time.Microsecond, 700*time.Microsecond))
		w.Advert(r.Host, r.advert(r.Priority))
		for range 5 {
			w.After(w.Jitter(30*time.Microsecond, 120*time.Microsecond)).GARP(r.Host, vip)
		}
	}
}

func vipMismatch(seed uint64) (*Writer, Expect) {
	l := newLab(seed, Ethernet)
	w := l.w
	l.nat2.VIPs = append(l.nat2.VIPs, netip.MustParseAddr("192.168.33.200"))
	end := 17 * time.Second
	up := l.startup()
	stop := 8*time.Second + 900*time.Millisecond + w.Jitter(0, 100*time.Millisecond)
	w.Master(l.nat1, up, stop)
	w.Stop(l.nat1, stop, true)
	t2 := w.Master(l.nat2, w.takeover(l.nat2, time.Second, stop), end)
	w.Client(Traffic{Client: l.here, VIP: l.vip, From: 6*time.Second + 900*time.Millisecond, To: end})
	return w, Expect{
		Must: []string{analyze.CodeVIPMismatch, analyze.CodeResign}, MustNot: except(analyze.CodeVIPMismatch), Quiet: true,
		Groups:         []ExpectGroup{l.group(l.nat2.addr(), l.nat1, l.nat2)},
		CheckFailovers: true,
		Failovers:      []ExpectFailover{w.failover(l.nat1, stop, t2, CauseResign, end, []*Host{l.here}, []netip.Addr{l.vip})},
	}
}

func equalPriority(seed uint64) (*Writer, Expect) {
	l := newLab(seed, Ethernet)
	w := l.w
	l.nat2.Priority = 100
	end := 20 * time.Second
	w.Start(l.nat1, 0)
	up := 3609*time.Millisecond - w.Jitter(2*time.Millisecond, 8*time.Millisecond)
	w.Start(l.nat2, 5*time.Second+w.Jitter(0, 10*time.Millisecond))
	stop := 10*time.Second + 950*time.Millisecond + w.Jitter(0, 20*time.Millisecond)
	w.Master(l.nat1, up, stop)
	w.Stop(l.nat1, stop, true)
	t2 := w.Master(l.nat2, w.takeover(l.nat2, time.Second, stop), end)
	w.Start(l.nat1, 14*time.Second+w.Jitter(0, 30*time.Millisecond)) // stays backup: no failback
	w.Client(Traffic{Client: l.here, VIP: l.vip, From: 6*time.Second + 900*time.Millisecond, To: end})
	return w, Expect{
		Must: []string{analyze.CodeEqualPriority, analyze.CodeResign}, MustNot: except(analyze.CodeEqualPriority), Quiet: true,
		Groups:         []ExpectGroup{l.group(l.nat2.addr(), l.nat1, l.nat2)},
		CheckFailovers: true,
		Failovers:      []ExpectFailover{w.failover(l.nat1, stop, t2, CauseResign, end, []*Host{l.here}, []netip.Addr{l.vip})},
	}
}

func advertGap(seed uint64) (*Writer, Expect) {
	l := newLab(seed, Ethernet)
	w := l.w
	end := 18 * time.Second
	up := l.startup()
	// Blocked just after an advert: the next one comes 2.5 intervals late.
	w.Master(l.nat1, up, end, Pause(up+6*time.Second+200*time.Millisecond, 2*time.Second+300*time.Millisecond))
	w.Client(Traffic{Client: l.here, VIP: l.vip, From: 6*time.Second + 900*time.Millisecond, To: end})
	return w, Expect{
		Must: []string{analyze.CodeAdvertGap}, MustNot: except(analyze.CodeAdvertGap), Quiet: true,
		Groups:         []ExpectGroup{l.group(l.nat1.addr(), l.nat1)},
		CheckFailovers: true,
	}
}

func flapping(seed uint64) (*Writer, Expect) {
	l := newLab(seed, Ethernet)
	w := l.w
	end := 50 * time.Second
	up := l.startup()
	cl, vips := []*Host{l.here}, []netip.Addr{l.vip}
	type change struct {
		old   *Router
		last  time.Duration
		term  *Term
		cause string
	}
	var changes []change
	for i := 0; i < 4; i++ {
		stop := up + 4*time.Second + w.Jitter(400*time.Millisecond, 600*time.Millisecond)
		t1 := w.Master(l.nat1, up, stop)
		if i > 0 {
			changes[len(changes)-1].term = t1
		}
		w.Stop(l.nat1, stop, true)
		restart := stop + 2*time.Second + w.Jitter(0, 200*time.Millisecond)
		back := restart + masterDown(2, l.nat1.Priority, time.Second) - w.Jitter(2*time.Millisecond, 10*time.Millisecond)
		t2 := w.Master(l.nat2, w.takeover(l.nat2, time.Second, stop), back)
		w.Start(l.nat1, restart)
		changes = append(changes, change{l.nat1, stop, t2, CauseResign}, change{l.nat2, t2.Last(), nil, CausePreempt})
		up = back
	}
	last := w.Master(l.nat1, up, end)
	changes[len(changes)-1].term = last
	w.Client(Traffic{Client: l.here, VIP: l.vip, From: 6*time.Second + 900*time.Millisecond, To: end})
	e := Expect{
		Must: []string{analyze.CodeFlapping, analyze.CodeResign}, MustNot: except(analyze.CodeFlapping),
		Groups:         []ExpectGroup{l.group(l.nat1.addr(), l.nat1, l.nat2)},
		CheckFailovers: true,
	}
	for i, c := range changes {
		until := end
		if i+1 < len(changes) {
			until = changes[i+1].term.First()
		}
		e.Failovers = append(e.Failovers, w.failover(c.old, c.last, c.term, c.cause, until, cl, vips))
	}
	return w, e
}

func noBackup(seed uint64) (*Writer, Expect) {
	l := newLab(seed, Ethernet)
	w := l.w
	end := 16 * time.Second
	w.Start(l.nat1, 0)
	up := 3609*time.Millisecond - w.Jitter(2*time.Millisecond, 8*time.Millisecond)
	w.Master(l.nat1, up, end)
	w.Client(Traffic{Client: l.here, VIP: l.vip, From: 6*time.Second + 900*time.Millisecond, To: end})
	return w, Expect{
		Must: []string{analyze.CodeNoBackup}, MustNot: except(analyze.CodeNoBackup), Quiet: true,
		Groups:         []ExpectGroup{l.group(l.nat1.addr(), l.nat1)},
		CheckFailovers: true,
	}
}

func strictDrop(seed uint64) (*Writer, Expect) {
	l := newLab(seed, Ethernet)
	w := l.w
	l.nat1.Drop = true
	end := 20 * time.Second
	up := l.startup()
	w.Master(l.nat1, up, end)
	w.Client(Traffic{Client: l.here, VIP: l.vip, From: 6*time.Second + 900*time.Millisecond, To: end,
		Connects: []time.Duration{8*time.Second + 100*time.Millisecond, 16*time.Second + 500*time.Millisecond}})
	return w, Expect{
		Must: []string{analyze.CodeVIPUnanswered}, MustNot: except(analyze.CodeVIPUnanswered), Quiet: true,
		Groups:         []ExpectGroup{l.group(l.nat1.addr(), l.nat1)},
		CheckFailovers: true,
	}
}

func vlanScenario(seed uint64) (*Writer, Expect) {
	w, e := healthy(pairOpts{seed: seed, opts: []Option{VLAN(10), Padded()}})
	nat3 := &Router{Host: w.Host("nat3", "10.20.0.11", w.randMAC(), OnVLAN(20)), VRID: 51, Priority: 150,
		VIPs: []netip.Addr{netip.MustParseAddr("10.20.0.1")}}
	nat4 := &Router{Host: w.Host("nat4", "10.20.0.12", w.randMAC(), OnVLAN(20)), VRID: 51, Priority: 50,
		VIPs: nat3.VIPs}
	w.Start(nat3, 500*time.Millisecond)
	w.Start(nat4, 1200*time.Millisecond)
	up := 500*time.Millisecond + masterDown(2, 150, time.Second) - w.Jitter(2*time.Millisecond, 8*time.Millisecond)
	w.Master(nat3, up, 17*time.Second)
	l := &lab{w: w}
	e.Groups = append(e.Groups, l.group(nat3.addr(), nat3)) // nat4 stays a silent backup
	return w, e
}

func ipv6V3(seed uint64) (*Writer, Expect) {
	l := newLab(seed, Ethernet)
	w := l.w
	vips := []netip.Addr{netip.MustParseAddr("fe80::1"), netip.MustParseAddr("2001:db8:33::100")}
	for _, r := range []*Router{l.nat1, l.nat2} {
		r.Version, r.IPv6, r.VIPs = 3, true, vips
	}
	end := 16 * time.Second
	w.Start(l.nat1, 0)
	up := 3609*time.Millisecond - w.Jitter(2*time.Millisecond, 8*time.Millisecond)
	w.Start(l.nat2, up+w.Jitter(300*time.Millisecond, 400*time.Millisecond))
	stop := 8*time.Second + 900*time.Millisecond + w.Jitter(0, 100*time.Millisecond)
	w.Master(l.nat1, up, stop)
	w.Stop(l.nat1, stop, true)
	t2 := w.Master(l.nat2, w.takeover(l.nat2, time.Second, stop), end)
	return w, Expect{
		Must: []string{analyze.CodeResign}, MustNot: warnings, Quiet: true,
		Groups:         []ExpectGroup{l.group(l.nat2.addr(), l.nat1, l.nat2)},
		CheckFailovers: true,
		Failovers:      []ExpectFailover{w.failover(l.nat1, stop, t2, CauseResign, end, nil, nil)},
	}
}
