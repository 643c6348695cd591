package watch

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// A small namespace lab for the tests: a bridge in a namespace of its own,
// and hosts wired to it by veth pairs, each host's end named eth1. Names are
// unique to the run; everything is removed on every exit path.

var labCounter atomic.Int32

type testLab struct {
	t      testing.TB
	prefix string
	sw     string
	hosts  map[string]string // host name -> namespace
	dir    string
	mu     sync.Mutex
	procs  []*exec.Cmd
	// advertInt and vrrpVersion set keepalived's advert_int ("1" when
	// empty) and version (keepalived's default, 2, when 0).
	advertInt   string
	vrrpVersion int
}

func needRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (network namespaces, live capture)")
	}
	for _, bin := range []string{"ip", "keepalived", "nft", "bash"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed", bin)
		}
	}
}

func newTestLab(t testing.TB) *testLab {
	t.Helper()
	needRoot(t)
	l := &testLab{t: t, prefix: fmt.Sprintf("vw%d-%d", os.Getpid(), labCounter.Add(1)), hosts: map[string]string{}, dir: t.TempDir()}
	l.sw = l.prefix + "-sw"
	t.Cleanup(l.close)
	l.ip("netns", "add", l.sw)
	l.nsRun(l.sw, "ip", "link", "add", "br0", "type", "bridge", "mcast_snooping", "0")
	l.nsRun(l.sw, "ip", "link", "set", "br0", "up")
	return l
}

// addHost creates a namespace wired to the bridge, with addr on its eth1.
func (l *testLab) addHost(name, addr string) string {
	ns := l.prefix + "-" + name
	l.ip("netns", "add", ns)
	l.hosts[name] = ns
	port := "p-" + name
	l.ip("link", "add", "eth1", "netns", ns, "type", "veth", "peer", "name", port, "netns", l.sw)
	l.nsRun(l.sw, "ip", "link", "set", port, "master", "br0", "up")
	l.nsRun(ns, "ip", "link", "set", "lo", "up")
	l.nsRun(ns, "ip", "link", "set", "eth1", "up")
	l.nsRun(ns, "ip", "addr", "add", addr, "dev", "eth1")
	l.nsRun(ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
	return ns
}

func (l *testLab) ip(args ...string) {
	l.t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		l.t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func (l *testLab) nsRun(ns string, argv ...string) string {
	l.t.Helper()
	out, err := exec.Command("ip", append([]string{"netns", "exec", ns}, argv...)...).CombinedOutput()
	if err != nil {
		l.t.Fatalf("in %s: %s: %v: %s", ns, strings.Join(argv, " "), err, out)
	}
	return string(out)
}

// start runs argv in the host's namespace in the background.
func (l *testLab) start(host string, argv ...string) *exec.Cmd {
	l.t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", l.hosts[host]}, argv...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		l.t.Fatalf("start %s in %s: %v", strings.Join(argv, " "), host, err)
	}
	l.mu.Lock()
	l.procs = append(l.procs, cmd)
	l.mu.Unlock()
	return cmd
}

// keepalived starts keepalived for one VRRP instance on host's eth1.
func (l *testLab) keepalived(host string, prio int, state string) *exec.Cmd {
	l.t.Helper()
	dir := filepath.Join(l.dir, host)
	os.MkdirAll(dir, 0o755)
	conf := filepath.Join(dir, "keepalived.conf")
	advertInt, version := l.advertInt, ""
	if advertInt == "" {
		advertInt = "1"
	}
	if l.vrrpVersion != 0 {
		version = fmt.Sprintf("\n    version %d", l.vrrpVersion)
	}
	text := fmt.Sprintf(`global_defs {
   router_id %s
   vrrp_skip_check_adv_addr
}
vrrp_instance VI_1 {
    state %s
    interface eth1
    virtual_router_id 51
    priority %d
    advert_int %s%s
    virtual_ipaddress {
        192.168.33.100/24
    }
}
`, host, state, prio, advertInt, version)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		l.t.Fatal(err)
	}
	return l.start(host, "keepalived", "--dont-fork", "--log-console", "--no-syslog", "--vrrp",
		"--use-file="+conf,
		"--pid="+filepath.Join(dir, "keepalived.pid"),
		"--vrrp_pid="+filepath.Join(dir, "vrrp.pid"),
		"--checkers_pid="+filepath.Join(dir, "checkers.pid"),
		"--bfd_pid="+filepath.Join(dir, "bfd.pid"))
}

// stop sends SIGTERM and waits (SIGKILL after grace).
func stopProc(cmd *exec.Cmd, grace time.Duration) {
	if cmd.Process == nil || cmd.ProcessState != nil {
		return
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(grace):
		cmd.Process.Kill()
		<-done
	}
}

func (l *testLab) close() {
	l.mu.Lock()
	procs := l.procs
	l.mu.Unlock()
	for _, p := range procs {
		stopProc(p, 3*time.Second)
	}
	// Whatever still runs in the namespaces was started by this lab (the
	// children of keepalived): end it by pid before removing them.
	for _, ns := range append([]string{l.sw}, mapValues(l.hosts)...) {
		out, _ := exec.Command("ip", "netns", "pids", ns).Output()
		for _, f := range strings.Fields(string(out)) {
			var pid int
			if _, err := fmt.Sscan(f, &pid); err == nil && pid > 1 {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	for _, ns := range mapValues(l.hosts) {
		exec.Command("ip", "netns", "del", ns).Run()
	}
	exec.Command("ip", "netns", "del", l.sw).Run()
}

func mapValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// lineRecorder is an io.Writer that keeps each complete line with the time
// it arrived.
type lineRecorder struct {
	mu      sync.Mutex
	partial []byte
	lines   []recordedLine
}

type recordedLine struct {
	at   time.Time
	text string
}

func (r *lineRecorder) Write(p []byte) (int, error) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.partial = append(r.partial, p...)
	for {
		i := bytes.IndexByte(r.partial, '\n')
		if i < 0 {
			break
		}
		r.lines = append(r.lines, recordedLine{now, string(r.partial[:i])})
		r.partial = r.partial[i+1:]
	}
	return len(p), nil
}

func (r *lineRecorder) snapshot() []recordedLine {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recordedLine(nil), r.lines...)
}

// waitLine waits until a line containing all of subs arrives after index from.
func (r *lineRecorder) waitLine(t *testing.T, from int, timeout time.Duration, subs ...string) (int, recordedLine) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		lines := r.snapshot()
		for i := from; i < len(lines); i++ {
			ok := true
			for _, s := range subs {
				if !strings.Contains(lines[i].text, s) {
					ok = false
					break
				}
			}
			if ok {
				return i, lines[i]
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no output line with %q within %v; output so far:\n%s", subs, timeout, joinLines(r.snapshot()))
	return 0, recordedLine{}
}

func joinLines(ls []recordedLine) string {
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(l.at.Format("15:04:05.000 "))
		b.WriteString(l.text)
		b.WriteByte('\n')
	}
	return b.String()
}

// clientTraffic makes host send a UDP datagram to addr every 200 ms (the VIP
// answers with an ICMP port unreachable), as a client using the VIP would.
func (l *testLab) clientTraffic(host, addr string) *exec.Cmd {
	return l.start(host, "bash", "-c", "while :; do echo x 2>/dev/null >/dev/udp/"+addr+"/9; sleep 0.2; done")
}
