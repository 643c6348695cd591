package capture

import (
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcap"
)

// filter selects frames with a tcpdump expression compiled by libpcap. The
// compiled program runs in Go (run below, the semantics of libpcap's
// bpf_filter), which is several times cheaper per frame than a cgo call into
// libpcap; a program this interpreter does not accept runs in libpcap.
type filter struct {
	prog   []pcap.BPFInstruction
	lib    *pcap.BPF
	common *commonFilter // the program is that of the common filter (common.go)
}

// compileFilter compiles expr for frames of link type lt. The error is
// libpcap's message.
func compileFilter(lt layers.LinkType, expr string) (*filter, error) {
	dlt := linkTypeDLT(lt)
	prog, err := pcap.CompileBPFFilter(dlt, MaxFrameSize, expr)
	if err != nil {
		return nil, err
	}
	if validBPF(prog) {
		return &filter{prog: prog, common: recogniseCommon(lt, prog)}, nil
	}
	lib, err := pcap.NewBPF(dlt, MaxFrameSize, expr)
	if err != nil {
		return nil, err
	}
	return &filter{lib: lib}, nil
}

// linkTypeDLT maps a file's link type (LINKTYPE_) to the DLT_ value libpcap
// compiles for, as libpcap does when it reads a file. Of the link types
// vrrpctl decodes only raw IP differs: LINKTYPE_RAW 101 is DLT_RAW 12 on
// Linux, and pcap_open_dead refuses 101.
func linkTypeDLT(lt layers.LinkType) layers.LinkType {
	if lt == layers.LinkTypeRaw {
		return 12
	}
	return lt
}

func (f *filter) matches(ci gopacket.CaptureInfo, data []byte) bool {
	if f.common != nil {
		return f.common.run(data) != 0
	}
	if f.lib != nil {
		return f.lib.Matches(ci, data)
	}
	return runBPF(f.prog, data, uint32(ci.Length)) != 0
}

// Classic BPF opcodes (bpf.h).
const (
	bpfLD   = 0x00
	bpfLDX  = 0x01
	bpfST   = 0x02
	bpfSTX  = 0x03
	bpfALU  = 0x04
	bpfJMP  = 0x05
	bpfRET  = 0x06
	bpfMISC = 0x07

	bpfW = 0x00
	bpfH = 0x08
	bpfB = 0x10

	bpfIMM = 0x00
	bpfABS = 0x20
	bpfIND = 0x40
	bpfMEM = 0x60
	bpfLEN = 0x80
	bpfMSH = 0xa0

	bpfADD = 0x00
	bpfSUB = 0x10
	bpfMUL = 0x20
	bpfDIV = 0x30
	bpfOR  = 0x40
	bpfAND = 0x50
	bpfLSH = 0x60
	bpfRSH = 0x70
	bpfNEG = 0x80
	bpfMOD = 0x90
	bpfXOR = 0xa0

	bpfJA   = 0x00
	bpfJEQ  = 0x10
	bpfJGT  = 0x20
	bpfJGE  = 0x30
	bpfJSET = 0x40

	bpfK = 0x00
	bpfX = 0x08
	bpfA = 0x10

	bpfTAX = 0x00
	bpfTXA = 0x80

	bpfMemWords = 16
)

// validBPF checks what run relies on: known opcodes, jumps and scratch
// memory in range, and a return at the end (libpcap's bpf_validate).
func validBPF(prog []pcap.BPFInstruction) bool {
	if len(prog) == 0 {
		return false
	}
	for pc, in := range prog {
		rest := uint64(len(prog) - pc - 1)
		switch in.Code {
		case bpfLD | bpfW | bpfABS, bpfLD | bpfH | bpfABS, bpfLD | bpfB | bpfABS,
			bpfLD | bpfW | bpfIND, bpfLD | bpfH | bpfIND, bpfLD | bpfB | bpfIND,
			bpfLD | bpfW | bpfLEN, bpfLDX | bpfW | bpfLEN,
			bpfLD | bpfIMM, bpfLDX | bpfIMM, bpfLDX | bpfMSH | bpfB,
			bpfRET | bpfK, bpfRET | bpfA, bpfMISC | bpfTAX, bpfMISC | bpfTXA,
			bpfALU | bpfNEG:
		case bpfLD | bpfMEM, bpfLDX | bpfMEM, bpfST, bpfSTX:
			if in.K >= bpfMemWords {
				return false
			}
		case bpfJMP | bpfJA:
			if uint64(in.K) >= rest {
				return false
			}
		case bpfJMP | bpfJEQ | bpfK, bpfJMP | bpfJGT | bpfK, bpfJMP | bpfJGE | bpfK, bpfJMP | bpfJSET | bpfK,
			bpfJMP | bpfJEQ | bpfX, bpfJMP | bpfJGT | bpfX, bpfJMP | bpfJGE | bpfX, bpfJMP | bpfJSET | bpfX:
			if uint64(in.Jt) >= rest || uint64(in.Jf) >= rest {
				return false
			}
		default:
			if in.Code > 0xff || in.Code&0x07 != bpfALU || in.Code&0xf0 > bpfXOR {
				return false
			}
			// Division by a constant zero is rejected, as libpcap does.
			if in.Code&bpfX == 0 && in.K == 0 && (in.Code&0xf0 == bpfDIV || in.Code&0xf0 == bpfMOD) {
				return false
			}
		}
	}
	last := prog[len(prog)-1].Code
	return last == bpfRET|bpfK || last == bpfRET|bpfA
}

// runBPF runs a program accepted by validBPF over a frame of wirelen bytes of
// which p was captured, and returns how many bytes to keep (0: reject). Loads
// past the captured bytes reject the frame.
func runBPF(prog []pcap.BPFInstruction, p []byte, wirelen uint32) uint32 {
	var a, x uint32
	var mem [bpfMemWords]uint32
	n := uint64(len(p))
	for pc := 0; pc < len(prog); pc++ {
		in := &prog[pc]
		k := in.K
		switch in.Code {
		case bpfRET | bpfK:
			return k
		case bpfRET | bpfA:
			return a
		case bpfLD | bpfW | bpfABS:
			if uint64(k)+4 > n {
				return 0
			}
			a = uint32(p[k])<<24 | uint32(p[k+1])<<16 | uint32(p[k+2])<<8 | uint32(p[k+3])
		case bpfLD | bpfH | bpfABS:
			if uint64(k)+2 > n {
				return 0
			}
			a = uint32(p[k])<<8 | uint32(p[k+1])
		case bpfLD | bpfB | bpfABS:
			if uint64(k) >= n {
				return 0
			}
			a = uint32(p[k])
		case bpfLD | bpfW | bpfIND:
			o := uint64(x) + uint64(k)
			if o+4 > n {
				return 0
			}
			a = uint32(p[o])<<24 | uint32(p[o+1])<<16 | uint32(p[o+2])<<8 | uint32(p[o+3])
		case bpfLD | bpfH | bpfIND:
			o := uint64(x) + uint64(k)
			if o+2 > n {
				return 0
			}
			a = uint32(p[o])<<8 | uint32(p[o+1])
		case bpfLD | bpfB | bpfIND:
			o := uint64(x) + uint64(k)
			if o >= n {
				return 0
			}
			a = uint32(p[o])
		case bpfLDX | bpfMSH | bpfB:
			if uint64(k) >= n {
				return 0
			}
			x = uint32(p[k]&0xf) << 2
		case bpfLD | bpfW | bpfLEN:
			a = wirelen
		case bpfLDX | bpfW | bpfLEN:
			x = wirelen
		case bpfLD | bpfIMM:
			a = k
		case bpfLDX | bpfIMM:
			x = k
		case bpfLD | bpfMEM:
			a = mem[k&(bpfMemWords-1)]
		case bpfLDX | bpfMEM:
			x = mem[k&(bpfMemWords-1)]
		case bpfST:
			mem[k&(bpfMemWords-1)] = a
		case bpfSTX:
			mem[k&(bpfMemWords-1)] = x
		case bpfJMP | bpfJA:
			pc += int(k)
		case bpfJMP | bpfJEQ | bpfK:
			pc += jump(in, a == k)
		case bpfJMP | bpfJGT | bpfK:
			pc += jump(in, a > k)
		case bpfJMP | bpfJGE | bpfK:
			pc += jump(in, a >= k)
		case bpfJMP | bpfJSET | bpfK:
			pc += jump(in, a&k != 0)
		case bpfJMP | bpfJEQ | bpfX:
			pc += jump(in, a == x)
		case bpfJMP | bpfJGT | bpfX:
			pc += jump(in, a > x)
		case bpfJMP | bpfJGE | bpfX:
			pc += jump(in, a >= x)
		case bpfJMP | bpfJSET | bpfX:
			pc += jump(in, a&x != 0)
		case bpfMISC | bpfTAX:
			x = a
		case bpfMISC | bpfTXA:
			a = x
		default: // ALU
			v := k
			if in.Code&bpfX != 0 {
				v = x
			}
			switch in.Code & 0xf0 {
			case bpfADD:
				a += v
			case bpfSUB:
				a -= v
			case bpfMUL:
				a *= v
			case bpfDIV:
				if v == 0 {
					return 0
				}
				a /= v
			case bpfMOD:
				if v == 0 {
					return 0
				}
				a %= v
			case bpfAND:
				a &= v
			case bpfOR:
				a |= v
			case bpfXOR:
				a ^= v
			case bpfLSH:
				a <<= v // Go: 0 for shifts of 32 and more, as libpcap
			case bpfRSH:
				a >>= v
			case bpfNEG:
				a = -a
			}
		}
	}
	return 0
}

func jump(in *pcap.BPFInstruction, cond bool) int {
	if cond {
		return int(in.Jt)
	}
	return int(in.Jf)
}
