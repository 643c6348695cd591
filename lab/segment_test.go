package lab

import (
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testPrefix names the segments of these tests: --cleanup does not see them.
const testPrefix = "vt"

func newTestSegment(t *testing.T) *Lab {
	t.Helper()
	needRoot(t)
	l, err := NewSegment(SegmentOptions{Prefix: testPrefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// assertSegmentGone fails the test if anything of segment id of prefix is
// left: namespaces, processes, its temporary run directory.
func assertSegmentGone(t *testing.T, prefix, id, dir string) {
	t.Helper()
	names := namespacesMatching(ownedPattern(prefix), id)
	if len(names) > 0 {
		t.Errorf("segment %s%s left namespaces %v", prefix, id, names)
	}
	if pids := processesIn(names); len(pids) > 0 {
		t.Errorf("segment %s%s left processes %v", prefix, id, pids)
	}
	if dir != "" {
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("segment %s%s left %s", prefix, id, dir)
		}
	}
}

// waitReplies pings dst from host for a while and returns how many of the
// echoes were answered and how many were sent.
func waitReplies(t *testing.T, l *Lab, host string, dst netip.Addr, d time.Duration) (answered, sent int) {
	t.Helper()
	p, err := l.StartPinger(host, dst, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(d)
	echos := p.Stop(100 * time.Millisecond)
	for _, e := range echos {
		if !e.Replied.IsZero() {
			answered++
		}
	}
	return answered, len(echos)
}

func TestSegment(t *testing.T) {
	l := newTestSegment(t)
	id, dir := l.ID, l.Dir
	if !strings.HasPrefix(id, strconv.Itoa(os.Getpid())+"-") || !ownedPattern(testPrefix).MatchString(testPrefix+id+"-a") {
		t.Fatalf("segment ID %q does not carry the pid", id)
	}
	pa := netip.MustParsePrefix("192.168.33.101/24")
	pa2 := netip.MustParsePrefix("192.168.33.201/24")
	pb := netip.MustParsePrefix("192.168.33.102/24")
	a, err := l.AddHost("a", pa, pa2)
	if err != nil {
		t.Fatal(err)
	}
	mac := net.HardwareAddr{0x02, 0x33, 0, 0, 0, 0x66}
	b, err := l.AddHostWith("b", HostOptions{Addrs: []netip.Prefix{pb}, MAC: mac})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.AddHost("a"); err == nil {
		t.Error("a second host a was added")
	}
	if _, err := l.AddHost("Bad-Name"); err == nil {
		t.Error("a host with a bad name was added")
	}
	if err := l.WaitCarrier(5 * time.Second); err != nil {
		t.Fatal(err)
	}

	// Names, paths, addresses and MACs.
	if a.NS != testPrefix+id+"-a" || a.Path() != "/run/netns/"+a.NS || a.Port != "a" {
		t.Errorf("host a: namespace %s, path %s, port %s", a.NS, a.Path(), a.Port)
	}
	if want := []string{testPrefix + id + "-sw", a.NS, b.NS}; !slices.Equal(l.Namespaces(), want) {
		t.Errorf("namespaces %v, want %v", l.Namespaces(), want)
	}
	for _, ns := range l.Namespaces() {
		if _, err := os.Stat(netnsDir + "/" + ns); err != nil {
			t.Errorf("namespace %s missing: %v", ns, err)
		}
	}
	if a.Addr != pa || !slices.Equal(a.Addrs, []netip.Prefix{pa, pa2}) {
		t.Errorf("host a: Addr %v, Addrs %v", a.Addr, a.Addrs)
	}
	if got, err := l.Addrs("a", ""); err != nil || !slices.Equal(got, []netip.Prefix{pa, pa2}) {
		t.Errorf("addresses on a's eth1: %v, %v", got, err)
	}
	if b.MAC.String() != mac.String() || len(a.MAC) != 6 || l.HostByMAC(a.MAC) != "a" {
		t.Errorf("MACs: a %v, b %v (want %v)", a.MAC, b.MAC, mac)
	}
	if !l.HasAddr("b", pb.Addr()) || l.HasAddr("b", pa.Addr()) {
		t.Error("HasAddr is wrong on b")
	}
	if ids, _ := Leftovers(); slices.Contains(ids, id) {
		t.Errorf("--cleanup would remove segment %s", id)
	}

	// Run is in the host's namespace: /proc/net follows the reader's.
	out, err := l.Run("a", "cat", "/proc/net/dev")
	if err != nil || !strings.Contains(out, "eth1:") || strings.Contains(out, "eth0:") {
		t.Errorf("/proc/net/dev in a: %v\n%s", err, out)
	}
	if out, err := l.Run("a", "sh", "-c", "echo oops; exit 4"); err == nil || out != "oops\n" {
		t.Errorf("failing command: %q, %v", out, err)
	}
	if _, err := l.Run("nobody", "true"); err == nil {
		t.Error("Run on a host that does not exist")
	}

	// Traffic, counters, link and port.
	st0, err := l.LinkStats("b")
	if err != nil {
		t.Fatal(err)
	}
	if answered, sent := waitReplies(t, l, "a", pb.Addr(), 400*time.Millisecond); answered < sent-2 || sent < 5 {
		t.Fatalf("b answered %d of %d echoes", answered, sent)
	}
	st1, _ := l.LinkStats("b")
	if st1.RxPackets <= st0.RxPackets || st1.TxPackets <= st0.TxPackets {
		t.Errorf("b's counters did not move: %+v -> %+v", st0, st1)
	}
	if n, err := l.LinkCounter("b", "rx_packets"); err != nil || n < st1.RxPackets {
		t.Errorf("rx_packets of b = %d, %v; want at least %d", n, err, st1.RxPackets)
	}
	if _, err := l.LinkCounter("b", "rx_nonsense"); err == nil {
		t.Error("a counter that does not exist")
	}
	if err := l.SetLink("b", false); err != nil {
		t.Fatal(err)
	}
	if answered, _ := waitReplies(t, l, "a", pb.Addr(), 300*time.Millisecond); answered > 0 {
		t.Errorf("b answered %d echoes with its link down", answered)
	}
	if err := l.SetLink("b", true); err != nil {
		t.Fatal(err)
	}
	if err := l.WaitCarrier(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if answered, _ := waitReplies(t, l, "a", pb.Addr(), 400*time.Millisecond); answered == 0 {
		t.Error("b does not answer with its link up again")
	}
	port, err := l.sw.nl.LinkByName("b")
	if err != nil {
		t.Fatal(err)
	}
	for _, on := range []bool{false, true} {
		if err := l.SetPortFlood("b", on); err != nil {
			t.Fatal(err)
		}
		if pi, err := l.sw.nl.LinkGetProtinfo(port); err != nil || pi.Flood != on {
			t.Errorf("flooding on port b = %v (%v), want %v", pi.Flood, err, on)
		}
	}
	if err := l.Sysctl(a, "net/ipv4/conf/eth1/arp_ignore", "1"); err != nil {
		t.Fatal(err)
	}
	if out, _ := l.Run("a", "cat", "/proc/sys/net/ipv4/conf/eth1/arp_ignore"); out != "1\n" {
		t.Errorf("arp_ignore in a = %q", out)
	}
	if err := l.Nft("b", "add table inet vt; add chain inet vt in { type filter hook input priority 0; }; add rule inet vt in ip protocol icmp drop\n"); err != nil {
		t.Fatal(err)
	}
	if answered, _ := waitReplies(t, l, "a", pb.Addr(), 300*time.Millisecond); answered > 0 {
		t.Errorf("b answered %d echoes through its firewall", answered)
	}

	// Processes: in a host, outside the lab, run to the end or left running.
	p, err := l.Start("a", "sh", []string{"sh", "-c", "echo hello; cat /proc/net/dev; exit 3"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Wait(5*time.Second) || p.ExitCode() != 3 || p.Err() == nil {
		t.Errorf("process: exited %v, status %d, err %v", p.Exited(), p.ExitCode(), p.Err())
	}
	if o := p.Output(); !strings.HasPrefix(o, "hello\n") || !strings.Contains(o, "eth1:") {
		t.Errorf("process output %q", o)
	}
	sleeper, err := l.Start("b", "sleeper", []string{"sleep", "60"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	outside, err := l.StartOutside("outside", []string{"sleep", "60"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sleeper.ExitCode() != -1 || sleeper.Err() != nil {
		t.Error("a running process has an exit status")
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if !sleeper.Exited() || !outside.Exited() {
		t.Error("Close left processes running")
	}
	assertSegmentGone(t, testPrefix, id, dir)
}

// TestSegmentKeepsGivenDir: a run directory given in the options is the
// caller's, and Close leaves it.
func TestSegmentKeepsGivenDir(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	l, err := NewSegment(SegmentOptions{Prefix: testPrefix, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Start("sw", "x", []string{"true"}, nil); err == nil {
		t.Error("Start on the switch")
	}
	h, err := l.AddHost("solo")
	if err != nil {
		l.Close()
		t.Fatal(err)
	}
	if h.Addr.IsValid() || len(h.MAC) != 6 {
		t.Errorf("host without addresses: Addr %v, MAC %v", h.Addr, h.MAC)
	}
	id := l.ID
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Errorf("Close removed the caller's directory: %v", err)
	}
	assertSegmentGone(t, testPrefix, id, "")
}

func TestSegmentBadPrefix(t *testing.T) {
	needRoot(t)
	for _, p := range []string{"vlx", "Vt", "v-t", "abcdefghi"} {
		if l, err := NewSegment(SegmentOptions{Prefix: p}); err == nil {
			l.Close()
			t.Errorf("prefix %q accepted", p)
		}
	}
}

// TestSweepStale: the segment of a process that died without closing it
// is removed by SweepStale, processes included; that of a live process is
// not.
func TestSweepStale(t *testing.T) {
	needRoot(t)
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	alive := exec.Command("sleep", "60")
	if err := alive.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		alive.Process.Kill()
		alive.Wait()
	}()
	var labs []*Lab
	for _, pid := range []int{dead.Process.Pid, alive.Process.Pid} {
		l, err := newSegment(SegmentOptions{Prefix: testPrefix}, pid)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		if _, err := l.AddHost("h", netip.MustParsePrefix("192.168.33.2/24")); err != nil {
			t.Fatal(err)
		}
		labs = append(labs, l)
	}
	stale, live := labs[0], labs[1]
	// A process left in the dead owner's segment, as after a SIGKILL.
	orphan, err := stale.Start("h", "orphan", []string{"sleep", "60"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := SweepStale(testPrefix)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(ids, stale.ID) || slices.Contains(ids, live.ID) {
		t.Errorf("swept %v; want %s and not %s", ids, stale.ID, live.ID)
	}
	if !orphan.Wait(5 * time.Second) {
		t.Error("the orphan survived the sweep")
	}
	if ws, ok := orphan.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && !ws.Signaled() {
		t.Errorf("the orphan ended by itself: %v", ws)
	}
	assertSegmentGone(t, testPrefix, stale.ID, stale.Dir)
	if names := namespacesMatching(ownedPattern(testPrefix), live.ID); len(names) != 2 {
		t.Errorf("the live owner's segment has namespaces %v", names)
	}
	if _, err := SweepStale(Prefix); err == nil {
		t.Error("SweepStale accepted the product's prefix")
	}
}
