package main

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"time"
)

// Mode is what the generated frames are. Every mode keeps the base capture's
// frames as they are; only the frames around them differ.
type Mode int

const (
	// ModeBackground: unicast TCP/UDP among 2048 hosts, a share of it from
	// 256 conversations of clients to the VIP.
	ModeBackground Mode = iota
	// ModeClients: Config.Clients distinct client MACs (and IPv4 addresses)
	// sending TCP to the VIP, in windows around each failover of the base
	// capture; a share of them keeps sending to the old master's MAC for a
	// while after each failover (stale ARP entries). A MAC flood (macof) at
	// the VIP, a scan, or a broken NIC.
	ModeClients
	// ModeARP: ARP requests from random senders (random MAC and IPv4
	// address) for random addresses of the VIP's /24, one in 16 for the VIP.
	ModeARP
	// ModeVLANs: VRRPv2 adverts for every VRID (1..255) on each 802.1Q VLAN
	// 1..Config.VLANs, round-robin: one router per VLAN.
	ModeVLANs
	// ModeSourceIPs: one client MAC sending TCP to the VIP from a different
	// IPv4 source address in every frame.
	ModeSourceIPs
	// ModeLoaded: the worst case of the engine's tables at once. Every
	// other frame is an advert of a fully loaded virtual router (VRIDs
	// 1..255 on VLANs 1..Config.VLANs, each from 32 routers, each router
	// advertising 256 addresses in two adverts of 128), the others come
	// from Config.Clients distinct client MACs sending to the VIP over the
	// whole capture, a share of them stale (Config.StaleShare).
	ModeLoaded
)

// Modes names the modes as the -mode flag spells them.
var Modes = map[string]Mode{
	"background": ModeBackground,
	"clients":    ModeClients,
	"arp":        ModeARP,
	"vlans":      ModeVLANs,
	"source-ips": ModeSourceIPs,
	"loaded":     ModeLoaded,
}

func (m Mode) String() string {
	for name, v := range Modes {
		if v == m {
			return name
		}
	}
	return fmt.Sprintf("mode(%d)", int(m))
}

// Limits of the hostile modes.
const (
	maxClients = 1<<24 - 2 // distinct client addresses in 10.0.0.0/8
	maxVLANs   = 4094
	// Clients' frames fall from windowBefore before to windowAfter after
	// each change of the VIP's MAC in the base capture.
	windowBefore = 2 * time.Second
	windowAfter  = 4 * time.Second
	// A stale client sends to the old MAC for staleFor after a change.
	staleFor = 3 * time.Second
	// ModeClients: a client's first frame is a SYN, every synEvery-th after too.
	synEvery = 4
	// ModeLoaded: routers of each virtual router, and addresses in each of
	// their two adverts.
	loadedRouters = 32
	loadedAddrs   = 128
)

// traffic makes the generated frames: frame m (0-based, of the generated
// ones) at ts. The slice is valid until the next call; toVIP says whether
// it counts in Stats.ToVIP.
type traffic interface {
	next(m int, ts int64) (data []byte, toVIP bool)
}

// vipOwner follows the MAC the base capture announces for the VIP.
type vipOwner struct {
	mac     [6]byte // the MAC announced last
	prev    [6]byte // the one before (mac until the first change)
	changed int64   // when mac replaced prev; math.MinInt64 before any change
}

func (o *vipOwner) announce(mac [6]byte, ts int64) {
	if mac != o.mac {
		o.prev, o.mac, o.changed = o.mac, mac, ts
	}
}

// timeline is the part of the capture's time span, as offsets from its
// first frame in sorted disjoint [from, to) windows, that generated frames
// are spread over evenly.
type timeline [][2]int64

func (tl timeline) length() int64 {
	var n int64
	for _, w := range tl {
		n += w[1] - w[0]
	}
	return n
}

// at maps an offset into the concatenated windows to an offset from the
// capture's start; it is monotonic.
func (tl timeline) at(u int64) int64 {
	for _, w := range tl {
		if d := w[1] - w[0]; u < d {
			return w[0] + u
		} else {
			u -= d
		}
	}
	last := tl[len(tl)-1]
	return last[1] - 1
}

// vipChanges returns when (as offsets from the base's first frame) the
// base capture's announcements of the VIP move it to another MAC: its
// failovers, as clients see them. Each play of the story has its own.
func vipChanges(base []baseFrame, period int64, repeat int) []int64 {
	var one []int64
	var cur []byte
	for _, f := range base {
		if f.vipMAC == nil {
			continue
		}
		if cur != nil && string(cur) != string(f.vipMAC) {
			one = append(one, f.ts-base[0].ts)
		}
		cur = f.vipMAC
	}
	var all []int64
	for r := range repeat {
		for _, c := range one {
			all = append(all, c+int64(r)*period)
		}
	}
	return all
}

// aroundChanges returns the windows around each change within [0, total),
// merged where they overlap; the whole span when there is no change.
func aroundChanges(changes []int64, total int64) timeline {
	var tl timeline
	for _, c := range changes {
		w := [2]int64{max(0, c-int64(windowBefore)), min(total, c+int64(windowAfter))}
		if w[0] >= w[1] {
			continue
		}
		if n := len(tl); n > 0 && w[0] <= tl[n-1][1] {
			tl[n-1][1] = max(tl[n-1][1], w[1])
			continue
		}
		tl = append(tl, w)
	}
	if len(tl) == 0 {
		return timeline{{0, total}}
	}
	return tl
}

// hostile makes the frames of the modes other than ModeBackground.
type hostile struct {
	*background
	mode   Mode
	vip    [4]byte
	seed   uint64
	n      int // ModeClients, ModeLoaded: clients; ModeVLANs: groups
	groups int // ModeLoaded: virtual routers
	stale  int // ModeClients: every stale-th client is stale; 0: none
	mac    [6]byte
	taken  map[[6]byte]bool // MACs of the base capture
}

func newHostile(g *background, cfg Config, base []baseFrame, nBG int) (*hostile, error) {
	h := &hostile{background: g, mode: cfg.Mode, vip: cfg.VIP.As4(), seed: g.rng.Uint64(), taken: map[[6]byte]bool{}}
	for _, f := range base {
		if len(f.data) >= 12 {
			h.taken[[6]byte(f.data[0:6])] = true
			h.taken[[6]byte(f.data[6:12])] = true
		}
	}
	switch cfg.Mode {
	case ModeClients:
		if cfg.Clients < 1 || cfg.Clients > maxClients {
			return nil, fmt.Errorf("-clients %d: want 1..%d", cfg.Clients, maxClients)
		}
		if cfg.StaleShare < 0 || cfg.StaleShare > 1 {
			return nil, fmt.Errorf("-stale-share must be within 0..1")
		}
		h.n = cfg.Clients
		if cfg.StaleShare > 0 {
			h.stale = max(1, int(math.Round(1/cfg.StaleShare)))
		}
		if nBG < h.n {
			return nil, fmt.Errorf("-frames %d leaves %d frames for %d clients: each client sends at least one", cfg.Frames, nBG, h.n)
		}
	case ModeVLANs:
		if cfg.VLANs < 1 || cfg.VLANs > maxVLANs {
			return nil, fmt.Errorf("-vlans %d: want 1..%d", cfg.VLANs, maxVLANs)
		}
		h.n = cfg.VLANs * 255
	case ModeLoaded:
		if cfg.VLANs < 1 || cfg.VLANs > maxVLANs {
			return nil, fmt.Errorf("-vlans %d: want 1..%d", cfg.VLANs, maxVLANs)
		}
		if cfg.Clients < 1 || cfg.Clients > maxClients {
			return nil, fmt.Errorf("-clients %d: want 1..%d", cfg.Clients, maxClients)
		}
		if nBG/2 < cfg.Clients {
			return nil, fmt.Errorf("-frames %d leaves %d client frames for %d clients: each client sends at least one", cfg.Frames, nBG/2, cfg.Clients)
		}
		h.groups, h.n = cfg.VLANs*255, cfg.Clients
		if cfg.StaleShare > 0 {
			h.stale = max(1, int(math.Round(1/cfg.StaleShare)))
		}
	case ModeARP:
	case ModeSourceIPs:
		h.mac = h.clientMAC(0)
	default:
		return nil, fmt.Errorf("unknown mode %d", cfg.Mode)
	}
	return h, nil
}

func (h *hostile) next(m int, ts int64) ([]byte, bool) {
	switch h.mode {
	case ModeClients:
		return h.client(m, ts), true
	case ModeARP:
		return h.arpRequest()
	case ModeVLANs:
		return h.advert(m), false
	case ModeLoaded:
		if m%2 == 0 {
			return h.loadedAdvert(m / 2), false
		}
		return h.client(m/2, ts), true
	default: // ModeSourceIPs
		return h.sourceIP(m), true
	}
}

// perm40 is a bijection of 40-bit numbers, keyed by the seed: distinct
// inputs give distinct, scattered outputs.
func (h *hostile) perm40(x uint64) uint64 {
	const mask = 1<<40 - 1
	x = (x ^ h.seed) & mask
	x = x * 0x9e3779b97f4a7c15 & mask
	x ^= x >> 17
	x = x * 0xbf58476d1ce4e5b9 & mask
	x ^= x >> 19
	return x
}

// clientMAC is client i's MAC: locally administered unicast, distinct for
// every i and from the base capture's MACs.
func (h *hostile) clientMAC(i int) [6]byte {
	for _, first := range []byte{0x02, 0x06, 0x0a, 0x0e} {
		v := h.perm40(uint64(i))
		mac := [6]byte{first, byte(v >> 32), byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
		if !h.taken[mac] {
			return mac
		}
	}
	panic("four MACs of the base capture in a row") // perm40 is a bijection: at most one can be taken per prefix
}

// client builds frame m of ModeClients: client m % n's (m / n)-th frame.
func (h *hostile) client(m int, ts int64) []byte {
	i, k := m%h.n, m/h.n
	dst := h.owner.mac
	if h.stale > 0 && i%h.stale == 0 && h.owner.changed != math.MinInt64 && ts-h.owner.changed < int64(staleFor) {
		dst = h.owner.prev
	}
	key := h.perm40(uint64(i) + 1<<39)
	s := segment{
		srcMAC: h.clientMAC(i), dstMAC: dst,
		srcIP: [4]byte{10, byte((i + 1) >> 16), byte((i + 1) >> 8), byte(i + 1)}, dstIP: h.vip,
		sport: uint16(clientPortLo + key%(clientPortHi-clientPortLo+1)),
		dport: serverPorts[key%uint64(len(serverPorts))],
		tcp:   true, flags: tcpACK,
		seq: uint32(key) + uint32(k)*1460, ack: uint32(key >> 8),
		ipid: uint16(key) + uint16(k),
		size: h.frameSize(),
	}
	if k%synEvery == 0 {
		s.flags, s.size = tcpSYN, minFrame
	}
	s.off = 2 * h.rng.IntN(payloadBlock/2)
	b, _ := h.build(&s)
	return b
}

// sourceIP builds frame m of ModeSourceIPs: the one client, from its m-th
// address (10.0.0.0/8 scattered, then 11.0.0.0/8, ...).
func (h *hostile) sourceIP(m int) []byte {
	// An odd multiplier is a bijection of the low 24 bits: distinct and
	// scattered within each /8.
	u := uint32(m) + 1 // not 10.0.0.0
	ip := (10+u>>24)<<24 | u*0x9e3779&(1<<24-1)
	s := segment{
		srcMAC: h.mac, dstMAC: h.owner.mac,
		dstIP: h.vip,
		sport: uint16(clientPortLo + m%(clientPortHi-clientPortLo+1)), dport: serverPorts[0],
		tcp: true, flags: tcpACK,
		seq: uint32(m) * 7919, ack: uint32(m) * 104729, ipid: uint16(m),
		size: h.frameSize(),
	}
	binary.BigEndian.PutUint32(s.srcIP[:], ip)
	if m%synEvery == 0 {
		s.flags, s.size = tcpSYN, minFrame
	}
	s.off = 2 * h.rng.IntN(payloadBlock/2)
	b, _ := h.build(&s)
	return b
}

// arpRequest builds an ARP request from a random sender, padded to the
// Ethernet minimum.
func (h *hostile) arpRequest() ([]byte, bool) {
	b := h.buf[:minFrame]
	clear(b)
	v := h.rng.Uint64()
	mac := [6]byte{0x02, byte(v >> 32), byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
	target := [4]byte{h.vip[0], h.vip[1], h.vip[2], byte(v >> 40)}
	toVIP := v>>48&15 == 0
	if toVIP {
		target = h.vip
	}
	copy(b[0:6], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	copy(b[6:12], mac[:])
	b[12], b[13] = 0x08, 0x06
	a := b[14:42]
	copy(a, []byte{0, 1, 8, 0, 6, 4, 0, 1})
	copy(a[8:14], mac[:])
	a[14], a[15], a[16], a[17] = 10, byte(v>>52), byte(v>>56), byte(v>>60|1)
	copy(a[24:28], target[:])
	return b, toVIP
}

// advert builds frame m of ModeVLANs: a VRRPv2 advert of group m % n, on
// VLAN 1 + group/255 for VRID 1 + group%255, from the VLAN's router
// (100.64.0.0/10 + VLAN<<8 + 1) for the VIP 10.0.0.0/8 + VLAN<<8 + VRID.
func (h *hostile) advert(m int) []byte {
	grp := m % h.n
	vlan, vrid := 1+grp/255, byte(1+grp%255)
	return h.taggedAdvert(vlan, 0, 1, uint16(m/h.n), vrid, 100, 1, func(int) uint32 {
		return 10<<24 | uint32(vlan)<<8 | uint32(vrid)
	})
}

// loadedAdvert builds the k-th advert of ModeLoaded: virtual routers in
// turn, each from its 32 routers (100.64.0.0/10 + VLAN<<8 + router), their
// first 128 addresses then the next 128, out of 11.0.0.0/8 (virtual router
// × 256 + address, wrapping past 65 536 virtual routers), apart from the
// clients' 10.0.0.0/8.
func (h *hostile) loadedAdvert(k int) []byte {
	r, half, grp := k%loadedRouters, k/loadedRouters%2, k/(2*loadedRouters)%h.groups
	vlan, vrid := 1+grp/255, byte(1+grp%255)
	return h.taggedAdvert(vlan, byte(r), 2, uint16(k), vrid, byte(100+r), loadedAddrs, func(i int) uint32 {
		return 11<<24 | uint32(grp*256+half*loadedAddrs+i)&(1<<24-1)
	})
}

// taggedAdvert writes in h.buf a VRRPv2 advert (no authentication, every
// second) of VRID vrid at priority prio, tagged for vlan, from router r of
// the VLAN (MAC 02:56:VLAN:r:macLow, address 100.64.0.0/10 + VLAN<<8 +
// r+1) with IP ID ipid, listing n addresses: addr(i) the i-th. A frame
// shorter than 64 bytes (the 802.1Q minimum without FCS) is padded.
func (h *hostile) taggedAdvert(vlan int, r, macLow byte, ipid uint16, vrid, prio byte, n int, addr func(i int) uint32) []byte {
	const vrrpAt = 18 + 20 // 802.1Q Ethernet, IPv4
	end := vrrpAt + 8 + 4*n + 8
	b := h.buf[:max(end, 64)]
	clear(b)
	copy(b[0:6], []byte{0x01, 0x00, 0x5e, 0x00, 0x00, 0x12})
	copy(b[6:12], []byte{0x02, 0x56, byte(vlan >> 8), byte(vlan), r, macLow})
	b[12], b[13] = 0x81, 0x00
	binary.BigEndian.PutUint16(b[14:], uint16(vlan))
	b[16], b[17] = 0x08, 0x00
	ip := b[18:vrrpAt]
	ip[0], ip[1] = 0x45, 0xc0
	binary.BigEndian.PutUint16(ip[2:], uint16(end-18))
	binary.BigEndian.PutUint16(ip[4:], ipid)
	ip[8], ip[9] = 255, 112
	binary.BigEndian.PutUint32(ip[12:], uint32(100<<24|64<<16)+uint32(vlan)<<8+uint32(r)+1)
	copy(ip[16:20], []byte{224, 0, 0, 18})
	binary.BigEndian.PutUint16(ip[10:], fold(sum16(ip)))
	v := b[vrrpAt:end]
	v[0], v[1], v[2], v[3] = 0x21, vrid, prio, byte(n)
	v[4], v[5] = 0, 1
	for i := range n {
		binary.BigEndian.PutUint32(v[8+4*i:], addr(i))
	}
	binary.BigEndian.PutUint16(v[6:], fold(sum16(v)))
	return b
}

// modeNames lists the modes for usage messages.
func modeNames() []string {
	var out []string
	for name := range Modes {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}
