package merge

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/vrrpctl/vrrpctl/capture"
)

// segment is a long synthetic incident seen from one host: what everybody
// on the segment sees (a router's adverts every second with their IP
// identification counting up, a GARP every 30 s, an IGMP report every
// 125 s), its own unicast background, and its clock.
type segment struct {
	frames   int           // in all
	span     time.Duration // from the first advert to the last frame
	seed     uint64        // of its background
	offset   time.Duration // its clock, at the first frame
	driftPPM float64
}

var longStart = time.Date(2026, 11, 30, 22, 0, 0, 0, time.UTC).UnixNano()

// writeSegment writes the capture and returns its path, how many frames
// it has and how many of them every host sees.
func writeSegment(t testing.TB, dir, name string, sg segment) (string, int, int) {
	t.Helper()
	path := filepath.Join(dir, name)
	fh, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	w, err := capture.NewWriter(bufio.NewWriterSize(fh, 1<<20), layers.LinkTypeEthernet, 0)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(sg.seed, 2))
	shared := int(sg.span / time.Second)
	background := sg.frames - shared - shared/30 - shared/125
	clock := func(at int64) int64 {
		return at + int64(sg.offset) + int64(sg.driftPPM*1e-6*float64(at-longStart))
	}
	buf := make([]byte, 0, 128)
	frames, common := 0, 0
	write := func(t0 int64, data []byte) {
		frames++
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(0, clock(t0)), CaptureLength: len(data), Length: len(data)}
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
	slot := int64(sg.span) / int64(background)
	next := 0 // next shared second
	for i := range background {
		now := longStart + int64(i)*slot + rng.Int64N(slot)
		for next < shared && longStart+int64(next)*int64(time.Second) <= now {
			at := longStart + int64(next)*int64(time.Second)
			write(at, advertFrame(buf, uint16(next)))
			common++
			if next%30 == 0 {
				write(at+200_000, garpFrame(buf))
				common++
			}
			if next%125 == 0 {
				write(at+300_000, igmpFrame(buf))
				common++
			}
			next++
		}
		write(now, udpFrame(buf, rng))
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return path, frames, common
}

func ethIPv4(b []byte, dst []byte, proto byte, id uint16, src, to [4]byte, payload int) []byte {
	b = append(b[:0], dst...)
	b = append(b, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00)
	b = append(b, 0x45, 0, 0, 0, 0, 0, 0x40, 0, 255, proto, 0, 0)
	binary.BigEndian.PutUint16(b[16:], uint16(20+payload))
	binary.BigEndian.PutUint16(b[18:], id)
	b = append(b, src[:]...)
	return append(b, to[:]...)
}

func advertFrame(b []byte, id uint16) []byte {
	b = ethIPv4(b, []byte{1, 0, 0x5e, 0, 0, 0x12}, protoVRRP, id, [4]byte{192, 168, 50, 1}, [4]byte{224, 0, 0, 18}, 20)
	return append(b, 0x21, 51, 100, 1, 0, 1, 0, 0, 192, 168, 50, 100, 0, 0, 0, 0, 0, 0, 0, 0)
}

func garpFrame(b []byte) []byte {
	b = append(b[:0], 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x08, 0x06)
	b = append(b, 0, 1, 8, 0, 6, 4, 0, 1, 0x02, 0, 0, 0, 0, 1, 192, 168, 50, 100, 0, 0, 0, 0, 0, 0, 192, 168, 50, 100)
	return b
}

func igmpFrame(b []byte) []byte {
	b = ethIPv4(b, []byte{1, 0, 0x5e, 0, 0, 0x16}, protoIGMP, 0, [4]byte{192, 168, 50, 1}, [4]byte{224, 0, 0, 22}, 16)
	return append(b, 0x22, 0, 0, 0, 0, 0, 0, 1, 4, 0, 0, 0, 224, 0, 0, 18)
}

func udpFrame(b []byte, rng *rand.Rand) []byte {
	src := [4]byte{10, 9, byte(rng.IntN(256)), byte(rng.IntN(256))}
	dst := [4]byte{10, 8, byte(rng.IntN(256)), byte(rng.IntN(256))}
	b = ethIPv4(b, []byte{0x02, 0, 0, 0, 0, 2}, 17, uint16(rng.Uint32()), src, dst, 8+16)
	b = binary.BigEndian.AppendUint32(b, rng.Uint32())
	b = binary.BigEndian.AppendUint32(b, 24<<16)
	for range 2 {
		b = binary.BigEndian.AppendUint64(b, rng.Uint64())
	}
	return b
}

// peakHeap runs f while sampling the heap in use every few milliseconds.
func peakHeap(f func()) uint64 {
	var peak uint64
	var mu sync.Mutex
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			mu.Lock()
			peak = max(peak, ms.HeapInuse)
			mu.Unlock()
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	f()
	close(stop)
	<-done
	return peak
}

// Three long captures of one segment (3 hours; one clock 2 h ahead and
// drifting 40 ppm, one 17 min behind) are aligned within 1 ms over their
// whole span, the drift found, and merged with the heap flat: four times
// the frames take no more memory, neither at its peak (garbage included:
// the first pass's samples are bounded) nor what the merge keeps live.
func TestLongCapturesMemoryFlat(t *testing.T) {
	dir := t.TempDir()
	// Little garbage, so that the heap in use is mostly what is kept.
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	var peaks, live [2]uint64
	for i, n := range []int{200_000, 800_000} {
		sgs := []segment{
			{frames: n, span: 3 * time.Hour, seed: 1},
			{frames: n, span: 3 * time.Hour, seed: 2, offset: 2 * time.Hour, driftPPM: 40},
			{frames: n, span: 3 * time.Hour, seed: 3, offset: -17 * time.Minute},
		}
		var in []Input
		total, common := 0, 0
		for j, sg := range sgs {
			path, frames, c := writeSegment(t, dir, string(rune('a'+j))+".pcap", sg)
			in = append(in, Input{Path: path})
			total, common = total+frames, c
		}
		runtime.GC()
		var merged, shared int
		var m *Merged
		peaks[i] = peakHeap(func() {
			var err error
			if m, err = Open(in, Options{}); err != nil {
				t.Fatal(err)
			}
			var ms runtime.MemStats
			for {
				_, _, seen, err := m.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if merged++; merged%100_000 == 0 {
					runtime.GC()
					runtime.ReadMemStats(&ms)
					live[i] = max(live[i], ms.HeapAlloc)
				}
				if len(seen) == 3 {
					shared++
				}
			}
		})
		for j, v := range m.Vantages() {
			e := clockError(t, v, in[j].Path, truth{sgs[j].offset, sgs[j].driftPPM})
			t.Logf("%d frames: %s offset %.3f ms drift %.3f ppm error %v residual %.3f ms over %d frames", n, v.Name, v.OffsetMS, v.DriftPPM, e, v.ErrorMS, v.Matched)
			if !v.Aligned || e > time.Millisecond {
				t.Errorf("%s: %+v is %v off the truth", v.Name, v, e)
			}
		}
		m.Close()
		if merged != total-2*common || shared != common {
			t.Errorf("%d frames a capture: %d merged, %d seen three times; want %d and %d", n, merged, shared, total-2*common, common)
		}
		t.Logf("%d frames a capture: peak heap in use %.1f MiB, live while merging %.1f MiB", n, float64(peaks[i])/(1<<20), float64(live[i])/(1<<20))
		for _, p := range in {
			os.Remove(p.Path)
		}
	}
	if peaks[1] > peaks[0]+8<<20 || peaks[1] > 48<<20 || live[1] > live[0]+1<<20 {
		t.Errorf("peak heap %.1f MiB and live %.1f MiB for 4x the frames, %.1f and %.1f MiB before: not flat",
			float64(peaks[1])/(1<<20), float64(live[1])/(1<<20), float64(peaks[0])/(1<<20), float64(live[0])/(1<<20))
	}
}
