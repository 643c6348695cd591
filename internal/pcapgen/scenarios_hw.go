package pcapgen

import (
	"net/netip"
	"time"

	"github.com/vrrpctl/vrrpctl/analyze"
)

// Scenarios of routers other than keepalived without a virtual MAC:
// hardware routers (Cisco, Juniper, Arista), FRR and keepalived with
// use_vmac, which send from the virtual router MAC, and elections and
// split brains whose exact extent is part of the ground truth.
//
// What they send is modelled on:
//   - RFC 3768 and RFC 5798 section 6.4 (the state machine: a backup with
//     preemption discards lower-priority adverts, a master that hears a
//     higher priority becomes backup at once, a master that hears a
//     priority-0 advert answers with an advert) and section 7.3 (the
//     virtual MAC as source of adverts, GARPs and ARP replies);
//   - RFC 5798 6.4.2 for IPv6: an unsolicited NA per VIP with the Router
//     and Override flags set, Solicited clear, target link-layer address
//     the virtual MAC; 6.4.3 and 8.2: only the master answers NS for the
//     VIPs and sends router advertisements, the first VIP being the
//     virtual link-local address;
//   - FRR's vrrpd (vrrp_ndisc.c: the NA from the VIP to ff02::1, hop limit
//     255, R and O, target link-layer address the macvlan's virtual MAC;
//     adverts on the macvlan, from the virtual MAC; RAs asked of zebra);
//   - Cisco's HSRP documentation (three gratuitous ARPs on becoming
//     active, a few seconds apart) and the gratuitous ARP replies Cisco
//     routers send to ff:ff:ff:ff:ff:ff and to 01:00:0c:cd:cd:cd, as
//     reproduced by ERNW's Loki (modules for HSRP, VRRP and GLBP: each
//     second, for three seconds, one reply of each kind per VIP);
//   - vendor manuals (HPE/Aruba, Extreme, Huawei, Enterasys): the master
//     answers ARP for the VIP with the virtual MAC and sends its adverts
//     from it; GARPs on becoming master, some repeated (three with
//     Huawei's enhanced mode), then periodic refreshes every 10 to 120 s
//     (not modelled: the captures are shorter).

// hwLab is the reference topology with hardware routers: both send from
// the virtual MAC and announce a VIP with a GARP once a second, three
// times; rtr1 has priority 110, rtr2 the default 100.
func hwLab(seed uint64) *lab {
	l := newLab(seed, Ethernet)
	l.nat1.Priority, l.nat2.Priority = 110, 100
	for _, r := range []*Router{l.nat1, l.nat2} {
		r.VirtualMAC = true
		r.HWGARP = &GARPPattern{Count: 3, Every: time.Second}
	}
	return l
}

// hwQuiet are the codes a healthy hardware pair must not raise: all the
// warnings but garp-interval, which may note at info level that three
// GARPs a second apart are not keepalived's defaults.
func hwQuiet(codes ...string) []string {
	return except(append([]string{analyze.CodeGARPInterval}, codes...)...)
}

// hwVMACFailover: master-down with virtual MACs.
func hwVMACFailover(seed uint64) (*Writer, Expect) {
	l := hwLab(seed)
	w := l.w
	end := 17 * time.Second
	up := l.startup()
	cut := 9*time.Second + w.Jitter(0, 100*time.Millisecond)
	t1 := w.Master(l.nat1, up, cut)
	t2 := w.Master(l.nat2, t1.Last()+masterDown(2, l.nat2.Priority, time.Second)+w.Jitter(500*time.Microsecond, 2*time.Millisecond), end)
	w.Client(Traffic{Client: l.here, VIP: l.vip, From: 6*time.Second + 900*time.Millisecond, To: end})
	return w, Expect{
		MustNot: append(hwQuiet(), analyze.CodeResign), Quiet: true,
		Groups:         []ExpectGroup{l.group(l.nat2.addr(), l.nat1, l.nat2)},
		CheckFailovers: true,
		Failovers:      []ExpectFailover{w.failover(l.nat1, t1.Last(), t2, CauseMasterDown, end, []*Host{l.here}, []netip.Addr{l.vip})},
		CheckSplits:    true,
	}
}

// hwResignPreempt: a resign, then the old master returns and preempts.
// With garpFirst the new master's first GARP shares its first advert's
// microsecond and comes first in the file; with cisco the GARPs are
// Cisco's pairs of replies; with switchDelay the switch keeps sending the
// virtual MAC to the old master's port that long after the takeover.
func hwResignPreempt(seed uint64, garpFirst, cisco, back bool, switchDelay time.Duration, must ...string) (*Writer, Expect) {
	l := hwLab(seed)
	w := l.w
	if cisco {
		for _, r := range []*Router{l.nat1, l.nat2} {
			r.HWGARP.Cisco = true
		}
	}
	end := 17 * time.Second
	if back {
		end = 26 * time.Second
	}
	up := l.startup()
	stop := 8*time.Second + 900*time.Millisecond + w.Jitter(0, 100*time.Millisecond)
	w.Master(l.nat1, up, stop)
	w.Stop(l.nat1, stop, true)
	var opts []MasterOpt
	if garpFirst {
		opts = append(opts, GARPFirst())
	}
	until := end
	var t3 *Term
	var restart time.Duration
	if back {
		// rtr1 starts in backup, discards rtr2's lower-priority adverts
		// (preemption) and takes over Master_Down_Interval after its start;
		// rtr2 hears its advert and stops at once.
		restart = 15*time.Second + w.Jitter(0, 100*time.Millisecond)
		until = restart + masterDown(2, l.nat1.Priority, time.Second) + w.Jitter(500*time.Microsecond, 2*time.Millisecond)
	}
	t2 := w.Master(l.nat2, w.takeover(l.nat2, time.Second, stop), until, opts...)
	if back {
		w.Start(l.nat1, restart)
		t3 = w.Master(l.nat1, until, end)
	}
	w.Client(Traffic{Client: l.here, VIP: l.vip, From: 6*time.Second + 900*time.Millisecond, To: end, SwitchDelay: switchDelay})
	cl, vips := []*Host{l.here}, []netip.Addr{l.vip}
	e := Expect{
		Must: append([]string{analyze.CodeResign}, must...), MustNot: hwQuiet(must...), Quiet: true,
		Groups:         []ExpectGroup{l.group(l.nat2.addr(), l.nat1, l.nat2)},
		CheckFailovers: true,
		Failovers:      []ExpectFailover{w.failover(l.nat1, stop, t2, CauseResign, until, cl, vips)},
		CheckSplits:    true,
	}
	if back {
		e.Groups = []ExpectGroup{l.group(l.nat1.addr(), l.nat1, l.nat2)}
		e.Failovers = append(e.Failovers, w.failover(l.nat2, t2.Last(), t3, CausePreempt, end, cl, vips))
	}
	return w, e
}

// hwPriorityTracking: rtr1 (105) tracks an uplink: 95 while it is down.
func hwPriorityTracking(seed uint64) (*Writer, Expect) {
	l := hwLab(seed)
	w := l.w
	l.nat1.Priority = 105
	end := 28 * time.Second
	drop := 8*time.Second + 500*time.Millisecond + w.Jitter(0, 100*time.Millisecond)
	rise := 16*time.Second + w.Jitter(0, 100*time.Millisecond)
	l.nat1.Track = []PriorityChange{{drop, 95}, {rise, 105}}
	up := l.startup()
	// rtr2 (100, preempt) discards rtr1's adverts at 95 and takes over
	// Master_Down_Interval after the last one it accepted; rtr1 hears
	// rtr2's 100 and stops at once.
	t1 := w.Master(l.nat1, up, drop)
	take := t1.Last() + masterDown(2, l.nat2.Priority, time.Second) + w.Jitter(500*time.Microsecond, 2*time.Millisecond)
	w.continueMaster(t1, take) // rtr1 goes on at 95 until it hears rtr2
	// rtr1 accepts rtr2's adverts while at 95; back at 105 it discards
	// them and takes over Master_Down_Interval after the last it accepted.
	t2 := w.Master(l.nat2, take, rise)
	back := t2.Last() + masterDown(2, 105, time.Second) + w.Jitter(500*time.Microsecond, 2*time.Millisecond)
	last2 := w.continueMaster(t2, back).Last()
	t3 := w.Master(l.nat1, back, end)
	w.Client(Traffic{Client: l.here, VIP: l.vip, From: 6*time.Second + 900*time.Millisecond, To: end})
	cl, vips := []*Host{l.here}, []netip.Addr{l.vip}
	// rtr2 takes over Master_Down_Interval after rtr1's last advert at 105,
	// the last it did not discard: that is the RFC time, and what the
	// takeover took.
	f1 := w.failover(l.nat1, t1.Last(), t2, CausePreempt, t3.First(), cl, vips)
	f1.PriorityDrop = true
	f1.ExpectedMS = msOf(masterDown(2, l.nat2.Priority, time.Second))
	return w, Expect{
		MustNot: append(hwQuiet(), analyze.CodeResign), Quiet: true,
		Groups:         []ExpectGroup{l.group(l.nat1.addr(), l.nat1, l.nat2)},
		CheckFailovers: true,
		Failovers:      []ExpectFailover{f1, w.failover(l.nat2, last2, t3, CausePreempt, end, cl, vips)},
		CheckSplits:    true,
	}
}

// hw10sJitter: VRRPv2 every 10 s with ±2 % jitter; the capture starts
// while rtr1 has long been master.
func hw10sJitter(seed uint64) (*Writer, Expect) {
	l := hwLab(seed)
	w := l.w
	for _, r := range []*Router{l.nat1, l.nat2} {
		r.Interval, r.Jitter = 10*time.Second, 0.02
	}
	end := 75 * time.Second
	cut := 35*time.Second + w.Jitter(0, 500*time.Millisecond)
	t1 := w.Master(l.nat1, 800*time.Millisecond+w.Jitter(0, 100*time.Millisecond), cut, resume())
	t2 := w.Master(l.nat2, t1.Last()+masterDown(2, l.nat2.Priority, l.nat1.Interval)+w.Jitter(500*time.Microsecond, 2*time.Millisecond), end)
	w.Client(Traffic{Client: l.here, VIP: l.vip, From: 2 * time.Second, To: end, PingEvery: 500 * time.Millisecond})
	return w, Expect{
		MustNot: append(hwQuiet(), analyze.CodeResign), Quiet: true,
		Groups:         []ExpectGroup{l.group(l.nat2.addr(), l.nat1, l.nat2)},
		CheckFailovers: true,
		Failovers:      []ExpectFailover{w.failover(l.nat1, t1.Last(), t2, CauseMasterDown, end, []*Host{l.here}, []netip.Addr{l.vip})},
		CheckSplits:    true,
	}
}

// hwIPv6: a VRRPv3 IPv6 pair with virtual MACs, MLDv2, NAs and RAs, and
// an IPv6 client; rtr1 resigns and preempts back.
func hwIPv6(seed uint64) (*Writer, Expect) {
	l := hwLab(seed)
	w := l.w
	vip := netip.MustParseAddr("2001:db8:33::100")
	for _, r := range []*Router{l.nat1, l.nat2} {
		r.Version, r.IPv6, r.MLD, r.RAEvery = 3, true, true, 4*time.Second
		r.VIPs = []netip.Addr{netip.MustParseAddr("fe80::1"), vip}
	}
	l.here.IP6 = netip.MustParseAddr("2001:db8:33::2")
	end := 26 * time.Second
	up := l.startup()
	stop := 8*time.Second + 900*time.Millisecond + w.Jitter(0, 100*time.Millisecond)
	w.Master(l.nat1, up, stop)
	w.Stop(l.nat1, stop, true)
	restart := 15*time.Second + w.Jitter(0, 100*time.Millisecond)
	back := restart + masterDown(3, l.nat1.Priority, time.Second) + w.Jitter(500*time.Microsecond, 2*time.Millisecond)
	t2 := w.Master(l.nat2, w.takeover(l.nat2, time.Second, stop), back)
	w.Start(l.nat1, restart)
	t3 := w.Master(l.nat1, back, end)
	w.Client(Traffic{Client: l.here, VIP: vip, From: 6*time.Second + 900*time.Millisecond, To: end})
	cl, vips := []*Host{l.here}, []netip.Addr{vip}
	return w, Expect{
		Must: []string{analyze.CodeResign}, MustNot: hwQuiet(), Quiet: true,
		Groups:         []ExpectGroup{l.group(l.nat1.addr(), l.nat1, l.nat2)},
		CheckFailovers: true,
		Failovers: []ExpectFailover{
			w.failover(l.nat1, stop, t2, CauseResign, t3.First(), cl, vips),
			w.failover(l.nat2, t2.Last(), t3, CausePreempt, end, cl, vips),
		},
		CheckSplits: true,
	}
}

// startupElection: both routers start at once and act as master at once
// (keepalived's state MASTER); the lower priority's advert and GARPs go
// out first, the higher's 150 ms later, and the lower stops at once.
func startupElection(seed uint64, vmac bool) (*Writer, Expect) {
	l := newLab(seed, Ethernet)
	quiet := warnings
	if vmac {
		l = hwLab(seed)
		quiet = hwQuiet()
	}
	w := l.w
	end := 12 * time.Second
	w.Start(l.nat1, 0)
	w.Start(l.nat2, w.Jitter(0, 2*time.Millisecond))
	low := 20*time.Millisecond + w.Jitter(0, 10*time.Millisecond)
	high := low + 150*time.Millisecond + w.Jitter(0, time.Millisecond)
	w.Master(l.nat2, low, high)
	w.Master(l.nat1, high, end)
	w.Client(Traffic{Client: l.here, VIP: l.vip, From: time.Second, To: end})
	return w, Expect{
		MustNot: quiet, Quiet: true,
		Groups:         []ExpectGroup{l.group(l.nat1.addr(), l.nat1, l.nat2)},
		CheckFailovers: true,
		CheckSplits:    true,
	}
}

// shortSplitBrain: nat2 stops hearing nat1, takes over after its
// Master_Down_Interval, sends 2 adverts and its GARPs while nat1 keeps
// advertising, then hears nat1 again and stops at once.
func shortSplitBrain(seed uint64, vmac bool) (*Writer, Expect) {
	l := newLab(seed, Ethernet)
	mustNot := except(analyze.CodeSplitBrain, analyze.CodeStaleARP, analyze.CodeGARPInterval, analyze.CodeFlapping)
	if vmac {
		l = hwLab(seed)
	}
	w := l.w
	end := 20 * time.Second
	up := l.startup()
	t1 := w.Master(l.nat1, up, end)
	deaf := firstAfter(t1.Adverts, 8*time.Second+500*time.Millisecond)
	from := deaf + masterDown(2, l.nat2.Priority, time.Second) + w.Jitter(time.Millisecond, 3*time.Millisecond)
	// nat2 hears again from about its second advert: nat1's next advert
	// makes it backup.
	heal := firstAfter(t1.Adverts, from+time.Second+time.Millisecond) + w.Jitter(30*time.Microsecond, 80*time.Microsecond)
	t2 := w.Master(l.nat2, from, heal)
	if !vmac {
		// keepalived's master answers each lower-priority advert; a
		// hardware master discards them (RFC 3768 6.4.3).
		answerLower(w, l.nat1, t2, l.vip)
	}
	w.Client(Traffic{Client: l.here, VIP: l.vip, From: 6*time.Second + 880*time.Millisecond, To: end})
	return w, Expect{
		Must: []string{analyze.CodeSplitBrain}, MustNot: mustNot,
		Groups:         []ExpectGroup{l.group(l.nat1.addr(), l.nat1, l.nat2)},
		CheckFailovers: true,
		CheckSplits:    true,
		SplitBrains:    []ExpectSplit{w.split(l.nat1, l.nat2, from, l.nat2, heal)},
	}
}

// resignSplitEnd: a split brain that nat2 ends, after 3 s without an
// advert (its keepalived hung), with a priority-0 advert as it is
// stopped.
func resignSplitEnd(seed uint64) (*Writer, Expect) {
	l := newLab(seed, Ethernet)
	w := l.w
	end := 26 * time.Second
	up := l.startup()
	t1 := w.Master(l.nat1, up, end)
	deaf := firstAfter(t1.Adverts, 8*time.Second+500*time.Millisecond)
	from := deaf + masterDown(2, l.nat2.Priority, time.Second) + w.Jitter(time.Millisecond, 3*time.Millisecond)
	hang := from + 4*time.Second + w.Jitter(100*time.Millisecond, 200*time.Millisecond)
	stop := hang + 3*time.Second + w.Jitter(0, 100*time.Millisecond)
	t2 := w.Master(l.nat2, from, stop, Pause(hang, stop-hang+time.Second))
	w.Stop(l.nat2, stop, true)
	answerLower(w, l.nat1, t2, l.vip)
	// A master hearing a priority-0 advert sends an advert at once
	// (RFC 3768 6.4.3).
	w.At(stop+w.Jitter(80*time.Microsecond, 700*time.Microsecond)).Advert(l.nat1.Host, l.nat1.advert(l.nat1.Priority))
	w.Client(Traffic{Client: l.here, VIP: l.vip, From: 6*time.Second + 880*time.Millisecond, To: end})
	return w, Expect{
		Must:           []string{analyze.CodeSplitBrain},
		MustNot:        except(analyze.CodeSplitBrain, analyze.CodeStaleARP, analyze.CodeGARPInterval, analyze.CodeFlapping),
		Groups:         []ExpectGroup{l.group(l.nat1.addr(), l.nat1, l.nat2)},
		CheckFailovers: true,
		CheckSplits:    true,
		SplitBrains:    []ExpectSplit{w.split(l.nat1, l.nat2, from, l.nat2, stop)},
	}
}

// latePreemptAtEnd: the preempt scenario cut 1.5 s after nat1 preempts.
func latePreemptAtEnd(seed uint64) (*Writer, Expect) {
	l := newLab(seed, Ethernet)
	w := l.w
	up := l.startup()
	stop := 8*time.Second + 900*time.Millisecond + w.Jitter(0, 100*time.Millisecond)
	w.Master(l.nat1, up, stop)
	w.Stop(l.nat1, stop, true)
	restart := 15*time.Second + w.Jitter(0, 100*time.Millisecond)
	back := restart + masterDown(2, l.nat1.Priority, time.Second) - w.Jitter(2*time.Millisecond, 10*time.Millisecond)
	end := back + 1500*time.Millisecond
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
		CheckSplits: true,
	}
}

// noBackupRunning: nat1 resigns with no backup running; nat2 starts 50 s
// later and becomes master after its own Master_Down_Interval.
func noBackupRunning(seed uint64) (*Writer, Expect) {
	l := newLab(seed, Ethernet)
	w := l.w
	w.Start(l.nat1, 0)
	up := masterDown(2, l.nat1.Priority, time.Second) - w.Jitter(5*time.Millisecond, 18*time.Millisecond)
	stop := 8*time.Second + 900*time.Millisecond + w.Jitter(0, 100*time.Millisecond)
	w.Master(l.nat1, up, stop)
	w.Stop(l.nat1, stop, true)
	start2 := stop + 50*time.Second + w.Jitter(0, 500*time.Millisecond)
	w.Start(l.nat2, start2)
	end := start2 + 12*time.Second
	t2 := w.Master(l.nat2, start2+masterDown(2, l.nat2.Priority, time.Second)-w.Jitter(5*time.Millisecond, 18*time.Millisecond), end)
	w.Client(Traffic{Client: l.here, VIP: l.vip, From: 6*time.Second + 900*time.Millisecond, To: end})
	return w, Expect{
		Must: []string{analyze.CodeNoBackup, analyze.CodeResign}, MustNot: except(analyze.CodeNoBackup), Quiet: true,
		Groups:         []ExpectGroup{l.group(l.nat2.addr(), l.nat1, l.nat2)},
		CheckFailovers: true,
		Failovers:      []ExpectFailover{w.failover(l.nat1, stop, t2, CauseNoBackup, end, []*Host{l.here}, []netip.Addr{l.vip})},
		CheckSplits:    true,
	}
}

// firstAfter is the first time in ts at or after t.
func firstAfter(ts []time.Duration, t time.Duration) time.Duration {
	for _, a := range ts {
		if a >= t {
			return a
		}
	}
	return ts[len(ts)-1]
}
