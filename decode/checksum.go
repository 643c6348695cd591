package decode

import (
	"fmt"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// The Internet checksum (RFC 1071) and the IP pseudo-headers that VRRPv3
// (RFC 5798 section 5.2.8) and ICMPv6 (RFC 4443 section 2.3) put under it.

// onesSum adds data as big-endian 16-bit words to sum, padding an odd byte.
func onesSum(sum uint32, data []byte) uint32 {
	n := len(data) &^ 1
	for i := 0; i < n; i += 2 {
		sum += uint32(data[i])<<8 | uint32(data[i+1])
	}
	if len(data)&1 == 1 {
		sum += uint32(data[len(data)-1]) << 8
	}
	return sum
}

// foldChecksum folds a 32-bit one's-complement sum and complements it.
func foldChecksum(sum uint32) uint16 {
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// pseudoHeaderSum is the unfolded one's-complement sum of the IPv4
// pseudo-header (RFC 768) or the IPv6 one (RFC 8200 section 8.1) for
// upper-layer protocol proto and a message of n bytes. Both addresses must
// be IPv4 or both IPv6 (an IPv4-mapped address counts as IPv6: unmap it
// first if it stands for IPv4); ok is false otherwise.
func pseudoHeaderSum(src, dst netip.Addr, proto uint8, n int) (sum uint32, ok bool) {
	switch {
	case src.Is4() && dst.Is4():
		s, d := src.As4(), dst.As4()
		sum = onesSum(onesSum(0, s[:]), d[:])
	case src.Is6() && dst.Is6():
		s, d := src.As16(), dst.As16()
		sum = onesSum(onesSum(0, s[:]), d[:])
	default:
		return 0, false
	}
	// The IPv6 length is 32 bits, the IPv4 one 16: the sum is the same.
	return sum + uint32(proto) + uint32(n&0xffff) + uint32(n>>16), true
}

// checksumAddrsError says why src and dst cannot make the pseudo-header of
// the checksum named what, or returns nil.
func checksumAddrsError(what string, src, dst netip.Addr) error {
	if !src.IsValid() || !dst.IsValid() {
		return fmt.Errorf("%s checksum needs the IP addresses: call SetNetworkLayerForChecksum or SetChecksumAddrs", what)
	}
	return nil
}

// networkAddrs returns the source and destination of an *layers.IPv4 or
// *layers.IPv6, for SetNetworkLayerForChecksum.
func networkAddrs(l gopacket.NetworkLayer) (src, dst netip.Addr, err error) {
	var ok1, ok2 bool
	switch ip := l.(type) {
	case *layers.IPv4:
		src, ok1 = netip.AddrFromSlice(ip.SrcIP.To4())
		dst, ok2 = netip.AddrFromSlice(ip.DstIP.To4())
		if !ok1 || !ok2 {
			return src, dst, fmt.Errorf("IPv4 layer has no valid addresses (src %v, dst %v)", ip.SrcIP, ip.DstIP)
		}
	case *layers.IPv6:
		src, ok1 = netip.AddrFromSlice(ip.SrcIP.To16())
		dst, ok2 = netip.AddrFromSlice(ip.DstIP.To16())
		if !ok1 || !ok2 {
			return src, dst, fmt.Errorf("IPv6 layer has no valid addresses (src %v, dst %v)", ip.SrcIP, ip.DstIP)
		}
	default:
		return src, dst, fmt.Errorf("cannot take checksum addresses from a %T", l)
	}
	return src, dst, nil
}

// icmpv6PseudoHeaderSum is the pseudo-header sum of an ICMPv6 message of n
// bytes, for the layer named layer ("nd", "mld").
func icmpv6PseudoHeaderSum(layer string, src, dst netip.Addr, n int) (uint32, error) {
	if err := checksumAddrsError("ICMPv6", src, dst); err != nil {
		return 0, fmt.Errorf("%s: %w", layer, err)
	}
	if !src.Is6() || !dst.Is6() {
		return 0, fmt.Errorf("%s: ICMPv6 checksum addresses %v and %v are not both IPv6", layer, src, dst)
	}
	sum, _ := pseudoHeaderSum(src, dst, uint8(layers.IPProtocolICMPv6), n)
	return sum, nil
}

// verifyICMPv6Checksum checks the checksum of the ICMPv6 message msg (the
// whole upper-layer packet) sent from src to dst: ChecksumOK or
// ChecksumBad, or ChecksumNotChecked without IPv6 addresses or a header.
func verifyICMPv6Checksum(msg []byte, src, dst netip.Addr) ChecksumStatus {
	if len(msg) < 4 || !src.Is6() || !dst.Is6() {
		return ChecksumNotChecked
	}
	sum, _ := pseudoHeaderSum(src, dst, uint8(layers.IPProtocolICMPv6), len(msg))
	if foldChecksum(onesSum(sum, msg)) == 0 {
		return ChecksumOK
	}
	return ChecksumBad
}
