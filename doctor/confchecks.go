package doctor

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/vrrpctl/vrrpctl/kaconf"
)

// member is one router's instance of a virtual router.
type member struct {
	cfg *kaconf.Config
	in  *kaconf.Instance
}

func (m member) where() string {
	return fmt.Sprintf("%s (%s)", m.in.Name, routerName(m.cfg))
}

// routerName names a configuration by its router_id, else its file.
func routerName(c *kaconf.Config) string {
	if c.Global.RouterID != "" {
		return c.Global.RouterID
	}
	return c.File
}

// vrGroup gathers the instances of the configurations that share a VRID and
// an address family: the routers of one virtual router, or of several
// that collide.
type vrGroup struct {
	family  string
	vrid    int
	members []member
}

func groupInstances(cfgs []*kaconf.Config) []*vrGroup {
	type key struct {
		family string
		vrid   int
	}
	byKey := map[key]*vrGroup{}
	var out []*vrGroup
	for _, c := range cfgs {
		for _, in := range c.Instances {
			k := key{in.Family(), in.VRID}
			g := byKey[k]
			if g == nil {
				g = &vrGroup{family: k.family, vrid: k.vrid}
				byKey[k] = g
				out = append(out, g)
			}
			g.members = append(g.members, member{c, in})
		}
	}
	return out
}

// vipSet is an instance's VIPs, sorted, as one string.
func vipSet(in *kaconf.Instance) string {
	var vs []string
	for _, v := range in.VIPs {
		vs = append(vs, v.Prefix.Addr().String())
	}
	sort.Strings(vs)
	return strings.Join(vs, ",")
}

func sharesVIP(a, b *kaconf.Instance) bool {
	for _, x := range a.VIPs {
		for _, y := range b.VIPs {
			if x.Prefix.Addr() == y.Prefix.Addr() {
				return true
			}
		}
	}
	return false
}

// sameSegment guesses whether two instances of different routers are on
// one segment: their VIPs share a subnet, or (without VIPs) they name the
// same interface.
func sameSegment(a, b *kaconf.Instance) bool {
	for _, x := range a.VIPs {
		for _, y := range b.VIPs {
			if x.Prefix.Bits() < x.Prefix.Addr().BitLen() && x.Prefix.Masked().Contains(y.Prefix.Addr()) ||
				y.Prefix.Bits() < y.Prefix.Addr().BitLen() && y.Prefix.Masked().Contains(x.Prefix.Addr()) {
				return true
			}
		}
	}
	return a.Interface == b.Interface
}

// pairs calls fn for every pair of members of different configurations
// that belong to one virtual router (they share a VIP, or have none).
func (g *vrGroup) pairs(fn func(a, b member)) {
	for i := 0; i < len(g.members); i++ {
		for j := i + 1; j < len(g.members); j++ {
			a, b := g.members[i], g.members[j]
			if a.cfg == b.cfg {
				continue
			}
			if len(a.in.VIPs) > 0 && len(b.in.VIPs) > 0 && !sharesVIP(a.in, b.in) {
				continue
			}
			fn(a, b)
		}
	}
}

// configChecks runs every check across the configurations.
func configChecks(cfgs []*kaconf.Config) (findings []Finding, saw map[string][]string) {
	saw = map[string][]string{}
	groups := groupInstances(cfgs)
	add := func(f Finding, g *vrGroup, ms ...member) {
		f.VRID = g.vrid
		for _, m := range ms {
			f.Files = appendUnique(f.Files, fmt.Sprintf("%s:%d", m.in.File, m.in.Line))
		}
		if len(ms) > 0 {
			f.Instance = ms[0].in.Name
		}
		findings = append(findings, f)
	}
	for _, g := range groups {
		routers := map[*kaconf.Config]bool{}
		for _, m := range g.members {
			routers[m.cfg] = true
		}
		desc := fmt.Sprintf("VRID %d (%s): %d instance(s) on %d router(s)", g.vrid, g.family, len(g.members), len(routers))
		for _, code := range []string{CodeEqualPriority, CodeIntervalMismatch, CodeAuthMismatch, CodeVersionMismatch, CodeVIPMismatch, CodeMcastGroupMismatch, CodeUnicastAsymmetry, CodeVRIDCollision} {
			saw[code] = append(saw[code], desc)
		}
		g.pairs(func(a, b member) {
			pa, pb := a.in, b.in
			if pa.Priority == pb.Priority {
				add(finding(CodeEqualPriority, Warning, fmt.Sprintf("VRID %d: %s and %s both have priority %d", g.vrid, a.where(), b.where(), pa.Priority)), g, a, b)
			}
			if pa.AdvertInt != pb.AdvertInt {
				sev := Critical
				if pa.Version == 3 && pb.Version == 3 {
					sev = Warning
				}
				add(finding(CodeIntervalMismatch, sev, fmt.Sprintf("VRID %d: %s advertises every %s, %s every %s", g.vrid, a.where(), secs(pa.AdvertInt), b.where(), secs(pb.AdvertInt))), g, a, b)
			}
			if pa.Version == 2 && pb.Version == 2 && pa.Auth != pb.Auth {
				what := fmt.Sprintf("%s uses %s, %s uses %s", a.where(), authString(pa.Auth), b.where(), authString(pb.Auth))
				if pa.Auth.Type == pb.Auth.Type {
					what = fmt.Sprintf("%s and %s use auth_type %s with different passwords", a.where(), b.where(), pa.Auth.Type)
				}
				add(finding(CodeAuthMismatch, Critical, fmt.Sprintf("VRID %d: %s", g.vrid, what)), g, a, b)
			}
			if pa.Version != pb.Version {
				add(finding(CodeVersionMismatch, Critical, fmt.Sprintf("VRID %d: %s speaks VRRPv%d, %s VRRPv%d", g.vrid, a.where(), pa.Version, b.where(), pb.Version)), g, a, b)
			}
			if va, vb := vipSet(pa), vipSet(pb); va != vb {
				sev := Critical
				if pa.SkipCheckAdvAddr && pb.SkipCheckAdvAddr {
					sev = Warning
				}
				f := finding(CodeVIPMismatch, sev, fmt.Sprintf("VRID %d: %s has VIPs %s, %s has %s", g.vrid, a.where(), orNone(va), b.where(), orNone(vb)))
				if sev == Critical {
					f.Summary += " (without vrrp_skip_check_adv_addr on both, keepalived discards the other's adverts)"
				}
				add(f, g, a, b)
			}
			if !pa.Unicast() && !pb.Unicast() {
				if ga, gb := mcastGroup(a.cfg, pa), mcastGroup(b.cfg, pb); ga != gb {
					add(finding(CodeMcastGroupMismatch, Critical, fmt.Sprintf("VRID %d: %s sends to %s, %s to %s", g.vrid, a.where(), ga, b.where(), gb)), g, a, b)
				}
			}
			for _, pair := range [][2]member{{a, b}, {b, a}} {
				if s := unicastProblem(pair[0], pair[1]); s != "" {
					add(finding(CodeUnicastAsymmetry, Critical, fmt.Sprintf("VRID %d: %s", g.vrid, s)), g, pair[0], pair[1])
				}
			}
		})
		// VRID collisions: instances of one VRID with no VIP in common on
		// one segment.
		for i := 0; i < len(g.members); i++ {
			for j := i + 1; j < len(g.members); j++ {
				a, b := g.members[i], g.members[j]
				if len(a.in.VIPs) == 0 || len(b.in.VIPs) == 0 || sharesVIP(a.in, b.in) || !sameSegment(a.in, b.in) {
					continue
				}
				if a.cfg == b.cfg && a.in.Interface != b.in.Interface {
					continue
				}
				add(finding(CodeVRIDCollision, Critical, fmt.Sprintf("VRID %d is used by %s for %s and by %s for %s, on one segment", g.vrid, a.where(), vipSet(a.in), b.where(), vipSet(b.in))), g, a, b)
			}
		}
	}
	for _, c := range cfgs {
		for _, in := range c.Instances {
			m := member{c, in}
			if in.NoPreempt && in.State == "MASTER" {
				f := finding(CodeNopreemptNeedsBackup, Warning, fmt.Sprintf("%s has nopreempt with state MASTER: keepalived clears nopreempt and the router preempts", m.where()))
				f.VRID, f.Instance = in.VRID, in.Name
				f.Files = []string{in.Keywords["nopreempt"].String()}
				findings = append(findings, f)
			}
			if in.NoPreempt {
				saw[CodeNopreemptNeedsBackup] = append(saw[CodeNopreemptNeedsBackup], fmt.Sprintf("%s: nopreempt, state %s", m.where(), in.State))
			}
		}
	}
	return findings, saw
}

// unicastProblem says why a's adverts do not reach b, or b's do not reach
// a, through unicast settings, or returns "".
func unicastProblem(a, b member) string {
	pa, pb := a.in, b.in
	switch {
	case pa.Unicast() && !pb.Unicast():
		return fmt.Sprintf("%s sends unicast to %s, %s sends multicast: %s never hears %s (keepalived takes no multicast advert on a unicast instance)", a.where(), addrList(pa.UnicastPeers), b.where(), a.where(), b.where())
	case !pa.Unicast():
		return ""
	}
	if src := pb.UnicastSrcIP; src.IsValid() && !slices.Contains(pa.UnicastPeers, src) {
		return fmt.Sprintf("%s lists unicast peers %s, which leave out %s's unicast_src_ip %s: %s's adverts are not sent there, and %s discards those of %s", a.where(), addrList(pa.UnicastPeers), b.where(), src, a.where(), a.where(), b.where())
	}
	return ""
}

// mcastGroup is the group an instance sends its adverts to.
func mcastGroup(c *kaconf.Config, in *kaconf.Instance) netip.Addr {
	if in.Family() == "ipv6" {
		if c.Global.MulticastGroup6.IsValid() {
			return c.Global.MulticastGroup6
		}
		return vrrpGroup6
	}
	if c.Global.MulticastGroup4.IsValid() {
		return c.Global.MulticastGroup4
	}
	return vrrpGroup4
}

var (
	vrrpGroup4 = netip.MustParseAddr("224.0.0.18")
	vrrpGroup6 = netip.MustParseAddr("ff02::12")
)

func authString(a kaconf.Auth) string {
	switch a.Type {
	case "":
		return "no authentication"
	}
	return "auth_type " + a.Type
}

func addrList(as []netip.Addr) string {
	var s []string
	for _, a := range as {
		s = append(s, a.String())
	}
	return strings.Join(s, ", ")
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func appendUnique(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}
