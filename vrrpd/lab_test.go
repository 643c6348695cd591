package vrrpd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vrrpctl/vrrpctl/analyze"
	"github.com/vrrpctl/vrrpctl/capture"
	"github.com/vrrpctl/vrrpctl/decode"
	"github.com/vrrpctl/vrrpctl/internal/testenv"
	"github.com/vrrpctl/vrrpctl/lab"
)

// A test lab: a segment of package lab (lab.NewSegment), its bridge with
// multicast snooping off, and one host per node with eth1 on that bridge,
// 192.168.33.101, .102, ... Its namespaces are named vd<pid>-<random>-<node>:
// `vrrpctl run-test-failover --cleanup` leaves them to the tests, and what a
// killed test run leaves behind is removed by the next one
// (lab.SweepStale). Everything is deleted on cleanup.

// labPrefix starts the namespace names of vrrpd's test labs.
const labPrefix = "vd"

type testLab struct {
	t     testing.TB
	lab   *lab.Lab
	addrs map[string]netip.Addr
	macs  map[string]string
	dir   string
	pcaps int
	procs int
}

func newLab(t testing.TB, nodes ...string) *testLab {
	testenv.NeedRoot(t) // network namespaces
	testenv.NeedTool(t, "ip", "tcpdump", "ping")
	dir := t.TempDir()
	seg, err := lab.NewSegment(lab.SegmentOptions{Prefix: labPrefix, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { seg.Close() })
	l := &testLab{t: t, lab: seg, addrs: map[string]netip.Addr{}, macs: map[string]string{}, dir: dir}
	for i, n := range nodes {
		addr := netip.AddrFrom4([4]byte{192, 168, 33, byte(101 + i)})
		h, err := seg.AddHost(n, netip.PrefixFrom(addr, 24))
		if err != nil {
			t.Fatal(err)
		}
		l.addrs[n], l.macs[n] = addr, h.MAC.String()
	}
	if err := seg.WaitCarrier(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	return l
}

func (l *testLab) nsPath(node string) string { return l.lab.Host(node).Path() }

// run runs argv in node's namespace to completion and returns its output.
func (l *testLab) run(node string, argv ...string) string {
	l.t.Helper()
	out, err := l.lab.Run(node, argv...)
	if err != nil {
		l.t.Fatalf("%v\n%s", err, out)
	}
	return out
}

// start runs argv in node's namespace, or in this one when node is empty.
func (l *testLab) start(node, name string, argv ...string) (*lab.Process, *procLog) {
	l.t.Helper()
	l.procs++
	name = fmt.Sprintf("%s-%d", name, l.procs)
	var p *lab.Process
	var err error
	if node == "" {
		p, err = l.lab.StartOutside(name, argv, nil)
	} else {
		p, err = l.lab.Start(node, name, argv, nil)
	}
	if err != nil {
		l.t.Fatalf("starting %s: %v", name, err)
	}
	return p, &procLog{p}
}

// procLog reads what a process has written so far.
type procLog struct{ p *lab.Process }

func (o *procLog) String() string { return o.p.Output() }

// hasVIP reports whether addr is on node's eth1.
func (l *testLab) hasVIP(node string, addr netip.Addr) bool { return l.lab.HasAddr(node, addr) }

func (l *testLab) linkDown(node string) {
	l.t.Helper()
	if err := l.lab.SetLink(node, false); err != nil {
		l.t.Fatal(err)
	}
}

// capture runs tcpdump on node's eth1 (it sees the node's own packets and
// every multicast and broadcast on the bridge), IPv4 only; stop returns the
// file.
func (l *testLab) capture(node string) (stop func() string) {
	return l.captureFilter(node, "not", "ip6")
}

// captureFilter is capture with a tcpdump filter of its own.
func (l *testLab) captureFilter(node string, filter ...string) (stop func() string) {
	l.pcaps++
	path := filepath.Join(l.dir, fmt.Sprintf("%s-%s-%d.pcap", l.lab.ID, node, l.pcaps))
	argv := append([]string{"tcpdump", "-i", "eth1", "--immediate-mode", "-s", "0", "-U", "-n", "-w", path}, filter...)
	p, out := l.start(node, "tcpdump", argv...)
	waitFor(l.t, 5*time.Second, "tcpdump listening", func() bool { return strings.Contains(out.String(), "listening on") })
	return func() string {
		p.Signal(syscall.SIGINT)
		if !p.Wait(10 * time.Second) {
			p.Stop(time.Second)
		}
		return path
	}
}

// speaker runs one of our speakers in node's namespace, in this process.
func (l *testLab) speaker(node string, rc RouterConfig) (*Speaker, func()) {
	l.t.Helper()
	rc.Interface = "eth1"
	logs := &syncBuffer{}
	sp, err := New(Options{Routers: []RouterConfig{rc}, NetNS: l.nsPath(node),
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	if err != nil {
		l.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sp.Run(ctx) }()
	select {
	case <-sp.Ready():
	case err := <-done:
		cancel()
		l.t.Fatalf("speaker on %s: %v", node, err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				l.t.Errorf("speaker on %s: %v", node, err)
			}
		})
	}
	l.t.Cleanup(func() {
		stop()
		if l.t.Failed() {
			l.t.Logf("speaker %s log:\n%s", node, logs.String())
		}
	})
	return sp, stop
}

// keepalived runs keepalived in node's namespace with conf.
func (l *testLab) keepalived(node, conf string) (*lab.Process, *procLog) {
	l.t.Helper()
	testenv.NeedTool(l.t, "keepalived")
	d := filepath.Join(l.dir, node)
	os.MkdirAll(d, 0o755)
	cf := filepath.Join(d, "keepalived.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
		l.t.Fatal(err)
	}
	p, out := l.start(node, "keepalived", "keepalived", "-n", "-l", "-D", "-G",
		"-f", cf, "-p", filepath.Join(d, "k.pid"), "-r", filepath.Join(d, "v.pid"), "-c", filepath.Join(d, "c.pid"),
		"-b", filepath.Join(d, "b.pid"))
	l.t.Cleanup(func() {
		if l.t.Failed() {
			l.t.Logf("keepalived %s log:\n%s", node, out.String())
		}
	})
	return p, out
}

func stopProcess(t testing.TB, p *lab.Process) {
	p.Signal(syscall.SIGTERM)
	if !p.Wait(10 * time.Second) {
		p.Stop(0)
		t.Errorf("%s did not stop on SIGTERM", p.Name)
	}
}

func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// wireEvent is one VRRP advert or gratuitous ARP seen on the bridge.
type wireEvent struct {
	t        time.Time
	garp     bool       // a gratuitous ARP or an unsolicited NA
	router   bool       // an NA's Router flag
	src      netip.Addr // advert source, GARP sender IP, NA target
	dst      netip.Addr // advert destination
	vrid     uint8
	mac      string
	prio     uint8
	ttl, tos uint8
	version  uint8
	checksum decode.ChecksumStatus
	auth     string
}

// analyzeCapture runs the project's analyzer on a capture.
func analyzeCapture(t testing.TB, path string) *analyze.Analysis {
	t.Helper()
	f, err := capture.OpenFile(path, "")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a, err := analyze.Run(f, analyze.Options{File: path})
	if err != nil {
		t.Fatalf("analyzing %s: %v", path, err)
	}
	return a
}

// readCapture decodes a capture with the project's own decoder.
func readCapture(t testing.TB, path string) []wireEvent {
	t.Helper()
	f, err := capture.OpenFile(path, "")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec, err := decode.NewDecoder(f.LinkType())
	if err != nil {
		t.Fatal(err)
	}
	var out []wireEvent
	var fr decode.Frame
	for n := uint64(1); ; n++ {
		data, ci, err := f.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := dec.Decode(data, ci, n, &fr); err != nil {
			continue
		}
		switch fr.Kind {
		case decode.KindVRRP:
			out = append(out, wireEvent{t: fr.Time, src: fr.IP.Src, dst: fr.IP.Dst, vrid: fr.VRRP.VRID, mac: fr.SrcMAC.String(), prio: fr.VRRP.Priority,
				ttl: fr.IP.TTL, tos: fr.IP.TOS, version: fr.VRRP.Version, checksum: fr.VRRPChecksum, auth: fr.VRRP.AuthPassword()})
		case decode.KindARP:
			if fr.ARP.IsGratuitous() {
				out = append(out, wireEvent{t: fr.Time, garp: true, src: fr.ARP.SenderIP, mac: fr.SrcMAC.String()})
			}
		case decode.KindND:
			if fr.ND.IsUnsolicitedNA() {
				out = append(out, wireEvent{t: fr.Time, garp: true, router: fr.ND.Router, src: fr.ND.Target, mac: fr.SrcMAC.String()})
			}
		}
	}
	return out
}

// advertJitter is the largest |period - interval| between consecutive
// non-zero priority adverts of src (the analyzer reports no jitter).
func advertJitter(evs []wireEvent, src netip.Addr, interval time.Duration) time.Duration {
	var jit time.Duration
	var prev time.Time
	for _, e := range evs {
		if e.garp || e.src != src {
			continue
		}
		if e.prio == 0 {
			prev = time.Time{}
			continue
		}
		if !prev.IsZero() {
			jit = max(jit, (e.t.Sub(prev) - interval).Abs())
		}
		prev = e.t
	}
	return jit
}

// onlyFailover returns the analyzer's failover of the capture, failing
// unless there is exactly one and it goes from one address to the other.
func onlyFailover(t testing.TB, a *analyze.Analysis, from, to netip.Addr) analyze.Failover {
	t.Helper()
	if len(a.Failovers) != 1 {
		for _, f := range a.Failovers {
			t.Logf("failover %s -> %s cause %s detect %.1f ms", f.From.IP, f.To.IP, f.Cause, f.DetectMS)
		}
		t.Fatalf("analyzer found %d failovers; want 1 from %s to %s", len(a.Failovers), from, to)
	}
	f := a.Failovers[0]
	if f.From.IP != from.String() || f.To.IP != to.String() {
		t.Fatalf("analyzer: failover %s -> %s; want %s -> %s", f.From.IP, f.To.IP, from, to)
	}
	return f
}
