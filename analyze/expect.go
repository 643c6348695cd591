package analyze

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/vrrpctl/vrrpctl/kaconf"
)

// expectations hold what keepalived configurations say the routers should do.
type expectations struct {
	instances []*kaconf.Instance
}

func newExpectations(cfgs []*kaconf.Config) *expectations {
	x := &expectations{}
	for _, c := range cfgs {
		if c != nil {
			x.instances = append(x.instances, c.Instances...)
		}
	}
	return x
}

func (x *expectations) forGroup(g *group) []*kaconf.Instance {
	var out []*kaconf.Instance
	for _, in := range x.instances {
		if in.VRID == int(g.key.vrid) && in.Family() == g.family() {
			out = append(out, in)
		}
	}
	return out
}

// garp returns the configured GARP schedule of a virtual router.
func (x *expectations) garp(g *group) (garpPlan, bool) {
	ins := x.forGroup(g)
	if len(ins) == 0 {
		return garpPlan{}, false
	}
	p := ins[0].GARP
	return garpPlan{repeat: p.MasterRepeat, interval: p.Interval, delay: p.MasterDelay, refresh: p.MasterRefresh, known: true}, true
}

// compare checks each configured instance against the speaker that matches
// it on the wire.
func (x *expectations) compare(e *Engine) {
	if len(x.instances) == 0 {
		return
	}
	for _, in := range x.instances {
		var g *group
		for _, cand := range e.sortedGroups() {
			if int(cand.key.vrid) == in.VRID && cand.family() == in.Family() {
				g = cand
				break
			}
		}
		where := fmt.Sprintf("%s:%d", in.File, in.Line)
		if g == nil {
			e.note(fmt.Sprintf("%s: vrrp_instance %s (VRID %d) was configured but not seen in the capture.", where, in.Name, in.VRID))
			continue
		}
		s := matchSpeaker(g, in)
		if s == nil {
			e.note(fmt.Sprintf("%s: vrrp_instance %s (VRID %d, priority %d): no router with that priority advertised; it stayed backup or never ran.", where, in.Name, in.VRID, in.Priority))
			continue
		}
		var diffs []string
		if in.AdvertInt != s.interval {
			diffs = append(diffs, fmt.Sprintf("advert_int %s configured, %s on the wire", fmtDur(in.AdvertInt), fmtDur(s.interval)))
		}
		if in.Version != 0 && in.Version != s.version {
			diffs = append(diffs, fmt.Sprintf("version %d configured, VRRPv%d on the wire", in.Version, s.version))
		}
		if s.version == 2 {
			want := "none"
			switch strings.ToUpper(in.Auth.Type) {
			case "PASS":
				want = fmt.Sprintf("password %q", in.Auth.Pass)
			case "AH":
				want = "IP AH authentication"
			}
			if got := authText(s); want != got && !(want == "none" && got == "no authentication") {
				diffs = append(diffs, fmt.Sprintf("authentication %s configured, %s on the wire", want, got))
			}
		}
		var vips []netip.Addr
		for _, v := range in.VIPs {
			vips = append(vips, v.Prefix.Addr())
		}
		sortAddrs(vips)
		if len(vips) > 0 && s.list.n > 0 && listID(vips) != s.list {
			diffs = append(diffs, fmt.Sprintf("virtual_ipaddress %s configured, %s advertised", addrList(vips), s.vipList()))
		}
		if len(diffs) == 0 {
			continue
		}
		fd := g.finding(CodeConfigMismatch, []uint64{s.firstFrame}, s.firstTime,
			fmt.Sprintf("%s (vrrp_instance %s, %s): %s", s.ip, in.Name, where, strings.Join(diffs, "; ")))
		e.find(fd)
	}
}

// matchSpeaker finds the router that runs an instance: by unicast_src_ip, else
// by priority.
func matchSpeaker(g *group, in *kaconf.Instance) *speaker {
	for _, s := range g.speakers {
		if in.UnicastSrcIP.IsValid() && s.ip == in.UnicastSrcIP {
			return s
		}
	}
	for _, s := range g.speakers {
		if s.priority == in.Priority {
			return s
		}
	}
	return nil
}
