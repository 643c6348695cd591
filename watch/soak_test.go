package watch

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/vrrpctl/vrrpctl/capture"
)

// The soak: a day of churn compressed into minutes, through the live path
// (watch.Run with its reader goroutine, channel, engine and metrics), from a
// source that makes the frames as it goes and paces them. Two routers take
// turns as master every hour of capture time (a priority-0 advert, the
// other's adverts every second and its GARP), and clients come and go:
// each sends soakPerClient frames to the VIP, at the current master's MAC,
// and is never seen again, soakActive of them at a time, millions over the
// day. The watcher must keep up (the source measures how late it is asked
// for each frame: the lag) and its heap, sampled after a GC, must stay flat.

var (
	soakTime = flag.Duration("watch.soak-time", 2*time.Minute, "how long TestWatchSoak runs")
	soakRate = flag.Int("watch.soak-rate", 40000, "frames per second TestWatchSoak sends through the watcher")
	soakSpan = flag.Duration("watch.soak-span", 24*time.Hour, "capture time TestWatchSoak compresses into -watch.soak-time")
)

const (
	soakPerClient = 2    // frames each client sends
	soakActive    = 5000 // clients sending at a time
	// Flat: the heap after the warm-up quarter may grow by this much at most.
	soakHeapSlack = 16 << 20
	soakHeapLimit = 512 << 20 // stop at once above this
	soakMaxLag    = time.Second
)

var (
	soakVIP     = [4]byte{192, 168, 33, 100}
	soakPrio    = [2]byte{100, 90}
	soakRouters = [2]struct {
		ip  [4]byte
		mac [6]byte
	}{
		{[4]byte{192, 168, 33, 101}, [6]byte{0x02, 0x33, 0, 0, 0, 0x65}},
		{[4]byte{192, 168, 33, 102}, [6]byte{0x02, 0x33, 0, 0, 0, 0x66}},
	}
)

// churnSource is a watch.Source that makes the soak's frames.
type churnSource struct {
	start  time.Time     // when frame 0 is due (wall clock)
	t0     time.Time     // capture time of frame 0
	every  time.Duration // wall time between frames
	step   time.Duration // capture time between frames
	frames uint64        // frames to send, then io.EOF

	i        uint64 // next frame
	master   int
	nextAdv  time.Time
	nextSwap time.Time
	takeover time.Time
	resigned bool
	garpDue  bool
	client   uint64 // frames sent to the VIP so far
	buf      [64]byte

	sent   atomic.Uint64 // frames sent, for the test goroutine
	lag    atomic.Int64  // how late the frame last asked for was, ns
	closed atomic.Bool
}

func newChurnSource(rate int, dur, span time.Duration) *churnSource {
	n := uint64(rate) * uint64(dur/time.Second)
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	return &churnSource{
		start: time.Now(), t0: t0,
		every: time.Second / time.Duration(rate), step: span / time.Duration(n), frames: n,
		nextAdv: t0, nextSwap: t0.Add(time.Hour), garpDue: false,
	}
}

func (s *churnSource) LinkType() layers.LinkType      { return layers.LinkTypeEthernet }
func (s *churnSource) SetFilter(string) error         { return nil }
func (s *churnSource) Stats() (uint64, uint64, error) { return s.i, 0, nil }
func (s *churnSource) Close() error                   { s.closed.Store(true); return nil }

func (s *churnSource) Next() ([]byte, gopacket.CaptureInfo, error) {
	if s.closed.Load() || s.i >= s.frames {
		return nil, gopacket.CaptureInfo{}, io.EOF
	}
	due := s.start.Add(time.Duration(s.i) * s.every)
	if d := time.Until(due); d > time.Millisecond {
		time.Sleep(d)
	}
	s.lag.Store(int64(max(0, time.Since(due))))
	ts := s.t0.Add(time.Duration(s.i) * s.step)
	s.i++
	var d []byte
	switch {
	case !s.resigned && !ts.Before(s.nextSwap):
		// The master resigns; the other takes over 600 ms later.
		d = s.advert(s.master, 0)
		s.resigned, s.takeover = true, ts.Add(600*time.Millisecond)
	case s.resigned && !ts.Before(s.takeover):
		s.master, s.resigned, s.garpDue = 1-s.master, false, true
		s.nextSwap = s.nextSwap.Add(time.Hour)
		d = s.advert(s.master, soakPrio[s.master])
		s.nextAdv = ts.Add(time.Second)
	case s.garpDue:
		d = s.garp(s.master)
		s.garpDue = false
	case !s.resigned && !ts.Before(s.nextAdv):
		d = s.advert(s.master, soakPrio[s.master])
		s.nextAdv = s.nextAdv.Add(time.Second)
	default:
		d = s.toVIP()
	}
	s.sent.Store(s.i)
	return d, gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(d), Length: len(d)}, nil
}

// toVIP is a SYN from the current client to the VIP, at the master's MAC.
func (s *churnSource) toVIP() []byte {
	gen, k := s.client/(soakActive*soakPerClient), s.client%soakActive
	id := gen*soakActive + k // distinct per client; each sends soakPerClient frames
	s.client++
	b := s.buf[:60]
	clear(b)
	copy(b[0:6], soakRouters[s.master].mac[:])
	b[6], b[7] = 0x06, 0xcc
	binary.BigEndian.PutUint32(b[8:], uint32(id))
	b[12], b[13] = 0x08, 0x00
	ip := b[14:34]
	ip[0], ip[8], ip[9] = 0x45, 64, 6
	binary.BigEndian.PutUint16(ip[2:], 40)
	binary.BigEndian.PutUint32(ip[12:], 10<<24|uint32(id)&(1<<24-1))
	copy(ip[16:], soakVIP[:])
	binary.BigEndian.PutUint16(ip[10:], checksum(ip))
	tcp := b[34:54]
	binary.BigEndian.PutUint16(tcp[0:], 40000)
	binary.BigEndian.PutUint16(tcp[2:], 443)
	tcp[12], tcp[13] = 5<<4, 0x02
	return b
}

// advert is a VRRPv2 advert of VRID 51 for the VIP from router r.
func (s *churnSource) advert(r int, prio byte) []byte {
	b := s.buf[:60]
	clear(b)
	copy(b[0:6], []byte{0x01, 0x00, 0x5e, 0x00, 0x00, 0x12})
	copy(b[6:12], soakRouters[r].mac[:])
	b[12], b[13] = 0x08, 0x00
	ip := b[14:34]
	ip[0], ip[1], ip[8], ip[9] = 0x45, 0xc0, 255, 112
	binary.BigEndian.PutUint16(ip[2:], 40)
	copy(ip[12:], soakRouters[r].ip[:])
	copy(ip[16:], []byte{224, 0, 0, 18})
	binary.BigEndian.PutUint16(ip[10:], checksum(ip))
	v := b[34:54]
	v[0], v[1], v[2], v[3], v[5] = 0x21, 51, prio, 1, 1
	copy(v[8:12], soakVIP[:])
	binary.BigEndian.PutUint16(v[6:], checksum(v))
	return b
}

// garp announces the VIP at router r's MAC.
func (s *churnSource) garp(r int) []byte {
	b := s.buf[:60]
	clear(b)
	copy(b[0:6], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	copy(b[6:12], soakRouters[r].mac[:])
	b[12], b[13] = 0x08, 0x06
	a := b[14:42]
	copy(a, []byte{0, 1, 8, 0, 6, 4, 0, 1})
	copy(a[8:14], soakRouters[r].mac[:])
	copy(a[14:18], soakVIP[:])
	copy(a[18:24], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	copy(a[24:28], soakVIP[:])
	return b
}

func checksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}

type soakSample struct {
	at   time.Duration
	heap uint64
	lag  time.Duration
}

// TestWatchSoak runs the churn through watch.Run and wants a flat heap and
// no growing lag. It needs the engine's bounded tables: without them every
// client stays in memory.
func TestWatchSoak(t *testing.T) {
	src := newChurnSource(*soakRate, *soakTime, *soakSpan)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var res *Result
	var runErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		res, runErr = Run(ctx, Config{
			Interface: "soak", JSON: true, MetricsAddr: "127.0.0.1:0",
			Out: io.Discard, Err: io.Discard,
			Open: func(string, capture.LiveOptions) (Source, error) { return src, nil },
		})
	}()
	var samples []soakSample
	every := max(*soakTime/24, time.Second)
	start := time.Now()
	failed := ""
	for done := false; !done; {
		select {
		case <-time.After(every):
		case <-ctx.Done():
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		s := soakSample{at: time.Since(start), heap: ms.HeapAlloc, lag: time.Duration(src.lag.Load())}
		samples = append(samples, s)
		sent := src.sent.Load()
		t.Logf("+%5.1fs  frames %9d  clients about %9d  heap %6.1f MiB  lag %v", s.at.Seconds(), sent, sent/soakPerClient, float64(s.heap)/(1<<20), s.lag.Round(time.Millisecond))
		switch {
		case s.heap > soakHeapLimit:
			failed = fmt.Sprintf("the heap reached %.0f MiB", float64(s.heap)/(1<<20))
			cancel()
			done = true
		case s.lag > 10*soakMaxLag:
			failed = fmt.Sprintf("the watcher fell %v behind", s.lag)
			cancel()
			done = true
		case sent >= src.frames:
			done = true
		}
	}
	wg.Wait()
	if failed != "" {
		t.Fatalf("%s after %.0f s of %v (%d frames)", failed, time.Since(start).Seconds(), *soakTime, src.sent.Load())
	}
	if runErr != nil {
		t.Fatal(runErr)
	}
	if got := uint64(res.Analysis.Source.Frames); got != src.frames {
		t.Errorf("the watcher analyzed %d of %d frames", got, src.frames)
	}
	if n := len(res.Analysis.Failovers); n < 20 {
		t.Errorf("%d failovers in a day of hourly ones", n)
	}
	// Flat: after the first quarter (warm-up: the tables fill to their
	// limits), the heap grows by soakHeapSlack at most; the lag stays
	// under soakMaxLag.
	q := len(samples) / 4
	var warm uint64
	for _, s := range samples[:q+1] {
		warm = max(warm, s.heap)
	}
	for _, s := range samples[q+1:] {
		if s.heap > warm+soakHeapSlack {
			t.Errorf("+%.0fs: heap %.1f MiB, above the %.1f MiB of the first quarter + %d MiB", s.at.Seconds(), float64(s.heap)/(1<<20), float64(warm)/(1<<20), soakHeapSlack>>20)
		}
		if s.lag > soakMaxLag {
			t.Errorf("+%.0fs: the watcher was %v behind", s.at.Seconds(), s.lag)
		}
	}
}
