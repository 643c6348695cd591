// Package lab stages VRRP failovers on one machine: a client "here" and two
// routers "nat1" and "nat2" in network namespaces of their own, joined by a
// bridge in a fourth namespace, with the article's addresses (VIP
// 192.168.33.100). Nothing of a lab touches the host's own network: every
// link and address lives in the lab's namespaces, and Close removes them with
// every process that runs in them.
//
// New builds that topology on a general one, which other labs use as well:
// NewSegment makes the bridge, AddHost wires any number of hosts to it, and
// the lab runs programs in them (Start, Run), filters (Nft), unplugs ports
// (SetPort) and links (SetLink) and reads their counters.
package lab

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/vrrpctl/vrrpctl/internal/nsenter"
)

// Prefix starts the name of every namespace of a lab, followed by the run ID.
const Prefix = "vl"

// RunRoot holds one directory per lab: configuration, pid files and logs of
// what runs in it.
const RunRoot = "/run/vrrpctl-lab"

// The article's topology.
var (
	VIP    = netip.MustParsePrefix("192.168.33.100/24")
	Subnet = netip.MustParsePrefix("192.168.33.0/24")
)

// VRID is the virtual router ID of the lab's VIP.
const VRID = 51

// The hosts of a lab.
const (
	Here = "here"
	Nat1 = "nat1"
	Nat2 = "nat2"
)

// Iface is every host's interface to the bridge, as in the article.
const Iface = "eth1"

// switchHost names the namespace holding the bridge.
const switchHost = "sw"

const bridgeName = "br0"

// Host is one namespace of the lab with its interface to the bridge.
type Host struct {
	Name string
	// NS is the namespace's name under /run/netns.
	NS string
	// Addr is the first of Addrs, or the zero Prefix for a host without one.
	Addr  netip.Prefix
	Addrs []netip.Prefix
	MAC   net.HardwareAddr
	// Port is the bridge port (in the switch namespace) the host hangs off.
	Port string

	handle netns.NsHandle
	nl     *netlink.Handle
}

// Handle returns the namespace handle; it stays valid until the lab closes.
func (h *Host) Handle() netns.NsHandle { return h.handle }

// Path returns the namespace's file, as programs taking a namespace path
// (nsenter --net=PATH, setns) want it.
func (h *Host) Path() string { return filepath.Join(netnsDir, h.NS) }

// Lab is one built topology.
type Lab struct {
	ID  string
	Dir string

	// prefix starts the lab's namespace names; owned is set for labs of a
	// prefix other than Prefix, whose IDs carry the creating process' pid.
	prefix string
	owned  bool
	// ownDir is set when Close removes Dir (created by the lab itself).
	ownDir bool
	bridge *netlink.Bridge

	hosts  map[string]*Host
	order  []string
	sw     *Host
	mu     sync.Mutex
	procs  []*Process
	closed bool
}

// hostPlan lists the hosts with their address; MACs are derived from the
// address' last byte so reports are easy to read.
var hostPlan = []struct {
	name string
	addr string
}{
	{Here, "192.168.33.2/24"},
	{Nat1, "192.168.33.101/24"},
	{Nat2, "192.168.33.102/24"},
}

// NewID returns a fresh run ID: 6 hex digits.
func NewID() string {
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}

// CheckHost reports why a lab cannot be built here, or nil.
func CheckHost() error {
	if os.Geteuid() != 0 {
		return errNotRoot
	}
	if _, err := os.Stat("/proc/self/ns/net"); err != nil {
		return fmt.Errorf("this kernel has no network namespaces: %w", err)
	}
	return nil
}

// New builds the article's lab: the namespaces, the bridge, one veth per
// host with its address, all up. On error everything built so far is
// removed.
func New() (l *Lab, err error) {
	l, err = NewSegment(SegmentOptions{})
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			l.Close()
			l = nil
		}
	}()
	for _, p := range hostPlan {
		addr := netip.MustParsePrefix(p.addr)
		last := addr.Addr().As4()[3]
		opts := HostOptions{Addrs: []netip.Prefix{addr}, MAC: net.HardwareAddr{0x02, 0x33, 0, 0, 0, last}}
		if _, err := l.AddHostWith(p.name, opts); err != nil {
			return l, err
		}
	}
	return l, l.WaitCarrier(5 * time.Second)
}

// WaitCarrier waits until every host's eth1 is operationally up: veths
// come up asynchronously, and a lab used before that drops the first frames.
func (l *Lab) WaitCarrier(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for _, h := range l.hostList() {
		for {
			link, err := h.nl.LinkByName(Iface)
			if err != nil {
				return fmt.Errorf("%s in %s: %w", Iface, h.NS, err)
			}
			if link.Attrs().OperState == netlink.OperUp {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s in %s not up after %v (state %s)", Iface, h.NS, limit, link.Attrs().OperState)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return nil
}

// addNS creates the namespace for host with its loopback up and IPv6 off
// (the lab is IPv4; it keeps neighbour discovery out of the capture).
func (l *Lab) addNS(host string) (*Host, error) {
	name := l.prefix + l.ID + "-" + host
	hd, err := newNamedNS(name)
	if err != nil {
		return nil, err
	}
	h := &Host{Name: host, NS: name, handle: hd}
	if host == switchHost {
		l.sw = h
	} else {
		l.hosts[host] = h
		l.order = append(l.order, host)
	}
	h.nl, err = netlink.NewHandleAt(hd)
	if err != nil {
		return nil, fmt.Errorf("netlink in namespace %s: %w", name, err)
	}
	lo, err := h.nl.LinkByName("lo")
	if err == nil {
		err = h.nl.LinkSetUp(lo)
	}
	if err != nil {
		return nil, fmt.Errorf("loopback up in %s: %w", name, err)
	}
	if err := l.Sysctl(h, "net/ipv6/conf/all/disable_ipv6", "1"); err != nil {
		return nil, err
	}
	if err := l.Sysctl(h, "net/ipv6/conf/default/disable_ipv6", "1"); err != nil {
		return nil, err
	}
	return h, nil
}

// wire connects h to the bridge: a veth whose bridge end is named after the
// host and whose other end is eth1 in the host's namespace, with h's MAC
// when it has one (the kernel picks one otherwise, and wire records it).
func (l *Lab) wire(h *Host, br *netlink.Bridge) error {
	veth := &netlink.Veth{
		LinkAttrs:        netlink.LinkAttrs{Name: h.Port, MasterIndex: br.Index},
		PeerName:         Iface,
		PeerHardwareAddr: h.MAC,
		PeerNamespace:    netlink.NsFd(int(h.handle)),
	}
	if err := l.sw.nl.LinkAdd(veth); err != nil {
		return fmt.Errorf("create veth for %s: %w", h.Name, err)
	}
	if err := l.sw.nl.LinkSetUp(veth); err != nil {
		return fmt.Errorf("bridge port %s up: %w", h.Port, err)
	}
	link, err := h.nl.LinkByName(Iface)
	if err != nil {
		return fmt.Errorf("%s in %s: %w", Iface, h.NS, err)
	}
	if len(h.MAC) == 0 {
		h.MAC = link.Attrs().HardwareAddr
	}
	for _, a := range h.Addrs {
		addr := &netlink.Addr{IPNet: prefixNet(a)}
		if err := h.nl.AddrAdd(link, addr); err != nil {
			return fmt.Errorf("address %s on %s: %w", a, h.Name, err)
		}
	}
	if err := h.nl.LinkSetUp(link); err != nil {
		return fmt.Errorf("%s up in %s: %w", Iface, h.NS, err)
	}
	return nil
}

func prefixNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

// Host returns the named host (Here, Nat1, Nat2 in the article's lab) or nil.
func (l *Lab) Host(name string) *Host { return l.hosts[name] }

// HostByMAC names the host owning mac, or returns "" for a stranger.
func (l *Lab) HostByMAC(mac net.HardwareAddr) string {
	for _, h := range l.hosts {
		if h.MAC.String() == mac.String() {
			return h.Name
		}
	}
	return ""
}

// Namespaces lists the lab's namespace names.
func (l *Lab) Namespaces() []string {
	names := []string{l.sw.NS}
	for _, h := range l.hostList() {
		names = append(names, h.NS)
	}
	return names
}

// portLink finds host's port on the bridge.
func (l *Lab) portLink(host string) (netlink.Link, error) {
	h := l.hosts[host]
	if h == nil {
		return nil, fmt.Errorf("no host %q in the lab", host)
	}
	link, err := l.sw.nl.LinkByName(h.Port)
	if err != nil {
		return nil, fmt.Errorf("bridge port %s: %w", h.Port, err)
	}
	return link, nil
}

// SetPort sets the bridge port of host up or down, as unplugging its cable:
// the host's eth1 loses carrier.
func (l *Lab) SetPort(host string, up bool) error {
	link, err := l.portLink(host)
	if err != nil {
		return err
	}
	if up {
		err = l.sw.nl.LinkSetUp(link)
	} else {
		err = l.sw.nl.LinkSetDown(link)
	}
	if err != nil {
		return fmt.Errorf("set bridge port %s up=%v: %w", link.Attrs().Name, up, err)
	}
	return nil
}

// Sysctl writes a net.* sysctl (path below /proc/sys, with slashes) in the host's namespace.
func (l *Lab) Sysctl(h *Host, key, value string) error {
	return nsenter.Run(h.handle, func() error {
		// /proc/sys/net resolves to the namespace of the thread opening it.
		if err := os.WriteFile(filepath.Join("/proc/sys", key), []byte(value), 0o644); err != nil {
			return fmt.Errorf("sysctl %s=%s in %s: %w", strings.ReplaceAll(key, "/", "."), value, h.NS, err)
		}
		return nil
	})
}

// SwitchNS returns the bridge namespace's name.
func (l *Lab) SwitchNS() string { return l.sw.NS }

// Close stops every process in the lab and removes its namespaces (with the
// links and addresses in them) and its run directory. It is safe to call
// more than once and after a failed New.
func (l *Lab) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	procs := l.procs
	l.mu.Unlock()

	var errs []error
	// Stop our own children first so their Wait goroutines reap them.
	for _, p := range procs {
		p.Stop(2 * time.Second)
	}
	if l.owned {
		errs = append(errs, removeSegment(l.prefix, l.ID))
		if l.ownDir {
			if err := os.RemoveAll(l.Dir); err != nil {
				errs = append(errs, fmt.Errorf("remove %s: %w", l.Dir, err))
			}
		}
	} else {
		errs = append(errs, removeLab(l.ID))
	}
	for _, h := range append([]*Host{l.sw}, l.hostList()...) {
		if h == nil {
			continue
		}
		if h.nl != nil {
			h.nl.Close()
		}
		if h.handle.IsOpen() {
			h.handle.Close()
		}
	}
	return errors.Join(errs...)
}

func (l *Lab) hostList() []*Host {
	var hs []*Host
	for _, name := range l.order {
		if h := l.hosts[name]; h != nil {
			hs = append(hs, h)
		}
	}
	return hs
}

// EnterHint tells how to look into a kept lab.
func (l *Lab) EnterHint() string {
	var b strings.Builder
	fmt.Fprintf(&b, "lab %s kept; enter a host with:\n", l.ID)
	for _, h := range l.hostList() {
		fmt.Fprintf(&b, "  nsenter --net=%s bash    # %s %s\n", h.Path(), h.Name, h.Addr)
	}
	fmt.Fprintf(&b, "  nsenter --net=%s bridge link   # the bridge\n", l.sw.Path())
	fmt.Fprintf(&b, "run directory (configs, logs): %s\n", l.Dir)
	if l.owned {
		fmt.Fprintf(&b, "it is removed by the next lab of prefix %q once this process has ended\n", l.prefix)
	} else {
		fmt.Fprintf(&b, "remove it with: vrrpctl run-test-failover --cleanup\n")
	}
	return b.String()
}

func addrFromIP(ip net.IP) netip.Addr {
	a, _ := netip.AddrFromSlice(ip)
	return a.Unmap()
}
