package vrrpd

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/vrrpctl/vrrpctl/internal/nsenter"
	"github.com/vrrpctl/vrrpctl/vrrp"
)

// vmac is a router's macvlan carrying the VRRP virtual MAC (use_vmac), as
// keepalived makes it: created on the parent interface at start, in
// private mode, named vrrp.VRID (vrrp6.VRID for IPv6), without IPv6
// address generation so that it sends nothing while the router is backup.
// The router's virtual addresses go on it while master, and its adverts and
// GARPs leave from it with the virtual MAC as source. It is deleted on exit.
type vmac struct {
	name   string
	link   netlink.Link
	ifi    *net.Interface
	conn   advertConn // sends the router's adverts and receives its multicast ones
	frames frameConn
}

// rxOnVMAC reports whether the router takes its adverts from its macvlan.
// A frame whose source MAC is a local macvlan's (the peers' adverts, sent
// from the same virtual MAC) reaches only that macvlan, never its parent,
// so a multicast router reads its VRID there, as keepalived does; unicast
// adverts are addressed to the parent's MAC and arrive on the parent.
func (vr *vrouter) rxOnVMAC() bool {
	return vr.vmac != nil && vr.vmac.conn != nil && len(vr.cfg.UnicastPeers) == 0
}

// vmacName is keepalived's default name for the macvlan of vrid.
func vmacName(vrid uint8, v6 bool) string {
	if v6 {
		return fmt.Sprintf("vrrp6.%d", vrid)
	}
	return fmt.Sprintf("vrrp.%d", vrid)
}

// sysctlSet writes value to a /proc/sys path of the calling thread's
// network namespace and returns the previous value.
func sysctlSet(path, value string) (string, error) {
	old, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(path, []byte(value), 0o644); err != nil {
		return "", err
	}
	return strings.TrimSpace(string(old)), nil
}

// openVMAC creates and brings up the macvlan of vr on its interface and
// opens its sockets; it runs in the speaker's namespace. The caller deletes
// it with closeVMAC whatever happens afterwards.
func (h *runState) openVMAC(vr *vrouter) error {
	ifc, v6 := vr.ifc, vr.cfg.IPv6()
	vaddr := vrrp.VirtualMAC(vr.cfg.VRID, v6)
	name, mac := vmacName(vr.cfg.VRID, v6), net.HardwareAddr(vaddr[:])
	where := fmt.Sprintf("virtual router %s: use_vmac: %s", vr.cfg.Name, name)
	if old, err := h.nl.LinkByName(name); err == nil {
		// A macvlan left by a speaker that was killed: the same parent and
		// MAC mean it is ours to replace; anything else is not touched.
		mv, ok := old.(*netlink.Macvlan)
		if !ok || old.Attrs().ParentIndex != ifc.ifi.Index || old.Attrs().HardwareAddr.String() != mac.String() {
			return fmt.Errorf("%s: an interface of that name exists and is not this router's macvlan", where)
		}
		if err := h.nl.LinkDel(mv); err != nil {
			return permissionHint(err, where+": removing the leftover macvlan")
		}
	}
	la := netlink.NewLinkAttrs()
	la.Name, la.ParentIndex, la.HardwareAddr = name, ifc.ifi.Index, mac
	link := &netlink.Macvlan{LinkAttrs: la, Mode: netlink.MACVLAN_MODE_PRIVATE}
	if err := h.nl.LinkAdd(link); err != nil {
		return permissionHint(err, where+": creating the macvlan")
	}
	vm := &vmac{name: name}
	vr.vmac = vm
	l, err := h.nl.LinkByName(name)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	vm.link = l
	a := l.Attrs()
	vm.ifi = &net.Interface{Index: a.Index, MTU: a.MTU, Name: a.Name, HardwareAddr: a.HardwareAddr, Flags: a.Flags}
	if err := h.nl.LinkSetIP6AddrGenMode(l, 1 /* IN6_ADDR_GEN_MODE_NONE */); err != nil {
		return fmt.Errorf("%s: turning IPv6 address generation off: %w", where, err)
	}
	// Only the macvlan answers ARP for the virtual addresses, with the
	// virtual MAC; it does not answer for the parent's own addresses
	// (arp_ignore 1 on both). The parent's own ARP requests carry the
	// parent's address, never a virtual one, which would teach the
	// neighbours the parent's MAC for it (arp_announce 2).
	for _, set := range []struct{ dev, key, val string }{
		{ifc.name, "arp_ignore", "1"}, {ifc.name, "arp_announce", "2"}, {name, "arp_ignore", "1"},
	} {
		path := "/proc/sys/net/ipv4/conf/" + set.dev + "/" + set.key
		if _, done := h.sysctlOld[path]; done {
			continue
		}
		old, err := sysctlSet(path, set.val)
		if err != nil {
			return fmt.Errorf("%s: setting %s on %s: %w", where, set.key, set.dev, err)
		}
		if set.dev == ifc.name {
			h.sysctlOld[path] = old
		}
	}
	if err := h.nl.LinkSetUp(l); err != nil {
		return fmt.Errorf("%s: bringing it up: %w", where, err)
	}
	var err2 error
	if v6 {
		vm.conn, err2 = listenIPv6(vm.ifi)
	} else {
		vm.conn, err2 = listenIPv4(vm.ifi)
	}
	if err2 != nil {
		return err2
	}
	if len(vr.cfg.UnicastPeers) == 0 {
		if err := vm.conn.Join(vr.cfg.group()); err != nil {
			return err
		}
	}
	fc, err := openPacketConn(vm.ifi)
	if err != nil {
		return err
	}
	vm.frames = fc
	return nil
}

// closeVMAC closes a router's macvlan sockets and deletes the macvlan
// (its addresses go with it).
func (h *runState) closeVMAC(vr *vrouter) {
	vm := vr.vmac
	if vm == nil {
		return
	}
	if vm.conn != nil {
		vm.conn.Close()
	}
	if vm.frames != nil {
		vm.frames.Close()
	}
	if vm.link != nil {
		if err := h.nl.LinkDel(vm.link); err != nil && !errors.Is(err, unix.ENODEV) {
			h.s.log.Error("removing macvlan", "router", vr.cfg.Name, "interface", vm.name, "err", err)
		}
	} else if l, err := h.nl.LinkByName(vm.name); err == nil {
		h.nl.LinkDel(l)
	}
	clear(vr.added)
	vr.vmac = nil
}

// closeVMACs deletes every macvlan and restores the parents' ARP settings.
func (h *runState) closeVMACs() {
	for _, vr := range h.routers {
		h.closeVMAC(vr)
	}
	h.restoreSysctls()
}

// restoreSysctls puts back the parents' ARP settings a macvlan changed.
func (h *runState) restoreSysctls() {
	if len(h.sysctlOld) == 0 {
		return
	}
	err := nsenter.RunPath(h.s.opts.NetNS, func() error {
		for path, old := range h.sysctlOld {
			if _, err := sysctlSet(path, old); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		h.s.log.Error("restoring ARP settings", "err", err)
	}
	clear(h.sysctlOld)
}
