package watch

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/vrrpctl/vrrpctl/capture"
	"github.com/vrrpctl/vrrpctl/lab"
	"golang.org/x/sys/unix"
)

// Load: watch on an interface that also carries a lot of unrelated unicast.
// A traffic namespace on the lab's bridge sends UDP to a host that is not on
// the bridge (its MAC unknown to the bridge, so the frames are flooded, as
// unknown unicast is): the watched client's interface receives them all,
// the routers' ports do not (flooding of unknown unicast is off there, so
// the routers' CPU stays out of the figures). The default capture filter
// runs in the kernel and must drop these frames before they cost the
// watcher anything, while every VRRP advert still gets through.

var (
	loadRate    = flag.Int("watch.load-rate", 100000, "frames per second of background unicast in BenchmarkWatchUnderLoad")
	loadTime    = flag.Duration("watch.load-time", 10*time.Second, "how long BenchmarkWatchUnderLoad sends the background unicast")
	loadSize    = flag.Int("watch.load-size", 128, "frame length of the background unicast (bytes, without FCS)")
	loadBuffer  = flag.Int("watch.load-buffer", 0, "capture buffer in bytes for BenchmarkWatchUnderLoad (0: libpcap's default)")
	loadSnaplen = flag.Int("watch.load-snaplen", 0, "snaplen for BenchmarkWatchUnderLoad (0: watch's default)")
	loadAdverts = flag.String("watch.load-advert-int", "0.1", "keepalived advert_int in BenchmarkWatchUnderLoad (VRRPv3 below 1 s)")
)

// The host the background unicast is addressed to: on the segment, but not
// on this bridge (gone, or behind a switch that aged its MAC out).
var (
	loadSinkMAC = "02:00:00:33:00:50"
	loadSinkIP  = netip.MustParseAddr("192.168.33.50")
	loadSrcIP   = netip.MustParseAddr("192.168.33.60")
	loadVIP     = netip.MustParseAddr("192.168.33.100")
)

// addLoadHost adds the traffic namespace, and turns off the flooding of
// unknown unicast towards the hosts named in quiet.
func (l *testLab) addLoadHost(quiet ...string) {
	l.t.Helper()
	l.addHost("tg", loadSrcIP.String()+"/24")
	for _, h := range quiet {
		if err := l.lab.SetPortFlood(h, false); err != nil {
			l.t.Fatal(err)
		}
	}
}

// linkCounter reads a counter of eth1 in a lab host (/sys/class/net/eth1/statistics/NAME).
func (l *testLab) linkCounter(host, name string) uint64 {
	l.t.Helper()
	n, err := l.lab.LinkCounter(host, name)
	if err != nil {
		l.t.Fatalf("%s: eth1 %s: %v", host, name, err)
	}
	return n
}

// loadResult is what the generator reports.
type loadResult struct {
	sent    uint64
	elapsed time.Duration
	cpu     time.Duration
}

// sendLoad runs the generator in the traffic namespace and waits for it.
func (l *testLab) sendLoad(dstMAC string, dst netip.Addr, rate int, dur time.Duration, size int) loadResult {
	l.t.Helper()
	argv, err := loadgenCommand(dstMAC, loadSrcIP, dst, rate, dur, size)
	if err != nil {
		l.t.Fatal(err)
	}
	out, err := l.lab.Run("tg", argv...)
	if err != nil {
		l.t.Fatalf("load generator: %v: %s", err, out)
	}
	var r loadResult
	var el, cpu int64
	i := strings.Index(out, "loadgen sent ")
	if i < 0 {
		l.t.Fatalf("load generator said: %q", out)
	}
	if _, err := fmt.Sscanf(out[i:], "loadgen sent %d elapsed_ns %d cpu_ns %d", &r.sent, &el, &cpu); err != nil {
		l.t.Fatalf("load generator said %q: %v", out, err)
	}
	r.elapsed, r.cpu = time.Duration(el), time.Duration(cpu)
	return r
}

// countingSource passes a live capture through, and keeps each VRRP (IPv4)
// frame it returns: its capture time and its advertKey.
type countingSource struct {
	Source
	mu     sync.Mutex
	frames uint64
	vrrp   []advertSeen
}

type advertSeen struct {
	at  time.Time
	key uint64
}

// advertKey names an advert by its source address and IP identification
// (keepalived numbers its adverts there): the same advert has the same key
// on the router that sent it and on the watcher.
func advertKey(f []byte) (uint64, bool) {
	if len(f) < 34 || f[12] != 0x08 || f[13] != 0x00 || f[23] != 112 {
		return 0, false
	}
	return uint64(binary.BigEndian.Uint32(f[26:30]))<<16 | uint64(binary.BigEndian.Uint16(f[18:20])), true
}

func (c *countingSource) Next() ([]byte, gopacket.CaptureInfo, error) {
	data, ci, err := c.Source.Next()
	if err == nil {
		c.mu.Lock()
		c.frames++
		if k, ok := advertKey(data); ok {
			c.vrrp = append(c.vrrp, advertSeen{ci.Timestamp, k})
		}
		c.mu.Unlock()
	}
	return data, ci, err
}

// snapshot returns the frames read so far and the adverts among them.
func (c *countingSource) snapshot() (frames uint64, adverts []advertSeen) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.frames, append([]advertSeen(nil), c.vrrp...)
}

// missing counts the adverts of sent captured between from and to that are
// not in seen (whenever seen). Two adverts sent with the same key in the
// window would make the count meaningless: that is an error.
func missing(sent, seen []advertSeen, from, to time.Time) (inWindow, missed int, err error) {
	have := map[uint64]bool{}
	for _, a := range seen {
		have[a.key] = true
	}
	keys := map[uint64]bool{}
	for _, a := range sent {
		if a.at.Before(from) || a.at.After(to) {
			continue
		}
		if keys[a.key] {
			return 0, 0, fmt.Errorf("two adverts sent with the same source and IP identification (%#x): adverts cannot be matched", a.key)
		}
		keys[a.key] = true
		inWindow++
		if !have[a.key] {
			missed++
		}
	}
	return inWindow, missed, nil
}

// liveWatch is watch.Run going on in the background.
type liveWatch struct {
	src    *countingSource
	cancel context.CancelFunc
	done   chan runOutcome
}

type runOutcome struct {
	res *Result
	err error
}

// startWatch runs watch on eth1 of the client's namespace, with the default
// filter and a capture buffer of buffer bytes (0: libpcap's default), and
// returns once the capture is open.
func startWatch(tb testing.TB, ns string, buffer int) *liveWatch {
	tb.Helper()
	opened := make(chan *countingSource, 1)
	open := func(iface string, opt capture.LiveOptions) (Source, error) {
		opt.BufferSize = buffer
		if *loadSnaplen > 0 {
			opt.Snaplen = *loadSnaplen
		}
		s, err := openLive(iface, opt)
		if err != nil {
			return nil, err
		}
		c := &countingSource{Source: s}
		opened <- c
		return c, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &liveWatch{cancel: cancel, done: make(chan runOutcome, 1)}
	go func() {
		res, err := Run(ctx, Config{Interface: "eth1", Netns: ns, JSON: true, Open: open, Out: io.Discard, Err: io.Discard})
		w.done <- runOutcome{res, err}
	}()
	select {
	case w.src = <-opened:
	case r := <-w.done:
		cancel()
		tb.Fatalf("watch did not start: %v", r.err)
	case <-time.After(10 * time.Second):
		cancel()
		tb.Fatal("watch did not open the capture within 10 s")
	}
	tb.Cleanup(func() { w.stop(tb) })
	return w
}

// stop ends the run and returns its result (once; later calls return nil).
func (w *liveWatch) stop(tb testing.TB) *Result {
	tb.Helper()
	if w.done == nil {
		return nil
	}
	w.cancel()
	var r runOutcome
	select {
	case r = <-w.done:
	case <-time.After(10 * time.Second):
		tb.Fatal("watch did not stop within 10 s of its context being cancelled")
	}
	w.done = nil
	if r.err != nil {
		tb.Fatalf("watch: %v", r.err)
	}
	return r.res
}

func libpcapCounters(tb testing.TB, res *Result) (received, dropped uint64) {
	tb.Helper()
	s := res.Analysis.Source
	if s.Received == nil || s.Dropped == nil {
		tb.Fatalf("summary without libpcap counters")
	}
	return *s.Received, *s.Dropped
}

func cpuTime() time.Duration {
	var ru unix.Rusage
	unix.Getrusage(unix.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestDefaultFilterInKernel: a burst of unrelated unicast reaches the
// watched interface (a capture without a filter sees all of it), yet the
// watcher's libpcap counter of frames received does not count it: the
// default filter runs in the kernel, which drops these frames before they
// are queued to the watcher.
func TestDefaultFilterInKernel(t *testing.T) {
	l := newTestLab(t)
	cl := l.addHost("cl", "192.168.33.2/24")
	l.addLoadHost()

	w := startWatch(t, cl, 0)
	all, err := capture.OpenLive("eth1", capture.LiveOptions{Netns: cl})
	if err != nil {
		t.Fatal(err)
	}
	defer all.Close()

	const burst = 20000
	rx0 := l.linkCounter("cl", "rx_packets")
	g := l.sendLoad(loadSinkMAC, loadSinkIP, 50000, burst*time.Second/50000, 128)
	time.Sleep(200 * time.Millisecond)
	rx := l.linkCounter("cl", "rx_packets") - rx0
	allRecv, _, err := all.Stats()
	if err != nil {
		t.Fatal(err)
	}
	recv, drop := libpcapCounters(t, w.stop(t))
	t.Logf("sent %d; eth1 received %d; unfiltered capture received %d; watcher's capture received %d, dropped %d", g.sent, rx, allRecv, recv, drop)
	if g.sent < burst/2 || rx < g.sent || allRecv < g.sent {
		t.Fatalf("the burst did not reach the interface: sent %d, eth1 received %d, unfiltered capture %d", g.sent, rx, allRecv)
	}
	// Nothing else speaks on this segment but the odd IGMP/ARP frame.
	if recv > 20 {
		t.Errorf("the watcher's capture received %d frames during a burst of %d unrelated ones: the filter does not drop them in the kernel", recv, g.sent)
	}
}

// BenchmarkWatchUnderLoad runs watch on a segment with two keepalived
// routers (VRID 51, VRRPv3 adverts every 0.1 s) while a third namespace
// sends background unicast at -watch.load-rate frames per second for
// -watch.load-time, and reports:
//
//	fps            frames per second the watched interface received (nearly all background)
//	gen-fps        frames per second the generator sent
//	pcap-recv      frames libpcap passed the filter (the kernel's count)
//	pcap-drops     frames the kernel dropped for lack of capture buffer
//	adverts-sent   adverts the routers sent during the load (counted on the routers)
//	adverts-missed adverts sent during the load that the watcher did not read
//	cpu-cores      the watcher's CPU time (this process; the generator is
//	               another) over the wall time of the load
//
// "unrelated" sends to a host that is not a VIP, which the kernel filter
// drops; "to-vip" sends the same load to the VIP, which the filter passes to
// user space. Both must meet the same bar (no drops, no advert missed, under
// one core): watch's default snaplen keeps libpcap's ring from overflowing.
//
//	go test -run '^$' -bench WatchUnderLoad ./watch
func BenchmarkWatchUnderLoad(b *testing.B) {
	b.Run("unrelated", func(b *testing.B) { benchWatchUnderLoad(b, loadSinkIP) })
	b.Run("to-vip", func(b *testing.B) { benchWatchUnderLoad(b, loadVIP) })
}

func benchWatchUnderLoad(b *testing.B, dst netip.Addr) {
	l := newTestLab(b)
	l.advertInt, l.vrrpVersion = *loadAdverts, 3
	l.addHost("r1", "192.168.33.101/24")
	l.addHost("r2", "192.168.33.102/24")
	cl := l.addHost("cl", "192.168.33.2/24")
	l.addLoadHost("r1", "r2")

	l.keepalived("r1", 100, "MASTER")
	l.keepalived("r2", 10, "BACKUP")
	deadline := time.Now().Add(15 * time.Second)
	for !l.lab.HasAddr("r1", loadVIP) {
		if time.Now().After(deadline) {
			b.Fatal("r1 did not become master within 15 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The adverts each router sends, timestamped on the router.
	var dumps []string
	var dumpers []*lab.Process
	for _, r := range []string{"r1", "r2"} {
		p := filepath.Join(b.TempDir(), r+".pcap")
		dumpers = append(dumpers, l.start(r, "tcpdump", "-i", "eth1", "-n", "-U", "-Z", "root", "-Q", "out", "-w", p, "vrrp"))
		dumps = append(dumps, p)
	}
	time.Sleep(time.Second)

	w := startWatch(b, cl, *loadBuffer)
	// Let the watcher learn the VIP (its filter then passes the VIP's traffic).
	time.Sleep(time.Second)

	b.ResetTimer()
	rx0, tx0 := l.linkCounter("cl", "rx_packets"), l.linkCounter("tg", "tx_packets")
	rxd0 := l.linkCounter("cl", "rx_dropped")
	from, cpu0 := time.Now(), cpuTime()
	g := l.sendLoad(loadSinkMAC, dst, *loadRate, *loadTime, *loadSize)
	to, cpu1 := time.Now(), cpuTime()
	b.StopTimer()
	rx, tx := l.linkCounter("cl", "rx_packets")-rx0, l.linkCounter("tg", "tx_packets")-tx0
	rxd := l.linkCounter("cl", "rx_dropped") - rxd0
	// Adverts sent by the end of the window are read well within this.
	time.Sleep(500 * time.Millisecond)
	frames, seen := w.src.snapshot()
	res := w.stop(b)
	recv, drop := libpcapCounters(b, res)

	var sentAll []advertSeen
	for i, p := range dumps {
		stopProc(dumpers[i], 3*time.Second)
		a, err := readAdverts(p)
		if err != nil {
			b.Fatal(err)
		}
		sentAll = append(sentAll, a...)
	}
	sent, missed, err := missing(sentAll, seen, from, to)
	if err != nil {
		b.Fatal(err)
	}
	engineAdverts := 0
	for _, g := range res.Analysis.Groups {
		for _, s := range g.Speakers {
			engineAdverts += s.Adverts
		}
	}
	wall := to.Sub(from)
	cores := (cpu1 - cpu0).Seconds() / wall.Seconds()
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(float64(rx)/wall.Seconds(), "fps")
	b.ReportMetric(float64(g.sent)/g.elapsed.Seconds(), "gen-fps")
	b.ReportMetric(float64(recv), "pcap-recv")
	b.ReportMetric(float64(drop), "pcap-drops")
	b.ReportMetric(float64(sent), "adverts-sent")
	b.ReportMetric(float64(missed), "adverts-missed")
	b.ReportMetric(cores, "cpu-cores")
	b.Logf("load to %s: generator sent %d frames in %v (%.0f/s, its CPU %.2f cores), tg eth1 tx %d, cl eth1 rx %d (%.0f/s), rx_dropped %d",
		dst, g.sent, g.elapsed.Round(time.Millisecond), float64(g.sent)/g.elapsed.Seconds(), g.cpu.Seconds()/g.elapsed.Seconds(), tx, rx, float64(rx)/wall.Seconds(), rxd)
	b.Logf("watcher: libpcap received %d, dropped %d; frames read %d; adverts sent during the load %d, not read %d (read in all %d, engine counted %d); CPU %v over %v = %.3f cores",
		recv, drop, frames, sent, missed, len(seen), engineAdverts, (cpu1 - cpu0).Round(time.Millisecond), wall.Round(time.Millisecond), cores)

	if float64(g.sent) < 0.95*float64(*loadRate)*loadTime.Seconds() {
		b.Logf("the generator did not reach %d frames/s on this machine (%.0f/s)", *loadRate, float64(g.sent)/g.elapsed.Seconds())
	}
	// Every advert read before the stop was fed to the engine (those read
	// while it stops may not be).
	if engineAdverts < len(seen) {
		b.Errorf("the engine counted %d adverts, the capture had returned %d", engineAdverts, len(seen))
	}
	if sent == 0 {
		b.Fatalf("no adverts counted on the routers")
	}
	if drop != 0 {
		b.Errorf("libpcap dropped %d of %d frames", drop, recv)
	}
	if missed > 0 {
		b.Errorf("%d of %d adverts sent during the load were not read by the watcher", missed, sent)
	}
	if cores >= 1 {
		b.Errorf("the watcher used %.2f cores under load (limit: under 1)", cores)
	}
}

// readAdverts reads the adverts of a pcap file.
func readAdverts(path string) ([]advertSeen, error) {
	f, err := capture.OpenFile(path, "")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []advertSeen
	for {
		data, ci, err := f.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if k, ok := advertKey(data); ok {
			out = append(out, advertSeen{ci.Timestamp, k})
		}
	}
}
