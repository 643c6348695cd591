package kaconf

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func mustParse(t *testing.T, text string) *Config {
	t.Helper()
	c, err := Parse("t.conf", strings.NewReader(text))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

func warnings(c *Config) []string {
	var out []string
	for _, w := range c.Warnings {
		out = append(out, w.String())
	}
	return out
}

// inst wraps instance keywords in a valid instance.
func inst(body string) string {
	return "vrrp_instance VI_1 {\n interface eth1\n virtual_router_id 51\n" + body +
		"\n virtual_ipaddress {\n  192.168.33.100/24\n }\n}\n"
}

func TestReadmeConfigs(t *testing.T) {
	for _, tc := range []struct {
		file, router, state string
		prio                int
	}{
		{"testdata/nat1.conf", "nat1", "MASTER", 100},
		{"testdata/nat2.conf", "nat2", "BACKUP", 10},
	} {
		c, err := ParseFile(tc.file)
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		if len(c.Warnings) != 0 {
			t.Errorf("%s: warnings %v", tc.file, warnings(c))
		}
		if c.Global.RouterID != tc.router || !c.Global.SkipCheckAdvAddr {
			t.Errorf("%s: global %+v", tc.file, c.Global)
		}
		in := c.Instance(51, "ipv4")
		if in == nil {
			t.Fatalf("%s: no instance for VRID 51", tc.file)
		}
		want := netip.MustParsePrefix("192.168.33.100/24")
		if in.Name != "VI_1" || in.State != tc.state || in.Priority != tc.prio || in.Interface != "eth1" ||
			in.AdvertInt != time.Second || in.Version != 2 || len(in.VIPs) != 1 || in.VIPs[0].Prefix != want ||
			in.VIPs[0].Dev != "eth1" || in.VIPs[0].Line != 12 || in.Line != 5 || !in.SkipCheckAdvAddr || !in.Accept {
			t.Errorf("%s: instance %+v", tc.file, in)
		}
		if c.Instance(51, "ipv6") != nil || c.Instance(52, "ipv4") != nil {
			t.Errorf("%s: Instance found what is not there", tc.file)
		}
	}
}

func TestArticle(t *testing.T) {
	c, err := ParseFile("testdata/article.conf")
	if err != nil {
		t.Fatal(err)
	}
	in := c.Instance(51, "ipv4")
	want := GARP{MasterDelay: 5 * time.Second, MasterRepeat: 5, MasterRefresh: 6 * time.Second,
		MasterRefreshRepeat: 1, Interval: 4 * time.Second, LowerPrioDelay: 5 * time.Second, LowerPrioRepeat: 5}
	if in.AdvertInt != 5*time.Second || in.GARP != want {
		t.Errorf("advert %v garp %+v, want 5s %+v", in.AdvertInt, in.GARP, want)
	}
}

func TestIncludes(t *testing.T) {
	c, err := ParseFile("testdata/inc/main.conf")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) != 0 || c.Global.RouterID != "inc" || len(c.Instances) != 2 {
		t.Fatalf("warnings %v, router %q, %d instances", warnings(c), c.Global.RouterID, len(c.Instances))
	}
	// The glob is read in name order: 10-vi1 before 20-vi2.
	vi1, vi2 := c.Instances[0], c.Instances[1]
	if vi1.Name != "VI_1" || vi1.File != "testdata/inc/conf.d/10-vi1.conf" || vi1.Line != 1 {
		t.Errorf("first instance %s at %s:%d", vi1.Name, vi1.File, vi1.Line)
	}
	if vi2.Name != "VI_2" || vi2.File != "testdata/inc/conf.d/20-vi2.conf" {
		t.Errorf("second instance %s at %s", vi2.Name, vi2.File)
	}
	// An include inside a block, relative to the including file.
	if len(vi1.VIPs) != 2 || vi1.VIPs[1].File != "testdata/inc/vips/vi1.vips" || vi1.VIPs[1].Line != 2 {
		t.Errorf("VIPs from the included file: %+v", vi1.VIPs)
	}

	c, err = ParseFile("testdata/cycle/a.conf")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`testdata/cycle/b.conf:4: include "a.conf": testdata/cycle/a.conf includes itself; not read again`}
	if !reflect.DeepEqual(warnings(c), want) || len(c.Instances) != 1 || c.Global.RouterID != "cycle" {
		t.Errorf("cycle: warnings %q, %d instances, router %q", warnings(c), len(c.Instances), c.Global.RouterID)
	}

	c = mustParse(t, "include testdata/nothere/*.conf\n")
	if w := warnings(c); len(w) != 1 || w[0] != `t.conf:1: include "testdata/nothere/*.conf" matches no file` {
		t.Errorf("missing include: %q", w)
	}
}

func TestAllKeywords(t *testing.T) {
	c, err := ParseFile("testdata/all.conf")
	if err != nil {
		t.Fatal(err)
	}
	const f = "testdata/all.conf"
	g := c.Global
	wantGARP := GARP{MasterDelay: 3 * time.Second, MasterRepeat: 4, MasterRefresh: 30 * time.Second,
		MasterRefreshRepeat: 2, Interval: time.Millisecond, NAInterval: 2 * time.Millisecond,
		LowerPrioDelay: 7 * time.Second, LowerPrioRepeat: 8}
	if g.RouterID != "all keywords" || g.VRRPVersion != 3 || !g.SkipCheckAdvAddr || !g.Strict ||
		g.GARP != wantGARP || !g.LowerPrioNoAdvert || !g.HigherPrioSendAdvert ||
		g.MulticastGroup4 != netip.MustParseAddr("224.0.0.19") || g.MulticastGroup6 != netip.MustParseAddr("ff02::13") ||
		g.Firewall != "nftables" || !g.CheckUnicastSrc || g.ScriptUser != "nobody" || g.ScriptGroup != "nogroup" {
		t.Errorf("global %+v", g)
	}
	wantScripts := []*Script{
		{Name: "chk", File: f, Line: 24, Command: "/bin/true", Interval: time.Second, Timeout: time.Second, Rise: 1, Fall: 1},
		{Name: "chk2", File: f, Line: 27, Command: "/usr/local/bin/check haproxy", Interval: 2 * time.Second,
			Timeout: 500 * time.Millisecond, Weight: -20, Reverse: true, Rise: 3, Fall: 2, User: "daemon", Group: "daemon", InitFail: true},
	}
	if !reflect.DeepEqual(c.Scripts, wantScripts) {
		t.Errorf("scripts\n got %+v\nwant %+v", c.Scripts, wantScripts)
	}
	wantFiles := []*TrackFile{{Name: "tf", File: f, Line: 37, Path: "/run/vip.state", Weight: -3, Init: true, InitValue: 5, InitOverwrite: true}}
	if !reflect.DeepEqual(c.TrackFiles, wantFiles) {
		t.Errorf("track files\n got %+v\nwant %+v", c.TrackFiles, wantFiles)
	}
	wantGroup := SyncGroup{Name: "G1", File: f, Line: 112, Members: []string{"VI_1", "VI_6"},
		Notify:          Notify{Master: "/etc/keepalived/group.sh master", Any: "/etc/keepalived/group-any.sh"},
		TrackInterfaces: []TrackRef{{Name: "eth5", File: f, Line: 119}}, TrackingWeight: true}
	if len(c.SyncGroups) != 1 || !reflect.DeepEqual(c.SyncGroups[0], wantGroup) {
		t.Errorf("sync groups\n got %+v\nwant %+v", c.SyncGroups, wantGroup)
	}

	in := c.Instance(51, "ipv4")
	if in == nil {
		t.Fatal("no VI_1")
	}
	want := &Instance{
		Name: "VI_1", File: f, Line: 42, State: "BACKUP", Interface: "eth1", VRID: 51,
		Priority: 150, AdvertInt: 250 * time.Millisecond, Version: 3, NoPreempt: true,
		PreemptDelay: 2500 * time.Millisecond,
		VIPs: []VIP{
			{Prefix: netip.MustParsePrefix("192.168.33.100/24"), Broadcast: netip.MustParseAddr("192.168.33.255"),
				Dev: "eth2", Label: "eth2:vip", Scope: "global", File: f, Line: 52},
			{Prefix: netip.MustParsePrefix("192.168.33.101/32"), Dev: "eth1", File: f, Line: 53},
		},
		ExcludedVIPs: []VIP{{Prefix: netip.MustParsePrefix("2001:db8::1/64"), Dev: "eth1", File: f, Line: 56}},
		UnicastSrcIP: netip.MustParseAddr("192.168.33.101"),
		UnicastPeers: []netip.Addr{netip.MustParseAddr("192.168.33.102"), netip.MustParseAddr("192.168.33.103")},
		PeerTTL:      []TTLRange{{0, 255}, {250, 254}},
		UnicastTTL:   64,
		McastDstIP:   netip.MustParseAddr("224.0.0.20"),
		ChecksumAsV2: true,
		GARP: GARP{MasterDelay: time.Second, MasterRepeat: 2, MasterRefresh: 10 * time.Second, MasterRefreshRepeat: 3,
			Interval: time.Millisecond, NAInterval: 2 * time.Millisecond, LowerPrioDelay: 4 * time.Second, LowerPrioRepeat: 6},
		UseVMAC: true, VMACName: "vrrp.51", VMACXmitBase: true,
		Notify: Notify{Master: "/etc/keepalived/notify.sh master", Backup: "/etc/keepalived/notify.sh backup",
			Fault: "/etc/keepalived/fault.sh", Stop: "/etc/keepalived/stop.sh", Any: "/etc/keepalived/any.sh",
			MasterRxLowerPri: "/etc/keepalived/lower.sh"},
		TrackInterfaces:  []TrackRef{{Name: "eth3", File: f, Line: 84}, {Name: "eth4", File: f, Line: 85, Weight: 10, WeightSet: true}},
		TrackScripts:     []TrackRef{{Name: "chk", File: f, Line: 88}, {Name: "chk2", File: f, Line: 89, Weight: 5, WeightSet: true}},
		TrackFiles:       []TrackRef{{Name: "tf", File: f, Line: 92, Weight: -2, WeightSet: true, Reverse: true}},
		DontTrackPrimary: true,
		Accept:           true,
	}
	want.Keywords = in.Keywords
	if !reflect.DeepEqual(in, want) {
		t.Errorf("VI_1\n got %+v\nwant %+v", in, want)
	}
	if p := in.Keywords["advert_int"]; p != (Position{f, 47}) {
		t.Errorf("advert_int written at %v", p)
	}
	if !in.Unicast() {
		t.Error("VI_1 not unicast")
	}

	v6 := c.Instance(51, "ipv6")
	if v6 == nil || v6.Name != "VI_6" || !v6.NativeIPv6 || v6.Accept || v6.Auth != (Auth{}) ||
		v6.GARP != wantGARP || !v6.Strict || !v6.SkipCheckAdvAddr || !v6.LowerPrioNoAdvert ||
		v6.McastDstIP != netip.MustParseAddr("ff02::13") || v6.UnicastTTL != 255 || !v6.CheckUnicastSrc {
		t.Errorf("VI_6 %+v", v6)
	}
	wantWarn := []string{
		`testdata/all.conf:104: authentication: VRRPv3 has no authentication; ignored`,
		`testdata/all.conf:109: virtual_ipaddress: the first IPv6 address must be link-local`,
	}
	if !reflect.DeepEqual(warnings(c), wantWarn) {
		t.Errorf("warnings\n got %q\nwant %q", warnings(c), wantWarn)
	}
	var uses []string
	for _, u := range c.Unimplemented {
		uses = append(uses, fmt.Sprintf("%d %s %s %s", u.Line, u.Section, u.Keyword, u.Status))
	}
	wantUses := []string{
		"4 global_defs router_id ignored", "7 global_defs vrrp_strict refused", "20 global_defs nftables ignored",
		"52 virtual_ipaddress brd ignored", "52 virtual_ipaddress label ignored", "52 virtual_ipaddress scope ignored",
		"76 vrrp_instance vmac_xmit_base refused",
		"103 vrrp_instance no_accept refused",
	}
	if !reflect.DeepEqual(uses, wantUses) {
		t.Errorf("unimplemented\n got %q\nwant %q", uses, wantUses)
	}
}

func TestDefaults(t *testing.T) {
	for _, tc := range []struct {
		name, conf string
		check      func(in *Instance) bool
	}{
		{"master implies 255", inst(" state MASTER"), func(in *Instance) bool { return in.Priority == 255 }},
		{"backup 100", inst(" state BACKUP"), func(in *Instance) bool { return in.Priority == 100 && in.State == "BACKUP" }},
		{"no state is backup", inst(""), func(in *Instance) bool { return in.State == "BACKUP" && in.Priority == 100 }},
		{"bad priority on master is 100", inst(" state MASTER\n priority 0"), func(in *Instance) bool { return in.Priority == 100 }},
		{"advert 1s", inst(""), func(in *Instance) bool { return in.AdvertInt == time.Second && in.Version == 2 }},
		{"v2 rounds 1.5 up", inst(" advert_int 1.5"), func(in *Instance) bool { return in.AdvertInt == 2*time.Second }},
		{"v2 rounds 1.4 down", inst(" advert_int 1.4"), func(in *Instance) bool { return in.AdvertInt == time.Second }},
		{"v2 at least 1s", inst(" advert_int 0.4"), func(in *Instance) bool { return in.AdvertInt == time.Second }},
		{"v3 centiseconds", inst(" version 3\n advert_int 0.015"), func(in *Instance) bool { return in.AdvertInt == 20*time.Millisecond }},
		{"v3 at most 40.95", inst(" version 3\n advert_int 41"), func(in *Instance) bool { return in.AdvertInt == 40950*time.Millisecond }},
		{"global version", "global_defs {\n vrrp_version 3\n}\n" + inst(" advert_int 0.5"),
			func(in *Instance) bool { return in.Version == 3 && in.AdvertInt == 500*time.Millisecond }},
		{"garp defaults", inst(""), func(in *Instance) bool {
			return in.GARP == GARP{MasterDelay: 5 * time.Second, MasterRepeat: 5, MasterRefreshRepeat: 1,
				LowerPrioDelay: 5 * time.Second, LowerPrioRepeat: 5}
		}},
		{"global garp inherited, instance overrides", "global_defs {\n vrrp_garp_master_delay 2\n vrrp_garp_master_refresh 9\n}\n" +
			inst(" garp_master_delay 7"), func(in *Instance) bool {
			return in.GARP.MasterDelay == 7*time.Second && in.GARP.MasterRefresh == 9*time.Second
		}},
		{"strict disables accept", "global_defs {\n vrrp_strict\n}\n" + inst(""), func(in *Instance) bool { return in.Strict && !in.Accept }},
		{"repeat 0 is 1", inst(" garp_master_repeat 0"), func(in *Instance) bool { return in.GARP.MasterRepeat == 1 }},
		{"password truncated", inst(" authentication {\n auth_type PASS\n auth_pass 123456789\n }"),
			func(in *Instance) bool { return in.Auth == Auth{Type: "PASS", Pass: "12345678"} }},
		{"vip without length", inst(""), func(in *Instance) bool { return in.VIPs[0].Prefix.Bits() == 24 }},
		{"master then backup stays master", inst(" state MASTER\n state BACKUP"), func(in *Instance) bool { return in.State == "MASTER" }},
		{"family from first vip", strings.Replace(inst(""), "192.168.33.100/24", "fe80::1\n 10.0.0.1", 1),
			func(in *Instance) bool { return in.Family() == "ipv6" && len(in.VIPs) == 1 }},
	} {
		c, _ := Parse("t.conf", strings.NewReader(tc.conf))
		if len(c.Instances) != 1 || !tc.check(c.Instances[0]) {
			t.Errorf("%s: %+v", tc.name, c.Instances)
		}
	}
}

func TestLexing(t *testing.T) {
	c := mustParse(t, `$IF=eth1
$NET=192.168.33
global_defs{
  router_id "nat 1" ! comment
}
vrrp_instance VI_1{   # glued braces
    interface $IF
    virtual_router_id 51
    virtual_ipaddress {${NET}.100/24 label ${IF}:1
        ${NET}.101 scope link}
    notify_master "/bin/echo a # b"
}
`)
	in := c.Instances[0]
	if c.Global.RouterID != "nat 1" || in.Interface != "eth1" || len(in.VIPs) != 2 ||
		in.VIPs[0].Label != "eth1:1" || in.VIPs[1].Prefix.String() != "192.168.33.101/32" || in.VIPs[1].Scope != "link" ||
		in.Notify.Master != "/bin/echo a # b" || len(c.Warnings) != 0 {
		t.Errorf("global %+v instance %+v warnings %q", c.Global, in, warnings(c))
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		conf string
		want []string
	}{
		{"vrrp_instance VI_1 {\n interface eth1\n virtual_router_id 300\n}\n",
			[]string{"t.conf:3: virtual_router_id: 300 is out of range 1-255"}},
		{"vrrp_instance VI_1 {\n interface eth1\n virtual_router_id 0\n}\n",
			[]string{"t.conf:3: virtual_router_id: 0 is out of range 1-255"}},
		{"vrrp_instance VI_1 {\n interface eth1\n virtual_router_id 5x\n}\n",
			[]string{`t.conf:3: virtual_router_id: invalid number "5x"`}},
		{"vrrp_instance VI_1 {\n interface eth1\n}\n",
			[]string{"t.conf:1: virtual_router_id: missing in vrrp_instance VI_1"}},
		{"vrrp_instance VI_1 {\n virtual_router_id 1\n}\n",
			[]string{"t.conf:1: interface: missing in vrrp_instance VI_1"}},
		{inst("") + strings.Replace(inst(""), "VI_1", "VI_2", 1),
			[]string{"t.conf:11: virtual_router_id: 51 on eth1 (ipv4) is already used by vrrp_instance VI_1 at t.conf:1"}},
		{"vrrp_instance A {\n}\nvrrp_instance B {\n}\n", []string{
			"t.conf:1: virtual_router_id: missing in vrrp_instance A", "t.conf:1: interface: missing in vrrp_instance A",
			"t.conf:3: virtual_router_id: missing in vrrp_instance B", "t.conf:3: interface: missing in vrrp_instance B"}},
	} {
		c, err := Parse("t.conf", strings.NewReader(tc.conf))
		var got []string
		for _, e := range Errors(err) {
			got = append(got, e.Error())
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q\n got %q\nwant %q", tc.conf, got, tc.want)
		}
		var e *Error
		if !errors.As(err, &e) || c == nil {
			t.Errorf("%q: errors.As found no *Error in %v", tc.conf, err)
		}
	}
	// The refused instance is left out, a good one on another VRID kept.
	c, _ := Parse("t.conf", strings.NewReader(inst("")+strings.Replace(inst(""), "VI_1", "VI_2", 1)))
	if len(c.Instances) != 1 || c.Instances[0].Name != "VI_1" {
		t.Errorf("instances after duplicate VRID: %+v", c.Instances)
	}
	if _, err := ParseFile("testdata/does-not-exist.conf"); err == nil {
		t.Error("ParseFile of a missing file succeeded")
	}
}

func TestWarnings(t *testing.T) {
	for _, tc := range []struct {
		body string
		want string // the first warning
	}{
		{" priority 256", "t.conf:4: priority: 256 is out of range 1-255"},
		{" priority abc", `t.conf:4: priority: invalid number "abc"`},
		{" advert_int 0", "t.conf:4: advert_int: 0 is out of range 0.01-255"},
		{" advert_int -1", `t.conf:4: advert_int: negative number "-1"`},
		{" advert_int 1.5", "t.conf:4: advert_int: VRRPv2 needs whole seconds; 1.5 rounded to 2"},
		{" version 3\n advert_int 0.015", "t.conf:5: advert_int: VRRPv3 needs units of 10ms; 0.015 rounded to 0.02"},
		{" version 3\n advert_int 41", "t.conf:5: advert_int: VRRPv3 allows at most 40.95; 41 lowered"},
		{" version 4", "t.conf:4: version: 4 is out of range 2-3"},
		{" state FOO", `t.conf:4: state: unknown state "FOO"; using BACKUP`},
		{" state MASTER\n state BACKUP", "t.conf:5: state: already MASTER; BACKUP ignored"},
		{" state MASTER\n preempt_delay 10", "t.conf:5: preempt_delay: has no effect with state MASTER; cleared"},
		{" preempt_delay 1001", "t.conf:4: preempt_delay: 1001 is out of range 0-1000"},
		{" state MASTER\n nopreempt", "t.conf:5: nopreempt: has no effect with priority 255; cleared"},
		{" garp_master_delay 1.5", `t.conf:4: garp_master_delay: invalid number "1.5"`},
		{" garp_master_repeat 0", "t.conf:4: garp_master_repeat: must be greater than 0; using 1"},
		{" authentication {\n auth_type PASS\n }", "t.conf:4: authentication: auth_type PASS without auth_pass; authentication ignored"},
		{" authentication {\n auth_type FOO\n auth_pass x\n }", `t.conf:5: auth_type: unknown authentication type "FOO"`},
		{" authentication {\n auth_type PASS\n auth_pass 123456789\n }", "t.conf:6: auth_pass: password truncated to 8 characters"},
		{" unicast_src_ip 1.2.3.4", "t.conf:4: unicast_src_ip: no unicast_peer given; the instance uses multicast"},
		{" unicast_src_ip 1.2.3", `t.conf:4: unicast_src_ip: "1.2.3" is not an IP address; ignored`},
		{" unicast_peer {\n 10.0.0.x\n }", `t.conf:5: unicast_peer: "10.0.0.x" is not an IP address; ignored`},
		{" unicast_peer {\n fe80::1\n }", "t.conf:8: virtual_ipaddress: 192.168.33.100/24 is not of the instance's family; ignored"},
		{" native_ipv6", "t.conf:6: virtual_ipaddress: 192.168.33.100/24 is not of the instance's family; ignored"},
		{" vmac_xmit_base", "t.conf:4: vmac_xmit_base: has no effect without use_vmac"},
		{" track_script {\n chk\n }", "t.conf:5: track_script: no vrrp_script chk; ignored"},
		{" foo_bar 1", `t.conf:4: unknown keyword "foo_bar" ignored`},
		{" foo_bar {\n x\n }", `t.conf:4: unknown keyword "foo_bar" ignored with its block`},
		{" mcast_src_ip 10.0.0.x", `t.conf:4: mcast_src_ip: "10.0.0.x" is not an IP address; ignored`},
		{" unicast_ttl 5", "t.conf:4: unicast_ttl: cannot be used without unicast peers; reset"},
		{" mcast_dst_ip 10.0.0.1", "t.conf:4: mcast_dst_ip: 10.0.0.1 is not multicast; ignored"},
		{" unicast_peer {\n 10.0.0.2 min_ttl 9 max_ttl 8\n }", "t.conf:5: unicast_peer 10.0.0.2: min_ttl 9 > max_ttl 8 - all packets will be discarded"},
		{" track_interface {\n eth2 weight 300\n }", `t.conf:5: eth2: weight "300" is not -254 to 254; ignored`},
		{" track_file {\n tf\n }", "t.conf:5: track_file: no track_file tf; ignored"},
		{" virtual_ipaddress {\n 10.0.0.9 foo\n }", `t.conf:5: virtual address 10.0.0.9: unknown option "foo" ignored`},
		{" virtual_ipaddress {\n 10.0.0.300\n }", `t.conf:5: virtual address "10.0.0.300" is not an address; ignored`},
	} {
		c, err := Parse("t.conf", strings.NewReader(inst(tc.body)))
		if err != nil {
			t.Errorf("%q: %v", tc.body, err)
			continue
		}
		if w := warnings(c); len(w) == 0 || w[0] != tc.want {
			t.Errorf("%q\n got %q\nwant %q", tc.body, w, tc.want)
		}
		if len(c.Instances) != 1 {
			t.Errorf("%q: instance lost", tc.body)
		}
	}

	// A skipped block takes its nested blocks along, and parsing goes on.
	c := mustParse(t, "virtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 80 {\n  weight 1\n }\n}\n"+
		"vrrp_sync_group G {\n group {\n  VI_1\n  VI_X\n }\n}\n"+inst(""))
	want := []string{
		"t.conf:6: vrrp_sync_group G: no vrrp_instance VI_X; ignored",
		"t.conf:6: vrrp_sync_group G has 1 instances; a group needs two to be of use",
	}
	if !reflect.DeepEqual(warnings(c), want) || len(c.Instances) != 1 {
		t.Errorf("got %q\nwant %q", warnings(c), want)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{inst(""), inst(" state MASTER\n advert_int 0.5\n version 3"), "global_defs {\n}\n",
		"$A=${A}${A}\n$A\n", "{{}}}", "vrrp_instance \"x\" {\n virtual_ipaddress {\n fe80::1%eth0\n }\n",
		"vrrp_script s {\n script \"/bin/true x\"\n interval 0.5\n weight -10 reverse\n rise 2\n fall x\n user a b\n init_fail\n}\n" +
			inst(" track_script {\n s weight 5 reverse\n t\n }"),
		"track_file f {\n file /x\n weight 3\n init_file 4 overwrite\n}\n" + inst(" track_file {\n f weight -1\n }\n track_interface {\n eth2 weight\n }"),
		inst(" unicast_peer {\n 10.0.0.2 min_ttl 3 max_ttl\n 10.0.0.3 min_ttl x\n }\n unicast_ttl 300\n mcast_dst_ip ff02::13\n mcast_src_ip 10.0.0.1"),
		"vrrp_sync_group G {\n group {\n VI_1 VI_1\n }\n notify x\n track_interface {\n eth9 weight 1\n }\n global_tracking\n track_bfd {\n b\n }\n}\n" + inst(""),
		"global_defs {\n script_user\n vrrp_check_unicast_src x\n notification_email {\n a\n }\n}\nvirtual_server a {\n b {\n }\n}\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse("f.conf", strings.NewReader(s))
		if c == nil {
			t.Fatalf("nil Config (err %v)", err)
		}
		for _, u := range c.Unimplemented {
			if u.Line < 1 || u.Status == Implemented || u.Keyword == "" {
				t.Fatalf("bad record of an unimplemented keyword: %+v", u)
			}
		}
		for _, sc := range c.Scripts {
			if sc.Command == "" || sc.Interval <= 0 || sc.Timeout <= 0 || sc.Rise < 1 || sc.Fall < 1 || sc.Weight < -254 || sc.Weight > 254 {
				t.Fatalf("invalid vrrp_script accepted: %+v", sc)
			}
		}
		for _, in := range c.Instances {
			if len(in.PeerTTL) != len(in.UnicastPeers) || in.UnicastTTL < 0 || in.UnicastTTL > 255 || !in.McastDstIP.IsMulticast() {
				t.Fatalf("invalid unicast or multicast settings accepted: %+v", in)
			}
			if in.VRID < 1 || in.VRID > 255 || in.Priority < 1 || in.Priority > 255 || in.AdvertInt <= 0 || in.Interface == "" {
				t.Fatalf("invalid instance accepted: %+v", in)
			}
		}
	})
}

// The lower-priority GARP burst follows the global master delay and repeat
// unless set; an instance's own garp_master_delay does not move it. As
// keepalived 2.2.7 resolves it (keepalived -d).
func TestLowerPrioGARPDefaults(t *testing.T) {
	cfg, err := Parse("k.conf", strings.NewReader(`global_defs {
   vrrp_garp_master_delay 3
   vrrp_garp_lower_prio_repeat 7
}
vrrp_instance VI_1 {
    interface eth1
    virtual_router_id 51
    garp_master_delay 4
    garp_master_repeat 6
    virtual_ipaddress {
        192.168.33.100/24
    }
}
`))
	if err != nil {
		t.Fatal(err)
	}
	g := cfg.Global.GARP
	if g.LowerPrioDelay != 3*time.Second || g.LowerPrioRepeat != 7 || g.MasterRepeat != 5 {
		t.Errorf("global GARP %+v, want lower-priority delay 3 s (the master delay), repeat 7", g)
	}
	in := cfg.Instances[0].GARP
	if in.MasterDelay != 4*time.Second || in.MasterRepeat != 6 || in.LowerPrioDelay != 3*time.Second || in.LowerPrioRepeat != 7 {
		t.Errorf("instance GARP %+v, want delay 4 s, repeat 6, lower-priority 3 s and 7", in)
	}
}

// TestDefaultGARP pins keepalived 2.2.7's defaults (keepalived -d of an
// instance without GARP settings), which the speaker and the lab take from here.
func TestDefaultGARP(t *testing.T) {
	want := GARP{MasterDelay: 5 * time.Second, MasterRepeat: 5, MasterRefreshRepeat: 1,
		LowerPrioDelay: 5 * time.Second, LowerPrioRepeat: 5}
	if got := DefaultGARP(); got != want {
		t.Errorf("DefaultGARP() = %+v; want %+v", got, want)
	}
}

// keepalivedKeywords reads testdata/keepalived-2.2.7-keywords.txt: every
// keyword of keepalived 2.2.7 in the sections this package describes, as
// "section keyword".
func keepalivedKeywords(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("testdata/keepalived-2.2.7-keywords.txt")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if len(f) != 2 || !slices.Contains(Sections, f[0]) {
			t.Fatalf("keyword list: bad line %q", line)
		}
		out = append(out, f[0]+" "+f[1])
	}
	return out
}

// TestKeywordTable walks keepalived 2.2.7's keyword list: every keyword has
// a status, the table names no keyword keepalived does not know (but the
// later ones it marks so), every keyword read has a handler, and none is
// both read and only known.
func TestKeywordTable(t *testing.T) {
	status := map[string]KeywordInfo{}
	for _, k := range Keywords() {
		key := k.Section + " " + k.Name
		if _, dup := status[key]; dup {
			t.Errorf("%s listed twice", key)
		}
		status[key] = k
		if k.Status < Implemented || k.Status > Ignored {
			t.Errorf("%s: status %v", key, k.Status)
		}
		if k.Status == Refused && k.Note == "" {
			t.Errorf("%s is refused without a note saying why", key)
		}
	}
	list := keepalivedKeywords(t)
	for _, key := range list {
		if _, ok := status[key]; !ok {
			t.Errorf("keepalived 2.2.7's %s has no status", key)
		}
	}
	for key := range status {
		f := strings.Fields(key)
		if !slices.Contains(list, key) && !laterKeywords[f[0]][f[1]] {
			t.Errorf("%s is in the table but not a keyword of keepalived 2.2.7", key)
		}
	}
	if len(list) < 250 {
		t.Errorf("the keyword list has %d keywords", len(list))
	}
	for sec, kws := range interpreted {
		for name, k := range kws {
			if _, dup := otherKeywords[sec][name]; dup {
				t.Errorf("%s %s is both read and only known", sec, name)
			}
			handlers := 0
			for _, h := range []bool{k.global != nil, k.instance != nil, k.group != nil, k.script != nil, k.trackFile != nil} {
				if h {
					handlers++
				}
			}
			want := 1
			if sec == "top" || sec == "authentication" {
				want = 0
			}
			if handlers != want {
				t.Errorf("%s %s has %d handlers", sec, name, handlers)
			}
		}
	}
	for kw, want := range map[string]Status{
		"vrrp_instance priority": Implemented, "vrrp_instance authentication": Implemented,
		"vrrp_instance track_script": Implemented, "vrrp_instance notify_stop": Implemented,
		"global_defs vrrp_garp_interval": Implemented, "global_defs vrrp_mcast_group4": Implemented,
		"vrrp_instance strict_mode": Refused, "global_defs vrrp_strict": Refused, "vrrp_instance track_process": Refused,
		"vrrp_instance old_unicast_checksum": Refused, "vrrp_instance unicast_ttl": Implemented,
		"vrrp_instance accept": Implemented, "vrrp_instance no_accept": Refused,
		"global_defs router_id": Ignored, "global_defs notification_email": Ignored,
	} {
		if status[kw].Status != want {
			t.Errorf("%s: %v; want %v", kw, status[kw].Status, want)
		}
	}
}

// TestUnimplementedUses: every keyword the speaker does not implement is
// recorded where it was written, whether this package reads it, skips it
// with its block, or finds it in a block it skips whole; unknown keywords
// stay warnings.
func TestUnimplementedUses(t *testing.T) {
	c := mustParse(t, `global_defs {
   notification_email {
      a@b
   }
   vrrp_strict
}
virtual_server 10.0.0.1 80 {
   real_server 10.0.0.2 80 {
      weight 1
   }
}
vrrp_instance VI_1 {
   interface eth1
   virtual_router_id 51
   track_process {
      p
   }
   smtp_alert
   frobnicate
   virtual_ipaddress {
      10.0.0.1/24 dev eth1 label eth1:x no_track
   }
}
vrrp_sync_group G {
   group {
      VI_1
   }
   track_bfd {
      b
   }
}
`)
	var got []string
	for _, u := range c.Unimplemented {
		got = append(got, u.String())
	}
	want := []string{
		"t.conf:2: notification_email: ignored: " + noteMail,
		"t.conf:5: vrrp_strict: refused: strict mode (firewall rules, no authentication, checks) is not implemented",
		"t.conf:7: virtual_server: refused: " + noteLVS,
		"t.conf:15: track_process: refused: " + noteTrackProc,
		"t.conf:18: smtp_alert: ignored: " + noteMail,
		"t.conf:21: label: ignored: the speaker adds the address with its prefix length alone, labelled IFNAME:vrrpVRID",
		"t.conf:21: no_track: ignored: the speaker does not track its virtual addresses (one deleted by hand is no fault)",
		"t.conf:28: track_bfd: refused: " + noteBFD,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("unimplemented\n got %q\nwant %q", got, want)
	}
	if w := warnings(c); len(w) < 1 || w[0] != `t.conf:19: unknown keyword "frobnicate" ignored` {
		t.Errorf("warnings %q", w)
	}
}

// TestReadmeKeywordTable: the README's keyword table is the one Keywords
// renders (`go generate ./kaconf` rewrites it).
func TestReadmeKeywordTable(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	want, err := ReplaceTable(string(data))
	if err != nil {
		t.Fatal(err)
	}
	if want != string(data) {
		t.Error("the README's keyword table differs from kaconf.Keywords: run `go generate ./kaconf` (or make readme)")
	}
}
