package analyze

import (
	"fmt"

	"github.com/vrrpctl/vrrpctl/decode"
)

// checkHeader flags adverts that receivers must discard: a TTL other than 255
// and a checksum that does not verify. One finding per speaker and kind, its
// evidence growing with each bad advert.
func (e *Engine) checkHeader(g *group, s *speaker, f *decode.Frame) {
	s.ttlSeen = f.IP.TTL
	if f.IP.TTL != 255 {
		e.perSpeaker(g, s, "ttl", f, func() Finding {
			return g.finding(CodeTTL, nil, f.Time,
				fmt.Sprintf("%s sends adverts with TTL %d instead of 255: receivers discard them", s.ip, f.IP.TTL))
		})
	}
	switch f.VRRPChecksum {
	case decode.ChecksumBad:
		e.perSpeaker(g, s, "checksum", f, func() Finding {
			return g.finding(CodeChecksum, nil, f.Time,
				fmt.Sprintf("%s sends adverts with a bad VRRP checksum (0x%04x): receivers discard them", s.ip, f.VRRP.Checksum))
		})
	case decode.ChecksumV2Style:
		e.perSpeaker(g, s, "checksum-v2", f, func() Finding {
			fd := g.finding(CodeChecksum, nil, f.Time,
				fmt.Sprintf("%s sends VRRPv3 adverts whose checksum only verifies without the IP pseudo-header (computed the VRRPv2 way)", s.ip))
			fd.Severity = Info
			return fd
		})
	}
}

// perSpeaker makes the finding of one kind for a speaker on its first bad
// frame, and adds each later bad frame to that finding's evidence.
func (e *Engine) perSpeaker(g *group, s *speaker, kind string, f *decode.Frame, build func() Finding) {
	if idx, ok := s.findings[kind]; ok {
		if idx >= 0 {
			e.a.Findings[idx].Frames = addEvidence(e.a.Findings[idx].Frames, f.Number)
		}
		return
	}
	if s.findings == nil {
		s.findings = make(map[string]int)
	}
	fd := build()
	fd.Frames = []uint64{f.Number}
	s.findings[kind] = e.find(fd) // -1 when findings are full: counted, not kept
}

// checkMismatch compares a speaker's parameters with the other speakers of its
// virtual router. Each code is reported once per group.
func (e *Engine) checkMismatch(g *group, s *speaker, f *decode.Frame) {
	if g.isVIP(s.ip) {
		// An advert from an address of the virtual router itself (FRR over
		// IPv6 sends from the first address of its macvlan, which may be
		// the link-local VIP): it names no router, so it is compared with
		// none.
		e.note(fmt.Sprintf("VRID %d: adverts came from %s, an address of the virtual router itself, not from a router's own address (RFC 5798 section 5.1.2.1): whichever router was master sent them, and they are not compared with the other routers'.", g.key.vrid, s.ip))
		return
	}
	for _, o := range g.speakers {
		if o == s || o.adverts == 0 || g.isVIP(o.ip) {
			continue
		}
		if o.interval != s.interval && o.version == s.version {
			g.mismatchOnce(e, CodeIntervalMismatch, o.lastFrame, f, func() string {
				return fmt.Sprintf("%s advertises every %s, %s every %s", o.ip, fmtDur(o.interval), s.ip, fmtDur(s.interval))
			})
		}
		if o.version != s.version {
			g.mismatchOnce(e, CodeVersionMismatch, o.lastFrame, f, func() string {
				return fmt.Sprintf("%s speaks VRRPv%d, %s VRRPv%d", o.ip, o.version, s.ip, s.version)
			})
		}
		if o.version == 2 && s.version == 2 && (o.authType != s.authType || o.authPass != s.authPass) {
			g.mismatchOnce(e, CodeAuthMismatch, o.lastFrame, f, func() string {
				return fmt.Sprintf("%s uses %s, %s uses %s", o.ip, authText(o), s.ip, authText(s))
			})
		}
		if o.list.n > 0 && s.list.n > 0 && o.list != s.list {
			g.mismatchOnce(e, CodeVIPMismatch, o.lastFrame, f, func() string {
				return fmt.Sprintf("%s advertises %s, %s advertises %s", o.ip, o.vipList(), s.ip, s.vipList())
			})
		}
		// Priorities that meet while tracking moves one of them are
		// ordinary: only routers whose highest priorities are the same
		// share one.
		if p := int(f.VRRP.Priority); p != 0 && p >= s.maxPriority && o.maxPriority == p && o.priority == p {
			g.mismatchOnce(e, CodeEqualPriority, o.lastLiveFrame, f, func() string {
				return fmt.Sprintf("%s and %s share priority %d: the higher address (%s) wins elections and the VIP will not move back", o.ip, s.ip, o.priority, maxAddr(o, s))
			})
		}
	}
}

func maxAddr(a, b *speaker) string {
	if a.ip.Compare(b.ip) > 0 {
		return a.ip.String()
	}
	return b.ip.String()
}

// mismatchOnce reports finding code of g once, with the other router's
// frame other and frame f as evidence. The summary is written only then:
// a flood of mismatched routers would otherwise format lists of hundreds
// of addresses for every advert.
func (g *group) mismatchOnce(e *Engine, code string, other uint64, f *decode.Frame, summary func() string) {
	if g.mismatch[code] {
		return
	}
	if g.mismatch == nil {
		g.mismatch = make(map[string]bool)
	}
	g.mismatch[code] = true
	e.find(g.finding(code, []uint64{other, f.Number}, f.Time, summary()))
}
