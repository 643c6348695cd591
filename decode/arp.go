package decode

import (
	"net/netip"

	"github.com/gopacket/gopacket/layers"
)

// ARPKind classifies an ARP packet the way RFC 5227 and operators speak of it.
type ARPKind uint8

const (
	ARPRequest         ARPKind = iota // who-has, ordinary
	ARPReply                          // is-at, ordinary
	ARPProbe                          // request with sender IP 0.0.0.0 (RFC 5227)
	ARPAnnouncement                   // gratuitous request: sender IP = target IP (RFC 5227 announcement)
	ARPGratuitousReply                // gratuitous reply: sender IP = target IP
)

// ARP is an Ethernet/IPv4 ARP packet (RFC 826). Other hardware or protocol
// types decode with an error.
//
// TODO(decode): implement DecodeFromBytes, CanDecode, NextLayerType,
// LayerType, SerializeTo, Kind, IsGratuitous.
type ARP struct {
	layers.BaseLayer
	Operation uint16 // 1 request, 2 reply
	SenderMAC MAC
	SenderIP  netip.Addr
	TargetMAC MAC
	TargetIP  netip.Addr
}
