package vrrpd

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/vrrpctl/vrrpctl/kaconf"
)

// GARPConfig is the gratuitous ARP (IPv4) / unsolicited neighbour
// advertisement (IPv6) schedule, with keepalived's meaning and defaults
// (see DefaultGARP). A burst of N sends one GARP per virtual address, N
// times; every GARP of an interface goes through one queue paced by Interval.
type GARPConfig struct {
	// MasterDelay is the delay of the second burst after becoming master
	// (vrrp_garp_master_delay, default 5 s; 0 = no second burst).
	MasterDelay time.Duration
	// MasterRepeat is the size of each burst after becoming master
	// (vrrp_garp_master_repeat, default 5).
	MasterRepeat int
	// MasterRefresh is the period of refresh bursts while master
	// (vrrp_garp_master_refresh, default 0 = off).
	MasterRefresh time.Duration
	// MasterRefreshRepeat is the size of a refresh burst
	// (vrrp_garp_master_refresh_repeat, default 1).
	MasterRefreshRepeat int
	// Interval paces GARPs on one interface: at most one per Interval
	// (vrrp_garp_interval, default 0 = back to back).
	Interval time.Duration
	// LowerPrioDelay is the delay of the second burst after a master heard a
	// lower priority advert (vrrp_garp_lower_prio_delay, default MasterDelay).
	LowerPrioDelay time.Duration
	// LowerPrioRepeat is the size of the bursts a master sends when it hears
	// a lower priority advert (vrrp_garp_lower_prio_repeat, default
	// MasterRepeat; 0 = neither burst).
	LowerPrioRepeat int
}

// DefaultGARP returns keepalived's defaults, as package kaconf holds them.
func DefaultGARP() GARPConfig { return garpConfig(kaconf.DefaultGARP()) }

// garpConfig is the schedule of keepalived's GARP settings, for IPv4; an
// IPv6 router paces its neighbour advertisements by NAInterval instead
// when that is set.
func garpConfig(g kaconf.GARP) GARPConfig {
	return GARPConfig{
		MasterDelay:         g.MasterDelay,
		MasterRepeat:        g.MasterRepeat,
		MasterRefresh:       g.MasterRefresh,
		MasterRefreshRepeat: g.MasterRefreshRepeat,
		Interval:            g.Interval,
		LowerPrioDelay:      g.LowerPrioDelay,
		LowerPrioRepeat:     g.LowerPrioRepeat,
	}
}

// RouterConfig is one virtual router: one VRID on one interface for one
// address family.
type RouterConfig struct {
	// Name names the router in logs and metrics (keepalived's instance name).
	Name      string
	Interface string
	VRID      uint8
	// Priority is 1-255; 255 means this router owns the virtual addresses.
	Priority uint8
	// Version is 2 (RFC 3768, IPv4 only) or 3 (RFC 5798).
	Version int
	// AdvertInterval is the advertisement interval: whole seconds for
	// version 2, centiseconds (10 ms steps) for version 3.
	AdvertInterval time.Duration
	// NoPreempt turns preemption off (preemption is on by default).
	NoPreempt bool
	// PreemptDelay delays preemption of a lower priority master until this
	// long after startup or after the first lower priority advert.
	PreemptDelay time.Duration
	// AuthPass enables VRRPv2 simple text authentication (at most 8 bytes).
	AuthPass string
	// VIPs are the virtual addresses, all of one family.
	VIPs []netip.Prefix
	// Primary is this router's own address on Interface, the adverts' source.
	// The host side fills it in when it is left invalid.
	Primary netip.Addr
	// UnicastPeers, when set, receive adverts by unicast instead of multicast.
	UnicastPeers []netip.Addr
	// PeerTTL is the TTL range accepted from each of UnicastPeers (by
	// index); a peer without one is accepted with any TTL, since routed
	// peers arrive with less than 255.
	PeerTTL []TTLRange
	// UnicastTTL is the TTL of unicast adverts (0 means 255).
	UnicastTTL int
	// CheckUnicastSrc discards unicast adverts from addresses that are not
	// among UnicastPeers.
	CheckUnicastSrc bool
	// Group is the multicast group of the adverts; invalid means
	// 224.0.0.18 (ff02::12 for IPv6).
	Group netip.Addr
	// ChecksumAsV2 sends VRRPv3 adverts with a checksum computed without
	// the IP pseudo-header, as VRRPv2's (keepalived's v3_checksum_as_v2).
	ChecksumAsV2 bool
	// LowerPrioNoAdvert: a master that hears a lower priority sends no
	// advert in answer; HigherPrioSendAdvert: a master that hears a higher
	// priority sends one advert of its own before it becomes backup.
	LowerPrioNoAdvert, HigherPrioSendAdvert bool
	// ExcludedVIPs are added and removed with VIPs but not advertised
	// (keepalived's virtual_ipaddress_excluded).
	ExcludedVIPs []netip.Prefix
	// SkipCheckAdvAddr accepts adverts whose address list differs from VIPs
	// (keepalived's vrrp_skip_check_adv_addr); the mismatch is still counted.
	SkipCheckAdvAddr bool
	// UseVMAC puts the virtual addresses on a macvlan with the VRRP virtual
	// MAC 00:00:5e:00:01:VRID (00:00:5e:00:02:VRID for IPv6).
	UseVMAC bool
	GARP    GARPConfig
	// NotifyMaster, NotifyBackup and NotifyFault are commands run through
	// /bin/sh on entering that state, NotifyStop when the router stops, as
	// keepalived's notify_* scripts; Notify on every change, with the
	// arguments INSTANCE NAME STATE PRIORITY; NotifyMasterRxLowerPri when
	// a master hears a lower priority.
	NotifyMaster, NotifyBackup, NotifyFault, NotifyStop string
	Notify, NotifyMasterRxLowerPri                      string
	// Tracking: interfaces, vrrp_scripts and track_files (by name, with a
	// weight or none) whose failure lowers the priority or, without a
	// weight, puts the router in FAULT.
	TrackInterfaces, TrackScripts, TrackFiles []Track
	// DontTrackPrimary: the router's own interface going down is no fault.
	DontTrackPrimary bool
	// SyncGroup names the vrrp_sync_group the router is in, if any.
	SyncGroup string
}

// TTLRange is a range of TTLs (hop limits), both ends included.
type TTLRange struct{ Min, Max uint8 }

// Track is one tracked object of a router.
type Track struct {
	Name string
	// Weight changes the priority on a failure (a negative weight) or
	// while up (a positive one); 0 means FAULT on a failure. For a script
	// or a file, the object's own weight counts unless WeightSet.
	Weight    int
	WeightSet bool
	// Reverse turns the meaning of the weight around, as keepalived's
	// "weight N reverse".
	Reverse bool
}

// group is the multicast group of the adverts.
func (c *RouterConfig) group() netip.Addr {
	if c.Group.IsValid() {
		return c.Group
	}
	if c.IPv6() {
		return Group6
	}
	return Group4
}

// IPv6 reports whether the router speaks VRRPv3 over IPv6.
func (c *RouterConfig) IPv6() bool {
	return len(c.VIPs) > 0 && c.VIPs[0].Addr().Is6()
}

// Validate reports the first problem with c, naming the field.
func (c *RouterConfig) Validate() error {
	name := c.Name
	if name == "" {
		name = fmt.Sprintf("vrid %d", c.VRID)
	}
	bad := func(format string, a ...any) error {
		return fmt.Errorf("virtual router %s: "+format, append([]any{name}, a...)...)
	}
	switch {
	case c.Interface == "":
		return bad("no interface")
	case c.VRID == 0:
		return bad("virtual_router_id must be 1-255")
	case c.Priority == 0:
		return bad("priority must be 1-255")
	case c.Version != 2 && c.Version != 3:
		return bad("vrrp version %d: must be 2 or 3", c.Version)
	case len(c.VIPs) == 0:
		return bad("no virtual_ipaddress")
	case len(c.VIPs) > 255:
		return bad("%d virtual addresses: at most 255", len(c.VIPs))
	case len(c.AuthPass) > 8:
		return bad("auth_pass %q longer than 8 characters", c.AuthPass)
	case c.AuthPass != "" && c.Version != 2:
		return bad("authentication exists in VRRPv2 only")
	}
	v6 := c.IPv6()
	if v6 && c.Version != 3 {
		return bad("IPv6 needs vrrp version 3")
	}
	for _, p := range c.VIPs {
		if !p.IsValid() {
			return bad("invalid virtual address")
		}
		if p.Addr().Is6() != v6 {
			return bad("virtual addresses %s and %s are of different families", c.VIPs[0], p)
		}
	}
	if c.Primary.IsValid() && c.Primary.Is6() != v6 {
		return bad("source address %s is not of the virtual addresses' family", c.Primary)
	}
	for _, p := range c.UnicastPeers {
		if p.Is6() != v6 {
			return bad("unicast peer %s is not of the virtual addresses' family", p)
		}
	}
	for _, p := range c.ExcludedVIPs {
		if !p.IsValid() {
			return bad("invalid excluded virtual address")
		}
	}
	if c.Group.IsValid() && (!c.Group.IsMulticast() || c.Group.Is6() != v6) {
		return bad("multicast group %s is not an %s multicast address", c.Group, map[bool]string{false: "IPv4", true: "IPv6"}[v6])
	}
	if c.UnicastTTL < 0 || c.UnicastTTL > 255 {
		return bad("unicast TTL %d is not 0-255", c.UnicastTTL)
	}
	switch c.Version {
	case 2:
		if c.AdvertInterval < time.Second || c.AdvertInterval > 255*time.Second || c.AdvertInterval%time.Second != 0 {
			return bad("advert_int %v: VRRPv2 needs whole seconds 1-255", c.AdvertInterval)
		}
	case 3:
		if c.AdvertInterval < 10*time.Millisecond || c.AdvertInterval > 4095*10*time.Millisecond {
			return bad("advert_int %v: VRRPv3 needs 0.01-40.95 s", c.AdvertInterval)
		}
	}
	g := c.GARP
	if g.MasterRepeat < 0 || g.MasterRefreshRepeat < 0 || g.LowerPrioRepeat < 0 ||
		g.MasterDelay < 0 || g.MasterRefresh < 0 || g.Interval < 0 || g.LowerPrioDelay < 0 {
		return bad("negative GARP setting")
	}
	return nil
}

// errNoRouters is returned for a configuration without virtual routers.
var errNoRouters = errors.New("no virtual routers configured")
