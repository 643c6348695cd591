package capture

import (
	"encoding/binary"
	"io"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcap"
)

// Filters that between them use every kind of BPF instruction libpcap emits:
// absolute and indirect loads of each width, the IP header length (ldxb
// 4*([k]&0xf)), the packet length, scratch memory, every ALU operation and
// every jump.
var interpreterFilters = []string{
	"vrrp", "arp", "igmp", "host 192.168.33.100", "vrrp or igmp or arp",
	"ether multicast", "ether src 66:03:9a:8f:f0:6a", "broadcast",
	"greater 90", "less 70", "len - 14 > 40", "len * 2 > 150",
	"ip[2:2] - 20 > 10", "ip[2:2] / 3 = 13", "ip[2:2] % 7 = 5", "ip[2:2] & 0xff = 0x28",
	"ip[2:2] | 1 = 41", "ip[1] ^ 0xc0 = 0", "ip[2:2] << 1 > 100", "ip[2:2] >> 2 < 20",
	"ip[2:2] * 3 > 150", "-ip[8] > 4294967000", "ip[0] & 0xf != 5",
	"icmp[0] = 8", "icmp[icmptype] = icmp-echoreply", "udp port 53 or tcp[13] & 2 != 0",
	"ip[2:2] - 20 > ip[0] & 0xf", "ip[8] > ip[9]", "ip[8] >= ip[9]", "ip[9] = ip[8] + 1",
	"ip[9] & ip[8] != 0", "ip[6:2] & 0x1fff = 0 and ip[2:2] / ip[8] > 0",
	"ip[2:2] / (ip[9] - 1) > 0", "ip[2:2] % (ip[9] - 1) = 0",
	"igmp[8] = 4", "ip6 or vlan or mpls",
}

// TestInterpreterMatchesLibpcap runs each filter over every frame of the
// reference captures, whole and cut short, in Go and in libpcap.
func TestInterpreterMatchesLibpcap(t *testing.T) {
	var frames [][]byte
	for _, name := range referenceCaptures {
		f, err := OpenFile(refPath(name), "")
		if err != nil {
			t.Fatal(err)
		}
		for {
			data, _, err := f.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			frames = append(frames, append([]byte(nil), data...))
		}
		f.Close()
	}
	for _, expr := range interpreterFilters {
		prog, err := pcap.CompileBPFFilter(layers.LinkTypeEthernet, MaxFrameSize, expr)
		if err != nil {
			t.Fatalf("%q: %v", expr, err)
		}
		if !validBPF(prog) {
			t.Errorf("%q: the program is not accepted for the Go interpreter", expr)
			continue
		}
		lib, err := pcap.NewBPF(layers.LinkTypeEthernet, MaxFrameSize, expr)
		if err != nil {
			t.Fatal(err)
		}
		matched := 0
		for i, data := range frames {
			for _, cut := range []int{len(data), 40, 20, 14, 0} {
				if cut > len(data) {
					continue
				}
				ci := gopacket.CaptureInfo{CaptureLength: cut, Length: len(data)}
				got := runBPF(prog, data[:cut], uint32(len(data))) != 0
				if want := lib.Matches(ci, data[:cut]); got != want {
					t.Fatalf("%q, frame %d cut to %d bytes: Go says %v, libpcap %v", expr, i, cut, got, want)
				}
				if got {
					matched++
				}
			}
		}
		t.Logf("%-40q matched %d", expr, matched)
	}
}

func TestValidBPFRejects(t *testing.T) {
	ret := pcap.BPFInstruction{Code: bpfRET | bpfK, K: 1}
	for name, prog := range map[string][]pcap.BPFInstruction{
		"empty":                nil,
		"no return at end":     {{Code: bpfLD | bpfIMM, K: 1}},
		"jump past the end":    {{Code: bpfJMP | bpfJA, K: 1}, ret},
		"branch past end":      {{Code: bpfJMP | bpfJEQ | bpfK, Jt: 0, Jf: 2}, ret},
		"scratch out of range": {{Code: bpfST, K: 16}, ret},
		"divide by constant 0": {{Code: bpfALU | bpfDIV | bpfK, K: 0}, ret},
		"unknown opcode":       {{Code: 0xff}, ret},
		"opcode above a byte":  {{Code: 0x104}, ret},
	} {
		if validBPF(prog) {
			t.Errorf("%s: accepted", name)
		}
	}
	if !validBPF([]pcap.BPFInstruction{{Code: bpfALU | bpfDIV | bpfX}, ret}) {
		t.Error("division by X rejected; it is checked when it runs")
	}
}

// A pcap of raw IP (LINKTYPE_RAW, 101) is filtered as tcpdump filters it:
// libpcap compiles for DLT_RAW, which is not 101; so is a raw IP interface
// of a pcapng file.
func TestFilterRawIP(t *testing.T) {
	p := newPcap(layers.LinkTypeRaw).frame(1, benchVRRP[14:]).frame(2, benchICMP[14:]).frame(3, benchVRRP[14:])
	path := writeTemp(t, "raw.pcap", p.Bytes())
	for _, filter := range []string{"vrrp", "icmp", "host 192.168.33.100", "ip[8] = 1"} {
		sameFrames(t, filter, readPath(t, path, filter), tcpdumpNumbered(t, path, filter))
	}
	mixed := newNg(binary.LittleEndian).ifaceSnap(layers.LinkTypeEthernet, 0).ifaceSnap(layers.LinkTypeRaw, 0).
		epb(0, 1, benchVRRP).epb(1, 2, benchVRRP[14:]).epb(1, 3, benchICMP[14:]).Bytes()
	got := readPath(t, writeTemp(t, "mixed.pcapng", mixed), "vrrp")
	if len(got) != 2 || got[0].Number != 1 || got[1].Number != 2 {
		t.Errorf("vrrp on Ethernet and raw IP interfaces: %v, want frames 1 and 2", got)
	}
}
