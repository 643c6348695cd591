package vrrpd

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/vrrpctl/vrrpctl/internal/nsenter"
)

// Reloading (SIGHUP) replaces the configuration of a running speaker
// without stopping it. A router whose settings did not change keeps its
// state and its timers: not one advert is missed. A router whose addresses,
// priority, GARP schedule, checks, scripts or tracking changed keeps its
// state too and takes the new settings at once (a master adds the new
// addresses, announces them and removes the old ones). A router that is no
// longer configured stops as on SIGTERM (a master sends priority 0); one
// whose interface, VRID, family, version, interval, authentication,
// source, peers, group or address ownership changed stops and starts anew;
// a new router starts.

type reloadReq struct {
	opts Options
	done chan error
}

// errNotRunning is returned by Reload when Run is not running.
var errNotRunning = errors.New("the speaker is not running")

// Reload replaces the configuration of the running speaker with opts (its
// NetNS and Logger are kept). An invalid configuration is refused and the
// running one kept.
func (s *Speaker) Reload(opts Options) error {
	opts.NetNS, opts.Logger = s.opts.NetNS, s.opts.Logger
	if err := checkOptions(&opts); err != nil {
		return err
	}
	select {
	case <-s.ready:
	case <-s.stopped:
		return errNotRunning
	}
	req := reloadReq{opts: opts, done: make(chan error, 1)}
	select {
	case s.reloads <- req:
	case <-s.stopped:
		return errNotRunning
	}
	return <-req.done
}

// reload applies opts in the loop.
func (h *runState) reload(opts Options, now time.Time) error {
	log := h.s.log
	next := map[string]RouterConfig{}
	for _, c := range opts.Routers {
		next[c.Name] = c
	}
	var kept []*vrouter
	for _, vr := range slices.Clone(h.routers) {
		nc, ok := next[vr.cfg.Name]
		if ok && !nc.Primary.IsValid() && vr.given.Primary == nc.Primary {
			nc.Primary = vr.cfg.Primary
			next[nc.Name] = nc
		}
		if ok && Reconfigurable(vr.cfg, nc) {
			kept = append(kept, vr)
			continue
		}
		what := "removed"
		if ok {
			what = "changed: restarted"
		}
		log.Info("reload: virtual router "+what, "router", vr.cfg.Name)
		h.removeRouter(vr, now)
	}
	for _, vr := range kept {
		h.updateRouter(vr, next[vr.cfg.Name], now)
	}
	var adds []RouterConfig
	for _, c := range opts.Routers {
		if !slices.ContainsFunc(kept, func(vr *vrouter) bool { return vr.cfg.Name == c.Name }) {
			adds = append(adds, c)
		}
	}
	before := len(h.routers)
	err := nsenter.RunPath(h.s.opts.NetNS, func() error { return h.addRouters(adds) })
	prev := h.scripts
	h.stopTracking()
	h.startTracking(opts, prev)
	h.buildGroups(opts.SyncGroups)
	for _, vr := range h.routers[before:] {
		log.Info("reload: virtual router added", "router", vr.cfg.Name)
		h.startRouter(vr, now)
	}
	for _, vr := range h.routers {
		h.retrack(vr, now)
	}
	h.s.opts.Routers, h.s.opts.Scripts, h.s.opts.TrackFiles, h.s.opts.SyncGroups =
		opts.Routers, opts.Scripts, opts.TrackFiles, opts.SyncGroups
	if err != nil {
		return fmt.Errorf("reload: %w", nsHint(err))
	}
	return nil
}

// removeRouter stops a router as on SIGTERM and releases what it holds.
func (h *runState) removeRouter(vr *vrouter, now time.Time) {
	vr.group = nil // its group is rebuilt after
	h.handle(vr, Event{Kind: EventShutdown}, now)
	h.deleteVIPs(vr)
	vr.ifc.pacer.Drop(vr.idx)
	delete(vr.ifc.routers, routerKey{vr.cfg.IPv6(), vr.cfg.VRID})
	h.closeVMAC(vr)
	h.routers = slices.DeleteFunc(h.routers, func(r *vrouter) bool { return r == vr })
}

// updateRouter gives a router new settings it can take without a restart.
// A master puts its new addresses on, announces them with a burst of
// garp_master_repeat and removes the addresses no longer configured.
func (h *runState) updateRouter(vr *vrouter, nc RouterConfig, now time.Time) {
	if err := vr.r.SetConfig(nc); err != nil {
		h.s.log.Error("reload", "router", nc.Name, "err", err)
		return
	}
	old := vr.cfg
	vr.cfg = nc
	want := map[netip.Addr]bool{}
	for _, p := range append(slices.Clone(nc.VIPs), nc.ExcludedVIPs...) {
		want[p.Addr()] = true
	}
	h.deleteAddrs(vr, func(ip netip.Addr) bool { return !want[ip] })
	had := map[netip.Addr]bool{}
	for _, p := range append(slices.Clone(old.VIPs), old.ExcludedVIPs...) {
		had[p.Addr()] = true
	}
	var fresh []netip.Addr
	for ip := range want {
		if !had[ip] {
			fresh = append(fresh, ip)
		}
	}
	h.markPresent(vr, fresh)
	if vr.r.State() != StateMaster {
		return
	}
	h.addVIPs(vr)
	if len(fresh) > 0 && nc.GARP.MasterRepeat > 0 {
		slices.SortFunc(fresh, netip.Addr.Compare)
		vr.ifc.pacer.Push(vr.idx, nc.GARP.MasterRepeat, fresh)
	}
}

// markPresent records which of addrs are on the router's interface
// already (put there by hand): they are never removed, as those found at
// start.
func (h *runState) markPresent(vr *vrouter, addrs []netip.Addr) {
	link := vr.ifc.link
	if vr.vmac != nil {
		link = vr.vmac.link
	}
	list, err := h.nl.AddrList(link, netlink.FAMILY_ALL)
	if err != nil {
		return
	}
	for _, a := range list {
		ip, _ := netip.AddrFromSlice(a.IP)
		if slices.Contains(addrs, ip.Unmap()) && !vr.added[ip.Unmap()] {
			vr.had[ip.Unmap()] = true
		}
	}
}
