package analyze

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/vrrpctl/vrrpctl/decode"
	"github.com/vrrpctl/vrrpctl/vrrp"
)

// The multicast groups every VRRP router joins: 224.0.0.18 (RFC 3768,
// RFC 5798) and ff02::12 (RFC 5798).
var (
	vrrpGroup4 = netip.AddrFrom4([4]byte{224, 0, 0, 18})
	vrrpGroup6 = netip.MustParseAddr("ff02::12")
)

// reportKey is a host's membership of one multicast group.
type reportKey struct {
	vlan, outer uint16
	host, group netip.Addr
}

type igmpSeen struct {
	meaning decode.Membership
	at      time.Time
	event   int // index into the timeline, or -1
}

// onIGMP follows memberships: a router joining 224.0.0.18 is a VRRP router
// coming up (a backup is otherwise silent), a leave one going down. MLD
// (onMLD) does the same for ff02::12; both read a report the same way:
// a CHANGE_TO_EXCLUDE with no sources is a join, a CHANGE_TO_INCLUDE with
// no sources a leave.
func (e *Engine) onIGMP(f *decode.Frame) {
	m := f.IGMP
	if m.Type == decode.IGMPv3Report {
		for i := range m.Records {
			r := &m.Records[i]
			e.membership(f, r.Group, r.Meaning(), fmt.Sprintf("IGMPv3 %s with %d source(s)", r.TypeName(), len(r.Sources)))
		}
		return
	}
	switch m.Type {
	case decode.IGMPv1Report, decode.IGMPv2Report, decode.IGMPv2Leave:
		e.membership(f, m.Group, m.Meaning(), fmt.Sprintf("IGMPv%d %s", m.Version, igmpTypeName(m.Type)))
	}
}

// onMLD follows IPv6 memberships as onIGMP does IPv4 ones.
func (e *Engine) onMLD(f *decode.Frame) {
	m := f.MLD
	switch m.Type {
	case decode.MLDv2Report:
		for i := range m.Records {
			r := &m.Records[i]
			e.membership(f, r.Group, r.Meaning(), fmt.Sprintf("MLDv2 %s with %d source(s)", r.TypeName(), len(r.Sources)))
		}
	case decode.MLDv1Report:
		e.membership(f, m.Group, m.Meaning(), "MLDv1 report")
	case decode.MLDv1Done:
		e.membership(f, m.Group, m.Meaning(), "MLDv1 done")
	}
}

func igmpTypeName(t uint8) string {
	switch t {
	case decode.IGMPv1Report, decode.IGMPv2Report:
		return "membership report"
	case decode.IGMPv2Leave:
		return "leave group"
	}
	return fmt.Sprintf("type 0x%02x", t)
}

func (e *Engine) membership(f *decode.Frame, grp netip.Addr, meaning decode.Membership, how string) {
	var verb string
	switch meaning {
	case decode.MembershipJoin:
		verb = "joined"
	case decode.MembershipLeave:
		verb = "left"
	default:
		return
	}
	if (grp == vrrpGroup4 || grp == vrrpGroup6) && !f.IP.Src.IsUnspecified() {
		k := memberKey{vlan: f.VLAN, outer: f.OuterVLAN, ip: f.IP.Src}
		mb, _, evicted := e.members.touch(k, nil)
		if evicted > 0 {
			e.evicted("members", uint64(evicted))
		}
		if meaning == decode.MembershipJoin && !mb.in {
			mb.in, mb.joined, mb.frame = true, f.Time, f.Number
		}
		e.learnOwnMAC(f, f.IP.Src, f.SrcMAC)
		if _, _, virtual := vrrp.ParseVirtualMAC(f.SrcMAC); !virtual {
			mb.mac = f.SrcMAC
		}
		if meaning == decode.MembershipLeave {
			mb.in = false
		}
	}
	// Hosts repeat their reports (robustness variable): fold repeats.
	key := reportKey{vlan: f.VLAN, outer: f.OuterVLAN, host: f.IP.Src, group: grp}
	if e.igmpLast == nil {
		e.igmpLast = make(map[reportKey]*igmpSeen)
	}
	if s := e.igmpLast[key]; s != nil && s.meaning == meaning && f.Time.Sub(s.at) < 5*time.Second {
		if s.event >= 0 && s.event < len(e.a.Timeline) {
			ev := &e.a.Timeline[s.event]
			if ev.Count == 0 {
				ev.Count = 1
			}
			ev.Count++
			ev.LastFrame = f.Number
		}
		return
	}
	kind := "join"
	if meaning == decode.MembershipLeave {
		kind = "leave"
	}
	idx := -1
	if len(e.a.Timeline) < maxTimeline {
		idx = len(e.a.Timeline)
	}
	e.igmpLast[key] = &igmpSeen{meaning: meaning, at: f.Time, event: idx}
	if len(e.igmpLast) > 4096 { // bound memory on a capture full of multicast
		e.igmpLast = nil
	}
	e.emit(Event{Frame: f.Number, Time: f.Time, Kind: kind, VLAN: int(f.VLAN), Source: f.IP.Src.String(), Target: grp.String(),
		Summary: fmt.Sprintf("%s %s %s (%s = %s)", f.IP.Src, verb, grp, how, kind)})
}

// vrrpGroupName names the multicast group of VRRP adverts.
func vrrpGroupName(v6 bool) string {
	if v6 {
		return "ff02::12"
	}
	return "224.0.0.18"
}

// seenBefore reports whether router s showed itself (an advert, or a join
// of the VRRP group) before t.
func (e *Engine) seenBefore(g *group, s *speaker, t time.Time) bool {
	if s.firstTime.Before(t) {
		return true
	}
	mb := e.members.get(memberKey{vlan: g.key.vlan, outer: g.key.outer, ip: s.ip})
	return mb != nil && !mb.joined.IsZero() && mb.joined.Before(t)
}

// hasOtherMember reports whether a host other than the group's only speaker
// joined 224.0.0.18 on its VLAN: a silent backup.
func (e *Engine) hasOtherMember(g *group) bool {
	found := false
	e.members.each(func(k memberKey, _ *member) {
		found = found || k.vlan == g.key.vlan && k.outer == g.key.outer && k.ip != g.speakers[0].ip
	})
	return found
}
