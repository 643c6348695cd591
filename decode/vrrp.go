package decode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// VRRP is a VRRP advertisement, version 2 (RFC 3768) or 3 (RFC 5798).
//
// Wire format, version 2:
//
//	0: version(4) type(4) | VRID | priority | count IP addrs
//	4: auth type | adver int (s) | checksum(16)
//	8: count × IPv4 address, then 8 octets of authentication data
//
// (An advert with auth type 0 may end right after the address list: see
// NoAuthData.)
//
// Version 3:
//
//	0: version(4) type(4) | VRID | priority | count IPvX addrs
//	4: reserved(4) max adver int (cs, 12) | checksum(16)
//	8: count × IPv4 or IPv6 address
type VRRP struct {
	layers.BaseLayer
	Version   uint8 // 2 or 3
	Type      uint8 // 1 = ADVERTISEMENT, the only type defined
	VRID      uint8
	Priority  uint8
	CountAddr uint8
	// AuthType and AuthData exist in VRRPv2 only (VRRPAuthNone,
	// VRRPAuthPass, VRRPAuthAH, VRRPAuthCiscoMD5: see AuthTypeName).
	// AuthData holds the 8 octets as sent.
	AuthType uint8
	AuthData [8]byte
	// NoAuthData reports a VRRPv2 advert with AuthType 0 that ends right
	// after its address list, without the 8 octets of authentication data
	// (some implementations send it so; Wireshark reads it the same way).
	// AuthData is then zero, and SerializeTo leaves the octets out too.
	// With any other auth type the octets are required.
	NoAuthData bool
	// AdverInt is in seconds for VRRPv2 (8 bits) and centiseconds for
	// VRRPv3 (12 bits): use Interval for a duration.
	AdverInt uint16
	Checksum uint16
	// IPv6 tells DecodeFromBytes the address family of the address list
	// (VRRPv3 over IPv6 carries 16-octet addresses). The Decoder sets it from
	// the IP layer before decoding; SerializeTo uses it too. Decoding through
	// gopacket.NewPacket infers it from the length of the message. A VRRPv2
	// message always decodes with IPv6 false: RFC 3768 is IPv4 only.
	IPv6  bool
	Addrs []netip.Addr // reused between decodes

	// ChecksumV2Style makes SerializeTo write a VRRPv3 checksum without the
	// IP pseudo-header, as VRRPv2's (keepalived's v3_checksum_as_v2, for
	// peers that compute it so); VerifyChecksum calls such a message
	// ChecksumV2Style.
	ChecksumV2Style bool

	// ckSrc and ckDst are the IP addresses of the VRRPv3 checksum's
	// pseudo-header, set by SetNetworkLayerForChecksum or SetChecksumAddrs.
	ckSrc, ckDst netip.Addr
}

// VRRPAdvertisement is the only VRRP message type defined (RFC 3768, 5798).
const VRRPAdvertisement = 1

// VRRPv2 authentication types: RFC 2338 defined 0 to 2 (RFC 3768 keeps
// only 0), and Cisco routers send 254 for their MD5 authentication.
const (
	VRRPAuthNone     = 0   // no authentication
	VRRPAuthPass     = 1   // simple text password
	VRRPAuthAH       = 2   // IP Authentication Header
	VRRPAuthCiscoMD5 = 254 // Cisco's MD5 variant ("Cisco VRRP MD5 authentication" in Wireshark)
)

// AuthTypeName names a VRRPv2 authentication type as the analysis reports
// it: "none", "pass", "ah", "cisco-md5", or "type-N" for another N.
func AuthTypeName(t uint8) string {
	switch t {
	case VRRPAuthNone:
		return "none"
	case VRRPAuthPass:
		return "pass"
	case VRRPAuthAH:
		return "ah"
	case VRRPAuthCiscoMD5:
		return "cisco-md5"
	}
	return fmt.Sprintf("type-%d", t)
}

const (
	vrrpHeaderLen = 8
	vrrpAuthLen   = 8 // VRRPv2 authentication data after the addresses
)

// LayerTypeVRRP is the layer type of VRRP. It replaces gopacket's own VRRPv2
// decoder for IP protocol 112 after Register.
var LayerTypeVRRP = gopacket.RegisterLayerType(2112, gopacket.LayerTypeMetadata{
	Name:    "VRRP",
	Decoder: gopacket.DecodeFunc(decodeVRRP),
})

// LayerType returns LayerTypeVRRP.
func (v *VRRP) LayerType() gopacket.LayerType { return LayerTypeVRRP }

// CanDecode returns LayerTypeVRRP.
func (v *VRRP) CanDecode() gopacket.LayerClass { return LayerTypeVRRP }

// NextLayerType returns gopacket.LayerTypePayload when bytes follow the
// message and gopacket.LayerTypeZero otherwise.
func (v *VRRP) NextLayerType() gopacket.LayerType {
	if len(v.Payload) > 0 {
		return gopacket.LayerTypePayload
	}
	return gopacket.LayerTypeZero
}

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

// addrLen is the size of one address in the address list.
func (v *VRRP) addrLen() int {
	if v.Version == 3 && v.IPv6 {
		return 16
	}
	return 4
}

// DecodeFromBytes decodes a VRRP message. For VRRPv3 the IPv6 field must be
// set beforehand to say the address family. The fields keep no reference to
// data except through BaseLayer.
func (v *VRRP) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < vrrpHeaderLen {
		df.SetTruncated()
		return fmt.Errorf("vrrp: message of %d bytes is shorter than the 8-byte header", len(data))
	}
	version := data[0] >> 4
	if version != 2 && version != 3 {
		return fmt.Errorf("vrrp: version %d is neither 2 nor 3", version)
	}
	v.Version = version
	v.Type = data[0] & 0x0f
	v.VRID = data[1]
	v.Priority = data[2]
	v.CountAddr = data[3]
	v.Checksum = binary.BigEndian.Uint16(data[6:8])
	if version == 2 {
		v.AuthType = data[4]
		v.AdverInt = uint16(data[5])
		v.IPv6 = false // RFC 3768 is IPv4 only
	} else {
		v.AuthType = 0
		v.AdverInt = binary.BigEndian.Uint16(data[4:6]) & 0x0fff
	}

	alen := v.addrLen()
	need := int(v.CountAddr) * alen
	rest := len(data) - vrrpHeaderLen
	noAuth := false
	switch {
	case version == 2 && v.AuthType != VRRPAuthNone && need+vrrpAuthLen > rest:
		df.SetTruncated()
		if need > rest {
			return fmt.Errorf("vrrp: address count %d needs %d bytes with the authentication data, %d remain", v.CountAddr, need+vrrpAuthLen, rest)
		}
		return fmt.Errorf("vrrp: auth type %d (%s) needs 8 bytes of authentication data after the addresses, %d remain: only auth type 0 may leave them out",
			v.AuthType, AuthTypeName(v.AuthType), rest-need)
	case need > rest:
		df.SetTruncated()
		return fmt.Errorf("vrrp: address count %d needs %d bytes, %d remain", v.CountAddr, need, rest)
	case version == 2 && rest == need:
		noAuth = true // auth type 0 without its authentication data
	case version == 2 && need+vrrpAuthLen > rest:
		df.SetTruncated()
		return fmt.Errorf("vrrp: %d bytes of authentication data after the addresses: auth type 0 sends 8 or none", rest-need)
	}

	v.Addrs = v.Addrs[:0]
	for off := vrrpHeaderLen; off < vrrpHeaderLen+need; off += alen {
		if alen == 16 {
			v.Addrs = append(v.Addrs, netip.AddrFrom16([16]byte(data[off:off+16])))
		} else {
			v.Addrs = append(v.Addrs, netip.AddrFrom4([4]byte(data[off:off+4])))
		}
	}
	end := vrrpHeaderLen + need
	v.NoAuthData = noAuth
	if version == 2 && !noAuth {
		copy(v.AuthData[:], data[end:end+vrrpAuthLen])
		end += vrrpAuthLen
	} else {
		v.AuthData = [8]byte{}
	}
	v.BaseLayer = layers.BaseLayer{Contents: data[:end], Payload: data[end:]}
	return nil
}

// inferVRRPFamily guesses the address family of a VRRPv3 message from its
// length, for decoders that cannot ask the IP layer: a list that exactly
// fills the message with 16-byte addresses is IPv6.
func inferVRRPFamily(data []byte) bool {
	if len(data) < vrrpHeaderLen || data[0]>>4 != 3 || data[3] == 0 {
		return false
	}
	return len(data)-vrrpHeaderLen == 16*int(data[3])
}

func decodeVRRP(data []byte, p gopacket.PacketBuilder) error {
	v := &VRRP{IPv6: inferVRRPFamily(data)}
	if err := v.DecodeFromBytes(data, p); err != nil {
		return err
	}
	p.AddLayer(v)
	if len(v.Payload) > 0 {
		return p.NextDecoder(gopacket.LayerTypePayload)
	}
	return nil
}

// SetNetworkLayerForChecksum takes the addresses of the VRRPv3 checksum's
// pseudo-header from an *layers.IPv4 or *layers.IPv6, as layers.TCP does.
func (v *VRRP) SetNetworkLayerForChecksum(l gopacket.NetworkLayer) error {
	src, dst, err := networkAddrs(l)
	if err != nil {
		return fmt.Errorf("vrrp: %w", err)
	}
	v.SetChecksumAddrs(src, dst)
	return nil
}

// SetChecksumAddrs sets the IP source and destination that the VRRPv3
// checksum's pseudo-header covers.
func (v *VRRP) SetChecksumAddrs(src, dst netip.Addr) {
	v.ckSrc, v.ckDst = src, dst
}

// SerializeTo writes the message. With opts.FixLengths it sets CountAddr to
// len(Addrs); with opts.ComputeChecksums it computes the checksum, which for
// VRRPv3 needs SetNetworkLayerForChecksum or SetChecksumAddrs first. A
// VRRPv2 advert with NoAuthData goes out without authentication data,
// which only auth type 0 allows.
func (v *VRRP) SerializeTo(b gopacket.SerializeBuffer, opts gopacket.SerializeOptions) error {
	if v.Version != 2 && v.Version != 3 {
		return fmt.Errorf("vrrp: cannot serialize version %d, only 2 and 3", v.Version)
	}
	if v.Type > 0x0f {
		return fmt.Errorf("vrrp: type %d does not fit in 4 bits", v.Type)
	}
	if v.Version == 2 && v.AdverInt > 0xff {
		return fmt.Errorf("vrrp: VRRPv2 advertisement interval %d s does not fit in 8 bits", v.AdverInt)
	}
	if v.Version == 3 && v.AdverInt > 0x0fff {
		return fmt.Errorf("vrrp: VRRPv3 advertisement interval %d cs does not fit in 12 bits", v.AdverInt)
	}
	if v.Version == 2 && v.IPv6 {
		return errors.New("vrrp: VRRPv2 carries IPv4 addresses only")
	}
	if len(v.Addrs) > 255 {
		return fmt.Errorf("vrrp: %d addresses, at most 255 fit", len(v.Addrs))
	}
	withAuth := v.Version == 2 && !v.NoAuthData
	if v.Version == 2 && v.NoAuthData && v.AuthType != VRRPAuthNone {
		return fmt.Errorf("vrrp: auth type %d (%s) cannot leave out the authentication data: only auth type 0 may", v.AuthType, AuthTypeName(v.AuthType))
	}
	if opts.FixLengths {
		v.CountAddr = uint8(len(v.Addrs))
	}
	alen := v.addrLen()
	size := vrrpHeaderLen + alen*len(v.Addrs)
	if withAuth {
		size += vrrpAuthLen
	}
	buf, err := b.PrependBytes(size)
	if err != nil {
		return err
	}
	buf[0] = v.Version<<4 | v.Type
	buf[1] = v.VRID
	buf[2] = v.Priority
	buf[3] = v.CountAddr
	if v.Version == 2 {
		buf[4] = v.AuthType
		buf[5] = uint8(v.AdverInt)
	} else {
		binary.BigEndian.PutUint16(buf[4:6], v.AdverInt)
	}
	buf[6], buf[7] = 0, 0
	off := vrrpHeaderLen
	for i, a := range v.Addrs {
		if alen == 4 {
			if !a.Unmap().Is4() {
				return fmt.Errorf("vrrp: address %d (%v) is not IPv4", i, a)
			}
			a4 := a.Unmap().As4()
			copy(buf[off:], a4[:])
		} else {
			// An IPv4-mapped address is still 16 bytes on the wire
			// and is written back as it was read.
			if !a.Is6() {
				return fmt.Errorf("vrrp: address %d (%v) is not IPv6", i, a)
			}
			a16 := a.As16()
			copy(buf[off:], a16[:])
		}
		off += alen
	}
	if withAuth {
		copy(buf[off:], v.AuthData[:])
	}
	if !opts.ComputeChecksums {
		binary.BigEndian.PutUint16(buf[6:8], v.Checksum)
		return nil
	}
	var sum uint32
	if v.Version == 3 && !v.ChecksumV2Style {
		ps, err := vrrpPseudoHeaderSum(v.ckSrc, v.ckDst, len(buf))
		if err != nil {
			return err
		}
		sum = ps
	}
	v.Checksum = foldChecksum(onesSum(sum, buf))
	binary.BigEndian.PutUint16(buf[6:8], v.Checksum)
	return nil
}

// VerifyChecksum checks the checksum of the VRRP message msg (the whole IP
// payload) sent from src to dst. VRRPv2 sums the message alone; VRRPv3 adds
// the IPv4 or IPv6 pseudo-header (RFC 5798 section 5.2.8). A VRRPv3 message
// that verifies only without the pseudo-header is ChecksumV2Style, as some
// implementations send. Messages too short to hold a header are
// ChecksumNotChecked, as are VRRPv3 messages without valid addresses.
func VerifyChecksum(msg []byte, src, dst netip.Addr) ChecksumStatus {
	if len(msg) < vrrpHeaderLen {
		return ChecksumNotChecked
	}
	plain := foldChecksum(onesSum(0, msg)) == 0
	switch msg[0] >> 4 {
	case 2:
		if plain {
			return ChecksumOK
		}
		return ChecksumBad
	case 3:
		ps, err := vrrpPseudoHeaderSum(src, dst, len(msg))
		if err != nil {
			return ChecksumNotChecked
		}
		if foldChecksum(onesSum(ps, msg)) == 0 {
			return ChecksumOK
		}
		if plain {
			return ChecksumV2Style
		}
		return ChecksumBad
	}
	return ChecksumNotChecked
}

// vrrpPseudoHeaderSum is the pseudo-header sum of a VRRPv3 message of n
// bytes; IPv4-mapped addresses count as IPv4.
func vrrpPseudoHeaderSum(src, dst netip.Addr, n int) (uint32, error) {
	if err := checksumAddrsError("VRRPv3", src, dst); err != nil {
		return 0, fmt.Errorf("vrrp: %w", err)
	}
	sum, ok := pseudoHeaderSum(src.Unmap(), dst.Unmap(), uint8(layers.IPProtocolVRRP), n)
	if !ok {
		return 0, fmt.Errorf("vrrp: checksum addresses %v and %v are of different families", src, dst)
	}
	return sum, nil
}
