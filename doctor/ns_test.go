package doctor_test

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/vrrpctl/vrrpctl/analyze"
	"github.com/vrrpctl/vrrpctl/capture"
	"github.com/vrrpctl/vrrpctl/doctor"
	"github.com/vrrpctl/vrrpctl/internal/mcbridge"
	"github.com/vrrpctl/vrrpctl/internal/nsenter"
	"github.com/vrrpctl/vrrpctl/internal/testenv"
	"github.com/vrrpctl/vrrpctl/kaconf"
	"github.com/vrrpctl/vrrpctl/lab"
)

// The namespace tests build a segment (a bridge and hosts "here", "nat1",
// "nat2" in namespaces of their own, prefix "doc"), run keepalived 2.2.7 in
// the routers, stage one cause, and run doctor in each namespace as an
// operator would. lab.Close removes every namespace, link and process.

var vip = netip.MustParseAddr("192.168.33.100")

type nsLab struct {
	t     *testing.T
	l     *lab.Lab
	confs map[string]*kaconf.Config
}

// routerConf is the reference configuration of testdata/README.md with
// extra global_defs and instance lines.
func routerConf(name string, prio int, state, global, instance string) string {
	return fmt.Sprintf(`global_defs {
    router_id %s
    vrrp_skip_check_adv_addr
%s
}
vrrp_instance VI_1 {
    state %s
    interface eth1
    virtual_router_id 51
    priority %d
    advert_int 1
%s
    virtual_ipaddress {
        192.168.33.100/24
    }
}
`, name, global, state, prio, instance)
}

func newNSLab(t *testing.T, hosts ...string) *nsLab {
	t.Helper()
	testenv.NeedRoot(t)
	testenv.NeedTool(t, "keepalived", "nft")
	l, err := lab.NewSegment(lab.SegmentOptions{Prefix: "doc"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("close lab: %v", err)
		}
	})
	addrs := map[string]string{"here": "192.168.33.2/24", "nat1": "192.168.33.101/24", "nat2": "192.168.33.102/24"}
	for _, h := range hosts {
		var as []netip.Prefix
		if a := addrs[h]; a != "" {
			as = append(as, netip.MustParsePrefix(a))
		}
		if _, err := l.AddHost(h, as...); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.WaitCarrier(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	return &nsLab{t: t, l: l, confs: map[string]*kaconf.Config{}}
}

// keepalived writes conf for host and starts keepalived there.
func (n *nsLab) keepalived(host, conf string) {
	n.t.Helper()
	dir := filepath.Join(n.l.Dir, host)
	os.MkdirAll(dir, 0o700)
	path := filepath.Join(dir, "keepalived.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		n.t.Fatal(err)
	}
	cfg, err := kaconf.ParseFile(path)
	if err != nil {
		n.t.Fatal(err)
	}
	n.confs[host] = cfg
	argv := []string{"keepalived", "--dont-fork", "--log-console", "--log-detail", "--no-syslog", "--vrrp",
		"--use-file=" + path, "--pid=" + filepath.Join(dir, "k.pid"), "--vrrp_pid=" + filepath.Join(dir, "v.pid"),
		"--checkers_pid=" + filepath.Join(dir, "c.pid"), "--bfd_pid=" + filepath.Join(dir, "b.pid")}
	if _, err := n.l.Start(host, "keepalived", argv, nil); err != nil {
		n.t.Fatal(err)
	}
}

// waitVIP waits until each host in want holds the VIP (true) or not.
func (n *nsLab) waitVIP(limit time.Duration, want map[string]bool) {
	n.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ok := true
		for h, w := range want {
			if n.l.HasAddr(h, vip) != w {
				ok = false
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("after %v: want VIP held %v", limit, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// doctor runs doctor in host's namespace with the routers' configurations.
func (n *nsLab) doctor(host string) *doctor.Report {
	n.t.Helper()
	var cfgs []*kaconf.Config
	for _, h := range []string{"nat1", "nat2"} {
		if c := n.confs[h]; c != nil {
			cfgs = append(cfgs, c)
		}
	}
	ns := n.l.Switch().NS
	if host != "sw" {
		ns = n.l.Host(host).NS
	}
	r, err := doctor.Run(doctor.Options{Netns: ns, Configs: cfgs})
	if err != nil {
		n.t.Fatal(err)
	}
	return r
}

// status returns the status of code's check, logging the check.
func status(t *testing.T, r *doctor.Report, code string) doctor.Status {
	t.Helper()
	c := r.Check(code)
	if c == nil {
		t.Fatalf("no check %s", code)
	}
	for _, f := range r.FindingsOf(code) {
		t.Logf("%s %s: %s", code, f.Severity, f.Summary)
	}
	return c.Status
}

// quiet fails t for every check of r that did not pass or skip.
func quiet(t *testing.T, where string, r *doctor.Report) {
	t.Helper()
	for _, c := range r.Checks {
		if c.Status == doctor.Warn || c.Status == doctor.Fail {
			t.Errorf("%s: %s is %s: %v; %v", where, c.Code, c.Status, c.Saw, r.FindingsOf(c.Code))
		}
	}
}

// TestHealthyLab: two keepalived routers and a client that reaches the
// VIP; every check passes (or does not apply) in every namespace.
func TestHealthyLab(t *testing.T) {
	n := newNSLab(t, "here", "nat1", "nat2")
	n.keepalived("nat1", routerConf("nat1", 100, "MASTER", "", ""))
	n.keepalived("nat2", routerConf("nat2", 10, "BACKUP", "", ""))
	n.waitVIP(10*time.Second, map[string]bool{"nat1": true, "nat2": false})
	if out, err := n.l.Run("here", "ping", "-c", "1", "-W", "2", vip.String()); err != nil {
		t.Fatalf("client cannot reach the VIP: %v: %s", err, out)
	}
	for _, h := range []string{"here", "nat1", "nat2", "sw"} {
		r := n.doctor(h)
		quiet(t, h, r)
		if r.ExitStatus() != 0 {
			t.Errorf("%s: exit status %d", h, r.ExitStatus())
		}
		if h == "nat1" {
			for _, code := range []string{doctor.CodeVIPDropped, doctor.CodeVRRPBlocked, doctor.CodeNoVRRPMembership, doctor.CodeARPSysctl} {
				if s := status(t, r, code); s != doctor.Pass {
					t.Errorf("nat1: %s is %s, want pass (the router runs keepalived): %v", code, s, r.Check(code).Saw)
				}
			}
		}
		if h == "here" && status(t, r, doctor.CodeStaticNeigh) != doctor.Pass {
			t.Errorf("here: static-neigh %v", r.Check(doctor.CodeStaticNeigh))
		}
	}
}

// TestVIPDroppedStrict: keepalived with vrrp_strict as a master that is not
// the address owner loads table ip keepalived, dropping traffic to the VIP;
// doctor names the table, chain, handle and vrrp_strict, and the client's
// ping goes unanswered.
func TestVIPDroppedStrict(t *testing.T) {
	n := newNSLab(t, "here", "nat1", "nat2")
	n.keepalived("nat1", routerConf("nat1", 100, "MASTER", "    vrrp_strict", ""))
	n.keepalived("nat2", routerConf("nat2", 10, "BACKUP", "", ""))
	n.waitVIP(10*time.Second, map[string]bool{"nat1": true})
	if out, err := n.l.Run("here", "ping", "-c", "1", "-W", "1", vip.String()); err == nil {
		t.Errorf("the VIP answered through vrrp_strict's rule: %s", out)
	}
	r := n.doctor("nat1")
	if s := status(t, r, doctor.CodeVIPDropped); s != doctor.Fail {
		t.Fatalf("vip-dropped is %s, want fail: %v", s, r.Check(doctor.CodeVIPDropped).Saw)
	}
	found := false
	for _, f := range r.FindingsOf(doctor.CodeVIPDropped) {
		if f.Rule != nil && f.Rule.Table == "keepalived" && f.Rule.Chain == "in" && f.Rule.Handle > 0 && strings.Contains(f.Setting, "vrrp_strict") {
			found = true
		}
	}
	if !found {
		t.Errorf("no finding names table keepalived, chain in, a handle and vrrp_strict: %+v", r.FindingsOf(doctor.CodeVIPDropped))
	}
	// nat2 (no vrrp_strict, backup) has no such rule.
	if s := status(t, n.doctor("nat2"), doctor.CodeVIPDropped); s != doctor.Pass {
		t.Errorf("nat2: vip-dropped is %s", s)
	}
}

// TestVRRPBlocked: an nft rule on nat2 dropping IP protocol 112 makes it
// master too (split brain); doctor names the rule on nat2.
func TestVRRPBlocked(t *testing.T) {
	n := newNSLab(t, "nat1", "nat2")
	n.keepalived("nat1", routerConf("nat1", 100, "MASTER", "", ""))
	n.keepalived("nat2", routerConf("nat2", 10, "BACKUP", "", ""))
	n.waitVIP(10*time.Second, map[string]bool{"nat1": true, "nat2": false})
	if err := n.l.Nft("nat2", "table inet filter {\n chain input {\n  type filter hook input priority 0; policy accept;\n  ip protocol vrrp drop\n }\n}\n"); err != nil {
		t.Fatal(err)
	}
	n.waitVIP(8*time.Second, map[string]bool{"nat1": true, "nat2": true})
	r := n.doctor("nat2")
	if s := status(t, r, doctor.CodeVRRPBlocked); s != doctor.Fail {
		t.Fatalf("vrrp-blocked is %s, want fail: %v", s, r.Check(doctor.CodeVRRPBlocked).Saw)
	}
	f := r.FindingsOf(doctor.CodeVRRPBlocked)[0]
	if f.Rule == nil || f.Rule.Table != "filter" || f.Rule.Chain != "input" || f.Rule.Handle == 0 {
		t.Errorf("the finding does not name inet filter input and its handle: %+v", f.Rule)
	}
	if s := status(t, n.doctor("nat1"), doctor.CodeVRRPBlocked); s != doctor.Pass {
		t.Errorf("nat1: vrrp-blocked is %s", s)
	}
}

// TestNoMembership: a router whose eth1 has multicast off: keepalived
// runs and disables the instance ("does not support multicast"); its
// socket still joins 224.0.0.18, so the membership alone would not tell.
func TestNoMembership(t *testing.T) {
	n := newNSLab(t, "nat1")
	h := n.l.Host("nat1")
	err := nsenter.Run(h.Handle(), func() error {
		link, err := netlink.LinkByName("eth1")
		if err != nil {
			return err
		}
		return netlink.LinkSetMulticastOff(link)
	})
	if err != nil {
		t.Fatal(err)
	}
	n.keepalived("nat1", routerConf("nat1", 100, "MASTER", "", ""))
	time.Sleep(2 * time.Second)
	r := n.doctor("nat1")
	if s := status(t, r, doctor.CodeNoVRRPMembership); s != doctor.Fail {
		t.Fatalf("no-vrrp-membership is %s, want fail: %v", s, r.Check(doctor.CodeNoVRRPMembership).Saw)
	}
	if f := r.FindingsOf(doctor.CodeNoVRRPMembership)[0]; !strings.Contains(f.Summary, "multicast off") {
		t.Errorf("the finding does not say multicast is off: %s", f.Summary)
	}
}

// TestStaticNeigh: the client holds a PERMANENT entry for the VIP, drops
// gratuitous ARP by sysctl and by an nft arp rule; doctor names each.
func TestStaticNeigh(t *testing.T) {
	n := newNSLab(t, "here", "nat1", "nat2")
	n.keepalived("nat1", routerConf("nat1", 100, "MASTER", "", ""))
	n.keepalived("nat2", routerConf("nat2", 10, "BACKUP", "", ""))
	here := n.l.Host("here")
	err := nsenter.Run(here.Handle(), func() error {
		link, err := netlink.LinkByName("eth1")
		if err != nil {
			return err
		}
		mac, _ := net.ParseMAC("02:33:00:00:00:65")
		return netlink.NeighSet(&netlink.Neigh{LinkIndex: link.Attrs().Index, IP: vip.AsSlice(), HardwareAddr: mac, State: netlink.NUD_PERMANENT})
	})
	if err != nil {
		t.Fatal(err)
	}
	r := n.doctor("here")
	if s := status(t, r, doctor.CodeStaticNeigh); s != doctor.Fail {
		t.Fatalf("static-neigh is %s, want fail", s)
	}
	if !strings.Contains(r.FindingsOf(doctor.CodeStaticNeigh)[0].Summary, "PERMANENT") {
		t.Errorf("the finding does not say PERMANENT: %v", r.FindingsOf(doctor.CodeStaticNeigh))
	}
	if err := n.l.Sysctl(here, "net/ipv4/conf/eth1/drop_gratuitous_arp", "1"); err != nil {
		t.Fatal(err)
	}
	if err := n.l.Nft("here", "table arp filter {\n chain input {\n  type filter hook input priority 0; policy accept;\n  arp saddr ip 192.168.33.100 arp daddr ip 192.168.33.100 drop\n }\n}\n"); err != nil {
		t.Fatal(err)
	}
	r = n.doctor("here")
	var sawSysctl, sawRule bool
	for _, f := range r.FindingsOf(doctor.CodeStaticNeigh) {
		sawSysctl = sawSysctl || f.Setting == "drop_gratuitous_arp"
		sawRule = sawRule || f.Rule != nil && f.Rule.Family == "arp"
	}
	if !sawSysctl || !sawRule {
		t.Errorf("drop_gratuitous_arp found %v, the arp rule %v: %+v", sawSysctl, sawRule, r.FindingsOf(doctor.CodeStaticNeigh))
	}
}

// TestSnooping stages the bridge's multicast snooping on a Linux bridge
// (kernel 3.11 and later).
//
// Snooping on, no querier, 224.0.0.18: the memberships expire (the
// membership interval is shortened to 4 s so that they do within the
// test) but Linux floods every group while it hears no querier, and always
// floods 224.0.0.0/24: the routers keep hearing each other. doctor warns.
//
// Snooping on with the bridge's own querier asking every 20 s while
// memberships last 4 s, and a group the bridge snoops (vrrp_mcast_group4
// 239.1.2.18): 4 s after the routers' reports the bridge forgets them and
// stops forwarding their adverts: nat2 becomes master too until the next
// query brings the reports back. A capture on the bridge shows the split
// brain to the analyzer; doctor fails the bridge.
func TestSnooping(t *testing.T) {
	testenv.NeedTool(t, "tcpdump")
	t.Run("no-querier", func(t *testing.T) {
		n := newNSLab(t, "nat1", "nat2")
		on, off := true, false
		mi := 4 * time.Second
		if err := n.l.SetBridgeMulticast(mcbridge.Settings{Snooping: &on, Querier: &off, MembershipInterval: &mi}); err != nil {
			t.Fatal(err)
		}
		n.keepalived("nat1", routerConf("nat1", 100, "MASTER", "", ""))
		n.keepalived("nat2", routerConf("nat2", 10, "BACKUP", "", ""))
		n.waitVIP(10*time.Second, map[string]bool{"nat1": true})
		// Twice the membership interval: no split brain.
		for end := time.Now().Add(2 * mi); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
			if n.l.HasAddr("nat2", vip) {
				t.Fatal("nat2 took the VIP: the bridge stopped forwarding 224.0.0.18")
			}
		}
		r := n.doctor("sw")
		if s := status(t, r, doctor.CodeSnoopingNoQuerier); s != doctor.Warn {
			t.Fatalf("snooping-no-querier is %s, want warn: %v", s, r.Check(doctor.CodeSnoopingNoQuerier).Saw)
		}
		if f := r.FindingsOf(doctor.CodeSnoopingNoQuerier)[0]; !strings.Contains(f.Summary, n.l.BridgeName()) || !strings.Contains(f.Hint, "mcast_querier 1") {
			t.Errorf("the finding does not name the bridge and the fix: %+v", f)
		}
	})
	t.Run("memberships-lapse", func(t *testing.T) {
		n := newNSLab(t, "here", "nat1", "nat2")
		on := true
		mi, qi, ri := 4*time.Second, 20*time.Second, time.Second
		if err := n.l.SetBridgeMulticast(mcbridge.Settings{Snooping: &on, Querier: &on, MembershipInterval: &mi,
			QueryInterval: &qi, StartupQueryInterval: &qi, QueryResponseInterval: &ri}); err != nil {
			t.Fatal(err)
		}
		pcap := filepath.Join(n.l.Dir, "bridge.pcap")
		// The client's port is a multicast router port: the bridge sends it
		// every group, so its capture holds both routers' adverts.
		if out, err := n.l.Run("sw", "bridge", "link", "set", "dev", "here", "mcast_router", "2"); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		cap, err := n.l.Start("here", "tcpdump", []string{"tcpdump", "-i", "eth1", "-U", "-w", pcap, "vrrp or arp or igmp"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		group := "    vrrp_mcast_group4 239.1.2.18"
		n.keepalived("nat1", routerConf("nat1", 100, "MASTER", group, ""))
		n.keepalived("nat2", routerConf("nat2", 10, "BACKUP", group, ""))
		n.waitVIP(10*time.Second, map[string]bool{"nat1": true})
		n.waitVIP(20*time.Second, map[string]bool{"nat1": true, "nat2": true})
		r := n.doctor("sw")
		if s := status(t, r, doctor.CodeSnoopingNoQuerier); s != doctor.Fail {
			t.Fatalf("snooping-no-querier is %s, want fail: %v", s, r.Check(doctor.CodeSnoopingNoQuerier).Saw)
		}
		time.Sleep(3 * time.Second)
		cap.Stop(2 * time.Second)
		src, err := capture.OpenFile(pcap, "")
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		a, err := analyze.Run(src, analyze.Options{File: pcap})
		if a == nil {
			t.Fatal(err)
		}
		if !a.HasFinding(analyze.CodeSplitBrain) {
			t.Errorf("the analyzer saw no split brain on the bridge's capture: %+v", a.Findings)
		}
	})
}

// TestConfigPairs: a pair of configurations for each configuration check,
// and the healthy pair that keeps them all quiet.
func TestConfigPairs(t *testing.T) {
	base := func(name string, prio int, state, global, instance string) string {
		return routerConf(name, prio, state, global, instance)
	}
	parse := func(name, text string) *kaconf.Config {
		c, err := kaconf.Parse(name, strings.NewReader(text))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	healthy1 := base("nat1", 100, "MASTER", "", "")
	healthy2 := base("nat2", 10, "BACKUP", "", "")
	cases := []struct {
		code   string
		a, b   string
		status doctor.Status
	}{
		{doctor.CodeEqualPriority, healthy1, base("nat2", 100, "BACKUP", "", ""), doctor.Warn},
		{doctor.CodeIntervalMismatch, healthy1, strings.Replace(healthy2, "advert_int 1", "advert_int 2", 1), doctor.Fail},
		{doctor.CodeAuthMismatch, base("nat1", 100, "MASTER", "", "    authentication {\n        auth_type PASS\n        auth_pass secret1\n    }"),
			base("nat2", 10, "BACKUP", "", "    authentication {\n        auth_type PASS\n        auth_pass secret2\n    }"), doctor.Fail},
		{doctor.CodeVersionMismatch, healthy1, base("nat2", 10, "BACKUP", "    vrrp_version 3", ""), doctor.Fail},
		{doctor.CodeVIPMismatch, healthy1, strings.Replace(healthy2, "192.168.33.100/24\n", "192.168.33.100/24\n        192.168.33.101/24\n", 1), doctor.Warn},
		{doctor.CodeMcastGroupMismatch, healthy1, base("nat2", 10, "BACKUP", "    vrrp_mcast_group4 224.0.0.19", ""), doctor.Fail},
		{doctor.CodeUnicastAsymmetry, base("nat1", 100, "MASTER", "", "    unicast_src_ip 192.168.33.101\n    unicast_peer {\n        192.168.33.102\n    }"), healthy2, doctor.Fail},
		{doctor.CodeVRIDCollision, healthy1, strings.Replace(healthy2, "192.168.33.100/24", "192.168.33.200/24", 1), doctor.Fail},
		{doctor.CodeNopreemptNeedsBackup, base("nat1", 100, "MASTER", "", "    nopreempt"), healthy2, doctor.Warn},
	}
	for _, c := range cases {
		t.Run(c.code, func(t *testing.T) {
			r := doctor.Evaluate(nil, doctor.Options{Configs: []*kaconf.Config{parse("a.conf", c.a), parse("b.conf", c.b)}, NoHost: true})
			if s := status(t, r, c.code); s != c.status {
				t.Errorf("%s is %s, want %s: %v", c.code, s, c.status, r.Check(c.code).Saw)
			}
			for _, other := range r.Checks {
				if other.Code != c.code && other.Code != doctor.CodeVIPMismatch && other.Code != doctor.CodeVRIDCollision && (other.Status == doctor.Fail || other.Status == doctor.Warn) && other.Code != doctor.CodeGARPSchedule {
					t.Logf("also %s %s: %v", other.Code, other.Status, r.FindingsOf(other.Code))
				}
			}
		})
	}
	r := doctor.Evaluate(nil, doctor.Options{Configs: []*kaconf.Config{parse("a.conf", healthy1), parse("b.conf", healthy2)}, NoHost: true})
	quiet(t, "healthy pair", r)
	if r.ExitStatus() != 0 {
		t.Errorf("healthy pair: exit status %d", r.ExitStatus())
	}
}
