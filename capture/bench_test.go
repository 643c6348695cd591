package capture

import (
	"bufio"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcap"
	"github.com/gopacket/gopacket/pcapgo"
	"golang.org/x/net/bpf"
)

// Frames of the kinds a VRRP capture holds, as bytes on the wire.
var (
	benchVRRP = mustHex("01005e0000126603 9a8ff06a080045c0 0028000040000170 0000c0a82165e000 0012 2133 6401 0001 0000 c0a82164 0000000000000000")
	benchARP  = mustHex("ffffffffffff4227 ce0710a308060001 080006040001 4227ce0710a3 c0a82164 000000000000 c0a82164")
	benchIGMP = mustHex("01005e0000166603 9a8ff06a080046c0 0028000040000102 21ecc0a82165e000 0016940400002200 f9eb000000010400 0000e0000012")
	benchICMP = mustHex("4227ce0710a36603 9a8ff06a08004500 0054123440004001 0000c0a82102c0a8 2164080000000001 0001" +
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637")
)

// writeBenchFile writes n frames (a mix of VRRP, ARP, IGMP and mostly ICMP)
// to a pcap file in dir.
func writeBenchFile(tb testing.TB, dir string, n int) string {
	tb.Helper()
	path := filepath.Join(dir, "bench.pcap")
	fh, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer fh.Close()
	bw := bufio.NewWriter(fh)
	w := pcapgo.NewWriter(bw)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		tb.Fatal(err)
	}
	kinds := [][]byte{benchICMP, benchICMP, benchVRRP, benchICMP, benchARP, benchICMP, benchICMP, benchIGMP}
	t0 := time.Unix(1795633310, 0)
	for i := 0; i < n; i++ {
		d := kinds[i%len(kinds)]
		ci := gopacket.CaptureInfo{Timestamp: t0.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(d), Length: len(d)}
		if err := w.WritePacket(ci, d); err != nil {
			tb.Fatal(err)
		}
	}
	if err := bw.Flush(); err != nil {
		tb.Fatal(err)
	}
	return path
}

const benchFrames = 200_000

// BenchmarkReadFile reads a 200k-frame pcap per iteration. The sub-benchmarks
// compare this package with the alternatives it was chosen over: gopacket's
// pure-Go pcapgo reader (with golang.org/x/net/bpf for the filter), and
// libpcap reading the file and filtering itself (one cgo call per frame).
//
// Measured on a shared 2-core machine with a 1M-frame copy of
// testdata/failover.pcap, CPU time (user+sys) of the whole process:
// tcpdump -r FILE -w /dev/null 'vrrp or igmp or arp' 90-100 ms for pcap and
// 105 ms for pcapng; reading the same file with this package and the same
// filter 55-60 ms for pcap and 90 ms for pcapng. The filter runs in Go at
// about 8 ns per frame; through libpcap's pcap_offline_filter it cost about
// 100 ns per frame.
func BenchmarkReadFile(b *testing.B) {
	path := writeBenchFile(b, b.TempDir(), benchFrames)
	const filter = "vrrp or igmp or arp"
	st, _ := os.Stat(path)

	run := func(b *testing.B, open func() (func() ([]byte, gopacket.CaptureInfo, error), func())) {
		b.SetBytes(st.Size())
		b.ReportAllocs()
		for b.Loop() {
			next, done := open()
			n := 0
			for {
				_, _, err := next()
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
			done()
			if n == 0 {
				b.Fatal("no frames")
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchFrames, "ns/frame")
	}
	openFile := func(filter string) func() (func() ([]byte, gopacket.CaptureInfo, error), func()) {
		return func() (func() ([]byte, gopacket.CaptureInfo, error), func()) {
			f, err := OpenFile(path, filter)
			if err != nil {
				b.Fatal(err)
			}
			return f.Next, func() { f.Close() }
		}
	}
	b.Run("File", func(b *testing.B) { run(b, openFile("")) })
	b.Run("File+filter", func(b *testing.B) { run(b, openFile(filter)) })
	// The same filter with a host: the program of the common filter, run
	// as byte comparisons (common.go).
	b.Run("File+common", func(b *testing.B) { run(b, openFile(filter+" or host 192.168.33.100")) })
	b.Run("pcapgo", func(b *testing.B) {
		run(b, func() (func() ([]byte, gopacket.CaptureInfo, error), func()) {
			fh, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			r, err := pcapgo.NewReader(bufio.NewReaderSize(fh, 1<<20))
			if err != nil {
				b.Fatal(err)
			}
			return r.ZeroCopyReadPacketData, func() { fh.Close() }
		})
	})
	b.Run("pcapgo+xnetbpf", func(b *testing.B) {
		insns, err := pcap.CompileBPFFilter(layers.LinkTypeEthernet, MaxFrameSize, filter)
		if err != nil {
			b.Fatal(err)
		}
		raw := make([]bpf.Instruction, len(insns))
		for i, in := range insns {
			raw[i] = bpf.RawInstruction{Op: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}.Disassemble()
		}
		vm, err := bpf.NewVM(raw)
		if err != nil {
			b.Fatal(err)
		}
		run(b, func() (func() ([]byte, gopacket.CaptureInfo, error), func()) {
			fh, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			r, err := pcapgo.NewReader(bufio.NewReaderSize(fh, 1<<20))
			if err != nil {
				b.Fatal(err)
			}
			next := func() ([]byte, gopacket.CaptureInfo, error) {
				for {
					data, ci, err := r.ZeroCopyReadPacketData()
					if err != nil {
						return nil, ci, err
					}
					if n, _ := vm.Run(data); n > 0 {
						return data, ci, nil
					}
				}
			}
			return next, func() { fh.Close() }
		})
	})
	b.Run("libpcap+filter", func(b *testing.B) {
		run(b, func() (func() ([]byte, gopacket.CaptureInfo, error), func()) {
			h, err := pcap.OpenOffline(path)
			if err != nil {
				b.Fatal(err)
			}
			if err := h.SetBPFFilter(filter); err != nil {
				b.Fatal(err)
			}
			return h.ZeroCopyReadPacketData, h.Close
		})
	})
}

func TestReadAllocatesNothingPerFrame(t *testing.T) {
	// Also a pcapng file whose frames alternate between interfaces of two
	// link types, each with its own filter program, and simple packet blocks.
	ng := newNg(binary.LittleEndian).ifaceSnap(layers.LinkTypeEthernet, 0).ifaceSnap(layers.LinkTypeLinuxSLL2, 0)
	for i := range uint64(50_000) {
		switch i % 3 {
		case 0:
			ng.epb(0, i, benchVRRP)
		case 1:
			ng.epb(1, i, sll2VRRP)
		case 2:
			ng.spb(benchARP)
		}
	}
	for _, path := range []string{writeBenchFile(t, t.TempDir(), 50_000), writeTemp(t, "mixed.pcapng", ng.Bytes())} {
		for _, filter := range []string{"", "vrrp or igmp or arp", "vrrp or arp or igmp or host 192.168.33.100"} {
			f, err := OpenFile(path, filter)
			if err != nil {
				t.Fatal(err)
			}
			allocs := testing.AllocsPerRun(10_000, func() {
				if _, _, err := f.Next(); err != nil {
					t.Fatal(err)
				}
			})
			f.Close()
			if allocs != 0 {
				t.Errorf("%s, filter %q: %v allocations per frame, want 0", filepath.Base(path), filter, allocs)
			}
		}
	}
}
