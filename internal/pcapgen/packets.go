package pcapgen

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/vrrpctl/vrrpctl/decode"
)

// Advert describes one VRRP advertisement.
type Advert struct {
	Version  uint8         // 2 (the default) or 3
	VRID     uint8         // virtual router ID
	Priority uint8         // 0 means the sender resigns
	Interval time.Duration // advert interval; 1 s when zero
	VIPs     []netip.Addr  // the address list
	// Auth is the VRRPv2 authentication: "" none, "pass:SECRET" simple
	// text (the first 8 octets are sent, as keepalived does), "ah" type 2.
	Auth string
	TTL  uint8 // IP TTL or hop limit; 255 when zero
	// BadChecksum sends a checksum that does not verify.
	BadChecksum bool
	// V2StyleChecksum computes a VRRPv3 checksum without the IP
	// pseudo-header, as some implementations wrongly do.
	V2StyleChecksum bool
	// IPv6 sends the advert from the host's link-local address to ff02::12.
	IPv6 bool
	// Dst and DstMAC send the advert unicast (keepalived unicast_peer)
	// instead of to the VRRP group.
	Dst    netip.Addr
	DstMAC net.HardwareAddr
	// SrcMAC is the Ethernet source (the virtual router MAC); the host's
	// own MAC when nil.
	SrcMAC net.HardwareAddr
}

func (a Advert) version() uint8 {
	if a.Version == 0 {
		return 2
	}
	return a.Version
}

func (a Advert) interval() time.Duration {
	if a.Interval == 0 {
		return time.Second
	}
	return a.Interval
}

// layer builds the decode.VRRP for a.
func (a Advert) layer() *decode.VRRP {
	v := &decode.VRRP{
		Version:   a.version(),
		Type:      1,
		VRID:      a.VRID,
		Priority:  a.Priority,
		CountAddr: uint8(len(a.VIPs)),
		IPv6:      a.IPv6,
		Addrs:     append([]netip.Addr(nil), a.VIPs...),
	}
	if v.Version == 3 {
		v.AdverInt = uint16(a.interval() / (10 * time.Millisecond))
	} else {
		v.AdverInt = uint16(a.interval() / time.Second)
		switch {
		case strings.HasPrefix(a.Auth, "pass:"):
			v.AuthType = 1
			copy(v.AuthData[:], a.Auth[len("pass:"):])
		case a.Auth == "ah":
			v.AuthType = 2
		}
	}
	return v
}

// checksumSetter is a layer whose checksum covers the IP pseudo-header.
type checksumSetter interface {
	SetNetworkLayerForChecksum(gopacket.NetworkLayer) error
}

// Advert sends one advertisement from h at the cursor.
func (w *Writer) Advert(h *Host, a Advert) *Frame {
	v := a.layer()
	ttl := a.TTL
	if ttl == 0 {
		ttl = 255
	}
	id := h.vrrpID
	h.vrrpID++
	var ipl gopacket.SerializableLayer
	var nl gopacket.NetworkLayer
	var et layers.EthernetType
	dstMAC := a.DstMAC
	if a.IPv6 {
		dst := VRRPGroup6
		if a.Dst.IsValid() {
			dst = a.Dst
		}
		if !h.IP6.IsValid() {
			w.fail(fmt.Errorf("pcapgen: host %s has no IPv6 address", h.Name))
			return &Frame{}
		}
		ip6 := &layers.IPv6{Version: 6, TrafficClass: 0xc0, NextHeader: layers.IPProtocolVRRP, HopLimit: ttl,
			SrcIP: h.IP6.AsSlice(), DstIP: dst.AsSlice()}
		ipl, nl, et = ip6, ip6, layers.EthernetTypeIPv6
		if dstMAC == nil {
			dstMAC = multicastMAC(dst)
		}
	} else {
		dst := VRRPGroup4
		if a.Dst.IsValid() {
			dst = a.Dst
		}
		ip4 := ipv4{src: h.IP, dst: dst, proto: layers.IPProtocolVRRP, ttl: ttl, tos: 0xc0, id: id}.layer()
		ipl, nl, et = ip4, ip4, layers.EthernetTypeIPv4
		if dstMAC == nil {
			dstMAC = multicastMAC(dst)
		}
	}
	if err := v.SetNetworkLayerForChecksum(nl); err != nil {
		w.fail(err)
		return &Frame{}
	}
	src := a.SrcMAC
	if src == nil {
		src = h.MAC
	}
	f := w.emitAs(h, src, dstMAC, et, ipl, v)
	if f.Data == nil {
		return f
	}
	f.ipSrc, f.ipDst, f.ipProto = h.IP, VRRPGroup4, 112
	if a.IPv6 {
		f.ipSrc, f.ipDst = h.IP6, VRRPGroup6
	}
	if a.Dst.IsValid() {
		f.ipDst = a.Dst
	}
	f.kind, f.vrrp, f.ttl, f.badSum, f.v2Sum = "vrrp", v, ttl, a.BadChecksum || a.V2StyleChecksum, a.V2StyleChecksum
	off := f.l3
	if a.IPv6 {
		off += 40
	} else {
		off += int(f.Data[off]&0x0f) * 4
	}
	vrrp := f.Data[off:]
	if len(vrrp) > payloadLenVRRP(v) {
		vrrp = vrrp[:payloadLenVRRP(v)]
	}
	switch {
	case a.BadChecksum:
		vrrp[6] ^= 0x5a
		vrrp[7] ^= 0xa5
	case a.V2StyleChecksum:
		vrrp[6], vrrp[7] = 0, 0
		binary.BigEndian.PutUint16(vrrp[6:], gopacket.FoldChecksum(gopacket.ComputeChecksum(vrrp, 0)))
	}
	return f
}

func payloadLenVRRP(v *decode.VRRP) int {
	n := 8
	if v.IPv6 {
		n += 16 * len(v.Addrs)
	} else {
		n += 4 * len(v.Addrs)
	}
	if v.Version == 2 {
		n += 8
	}
	return n
}

// arp sends one ARP packet from h.
func (w *Writer) arp(h *Host, ethDst net.HardwareAddr, op uint16, sha net.HardwareAddr, spa netip.Addr, tha net.HardwareAddr, tpa netip.Addr) *Frame {
	a := &decode.ARP{Operation: op, SenderMAC: toMAC(sha), SenderIP: spa, TargetMAC: toMAC(tha), TargetIP: tpa}
	f := w.emitAs(h, sha, ethDst, layers.EthernetTypeARP, a)
	f.arp, f.kind = a, "arp"
	return f
}

// GARP sends a gratuitous ARP request for vip from h, as keepalived does:
// broadcast, sender and target IP the VIP, target MAC ff:ff:ff:ff:ff:ff.
func (w *Writer) GARP(h *Host, vip netip.Addr) *Frame {
	return w.arp(h, broadcastMAC, 1, h.MAC, vip, broadcastMAC, vip)
}

// GARPReply sends a gratuitous ARP reply for vip from h (some routers and
// firewalls announce with replies).
func (w *Writer) GARPReply(h *Host, vip netip.Addr) *Frame {
	return w.arp(h, broadcastMAC, 2, h.MAC, vip, broadcastMAC, vip)
}

// ARPRequest sends a broadcast who-has target from h's own address.
func (w *Writer) ARPRequest(h *Host, target netip.Addr) *Frame {
	return w.arp(h, broadcastMAC, 1, h.MAC, h.IP, zeroMAC, target)
}

// ARPRequestFrom sends a broadcast who-has target from another of h's
// addresses (a router asking from its VIP).
func (w *Writer) ARPRequestFrom(h *Host, sender, target netip.Addr) *Frame {
	return w.arp(h, broadcastMAC, 1, h.MAC, sender, zeroMAC, target)
}

// ARPProbe sends a unicast who-has target to dstMAC, as Linux does to
// confirm a stale neighbour entry.
func (w *Writer) ARPProbe(h *Host, target netip.Addr, dstMAC net.HardwareAddr) *Frame {
	return w.arp(h, dstMAC, 1, h.MAC, h.IP, zeroMAC, target)
}

// ARPReply sends "sender is-at h.MAC" to the host that asked.
func (w *Writer) ARPReply(h *Host, sender netip.Addr, to *Host, toIP netip.Addr) *Frame {
	return w.arp(h, to.MAC, 2, h.MAC, sender, to.MAC, toIP)
}

// igmpv3 sends an IGMPv3 membership report with one record for group.
func (w *Writer) igmpv3(h *Host, recordType uint8, group netip.Addr) *Frame {
	g := &decode.IGMP{Type: decode.IGMPv3Report, Version: 3,
		Records: []decode.IGMPRecord{{Type: recordType, Group: group}}}
	ip := ipv4{src: h.IP, dst: IGMPv3Router, proto: layers.IPProtocolIGMP, ttl: 1, tos: 0xc0, df: true, ra: true}.layer()
	f := w.emit(h, multicastMAC(IGMPv3Router), layers.EthernetTypeIPv4, ip, g)
	f.ipSrc, f.ipDst, f.ipProto = h.IP, IGMPv3Router, 2
	f.kind, f.ttl, f.igmpRec = "igmp", 1, recordType
	return f
}

// Join sends an IGMPv3 report joining group (CHANGE_TO_EXCLUDE, no sources).
func (w *Writer) Join(h *Host, group netip.Addr) *Frame {
	return w.igmpv3(h, decode.IGMPChangeToExclude, group)
}

// Leave sends an IGMPv3 report leaving group (CHANGE_TO_INCLUDE, no sources).
func (w *Writer) Leave(h *Host, group netip.Addr) *Frame {
	return w.igmpv3(h, decode.IGMPChangeToInclude, group)
}

// nextID advances a host's IP ID the way a busy Linux host's counter moves.
func (w *Writer) nextID(h *Host) uint16 {
	h.ipID += uint16(1 + w.rng.IntN(40))
	return h.ipID
}

// pingPayload is what iputils ping sends: a struct timeval, then 0x10, 0x11...
func (w *Writer) pingPayload() []byte {
	p := make([]byte, 56)
	t := w.Time(w.now)
	binary.LittleEndian.PutUint64(p[0:], uint64(t.Unix()))
	binary.LittleEndian.PutUint64(p[8:], uint64(t.Nanosecond()/1000))
	for i := 16; i < len(p); i++ {
		p[i] = byte(i)
	}
	return p
}

func (w *Writer) ip4(from *Host, src, dst netip.Addr, proto layers.IPProtocol, dstMAC net.HardwareAddr, df bool, ls ...gopacket.SerializableLayer) *Frame {
	return w.ip4As(from, from.MAC, src, dst, proto, dstMAC, df, ls...)
}

// ip4As is ip4 sent from the Ethernet address mac.
func (w *Writer) ip4As(from *Host, mac net.HardwareAddr, src, dst netip.Addr, proto layers.IPProtocol, dstMAC net.HardwareAddr, df bool, ls ...gopacket.SerializableLayer) *Frame {
	ip := ipv4{src: src, dst: dst, proto: proto, ttl: 64, df: df, id: w.nextID(from)}.layer()
	for _, l := range ls {
		if cs, ok := l.(checksumSetter); ok {
			if err := cs.SetNetworkLayerForChecksum(ip); err != nil {
				w.fail(err)
			}
		}
	}
	f := w.emitAs(from, mac, dstMAC, layers.EthernetTypeIPv4, append([]gopacket.SerializableLayer{ip}, ls...)...)
	f.ipSrc, f.ipDst, f.ipProto, f.ttl = src, dst, uint8(proto), 64
	switch proto {
	case layers.IPProtocolICMPv4:
		f.kind = "icmp"
	case layers.IPProtocolTCP:
		f.kind = "tcp"
	case layers.IPProtocolUDP:
		f.kind = "udp"
	}
	return f
}

// Ping sends an ICMP echo request from c to dst at dstMAC.
func (w *Writer) Ping(c *Host, dst netip.Addr, dstMAC net.HardwareAddr, id, seq uint16) *Frame {
	icmp := &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0), Id: id, Seq: seq}
	f := w.ip4(c, c.IP, dst, layers.IPProtocolICMPv4, dstMAC, true, icmp, gopacket.Payload(w.pingPayload()))
	f.req = echoKey("icmp", id, seq)
	return f
}

func echoKey(proto string, id, seq uint16) string { return fmt.Sprintf("%s/%d/%d", proto, id, seq) }

// PingReply sends the echo reply from r (answering as src) to c. A Linux
// echo reply carries no DF.
func (w *Writer) PingReply(r *Host, src netip.Addr, c *Host, id, seq uint16) *Frame {
	return w.pingReplyAs(r, r.MAC, src, c, id, seq)
}

// pingReplyAs is PingReply sent from the Ethernet address mac.
func (w *Writer) pingReplyAs(r *Host, mac net.HardwareAddr, src netip.Addr, c *Host, id, seq uint16) *Frame {
	icmp := &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoReply, 0), Id: id, Seq: seq}
	f := w.ip4As(r, mac, src, c.IP, layers.IPProtocolICMPv4, c.MAC, false, icmp, gopacket.Payload(w.pingPayload()))
	f.rep = echoKey("icmp", id, seq)
	return f
}

// linuxSYNOptions are the options of a Linux SYN: MSS, SACK permitted,
// timestamps, window scale 7.
func linuxSYNOptions(tsval uint32) []layers.TCPOption {
	ts := make([]byte, 8)
	binary.BigEndian.PutUint32(ts, tsval)
	return []layers.TCPOption{
		{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{0x05, 0xb4}},
		{OptionType: layers.TCPOptionKindSACKPermitted, OptionLength: 2},
		{OptionType: layers.TCPOptionKindTimestamps, OptionLength: 10, OptionData: ts},
		{OptionType: layers.TCPOptionKindNop},
		{OptionType: layers.TCPOptionKindWindowScale, OptionLength: 3, OptionData: []byte{7}},
	}
}

// TCPSyn sends a SYN from c:sport to dst:dport at dstMAC.
func (w *Writer) TCPSyn(c *Host, dst netip.Addr, dstMAC net.HardwareAddr, sport, dport uint16, isn uint32) *Frame {
	tcp := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport), Seq: isn, SYN: true,
		Window: 64240, Options: linuxSYNOptions(uint32(w.now / time.Millisecond))}
	f := w.ip4(c, c.IP, dst, layers.IPProtocolTCP, dstMAC, true, tcp)
	f.req = fmt.Sprintf("tcp/%d/%d", sport, isn)
	return f
}

// TCPSynAck answers a SYN from r (as src) to c.
func (w *Writer) TCPSynAck(r *Host, src netip.Addr, c *Host, sport, dport uint16, isn, ack uint32) *Frame {
	return w.tcpSynAckAs(r, r.MAC, src, c, sport, dport, isn, ack)
}

// tcpSynAckAs is TCPSynAck sent from the Ethernet address mac.
func (w *Writer) tcpSynAckAs(r *Host, mac net.HardwareAddr, src netip.Addr, c *Host, sport, dport uint16, isn, ack uint32) *Frame {
	tcp := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport), Seq: isn, Ack: ack, SYN: true, ACK: true,
		Window: 65160, Options: linuxSYNOptions(uint32(w.now / time.Millisecond))}
	f := w.ip4As(r, mac, src, c.IP, layers.IPProtocolTCP, c.MAC, true, tcp)
	f.rep = fmt.Sprintf("tcp/%d/%d", dport, ack-1)
	return f
}

// TCPReset answers a SYN to a closed port from r (as src) to c.
func (w *Writer) TCPReset(r *Host, src netip.Addr, c *Host, sport, dport uint16, ack uint32) *Frame {
	tcp := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport), Ack: ack, RST: true, ACK: true}
	return w.ip4(r, src, c.IP, layers.IPProtocolTCP, c.MAC, true, tcp)
}

// UDP sends a datagram from h (as src) to dst at dstMAC.
func (w *Writer) UDP(h *Host, src, dst netip.Addr, dstMAC net.HardwareAddr, sport, dport uint16, payload []byte) *Frame {
	udp := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
	return w.ip4(h, src, dst, layers.IPProtocolUDP, dstMAC, true, udp, gopacket.Payload(payload))
}

// TCP flag bits.
const (
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpRST = 0x04
	tcpACK = 0x10
)

// tcpFlags sends a bare TCP segment with the given flags.
func (w *Writer) tcpFlags(h *Host, src, dst netip.Addr, dstMAC net.HardwareAddr, sport, dport uint16, seq, ack uint32, flags uint8) *Frame {
	return w.tcpFlagsAs(h, h.MAC, src, dst, dstMAC, sport, dport, seq, ack, flags)
}

// tcpFlagsAs is tcpFlags sent from the Ethernet address mac.
func (w *Writer) tcpFlagsAs(h *Host, mac net.HardwareAddr, src, dst netip.Addr, dstMAC net.HardwareAddr, sport, dport uint16, seq, ack uint32, flags uint8) *Frame {
	tcp := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport), Seq: seq, Ack: ack,
		FIN: flags&tcpFIN != 0, SYN: flags&tcpSYN != 0, RST: flags&tcpRST != 0, ACK: flags&tcpACK != 0, Window: 502}
	return w.ip4As(h, mac, src, dst, layers.IPProtocolTCP, dstMAC, true, tcp)
}

// UnsolicitedNA sends the IPv6 counterpart of a GARP for vip from h, as
// keepalived does: a neighbour advertisement from the VIP to ff02::1, hop
// limit 255, override flag set, with the target link-layer address.
func (w *Writer) UnsolicitedNA(h *Host, vip netip.Addr) *Frame {
	return w.unsolicitedNA(h, h.MAC, vip, naOverride)
}
