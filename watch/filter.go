package watch

import (
	"net/netip"
	"sort"
	"strings"
)

// baseFilter is what the engine needs from any interface: VRRP (IPv4 and
// IPv6), IGMP (joins of silent backups) and ARP (GARPs, client resolutions).
const baseFilter = "vrrp or (ip6 and ip6 proto 112) or igmp or arp"

// captureFilter is the BPF expression for the live handle: the base filter,
// widened to the traffic to and from the VIPs known so far (clients following
// a failover, and the answers that show the VIP is served), and narrowed by
// the user's expression when there is one.
func captureFilter(vips []netip.Addr, user string) string {
	var b strings.Builder
	b.WriteString(baseFilter)
	for _, v := range vips {
		b.WriteString(" or host ")
		b.WriteString(v.Unmap().String())
	}
	if strings.TrimSpace(user) == "" {
		return b.String()
	}
	return "(" + b.String() + ") and (" + user + ")"
}

// vipSet collects the VIPs the engine has learned, in a stable order, so the
// filter is only replaced when the set changes.
type vipSet struct {
	addrs []netip.Addr
	seen  map[netip.Addr]bool
}

// add merges addresses written as strings (as in analyze.Group.VIPs) and
// returns the ones that were new.
func (s *vipSet) add(list []string) (added []netip.Addr) {
	if s.seen == nil {
		s.seen = make(map[netip.Addr]bool)
	}
	for _, v := range list {
		a, err := netip.ParseAddr(v)
		if err != nil || s.seen[a] {
			continue
		}
		s.seen[a] = true
		s.addrs = append(s.addrs, a)
		added = append(added, a)
	}
	if len(added) > 0 {
		sort.Slice(s.addrs, func(i, j int) bool { return s.addrs[i].Less(s.addrs[j]) })
	}
	return added
}

func (s *vipSet) has(a netip.Addr) bool { return s.seen[a.Unmap()] }
