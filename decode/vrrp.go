package decode

import (
	"errors"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// VRRP is a VRRP advertisement, version 2 (RFC 3768) or 3 (RFC 5798).
//
// TODO(decode): implement; fields and method set are the contract.
type VRRP struct {
	layers.BaseLayer
	Version   uint8 // 2 or 3
	Type      uint8 // 1 = ADVERTISEMENT, the only type defined
	VRID      uint8
	Priority  uint8
	CountAddr uint8
	// AuthType and AuthData exist in VRRPv2 only (0 none, 1 simple text
	// password, 2 IP AH). AuthData holds the 8 octets as sent.
	AuthType uint8
	AuthData [8]byte
	// AdverInt is in seconds for VRRPv2 (8 bits) and centiseconds for
	// VRRPv3 (12 bits): use Interval for a duration.
	AdverInt uint16
	Checksum uint16
	// IPv6 tells DecodeFromBytes the address family of the address list
	// (VRRPv3 over IPv6 carries 16-octet addresses). The Decoder sets it from
	// the IP layer before decoding; SerializeTo uses it too.
	IPv6  bool
	Addrs []netip.Addr // reused between decodes
}

var LayerTypeVRRP gopacket.LayerType

func (v *VRRP) LayerType() gopacket.LayerType { return LayerTypeVRRP }

// Interval is the advertisement interval as a duration, for either version.
func (v *VRRP) Interval() time.Duration {
	if v.Version == 3 {
		return time.Duration(v.AdverInt) * 10 * time.Millisecond
	}
	return time.Duration(v.AdverInt) * time.Second
}

// AuthPassword is the simple-text password of a VRRPv2 advert with AuthType 1,
// without trailing NULs.
func (v *VRRP) AuthPassword() string {
	n := 0
	for n < len(v.AuthData) && v.AuthData[n] != 0 {
		n++
	}
	return string(v.AuthData[:n])
}

func (v *VRRP) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	return errors.New("vrrp: not implemented")
}
