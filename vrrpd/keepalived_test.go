package vrrpd

import (
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
	got, err := FromKeepalived(c)
	if err != nil {
		t.Fatal(err)
	}
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
			_, err := FromKeepalived(parseKA(t, c.conf))
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
