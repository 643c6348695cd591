package vrrpd

import (
	"net/netip"
	"testing"
	"time"
)

// Routers without a name get one from interface, family and VRID: an IPv4
// and an IPv6 router of one VRID on one interface do not share it.
func TestDefaultNames(t *testing.T) {
	v4 := RouterConfig{Interface: "eth1", VRID: 51, Priority: 100, Version: 3, AdvertInterval: time.Second,
		VIPs: []netip.Prefix{netip.MustParsePrefix("192.168.33.100/24")}}
	v6 := RouterConfig{Interface: "eth1", VRID: 51, Priority: 100, Version: 3, AdvertInterval: time.Second,
		VIPs: []netip.Prefix{netip.MustParsePrefix("fe80::1/64")}}
	sp, err := New(Options{Routers: []RouterConfig{v4, v6}})
	if err != nil {
		t.Fatal(err)
	}
	names := []string{sp.opts.Routers[0].Name, sp.opts.Routers[1].Name}
	if names[0] != "VR_eth1_51" || names[1] != "VR6_eth1_51" {
		t.Errorf("default names %v, want VR_eth1_51 and VR6_eth1_51", names)
	}
}
