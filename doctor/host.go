package doctor

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/vrrpctl/vrrpctl/internal/mcbridge"
	"github.com/vrrpctl/vrrpctl/internal/nsenter"
	"github.com/vrrpctl/vrrpctl/kaconf"
)

// Host is what Inspect saw of a host or network namespace: the state the
// host checks read, and nothing else.
type Host struct {
	// Netns is the namespace inspected ("" for the caller's).
	Netns      string
	Links      []Link
	Neighbours []Neighbour
	// Sysctls holds the values read, by key ("net.ipv4.conf.eth1.arp_ignore").
	Sysctls map[string]int
	// Memberships are the multicast groups joined, per interface
	// (/proc/net/igmp and igmp6).
	Memberships []Membership
	Bridges     []mcbridge.Bridge
	// Firewall is nil when no backend could be read; FirewallNotes says
	// what was read and what not.
	Firewall      *Firewall
	FirewallNotes []string
	// Speakers are the VRRP speakers running in the namespace.
	Speakers []Speaker
	// Keepalived is the version of keepalived found (the running one's, else
	// the one in PATH), and KeepalivedFrom where it was found.
	Keepalived     Version
	KeepalivedFrom string
	// Errors says what could not be read.
	Errors []string
}

// Link is a network interface.
type Link struct {
	Name  string
	Index int
	Kind  string // veth, bridge, macvlan, ...
	Up    bool
	NoARP bool
	// Multicast is IFF_MULTICAST: keepalived refuses a multicast instance
	// on an interface without it.
	Multicast bool
	Master    string
	MAC       string
	Addrs     []netip.Prefix
}

// Neighbour is one entry of the neighbour table.
type Neighbour struct {
	IP    netip.Addr
	MAC   string
	Link  string
	State string // PERMANENT, NOARP, REACHABLE, STALE, ... joined by "|"
}

// Static reports whether the kernel never changes the entry from the wire.
func (n Neighbour) Static() bool {
	return strings.Contains(n.State, "PERMANENT") || strings.Contains(n.State, "NOARP")
}

// Membership is a multicast group joined on an interface.
type Membership struct {
	Link  string
	Group netip.Addr
}

// Speaker is a running VRRP speaker.
type Speaker struct {
	Pid  int
	Kind string // "keepalived" or "vrrpctl speaker"
	Args []string
	// Config is the configuration file it reads (through /proc/PID/root),
	// "" when it runs without one.
	Config string
	// VIPs given on the command line (vrrpctl speaker --vip).
	VIPs []netip.Addr
}

// NetnsPath turns a --netns value into a path: a name under /run/netns, or
// a path as given.
func NetnsPath(ns string) string {
	if ns == "" || strings.Contains(ns, "/") {
		return ns
	}
	return filepath.Join("/run/netns", ns)
}

// Inspect reads the state of the network namespace ns (a name under
// /run/netns or a path; "" for the caller's). It fails only when the
// namespace cannot be entered; what cannot be read inside is listed in
// Host.Errors and the checks that need it say so.
func Inspect(ns string) (*Host, error) {
	path := NetnsPath(ns)
	h := &Host{Netns: ns, Sysctls: map[string]int{}}
	if path != "" {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("network namespace %s: %w", ns, err)
		}
	}
	err := nsenter.RunPath(path, func() error {
		h.readLinks()
		h.readNeighbours()
		h.readSysctls()
		h.readMemberships()
		h.readBridges()
		h.readFirewall()
		return nil
	})
	if err != nil {
		return nil, err
	}
	h.readSpeakers(path)
	h.readKeepalivedVersion()
	return h, nil
}

func (h *Host) errorf(format string, args ...any) {
	h.Errors = append(h.Errors, fmt.Sprintf(format, args...))
}

func (h *Host) readLinks() {
	links, err := netlink.LinkList()
	if err != nil {
		h.errorf("links: %v", err)
		return
	}
	names := map[int]string{}
	for _, l := range links {
		names[l.Attrs().Index] = l.Attrs().Name
	}
	for _, l := range links {
		a := l.Attrs()
		link := Link{Name: a.Name, Index: a.Index, Kind: l.Type(), Up: a.Flags&net.FlagUp != 0,
			NoARP: a.RawFlags&unix.IFF_NOARP != 0, Multicast: a.Flags&net.FlagMulticast != 0, Master: names[a.MasterIndex], MAC: a.HardwareAddr.String()}
		addrs, err := netlink.AddrList(l, netlink.FAMILY_ALL)
		if err != nil {
			h.errorf("addresses of %s: %v", a.Name, err)
		}
		for _, ad := range addrs {
			ip, ok := netip.AddrFromSlice(ad.IP)
			if !ok {
				continue
			}
			ones, _ := ad.Mask.Size()
			link.Addrs = append(link.Addrs, netip.PrefixFrom(ip.Unmap(), ones))
		}
		h.Links = append(h.Links, link)
	}
}

var nudNames = []struct {
	bit  int
	name string
}{
	{netlink.NUD_INCOMPLETE, "INCOMPLETE"}, {netlink.NUD_REACHABLE, "REACHABLE"}, {netlink.NUD_STALE, "STALE"},
	{netlink.NUD_DELAY, "DELAY"}, {netlink.NUD_PROBE, "PROBE"}, {netlink.NUD_FAILED, "FAILED"},
	{netlink.NUD_NOARP, "NOARP"}, {netlink.NUD_PERMANENT, "PERMANENT"},
}

func nudString(state int) string {
	var out []string
	for _, n := range nudNames {
		if state&n.bit != 0 {
			out = append(out, n.name)
		}
	}
	if len(out) == 0 {
		return "NONE"
	}
	return strings.Join(out, "|")
}

func (h *Host) readNeighbours() {
	neighs, err := netlink.NeighList(0, netlink.FAMILY_ALL)
	if err != nil {
		h.errorf("neighbours: %v", err)
		return
	}
	for _, n := range neighs {
		ip, ok := netip.AddrFromSlice(n.IP)
		if !ok {
			continue
		}
		h.Neighbours = append(h.Neighbours, Neighbour{IP: ip.Unmap(), MAC: n.HardwareAddr.String(), Link: h.linkName(n.LinkIndex), State: nudString(n.State)})
	}
}

func (h *Host) linkName(index int) string {
	for _, l := range h.Links {
		if l.Index == index {
			return l.Name
		}
	}
	return strconv.Itoa(index)
}

// sysctlKeys are the per-interface settings the checks read.
var sysctlKeys4 = []string{"arp_ignore", "arp_announce", "arp_filter", "arp_accept", "rp_filter", "accept_local", "drop_gratuitous_arp"}

func (h *Host) readSysctls() {
	read := func(key string) {
		// /proc/sys/net is the namespace of the thread that opens it.
		b, err := os.ReadFile(filepath.Join("/proc/sys", strings.ReplaceAll(key, ".", "/")))
		if err != nil {
			return
		}
		if v, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			h.Sysctls[key] = v
		}
	}
	names := []string{"all", "default"}
	for _, l := range h.Links {
		names = append(names, l.Name)
	}
	for _, n := range names {
		for _, k := range sysctlKeys4 {
			// Interface names may hold dots (vrrp.51): read them by path.
			key := "net.ipv4.conf." + n + "." + k
			b, err := os.ReadFile(filepath.Join("/proc/sys/net/ipv4/conf", n, k))
			if err == nil {
				if v, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
					h.Sysctls[key] = v
				}
			}
		}
		if b, err := os.ReadFile(filepath.Join("/proc/sys/net/ipv6/conf", n, "drop_unsolicited_na")); err == nil {
			if v, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				h.Sysctls["net.ipv6.conf."+n+".drop_unsolicited_na"] = v
			}
		}
	}
	read("net.ipv4.ip_forward")
}

// readMemberships reads /proc/thread-self/net/igmp and igmp6: /proc/net
// is the namespace of the process' main thread, not of this one.
func (h *Host) readMemberships() {
	if b, err := os.ReadFile("/proc/thread-self/net/igmp"); err == nil {
		h.Memberships = append(h.Memberships, parseIGMP(string(b))...)
	} else {
		h.errorf("IPv4 multicast memberships: %v", err)
	}
	if b, err := os.ReadFile("/proc/thread-self/net/igmp6"); err == nil {
		h.Memberships = append(h.Memberships, parseIGMP6(string(b))...)
	}
}

// parseIGMP reads /proc/net/igmp: a line per device ("2 eth1 : 2 V3"),
// then its groups as the hexadecimal of the address in host byte order.
func parseIGMP(s string) []Membership {
	var out []Membership
	dev := ""
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] == "Idx" {
			continue
		}
		if !strings.HasPrefix(line, "\t") && !strings.HasPrefix(line, " ") && len(f) >= 2 {
			dev = f[1]
			continue
		}
		if len(f[0]) != 8 || dev == "" {
			continue
		}
		v, err := strconv.ParseUint(f[0], 16, 32)
		if err != nil {
			continue
		}
		var b [4]byte
		binary.NativeEndian.PutUint32(b[:], uint32(v))
		out = append(out, Membership{Link: dev, Group: netip.AddrFrom4(b)})
	}
	return out
}

// parseIGMP6 reads /proc/net/igmp6: "2 eth1 ff020000000000000000000000000012 1 00000004 0".
func parseIGMP6(s string) []Membership {
	var out []Membership
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || len(f[2]) != 32 {
			continue
		}
		b, err := hex.DecodeString(f[2])
		if err != nil {
			continue
		}
		a, _ := netip.AddrFromSlice(b)
		out = append(out, Membership{Link: f[1], Group: a})
	}
	return out
}

func (h *Host) readBridges() {
	brs, err := mcbridge.List()
	if err != nil {
		h.errorf("bridges: %v", err)
		return
	}
	h.Bridges = brs
}

// readFirewall reads nftables through nft's JSON output and the legacy
// iptables tables through iptables-legacy-save (those of iptables-nft are
// in nft's output already).
func (h *Host) readFirewall() {
	fw := &Firewall{}
	read := false
	if nft, err := exec.LookPath("nft"); err == nil {
		var out, errb bytes.Buffer
		cmd := exec.Command(nft, "-j", "list", "ruleset")
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			h.FirewallNotes = append(h.FirewallNotes, fmt.Sprintf("nftables not read: nft -j list ruleset: %v: %s", err, strings.TrimSpace(errb.String())))
		} else if chains, err := parseNftJSON(out.Bytes()); err != nil {
			h.FirewallNotes = append(h.FirewallNotes, fmt.Sprintf("nftables not read: %v", err))
		} else {
			fw.Chains = append(fw.Chains, chains...)
			fw.Backends = append(fw.Backends, "nftables")
			read = true
			h.FirewallNotes = append(h.FirewallNotes, fmt.Sprintf("nftables: %s", describeTables(chains)))
		}
	} else {
		h.FirewallNotes = append(h.FirewallNotes, "nftables not read: nft is not installed (apt-get install nftables)")
	}
	legacy := false
	for _, t := range []struct{ prog, family string }{{"iptables-legacy-save", "ip"}, {"ip6tables-legacy-save", "ip6"}} {
		p, err := exec.LookPath(t.prog)
		if err != nil {
			continue
		}
		legacy = true
		var out bytes.Buffer
		cmd := exec.Command(p)
		cmd.Stdout = &out
		if err := cmd.Run(); err != nil {
			h.FirewallNotes = append(h.FirewallNotes, fmt.Sprintf("%s: %v", t.prog, err))
			continue
		}
		chains := parseIptablesSave(out.String(), t.family)
		fw.Chains = append(fw.Chains, chains...)
		n := 0
		for _, c := range chains {
			n += len(c.rules)
		}
		h.FirewallNotes = append(h.FirewallNotes, fmt.Sprintf("%s: %d rule(s)", t.prog, n))
		read = true
		if !contains(fw.Backends, "iptables") {
			fw.Backends = append(fw.Backends, "iptables")
		}
	}
	if !legacy {
		h.FirewallNotes = append(h.FirewallNotes, "legacy iptables not read (iptables-legacy-save is not installed; rules of iptables-nft are in the nftables ruleset)")
	}
	if read {
		h.Firewall = fw
	}
}

func describeTables(chains []*fwChain) string {
	var tables []string
	rules := 0
	for _, c := range chains {
		t := c.family + " " + c.table
		if !contains(tables, t) {
			tables = append(tables, t)
		}
		rules += len(c.rules)
	}
	if len(tables) == 0 {
		return "empty ruleset"
	}
	return fmt.Sprintf("%d rule(s) in table %s", rules, strings.Join(tables, ", table "))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// readSpeakers finds keepalived and vrrpctl speaker processes whose
// network namespace is the one at path (the caller's when "").
func (h *Host) readSpeakers(path string) {
	if path == "" {
		path = "/proc/self/ns/net"
	}
	want, err := inode(path)
	if err != nil {
		h.errorf("processes: %v", err)
		return
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		h.errorf("processes: %v", err)
		return
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		dir := filepath.Join("/proc", e.Name())
		if ino, err := inode(filepath.Join(dir, "ns", "net")); err != nil || ino != want {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(dir, "cmdline"))
		if err != nil || len(raw) == 0 {
			continue
		}
		args := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
		comm, _ := os.ReadFile(filepath.Join(dir, "comm"))
		name := strings.TrimSpace(string(comm))
		switch {
		case name == "keepalived" || filepath.Base(args[0]) == "keepalived":
			if h.hasKeepalivedParent(pid) {
				continue // a child of a keepalived already listed
			}
			conf := optionValue(args[1:], "-f", "--use-file")
			if conf == "" {
				conf = "/etc/keepalived/keepalived.conf"
			}
			h.Speakers = append(h.Speakers, Speaker{Pid: pid, Kind: "keepalived", Args: args, Config: procPath(dir, conf)})
		case strings.Contains(filepath.Base(args[0]), "vrrpctl") && slicesContains(args[1:], "speaker") && !slicesContains(args, "--status"):
			sp := Speaker{Pid: pid, Kind: "vrrpctl speaker", Args: args}
			if conf := optionValue(args[1:], "-f", "--config"); conf != "" {
				sp.Config = procPath(dir, conf)
			}
			for i, a := range args {
				v := ""
				if a == "--vip" && i+1 < len(args) {
					v = args[i+1]
				} else if strings.HasPrefix(a, "--vip=") {
					v = strings.TrimPrefix(a, "--vip=")
				}
				if p, err := netip.ParsePrefix(v); err == nil {
					sp.VIPs = append(sp.VIPs, p.Addr())
				} else if a, err := netip.ParseAddr(v); err == nil {
					sp.VIPs = append(sp.VIPs, a)
				}
			}
			h.Speakers = append(h.Speakers, sp)
		}
	}
}

// hasKeepalivedParent reports whether pid's parent is a keepalived.
func (h *Host) hasKeepalivedParent(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return false
	}
	comm, _ := os.ReadFile("/proc/" + f[1] + "/comm")
	return strings.TrimSpace(string(comm)) == "keepalived"
}

// procPath is a process' file as this process can read it: relative to
// its working directory, inside its root.
func procPath(dir, p string) string {
	if !filepath.IsAbs(p) {
		cwd, err := os.Readlink(filepath.Join(dir, "cwd"))
		if err != nil {
			return p
		}
		p = filepath.Join(cwd, p)
	}
	root, err := os.Readlink(filepath.Join(dir, "root"))
	if err == nil && root == "/" {
		return p
	}
	return filepath.Join(dir, "root", p)
}

func optionValue(args []string, short, long string) string {
	for i, a := range args {
		switch {
		case a == short || a == long:
			if i+1 < len(args) {
				return args[i+1]
			}
		case strings.HasPrefix(a, long+"="):
			return strings.TrimPrefix(a, long+"=")
		case strings.HasPrefix(a, short) && len(a) > len(short) && !strings.HasPrefix(a, "--"):
			return a[len(short):]
		}
	}
	return ""
}

func slicesContains(list []string, s string) bool { return contains(list, s) }

func inode(path string) (uint64, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return 0, err
	}
	return st.Ino, nil
}

// readKeepalivedVersion asks the running keepalived's binary, else the one
// in PATH, for its version.
func (h *Host) readKeepalivedVersion() {
	var bins []string
	for _, s := range h.Speakers {
		if s.Kind == "keepalived" {
			bins = append(bins, fmt.Sprintf("/proc/%d/exe", s.Pid))
		}
	}
	if p, err := exec.LookPath("keepalived"); err == nil {
		bins = append(bins, p)
	}
	for _, b := range bins {
		out, err := exec.Command(b, "--version").CombinedOutput()
		if err != nil && len(out) == 0 {
			continue
		}
		line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		if v, err := ParseVersion(line); err == nil {
			h.Keepalived = v
			h.KeepalivedFrom = b
			if strings.HasPrefix(b, "/proc/") {
				h.KeepalivedFrom = "the running keepalived (pid " + strings.Split(b, "/")[2] + ")"
			}
			return
		}
	}
}

// configsOf parses the configurations the running speakers read.
func (h *Host) configsOf() ([]*kaconf.Config, []string) {
	var cfgs []*kaconf.Config
	var errs []string
	seen := map[string]bool{}
	for _, s := range h.Speakers {
		if s.Config == "" || seen[s.Config] {
			continue
		}
		seen[s.Config] = true
		c, err := kaconf.ParseFile(s.Config)
		if c == nil {
			if !errors.Is(err, os.ErrNotExist) || s.Kind == "keepalived" {
				errs = append(errs, fmt.Sprintf("configuration of %s (pid %d): %v", s.Kind, s.Pid, err))
			}
			continue
		}
		cfgs = append(cfgs, c)
	}
	return cfgs, errs
}
