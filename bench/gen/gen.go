package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/netip"
	"os"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Format is the output file format.
type Format int

const (
	FormatPcap   Format = iota // classic pcap, microsecond timestamps
	FormatPcapng               // pcapng, one interface, nanosecond timestamps
)

// Config describes one generated capture.
type Config struct {
	Base     string     // base capture: pcap or pcapng, optionally gzip-compressed
	Frames   int        // total frames written, base frames included
	Format   Format     // output format
	Seed     uint64     // PRNG seed of the background traffic
	VIP      netip.Addr // virtual address that a share of the background goes to
	VIPShare float64    // share of background frames addressed to VIP, 0..1
	Repeat   int        // how many times the base story is played
	// Shift moves every timestamp, as if the capturing host's clock were
	// off by it: several files of one base with different seeds and
	// shifts are captures of one incident taken at different places.
	Shift time.Duration

	// Mode is what the generated frames are (see Mode); the zero value is
	// ModeBackground. Clients, VLANs and StaleShare apply to their modes.
	Mode       Mode
	Clients    int     // ModeClients, ModeLoaded: distinct client MACs
	VLANs      int     // ModeVLANs, ModeLoaded: 802.1Q VLANs 1..VLANs, each with VRIDs 1..255
	StaleShare float64 // ModeClients, ModeLoaded: share of clients that keep the old MAC after a failover
}

// Stats summarizes what Generate wrote.
type Stats struct {
	Frames        int   // frames written
	BaseFrames    int   // of which copied from the base capture
	BasePerRepeat int   // frames in the base capture
	Background    int   // generated frames
	ToVIP         int   // generated frames addressed to the VIP (ModeARP: ARP requests for it)
	Bytes         int64 // frame bytes written (headers of the file format excluded)
}

// Layout of the generated traffic.
const (
	numHosts     = 2048 // background hosts in 10.1.0.0/16
	numFlows     = 4096 // background conversations among them
	numVIPFlows  = 256  // conversations from the VIP's subnet to the VIP
	tcpPercent   = 80   // share of TCP flows; the rest are UDP
	clientPortLo = 60002
	clientPortHi = 65535
	repeatGap    = time.Second // silence between two plays of the base story
	payloadBlock = 1 << 16     // random bytes that payloads are cut from
	maxFrame     = 1514        // Ethernet header + 1500-byte IP MTU
	minFrame     = 60          // Ethernet minimum without FCS
)

// serverPorts are ports for which tshark has no dissector registered, so
// that random payloads are shown as data and never as a malformed protocol.
// Client ports come from clientPortLo..clientPortHi, likewise unregistered.
var serverPorts = [...]uint16{5201, 12345, 40000, 44444, 55555}

type baseFrame struct {
	ts      int64 // nanoseconds since the epoch
	data    []byte
	origLen int
	vipMAC  []byte // set when this frame is an ARP from the VIP: its sender MAC
}

type host struct {
	ip  [4]byte
	mac [6]byte
}

type flow struct {
	a, b         *host
	aPort, bPort uint16
	tcp          bool
	vip          bool
	seq          [2]uint32
	ipid         [2]uint16
}

// Generate writes the capture described by cfg to w and reports what it wrote.
func Generate(w io.Writer, cfg Config) (Stats, error) {
	var st Stats
	base, snaplen, err := readBase(cfg.Base)
	if err != nil {
		return st, err
	}
	if cfg.Repeat < 1 {
		return st, errors.New("-repeat must be at least 1")
	}
	if cfg.VIPShare < 0 || cfg.VIPShare > 1 {
		return st, errors.New("-vip-share must be within 0..1")
	}
	if !cfg.VIP.Is4() {
		return st, errors.New("the VIP must be an IPv4 address")
	}
	nBase := len(base) * cfg.Repeat
	if cfg.Frames < nBase {
		return st, fmt.Errorf("-frames %d is less than the %d base frames (%d x %d)", cfg.Frames, nBase, len(base), cfg.Repeat)
	}
	nBG := cfg.Frames - nBase
	vip := cfg.VIP.As4()
	markVIPOwner(base, vip)

	rng := rand.New(rand.NewPCG(cfg.Seed, 0x76727270637472)) // second word: fixed stream id
	g := newBackground(rng, base, vip, cfg.VIPShare)
	var tr traffic = g
	if cfg.Mode != ModeBackground {
		if tr, err = newHostile(g, cfg, base, nBG); err != nil {
			return st, err
		}
	}

	// Timeline: the base story played cfg.Repeat times, each play shifted by
	// period (its span plus a gap, rounded up to a whole second so that
	// microsecond timestamps stay exact); background frames evenly spread
	// over the whole timeline with a random offset inside each slot.
	for i := range base {
		base[i].ts += int64(cfg.Shift)
	}
	t0 := base[0].ts
	span := base[len(base)-1].ts - t0
	period := (span + int64(repeatGap) + int64(time.Second) - 1) / int64(time.Second) * int64(time.Second)
	total := int64(cfg.Repeat-1)*period + span + int64(repeatGap)
	tl := timeline{{0, total}}
	if cfg.Mode == ModeClients {
		tl = aroundChanges(vipChanges(base, period, cfg.Repeat), total)
	}
	slot := 0.0
	if nBG > 0 {
		slot = float64(tl.length()) / float64(nBG)
	}

	bw := bufio.NewWriterSize(w, 1<<20)
	var write func(ts int64, data []byte, origLen int) error
	switch cfg.Format {
	case FormatPcap:
		pw := pcapgo.NewWriter(bw)
		if err := pw.WriteFileHeader(snaplen, layers.LinkTypeEthernet); err != nil {
			return st, err
		}
		write = func(ts int64, data []byte, origLen int) error {
			return pw.WritePacket(gopacket.CaptureInfo{Timestamp: time.Unix(0, ts), CaptureLength: len(data), Length: origLen}, data)
		}
	case FormatPcapng:
		intf := pcapgo.NgInterface{Name: "eth1", LinkType: layers.LinkTypeEthernet, SnapLength: snaplen, TimestampResolution: 9}
		opts := pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: "vrrpctl bench/gen"}}
		nw, err := pcapgo.NewNgWriterInterface(bw, intf, opts)
		if err != nil {
			return st, err
		}
		write = func(ts int64, data []byte, origLen int) error {
			return nw.WritePacket(gopacket.CaptureInfo{Timestamp: time.Unix(0, ts), CaptureLength: len(data), Length: origLen}, data)
		}
	default:
		return st, fmt.Errorf("unknown format %d", cfg.Format)
	}

	st.BasePerRepeat = len(base)
	bi := 0 // next base frame, over all plays
	baseTS := func(i int) int64 {
		return base[i%len(base)].ts + int64(i/len(base))*period
	}
	emitBase := func() error {
		f := &base[bi%len(base)]
		if f.vipMAC != nil {
			g.owner.announce([6]byte(f.vipMAC), baseTS(bi))
		}
		if err := write(baseTS(bi), f.data, f.origLen); err != nil {
			return err
		}
		st.BaseFrames++
		st.Bytes += int64(len(f.data))
		bi++
		return nil
	}
	for m := 0; m < nBG; m++ {
		ts := t0 + tl.at(int64((float64(m)+rng.Float64())*slot))
		for bi < nBase && baseTS(bi) <= ts {
			if err := emitBase(); err != nil {
				return st, err
			}
		}
		data, toVIP := tr.next(m, ts)
		if err := write(ts, data, len(data)); err != nil {
			return st, err
		}
		st.Background++
		st.Bytes += int64(len(data))
		if toVIP {
			st.ToVIP++
		}
	}
	for bi < nBase {
		if err := emitBase(); err != nil {
			return st, err
		}
	}
	st.Frames = st.BaseFrames + st.Background
	return st, bw.Flush()
}

// readBase reads every frame of the base capture into memory.
func readBase(path string) ([]baseFrame, uint32, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	if len(raw) >= 2 && raw[0] == 0x1f && raw[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", path, err)
		}
		if raw, err = io.ReadAll(zr); err != nil {
			return nil, 0, fmt.Errorf("%s: %w", path, err)
		}
	}
	type reader interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
		LinkType() layers.LinkType
	}
	var r reader
	snaplen := uint32(262144)
	if len(raw) >= 4 && binary.LittleEndian.Uint32(raw) == 0x0a0d0d0a {
		nr, err := pcapgo.NewNgReader(bytes.NewReader(raw), pcapgo.DefaultNgReaderOptions)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", path, err)
		}
		if intf, err := nr.Interface(0); err == nil && intf.SnapLength != 0 {
			snaplen = intf.SnapLength
		}
		r = nr
	} else {
		pr, err := pcapgo.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", path, err)
		}
		snaplen = pr.Snaplen()
		r = pr
	}
	if lt := r.LinkType(); lt != layers.LinkTypeEthernet {
		return nil, 0, fmt.Errorf("%s: link type %v, want Ethernet", path, lt)
	}
	var out []baseFrame
	var last int64 = math.MinInt64
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, 0, fmt.Errorf("%s: frame %d: %w", path, len(out)+1, err)
		}
		ts := ci.Timestamp.UnixNano()
		if ts < last {
			return nil, 0, fmt.Errorf("%s: frame %d goes back in time", path, len(out)+1)
		}
		last = ts
		out = append(out, baseFrame{ts: ts, data: append([]byte(nil), data...), origLen: ci.Length})
	}
	if len(out) == 0 {
		return nil, 0, fmt.Errorf("%s: no frames", path)
	}
	return out, snaplen, nil
}

// markVIPOwner notes, on each ARP frame sent by the VIP (replies and
// gratuitous ARP), the MAC it announces: background frames to the VIP are
// addressed to whichever MAC the base capture last announced.
func markVIPOwner(base []baseFrame, vip [4]byte) {
	for i := range base {
		d := base[i].data
		if len(d) < 42 || binary.BigEndian.Uint16(d[12:]) != 0x0806 {
			continue
		}
		// Ethernet/IPv4 ARP: sender MAC at 22, sender IP at 28.
		if binary.BigEndian.Uint16(d[14:]) == 1 && binary.BigEndian.Uint16(d[16:]) == 0x0800 &&
			d[18] == 6 && d[19] == 4 && [4]byte(d[28:32]) == vip {
			base[i].vipMAC = d[22:28]
		}
	}
}

// baseAddrs returns every IPv4 address seen in the base capture.
func baseAddrs(base []baseFrame) map[[4]byte]bool {
	seen := map[[4]byte]bool{}
	for _, f := range base {
		d := f.data
		if len(d) < 14 {
			continue
		}
		switch binary.BigEndian.Uint16(d[12:]) {
		case 0x0800:
			if len(d) >= 34 {
				seen[[4]byte(d[26:30])] = true
				seen[[4]byte(d[30:34])] = true
			}
		case 0x0806:
			if len(d) >= 42 {
				seen[[4]byte(d[28:32])] = true
				seen[[4]byte(d[38:42])] = true
			}
		}
	}
	return seen
}

// background makes the generated frames.
type background struct {
	rng      *rand.Rand
	flows    []flow
	vipFlows []flow
	vipShare float64
	owner    vipOwner // the MAC the VIP currently resolves to, and the one before
	payload  []byte   // random bytes payloads are cut from
	psum     []uint64
	buf      [maxFrame]byte
}

func newBackground(rng *rand.Rand, base []baseFrame, vip [4]byte, vipShare float64) *background {
	g := &background{rng: rng, vipShare: vipShare}
	g.payload = make([]byte, payloadBlock+2048) // room for a full frame past any offset; a multiple of 8
	for i := 0; i < len(g.payload); i += 8 {
		binary.LittleEndian.PutUint64(g.payload[i:], rng.Uint64())
	}
	// psum[i] = sum of the first i big-endian 16-bit words of payload: the
	// checksum of any even-aligned slice is then a subtraction.
	g.psum = make([]uint64, len(g.payload)/2+1)
	for i := 0; i < len(g.payload)/2; i++ {
		g.psum[i+1] = g.psum[i] + uint64(binary.BigEndian.Uint16(g.payload[2*i:]))
	}

	newMAC := func() [6]byte {
		var m [6]byte
		v := rng.Uint64()
		for i := range m {
			m[i] = byte(v >> (8 * i))
		}
		m[0] = m[0]&^0x03 | 0x02 // locally administered unicast
		return m
	}
	hosts := make([]host, numHosts)
	for i := range hosts {
		hosts[i] = host{ip: [4]byte{10, 1, byte(i / 200), byte(i%200 + 10)}, mac: newMAC()}
	}
	newFlow := func(a, b *host) flow {
		return flow{
			a: a, b: b,
			aPort: uint16(clientPortLo + rng.IntN(clientPortHi-clientPortLo+1)),
			bPort: serverPorts[rng.IntN(len(serverPorts))],
			tcp:   rng.IntN(100) < tcpPercent,
			seq:   [2]uint32{rng.Uint32(), rng.Uint32()},
			ipid:  [2]uint16{uint16(rng.Uint32()), uint16(rng.Uint32())},
		}
	}
	g.flows = make([]flow, numFlows)
	for i := range g.flows {
		a := rng.IntN(numHosts)
		b := (a + 1 + rng.IntN(numHosts-1)) % numHosts
		g.flows[i] = newFlow(&hosts[a], &hosts[b])
	}

	// Clients of the VIP live in the VIP's /24, on addresses the base capture
	// does not use.
	used := baseAddrs(base)
	var clients []host
	for h := 10; h <= 250; h++ {
		ip := [4]byte{vip[0], vip[1], vip[2], byte(h)}
		if !used[ip] {
			clients = append(clients, host{ip: ip, mac: newMAC()})
		}
	}
	if len(clients) == 0 {
		clients = hosts[:16]
	}
	vipHost := &host{ip: vip}
	g.vipFlows = make([]flow, numVIPFlows)
	for i := range g.vipFlows {
		g.vipFlows[i] = newFlow(&clients[rng.IntN(len(clients))], vipHost)
		g.vipFlows[i].vip = true
	}
	// Until the base capture announces the VIP's MAC, use the first one it
	// will announce; a made-up one when it never does.
	g.owner.mac = newMAC()
	for _, f := range base {
		if f.vipMAC != nil {
			g.owner.mac = [6]byte(f.vipMAC)
			break
		}
	}
	g.owner.prev, g.owner.changed = g.owner.mac, math.MinInt64
	return g
}

// frameSize draws an Ethernet frame length (no FCS) from a mix typical of
// an access network: many minimum-size frames (ACKs), full-size frames, and
// a spread in between.
func (g *background) frameSize() int {
	switch p := g.rng.IntN(100); {
	case p < 40:
		return minFrame
	case p < 60:
		return 61 + g.rng.IntN(576-61+1)
	case p < 70:
		return 577 + g.rng.IntN(maxFrame-1-577+1)
	default:
		return maxFrame
	}
}

// next builds one background frame in g.buf and returns it; the slice is
// valid until the next call.
func (g *background) next(int, int64) ([]byte, bool) {
	var f *flow
	toVIP := g.vipShare > 0 && g.rng.Float64() < g.vipShare
	if toVIP {
		f = &g.vipFlows[g.rng.IntN(len(g.vipFlows))]
	} else {
		f = &g.flows[g.rng.IntN(len(g.flows))]
	}
	dir := 0
	if !f.vip {
		dir = g.rng.IntN(2)
	}
	src, dst := f.a, f.b
	sport, dport := f.aPort, f.bPort
	if dir == 1 {
		src, dst = dst, src
		sport, dport = dport, sport
	}
	dstMAC := dst.mac
	if f.vip {
		dstMAC = g.owner.mac
	}
	s := segment{
		srcMAC: src.mac, dstMAC: dstMAC, srcIP: src.ip, dstIP: dst.ip,
		sport: sport, dport: dport, tcp: f.tcp, flags: tcpACK,
		seq: f.seq[dir], ack: f.seq[1-dir], ipid: f.ipid[dir],
		size: g.frameSize(),
	}
	s.off = 2 * g.rng.IntN(payloadBlock/2)
	b, plen := g.build(&s)
	f.ipid[dir]++
	f.seq[dir] += uint32(plen)
	return b, toVIP
}

// TCP flags the generator sends.
const (
	tcpSYN = 0x02
	tcpPSH = 0x08
	tcpACK = 0x10
)

// segment is one generated TCP or UDP frame.
type segment struct {
	srcMAC, dstMAC [6]byte
	srcIP, dstIP   [4]byte
	sport, dport   uint16
	tcp            bool
	flags          byte // TCP; PSH is added when there is a payload
	seq, ack       uint32
	ipid           uint16
	size           int // frame length without FCS
	off            int // even offset of the payload in the random block
}

// build writes s into g.buf and returns the frame, valid until the next
// call, and its payload length.
func (g *background) build(s *segment) ([]byte, int) {
	size := s.size
	b := g.buf[:size]
	l4 := 20 // TCP header without options
	proto := byte(6)
	if !s.tcp {
		l4 = 8
		proto = 17
	}
	plen := size - 14 - 20 - l4
	if s.tcp && (size == minFrame || s.flags&tcpSYN != 0) {
		plen = 0 // a bare ACK or a SYN, padded to the Ethernet minimum
	}
	ipLen := 20 + l4 + plen

	// Ethernet
	copy(b[0:6], s.dstMAC[:])
	copy(b[6:12], s.srcMAC[:])
	b[12], b[13] = 0x08, 0x00
	// IPv4
	ip := b[14:34]
	ip[0], ip[1] = 0x45, 0
	binary.BigEndian.PutUint16(ip[2:], uint16(ipLen))
	binary.BigEndian.PutUint16(ip[4:], s.ipid)
	ip[6], ip[7] = 0x40, 0 // DF
	ip[8], ip[9] = 64, proto
	ip[10], ip[11] = 0, 0
	copy(ip[12:16], s.srcIP[:])
	copy(ip[16:20], s.dstIP[:])
	binary.BigEndian.PutUint16(ip[10:], fold(sum16(ip)))

	// Payload, cut from the random block at an even offset.
	off := s.off
	seg := b[34 : 34+l4+plen]
	copy(seg[l4:], g.payload[off:off+plen])
	clear(b[34+l4+plen:]) // Ethernet padding

	// Pseudo-header + payload sums; the L4 header is summed once filled in.
	sum := uint64(binary.BigEndian.Uint16(s.srcIP[0:])) + uint64(binary.BigEndian.Uint16(s.srcIP[2:])) +
		uint64(binary.BigEndian.Uint16(s.dstIP[0:])) + uint64(binary.BigEndian.Uint16(s.dstIP[2:])) +
		uint64(proto) + uint64(l4+plen)
	sum += g.psum[off/2+plen/2] - g.psum[off/2]
	if plen%2 == 1 {
		sum += uint64(g.payload[off+plen-1]) << 8
	}
	// Payloads begin with four zero bytes, which no heuristic dissector of
	// tshark (RTP/RTCP, QUIC, WireGuard, TDS, CLTP, ...) accepts as its
	// header: random data would now and then be taken for one of them and
	// shown as a malformed packet.
	if plen >= 4 {
		sum -= g.psum[off/2+2] - g.psum[off/2]
		clear(seg[l4 : l4+4])
	}

	h := seg[:l4]
	binary.BigEndian.PutUint16(h[0:], s.sport)
	binary.BigEndian.PutUint16(h[2:], s.dport)
	if s.tcp {
		binary.BigEndian.PutUint32(h[4:], s.seq)
		binary.BigEndian.PutUint32(h[8:], s.ack)
		h[12] = 5 << 4
		h[13] = s.flags
		if plen > 0 {
			h[13] |= tcpPSH
		}
		binary.BigEndian.PutUint16(h[14:], 502) // window
		h[16], h[17] = 0, 0
		h[18], h[19] = 0, 0
		binary.BigEndian.PutUint16(h[16:], fold(sum+sum16(h)))
	} else {
		binary.BigEndian.PutUint16(h[4:], uint16(l4+plen))
		h[6], h[7] = 0, 0
		c := fold(sum + sum16(h))
		if c == 0 {
			c = 0xffff // zero means "no checksum" in UDP
		}
		binary.BigEndian.PutUint16(h[6:], c)
	}
	return b, plen
}

// sum16 adds the big-endian 16-bit words of an even-length slice.
func sum16(b []byte) uint64 {
	var s uint64
	for i := 0; i+1 < len(b); i += 2 {
		s += uint64(binary.BigEndian.Uint16(b[i:]))
	}
	return s
}

// fold turns a sum of 16-bit words into an Internet checksum.
func fold(s uint64) uint16 {
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}
