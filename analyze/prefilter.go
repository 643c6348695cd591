package analyze

import (
	"github.com/gopacket/gopacket/layers"
	"github.com/vrrpctl/vrrpctl/decode"
)

// prefilter lets Run skip decoding the frames the engine has nothing to do
// with, the most common frame of a busy capture: unicast IPv4 between hosts
// none of which is a VIP. Such a frame is fed to the engine as the bare
// frame it is (its number, time and link type), which counts it and moves
// the engine's clock exactly as the decoded frame would (Feed does no more
// for a KindIP frame whose addresses are no VIP).
//
// The engine learns VIPs from the adverts it is fed; the prefilter notes
// the addresses of every advert Run decodes, on any VLAN, so the addresses
// it lets through to the decoder are a superset of the engine's VIPs. A
// bitmap indexed by a hash of the address holds them: a collision only
// sends a frame the long way.
type prefilter struct {
	vips [1 << 16 / 64]uint64
	bare decode.Frame
}

func vipBit(a uint32) (word int, bit uint64) {
	h := a * 0x9e3779b1 >> 16
	return int(h >> 6), 1 << (h & 63)
}

// learn notes the IPv4 addresses of an advert.
func (p *prefilter) learn(f *decode.Frame) {
	for _, a := range f.VRRP.Addrs {
		if a.Is4() {
			b := a.As4()
			w, bit := vipBit(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]))
			p.vips[w] |= bit
		}
	}
}

func (p *prefilter) isVIP(a uint32) bool {
	w, bit := vipBit(a)
	return p.vips[w]&bit != 0
}

// skips reports whether the frame needs no decoding: an Ethernet frame
// that decode.PlainIPv4 recognises, between addresses none of which is a
// VIP.
func (p *prefilter) skips(lt layers.LinkType, data []byte) bool {
	if lt != layers.LinkTypeEthernet {
		return false
	}
	src, dst, ok := decode.PlainIPv4(data)
	return ok && !p.isVIP(src) && !p.isVIP(dst)
}
