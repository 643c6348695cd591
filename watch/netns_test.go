package watch

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vrrpctl/vrrpctl/internal/testenv"
	"github.com/vrrpctl/vrrpctl/lab"
)

// A small namespace lab for the tests: a segment of package lab
// (lab.NewSegment), whose bridge lives in a namespace of its own, and hosts
// wired to it by veth pairs, each host's end named eth1. Its namespaces are
// named vw<pid>-<random>-<host>: `vrrpctl run-test-failover --cleanup`
// leaves them to the tests, and what a killed test run leaves behind is
// removed by the next one (lab.SweepStale). Everything is removed on every
// exit path.

// labPrefix starts the namespace names of watch's test labs.
const labPrefix = "vw"

type testLab struct {
	t     testing.TB
	lab   *lab.Lab
	dir   string
	procs int
	// advertInt and vrrpVersion set keepalived's advert_int ("1" when
	// empty) and version (keepalived's default, 2, when 0).
	advertInt   string
	vrrpVersion int
}

func needRoot(t testing.TB) {
	t.Helper()
	testenv.NeedRoot(t) // network namespaces, live capture
	testenv.NeedTool(t, "keepalived", "nft", "bash")
}

func newTestLab(t testing.TB) *testLab {
	t.Helper()
	needRoot(t)
	dir := t.TempDir()
	seg, err := lab.NewSegment(lab.SegmentOptions{Prefix: labPrefix, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { seg.Close() })
	return &testLab{t: t, lab: seg, dir: dir}
}

// addHost creates a namespace wired to the bridge, with addr on its eth1,
// and returns the namespace's name.
func (l *testLab) addHost(name, addr string) string {
	l.t.Helper()
	h, err := l.lab.AddHost(name, netip.MustParsePrefix(addr))
	if err == nil {
		err = l.lab.WaitCarrier(5 * time.Second)
	}
	if err != nil {
		l.t.Fatal(err)
	}
	return h.NS
}

// start runs argv in the host's namespace in the background.
func (l *testLab) start(host string, argv ...string) *lab.Process {
	l.t.Helper()
	l.procs++
	p, err := l.lab.Start(host, fmt.Sprintf("%s-%d", filepath.Base(argv[0]), l.procs), argv, nil)
	if err != nil {
		l.t.Fatalf("start %s in %s: %v", strings.Join(argv, " "), host, err)
	}
	return p
}

// nft applies an nftables ruleset in the host's namespace.
func (l *testLab) nft(host, ruleset string) {
	l.t.Helper()
	if err := l.lab.Nft(host, ruleset); err != nil {
		l.t.Fatal(err)
	}
}

// setPort sets the host's bridge port up or down, as unplugging its cable.
func (l *testLab) setPort(host string, up bool) {
	l.t.Helper()
	if err := l.lab.SetPort(host, up); err != nil {
		l.t.Fatal(err)
	}
}

// keepalived starts keepalived for one VRRP instance on host's eth1.
func (l *testLab) keepalived(host string, prio int, state string) *lab.Process {
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

// stopProc sends SIGTERM and waits (SIGKILL after grace).
func stopProc(p *lab.Process, grace time.Duration) { p.Stop(grace) }

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
func (l *testLab) clientTraffic(host, addr string) *lab.Process {
	return l.start(host, "bash", "-c", "while :; do echo x 2>/dev/null >/dev/udp/"+addr+"/9; sleep 0.2; done")
}
