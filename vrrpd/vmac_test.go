package vrrpd

import (
	"strings"
	"testing"
	"time"
)

func (l *testLab) linkShow(node, name string) (string, bool) {
	out, err := l.lab.Run(node, "ip", "-d", "-o", "link", "show", "dev", name)
	return out, err == nil
}

func (l *testLab) addrOn(node, dev string) string {
	out, _ := l.lab.Run(node, "ip", "-o", "addr", "show", "dev", dev)
	return out
}

// clientMAC pings the VIP from node and returns the MAC its neighbour
// table holds for it.
func (l *testLab) clientMAC(node string) string {
	l.t.Helper()
	l.run(node, "ping", "-c", "1", "-W", "2", testVIP.String())
	f := strings.Fields(l.run(node, "ip", "neigh", "show", testVIP.String()))
	for i, w := range f {
		if w == "lladdr" && i+1 < len(f) {
			return f[i+1]
		}
	}
	l.t.Fatalf("%s has no neighbour entry for %s: %v", node, testVIP, f)
	return ""
}

// TestVMAC runs a pair of our speakers with use_vmac: each creates the
// macvlan vrrp.51 (00:00:5e:00:01:33, private mode) on eth1, the master
// puts the VIP on it and sends adverts and GARPs from the virtual MAC, and
// a client reaching the VIP sees the same MAC before and after a failover.
// A stopped speaker deletes its macvlan and restores arp_ignore on eth1.
func TestVMAC(t *testing.T) {
	const vmacName, mac = "vrrp.51", "00:00:5e:00:01:33"
	l := newLab(t, "a", "b", "c")
	stopCap := l.capture("c")
	ra := labRouter(3, 200, 100*time.Millisecond, "")
	rb := labRouter(3, 100, 100*time.Millisecond, "")
	ra.UseVMAC, rb.UseVMAC = true, true
	spB, stopB := l.speaker("b", rb)
	spA, stopA := l.speaker("a", ra)
	for _, n := range []string{"a", "b"} {
		out, ok := l.linkShow(n, vmacName)
		if !ok || !strings.Contains(out, "link/ether "+mac) || !strings.Contains(out, "macvlan mode private") || !strings.Contains(out, "@eth1") {
			t.Fatalf("%s: %s is not a private macvlan on eth1 with %s:\n%s", n, vmacName, mac, out)
		}
	}
	waitFor(t, 5*time.Second, "a master with the VIP on its macvlan", func() bool {
		return routerState(spA).State == "MASTER" && strings.Contains(l.addrOn("a", vmacName), " "+testVIP.String()+"/")
	})
	// A master of a few adverts, not a start-up election the analyzer
	// would not count as a failover.
	time.Sleep(500 * time.Millisecond)
	if l.hasVIP("a", testVIP) {
		t.Error("VIP on a's eth1 too")
	}
	if strings.Contains(l.addrOn("b", vmacName), testVIP.String()) {
		t.Error("VIP on the backup's macvlan")
	}
	if got := strings.TrimSpace(l.run("a", "cat", "/proc/sys/net/ipv4/conf/eth1/arp_ignore")); got != "1" {
		t.Errorf("arp_ignore on a's eth1 = %s; want 1 while the macvlan exists", got)
	}
	before := l.clientMAC("c")
	if before != mac {
		t.Errorf("client resolves the VIP to %s; want the virtual MAC %s", before, mac)
	}

	stopA()
	if _, ok := l.linkShow("a", vmacName); ok {
		t.Error("a's macvlan left behind after stop")
	}
	if got := l.run("a", "cat", "/proc/sys/net/ipv4/conf/eth1/arp_ignore", "/proc/sys/net/ipv4/conf/eth1/arp_announce"); got != "0\n0\n" {
		t.Errorf("arp_ignore, arp_announce on a's eth1 = %q after stop; want 0, 0 restored", got)
	}
	waitFor(t, 5*time.Second, "b master with the VIP on its macvlan", func() bool {
		return routerState(spB).State == "MASTER" && strings.Contains(l.addrOn("b", vmacName), " "+testVIP.String()+"/")
	})
	time.Sleep(100 * time.Millisecond)
	if after := l.clientMAC("c"); after != before {
		t.Errorf("client's MAC for the VIP changed across the failover: %s -> %s", before, after)
	}
	pcap := stopCap()
	evs := readCapture(t, pcap)
	var adverts, garps int
	for _, e := range evs {
		if e.src == l.addrs["a"] || e.src == l.addrs["b"] || (e.garp && e.src == testVIP) {
			if e.mac != mac {
				t.Errorf("%s from %s with source MAC %s; want %s", map[bool]string{true: "GARP", false: "advert"}[e.garp], e.src, e.mac, mac)
			}
			if e.garp {
				garps++
			} else {
				adverts++
			}
		}
	}
	if adverts == 0 || garps == 0 {
		t.Errorf("captured %d adverts and %d GARPs from the routers", adverts, garps)
	}
	f := onlyFailover(t, analyzeCapture(t, pcap), l.addrs["a"], l.addrs["b"])
	skew, mdi := timersFor(rb)
	assertTakeover(t, f, true, skew, mdi)
	stopB()
	if _, ok := l.linkShow("b", vmacName); ok {
		t.Error("b's macvlan left behind after stop")
	}
}

// TestVMACLinkDown: a master whose macvlan goes down (the parent staying
// up) is in FAULT: it releases the VIP and the backup takes over after its
// Master_Down_Interval; the macvlan up again makes it a backup.
func TestVMACLinkDown(t *testing.T) {
	l := newLab(t, "a", "b")
	ra := labRouter(3, 200, 100*time.Millisecond, "")
	rb := labRouter(3, 100, 100*time.Millisecond, "")
	ra.UseVMAC = true
	spB, _ := l.speaker("b", rb)
	spA, _ := l.speaker("a", ra)
	waitFor(t, 5*time.Second, "a master", func() bool { return routerState(spA).State == "MASTER" })
	time.Sleep(300 * time.Millisecond)
	l.run("a", "ip", "link", "set", "vrrp.51", "down")
	waitFor(t, 5*time.Second, "a in FAULT, b master", func() bool {
		return routerState(spA).State == "FAULT" && routerState(spB).State == "MASTER" && l.hasVIP("b", testVIP)
	})
	if r := routerState(spA); r.Reason != ReasonLinkDown {
		t.Errorf("a in FAULT for %q; want %q", r.Reason, ReasonLinkDown)
	}
	l.run("a", "ip", "link", "set", "vrrp.51", "up")
	waitFor(t, 5*time.Second, "a master again (it preempts b)", func() bool { return routerState(spA).State == "MASTER" })
}
