package lab

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/vishvananda/netlink"
)

// A segment is the general form of a lab: a bridge in a namespace of its
// own (multicast snooping off, so every host hears every VRRP advert) and
// any number of hosts, each a namespace whose eth1 is a veth into the
// bridge. New builds the article's lab as one; other labs build their own
// topology with NewSegment and AddHost.

// SegmentOptions configures NewSegment.
type SegmentOptions struct {
	// Prefix starts the name of every namespace of the segment. Empty means
	// the product's Prefix: the segment then is a lab like New's, with a
	// 6-hex-digit ID and its run directory under RunRoot, and
	// `vrrpctl run-test-failover --cleanup` removes it when it is left
	// behind. Any other prefix (lowercase letters, not starting with Prefix)
	// keeps the segment out of --cleanup's sight: its ID is the creating
	// process' pid and 6 hex digits ("vd4242-1a2b3c"), and the segment is
	// removed by Close, or, if its process died first, by SweepStale, which
	// NewSegment runs once per prefix and process.
	Prefix string
	// Dir is the run directory (logs and pid files of what Start runs).
	// Empty means RunRoot/ID for the product's prefix and a fresh temporary
	// directory otherwise; Close removes those, never a Dir given here.
	Dir string
}

// HostOptions configures AddHostWith.
type HostOptions struct {
	// Addrs are put on the host's eth1.
	Addrs []netip.Prefix
	// MAC is eth1's hardware address; nil lets the kernel pick one.
	MAC net.HardwareAddr
}

// hostName is what a host may be called: it names the host's bridge port
// (at most 15 bytes, as any interface) and ends its namespace name.
var hostName = regexp.MustCompile(`^[a-z0-9]{1,15}$`)

// ownedPrefix is what a prefix other than Prefix must look like.
var ownedPrefix = regexp.MustCompile(`^[a-z]{1,8}$`)

// ownedPattern matches the namespace names of segments of prefix and
// captures the owner's pid and the run ID.
func ownedPattern(prefix string) *regexp.Regexp {
	return regexp.MustCompile(`^` + regexp.QuoteMeta(prefix) + `(([0-9]+)-[0-9a-f]{6})-[a-z0-9]+$`)
}

// NewSegment builds an empty segment: the switch namespace with the bridge,
// up. Hosts are added with AddHost. On error everything built so far is
// removed.
func NewSegment(opts SegmentOptions) (*Lab, error) {
	return newSegment(opts, os.Getpid())
}

// newSegment builds a segment owned by process pid.
func newSegment(opts SegmentOptions, pid int) (l *Lab, err error) {
	if err := CheckHost(); err != nil {
		return nil, err
	}
	prefix := opts.Prefix
	if prefix == "" {
		prefix = Prefix
	}
	l = &Lab{prefix: prefix, hosts: map[string]*Host{}}
	if prefix == Prefix {
		l.ID = NewID()
		l.Dir, l.ownDir = filepath.Join(RunRoot, l.ID), true
	} else {
		if !ownedPrefix.MatchString(prefix) || strings.HasPrefix(prefix, Prefix) {
			return nil, fmt.Errorf("lab prefix %q: want 1 to 8 lowercase letters, not starting with %q", prefix, Prefix)
		}
		sweepOnce(prefix)
		l.owned = true
		l.ID = strconv.Itoa(pid) + "-" + NewID()
	}
	defer func() {
		if err != nil {
			l.Close()
			l = nil
		}
	}()
	switch {
	case opts.Dir != "":
		l.Dir = opts.Dir
		l.ownDir = false
		if err := os.MkdirAll(l.Dir, 0o700); err != nil {
			return l, fmt.Errorf("lab run directory: %w", err)
		}
	case l.owned:
		l.Dir, l.ownDir = filepath.Join(os.TempDir(), prefix+l.ID), true
		if err := os.Mkdir(l.Dir, 0o700); err != nil {
			return l, fmt.Errorf("lab run directory: %w", err)
		}
	default:
		if err := os.MkdirAll(l.Dir, 0o700); err != nil {
			return l, fmt.Errorf("lab run directory: %w", err)
		}
	}
	sw, err := l.addNS(switchHost)
	if err != nil {
		return l, err
	}
	l.sw = sw
	off := false
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: bridgeName}, MulticastSnooping: &off}
	if err := sw.nl.LinkAdd(br); err != nil {
		return l, fmt.Errorf("create bridge: %w", err)
	}
	if err := sw.nl.LinkSetUp(br); err != nil {
		return l, fmt.Errorf("bridge up: %w", err)
	}
	l.bridge = br
	return l, nil
}

// AddHost adds a host to the segment: a namespace (loopback up, IPv6 off)
// whose eth1, with addrs and a MAC of the kernel's choosing, is wired to
// the bridge through the port named after the host. The name is 1 to 15
// lowercase letters and digits. Carrier comes a moment later: see
// WaitCarrier. A host that could not be built whole is still removed by
// Close. AddHost must not run concurrently with other methods of the lab.
func (l *Lab) AddHost(name string, addrs ...netip.Prefix) (*Host, error) {
	return l.AddHostWith(name, HostOptions{Addrs: addrs})
}

// AddHostWith is AddHost with all its options.
func (l *Lab) AddHostWith(name string, opts HostOptions) (*Host, error) {
	if l.bridge == nil {
		return nil, fmt.Errorf("lab %s has no bridge", l.ID)
	}
	if !hostName.MatchString(name) || name == switchHost || name == bridgeName {
		return nil, fmt.Errorf("host name %q: want 1 to 15 lowercase letters and digits, not %q or %q", name, switchHost, bridgeName)
	}
	if l.hosts[name] != nil {
		return nil, fmt.Errorf("host %q is already in lab %s", name, l.ID)
	}
	for _, a := range opts.Addrs {
		if !a.IsValid() {
			return nil, fmt.Errorf("host %s: invalid address %v", name, a)
		}
	}
	h, err := l.addNS(name)
	if err != nil {
		return nil, err
	}
	h.Addrs = append([]netip.Prefix(nil), opts.Addrs...)
	if len(h.Addrs) > 0 {
		h.Addr = h.Addrs[0]
	}
	h.MAC = append(net.HardwareAddr(nil), opts.MAC...)
	h.Port = name
	if err := l.wire(h, l.bridge); err != nil {
		return nil, err
	}
	return h, nil
}

// Hosts lists the hosts in the order they were added.
func (l *Lab) Hosts() []*Host { return l.hostList() }

// Switch returns the namespace holding the bridge.
func (l *Lab) Switch() *Host { return l.sw }

// host returns the named host, the switch for "sw", or an error.
func (l *Lab) host(name string) (*Host, error) {
	if name == switchHost && l.sw != nil {
		return l.sw, nil
	}
	if h := l.hosts[name]; h != nil {
		return h, nil
	}
	return nil, fmt.Errorf("no host %q in the lab", name)
}

// eth1 returns host's interface to the bridge.
func (l *Lab) eth1(host string) (*Host, netlink.Link, error) {
	h := l.hosts[host]
	if h == nil {
		return nil, nil, fmt.Errorf("no host %q in the lab", host)
	}
	link, err := h.nl.LinkByName(Iface)
	if err != nil {
		return nil, nil, fmt.Errorf("%s in %s: %w", Iface, h.NS, err)
	}
	return h, link, nil
}

// SetLink sets host's own eth1 administratively up or down, as `ip link
// set eth1 down` on the host: the host's side goes down, and the bridge
// port loses carrier.
func (l *Lab) SetLink(host string, up bool) error {
	h, link, err := l.eth1(host)
	if err != nil {
		return err
	}
	if up {
		err = h.nl.LinkSetUp(link)
	} else {
		err = h.nl.LinkSetDown(link)
	}
	if err != nil {
		return fmt.Errorf("set %s up=%v in %s: %w", Iface, up, h.NS, err)
	}
	return nil
}

// SetPortFlood turns the bridge's flooding of unknown unicast towards
// host's port on or off (`bridge link set ... flood on|off`): frames for a
// MAC the bridge has not learnt then no longer reach the host.
func (l *Lab) SetPortFlood(host string, on bool) error {
	link, err := l.portLink(host)
	if err != nil {
		return err
	}
	if err := l.sw.nl.LinkSetFlood(link, on); err != nil {
		return fmt.Errorf("set flooding on bridge port %s to %v: %w", link.Attrs().Name, on, err)
	}
	return nil
}

// Addrs lists the addresses on dev (Iface when empty) in host's namespace.
func (l *Lab) Addrs(host, dev string) ([]netip.Prefix, error) {
	h := l.hosts[host]
	if h == nil {
		return nil, fmt.Errorf("no host %q in the lab", host)
	}
	if dev == "" {
		dev = Iface
	}
	link, err := h.nl.LinkByName(dev)
	if err != nil {
		return nil, fmt.Errorf("%s in %s: %w", dev, h.NS, err)
	}
	as, err := h.nl.AddrList(link, netlink.FAMILY_ALL)
	if err != nil {
		return nil, fmt.Errorf("addresses of %s in %s: %w", dev, h.NS, err)
	}
	var out []netip.Prefix
	for _, a := range as {
		ones, _ := a.Mask.Size()
		out = append(out, netip.PrefixFrom(addrFromIP(a.IP), ones))
	}
	return out, nil
}

// HasAddr reports whether addr (with any prefix length) is on host's eth1.
func (l *Lab) HasAddr(host string, addr netip.Addr) bool {
	as, err := l.Addrs(host, Iface)
	if err != nil {
		return false
	}
	for _, a := range as {
		if a.Addr() == addr {
			return true
		}
	}
	return false
}

// LinkStats returns the counters of host's eth1 (those of
// /sys/class/net/eth1/statistics in the host).
func (l *Lab) LinkStats(host string) (netlink.LinkStatistics, error) {
	h, link, err := l.eth1(host)
	if err != nil {
		return netlink.LinkStatistics{}, err
	}
	st := link.Attrs().Statistics
	if st == nil {
		return netlink.LinkStatistics{}, fmt.Errorf("%s in %s: no statistics", Iface, h.NS)
	}
	return *st, nil
}

// LinkCounter returns one counter of host's eth1 by its name in
// /sys/class/net/eth1/statistics ("rx_packets", "rx_dropped", ...). Programs
// run in a host see the host's /proc/net, but /sys/class/net is the
// caller's: read the host's counters here.
func (l *Lab) LinkCounter(host, name string) (uint64, error) {
	st, err := l.LinkStats(host)
	if err != nil {
		return 0, err
	}
	v, ok := map[string]uint64{
		"rx_packets":          st.RxPackets,
		"tx_packets":          st.TxPackets,
		"rx_bytes":            st.RxBytes,
		"tx_bytes":            st.TxBytes,
		"rx_errors":           st.RxErrors,
		"tx_errors":           st.TxErrors,
		"rx_dropped":          st.RxDropped,
		"tx_dropped":          st.TxDropped,
		"multicast":           st.Multicast,
		"collisions":          st.Collisions,
		"rx_length_errors":    st.RxLengthErrors,
		"rx_over_errors":      st.RxOverErrors,
		"rx_crc_errors":       st.RxCrcErrors,
		"rx_frame_errors":     st.RxFrameErrors,
		"rx_fifo_errors":      st.RxFifoErrors,
		"rx_missed_errors":    st.RxMissedErrors,
		"tx_aborted_errors":   st.TxAbortedErrors,
		"tx_carrier_errors":   st.TxCarrierErrors,
		"tx_fifo_errors":      st.TxFifoErrors,
		"tx_heartbeat_errors": st.TxHeartbeatErrors,
		"tx_window_errors":    st.TxWindowErrors,
		"rx_compressed":       st.RxCompressed,
		"tx_compressed":       st.TxCompressed,
	}[name]
	if !ok {
		return 0, fmt.Errorf("no counter %q of %s", name, Iface)
	}
	return v, nil
}

// Segments of a prefix other than Prefix are swept once per prefix and
// process, by the first NewSegment.
var swept sync.Map

func sweepOnce(prefix string) {
	if _, done := swept.LoadOrStore(prefix, true); !done {
		SweepStale(prefix)
	}
}

// SweepStale removes the segments of prefix (not Prefix) whose creating
// process has ended without removing them, as after a SIGKILL: their
// processes, namespaces and temporary run directories. Segments of live
// processes are left alone. It returns the IDs it removed.
func SweepStale(prefix string) ([]string, error) {
	if prefix == Prefix || !ownedPrefix.MatchString(prefix) || strings.HasPrefix(prefix, Prefix) {
		return nil, fmt.Errorf("lab prefix %q: not one SweepStale handles", prefix)
	}
	re := ownedPattern(prefix)
	stale := map[string]bool{}
	ents, err := os.ReadDir(netnsDir)
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("list %s: %w", netnsDir, err)
	}
	dirs, _ := os.ReadDir(os.TempDir())
	for _, e := range append(ents, dirs...) {
		name := e.Name()
		if e.IsDir() {
			// A temporary run directory is named like a host's namespace
			// without the host.
			name += "-x"
		}
		m := re.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		pid, err := strconv.Atoi(m[2])
		if err != nil || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		stale[m[1]] = true
	}
	var ids []string
	var errs []error
	for id := range stale {
		ids = append(ids, id)
		errs = append(errs, removeSegment(prefix, id))
		if err := os.RemoveAll(filepath.Join(os.TempDir(), prefix+id)); err != nil {
			errs = append(errs, err)
		}
	}
	return ids, errors.Join(errs...)
}
