package kaconf

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// keepalivedCheck runs keepalived --config-test on path in a network and
// mount namespace of its own, holding the interfaces eth1 to eth4, with a
// private /run: nothing of the host is looked at or left behind. It
// returns keepalived's exit status and what it printed.
func keepalivedCheck(t *testing.T, path string) (int, string) {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	script := `mount -t tmpfs none /run &&
ip link add eth1 type veth peer name eth2 && ip link add eth3 type veth peer name eth4 &&
ip link set eth1 up && ip link set eth3 up &&
exec keepalived --config-test -f "$1"`
	cmd := exec.Command("unshare", "--net", "--mount", "sh", "-c", script, "sh", abs)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		return exit.ExitCode(), string(out)
	}
	t.Fatalf("keepalived --config-test %s: %v\n%s", path, err, out)
	return 0, ""
}

// TestKeepalivedAgrees checks ParseFile against keepalived 2.2.7 itself:
// keepalived --config-test exits 0 exactly when ParseFile finds no error
// and warns of nothing but keywords it does not interpret. (Exit status 6,
// "scripts are being executed but script_security not enabled", is a
// matter of the host's script security, not of the VRRP configuration,
// and counts as accepted.)
func TestKeepalivedAgrees(t *testing.T) {
	if _, err := exec.LookPath("keepalived"); err != nil {
		t.Fatal("keepalived is not installed; it is the reference for this test (apt-get install keepalived)")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Fatal("unshare is not installed; keepalived runs in a namespace of its own")
	}
	dir := t.TempDir()
	cases := []struct {
		name, conf string
		file       string // a testdata file instead of conf
		// divergence explains a known, deliberate difference: the test
		// then asserts that the two still differ in that way.
		divergence string
	}{
		{name: "nat1", file: "testdata/nat1.conf"},
		{name: "nat2", file: "testdata/nat2.conf"},
		{name: "article", file: "testdata/article.conf"},
		{name: "includes", file: "testdata/inc/main.conf"},
		{name: "include cycle", file: "testdata/cycle/a.conf"},
		{name: "plain", conf: inst("")},
		{name: "master", conf: inst(" state MASTER\n priority 200")},
		{name: "v3 fractional", conf: inst(" version 3\n advert_int 0.5")},
		{name: "global v3", conf: "global_defs {\n vrrp_version 3\n vrrp_garp_interval 0.001\n vrrp_gna_interval 0.5\n}\n" + inst(" advert_int 0.25")},
		{name: "garp", conf: "global_defs {\n vrrp_garp_master_delay 2\n vrrp_garp_master_repeat 3\n vrrp_garp_master_refresh 60\n" +
			" vrrp_garp_master_refresh_repeat 2\n vrrp_garp_lower_prio_delay 1\n vrrp_garp_lower_prio_repeat 1\n" +
			" vrrp_lower_prio_no_advert\n vrrp_higher_prio_send_advert\n vrrp_skip_check_adv_addr\n}\n" +
			inst(" garp_master_delay 1\n garp_master_repeat 2\n garp_master_refresh 5\n garp_master_refresh_repeat 2\n"+
				" garp_lower_prio_delay 3\n garp_lower_prio_repeat 4\n lower_prio_no_advert false\n higher_prio_send_advert true")},
		{name: "auth", conf: inst(" authentication {\n auth_type PASS\n auth_pass secret\n }")},
		{name: "unicast", conf: inst(" unicast_src_ip 10.0.0.1\n unicast_peer {\n 10.0.0.2\n 10.0.0.3\n }")},
		{name: "vmac", conf: inst(" use_vmac vrrp.51\n vmac_xmit_base")},
		{name: "misc", conf: inst(" nopreempt\n dont_track_primary\n skip_check_adv_addr\n accept\n track_interface {\n eth3\n }")},
		{name: "tracking", conf: "global_defs {\n script_user root\n vrrp_check_unicast_src\n}\nvrrp_script chk {\n script \"/bin/true\"\n interval 2\n timeout 1\n weight -20\n rise 2\n fall 3\n user root\n init_fail\n}\n" +
			"track_file tf {\n file /tmp/vrrpctl-kaconf-tf\n weight 2\n}\n" +
			inst(" track_script {\n chk weight -30\n }\n track_file {\n tf weight -1 reverse\n }\n track_interface {\n eth3 weight 10\n }\n notify_master_rx_lower_pri /bin/true\n notify /bin/true\n notify_stop /bin/true")},
		{name: "unicast ttl", conf: inst(" unicast_src_ip 10.0.0.1\n unicast_peer {\n 10.0.0.2 min_ttl 250 max_ttl 255\n }\n unicast_ttl 64\n check_unicast_src")},
		{name: "mcast groups", conf: "global_defs {\n vrrp_mcast_group4 224.0.0.19\n}\n" + inst(" mcast_dst_ip 224.0.0.20\n mcast_src_ip 192.168.33.1")},
		{name: "sync group notify", conf: "vrrp_sync_group G {\n group {\n VI_1 VI_2\n }\n notify_master /bin/true\n notify /bin/true\n track_interface {\n eth3\n }\n sync_group_tracking_weight\n}\n" + inst("") +
			strings.Replace(strings.Replace(inst(""), "VI_1", "VI_2", 1), "51", "52", 1)},
		{name: "ipv6 global first", conf: strings.Replace(inst(" version 3"), "192.168.33.100/24", "2001:db8::1\n fe80::1", 1),
			divergence: "keepalived logs \"the first IPv6 VIP address should be link local\" and exits 0; ParseFile warns"},
		{name: "preempt delay", conf: inst(" state BACKUP\n preempt_delay 5.5")},
		{name: "vip options", conf: strings.Replace(inst(""), "192.168.33.100/24", "192.168.33.100/24 brd 192.168.33.255 dev eth3 label eth3:1 scope link\n 192.168.33.101", 1)},
		{name: "excluded", conf: inst(" virtual_ipaddress_excluded {\n 2001:db8::1/64\n 10.1.1.1\n }")},
		{name: "ipv6", conf: strings.Replace(inst(" version 3"), "192.168.33.100/24", "fe80::1\n 2001:db8::1", 1)},
		{name: "sync group", conf: "vrrp_sync_group G {\n group {\n VI_1 VI_2\n }\n}\n" + inst("") +
			strings.Replace(strings.Replace(inst(""), "VI_1", "VI_2", 1), "51", "52", 1)},
		{name: "two families one vrid", conf: inst("") + strings.Replace(strings.Replace(inst(" version 3"), "VI_1", "VI_2", 1), "192.168.33.100/24", "fe80::1", 1)},
		{name: "glued braces and quotes", conf: "global_defs{\n router_id \"a b\" # c\n}\nvrrp_instance VI_1{\n interface eth1\n virtual_router_id 51\n virtual_ipaddress {192.168.33.100/24\n 192.168.33.101}\n}\n"},
		{name: "definitions", conf: "$IF=eth1\n$NET=192.168.33\n" + strings.Replace(strings.Replace(inst(""), "eth1", "$IF", 1), "192.168.33.100/24", "${NET}.100/24", 1)},
		{name: "not interpreted", conf: "global_defs {\n notification_email {\n a@b\n }\n max_auto_priority 10\n}\n" +
			"vrrp_script chk {\n script \"/bin/true\"\n}\nvirtual_server 10.0.0.1 80 {\n protocol TCP\n lb_algo rr\n lb_kind NAT\n real_server 10.0.0.2 80 {\n weight 1\n }\n}\n" +
			inst(" track_script {\n chk\n }\n mcast_src_ip 192.168.33.1")},

		{name: "vrid out of range", conf: strings.Replace(inst(""), "virtual_router_id 51", "virtual_router_id 300", 1)},
		{name: "vrid 0", conf: strings.Replace(inst(""), "virtual_router_id 51", "virtual_router_id 0", 1)},
		{name: "vrid missing", conf: strings.Replace(inst(""), "virtual_router_id 51", "", 1)},
		{name: "interface missing", conf: strings.Replace(inst(""), "interface eth1", "", 1)},
		{name: "duplicate vrid", conf: inst("") + strings.Replace(inst(""), "VI_1", "VI_2", 1)},
		{name: "priority 256", conf: inst(" priority 256")},
		{name: "priority text", conf: inst(" priority high")},
		{name: "advert 0", conf: inst(" advert_int 0")},
		{name: "advert v2 fraction", conf: inst(" advert_int 1.5")},
		{name: "advert v3 rounding", conf: inst(" version 3\n advert_int 0.015")},
		{name: "advert v3 too long", conf: inst(" version 3\n advert_int 41")},
		{name: "version 4", conf: inst(" version 4")},
		{name: "bad state", conf: inst(" state PRIMARY")},
		{name: "master then backup", conf: inst(" state MASTER\n state BACKUP")},
		{name: "preempt delay master", conf: inst(" state MASTER\n preempt_delay 5")},
		{name: "preempt delay range", conf: inst(" preempt_delay 1001")},
		{name: "nopreempt owner", conf: inst(" priority 255\n nopreempt")},
		{name: "garp delay fraction", conf: inst(" garp_master_delay 1.5")},
		{name: "garp repeat 0", conf: inst(" garp_master_repeat 0")},
		{name: "global garp repeat 0", conf: "global_defs {\n vrrp_garp_master_repeat 0\n}\n" + inst("")},
		{name: "pass without password", conf: inst(" authentication {\n auth_type PASS\n }")},
		{name: "long password", conf: inst(" authentication {\n auth_type PASS\n auth_pass 123456789\n }")},
		{name: "unknown auth type", conf: inst(" authentication {\n auth_type MD5\n auth_pass x\n }")},
		{name: "auth v3", conf: inst(" version 3\n authentication {\n auth_type PASS\n auth_pass x\n }")},
		{name: "src without peers", conf: inst(" unicast_src_ip 10.0.0.1")},
		{name: "bad peer", conf: inst(" unicast_peer {\n 10.0.0.x\n }")},
		{name: "peer of other family", conf: inst(" unicast_peer {\n fe80::2\n }")},
		{name: "native_ipv6 with ipv4", conf: inst(" native_ipv6")},
		{name: "xmit base without vmac", conf: inst(" vmac_xmit_base")},
		{name: "missing track script", conf: inst(" track_script {\n chk\n }")},
		{name: "unknown keyword", conf: inst(" priorty 100")},
		{name: "unknown block", conf: inst(" foo {\n bar\n }")},
		{name: "unknown top level", conf: "vrrp_instances VI_1 {\n}\n" + inst("")},
		{name: "bad vip", conf: strings.Replace(inst(""), "192.168.33.100/24", "192.168.33.300/24", 1)},
		{name: "bad vip option", conf: strings.Replace(inst(""), "192.168.33.100/24", "192.168.33.100/24 colour red", 1)},
		{name: "no vip", conf: "vrrp_instance VI_1 {\n interface eth1\n virtual_router_id 51\n}\n"},
		{name: "bad mcast group", conf: "global_defs {\n vrrp_mcast_group4 10.0.0.1\n}\n" + inst("")},
		{name: "sync group of one", conf: "vrrp_sync_group G {\n group {\n VI_1\n }\n}\n" + inst("")},
		{name: "unclosed block", conf: strings.TrimSuffix(inst(""), "}\n")},

		{name: "missing include", conf: "include /nonexistent/*.conf\n" + inst(""),
			divergence: "keepalived logs \"Config files missing\" but exits 0 unless run with -e; ParseFile warns"},
	}
	for _, tc := range cases {
		path := tc.file
		if path == "" {
			path = filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".conf")
			if err := os.WriteFile(path, []byte(tc.conf), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		code, out := keepalivedCheck(t, path)
		kaAccepts := code == 0 || code == 6
		if code != 0 && code != 4 && code != 5 && code != 6 {
			t.Errorf("%s: keepalived exit status %d:\n%s", tc.name, code, out)
			continue
		}
		c, err := ParseFile(path)
		var problems []string
		for _, e := range Errors(err) {
			problems = append(problems, e.Error())
		}
		for _, w := range c.Warnings {
			if !w.Unsupported {
				problems = append(problems, w.String())
			}
		}
		weAccept := len(problems) == 0
		if tc.divergence != "" {
			if kaAccepts == weAccept {
				t.Errorf("%s: the known divergence is gone (%s); keepalived exit %d, ours %q", tc.name, tc.divergence, code, problems)
			}
			continue
		}
		if kaAccepts != weAccept {
			t.Errorf("%s: keepalived exit %d, ParseFile problems %q\nkeepalived said:\n%s", tc.name, code, problems, out)
		}
	}
	// Nothing but the configurations is left in the directory keepalived saw.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".conf") {
			t.Errorf("keepalived left %s behind", e.Name())
		}
	}
	for _, pid := range []string{"/run/keepalived.pid", "/run/vrrp.pid", "/run/keepalived/keepalived.pid"} {
		if _, err := os.Stat(pid); err == nil {
			t.Logf("note: %s exists on the host (not created by this test: keepalived ran with a private /run)", pid)
		}
	}
}

// TestKeepalivedKnowsKeywords checks testdata/keepalived-2.2.7-keywords.txt
// against keepalived itself: in a file of its own, each keyword of the list
// in its section is one keepalived --config-test does not call unknown, and
// a made-up one is.
func TestKeepalivedKnowsKeywords(t *testing.T) {
	if _, err := exec.LookPath("keepalived"); err != nil {
		t.Fatal("keepalived is not installed; it is the reference for this test (apt-get install keepalived)")
	}
	dir := t.TempDir()
	list := append(keepalivedKeywords(t), "top zz_not_a_keyword", "vrrp_instance zz_not_a_keyword", "global_defs zz_not_a_keyword")
	var index strings.Builder
	for i, key := range list {
		f := strings.Fields(key)
		sec, kw := f[0], f[1]
		var conf string
		switch sec {
		case "top":
			conf = kw + " x {\n}\n"
		case "global_defs":
			conf = "global_defs {\n " + kw + " 1\n}\n"
		case "vrrp_instance":
			conf = "vrrp_instance V {\n " + kw + " 1\n}\n"
		case "authentication":
			conf = "vrrp_instance V {\n authentication {\n " + kw + " 1\n }\n}\n"
		default:
			conf = sec + " X {\n " + kw + " 1\n}\n"
		}
		name := filepath.Join(dir, fmt.Sprintf("%d.conf", i))
		if err := os.WriteFile(name, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&index, "%s %s\n", name, kw)
	}
	if err := os.WriteFile(filepath.Join(dir, "index"), []byte(index.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	script := `mount -t tmpfs none /run && while read f kw; do
  if keepalived --config-test -f "$f" 2>&1 | grep -qF "Unknown keyword '$kw'"; then echo "unknown $f"; else echo "known $f"; fi
done < "$1"`
	out, err := exec.Command("unshare", "--net", "--mount", "sh", "-c", script, "sh", filepath.Join(dir, "index")).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(list) {
		t.Fatalf("%d answers for %d keywords:\n%s", len(lines), len(list), out)
	}
	for i, key := range list {
		want := "known"
		if strings.Contains(key, "zz_not_a_keyword") {
			want = "unknown"
		}
		if got := strings.Fields(lines[i])[0]; got != want {
			t.Errorf("%s: keepalived 2.2.7 says %s", key, got)
		}
	}
}
