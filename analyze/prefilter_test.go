package analyze_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/vrrpctl/vrrpctl/analyze"
	"github.com/vrrpctl/vrrpctl/capture"
	"github.com/vrrpctl/vrrpctl/internal/pcapgen"
)

// canonical is the analysis as JSON, with the lists the engine builds from
// maps (the clients of a failover) sorted.
func canonical(t *testing.T, a *analyze.Analysis) string {
	t.Helper()
	for i := range a.Failovers {
		slices.SortFunc(a.Failovers[i].Clients, func(x, y analyze.ClientSwitch) int { return strings.Compare(x.MAC, y.MAC) })
	}
	b, err := json.MarshalIndent(a, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// samePrefiltered analyzes a capture with and without the prefilter and
// wants the same analysis.
func samePrefiltered(t *testing.T, name string, data []byte) {
	t.Helper()
	var got [2]string
	for i, run := range []func(analyze.PacketSource, analyze.Options) (*analyze.Analysis, error){analyze.Run, analyze.RunWithoutPrefilter} {
		src, err := capture.OpenReader(name, bytes.NewReader(data), "")
		if err != nil {
			t.Fatal(err)
		}
		a, err := run(src, analyze.Options{File: name})
		if err != nil {
			t.Fatal(err)
		}
		got[i] = canonical(t, a)
	}
	if got[0] != got[1] {
		a, b := strings.Split(got[0], "\n"), strings.Split(got[1], "\n")
		for i := range min(len(a), len(b)) {
			if a[i] != b[i] {
				t.Fatalf("%s: the prefilter changes the analysis at line %d: %q, decoding every frame: %q", name, i+1, a[i], b[i])
			}
		}
		t.Fatalf("%s: the prefilter changes the analysis (%d lines, decoding every frame %d)", name, len(a), len(b))
	}
}

// TestPrefilterChangesNothing: skipping the decoding of unicast IPv4 between
// hosts that are no VIP gives the analysis of decoding every frame, on every
// reference capture, every generated scenario and a capture full of traffic
// to, from and around the VIP.
func TestPrefilterChangesNothing(t *testing.T) {
	files, _ := filepath.Glob("../testdata/*.pcap")
	more, _ := filepath.Glob("../testdata/*/*.pcap")
	files = append(files, more...)
	if len(files) < 18 {
		t.Fatalf("only %d captures in testdata", len(files))
	}
	for _, path := range files {
		data := readFile(t, path)
		samePrefiltered(t, path, data)
	}
	for _, sc := range pcapgen.Scenarios() {
		data, _, err := sc.Generate()
		if err != nil {
			t.Fatal(err)
		}
		samePrefiltered(t, sc.Name, data)
	}
	samePrefiltered(t, "busy", busyCapture(t))
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	src, err := capture.OpenFile(path, "")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var buf bytes.Buffer
	w := pcapgo.NewWriterNanos(&buf)
	if err := w.WriteFileHeader(262144, src.LinkType()); err != nil {
		t.Fatal(err)
	}
	for {
		data, ci, err := src.Next()
		if err == io.EOF {
			return buf.Bytes()
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
}

// busyCapture is testdata/failover.pcap with, after each of its frames,
// frames of every kind the prefilter must tell apart: clients of the VIP
// (to either router's MAC, some stale after each failover), answers from
// the VIP, fragments and broken headers to it, tagged traffic, VRRP and
// IGMP from other hosts, and unicast that concerns no VIP.
func busyCapture(t *testing.T) []byte {
	t.Helper()
	src, err := capture.OpenFile("../testdata/failover.pcap", "")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var buf bytes.Buffer
	w := pcapgo.NewWriterNanos(&buf)
	if err := w.WriteFileHeader(262144, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	write := func(ts time.Time, d []byte) {
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(d), Length: len(d)}, d); err != nil {
			t.Fatal(err)
		}
	}
	nat1 := []byte{0x42, 0x27, 0xce, 0x07, 0x10, 0xa3}
	nat2 := []byte{0xba, 0x2e, 0x73, 0x81, 0x71, 0x78}
	vip := []byte{192, 168, 33, 100}
	for n := 0; ; n++ {
		data, ci, err := src.Next()
		if err == io.EOF {
			return buf.Bytes()
		}
		if err != nil {
			t.Fatal(err)
		}
		write(ci.Timestamp, data)
		for k := range 12 {
			ts := ci.Timestamp.Add(time.Duration(k+1) * 37 * time.Microsecond)
			client := []byte{0x02, 0, 0, 0, byte(n >> 8), byte(n + k)}
			cip := []byte{192, 168, 33, byte(150 + (n+k)%100)}
			router := nat1
			if (n+k)%3 == 0 {
				router = nat2
			}
			var d []byte
			switch k {
			case 0: // a client's SYN to the VIP
				d = ipv4Frame(router, client, cip, vip, 6, 0, tcp(0x02))
			case 1: // an ACK to the VIP
				d = ipv4Frame(router, client, cip, vip, 6, 0, tcp(0x10))
			case 2: // an answer from the VIP
				d = ipv4Frame(client, router, vip, cip, 6, 0, tcp(0x12))
			case 3: // an echo request and a fragment to the VIP
				d = ipv4Frame(router, client, cip, vip, 1, 0, []byte{8, 0, 0, 0, 0, 1, 0, byte(n)})
			case 4:
				d = ipv4Frame(router, client, cip, vip, 17, 0x2000, make([]byte, 16))
			case 5: // unicast between other hosts
				d = ipv4Frame(client, router, []byte{10, 1, 2, byte(n)}, []byte{10, 1, 3, byte(k)}, 17, 0, make([]byte, 20))
			case 6: // a broken header (IHL 4) to the VIP
				d = ipv4Frame(router, client, cip, vip, 6, 0, tcp(0x10))
				d[14] = 0x44
			case 7: // a tagged frame to the VIP
				d = ipv4Frame(router, client, cip, vip, 6, 0, tcp(0x10))
				d = slices.Concat(d[:12], []byte{0x81, 0x00, 0x00, 0x0a}, d[12:])
			case 8: // VRRP that does not decode, and IGMP, from other hosts
				d = ipv4Frame([]byte{1, 0, 0x5e, 0, 0, 0x12}, client, cip, []byte{224, 0, 0, 18}, 112, 0, []byte{0x21, 51})
			case 9:
				d = ipv4Frame([]byte{1, 0, 0x5e, 0, 0, 0x16}, client, cip, []byte{224, 0, 0, 22}, 2, 0, []byte{0x22, 0, 0, 0, 0, 0, 0, 0})
			case 10: // a frame too short for an IPv4 header
				d = ipv4Frame(router, client, cip, vip, 6, 0, nil)[:30]
			case 11: // from the VIP's address to another host
				d = ipv4Frame(client, router, vip, []byte{10, 9, 9, 9}, 17, 0, make([]byte, 8))
			}
			write(ts, d)
		}
	}
}

func tcp(flags byte) []byte {
	h := make([]byte, 20)
	binary.BigEndian.PutUint16(h[0:], 40000)
	binary.BigEndian.PutUint16(h[2:], 80)
	h[12], h[13] = 5<<4, flags
	return h
}

func ipv4Frame(dst, src, sip, dip []byte, proto byte, frag uint16, payload []byte) []byte {
	d := slices.Concat(dst, src, []byte{0x08, 0x00}, make([]byte, 20), payload)
	ip := d[14:34]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(20+len(payload)))
	binary.BigEndian.PutUint16(ip[6:], frag)
	ip[8], ip[9] = 64, proto
	copy(ip[12:], sip)
	copy(ip[16:], dip)
	for len(d) < 60 {
		d = append(d, 0)
	}
	return d
}

// TestPrefilteredFramesAllocateNothing: Run costs no allocation for a frame
// the prefilter skips.
func TestPrefilteredFramesAllocateNothing(t *testing.T) {
	busy := func(n int) []byte {
		var buf bytes.Buffer
		w := pcapgo.NewWriterNanos(&buf)
		w.WriteFileHeader(262144, layers.LinkTypeEthernet)
		t0 := time.Unix(1795633310, 0)
		for i := range n {
			d := ipv4Frame([]byte{2, 0, 0, 0, 0, 1}, []byte{2, 0, 0, 0, 0, 2}, []byte{10, 1, 0, 1}, []byte{10, 1, byte(i >> 8), byte(i)}, 6, 0, tcp(0x10))
			w.WritePacket(gopacket.CaptureInfo{Timestamp: t0.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(d), Length: len(d)}, d)
		}
		return buf.Bytes()
	}
	allocs := func(data []byte) float64 {
		return testing.AllocsPerRun(3, func() {
			src, err := capture.OpenReader("x", bytes.NewReader(data), "")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := analyze.Run(src, analyze.Options{}); err != nil {
				t.Fatal(err)
			}
		})
	}
	small, large := allocs(busy(10000)), allocs(busy(60000))
	if large-small > 10 {
		t.Errorf("50000 more skipped frames cost %.0f more allocations", large-small)
	}
}
