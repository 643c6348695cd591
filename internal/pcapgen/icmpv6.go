package pcapgen

import (
	"encoding/binary"
	"net"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// IPv6 neighbour discovery (RFC 4861), MLDv2 (RFC 3810) and ICMPv6 echo,
// serialized with gopacket's own ICMPv6 layers: an implementation
// independent of the project's decoder, so that the two check each other.

// ndMeta is what a neighbour discovery frame was meant to say.
type ndMeta struct {
	flags  uint8            // NA flags: naRouter, naSolicited, naOverride
	target netip.Addr       // NS and NA target
	ll     net.HardwareAddr // link-layer address option: target (NA), source (NS, RA)
}

// Neighbour advertisement flags.
const (
	naRouter    = 0x80
	naSolicited = 0x40
	naOverride  = 0x20
)

var (
	allNodes     = netip.MustParseAddr("ff02::1")
	mldv2Routers = netip.MustParseAddr("ff02::16")
)

// solicitedNode is the solicited-node multicast address of a (RFC 4291 2.7.1).
func solicitedNode(a netip.Addr) netip.Addr {
	b := a.As16()
	return netip.AddrFrom16([16]byte{0xff, 0x02, 10: 0, 11: 1, 12: 0xff, 13: b[13], 14: b[14], 15: b[15]})
}

// icmp6 sends an ICMPv6 message of type tc from h, Ethernet source mac,
// with body serialized after the ICMPv6 header. With routerAlert the packet
// carries a hop-by-hop header with the Router Alert option for MLD (RFC
// 2711), padded with PadN as Linux pads it.
func (w *Writer) icmp6(h *Host, mac net.HardwareAddr, src, dst netip.Addr, dstMAC net.HardwareAddr, hop uint8, routerAlert bool,
	tc layers.ICMPv6TypeCode, body ...gopacket.SerializableLayer) *Frame {
	ip6 := &layers.IPv6{Version: 6, NextHeader: layers.IPProtocolICMPv6, HopLimit: hop, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
	if routerAlert {
		// Router Alert (MLD), then a PadN of 0 octets to fill 8: given
		// explicitly, as gopacket's own padding gets the length wrong.
		hbh := &layers.IPv6HopByHop{Options: []*layers.IPv6HopByHopOption{
			{OptionType: 5, OptionData: []byte{0, 0}}, {OptionType: 1, OptionData: []byte{}}}}
		hbh.NextHeader = layers.IPProtocolICMPv6
		ip6.NextHeader, ip6.HopByHop = layers.IPProtocolIPv6HopByHop, hbh
	}
	icmp := &layers.ICMPv6{TypeCode: tc}
	if err := icmp.SetNetworkLayerForChecksum(ip6); err != nil {
		w.fail(err)
	}
	f := w.emitAs(h, mac, dstMAC, layers.EthernetTypeIPv6, append([]gopacket.SerializableLayer{ip6, icmp}, body...)...)
	f.ipSrc, f.ipDst, f.ipProto, f.ttl = src, dst, 58, hop
	return f
}

// unsolicitedNA announces vip from h at mac: an unsolicited neighbour
// advertisement from the VIP to ff02::1 with the given flags and the
// target link-layer address mac (RFC 5798 6.4.2 asks for R and O set, S
// clear, and the virtual router MAC).
func (w *Writer) unsolicitedNA(h *Host, mac net.HardwareAddr, vip netip.Addr, flags uint8) *Frame {
	na := &layers.ICMPv6NeighborAdvertisement{Flags: flags, TargetAddress: vip.AsSlice(),
		Options: layers.ICMPv6Options{{Type: layers.ICMPv6OptTargetAddress, Data: mac}}}
	f := w.icmp6(h, mac, vip, allNodes, multicastMAC(allNodes), 255, false,
		layers.CreateICMPv6TypeCode(layers.ICMPv6TypeNeighborAdvertisement, 0), na)
	f.kind, f.nd = "na", &ndMeta{flags: flags, target: vip, ll: mac}
	return f
}

// solicitedNA answers a neighbour solicitation for target from to (at
// toIP): from target, flags S and O (and R for a router), with the target
// link-layer address mac.
func (w *Writer) solicitedNA(h *Host, mac net.HardwareAddr, target netip.Addr, to *Host, toIP netip.Addr, router bool) *Frame {
	flags := uint8(naSolicited | naOverride)
	if router {
		flags |= naRouter
	}
	na := &layers.ICMPv6NeighborAdvertisement{Flags: flags, TargetAddress: target.AsSlice(),
		Options: layers.ICMPv6Options{{Type: layers.ICMPv6OptTargetAddress, Data: mac}}}
	f := w.icmp6(h, mac, target, toIP, to.MAC, 255, false,
		layers.CreateICMPv6TypeCode(layers.ICMPv6TypeNeighborAdvertisement, 0), na)
	f.kind, f.nd = "na", &ndMeta{flags: flags, target: target, ll: mac}
	return f
}

// neighborSolicit asks for target's link-layer address from h (at src):
// to the target's solicited-node group, or by unicast to dstMAC (a Linux
// reachability probe). It carries h's MAC as source link-layer address.
func (w *Writer) neighborSolicit(h *Host, src, target netip.Addr, dstMAC net.HardwareAddr) *Frame {
	dst := solicitedNode(target)
	if dstMAC == nil {
		dstMAC = multicastMAC(dst)
	} else {
		dst = target
	}
	ns := &layers.ICMPv6NeighborSolicitation{TargetAddress: target.AsSlice(),
		Options: layers.ICMPv6Options{{Type: layers.ICMPv6OptSourceAddress, Data: h.MAC}}}
	f := w.icmp6(h, h.MAC, src, dst, dstMAC, 255, false,
		layers.CreateICMPv6TypeCode(layers.ICMPv6TypeNeighborSolicitation, 0), ns)
	f.kind, f.nd = "ns", &ndMeta{target: target, ll: h.MAC}
	return f
}

// routerAdvert sends a router advertisement from src (the virtual
// link-local address) at mac to ff02::1: hop limit 64, router lifetime
// 1800 s, the source link-layer address mac, MTU 1500 and an on-link,
// autonomous prefix for each /64 given.
func (w *Writer) routerAdvert(h *Host, mac net.HardwareAddr, src netip.Addr, prefixes []netip.Prefix) *Frame {
	// ICMPv6Options.SerializeTo prepends each option in turn, so the
	// options go on the wire in the reverse order of the list.
	var opts layers.ICMPv6Options
	for i := len(prefixes) - 1; i >= 0; i-- {
		d := make([]byte, 30)
		d[0] = byte(prefixes[i].Bits())
		d[1] = 0xc0 // on-link, autonomous
		binary.BigEndian.PutUint32(d[2:], 2592000)
		binary.BigEndian.PutUint32(d[6:], 604800)
		a := prefixes[i].Addr().As16()
		copy(d[14:], a[:])
		opts = append(opts, layers.ICMPv6Option{Type: layers.ICMPv6OptPrefixInfo, Data: d})
	}
	opts = append(opts,
		layers.ICMPv6Option{Type: layers.ICMPv6OptMTU, Data: []byte{0, 0, 0, 0, 0x05, 0xdc}},
		layers.ICMPv6Option{Type: layers.ICMPv6OptSourceAddress, Data: mac})
	ra := &layers.ICMPv6RouterAdvertisement{HopLimit: 64, RouterLifetime: 1800, Options: opts}
	f := w.icmp6(h, mac, src, allNodes, multicastMAC(allNodes), 255, false,
		layers.CreateICMPv6TypeCode(layers.ICMPv6TypeRouterAdvertisement, 0), ra)
	f.kind, f.nd = "ra", &ndMeta{ll: mac}
	return f
}

// mldReport sends an MLDv2 report from h's link-local address with one
// record of type rec for group, as Linux does when a socket joins
// (CHANGE_TO_EXCLUDE, no sources) or leaves (CHANGE_TO_INCLUDE, no sources).
func (w *Writer) mldReport(h *Host, rec layers.MLDv2MulticastAddressRecordType, group netip.Addr) *Frame {
	r := &layers.MLDv2MulticastListenerReportMessage{MulticastAddressRecords: []layers.MLDv2MulticastAddressRecord{
		{RecordType: rec, MulticastAddress: group.AsSlice()}}}
	f := w.icmp6(h, h.MAC, h.IP6, mldv2Routers, multicastMAC(mldv2Routers), 1, true,
		layers.CreateICMPv6TypeCode(layers.ICMPv6TypeMLDv2MulticastListenerReportMessageV2, 0), r)
	f.kind, f.mldRec, f.mldDst = "mld", uint8(rec), group
	return f
}

// JoinMLD sends an MLDv2 report joining group (CHANGE_TO_EXCLUDE, no sources).
func (w *Writer) JoinMLD(h *Host, group netip.Addr) *Frame {
	return w.mldReport(h, layers.MLDv2MulticastAddressRecordTypeChangeToExcludeMode, group)
}

// LeaveMLD sends an MLDv2 report leaving group (CHANGE_TO_INCLUDE, no sources).
func (w *Writer) LeaveMLD(h *Host, group netip.Addr) *Frame {
	return w.mldReport(h, layers.MLDv2MulticastAddressRecordTypeChangeToIncludeMode, group)
}

// ping6 sends an ICMPv6 echo request from c (at c.IP6) to dst at dstMAC,
// with the payload iputils ping sends.
func (w *Writer) ping6(c *Host, dst netip.Addr, dstMAC net.HardwareAddr, id, seq uint16) *Frame {
	f := w.icmp6(c, c.MAC, c.IP6, dst, dstMAC, 64, false, layers.CreateICMPv6TypeCode(layers.ICMPv6TypeEchoRequest, 0),
		&layers.ICMPv6Echo{Identifier: id, SeqNumber: seq}, gopacket.Payload(w.pingPayload()))
	f.kind, f.req = "icmp6", echoKey("icmp6", id, seq)
	return f
}

// pingReply6 answers ping6 from r (as src, at mac) to c.
func (w *Writer) pingReply6(r *Host, mac net.HardwareAddr, src netip.Addr, c *Host, id, seq uint16) *Frame {
	f := w.icmp6(r, mac, src, c.IP6, c.MAC, 64, false, layers.CreateICMPv6TypeCode(layers.ICMPv6TypeEchoReply, 0),
		&layers.ICMPv6Echo{Identifier: id, SeqNumber: seq}, gopacket.Payload(w.pingPayload()))
	f.kind, f.rep = "icmp6", echoKey("icmp6", id, seq)
	return f
}
