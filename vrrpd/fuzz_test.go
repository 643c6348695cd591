package vrrpd

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vrrpctl/vrrpctl/decode"
	"github.com/vrrpctl/vrrpctl/kaconf"
)

// FuzzReceive drives the receive path (the message as the raw socket hands it
// over, parsed by the project's codec, then the state machine) with arbitrary
// bytes. It must never panic, and a message the RFC says to discard (TTL other
// than 255, or a checksum that does not verify) must never change the state.
func FuzzReceive(f *testing.F) {
	seed := func(version int, prio uint8) []byte {
		cfg := RouterConfig{Name: "seed", Interface: "eth1", VRID: 51, Priority: prio, Version: version,
			AdvertInterval: time.Second, VIPs: []netip.Prefix{netip.MustParsePrefix("192.168.33.100/24")},
			Primary: netip.MustParseAddr("192.168.33.102")}
		b, err := encodeAdvert(&cfg, prio, cfg.Primary, Group4)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	for _, s := range [][]byte{seed(2, 100), seed(2, 0), seed(3, 200), seed(3, 0), seed(2, 255)} {
		f.Add(s, uint8(255))
		f.Add(s, uint8(64))
	}
	src := netip.MustParseAddr("192.168.33.102")
	f.Fuzz(func(t *testing.T, msg []byte, ttl uint8) {
		for _, version := range []int{2, 3} {
			r, err := NewRouter(RouterConfig{Name: "fuzz", Interface: "eth1", VRID: 51, Priority: 100, Version: version,
				AdvertInterval: time.Second, VIPs: []netip.Prefix{netip.MustParsePrefix("192.168.33.100/24")},
				Primary: netip.MustParseAddr("192.168.33.101")})
			if err != nil {
				t.Fatal(err)
			}
			now := time.Unix(1700000000, 0)
			r.Handle(now, Event{Kind: EventStartup})
			before := r.State()
			var v decode.VRRP
			a, ok := parseAdvert(&v, msg, rxInfo{Src: src, Dst: Group4, TTL: int(ttl)}, false)
			if !ok {
				continue
			}
			r.Handle(now.Add(10*time.Millisecond), Event{Kind: EventAdvert, Advert: a})
			if (ttl != 255 || a.BadChecksum) && r.State() != before {
				t.Fatalf("VRRPv%d: a message with TTL %d (bad checksum %v) moved the router from %v to %v", version, ttl, a.BadChecksum, before, r.State())
			}
		}
	})
}

// FuzzFromKeepalived drives the whole configuration path: kaconf's parser,
// then FromKeepalived, then the speaker's own checks. It must never panic,
// and what FromKeepalived accepts the speaker must accept.
func FuzzFromKeepalived(f *testing.F) {
	for _, s := range []string{
		"vrrp_script chk {\n script \"/bin/true\"\n weight -10\n}\ntrack_file tf {\n file /x\n}\nvrrp_instance A {\n interface eth1\n virtual_router_id 1\n track_script {\n chk\n }\n track_file {\n tf weight 2\n }\n virtual_ipaddress {\n 10.0.0.1/24\n }\n}\n",
		"global_defs {\n vrrp_mcast_group4 224.0.0.19\n}\nvrrp_sync_group G {\n group {\n A B\n }\n track_interface {\n eth2\n }\n}\nvrrp_instance A {\n interface eth1\n virtual_router_id 1\n virtual_ipaddress {\n 10.0.0.1\n }\n}\nvrrp_instance B {\n interface eth1\n virtual_router_id 2\n unicast_peer {\n 10.0.0.9 min_ttl 3\n }\n unicast_ttl 9\n virtual_ipaddress {\n 10.0.1.1\n }\n}\n",
		"vrrp_instance A {\n interface eth1\n virtual_router_id 1\n version 3\n virtual_ipaddress {\n 2001:db8::1\n fe80::1\n }\n virtual_ipaddress_excluded {\n 2001:db8::2\n }\n}\n",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, conf string, allow bool) {
		c, err := kaconf.Parse("f.conf", strings.NewReader(conf))
		if err != nil {
			return
		}
		opts, err := FromKeepalived(c, allow)
		if err != nil {
			return
		}
		if err := checkOptions(&opts); err != nil {
			t.Fatalf("FromKeepalived accepted what the speaker refuses: %v\n%s", err, conf)
		}
	})
}
