package capture

import (
	"encoding/binary"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcap"
)

func TestCommonFilterRecognised(t *testing.T) {
	for _, c := range []struct {
		expr string
		lt   layers.LinkType
		want bool
	}{
		{"vrrp or arp or igmp or host 192.168.33.100", layers.LinkTypeEthernet, true},
		{"vrrp or igmp or arp or host 10.0.0.1", layers.LinkTypeEthernet, true},
		// The same frames but for short ones: libpcap loads the addresses
		// first, so a VRRP frame cut before them does not match.
		{"host 10.0.0.1 or igmp or arp or vrrp", layers.LinkTypeEthernet, false},
		{"vrrp or arp or igmp", layers.LinkTypeEthernet, false},
		{"vrrp or arp or igmp or host 192.168.33.100 or host 192.168.33.200", layers.LinkTypeEthernet, false},
		{"vrrp or arp or igmp or src host 192.168.33.100", layers.LinkTypeEthernet, false},
		{"vrrp or arp or igmp or host 192.168.33.100", layers.LinkTypeLinuxSLL2, false},
	} {
		f, err := compileFilter(c.lt, c.expr)
		if err != nil {
			t.Fatalf("%q: %v", c.expr, err)
		}
		if got := f.common != nil; got != c.want {
			t.Errorf("%q on %v: recognised %v, want %v", c.expr, c.lt, got, c.want)
		}
	}
}

// TestCommonFilterMatchesLibpcap holds the byte comparisons to the BPF
// program, run by libpcap and by the interpreter, on every frame of the
// reference captures cut at every length, and on frames made to hit each
// branch: every EtherType the program tests, protocols, the VIP at each
// address it loads, every length.
func TestCommonFilterMatchesLibpcap(t *testing.T) {
	const vip = "192.168.33.100"
	expr := "vrrp or arp or igmp or host " + vip
	f, err := compileFilter(layers.LinkTypeEthernet, expr)
	if err != nil || f.common == nil {
		t.Fatalf("%q not recognised: %v", expr, err)
	}
	lib, err := pcap.NewBPF(layers.LinkTypeEthernet, MaxFrameSize, expr)
	if err != nil {
		t.Fatal(err)
	}
	checked, matched := 0, 0
	check := func(p []byte) {
		ci := gopacket.CaptureInfo{CaptureLength: len(p), Length: len(p)}
		got := f.common.run(p)
		if want := runBPF(f.prog, p, uint32(len(p))); got != want {
			t.Fatalf("% x: %d, the program returns %d", p, got, want)
		}
		if want := lib.Matches(ci, p); (got != 0) != want {
			t.Fatalf("% x: %v, libpcap %v", p, got != 0, want)
		}
		checked++
		if got != 0 {
			matched++
		}
	}
	for _, name := range referenceCaptures {
		r, err := OpenFile(refPath(name), "")
		if err != nil {
			t.Fatal(err)
		}
		for {
			data, _, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			for n := 0; n <= len(data); n++ {
				check(data[:n])
			}
		}
		r.Close()
	}
	ip := []byte{192, 168, 33, 100}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, etype := range []uint16{0x0800, 0x0806, 0x8035, 0x86dd, 0x8100, 0x0801} {
		for _, proto := range []byte{112, 2, 6, 17, 113} {
			for _, at := range []int{-1, 26, 30, 28, 38} {
				p := make([]byte, 64)
				for i := range p {
					p[i] = byte(rng.Uint32())
				}
				binary.BigEndian.PutUint16(p[12:], etype)
				p[23] = proto
				if at >= 0 {
					copy(p[at:], ip)
				}
				for n := 0; n <= len(p); n++ {
					check(p[:n])
				}
			}
		}
	}
	if matched == 0 || matched == checked {
		t.Errorf("%d of %d frames matched", matched, checked)
	}
}

// BenchmarkCommonFilter: the common filter's program through the
// interpreter and as byte comparisons, over the frames of a VRRP capture.
func BenchmarkCommonFilter(b *testing.B) {
	f, err := compileFilter(layers.LinkTypeEthernet, "vrrp or arp or igmp or host 192.168.33.101")
	if err != nil || f.common == nil {
		b.Fatal("not recognised", err)
	}
	frames := [][]byte{benchICMP, benchICMP, benchVRRP, benchICMP, benchARP, benchICMP, benchICMP, benchIGMP}
	b.Run("interpreter", func(b *testing.B) {
		n := 0
		for i := 0; b.Loop(); i++ {
			if runBPF(f.prog, frames[i&7], 100) != 0 {
				n++
			}
		}
	})
	b.Run("bytes", func(b *testing.B) {
		n := 0
		for i := 0; b.Loop(); i++ {
			if f.common.run(frames[i&7]) != 0 {
				n++
			}
		}
	})
}

// FuzzCommonFilter holds the byte comparisons to the program they stand
// for, on any bytes.
func FuzzCommonFilter(f *testing.F) {
	f.Add(benchVRRP)
	f.Add(benchARP)
	f.Add(benchIGMP)
	f.Add(benchICMP)
	f.Add([]byte{})
	cf, err := compileFilter(layers.LinkTypeEthernet, "vrrp or arp or igmp or host 192.168.33.100")
	if err != nil || cf.common == nil {
		f.Fatal("not recognised", err)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		if got, want := cf.common.run(p), runBPF(cf.prog, p, uint32(len(p))); got != want {
			t.Fatalf("% x: %d, the program returns %d", p, got, want)
		}
	})
}
