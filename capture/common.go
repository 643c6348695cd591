package capture

import (
	"fmt"
	"slices"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcap"
)

// The filter people give a VRRP analyzer, "vrrp or arp or igmp or host VIP"
// (the benchmark's and the documentation's), runs on an Ethernet capture as
// a few byte comparisons instead of through the BPF interpreter. It is
// recognised by its program, not its text: when the expression compiles to
// exactly the program libpcap makes of "vrrp or arp or igmp or host X" for
// the X it holds, commonFilter runs instead. Another libpcap, which would
// compile it otherwise, or any other expression, keeps the interpreter.

// commonFilter is "vrrp or arp or igmp or host vip" on Ethernet, as libpcap
// 1.10 compiles it:
//
//	ldh [12]; jeq #0x800 → ldb [23]; jeq #112 → accept; jeq #2 → accept;
//	                       ld [26]; jeq vip → accept; ld [30]; jeq vip → accept; reject
//	          jeq #0x806 → accept
//	          jeq #0x8035 (RARP) → ld [28]; jeq vip → accept; ld [38]; jeq vip → accept; reject
//	reject
//
// A load past the captured bytes rejects the frame, as in bpf_filter.
type commonFilter struct {
	vip    uint32
	accept uint32 // what the program returns for a match
}

func be32(p []byte) uint32 {
	return uint32(p[0])<<24 | uint32(p[1])<<16 | uint32(p[2])<<8 | uint32(p[3])
}

// run returns what the program would: accept or 0.
func (c *commonFilter) run(p []byte) uint32 {
	if len(p) < 14 {
		return 0
	}
	switch uint16(p[12])<<8 | uint16(p[13]) {
	case 0x0800:
		switch {
		case len(p) < 24:
		case p[23] == 112 || p[23] == 2:
			return c.accept
		case len(p) < 30:
		case be32(p[26:]) == c.vip:
			return c.accept
		case len(p) < 34:
		case be32(p[30:]) == c.vip:
			return c.accept
		}
	case 0x0806:
		return c.accept
	case 0x8035:
		switch {
		case len(p) < 32:
		case be32(p[28:]) == c.vip:
			return c.accept
		case len(p) < 42:
		case be32(p[38:]) == c.vip:
			return c.accept
		}
	}
	return 0
}

// recogniseCommon returns the commonFilter that prog is, or nil.
func recogniseCommon(lt layers.LinkType, prog []pcap.BPFInstruction) *commonFilter {
	if lt != layers.LinkTypeEthernet || len(prog) != 17 || prog[5].Code != bpfLD|bpfW|bpfABS || prog[5].K != 26 {
		return nil
	}
	vip := prog[6].K
	want, err := pcap.CompileBPFFilter(layers.LinkTypeEthernet, MaxFrameSize, commonExpr(vip))
	if err != nil || !slices.Equal(want, prog) || want[15].Code != bpfRET|bpfK {
		return nil
	}
	return &commonFilter{vip: vip, accept: want[15].K}
}

func commonExpr(vip uint32) string {
	return fmt.Sprintf("vrrp or arp or igmp or host %d.%d.%d.%d", vip>>24, vip>>16&0xff, vip>>8&0xff, vip&0xff)
}
