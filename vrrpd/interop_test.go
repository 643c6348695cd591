package vrrpd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The features of keepalived.conf with an effect on the wire, each against
// keepalived 2.2.7 in namespaces: `vrrpctl speaker -f` in one node,
// keepalived in another, a third capturing on the bridge. The
// configurations are keepalived.conf files as users write them; the
// speaker reads them as keepalived does.

// kaInst writes one vrrp_instance block.
type kaInst struct {
	name    string
	vrid    int
	prio    int
	version int // 0 means 2
	advert  string
	body    string // more keywords
	vips    []string
}

func (i kaInst) String() string {
	v := i.version
	if v == 0 {
		v = 2
	}
	adv := i.advert
	if adv == "" {
		adv = "1"
	}
	return fmt.Sprintf("vrrp_instance %s {\n    interface eth1\n    virtual_router_id %d\n    priority %d\n    version %d\n    advert_int %s\n%s    virtual_ipaddress {\n        %s\n    }\n}\n",
		i.name, i.vrid, i.prio, v, adv, indent(i.body), strings.Join(i.vips, "\n        "))
}

func indent(s string) string {
	if s == "" {
		return ""
	}
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		b.WriteString("    " + strings.TrimSpace(l) + "\n")
	}
	return b.String()
}

// ours runs `vrrpctl speaker -f` with conf in node, its status at listen.
type ours struct {
	*speakerProc
	l      *testLab
	node   string
	conf   string
	listen string
}

func (l *testLab) ours(node, conf string, args ...string) *ours {
	l.t.Helper()
	path := filepath.Join(l.dir, node+"-vrrpctl.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		l.t.Fatal(err)
	}
	listen := "127.0.0.1:9660"
	p := l.startBinary(node, append([]string{"speaker", "-f", path, "--listen", listen}, args...)...)
	o := &ours{speakerProc: p, l: l, node: node, conf: path, listen: listen}
	waitFor(l.t, 10*time.Second, "vrrpctl speaker's status endpoint", func() bool {
		_, err := l.lab.Run(node, vrrpctlBin, "speaker", "--status", "--listen", listen)
		return err == nil || p.proc.Exited()
	})
	if p.proc.Exited() {
		l.t.Fatalf("vrrpctl speaker exited:\n%s", p.out.String())
	}
	l.t.Cleanup(func() { p.proc.Stop(5 * time.Second) })
	return o
}

// status returns the speaker's status.
func (o *ours) status() Status {
	o.l.t.Helper()
	out, err := o.l.lab.Run(o.node, vrrpctlBin, "speaker", "--status", "--listen", o.listen)
	if err != nil {
		o.l.t.Fatalf("--status: %v\n%s\nspeaker output:\n%s", err, out, o.out.String())
	}
	var st Status
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		o.l.t.Fatalf("--status output: %v\n%s", err, out)
	}
	return st
}

// router returns the status of the named router.
func (o *ours) router(name string) RouterStatus {
	o.l.t.Helper()
	for _, r := range o.status().Routers {
		if r.Name == name {
			return r
		}
	}
	o.l.t.Fatalf("no router %s in the status", name)
	return RouterStatus{}
}

// reload writes conf and sends SIGHUP.
func (o *ours) reload(conf string) {
	o.l.t.Helper()
	if err := os.WriteFile(o.conf, []byte(conf), 0o644); err != nil {
		o.l.t.Fatal(err)
	}
	o.proc.Signal(syscall.SIGHUP)
}

// kaState reports whether keepalived's log says instance entered state
// (MASTER, BACKUP, FAULT) after the first skip bytes of its log.
func kaEntered(log *procLog, skip int, inst, state string) bool {
	s := log.String()
	if skip > len(s) {
		return false
	}
	return strings.Contains(s[skip:], "("+inst+") Entering "+state+" STATE")
}

// firstAdvert returns the time of the first advert with a non-zero
// priority from src for vrid after t.
func firstAdvert(evs []wireEvent, src netip.Addr, vrid uint8, after time.Time) (time.Time, bool) {
	for _, e := range evs {
		if !e.garp && e.src == src && e.vrid == vrid && e.prio > 0 && e.t.After(after) {
			return e.t, true
		}
	}
	return time.Time{}, false
}

// maxAdvertGap is the longest time between two adverts of src for vrid
// with a non-zero priority between from and to.
func maxAdvertGap(evs []wireEvent, src netip.Addr, vrid uint8, from, to time.Time) (time.Duration, int) {
	var gap time.Duration
	var prev time.Time
	n := 0
	for _, e := range evs {
		if e.garp || e.src != src || e.vrid != vrid || e.prio == 0 || e.t.Before(from) || e.t.After(to) {
			continue
		}
		n++
		if !prev.IsZero() {
			gap = max(gap, e.t.Sub(prev))
		}
		prev = e.t
	}
	return gap, n
}

const trackGlobal = "global_defs {\n    router_id %s\n    script_user root\n    enable_script_security\n%s}\n"

func globalDefs(id, extra string) string { return fmt.Sprintf(trackGlobal, id, indent(extra)) }

// TestInteropTrackScript: a vrrp_script without weight that fails puts the
// master in FAULT with a priority-0 advert: the other router, ours or
// keepalived, takes over within one advert interval (the script's
// interval) plus Skew_Time, and the VIP comes back when the script
// recovers. With a weight the master's priority drops below the backup's,
// which preempts after its Master_Down_Interval, as keepalived does.
func TestInteropTrackScript(t *testing.T) {
	for _, c := range []struct {
		name       string
		oursMaster bool
		weight     string
	}{
		{"vrrpd-master-fault", true, ""},
		{"keepalived-master-fault", false, ""},
		{"vrrpd-master-weight", true, " weight -60"},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := newLab(t, "ka", "vd", "c")
			flag := filepath.Join(l.dir, "healthy")
			os.WriteFile(flag, nil, 0o644)
			script := fmt.Sprintf("vrrp_script chk {\n    script \"/usr/bin/test -e %s\"\n    interval 1\n    fall 1\n    rise 1\n}\n", flag)
			master, backup := 150, 100
			track := "track_script {\n    chk" + c.weight + "\n}"
			oursI := kaInst{name: "VI_1", vrid: 51, prio: backup, vips: []string{"192.168.33.100/24"}}
			kaI := kaInst{name: "VI_1", vrid: 51, prio: master, body: track, vips: []string{"192.168.33.100/24"}}
			masterNode, backupNode := "ka", "vd"
			if c.oursMaster {
				oursI.prio, kaI.prio = master, backup
				oursI.body, kaI.body = track, ""
				masterNode, backupNode = "vd", "ka"
			}
			stopCap := l.capture("c")
			o := l.ours("vd", globalDefs("vd", "")+script+oursI.String())
			_, kaLog := l.keepalived("ka", globalDefs("ka", "")+script+kaI.String())
			waitFor(t, 15*time.Second, "the master with the VIP, the backup without", func() bool {
				return l.hasVIP(masterNode, testVIP) && !l.hasVIP(backupNode, testVIP) && kaEntered(kaLog, 0, "VI_1", map[bool]string{true: "BACKUP", false: "MASTER"}[c.oursMaster])
			})
			time.Sleep(1500 * time.Millisecond)
			t0 := time.Now()
			os.Remove(flag)
			waitFor(t, 10*time.Second, "the VIP on the backup", func() bool { return l.hasVIP(backupNode, testVIP) })
			if l.hasVIP(masterNode, testVIP) {
				t.Error("the VIP stayed on the old master")
			}
			time.Sleep(500 * time.Millisecond)
			t1 := time.Now()
			os.WriteFile(flag, nil, 0o644)
			waitFor(t, 15*time.Second, "the VIP back on the master", func() bool {
				return l.hasVIP(masterNode, testVIP) && !l.hasVIP(backupNode, testVIP)
			})
			time.Sleep(300 * time.Millisecond)
			pcap := stopCap()
			evs := readCapture(t, pcap)
			from, to := l.addrs[masterNode], l.addrs[backupNode]
			took, ok := firstAdvert(evs, to, 51, t0)
			if !ok {
				t.Fatal("no advert of the new master on the wire")
			}
			back, ok := firstAdvert(evs, from, 51, t1)
			if !ok {
				t.Fatal("no advert of the old master after the script recovered")
			}
			bcfg := RouterConfig{Priority: uint8(backup), Version: 2, AdvertInterval: time.Second, VIPs: []netip.Prefix{netip.MustParsePrefix("192.168.33.100/24")}}
			skew, mdi := timersFor(bcfg)
			mcfg := bcfg
			mcfg.Priority = uint8(master)
			_, mdiBack := timersFor(mcfg)
			limit := time.Second + skew + 250*time.Millisecond // the script's interval, Skew_Time, slack
			if c.weight != "" {
				limit = time.Second + mdi + 250*time.Millisecond
			}
			if d := took.Sub(t0); d > limit {
				t.Errorf("takeover %v after the script began to fail; want at most %v", d, limit)
			}
			if d := back.Sub(t1); d > time.Second+mdiBack+250*time.Millisecond {
				t.Errorf("the master came back %v after the script recovered; want at most %v", d, time.Second+mdiBack+250*time.Millisecond)
			}
			t.Logf("MEASURE track_script %s: takeover %.1f ms after the script began to fail (limit %v), back %.1f ms after it recovered",
				c.name, ms64(took.Sub(t0)), limit, ms64(back.Sub(t1)))
			a := analyzeCapture(t, pcap)
			if len(a.Failovers) != 2 {
				t.Fatalf("analyzer: %d failovers; want 2 (away and back)", len(a.Failovers))
			}
			f := a.Failovers[0]
			if f.From.IP != from.String() || f.To.IP != to.String() {
				t.Errorf("analyzer: first failover %s -> %s", f.From.IP, f.To.IP)
			}
			want := "resign"
			if c.weight != "" {
				want = "preempt"
			}
			if f.Cause != want {
				t.Errorf("analyzer: cause %q; want %q", f.Cause, want)
			}
			if c.oursMaster {
				st := o.router("VI_1")
				if st.State != "MASTER" || st.BecomeMaster != 2 {
					t.Errorf("ours: %s, became master %d times", st.State, st.BecomeMaster)
				}
			}
		})
	}
}

// trackLink makes an interface to track in node: a veth (this kernel may
// have no dummy interfaces) with both ends up; setting name down takes its
// carrier away.
func (l *testLab) trackLink(node, name string) {
	l.t.Helper()
	l.run(node, "ip", "link", "add", name, "type", "veth", "peer", "name", name+"p")
	l.run(node, "ip", "link", "set", name+"p", "up")
	l.run(node, "ip", "link", "set", name, "up")
}

// TestInteropTrackInterface: a tracked interface without weight going down
// is a FAULT (priority 0, keepalived takes over after Skew_Time); with a
// weight it lowers the priority.
func TestInteropTrackInterface(t *testing.T) {
	l := newLab(t, "ka", "vd", "c")
	l.trackLink("vd", "dum0")
	l.trackLink("vd", "dum1")
	oursI := kaInst{name: "VI_1", vrid: 51, prio: 150, version: 3, advert: "0.1",
		body: "track_interface {\n    dum0\n    dum1 weight -20\n}", vips: []string{"192.168.33.100/24"}}
	kaI := kaInst{name: "VI_1", vrid: 51, prio: 100, version: 3, advert: "0.1", vips: []string{"192.168.33.100/24"}}
	stopCap := l.capture("c")
	o := l.ours("vd", globalDefs("vd", "")+oursI.String())
	_, kaLog := l.keepalived("ka", globalDefs("ka", "")+kaI.String())
	waitFor(t, 10*time.Second, "ours master", func() bool { return l.hasVIP("vd", testVIP) && kaEntered(kaLog, 0, "VI_1", "BACKUP") })
	l.run("vd", "ip", "link", "set", "dum1", "down")
	waitFor(t, 5*time.Second, "priority 130", func() bool { return o.router("VI_1").EffectivePriority == 130 })
	if st := o.router("VI_1"); st.State != "MASTER" {
		t.Errorf("ours %s after a weighted interface went down; want MASTER at 130", st.State)
	}
	t0 := time.Now()
	l.run("vd", "ip", "link", "set", "dum0", "down")
	waitFor(t, 5*time.Second, "keepalived master", func() bool { return l.hasVIP("ka", testVIP) && !l.hasVIP("vd", testVIP) })
	if st := o.router("VI_1"); st.State != "FAULT" {
		t.Errorf("ours %s; want FAULT", st.State)
	}
	l.run("vd", "ip", "link", "set", "dum0", "up")
	l.run("vd", "ip", "link", "set", "dum1", "up")
	waitFor(t, 5*time.Second, "ours master again", func() bool { return l.hasVIP("vd", testVIP) && !l.hasVIP("ka", testVIP) })
	evs := readCapture(t, stopCap())
	took, ok := firstAdvert(evs, l.addrs["ka"], 51, t0)
	skew, _ := timersFor(RouterConfig{Priority: 100, Version: 3, AdvertInterval: 100 * time.Millisecond, VIPs: []netip.Prefix{netip.MustParsePrefix("192.168.33.100/24")}})
	if !ok || took.Sub(t0) > skew+100*time.Millisecond {
		t.Errorf("keepalived's first advert %v after the interface went down; want about Skew_Time %v", took.Sub(t0), skew)
	}
	var sawZero bool
	for _, e := range evs {
		sawZero = sawZero || (!e.garp && e.src == l.addrs["vd"] && e.prio == 0 && e.t.After(t0))
	}
	if !sawZero {
		t.Error("no priority-0 advert from ours when the tracked interface went down")
	}
	t.Logf("MEASURE track_interface: keepalived took over %.1f ms after the interface went down (Skew_Time %v)", ms64(took.Sub(t0)), skew)
}

// TestInteropSyncGroup: two instances in a vrrp_sync_group on both
// routers; the tracked interface of one of them failing moves both VIPs
// together, whichever router holds them.
func TestInteropSyncGroup(t *testing.T) {
	vip2 := netip.MustParseAddr("192.168.33.200")
	for _, oursMaster := range []bool{true, false} {
		name := map[bool]string{true: "vrrpd-master", false: "keepalived-master"}[oursMaster]
		t.Run(name, func(t *testing.T) {
			l := newLab(t, "ka", "vd", "c")
			masterNode, backupNode := "ka", "vd"
			if oursMaster {
				masterNode, backupNode = "vd", "ka"
			}
			l.trackLink(masterNode, "dum0")
			notes := filepath.Join(l.dir, "group-notes")
			conf := func(node string, prio int) string {
				track := ""
				if node == masterNode {
					track = "track_interface {\n    dum0\n}"
				}
				group := "vrrp_sync_group G {\n    group {\n        OUTSIDE\n        INSIDE\n    }\n"
				if node == "vd" {
					group += fmt.Sprintf("    notify \"/bin/sh -c 'echo $* >> %s' notify\"\n", notes)
				}
				group += "}\n"
				return globalDefs(node, "") + group +
					kaInst{name: "OUTSIDE", vrid: 51, prio: prio, version: 3, advert: "0.1", body: track, vips: []string{"192.168.33.100/24"}}.String() +
					kaInst{name: "INSIDE", vrid: 52, prio: prio, version: 3, advert: "0.1", vips: []string{"192.168.33.200/24"}}.String()
			}
			oursPrio, kaPrio := 100, 150
			if oursMaster {
				oursPrio, kaPrio = 150, 100
			}
			stopCap := l.capture("c")
			o := l.ours("vd", conf("vd", oursPrio))
			_, kaLog := l.keepalived("ka", conf("ka", kaPrio))
			waitFor(t, 15*time.Second, "both VIPs on the master", func() bool {
				return l.hasVIP(masterNode, testVIP) && l.hasVIP(masterNode, vip2) && !l.hasVIP(backupNode, testVIP) && !l.hasVIP(backupNode, vip2)
			})
			time.Sleep(500 * time.Millisecond)
			t0 := time.Now()
			l.run(masterNode, "ip", "link", "set", "dum0", "down")
			waitFor(t, 5*time.Second, "both VIPs on the backup", func() bool {
				return l.hasVIP(backupNode, testVIP) && l.hasVIP(backupNode, vip2) && !l.hasVIP(masterNode, testVIP) && !l.hasVIP(masterNode, vip2)
			})
			time.Sleep(300 * time.Millisecond)
			t1 := time.Now()
			l.run(masterNode, "ip", "link", "set", "dum0", "up")
			waitFor(t, 10*time.Second, "both VIPs back", func() bool {
				return l.hasVIP(masterNode, testVIP) && l.hasVIP(masterNode, vip2) && !l.hasVIP(backupNode, testVIP) && !l.hasVIP(backupNode, vip2)
			})
			time.Sleep(300 * time.Millisecond)
			evs := readCapture(t, stopCap())
			a51, ok1 := firstAdvert(evs, l.addrs[backupNode], 51, t0)
			a52, ok2 := firstAdvert(evs, l.addrs[backupNode], 52, t0)
			if !ok1 || !ok2 {
				t.Fatal("the backup did not advertise both VRIDs")
			}
			if d := a51.Sub(a52).Abs(); d > 50*time.Millisecond {
				t.Errorf("the two VRIDs moved %v apart; want together", d)
			}
			b51, _ := firstAdvert(evs, l.addrs[masterNode], 51, t1)
			b52, _ := firstAdvert(evs, l.addrs[masterNode], 52, t1)
			if d := b51.Sub(b52).Abs(); d > 50*time.Millisecond {
				t.Errorf("the two VRIDs came back %v apart; want together", d)
			}
			t.Logf("MEASURE sync group %s: VRID 51 %.1f ms, VRID 52 %.1f ms after the tracked interface went down",
				name, ms64(a51.Sub(t0)), ms64(a52.Sub(t0)))
			if !oursMaster {
				return
			}
			for _, n := range []string{"OUTSIDE", "INSIDE"} {
				if st := o.router(n); st.BecomeMaster != 2 {
					t.Errorf("ours %s became master %d times; want 2", n, st.BecomeMaster)
				}
			}
			waitFor(t, 5*time.Second, "the group's notify script", func() bool {
				data, _ := os.ReadFile(notes)
				return strings.Count(string(data), "\n") >= 5
			})
			// Backup at start, master, FAULT with the member, backup when
			// it recovers, master again when the group preempts.
			data, _ := os.ReadFile(notes)
			want := "GROUP G BACKUP\nGROUP G MASTER\nGROUP G FAULT\nGROUP G BACKUP\nGROUP G MASTER\n"
			if string(data) != want {
				t.Errorf("group notify:\n%s\nwant:\n%s", data, want)
			}
			_ = kaLog
		})
	}
}

// TestInteropReload: SIGHUP with a configuration that adds a VIP and an
// instance causes no transition and no missed advert of the running
// instance (the analyzer finds no failover and no gap on the capture), and
// keepalived stays backup; a configuration that does not parse, or that
// the speaker would refuse, is refused and the running one kept; an
// instance removed resigns with priority 0.
func TestInteropReload(t *testing.T) {
	l := newLab(t, "ka", "vd", "c")
	vip2, vip3 := netip.MustParseAddr("192.168.33.150"), netip.MustParseAddr("192.168.33.200")
	g := globalDefs("vd", "vrrp_skip_check_adv_addr")
	vi1 := kaInst{name: "VI_1", vrid: 51, prio: 150, version: 3, advert: "0.1", vips: []string{"192.168.33.100/24"}}
	vi2 := kaInst{name: "VI_2", vrid: 52, prio: 150, version: 3, advert: "0.1", vips: []string{"192.168.33.200/24"}}
	stopCap := l.capture("c")
	o := l.ours("vd", g+vi1.String())
	_, kaLog := l.keepalived("ka", globalDefs("ka", "vrrp_skip_check_adv_addr")+
		kaInst{name: "VI_1", vrid: 51, prio: 100, version: 3, advert: "0.1", vips: []string{"192.168.33.100/24"}}.String())
	waitFor(t, 10*time.Second, "ours master, keepalived backup", func() bool {
		return l.hasVIP("vd", testVIP) && kaEntered(kaLog, 0, "VI_1", "BACKUP")
	})
	time.Sleep(time.Second)
	kaMark := len(kaLog.String())
	before := o.router("VI_1")
	t0 := time.Now()
	added := vi1
	added.vips = append(added.vips, "192.168.33.150/24")
	o.reload(g + added.String() + vi2.String())
	waitFor(t, 5*time.Second, "the new VIP", func() bool { return l.hasVIP("vd", vip2) })
	t1 := time.Now()
	waitFor(t, 5*time.Second, "the new instance master", func() bool { return l.hasVIP("vd", vip3) })
	time.Sleep(time.Second)

	// Refused: one that does not parse, one with a refused keyword.
	for _, bad := range []string{g + "vrrp_instance VI_1 {\n    interface eth1\n    virtual_router_id 300\n}\n",
		globalDefs("vd", "vrrp_strict") + added.String() + vi2.String()} {
		o.reload(bad)
		waitFor(t, 5*time.Second, "the reload refused", func() bool {
			return strings.Count(o.out.String(), "reload refused") >= 1+strings.Count(bad, "vrrp_strict")
		})
	}
	if !l.hasVIP("vd", vip2) || !l.hasVIP("vd", vip3) || o.proc.Exited() {
		t.Fatal("a refused reload changed the running configuration")
	}
	// VI_2 removed: it resigns.
	t2 := time.Now()
	o.reload(g + added.String())
	waitFor(t, 5*time.Second, "VI_2 gone", func() bool { return !l.hasVIP("vd", vip3) })
	time.Sleep(500 * time.Millisecond)
	t3 := time.Now()
	pcap := stopCap()

	after := o.router("VI_1")
	if after.BecomeMaster != before.BecomeMaster || after.State != "MASTER" || !after.Since.Equal(before.Since) {
		t.Errorf("VI_1 changed across the reloads: before %s since %v (%d), after %s since %v (%d)",
			before.State, before.Since, before.BecomeMaster, after.State, after.Since, after.BecomeMaster)
	}
	if strings.Contains(kaLog.String()[kaMark:], "Entering") {
		t.Errorf("keepalived changed state during the reloads:\n%s", kaLog.String()[kaMark:])
	}
	evs := readCapture(t, pcap)
	gap, n := maxAdvertGap(evs, l.addrs["vd"], 51, t0.Add(-500*time.Millisecond), t3)
	if gap > 150*time.Millisecond || n < 15 {
		t.Errorf("VI_1's adverts around the reloads: %d, longest gap %v; want none missed (interval 100 ms)", n, gap)
	}
	t.Logf("MEASURE reload: VI_1 sent %d adverts from 0.5 s before the first reload to the end, longest gap %.1f ms (interval 100 ms); new VIP up %.1f ms after SIGHUP",
		n, ms64(gap), ms64(t1.Sub(t0)))
	var garpNew, zero52 bool
	for _, e := range evs {
		garpNew = garpNew || (e.garp && e.src == vip2 && e.t.After(t0))
		zero52 = zero52 || (!e.garp && e.vrid == 52 && e.prio == 0 && e.t.After(t2))
	}
	if !garpNew {
		t.Error("no GARP for the VIP the reload added")
	}
	if !zero52 {
		t.Error("the removed instance sent no priority-0 advert")
	}
	a := analyzeCapture(t, pcap)
	for _, f := range a.Failovers {
		t.Errorf("analyzer: failover %s -> %s of VRID %d during the reloads", f.From.IP, f.To.IP, f.VRID)
	}
	for _, f := range a.Findings {
		if f.Code == "advert-gap" || f.Code == "split-brain" || f.Code == "flapping" {
			t.Errorf("analyzer: %s: %s", f.Code, f.Summary)
		}
	}
}

// TestInteropMcastGroup: vrrp_mcast_group4 is honoured: with keepalived on
// the same group the two hear each other (one master, adverts to
// 224.0.0.19, ours from its mcast_src_ip) and a stop moves the VIP after
// Skew_Time.
func TestInteropMcastGroup(t *testing.T) {
	l := newLab(t, "ka", "vd", "c")
	group := netip.MustParseAddr("224.0.0.19")
	g := func(id string) string { return globalDefs(id, "vrrp_mcast_group4 224.0.0.19") }
	// The adverts' source: mcast_src_ip, a second address of eth1.
	src := netip.MustParseAddr("192.168.33.120")
	l.run("vd", "ip", "addr", "add", "192.168.33.120/24", "dev", "eth1")
	stopCap := l.capture("c")
	o := l.ours("vd", g("vd")+kaInst{name: "VI_1", vrid: 51, prio: 150, version: 3, advert: "0.1",
		body: "mcast_src_ip 192.168.33.120", vips: []string{"192.168.33.100/24"}}.String())
	_, kaLog := l.keepalived("ka", g("ka")+kaInst{name: "VI_1", vrid: 51, prio: 100, version: 3, advert: "0.1", vips: []string{"192.168.33.100/24"}}.String())
	waitFor(t, 10*time.Second, "ours master, keepalived backup", func() bool {
		return l.hasVIP("vd", testVIP) && kaEntered(kaLog, 0, "VI_1", "BACKUP")
	})
	time.Sleep(time.Second)
	if kaEntered(kaLog, 0, "VI_1", "MASTER") || l.hasVIP("ka", testVIP) {
		t.Fatal("keepalived became master: the two do not hear each other on 224.0.0.19")
	}
	if st := o.router("VI_1"); st.AdvertsReceived != 0 && st.State != "MASTER" {
		t.Errorf("ours: %+v", st)
	}
	t0 := time.Now()
	o.proc.Signal(syscall.SIGTERM)
	waitFor(t, 5*time.Second, "keepalived master", func() bool { return l.hasVIP("ka", testVIP) })
	time.Sleep(300 * time.Millisecond)
	evs := readCapture(t, stopCap())
	n := 0
	ourN := 0
	for _, e := range evs {
		if !e.garp {
			n++
			if e.dst != group {
				t.Errorf("advert from %s to %s; want %s", e.src, e.dst, group)
				break
			}
			if e.src == src {
				ourN++
			} else if e.src != l.addrs["ka"] {
				t.Errorf("advert from %s; want ours from the mcast_src_ip %s", e.src, src)
				break
			}
		}
	}
	if ourN == 0 {
		t.Errorf("no advert from the mcast_src_ip %s", src)
	}
	took, ok := firstAdvert(evs, l.addrs["ka"], 51, t0)
	if n == 0 || !ok {
		t.Fatalf("%d adverts; keepalived's after the stop: %v", n, ok)
	}
	t.Logf("MEASURE mcast group 224.0.0.19: keepalived took over %.1f ms after SIGTERM", ms64(took.Sub(t0)))
}

// TestInteropUnicastTTL: unicast adverts leave with unicast_ttl and are
// taken from a peer whatever their TTL, both ways with keepalived.
func TestInteropUnicastTTL(t *testing.T) {
	l := newLab(t, "ka", "vd")
	ka, vd := l.addrs["ka"], l.addrs["vd"]
	uni := func(src, peer netip.Addr, ttl int) string {
		return fmt.Sprintf("unicast_src_ip %s\nunicast_peer {\n%s\n}\nunicast_ttl %d", src, peer, ttl)
	}
	stopCap := l.capture("vd")
	o := l.ours("vd", globalDefs("vd", "")+kaInst{name: "VI_1", vrid: 51, prio: 100, version: 3, advert: "0.1",
		body: uni(vd, ka, 64), vips: []string{"192.168.33.100/24"}}.String())
	kaProc, kaLog := l.keepalived("ka", globalDefs("ka", "")+kaInst{name: "VI_1", vrid: 51, prio: 150, version: 3, advert: "0.1",
		body: uni(ka, vd, 10), vips: []string{"192.168.33.100/24"}}.String())
	waitFor(t, 10*time.Second, "keepalived master, ours backup under it", func() bool {
		st := o.router("VI_1")
		return kaEntered(kaLog, 0, "VI_1", "MASTER") && st.State == "BACKUP" && st.Master == ka.String()
	})
	time.Sleep(time.Second)
	st := o.router("VI_1")
	if st.State != "BACKUP" || st.Discards["ttl"] != 0 || st.AdvertsReceived < 5 {
		t.Errorf("ours under keepalived's TTL-10 adverts: %s, %d received, discards %v", st.State, st.AdvertsReceived, st.Discards)
	}
	stopProcess(t, kaProc)
	waitFor(t, 5*time.Second, "ours master", func() bool { return l.hasVIP("vd", testVIP) })
	time.Sleep(300 * time.Millisecond)
	evs := readCapture(t, stopCap())
	var kaTTL, ourTTL []uint8
	for _, e := range evs {
		if e.garp {
			continue
		}
		switch e.src {
		case ka:
			kaTTL = append(kaTTL, e.ttl)
		case vd:
			ourTTL = append(ourTTL, e.ttl)
			if e.dst != ka {
				t.Errorf("our advert to %s; want unicast to %s", e.dst, ka)
			}
		}
	}
	if len(kaTTL) == 0 || kaTTL[0] != 10 || len(ourTTL) == 0 || ourTTL[len(ourTTL)-1] != 64 {
		t.Errorf("TTLs: keepalived %v, ours %v; want 10 and 64", kaTTL[:min(3, len(kaTTL))], ourTTL[:min(3, len(ourTTL))])
	}
}

// TestInteropNotify: the notify scripts run in the order of the state
// changes with keepalived's arguments, as keepalived's own do in the same
// configuration.
func TestInteropNotify(t *testing.T) {
	l := newLab(t, "ka", "vd")
	notify := func(node string) string {
		f := filepath.Join(l.dir, node+"-notes")
		return fmt.Sprintf("notify \"/bin/sh -c 'echo $* >> %s' notify\"\nnotify_master \"/bin/sh -c 'echo master >> %s'\"\nnotify_backup \"/bin/sh -c 'echo backup >> %s'\"\nnotify_stop \"/bin/sh -c 'echo stop >> %s'\"",
			f, f, f, f)
	}
	read := func(node string) []string {
		data, _ := os.ReadFile(filepath.Join(l.dir, node+"-notes"))
		return strings.Split(strings.TrimSpace(string(data)), "\n")
	}
	kaConf := globalDefs("ka", "") + kaInst{name: "VI_1", vrid: 51, prio: 150, version: 3, advert: "0.1",
		body: notify("ka"), vips: []string{"192.168.33.100/24"}}.String()
	kaProc, _ := l.keepalived("ka", kaConf)
	waitFor(t, 10*time.Second, "keepalived master", func() bool { return l.hasVIP("ka", testVIP) })
	o := l.ours("vd", globalDefs("vd", "")+kaInst{name: "VI_1", vrid: 51, prio: 100, version: 3, advert: "0.1",
		body: notify("vd"), vips: []string{"192.168.33.100/24"}}.String())
	waitFor(t, 5*time.Second, "ours backup", func() bool { return o.router("VI_1").State == "BACKUP" })
	time.Sleep(300 * time.Millisecond)
	stopProcess(t, kaProc)
	waitFor(t, 5*time.Second, "ours master", func() bool { return l.hasVIP("vd", testVIP) })
	kaProc, _ = l.keepalived("ka", kaConf)
	waitFor(t, 10*time.Second, "keepalived master again", func() bool { return l.hasVIP("ka", testVIP) && !l.hasVIP("vd", testVIP) })
	o.proc.Signal(syscall.SIGTERM)
	if code := o.wait(t, 10*time.Second); code != 0 {
		t.Errorf("exit status %d", code)
	}
	want := []string{"backup", "INSTANCE VI_1 BACKUP 100", "master", "INSTANCE VI_1 MASTER 100",
		"backup", "INSTANCE VI_1 BACKUP 100", "stop", "INSTANCE VI_1 STOP 100"}
	got := read("vd")
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("our notify scripts ran:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	stopProcess(t, kaProc)
	// keepalived's own, for the arguments' shape: the first run (backup
	// then master, priority 150) and its stop.
	kaGot := read("ka")
	for _, line := range kaGot {
		if f := strings.Fields(line); len(f) != 1 && (len(f) != 4 || f[0] != "INSTANCE" || f[1] != "VI_1" || f[3] != "150") {
			t.Errorf("keepalived's notify line %q differs in shape from ours", line)
		}
	}
	if !strings.Contains(strings.Join(kaGot, "|"), "stop|INSTANCE VI_1 STOP 150") {
		t.Logf("keepalived's notify lines: %q", kaGot)
	}
}

// TestBinarySignals: SIGQUIT stops the speaker like SIGTERM, removing the
// VIP, the macvlan and the ARP settings it changed; SIGHUP without -f
// changes nothing.
func TestBinarySignals(t *testing.T) {
	l := newLab(t, "a", "c")
	o := l.ours("a", globalDefs("a", "")+kaInst{name: "VI_1", vrid: 51, prio: 200, version: 3, advert: "0.1",
		body: "use_vmac", vips: []string{"192.168.33.100/24"}}.String())
	waitFor(t, 5*time.Second, "the VIP on the macvlan", func() bool {
		return strings.Contains(l.addrOn("a", "vrrp.51"), " 192.168.33.100/")
	})
	o.proc.Signal(syscall.SIGQUIT)
	if code := o.wait(t, 10*time.Second); code != 0 {
		t.Errorf("exit status %d after SIGQUIT; want 0\n%s", code, o.out.String())
	}
	if _, ok := l.linkShow("a", "vrrp.51"); ok {
		t.Error("macvlan left behind after SIGQUIT")
	}
	if got := l.run("a", "cat", "/proc/sys/net/ipv4/conf/eth1/arp_ignore", "/proc/sys/net/ipv4/conf/eth1/arp_announce"); got != "0\n0\n" {
		t.Errorf("arp_ignore, arp_announce = %q after SIGQUIT; want 0, 0", got)
	}

	p := l.startBinary("a", "speaker", "--interface", "eth1", "--vrid", "51", "--vip", "192.168.33.100/24", "--listen", "")
	waitFor(t, 10*time.Second, "the VIP", func() bool { return l.hasVIP("a", testVIP) })
	p.proc.Signal(syscall.SIGHUP)
	waitFor(t, 5*time.Second, "the SIGHUP noted", func() bool { return strings.Contains(p.out.String(), "nothing reloaded") })
	if p.proc.Exited() || !l.hasVIP("a", testVIP) {
		t.Fatal("SIGHUP stopped the speaker")
	}
	p.proc.Signal(syscall.SIGINT)
	if code := p.wait(t, 10*time.Second); code != 0 || l.hasVIP("a", testVIP) {
		t.Errorf("SIGINT: exit %d, VIP left %v", code, l.hasVIP("a", testVIP))
	}
}

// enableIPv6 turns IPv6 on for node's eth1 (the lab has it off) and waits
// for its link-local address to leave duplicate address detection.
func (l *testLab) enableIPv6(node string) netip.Addr {
	l.t.Helper()
	h := l.lab.Host(node)
	for _, key := range []string{"net/ipv6/conf/eth1/accept_dad", "net/ipv6/conf/eth1/disable_ipv6"} {
		val := "0"
		if err := l.lab.Sysctl(h, key, val); err != nil {
			l.t.Fatal(err)
		}
	}
	var ll netip.Addr
	waitFor(l.t, 5*time.Second, node+"'s IPv6 link-local address", func() bool {
		for _, line := range strings.Split(l.run(node, "ip", "-6", "-o", "addr", "show", "dev", "eth1", "scope", "link"), "\n") {
			f := strings.Fields(line)
			for i, w := range f {
				if w == "inet6" && i+1 < len(f) && !strings.Contains(line, "tentative") {
					ll = netip.MustParsePrefix(f[i+1]).Addr()
					return true
				}
			}
		}
		return false
	})
	return ll
}

// TestInteropIPv6: VRRPv3 over IPv6 against keepalived, both ways, stop
// and link down: the backup takes over in the RFC's time, the analyzer
// agrees, and our unsolicited neighbour advertisements carry the Router
// flag.
func TestInteropIPv6(t *testing.T) {
	vip6 := netip.MustParseAddr("2001:db8::51")
	for _, c := range []struct {
		oursMaster, kill bool
	}{{true, false}, {true, true}, {false, false}, {false, true}} {
		name := map[bool]string{true: "vrrpd-master", false: "keepalived-master"}[c.oursMaster] + "/" + map[bool]string{false: "stop", true: "link-down"}[c.kill]
		t.Run(name, func(t *testing.T) {
			l := newLab(t, "ka", "vd", "c")
			ll := map[string]netip.Addr{"ka": l.enableIPv6("ka"), "vd": l.enableIPv6("vd")}
			inst := func(prio int) string {
				return kaInst{name: "VI_6", vrid: 51, prio: prio, version: 3, advert: "0.1",
					vips: []string{"fe80::51/64", "2001:db8::51/64"}}.String()
			}
			oursPrio, kaPrio := 100, 150
			masterNode, backupNode := "ka", "vd"
			if c.oursMaster {
				oursPrio, kaPrio = 150, 100
				masterNode, backupNode = "vd", "ka"
			}
			stopCap := l.captureFilter("c", "ip6")
			kaProc, kaLog := l.keepalived("ka", globalDefs("ka", "")+inst(kaPrio))
			o := l.ours("vd", globalDefs("vd", "")+inst(oursPrio))
			waitFor(t, 15*time.Second, "the master with the VIP, the backup without", func() bool {
				return l.hasVIP(masterNode, vip6) && !l.hasVIP(backupNode, vip6) &&
					kaEntered(kaLog, 0, "VI_6", map[bool]string{true: "BACKUP", false: "MASTER"}[c.oursMaster])
			})
			if st := o.router("VI_6"); st.Primary != ll["vd"].String() || st.Version != 3 {
				t.Errorf("ours: source %s version %d; want the link-local %s, 3", st.Primary, st.Version, ll["vd"])
			}
			time.Sleep(time.Second)
			t0 := time.Now()
			switch {
			case c.kill:
				l.linkDown(masterNode)
			case c.oursMaster:
				o.proc.Signal(syscall.SIGTERM)
			default:
				stopProcess(t, kaProc)
			}
			waitFor(t, 5*time.Second, "the backup with the VIP", func() bool { return l.hasVIP(backupNode, vip6) })
			time.Sleep(500 * time.Millisecond)
			pcap := stopCap()
			evs := readCapture(t, pcap)
			took, ok := firstAdvert(evs, ll[backupNode], 51, t0)
			if !ok {
				t.Fatal("no advert of the new master")
			}
			var nas, routerNAs int
			for _, e := range evs {
				if e.garp && e.src == vip6 && e.mac == l.macs["vd"] {
					nas++
					if e.router {
						routerNAs++
					}
				}
			}
			if nas == 0 || routerNAs != nas {
				t.Errorf("our unsolicited NAs for %s: %d, %d with the Router flag; want all", vip6, nas, routerNAs)
			}
			bcfg := RouterConfig{Priority: 100, Version: 3, AdvertInterval: 100 * time.Millisecond, VIPs: []netip.Prefix{netip.MustParsePrefix("192.168.33.100/24")}}
			skew, mdi := timersFor(bcfg)
			want := skew
			if c.kill {
				want = mdi
			}
			// After a stop, from the signal (the priority-0 advert follows
			// it); after a link down the analyzer times it from the last
			// advert.
			d := took.Sub(t0)
			if !c.kill && (d < skew-5*time.Millisecond || d > skew+150*time.Millisecond) {
				t.Errorf("takeover %v after the stop; want about Skew_Time %v", d, skew)
			}
			a := analyzeCapture(t, pcap)
			f := onlyFailover(t, a, ll[masterNode], ll[backupNode])
			assertTakeover(t, f, !c.kill, skew, mdi)
			t.Logf("MEASURE IPv6 %s: first advert of the new master %.1f ms after the action (RFC %v), analyzer (from the last advert) %.1f ms, %d NAs from ours with the Router flag", name, ms64(d), want, f.DetectMS, routerNAs)
		})
	}
}

// TestSpeakerTrackingReload runs the speaker in this process (so that the
// race detector sees it): two routers in a sync group, one tracking a
// script; the script failing puts both in FAULT, a reload that changes the
// script's weight and adds a VIP applies without a transition of the
// other router.
func TestSpeakerTrackingReload(t *testing.T) {
	l := newLab(t, "a")
	flag := filepath.Join(l.dir, "ok")
	os.WriteFile(flag, nil, 0o644)
	r1 := labRouter(3, 150, 100*time.Millisecond, "")
	r1.Name, r1.Interface, r1.SyncGroup = "R1", "eth1", "G"
	r1.TrackScripts = []Track{{Name: "chk"}}
	r2 := labRouter(3, 150, 100*time.Millisecond, "")
	r2.Name, r2.Interface, r2.VRID, r2.SyncGroup = "R2", "eth1", 52, "G"
	r2.VIPs = []netip.Prefix{netip.MustParsePrefix("192.168.33.200/24")}
	opts := Options{Routers: []RouterConfig{r1, r2},
		Scripts:    []ScriptConfig{{Name: "chk", Command: "/usr/bin/test -e " + flag, Interval: 100 * time.Millisecond, Timeout: time.Second, Rise: 1, Fall: 1}},
		SyncGroups: []SyncGroupConfig{{Name: "G", Members: []string{"R1", "R2"}}},
		NetNS:      l.nsPath("a"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	sp, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sp.Run(ctx) }()
	stopped := false
	defer func() {
		cancel()
		if !stopped {
			if err := <-done; err != nil {
				t.Error(err)
			}
		}
	}()
	select {
	case <-sp.Ready():
	case err := <-done:
		stopped = true
		t.Fatalf("Run: %v", err)
	}
	state := func(name string) RouterStatus {
		for _, r := range sp.Status().Routers {
			if r.Name == name {
				return r
			}
		}
		t.Fatalf("no router %s", name)
		return RouterStatus{}
	}
	waitFor(t, 5*time.Second, "both master", func() bool { return state("R1").State == "MASTER" && state("R2").State == "MASTER" })
	os.Remove(flag)
	waitFor(t, 5*time.Second, "both in FAULT", func() bool { return state("R1").State == "FAULT" && state("R2").State == "FAULT" })
	os.WriteFile(flag, nil, 0o644)
	waitFor(t, 5*time.Second, "both master again", func() bool { return state("R1").State == "MASTER" && state("R2").State == "MASTER" })
	before := state("R2")
	r2.VIPs = append(r2.VIPs, netip.MustParsePrefix("192.168.33.201/24"))
	opts.Routers = []RouterConfig{r1, r2}
	opts.Scripts[0].Weight = -10
	opts.Routers[0].TrackScripts = []Track{{Name: "chk"}}
	if err := sp.Reload(opts); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the new VIP", func() bool { return l.hasVIP("a", netip.MustParseAddr("192.168.33.201")) })
	if after := state("R2"); after.BecomeMaster != before.BecomeMaster || !after.Since.Equal(before.Since) {
		t.Errorf("R2 changed state in the reload")
	}
	os.Remove(flag)
	waitFor(t, 5*time.Second, "R1 at priority 140, still master", func() bool {
		r := state("R1")
		return r.EffectivePriority == 140 && r.State == "MASTER"
	})
	bad := opts
	bad.Routers = []RouterConfig{r1, r1}
	if err := sp.Reload(bad); err == nil {
		t.Error("a reload with two routers of one VRID was accepted")
	}
}
