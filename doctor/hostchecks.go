package doctor

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/vrrpctl/vrrpctl/kaconf"
)

// hostView joins the host with the configurations: the VIPs known, the
// instances that run here.
type hostView struct {
	h     *Host
	cfgs  []*kaconf.Config // every configuration, given and found
	vips  map[netip.Addr]vipInfo
	local []member // instances of this host
	// router says why this host is taken for a VRRP router ("" if not).
	router string
}

type vipInfo struct {
	from []string // where the VIP was learned
	ins  []member
}

func newHostView(h *Host, cfgs []*kaconf.Config, extra []netip.Addr) *hostView {
	v := &hostView{h: h, cfgs: cfgs, vips: map[netip.Addr]vipInfo{}}
	addVIP := func(a netip.Addr, from string, m *member) {
		info := v.vips[a]
		info.from = appendUnique(info.from, from)
		if m != nil {
			info.ins = append(info.ins, *m)
		}
		v.vips[a] = info
	}
	for _, c := range cfgs {
		for _, in := range c.Instances {
			m := member{c, in}
			for _, vip := range in.VIPs {
				addVIP(vip.Prefix.Addr(), routerName(c), &m)
			}
		}
	}
	for _, a := range extra {
		addVIP(a, "--vip", nil)
	}
	for _, s := range h.Speakers {
		for _, a := range s.VIPs {
			addVIP(a, s.Kind, nil)
		}
	}
	// keepalived's own firewall sets name the VIPs it guards.
	if h.Firewall != nil {
		for _, a := range keepalivedSetVIPs(h) {
			addVIP(a, "keepalived's nftables set", nil)
		}
	}
	// Is this a router, and which instances are its own?
	for _, s := range h.Speakers {
		v.router = fmt.Sprintf("%s runs here (pid %d)", s.Kind, s.Pid)
		break
	}
	for a := range v.vips {
		if l := h.linkWithAddr(a); l != "" && v.router == "" {
			v.router = fmt.Sprintf("it holds VIP %s on %s", a, l)
		}
	}
	for _, c := range cfgs {
		for _, in := range c.Instances {
			if in.UnicastSrcIP.IsValid() && h.linkWithAddr(in.UnicastSrcIP) != "" && v.router == "" {
				v.router = fmt.Sprintf("unicast_src_ip %s of %s is local", in.UnicastSrcIP, in.Name)
			}
		}
	}
	if v.router != "" {
		for _, c := range cfgs {
			if !v.ownConfig(c) {
				continue
			}
			for _, in := range c.Instances {
				if h.link(in.Interface) != nil {
					v.local = append(v.local, member{c, in})
				}
			}
		}
	}
	return v
}

// ownConfig reports whether c is this router's: a running speaker reads
// it, its unicast_src_ip is local, or it is the only router's
// configuration whose instances all find their interface here... and, of
// given configurations, one of whose VIPs is held here.
func (v *hostView) ownConfig(c *kaconf.Config) bool {
	for _, s := range v.h.Speakers {
		if s.Config != "" && sameFile(s.Config, c.File) {
			return true
		}
	}
	for _, in := range c.Instances {
		if in.UnicastSrcIP.IsValid() && v.h.linkWithAddr(in.UnicastSrcIP) != "" {
			return true
		}
	}
	// Without a speaker's file to go by, every configuration whose
	// instances find their interfaces here counts.
	found := false
	for _, s := range v.h.Speakers {
		if s.Config != "" {
			found = true
		}
	}
	if found {
		return false
	}
	for _, in := range c.Instances {
		if v.h.link(in.Interface) != nil {
			return true
		}
	}
	return false
}

func (h *Host) link(name string) *Link {
	for i := range h.Links {
		if h.Links[i].Name == name {
			return &h.Links[i]
		}
	}
	return nil
}

func (h *Host) linkWithAddr(a netip.Addr) string {
	for _, l := range h.Links {
		for _, p := range l.Addrs {
			if p.Addr() == a {
				return l.Name
			}
		}
	}
	return ""
}

// linkToward returns the interface whose subnet holds a (the way packets
// to a go), or "".
func (h *Host) linkToward(a netip.Addr) string {
	best, bits := "", -1
	for _, l := range h.Links {
		for _, p := range l.Addrs {
			if p.Masked().Contains(a) && p.Bits() > bits && p.Addr() != a {
				best, bits = l.Name, p.Bits()
			}
		}
	}
	return best
}

// sysctl returns the value of net.ipv4.conf.NAME.KEY, and whether it was read.
func (h *Host) sysctl(name, key string) (int, bool) {
	v, ok := h.Sysctls["net.ipv4.conf."+name+"."+key]
	return v, ok
}

// effective returns the value the kernel applies to an interface for key:
// the larger of all's and the interface's (arp_ignore, arp_announce,
// rp_filter), or either (arp_filter, drop_gratuitous_arp: IN_DEV_ORCONF).
func (h *Host) effective(iface, key string) int {
	a, _ := h.sysctl("all", key)
	i, _ := h.sysctl(iface, key)
	switch key {
	case "arp_filter", "drop_gratuitous_arp", "accept_local":
		if a != 0 || i != 0 {
			return 1
		}
		return 0
	}
	return max(a, i)
}

func keepalivedSetVIPs(h *Host) []netip.Addr {
	var out []netip.Addr
	for _, c := range h.Firewall.Chains {
		if c.table != "keepalived" {
			continue
		}
		for _, r := range c.rules {
			for _, cond := range r.conds {
				if cond.field != "daddr" && cond.field != "saddr" {
					continue
				}
				for _, val := range cond.values {
					if val.addr.IsValid() && !contains2(out, val.addr) {
						out = append(out, val.addr)
					}
				}
			}
		}
	}
	return out
}

func contains2(list []netip.Addr, a netip.Addr) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

func (v *hostView) sortedVIPs() []netip.Addr {
	var out []netip.Addr
	for a := range v.vips {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Less(out[j]) })
	return out
}

func family(a netip.Addr) string {
	if a.Is4() {
		return "ip"
	}
	return "ip6"
}

// checkVIPDropped: rules that drop traffic to or from a VIP.
func (v *hostView) checkVIPDropped() ([]Finding, []string, Status) {
	var saw []string
	if len(v.vips) == 0 {
		return nil, []string{"no VIP known: give --keepalived-conf or --vip"}, Skip
	}
	saw = append(saw, v.h.FirewallNotes...)
	if v.h.Firewall == nil {
		return nil, saw, Warn
	}
	var out []Finding
	for _, vip := range v.sortedVIPs() {
		iface := v.h.linkWithAddr(vip)
		if iface == "" {
			iface = v.h.linkToward(vip)
		}
		for _, dir := range []struct{ hook, field, word string }{{"input", "daddr", "to"}, {"output", "saddr", "from"}} {
			p := probe{family: family(vip), hook: dir.hook, fields: map[string]string{dir.field: vip.String(), "ctstate": "new"}}
			if iface != "" && dir.hook == "input" {
				p.fields["iif"] = iface
			}
			for _, o := range v.h.Firewall.rulesMatching(p, dir.field) {
				sev := Critical
				if !o.certain {
					sev = Warning
				}
				f := finding(CodeVIPDropped, sev, fmt.Sprintf("traffic %s VIP %s is dropped by %s", dir.word, vip, o.describe()))
				f.Address, f.Rule = vip.String(), o.ref()
				if setting := v.settingBehind(o, vip); setting != "" {
					f.Setting = setting
					f.Summary += "; " + setting
				}
				out = append(out, f)
			}
		}
	}
	saw = append(saw, fmt.Sprintf("VIPs: %s", v.vipList()))
	return out, saw, Pass
}

// settingBehind names the keepalived setting that installed a rule.
func (v *hostView) settingBehind(o fwOutcome, vip netip.Addr) string {
	r := o.ref()
	if r == nil || !strings.Contains(strings.ToLower(r.Table+" "+r.Chain+" "+r.Rule), "keepalived") {
		return ""
	}
	var settings []string
	members := v.vips[vip].ins
	if len(v.local) > 0 {
		members = nil
		for _, m := range v.vips[vip].ins {
			for _, l := range v.local {
				if l.in == m.in {
					members = append(members, m)
				}
			}
		}
	}
	for _, m := range members {
		n := len(settings)
		switch {
		case m.in.Strict && m.cfg.Global.Strict:
			settings = appendUnique(settings, fmt.Sprintf("installed by keepalived for vrrp_strict (global_defs of %s)", routerName(m.cfg)))
		case m.in.Strict:
			settings = appendUnique(settings, fmt.Sprintf("installed by keepalived for strict_mode of %s", m.where()))
		case !m.in.Accept:
			settings = appendUnique(settings, fmt.Sprintf("installed by keepalived for no_accept of %s", m.where()))
		}
		if m.in.Priority < kaconf.OwnerPriority && len(settings) > n {
			settings[len(settings)-1] += fmt.Sprintf(", priority %d: not the address owner", m.in.Priority)
		}
	}
	if len(settings) == 0 {
		return "installed by keepalived (vrrp_strict or no_accept in the configuration it runs)"
	}
	return strings.Join(settings, "; ")
}

func (v *hostView) vipList() string {
	var parts []string
	for _, a := range v.sortedVIPs() {
		parts = append(parts, fmt.Sprintf("%s (from %s)", a, strings.Join(v.vips[a].from, ", ")))
	}
	return strings.Join(parts, ", ")
}

func (v *hostView) notRouter() string {
	return "not a VRRP router: no keepalived or vrrpctl speaker runs here, and no VIP or unicast_src_ip is local"
}

// checkVRRPBlocked: adverts dropped on input or output.
func (v *hostView) checkVRRPBlocked() ([]Finding, []string, Status) {
	if v.router == "" {
		return nil, []string{v.notRouter()}, Skip
	}
	if len(v.local) == 0 {
		return nil, []string{"a router (" + v.router + ") but no instance of a configuration finds its interface here: give --keepalived-conf"}, Skip
	}
	saw := append([]string{"a router: " + v.router}, v.h.FirewallNotes...)
	if v.h.Firewall == nil {
		return nil, saw, Warn
	}
	var out []Finding
	for _, m := range v.local {
		in := m.in
		fam := "ip"
		if in.Family() == "ipv6" {
			fam = "ip6"
		}
		src := in.UnicastSrcIP
		if !src.IsValid() {
			src = v.h.primaryAddr(in.Interface, fam == "ip6")
		}
		type pr struct {
			p    probe
			what string
		}
		var probes []pr
		if in.Unicast() {
			for _, peer := range in.UnicastPeers {
				probes = append(probes,
					pr{probe{fam, "input", map[string]string{"saddr": peer.String(), "daddr": addrString(src), "l4proto": "112", "iif": in.Interface}}, fmt.Sprintf("adverts from unicast peer %s", peer)},
					pr{probe{fam, "output", map[string]string{"saddr": addrString(src), "daddr": peer.String(), "l4proto": "112", "oif": in.Interface}}, fmt.Sprintf("adverts to unicast peer %s", peer)})
			}
		} else {
			g := mcastGroup(m.cfg, in).String()
			probes = append(probes,
				pr{probe{fam, "input", map[string]string{"daddr": g, "l4proto": "112", "iif": in.Interface, "ctstate": "new"}}, fmt.Sprintf("adverts to %s arriving on %s", g, in.Interface)},
				pr{probe{fam, "output", map[string]string{"saddr": addrString(src), "daddr": g, "l4proto": "112", "oif": in.Interface, "ctstate": "new"}}, fmt.Sprintf("adverts to %s sent on %s", g, in.Interface)})
		}
		for _, x := range probes {
			o := v.h.Firewall.evaluate(x.p)
			if o.verdict != "drop" {
				saw = append(saw, fmt.Sprintf("%s: %s pass", m.where(), x.what))
				continue
			}
			sev := Critical
			if !o.certain {
				sev = Warning
			}
			f := finding(CodeVRRPBlocked, sev, fmt.Sprintf("%s: %s are dropped by %s", m.where(), x.what, o.describe()))
			if !o.certain {
				f.Summary = fmt.Sprintf("%s: %s may be dropped by %s (it depends on conditions the check cannot know)", m.where(), x.what, o.describe())
			}
			f.VRID, f.Instance, f.Interface, f.Rule = in.VRID, in.Name, in.Interface, o.ref()
			out = append(out, f)
		}
	}
	return out, saw, Pass
}

func (h *Host) primaryAddr(iface string, v6 bool) netip.Addr {
	l := h.link(iface)
	if l == nil {
		return netip.Addr{}
	}
	for _, p := range l.Addrs {
		if p.Addr().Is6() == v6 && !(v6 && !p.Addr().IsLinkLocalUnicast() && false) {
			return p.Addr()
		}
	}
	return netip.Addr{}
}

// checkMembership: the speakers joined their group.
func (v *hostView) checkMembership() ([]Finding, []string, Status) {
	if len(v.h.Speakers) == 0 {
		return nil, []string{"no keepalived or vrrpctl speaker runs here"}, Skip
	}
	if len(v.local) == 0 {
		return nil, []string{"no instance of the configurations finds its interface here"}, Skip
	}
	var out []Finding
	var saw []string
	for _, m := range v.local {
		in := m.in
		if in.Unicast() {
			saw = append(saw, fmt.Sprintf("%s: unicast, no group to join", m.where()))
			continue
		}
		g := mcastGroup(m.cfg, in)
		ifaces := []string{in.Interface}
		if in.UseVMAC {
			name := in.VMACName
			if name == "" {
				name = fmt.Sprintf("vrrp.%d", in.VRID)
			}
			ifaces = append(ifaces, name)
		}
		joined := ""
		for _, ms := range v.h.Memberships {
			if ms.Group == g && contains(ifaces, ms.Link) {
				joined = ms.Link
			}
		}
		if l := v.h.link(in.Interface); l != nil && !l.Multicast {
			f := finding(CodeNoVRRPMembership, Critical, fmt.Sprintf("%s: %s has multicast off: keepalived disables a multicast instance there (\"does not support multicast, specify unicast peers - disabling\"), whatever its socket joined (%s joined: %v), and no advert goes out or is heard", m.where(), in.Interface, g, joined != ""))
			f.VRID, f.Instance, f.Interface, f.Address = in.VRID, in.Name, in.Interface, g.String()
			f.Hint = fmt.Sprintf("ip link set %s multicast on, or give the instance unicast_peer", in.Interface)
			out = append(out, f)
			continue
		}
		if joined != "" {
			saw = append(saw, fmt.Sprintf("%s: %s joined on %s", m.where(), g, joined))
			continue
		}
		var have []string
		for _, ms := range v.h.Memberships {
			if contains(ifaces, ms.Link) {
				have = append(have, ms.Group.String())
			}
		}
		f := finding(CodeNoVRRPMembership, Critical, fmt.Sprintf("%s: %s has not joined %s while %s (groups joined there: %s)", m.where(), strings.Join(ifaces, " or "), g, v.router, orNone(strings.Join(have, ", "))))
		f.VRID, f.Instance, f.Interface, f.Address = in.VRID, in.Name, in.Interface, g.String()
		out = append(out, f)
	}
	return out, saw, Pass
}

// checkSnooping: bridges that snoop with no querier to keep memberships.
func (v *hostView) checkSnooping() ([]Finding, []string, Status) {
	if len(v.h.Bridges) == 0 {
		return nil, []string{"no Linux bridge here"}, Pass
	}
	// Do the instances known use only 224.0.0.0/24, which Linux bridges
	// always flood?
	linkLocalOnly := len(v.cfgs) > 0
	for _, c := range v.cfgs {
		for _, in := range c.Instances {
			g := mcastGroup(c, in)
			if in.Unicast() {
				continue
			}
			if !(g.Is4() && netip.MustParsePrefix("224.0.0.0/24").Contains(g)) {
				linkLocalOnly = false
			}
		}
	}
	var out []Finding
	var saw []string
	for _, br := range v.h.Bridges {
		var ports []string
		for _, p := range br.Ports {
			ports = append(ports, p.Name)
		}
		desc := fmt.Sprintf("bridge %s (ports %s): snooping %s, own querier %s, membership interval %s, query interval %s",
			br.Name, orNone(strings.Join(ports, ", ")), onOff(br.Snooping), onOff(br.Querier), secs(br.MembershipInterval), secs(br.QueryInterval))
		if br.StateKnown {
			desc += fmt.Sprintf(", other IGMP querier %s, other MLD querier %s", otherQuerier(br.Other4.Addr, br.Other4.Timer > 0), otherQuerier(br.Other6.Addr, br.Other6.Timer > 0))
		}
		saw = append(saw, desc)
		for _, p := range br.Ports {
			if !p.MulticastFlood {
				f := finding(CodeSnoopingNoQuerier, Critical, fmt.Sprintf("bridge %s does not flood multicast to port %s (mcast_flood off): 224.0.0.18 and every group it does not snoop never reach that port", br.Name, p.Name))
				f.Interface = br.Name
				f.Hint = fmt.Sprintf("bridge link set dev %s mcast_flood on", p.Name)
				out = append(out, f)
			}
		}
		if !br.Snooping || len(br.Ports) == 0 {
			continue
		}
		querier := br.Querier || br.Other4.Present() || br.Other6.Present()
		fix := fmt.Sprintf("ip link set %s type bridge mcast_querier 1 (or mcast_snooping 0)", br.Name)
		switch {
		case !querier:
			f := finding(CodeSnoopingNoQuerier, Warning, fmt.Sprintf("bridge %s snoops IGMP/MLD and no querier is heard: memberships of the VRRP group expire %s after the last report. This Linux bridge floods every group while it hears no querier (and always floods 224.0.0.0/24), so it passes the adverts now; a querier appearing on the segment, or a switch beyond it with snooping and no querier, drops them once the memberships expire", br.Name, secs(br.MembershipInterval)))
			f.Interface, f.Hint = br.Name, fix
			out = append(out, f)
		case br.MembershipInterval > 0 && br.MembershipInterval <= br.QueryInterval+br.QueryResponseInterval:
			sev := Critical
			if linkLocalOnly {
				sev = Warning
			}
			f := finding(CodeSnoopingNoQuerier, sev, fmt.Sprintf("bridge %s snoops with a querier that asks every %s while memberships last %s: between queries the bridge forgets the routers and stops forwarding snooped groups to them (ff02::12 and custom groups; it always floods 224.0.0.0/24)", br.Name, secs(br.QueryInterval), secs(br.MembershipInterval)))
			f.Interface = br.Name
			f.Hint = fmt.Sprintf("make the query interval shorter than the membership interval (ip link set %s type bridge mcast_query_interval %d mcast_membership_interval %d, centiseconds, as the defaults 12500 and 26000), or turn snooping off", br.Name, max(1, int(br.MembershipInterval.Seconds()*100)/3), max(26000, int(br.MembershipInterval.Seconds()*100)))
			out = append(out, f)
		}
	}
	return out, saw, Pass
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func otherQuerier(a netip.Addr, present bool) string {
	if !present {
		return "none"
	}
	if a.IsValid() && !a.IsUnspecified() {
		return a.String()
	}
	return "present"
}

// checkStaticNeigh: this host can follow a GARP for each VIP.
func (v *hostView) checkStaticNeigh() ([]Finding, []string, Status) {
	if len(v.vips) == 0 {
		var perm []string
		for _, n := range v.h.Neighbours {
			if n.Static() {
				perm = append(perm, fmt.Sprintf("%s %s on %s (%s)", n.IP, n.MAC, n.Link, n.State))
			}
		}
		return nil, append([]string{"no VIP known: give --keepalived-conf or --vip"}, perm...), Skip
	}
	var out []Finding
	var saw []string
	for _, vip := range v.sortedVIPs() {
		if l := v.h.linkWithAddr(vip); l != "" {
			saw = append(saw, fmt.Sprintf("%s is local (on %s): this host holds it", vip, l))
			continue
		}
		iface := v.h.linkToward(vip)
		entry := false
		for _, n := range v.h.Neighbours {
			if n.IP != vip {
				continue
			}
			entry = true
			if iface == "" {
				iface = n.Link
			}
			saw = append(saw, fmt.Sprintf("%s lladdr %s on %s: %s", vip, n.MAC, n.Link, n.State))
			if n.Static() {
				f := finding(CodeStaticNeigh, Critical, fmt.Sprintf("%s has a %s neighbour entry for VIP %s (lladdr %s): no GARP or reply from the wire changes it, so after a failover this host keeps sending to %s", n.Link, n.State, vip, n.MAC, n.MAC))
				f.Address, f.Interface = vip.String(), n.Link
				f.Hint = fmt.Sprintf("ip neigh del %s dev %s (and remove it from where it is made permanent: /etc/network/interfaces, a systemd-networkd [Neighbor] section, a script)", vip, n.Link)
				out = append(out, f)
			}
		}
		if iface == "" {
			saw = append(saw, fmt.Sprintf("%s: no interface of this host is on its subnet", vip))
			continue
		}
		l := v.h.link(iface)
		if l != nil && l.NoARP {
			f := finding(CodeStaticNeigh, Critical, fmt.Sprintf("%s, the way to VIP %s, has ARP off (NOARP): it processes no ARP, GARPs included", iface, vip))
			f.Address, f.Interface, f.Hint = vip.String(), iface, fmt.Sprintf("ip link set %s arp on", iface)
			out = append(out, f)
		}
		if vip.Is4() {
			if v.h.effective(iface, "drop_gratuitous_arp") != 0 {
				f := finding(CodeStaticNeigh, Critical, fmt.Sprintf("net.ipv4.conf.{all,%s}.drop_gratuitous_arp is set: %s drops every gratuitous ARP, the new master's announcement of VIP %s included", iface, iface, vip))
				f.Address, f.Interface, f.Setting = vip.String(), iface, "drop_gratuitous_arp"
				f.Hint = fmt.Sprintf("sysctl -w net.ipv4.conf.all.drop_gratuitous_arp=0 net.ipv4.conf.%s.drop_gratuitous_arp=0", iface)
				out = append(out, f)
			}
			acc := v.h.effective(iface, "arp_accept")
			note := fmt.Sprintf("arp_accept %d on %s", acc, iface)
			if acc == 0 {
				if entry {
					note += ": harmless here: it only keeps a GARP from creating an entry, and an existing entry is updated by any GARP"
				} else {
					note += ": with no entry for the VIP a GARP creates none; the first packet to the VIP resolves it"
				}
			}
			saw = append(saw, note)
			if v.h.Firewall != nil {
				p := probe{family: "arp", hook: "input", fields: map[string]string{"arpsip": vip.String(), "arptip": vip.String(), "arpop": "request", "iif": iface}}
				if o := v.h.Firewall.evaluate(p); o.verdict == "drop" {
					sev := Critical
					if !o.certain {
						sev = Warning
					}
					f := finding(CodeStaticNeigh, sev, fmt.Sprintf("gratuitous ARP for VIP %s arriving on %s is dropped by %s", vip, iface, o.describe()))
					f.Address, f.Interface, f.Rule = vip.String(), iface, o.ref()
					f.Hint = "remove the rule from the arp family table, or let ARP requests whose sender is the VIP through"
					out = append(out, f)
				}
			}
		} else if d, ok := v.h.Sysctls["net.ipv6.conf."+iface+".drop_unsolicited_na"]; ok && d != 0 || v.h.Sysctls["net.ipv6.conf.all.drop_unsolicited_na"] != 0 {
			f := finding(CodeStaticNeigh, Critical, fmt.Sprintf("drop_unsolicited_na is set for %s: the new master's unsolicited neighbour advertisements for VIP %s are dropped", iface, vip))
			f.Address, f.Interface, f.Setting = vip.String(), iface, "drop_unsolicited_na"
			out = append(out, f)
		}
		if !entry {
			saw = append(saw, fmt.Sprintf("%s: no neighbour entry", vip))
		}
	}
	return out, saw, Pass
}

// checkARPSysctl: a router's ARP settings for the VIP, as keepalived
// documents them.
func (v *hostView) checkARPSysctl() ([]Finding, []string, Status) {
	if v.router == "" {
		return nil, []string{v.notRouter()}, Skip
	}
	if len(v.local) == 0 {
		return nil, []string{"no instance of the configurations finds its interface here"}, Skip
	}
	var out []Finding
	var saw []string
	add := func(m member, sev Severity, iface, key string, want string, summary string) {
		f := finding(CodeARPSysctl, sev, fmt.Sprintf("%s: %s", m.where(), summary))
		f.VRID, f.Instance, f.Interface, f.Setting = m.in.VRID, m.in.Name, iface, fmt.Sprintf("net.ipv4.conf.%s.%s", iface, key)
		f.Hint = fmt.Sprintf("sysctl -w net.ipv4.conf.%s.%s=%s (the larger of all's and the interface's applies: check net.ipv4.conf.all.%s too)", iface, key, want, key)
		out = append(out, f)
	}
	for _, m := range v.local {
		in := m.in
		if in.Family() != "ipv4" {
			continue
		}
		iface := in.Interface
		ign, ann := v.h.effective(iface, "arp_ignore"), v.h.effective(iface, "arp_announce")
		saw = append(saw, fmt.Sprintf("%s on %s: arp_ignore %d, arp_announce %d, arp_filter %d, rp_filter %d", m.where(), iface, ign, ann, v.h.effective(iface, "arp_filter"), v.h.effective(iface, "rp_filter")))
		if ign >= 8 {
			add(m, Critical, iface, "arp_ignore", "0", fmt.Sprintf("arp_ignore %d on %s: the router answers no ARP request, so clients cannot resolve the VIP while it is master", ign, iface))
		}
		if !in.UseVMAC {
			continue
		}
		if ign < 1 {
			add(m, Warning, iface, "arp_ignore", "1", fmt.Sprintf("use_vmac with arp_ignore %d on %s: %s answers ARP for the VIP from its own MAC too, and clients may take that MAC instead of the virtual one", ign, iface, iface))
		}
		if ann < 1 {
			add(m, Warning, iface, "arp_announce", "2", fmt.Sprintf("use_vmac with arp_announce %d on %s: the master asks for clients from the VIP with %s's own MAC (\"tell VIP\"), which moves the clients' entry for the VIP off the virtual MAC (keepalived documents 1; 2 stopped it in the recorded captures)", ann, iface, iface))
		}
		vmac := in.VMACName
		if vmac == "" {
			vmac = fmt.Sprintf("vrrp.%d", in.VRID)
		}
		if v.h.link(vmac) == nil {
			saw = append(saw, fmt.Sprintf("%s: no macvlan %s here (keepalived creates it when it starts)", m.where(), vmac))
			continue
		}
		rp, al := v.h.effective(vmac, "rp_filter"), v.h.effective(vmac, "accept_local")
		saw = append(saw, fmt.Sprintf("%s on %s: rp_filter %d, accept_local %d", m.where(), vmac, rp, al))
		if rp != 0 {
			add(m, Critical, vmac, "rp_filter", "0", fmt.Sprintf("rp_filter %d on the macvlan %s: packets for the VIP arriving there fail the reverse-path check (replies leave by %s) and are dropped", rp, vmac, iface))
		}
		if al == 0 {
			add(m, Warning, vmac, "accept_local", "1", fmt.Sprintf("accept_local 0 on the macvlan %s: packets from the router's own addresses arriving there are dropped", vmac))
		}
	}
	return out, saw, Pass
}
