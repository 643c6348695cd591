package decode

import (
	"sync"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

var registerOnce sync.Once

// Register routes IP protocols 112 (VRRP) and 2 (IGMP) and EtherType 0x0806
// (ARP) to this package's layers in gopacket.NewPacket and in
// DecodingLayerParser, and ICMPv6 neighbour discovery and MLD messages to
// ND and MLD in gopacket.NewPacket (echo, errors and every other ICMPv6
// message still go to gopacket's ICMPv6 layer; a DecodingLayerParser picks
// its layer by type, not by content, and keeps gopacket's for protocol 58), which follow the link and IP layers' NextLayerType
// through gopacket's global tables EthernetTypeMetadata and
// IPProtocolMetadata. It changes those tables for the whole program, in
// place of gopacket's own VRRPv2, IGMP, ARP and ICMPv6 layers, so importing decode
// does not do it: call it only in a program (or test) that uses
// gopacket.NewPacket and wants these layers. Decoder does not need it; no
// part of vrrpctl calls it. Calling it more than once is harmless.
func Register() {
	registerOnce.Do(func() {
		layers.EthernetTypeMetadata[layers.EthernetTypeARP] = layers.EnumMetadata{
			DecodeWith: LayerTypeARP, Name: "ARP", LayerType: LayerTypeARP,
		}
		layers.IPProtocolMetadata[layers.IPProtocolVRRP] = layers.EnumMetadata{
			DecodeWith: LayerTypeVRRP, Name: "VRRP", LayerType: LayerTypeVRRP,
		}
		layers.IPProtocolMetadata[layers.IPProtocolIGMP] = layers.EnumMetadata{
			DecodeWith: LayerTypeIGMP, Name: "IGMP", LayerType: LayerTypeIGMP,
		}
		// layers.IPv6 goes on to the decoder of layers.LayerTypeICMPv6, an
		// extension header to that of IP protocol 58.
		d := gopacket.DecodeFunc(decodeICMPv6)
		gopacket.OverrideLayerType(int(layers.LayerTypeICMPv6), gopacket.LayerTypeMetadata{Name: "ICMPv6", Decoder: d})
		m := layers.IPProtocolMetadata[layers.IPProtocolICMPv6]
		m.DecodeWith = d
		layers.IPProtocolMetadata[layers.IPProtocolICMPv6] = m
	})
}
