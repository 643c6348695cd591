package vrrpd

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/vrrpctl/vrrpctl/decode"
)

// encodeAdvert builds the VRRP message (IP payload) of an advert from src
// to dst with the project's codec.
func encodeAdvert(cfg *RouterConfig, prio uint8, src, dst netip.Addr) ([]byte, error) {
	v := &decode.VRRP{
		Version:  uint8(cfg.Version),
		Type:     1,
		VRID:     cfg.VRID,
		Priority: prio,
		IPv6:     cfg.IPv6(),
	}
	if cfg.Version == 2 {
		v.AdverInt = uint16(cfg.AdvertInterval.Seconds())
		v.AuthType = authType(cfg.AuthPass)
		v.AuthData = authData(cfg.AuthPass)
	} else {
		v.AdverInt = uint16(cfg.AdvertInterval.Milliseconds() / 10)
		v.SetChecksumAddrs(src, dst)
		v.ChecksumV2Style = cfg.ChecksumAsV2
	}
	for _, p := range cfg.VIPs {
		v.Addrs = append(v.Addrs, p.Addr())
	}
	buf := gopacket.NewSerializeBuffer()
	if err := v.SerializeTo(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}); err != nil {
		return nil, fmt.Errorf("building advert of VRID %d: %w", cfg.VRID, err)
	}
	return buf.Bytes(), nil
}

// parseAdvert decodes a received message for the state machine. ok is false
// when the message is too short or malformed to be an advert at all.
func parseAdvert(v *decode.VRRP, msg []byte, info rxInfo, v6 bool) (Advert, bool) {
	a := Advert{Src: info.Src, TTL: info.TTL}
	if len(msg) < 1 {
		return a, false
	}
	a.Version = msg[0] >> 4
	if a.Version != 2 && a.Version != 3 {
		// The codec refuses it; the checks only need the version.
		if len(msg) > 1 {
			a.VRID = msg[1]
		}
		return a, true
	}
	v.IPv6 = v6
	if err := v.DecodeFromBytes(msg, gopacket.NilDecodeFeedback); err != nil {
		return a, false
	}
	a.Type, a.VRID, a.Priority = v.Type, v.VRID, v.Priority
	a.Interval = v.Interval()
	a.AuthType, a.AuthData = v.AuthType, v.AuthData
	a.Addrs = append([]netip.Addr(nil), v.Addrs...)
	// VRRPv3 checksums written without the pseudo-header (as some
	// implementations do) are accepted, like keepalived does.
	a.BadChecksum = decode.VerifyChecksum(msg, info.Src, info.Dst) == decode.ChecksumBad
	return a, true
}

var broadcastMAC = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// garpFrame builds a gratuitous ARP request for addr from mac as keepalived
// sends it: Ethernet broadcast, sender = target = addr, target MAC
// ff:ff:ff:ff:ff:ff.
func garpFrame(mac net.HardwareAddr, addr netip.Addr) ([]byte, error) {
	var m decode.MAC
	copy(m[:], mac)
	eth := &layers.Ethernet{SrcMAC: mac, DstMAC: broadcastMAC, EthernetType: layers.EthernetTypeARP}
	arp := &decode.ARP{Operation: decode.ARPOpRequest, SenderMAC: m, SenderIP: addr,
		TargetMAC: decode.MAC(broadcastMAC), TargetIP: addr}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{}, eth, arp); err != nil {
		return nil, fmt.Errorf("building gratuitous ARP for %s: %w", addr, err)
	}
	return buf.Bytes(), nil
}

// naFrame builds an unsolicited neighbour advertisement (RFC 4861 7.2.6)
// for addr from mac and the link-local src to all nodes, with the Router
// flag that RFC 5798 8.2.2 asks of a virtual router, and Override.
func naFrame(mac net.HardwareAddr, src, addr netip.Addr) ([]byte, error) {
	allNodes := netip.MustParseAddr("ff02::1")
	eth := &layers.Ethernet{SrcMAC: mac, DstMAC: net.HardwareAddr{0x33, 0x33, 0, 0, 0, 1}, EthernetType: layers.EthernetTypeIPv6}
	ip := &layers.IPv6{Version: 6, HopLimit: 255, NextHeader: layers.IPProtocolICMPv6,
		SrcIP: src.AsSlice(), DstIP: allNodes.AsSlice()}
	na := &decode.ND{Type: decode.NDNeighborAdvertisement, Router: true, Override: true,
		Target: addr, HasTargetLL: true}
	copy(na.TargetLL[:], mac)
	na.SetChecksumAddrs(src, allNodes)
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, eth, ip, na); err != nil {
		return nil, fmt.Errorf("building neighbour advertisement for %s: %w", addr, err)
	}
	return buf.Bytes(), nil
}
