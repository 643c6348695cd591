// Package mcbridge reads and sets the multicast settings of Linux bridges
// and their ports over rtnetlink: IGMP/MLD snooping, the bridge's own
// querier, the querier it has heard on the segment, its timers, and each
// port's multicast flooding. vishvananda/netlink's Bridge carries only
// snooping among these, so the attributes (IFLA_BR_*, IFLA_BRPORT_*) are
// read and written here, through its request helpers.
//
// Every function works in the network namespace of the calling thread:
// run it under internal/nsenter to look into another namespace.
package mcbridge

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"sort"
	"time"

	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// Attributes missing from vishvananda/netlink's nl package (linux/if_link.h,
// linux/if_bridge.h).
const (
	iflaBrMcastQuerierState = 47 // IFLA_BR_MCAST_QUERIER_STATE

	querierIPAddress     = 1 // BRIDGE_QUERIER_IP_ADDRESS
	querierIPPort        = 2 // BRIDGE_QUERIER_IP_PORT
	querierIPOtherTimer  = 3 // BRIDGE_QUERIER_IP_OTHER_TIMER
	querierIP6Address    = 5 // BRIDGE_QUERIER_IPV6_ADDRESS
	querierIP6Port       = 6 // BRIDGE_QUERIER_IPV6_PORT
	querierIP6OtherTimer = 7 // BRIDGE_QUERIER_IPV6_OTHER_TIMER

	userHZ = 100 // the bridge's timers travel in clock_t (centiseconds)
)

// Bridge is one Linux bridge with its multicast settings.
type Bridge struct {
	Name  string
	Index int
	// Snooping is IGMP/MLD snooping (multicast_snooping).
	Snooping bool
	// Querier is the bridge's own querier (multicast_querier): it sends
	// general queries itself.
	Querier bool
	// Router is multicast_router: 0 disabled, 1 learned (the default), 2
	// always.
	Router uint8
	// IGMPVersion and MLDVersion are the versions of the bridge's queries.
	IGMPVersion, MLDVersion uint8
	// The snooping timers (defaults: membership 260 s, querier 255 s,
	// query 125 s, response 10 s, startup query 31.25 s, last member 1 s).
	MembershipInterval, QuerierInterval, QueryInterval, QueryResponseInterval,
	StartupQueryInterval, LastMemberInterval time.Duration
	// Other4 and Other6 describe the IGMP and MLD querier the bridge knows
	// of on the segment (kernel 5.15 and later; StateKnown is false before).
	StateKnown     bool
	Other4, Other6 OtherQuerier
	Ports          []Port
}

// OtherQuerier is the querier a bridge has elected: its address, the port it
// was heard on (0: none or the bridge itself), and the time left before the
// bridge forgets it (0: no querier heard, or the timer expired).
type OtherQuerier struct {
	Addr  netip.Addr
	Port  int
	Timer time.Duration
}

// Present reports whether another querier is heard on the segment now.
func (o OtherQuerier) Present() bool { return o.Timer > 0 }

// Port is one port of a bridge.
type Port struct {
	Name  string
	Index int
	// MulticastFlood is mcast_flood: unregistered multicast (every group the
	// bridge does not snoop, 224.0.0.0/24 among them) is flooded to the port.
	MulticastFlood bool
	// Router is the port's multicast_router setting.
	Router uint8
	// State is the STP port state (3 forwarding).
	State uint8
	Up    bool
}

// List returns the bridges of the calling thread's namespace with their
// ports, sorted by name.
func List() ([]Bridge, error) {
	req := nl.NewNetlinkRequest(unix.RTM_GETLINK, unix.NLM_F_DUMP)
	req.AddData(nl.NewIfInfomsg(unix.AF_UNSPEC))
	msgs, err := req.Execute(unix.NETLINK_ROUTE, unix.RTM_NEWLINK)
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	byIndex := map[int]*Bridge{}
	type portOf struct {
		master int
		port   Port
	}
	var ports []portOf
	for _, m := range msgs {
		if len(m) < unix.SizeofIfInfomsg {
			continue
		}
		info := nl.DeserializeIfInfomsg(m)
		attrs, err := nl.ParseRouteAttr(m[unix.SizeofIfInfomsg:])
		if err != nil {
			return nil, fmt.Errorf("link %d: %w", info.Index, err)
		}
		var name string
		var master int
		var kind, slaveKind string
		var data, slaveData []byte
		for _, a := range attrs {
			switch a.Attr.Type {
			case unix.IFLA_IFNAME:
				name = cString(a.Value)
			case unix.IFLA_MASTER:
				master = int(native(a.Value, 4))
			case unix.IFLA_LINKINFO:
				nested, err := nl.ParseRouteAttr(a.Value)
				if err != nil {
					continue
				}
				for _, n := range nested {
					switch n.Attr.Type {
					case nl.IFLA_INFO_KIND:
						kind = cString(n.Value)
					case nl.IFLA_INFO_DATA:
						data = n.Value
					case nl.IFLA_INFO_SLAVE_KIND:
						slaveKind = cString(n.Value)
					case nl.IFLA_INFO_SLAVE_DATA:
						slaveData = n.Value
					}
				}
			}
		}
		up := info.Flags&unix.IFF_UP != 0
		if kind == "bridge" {
			br := &Bridge{Name: name, Index: int(info.Index)}
			if err := br.parse(data); err != nil {
				return nil, fmt.Errorf("bridge %s: %w", name, err)
			}
			byIndex[br.Index] = br
		}
		if slaveKind == "bridge" && master != 0 {
			p := Port{Name: name, Index: int(info.Index), MulticastFlood: true, Up: up}
			p.parse(slaveData)
			ports = append(ports, portOf{master, p})
		}
	}
	for _, p := range ports {
		if br := byIndex[p.master]; br != nil {
			br.Ports = append(br.Ports, p.port)
		}
	}
	out := make([]Bridge, 0, len(byIndex))
	for _, br := range byIndex {
		sort.Slice(br.Ports, func(i, j int) bool { return br.Ports[i].Name < br.Ports[j].Name })
		out = append(out, *br)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (br *Bridge) parse(data []byte) error {
	attrs, err := nl.ParseRouteAttr(data)
	if err != nil {
		return err
	}
	for _, a := range attrs {
		v := a.Value
		switch a.Attr.Type {
		case nl.IFLA_BR_MCAST_SNOOPING:
			br.Snooping = len(v) > 0 && v[0] != 0
		case nl.IFLA_BR_MCAST_QUERIER:
			br.Querier = len(v) > 0 && v[0] != 0
		case nl.IFLA_BR_MCAST_ROUTER:
			if len(v) > 0 {
				br.Router = v[0]
			}
		case nl.IFLA_BR_MCAST_IGMP_VERSION:
			if len(v) > 0 {
				br.IGMPVersion = v[0]
			}
		case nl.IFLA_BR_MCAST_MLD_VERSION:
			if len(v) > 0 {
				br.MLDVersion = v[0]
			}
		case nl.IFLA_BR_MCAST_MEMBERSHIP_INTVL:
			br.MembershipInterval = clock(v)
		case nl.IFLA_BR_MCAST_QUERIER_INTVL:
			br.QuerierInterval = clock(v)
		case nl.IFLA_BR_MCAST_QUERY_INTVL:
			br.QueryInterval = clock(v)
		case nl.IFLA_BR_MCAST_QUERY_RESPONSE_INTVL:
			br.QueryResponseInterval = clock(v)
		case nl.IFLA_BR_MCAST_STARTUP_QUERY_INTVL:
			br.StartupQueryInterval = clock(v)
		case nl.IFLA_BR_MCAST_LAST_MEMBER_INTVL:
			br.LastMemberInterval = clock(v)
		case iflaBrMcastQuerierState:
			br.StateKnown = true
			nested, err := nl.ParseRouteAttr(v)
			if err != nil {
				continue
			}
			for _, n := range nested {
				switch n.Attr.Type {
				case querierIPAddress:
					if a, ok := netip.AddrFromSlice(n.Value); ok {
						br.Other4.Addr = a
					}
				case querierIPPort:
					br.Other4.Port = int(native(n.Value, 4))
				case querierIPOtherTimer:
					br.Other4.Timer = clock(n.Value)
				case querierIP6Address:
					if a, ok := netip.AddrFromSlice(n.Value); ok {
						br.Other6.Addr = a
					}
				case querierIP6Port:
					br.Other6.Port = int(native(n.Value, 4))
				case querierIP6OtherTimer:
					br.Other6.Timer = clock(n.Value)
				}
			}
		}
	}
	return nil
}

func (p *Port) parse(data []byte) {
	attrs, err := nl.ParseRouteAttr(data)
	if err != nil {
		return
	}
	for _, a := range attrs {
		if len(a.Value) == 0 {
			continue
		}
		switch a.Attr.Type {
		case nl.IFLA_BRPORT_MCAST_FLOOD:
			p.MulticastFlood = a.Value[0] != 0
		case nl.IFLA_BRPORT_MULTICAST_ROUTER:
			p.Router = a.Value[0]
		case nl.IFLA_BRPORT_STATE:
			p.State = a.Value[0]
		}
	}
}

// Settings changes a bridge's multicast settings; nil fields are left as
// they are. Durations are rounded down to centiseconds.
type Settings struct {
	Snooping              *bool
	Querier               *bool
	MembershipInterval    *time.Duration
	QuerierInterval       *time.Duration
	QueryInterval         *time.Duration
	QueryResponseInterval *time.Duration
	StartupQueryInterval  *time.Duration
}

// Set applies s to the bridge named name, as `ip link set NAME type bridge
// mcast_snooping ... mcast_querier ... mcast_membership_interval ...`.
func Set(name string, s Settings) error {
	req := nl.NewNetlinkRequest(unix.RTM_NEWLINK, unix.NLM_F_ACK)
	req.AddData(nl.NewIfInfomsg(unix.AF_UNSPEC))
	req.AddData(nl.NewRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(name)))
	linkInfo := nl.NewRtAttr(unix.IFLA_LINKINFO, nil)
	linkInfo.AddRtAttr(nl.IFLA_INFO_KIND, nl.NonZeroTerminated("bridge"))
	data := linkInfo.AddRtAttr(nl.IFLA_INFO_DATA, nil)
	flag := func(attr int, v *bool) {
		if v != nil {
			b := byte(0)
			if *v {
				b = 1
			}
			data.AddRtAttr(attr, []byte{b})
		}
	}
	timer := func(attr int, d *time.Duration) {
		if d != nil {
			data.AddRtAttr(attr, nl.Uint64Attr(uint64(*d/(time.Second/userHZ))))
		}
	}
	flag(nl.IFLA_BR_MCAST_SNOOPING, s.Snooping)
	flag(nl.IFLA_BR_MCAST_QUERIER, s.Querier)
	timer(nl.IFLA_BR_MCAST_MEMBERSHIP_INTVL, s.MembershipInterval)
	timer(nl.IFLA_BR_MCAST_QUERIER_INTVL, s.QuerierInterval)
	timer(nl.IFLA_BR_MCAST_QUERY_INTVL, s.QueryInterval)
	timer(nl.IFLA_BR_MCAST_QUERY_RESPONSE_INTVL, s.QueryResponseInterval)
	timer(nl.IFLA_BR_MCAST_STARTUP_QUERY_INTVL, s.StartupQueryInterval)
	req.AddData(linkInfo)
	if _, err := req.Execute(unix.NETLINK_ROUTE, 0); err != nil {
		return fmt.Errorf("set multicast settings of bridge %s: %w", name, err)
	}
	return nil
}

// clock reads a clock_t attribute (u64 centiseconds).
func clock(v []byte) time.Duration {
	return time.Duration(native(v, 8)) * (time.Second / userHZ)
}

// native reads an unsigned integer of n bytes in host byte order.
func native(v []byte, n int) uint64 {
	if len(v) < n {
		return 0
	}
	switch n {
	case 4:
		return uint64(binary.NativeEndian.Uint32(v))
	case 8:
		return binary.NativeEndian.Uint64(v)
	}
	return 0
}

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
