package vrrpd

import (
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vrrpctl/vrrpctl/kaconf"
)

func parseKA(t *testing.T, text string) *kaconf.Config {
	t.Helper()
	c, err := kaconf.Parse("ka.conf", strings.NewReader(text))
	if err != nil {
		t.Fatalf("kaconf: %v", err)
	}
	return c
}

// TestFromKeepalived checks that every setting the speaker implements
// keeps keepalived's meaning, keepalived's defaults included.
func TestFromKeepalived(t *testing.T) {
	c := parseKA(t, `global_defs {
    vrrp_version 2
    vrrp_skip_check_adv_addr
    vrrp_garp_interval 0.005
    vrrp_gna_interval 0.02
}
vrrp_instance VI_A {
    state MASTER
    interface eth1
    virtual_router_id 51
    priority 150
    advert_int 2
    nopreempt
    unicast_src_ip 192.168.33.101
    unicast_peer {
        192.168.33.102
    }
    authentication {
        auth_type PASS
        auth_pass secret
    }
    garp_master_delay 3
    garp_master_repeat 2
    garp_master_refresh 60
    garp_master_refresh_repeat 4
    garp_lower_prio_delay 4
    garp_lower_prio_repeat 0
    notify_master "/bin/true master"
    notify_backup /bin/true
    use_vmac
    virtual_ipaddress {
        192.168.33.100/24
        192.168.33.99/32 dev eth1
    }
}
vrrp_instance VI_B {
    interface eth2
    virtual_router_id 7
    priority 100
    version 3
    advert_int 0.05
    preempt_delay 5
    virtual_ipaddress {
        2001:db8::7/64
    }
}
`)
	opts, err := FromKeepalived(c, false)
	if err != nil {
		t.Fatal(err)
	}
	got := opts.Routers
	if len(got) != 2 {
		t.Fatalf("%d routers; want 2", len(got))
	}
	a := got[0]
	wantA := RouterConfig{
		Name: "VI_A", Interface: "eth1", VRID: 51, Priority: 150, Version: 2, AdvertInterval: 2 * time.Second,
		NoPreempt: true, AuthPass: "secret", SkipCheckAdvAddr: true, UseVMAC: true,
		VIPs:         []netip.Prefix{netip.MustParsePrefix("192.168.33.100/24"), netip.MustParsePrefix("192.168.33.99/32")},
		Primary:      netip.MustParseAddr("192.168.33.101"),
		UnicastPeers: []netip.Addr{netip.MustParseAddr("192.168.33.102")},
		PeerTTL:      []TTLRange{{0, 255}}, UnicastTTL: 255,
		NotifyMaster: "/bin/true master", NotifyBackup: "/bin/true",
		GARP: GARPConfig{MasterDelay: 3 * time.Second, MasterRepeat: 2, MasterRefresh: time.Minute,
			MasterRefreshRepeat: 4, Interval: 5 * time.Millisecond, LowerPrioDelay: 4 * time.Second, LowerPrioRepeat: 0},
	}
	if !reflect.DeepEqual(a, wantA) {
		t.Errorf("VI_A:\n got %+v\nwant %+v", a, wantA)
	}
	b := got[1]
	if b.Version != 3 || b.AdvertInterval != 50*time.Millisecond || b.PreemptDelay != 5*time.Second || b.NoPreempt ||
		!b.IPv6() || b.GARP.Interval != 20*time.Millisecond || b.AuthPass != "" || b.UseVMAC {
		t.Errorf("VI_B: %+v", b)
	}
	if b.GARP.MasterDelay != 5*time.Second || b.GARP.MasterRepeat != 5 || b.GARP.LowerPrioRepeat != 5 {
		t.Errorf("VI_B GARP %+v; want keepalived's defaults", b.GARP)
	}
}

// TestFromKeepalivedRefuses checks that what the speaker cannot honour is
// refused with file:line: keyword.
func TestFromKeepalivedRefuses(t *testing.T) {
	for _, c := range []struct{ name, conf, want string }{
		{"no instance", "global_defs {\n    router_id x\n}\n", "ka.conf: no vrrp_instance"},
		{"AH", `vrrp_instance V {
    interface eth1
    virtual_router_id 1
    priority 100
    authentication {
        auth_type AH
        auth_pass x
    }
    virtual_ipaddress {
        10.0.0.1
    }
}
`, "ka.conf:5: authentication: auth_type AH is not supported (only PASS)"},
		{"address on another interface", `vrrp_instance V {
    interface eth1
    virtual_router_id 1
    priority 100
    virtual_ipaddress {
        10.0.0.1/24 dev eth2
    }
}
`, "ka.conf:6: virtual_ipaddress 10.0.0.1/24 on eth2: only addresses on the instance's interface eth1 are supported"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := FromKeepalived(parseKA(t, c.conf), false)
			if err == nil || err.Error() != c.want {
				t.Errorf("error %v; want %q", err, c.want)
			}
		})
	}
}

func TestDefaultGARP(t *testing.T) {
	want := GARPConfig{MasterDelay: 5 * time.Second, MasterRepeat: 5, MasterRefreshRepeat: 1,
		LowerPrioDelay: 5 * time.Second, LowerPrioRepeat: 5}
	if got := DefaultGARP(); got != want {
		t.Errorf("DefaultGARP() = %+v; want %+v", got, want)
	}
}

// TestFromKeepalivedUnsupported: keywords the speaker does not implement
// that change the protocol or a failover decision refuse the whole
// configuration, listing each with file:line, unless allowed; the harmless
// ones never refuse it.
func TestFromKeepalivedUnsupported(t *testing.T) {
	c := parseKA(t, `global_defs {
    router_id r1
    vrrp_strict
    notification_email {
        root@localhost
    }
}
vrrp_instance VI_1 {
    interface eth1
    virtual_router_id 51
    track_process {
        haproxy
    }
    smtp_alert
    virtual_ipaddress {
        192.168.33.100/24
    }
}
`)
	_, err := FromKeepalived(c, false)
	var ue *UnsupportedError
	if !errors.As(err, &ue) {
		t.Fatalf("error %v; want an *UnsupportedError", err)
	}
	want := "2 keyword(s) the speaker does not implement would change the protocol or a failover decision (--allow-unsupported runs without them):\n" +
		"  ka.conf:3: vrrp_strict: refused: strict mode (firewall rules, no authentication, checks) is not implemented\n" +
		"  ka.conf:11: track_process: refused: process tracking is not implemented"
	if err.Error() != want {
		t.Errorf("error:\n%s\nwant:\n%s", err, want)
	}
	opts, err := FromKeepalived(c, true)
	if err != nil || len(opts.Routers) != 1 {
		t.Fatalf("with allowUnsupported: %v, %d routers", err, len(opts.Routers))
	}
	refused, ignored := Unsupported(c)
	if len(refused) != 2 || len(ignored) != 3 {
		t.Errorf("refused %v, ignored %v", refused, ignored)
	}
}

// TestFromKeepalivedTracking: scripts, files, weights, sync groups and the
// new interop settings reach the routers with keepalived's meaning.
func TestFromKeepalivedTracking(t *testing.T) {
	c := parseKA(t, `global_defs {
    script_user nobody
    vrrp_mcast_group4 224.0.0.19
}
vrrp_script chk {
    script "/bin/check a"
    interval 0.5
    weight -30
    fall 2
}
track_file tf {
    file /run/tf
}
vrrp_instance A {
    interface eth1
    virtual_router_id 1
    track_script {
        chk
    }
    track_interface {
        eth2 weight -10
    }
    notify /bin/notify
    virtual_ipaddress {
        10.0.0.1/24
    }
}
vrrp_instance B {
    interface eth1
    virtual_router_id 2
    track_file {
        tf weight 5
    }
    unicast_peer {
        10.0.0.9 min_ttl 250
    }
    unicast_ttl 32
    virtual_ipaddress {
        10.0.1.1/24
    }
}
vrrp_instance C {
    interface eth1
    virtual_router_id 3
    track_script {
        chk
    }
    virtual_ipaddress {
        10.0.2.1/24
    }
}
vrrp_sync_group G {
    group {
        B C
    }
    track_interface {
        eth3
    }
    notify_master /bin/gm
}
`)
	opts, err := FromKeepalived(c, false)
	if err != nil {
		t.Fatal(err)
	}
	a, b, cc := opts.Routers[0], opts.Routers[1], opts.Routers[2]
	if a.Group != netip.MustParseAddr("224.0.0.19") || a.Notify != "/bin/notify" || a.SyncGroup != "" ||
		!reflect.DeepEqual(a.TrackScripts, []Track{{Name: "chk"}}) ||
		!reflect.DeepEqual(a.TrackInterfaces, []Track{{Name: "eth2", Weight: -10, WeightSet: true}}) {
		t.Errorf("A: %+v", a)
	}
	// B and C are in a group without sync_group_tracking_weight: their
	// weights do not count, the group's interface is theirs.
	fault := Track{WeightSet: true}
	if b.Group.IsValid() || b.UnicastTTL != 32 || !reflect.DeepEqual(b.PeerTTL, []TTLRange{{250, 255}}) || b.SyncGroup != "G" ||
		!reflect.DeepEqual(b.TrackFiles, []Track{{Name: "tf", WeightSet: true}}) ||
		!reflect.DeepEqual(b.TrackInterfaces, []Track{{Name: "eth3", WeightSet: true}}) {
		t.Errorf("B: %+v", b)
	}
	fault.Name = "chk"
	if !reflect.DeepEqual(cc.TrackScripts, []Track{fault}) {
		t.Errorf("C tracks %+v", cc.TrackScripts)
	}
	wantScript := ScriptConfig{Name: "chk", Command: "/bin/check a", Interval: 500 * time.Millisecond, Timeout: 500 * time.Millisecond,
		Weight: -30, Rise: 1, Fall: 2, User: "nobody"}
	if !reflect.DeepEqual(opts.Scripts, []ScriptConfig{wantScript}) {
		t.Errorf("scripts %+v", opts.Scripts)
	}
	if !reflect.DeepEqual(opts.TrackFiles, []TrackFileConfig{{Name: "tf", Path: "/run/tf", Weight: 1}}) {
		t.Errorf("track files %+v", opts.TrackFiles)
	}
	if !reflect.DeepEqual(opts.SyncGroups, []SyncGroupConfig{{Name: "G", Members: []string{"B", "C"}, NotifyMaster: "/bin/gm"}}) {
		t.Errorf("sync groups %+v", opts.SyncGroups)
	}
	if err := checkOptions(&opts); err != nil {
		t.Error(err)
	}
}
