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
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vrrpctl/vrrpctl/analyze"
	"github.com/vrrpctl/vrrpctl/capture"
	"github.com/vrrpctl/vrrpctl/decode"
)

// A test lab: one namespace with a bridge (multicast snooping off) and one
// namespace per node with eth1 on that bridge, 192.168.33.101, .102, ...
// Names carry the pid and a counter; everything is deleted on cleanup.

var labCounter atomic.Int32

type testLab struct {
	t      testing.TB
	prefix string
	hub    string
	nodes  map[string]string // node -> namespace
	addrs  map[string]netip.Addr
	macs   map[string]string
	mu     sync.Mutex
	procs  []*exec.Cmd
	dir    string
	pcaps  int
}

func run(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func newLab(t testing.TB, nodes ...string) *testLab {
	if os.Geteuid() != 0 {
		t.Skip("needs root (network namespaces)")
	}
	for _, tool := range []string{"ip", "tcpdump"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not installed: %v", tool, err)
		}
	}
	l := &testLab{t: t, prefix: fmt.Sprintf("vd%d-%d", os.Getpid(), labCounter.Add(1)),
		nodes: map[string]string{}, addrs: map[string]netip.Addr{}, macs: map[string]string{}, dir: t.TempDir()}
	l.hub = l.prefix + "-hub"
	var created []string
	t.Cleanup(func() {
		l.mu.Lock()
		for _, p := range l.procs {
			if p.Process != nil && p.ProcessState == nil {
				p.Process.Kill()
				p.Wait()
			}
		}
		l.mu.Unlock()
		for _, ns := range created {
			exec.Command("ip", "netns", "del", ns).Run()
		}
	})
	run(t, "ip", "netns", "add", l.hub)
	created = append(created, l.hub)
	run(t, "ip", "-n", l.hub, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0")
	run(t, "ip", "-n", l.hub, "link", "set", "br0", "up")
	for i, n := range nodes {
		ns := l.prefix + "-" + n
		run(t, "ip", "netns", "add", ns)
		created = append(created, ns)
		port := fmt.Sprintf("p%d", i)
		run(t, "ip", "-n", l.hub, "link", "add", port, "type", "veth", "peer", "name", "eth1", "netns", ns)
		run(t, "ip", "-n", l.hub, "link", "set", port, "master", "br0", "up")
		addr := netip.AddrFrom4([4]byte{192, 168, 33, byte(101 + i)})
		run(t, "ip", "-n", ns, "addr", "add", addr.String()+"/24", "dev", "eth1")
		run(t, "ip", "-n", ns, "link", "set", "eth1", "up")
		run(t, "ip", "-n", ns, "link", "set", "lo", "up")
		l.nodes[n], l.addrs[n] = ns, addr
		l.macs[n] = strings.TrimSpace(run(t, "ip", "netns", "exec", ns, "cat", "/sys/class/net/eth1/address"))
	}
	return l
}

func (l *testLab) nsPath(node string) string { return "/run/netns/" + l.nodes[node] }

func (l *testLab) start(name string, args ...string) (*exec.Cmd, *syncBuffer) {
	l.t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		l.t.Fatalf("starting %s: %v", name, err)
	}
	l.mu.Lock()
	l.procs = append(l.procs, cmd)
	l.mu.Unlock()
	return cmd, out
}

// hasVIP reports whether addr is on node's eth1.
func (l *testLab) hasVIP(node string, addr netip.Addr) bool {
	out, err := exec.Command("ip", "-n", l.nodes[node], "-o", "addr", "show", "dev", "eth1").CombinedOutput()
	return err == nil && strings.Contains(string(out), " "+addr.String()+"/")
}

func (l *testLab) linkDown(node string) {
	run(l.t, "ip", "-n", l.nodes[node], "link", "set", "eth1", "down")
}

// capture runs tcpdump on node's eth1 (it sees the node's own packets and
// every multicast and broadcast on the bridge); stop returns the file.
func (l *testLab) capture(node string) (stop func() string) {
	l.pcaps++
	path := filepath.Join(l.dir, fmt.Sprintf("%s-%s-%d.pcap", l.prefix, node, l.pcaps))
	cmd, out := l.start("tcpdump", "ip", "netns", "exec", l.nodes[node], "tcpdump", "-i", "eth1", "--immediate-mode", "-s", "0", "-U", "-n", "-w", path, "not", "ip6")
	waitFor(l.t, 5*time.Second, "tcpdump listening", func() bool { return strings.Contains(out.String(), "listening on") })
	return func() string {
		cmd.Process.Signal(syscall.SIGINT)
		cmd.Wait()
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
func (l *testLab) keepalived(node, conf string) (*exec.Cmd, *syncBuffer) {
	l.t.Helper()
	if _, err := exec.LookPath("keepalived"); err != nil {
		l.t.Fatalf("keepalived not installed: %v", err)
	}
	d := filepath.Join(l.dir, node)
	os.MkdirAll(d, 0o755)
	cf := filepath.Join(d, "keepalived.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
		l.t.Fatal(err)
	}
	cmd, out := l.start("keepalived", "ip", "netns", "exec", l.nodes[node], "keepalived", "-n", "-l", "-D", "-G",
		"-f", cf, "-p", filepath.Join(d, "k.pid"), "-r", filepath.Join(d, "v.pid"), "-c", filepath.Join(d, "c.pid"),
		"-b", filepath.Join(d, "b.pid"))
	l.t.Cleanup(func() {
		if l.t.Failed() {
			l.t.Logf("keepalived %s log:\n%s", node, out.String())
		}
	})
	return cmd, out
}

func stopProcess(t testing.TB, cmd *exec.Cmd) {
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Errorf("%s did not stop on SIGTERM", cmd.Path)
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
	garp     bool
	src      netip.Addr // advert source or GARP sender IP
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
			out = append(out, wireEvent{t: fr.Time, src: fr.IP.Src, mac: fr.SrcMAC.String(), prio: fr.VRRP.Priority,
				ttl: fr.IP.TTL, tos: fr.IP.TOS, version: fr.VRRP.Version, checksum: fr.VRRPChecksum, auth: fr.VRRP.AuthPassword()})
		case decode.KindARP:
			if fr.ARP.IsGratuitous() {
				out = append(out, wireEvent{t: fr.Time, garp: true, src: fr.ARP.SenderIP, mac: fr.SrcMAC.String()})
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
