// Package pcapgen writes synthetic packet captures of VRRP routers and their
// clients, for tests and examples.
//
// A Writer collects frames at offsets from the start of the capture and
// writes them in time order as pcap or pcapng. The VRRP, ARP and IGMP parts
// are serialized through the decode package's layers, stacked on gopacket's
// Ethernet, 802.1Q and IPv4/IPv6 layers, so the bytes are what the decoder
// reads; neighbour discovery, MLDv2 and ICMPv6 echo through gopacket's own
// ICMPv6 layers (icmpv6.go), independently of the decoder. IP headers look the way Linux and keepalived 2.2.7 send them:
//
//   - VRRP: TTL/hop limit 255, TOS 0xc0, no DF, IP ID counting the adverts
//     sent since the speaker started (keepalived builds the header itself).
//   - IGMPv3 reports: to 224.0.0.22, TTL 1, TOS 0xc0, DF, ID 0, Router Alert.
//   - MLDv2 reports: from the link-local address to ff02::16, hop limit 1, a
//     hop-by-hop header with the Router Alert option (MLD).
//   - Neighbour discovery: hop limit 255, traffic class 0.
//   - Client traffic: TTL 64, DF, a per-host IP ID.
//
// Frames are not padded to the 60-byte Ethernet minimum unless Padded is
// given: the reference captures were taken on a veth, which does not pad.
//
// Everything is deterministic: the little jitter the helpers add comes from
// a generator seeded by Seed (1 unless set).
package pcapgen

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"slices"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/vrrpctl/vrrpctl/decode"
)

// LinkType is the link layer of a capture.
type LinkType int

const (
	Ethernet  LinkType = iota // DLT_EN10MB
	LinuxSLL                  // DLT_LINUX_SLL, "tcpdump -i any" before libpcap 1.10
	LinuxSLL2                 // DLT_LINUX_SLL2, "tcpdump -i any" since libpcap 1.10
)

// String names the link type as capinfos does.
func (l LinkType) String() string {
	switch l {
	case LinuxSLL:
		return "linux-sll"
	case LinuxSLL2:
		return "linux-sll2"
	}
	return "ethernet"
}

func (l LinkType) gopacket() layers.LinkType {
	switch l {
	case LinuxSLL:
		return layers.LinkTypeLinuxSLL
	case LinuxSLL2:
		return layers.LinkTypeLinuxSLL2
	}
	return layers.LinkTypeEthernet
}

// Format is the file format written by Bytes and WriteFile.
type Format int

const (
	PCAP   Format = iota // classic libpcap, microsecond timestamps
	PCAPNG               // pcapng with one interface
)

// DefaultStart is the wall-clock time of offset 0 unless Start is given.
var DefaultStart = time.Date(2026, time.November, 25, 19, 1, 50, 819812000, time.UTC)

// Option configures a Writer.
type Option func(*Writer)

// VLAN tags every frame of hosts without their own tagging with an 802.1Q tag.
func VLAN(id uint16) Option { return func(w *Writer) { w.tags = []uint16{id} } }

// QinQ tags every frame of hosts without their own tagging with an 802.1ad
// service tag (outer) and an 802.1Q customer tag (inner).
func QinQ(outer, inner uint16) Option { return func(w *Writer) { w.tags = []uint16{outer, inner} } }

// Seed sets the seed of the jitter generator.
func Seed(seed uint64) Option {
	return func(w *Writer) { w.rng = rand.New(rand.NewPCG(seed, 0x76727270)) }
}

// Start sets the wall-clock time of offset 0.
func Start(t time.Time) Option { return func(w *Writer) { w.start = t } }

// Padded pads Ethernet frames to 60 bytes, as a capture on a physical NIC
// shows received frames.
func Padded() Option { return func(w *Writer) { w.padded = true } }

// AsPCAPNG makes Bytes and WriteFile write pcapng.
func AsPCAPNG() Option { return func(w *Writer) { w.format = PCAPNG } }

// Capture is the host the capture was taken on (for the SLL packet type:
// outgoing, to us, broadcast, multicast, other host). Without one every
// unicast frame counts as to us.
func Capture(h *Host) Option { return func(w *Writer) { w.here = h } }

// Host is one station on the segment.
type Host struct {
	Name string
	IP   netip.Addr // IPv4 address
	IP6  netip.Addr // IPv6 link-local address, if any
	MAC  net.HardwareAddr

	tags   []uint16       // nil: the Writer's
	ipID   uint16         // IP ID of ordinary traffic
	vrrpID uint16         // IP ID of the next advert (keepalived counts its own)
	neigh  map[*Host]bool // neighbours whose MAC it knows
	w      *Writer
}

// HostOption configures a Host.
type HostOption func(*Host)

// OnVLAN puts the host on an 802.1Q VLAN.
func OnVLAN(id uint16) HostOption { return func(h *Host) { h.tags = []uint16{id} } }

// OnQinQ puts the host behind an 802.1ad service tag and an 802.1Q tag.
func OnQinQ(outer, inner uint16) HostOption {
	return func(h *Host) { h.tags = []uint16{outer, inner} }
}

// Untagged keeps the host's frames untagged even if the capture has a VLAN.
func Untagged() HostOption { return func(h *Host) { h.tags = []uint16{} } }

// WithIPv6 gives the host an IPv6 link-local address.
func WithIPv6(ll string) HostOption { return func(h *Host) { h.IP6 = netip.MustParseAddr(ll) } }

// Frame is one generated frame.
type Frame struct {
	At   time.Duration // offset from the start of the capture
	Data []byte
	seq  int
	l3   int // offset of the network header

	// What the client model needs to know about the frame.
	host         *Host // the station that sent it
	src, dst     net.HardwareAddr
	arp          *decode.ARP // set for ARP frames
	tags         []uint16
	ipDst, ipSrc netip.Addr
	ipProto      uint8

	// What was meant, for checking the bytes against a dissector.
	kind    string       // "vrrp", "arp", "igmp", "icmp", "tcp", "udp"
	vrrp    *decode.VRRP // for "vrrp"
	ttl     uint8        // IP TTL or hop limit
	badSum  bool         // the VRRP checksum was made not to verify
	v2Sum   bool         // ... because it was computed without the pseudo-header
	igmpRec uint8        // IGMPv3 record type
	nd      *ndMeta      // for "ns", "na", "ra"
	mldRec  uint8        // MLDv2 record type, for "mld"
	mldDst  netip.Addr   // the group the MLDv2 record is about
	// req names a request to a VIP (an echo request, a SYN); rep names the
	// request a frame answers.
	req, rep string
}

// Writer builds a capture.
type Writer struct {
	link   LinkType
	format Format
	start  time.Time
	tags   []uint16
	padded bool
	here   *Host
	rng    *rand.Rand
	now    time.Duration
	frames []*Frame
	seq    int
	hosts  []*Host
	owners []owner
	drops  []func(*Frame, *Host) bool
	err    error
}

// New starts an empty capture.
func New(link LinkType, opts ...Option) *Writer {
	w := &Writer{link: link, start: DefaultStart}
	Seed(1)(w)
	for _, o := range opts {
		o(w)
	}
	return w
}

// Link returns the capture's link type.
func (w *Writer) Link() LinkType { return w.link }

// SetCapture names the host the capture was taken on (see Capture).
func (w *Writer) SetCapture(h *Host) { w.here = h }

// Host adds a station. ip is its IPv4 address, mac its Ethernet address.
func (w *Writer) Host(name, ip, mac string, opts ...HostOption) *Host {
	hw, err := net.ParseMAC(mac)
	if err != nil {
		panic(fmt.Sprintf("pcapgen: host %s: %v", name, err))
	}
	h := &Host{Name: name, IP: netip.MustParseAddr(ip), MAC: hw, w: w}
	h.ipID = uint16(w.rng.IntN(0x10000))
	h.vrrpID = 1
	for _, o := range opts {
		o(h)
	}
	w.hosts = append(w.hosts, h)
	return h
}

// At moves the cursor to d from the start; the next frame is sent then.
func (w *Writer) At(d time.Duration) *Writer { w.now = d; return w }

// After moves the cursor forward by d.
func (w *Writer) After(d time.Duration) *Writer { w.now += d; return w }

// Now is the cursor.
func (w *Writer) Now() time.Duration { return w.now }

// Jitter returns a duration uniformly in [lo, hi), from the seeded generator.
func (w *Writer) Jitter(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(w.rng.Int64N(int64(hi-lo)))
}

// Every calls fn at from, then every period (plus up to 0.3 ms of timer
// drift) while before to, with the cursor set to each time; i counts from 0.
func (w *Writer) Every(from, to, period time.Duration, fn func(i int)) {
	if period <= 0 {
		return
	}
	for i, t := 0, from; t < to; i++ {
		w.At(t)
		fn(i)
		t += period + w.Jitter(0, 300*time.Microsecond)
	}
}

// Err is the first error met while building frames.
func (w *Writer) Err() error { return w.err }

// Frames returns the frames in time order.
func (w *Writer) Frames() []*Frame {
	fs := slices.Clone(w.frames)
	slices.SortStableFunc(fs, func(a, b *Frame) int {
		if a.At != b.At {
			if a.At < b.At {
				return -1
			}
			return 1
		}
		return a.seq - b.seq
	})
	return fs
}

// Time converts an offset into the capture's wall-clock time, as written
// (microsecond resolution).
func (w *Writer) Time(d time.Duration) time.Time {
	return w.start.Add(d.Truncate(time.Microsecond))
}

// Bytes returns the capture file.
func (w *Writer) Bytes() ([]byte, error) {
	if w.err != nil {
		return nil, w.err
	}
	var buf bytes.Buffer
	write, flush, err := w.packetWriter(&buf)
	if err != nil {
		return nil, err
	}
	for _, f := range w.Frames() {
		ci := gopacket.CaptureInfo{Timestamp: w.Time(f.At), CaptureLength: len(f.Data), Length: len(f.Data)}
		if err := write(ci, f.Data); err != nil {
			return nil, err
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteFile writes the capture to path.
func (w *Writer) WriteFile(path string) error {
	b, err := w.Bytes()
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func (w *Writer) fail(err error) {
	if w.err == nil && err != nil {
		w.err = err
	}
}

// Well-known addresses.
var (
	VRRPGroup4   = netip.MustParseAddr("224.0.0.18")
	VRRPGroup6   = netip.MustParseAddr("ff02::12")
	IGMPv3Router = netip.MustParseAddr("224.0.0.22")
	broadcastMAC = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	zeroMAC      = net.HardwareAddr{0, 0, 0, 0, 0, 0}
)

// multicastMAC maps an IPv4 or IPv6 multicast group to its Ethernet address.
func multicastMAC(group netip.Addr) net.HardwareAddr {
	b := group.AsSlice()
	if group.Is4() {
		return net.HardwareAddr{0x01, 0x00, 0x5e, b[1] & 0x7f, b[2], b[3]}
	}
	return net.HardwareAddr{0x33, 0x33, b[12], b[13], b[14], b[15]}
}

func toMAC(hw net.HardwareAddr) decode.MAC {
	var m decode.MAC
	copy(m[:], hw)
	return m
}

// ipv4 is an IPv4 header as a Linux host sends it.
type ipv4 struct {
	src, dst netip.Addr
	proto    layers.IPProtocol
	ttl, tos uint8
	df       bool
	id       uint16
	ra       bool // Router Alert option
}

func (p ipv4) layer() *layers.IPv4 {
	ip := &layers.IPv4{
		Version: 4, TOS: p.tos, Id: p.id, TTL: p.ttl, Protocol: p.proto,
		SrcIP: p.src.AsSlice(), DstIP: p.dst.AsSlice(),
	}
	if p.df {
		ip.Flags = layers.IPv4DontFragment
	}
	if p.ra {
		ip.Options = []layers.IPv4Option{{OptionType: 148, OptionLength: 4, OptionData: []byte{0, 0}}}
	}
	return ip
}

// emit serializes a frame from the host's own MAC to dst carrying
// etherType and the given layers, and stores it at the cursor.
func (w *Writer) emit(from *Host, dst net.HardwareAddr, etherType layers.EthernetType, ls ...gopacket.SerializableLayer) *Frame {
	return w.emitAs(from, from.MAC, dst, etherType, ls...)
}

// emitAs is emit with src as the Ethernet source address (a router
// sending from the virtual router MAC).
func (w *Writer) emitAs(from *Host, src, dst net.HardwareAddr, etherType layers.EthernetType, ls ...gopacket.SerializableLayer) *Frame {
	tags := w.tags
	if from.tags != nil {
		tags = from.tags
	}
	var all []gopacket.SerializableLayer
	linkLen := 0
	switch w.link {
	case Ethernet:
		eth := &layers.Ethernet{SrcMAC: src, DstMAC: dst, EthernetType: etherType}
		all = append(all, eth)
		linkLen = 14
		switch len(tags) {
		case 1:
			eth.EthernetType = layers.EthernetTypeDot1Q
			all = append(all, &layers.Dot1Q{VLANIdentifier: tags[0], Type: etherType})
			linkLen += 4
		case 2:
			eth.EthernetType = layers.EthernetTypeQinQ
			all = append(all,
				&layers.Dot1Q{VLANIdentifier: tags[0], Type: layers.EthernetTypeDot1Q},
				&layers.Dot1Q{VLANIdentifier: tags[1], Type: etherType})
			linkLen += 8
		}
	case LinuxSLL, LinuxSLL2:
		// The kernel strips VLAN tags before a cooked capture sees them.
		all = append(all, &cooked{v2: w.link == LinuxSLL2, pktType: w.sllPacketType(from, dst), addr: src, proto: etherType})
		linkLen = 16
		if w.link == LinuxSLL2 {
			linkLen = 20
		}
	}
	all = append(all, ls...)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, all...); err != nil {
		w.fail(fmt.Errorf("pcapgen: frame at %v from %s: %w", w.now, from.Name, err))
		return &Frame{}
	}
	data := slices.Clone(buf.Bytes())
	if !w.padded && w.link == Ethernet {
		if n := linkLen + payloadLen(data[linkLen:], etherType); n < len(data) {
			data = data[:n]
		}
	}
	f := &Frame{At: w.now, Data: data, seq: w.seq, l3: linkLen, host: from, src: src, dst: dst, tags: tags}
	w.seq++
	w.frames = append(w.frames, f)
	return f
}

// payloadLen is the length of an IPv4, IPv6 or ARP packet without padding.
func payloadLen(p []byte, et layers.EthernetType) int {
	switch et {
	case layers.EthernetTypeIPv4:
		if len(p) >= 4 {
			return int(binary.BigEndian.Uint16(p[2:4]))
		}
	case layers.EthernetTypeIPv6:
		if len(p) >= 6 {
			return 40 + int(binary.BigEndian.Uint16(p[4:6]))
		}
	case layers.EthernetTypeARP:
		return 28
	}
	return len(p)
}

// sllPacketType is what a cooked capture on the capture host records.
func (w *Writer) sllPacketType(from *Host, dst net.HardwareAddr) uint16 {
	switch {
	case w.here != nil && from == w.here:
		return 4 // outgoing
	case bytes.Equal(dst, broadcastMAC):
		return 1
	case dst[0]&1 == 1:
		return 2
	case w.here != nil && !bytes.Equal(dst, w.here.MAC):
		return 3 // to another host
	}
	return 0
}

// cooked serializes a Linux cooked-mode header (SLL or SLL2); gopacket
// decodes both but serializes neither.
type cooked struct {
	v2      bool
	pktType uint16
	addr    net.HardwareAddr
	proto   layers.EthernetType
}

func (c *cooked) LayerType() gopacket.LayerType {
	if c.v2 {
		return layers.LayerTypeLinuxSLL2
	}
	return layers.LayerTypeLinuxSLL
}

func (c *cooked) SerializeTo(b gopacket.SerializeBuffer, _ gopacket.SerializeOptions) error {
	if c.v2 {
		h, err := b.PrependBytes(20)
		if err != nil {
			return err
		}
		clear(h)
		binary.BigEndian.PutUint16(h[0:], uint16(c.proto))
		binary.BigEndian.PutUint32(h[4:], 2) // interface index
		binary.BigEndian.PutUint16(h[8:], 1) // ARPHRD_ETHER
		h[10] = byte(c.pktType)
		h[11] = 6
		copy(h[12:], c.addr)
		return nil
	}
	h, err := b.PrependBytes(16)
	if err != nil {
		return err
	}
	clear(h)
	binary.BigEndian.PutUint16(h[0:], c.pktType)
	binary.BigEndian.PutUint16(h[2:], 1) // ARPHRD_ETHER
	binary.BigEndian.PutUint16(h[4:], 6)
	copy(h[6:], c.addr)
	binary.BigEndian.PutUint16(h[14:], uint16(c.proto))
	return nil
}
