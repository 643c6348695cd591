package capture

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

var nsCounter atomic.Int32

// nsPair creates two network namespaces joined by a veth pair, a0 in the
// first and b0 in the second, both up; everything is removed when the test
// ends, whatever happens.
func nsPair(t *testing.T) (a, b string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("live capture in network namespaces needs root")
	}
	n := nsCounter.Add(1)
	a = fmt.Sprintf("capt%d-%d-a", os.Getpid(), n)
	b = fmt.Sprintf("capt%d-%d-b", os.Getpid(), n)
	for _, ns := range []string{a, b} {
		ip(t, "netns", "add", ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
		// No IPv6: its neighbour discovery would add frames of its own.
		if out, err := exec.Command("ip", "netns", "exec", ns, "sysctl", "-qw",
			"net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1").CombinedOutput(); err != nil {
			t.Fatalf("sysctl in %s: %v: %s", ns, err, out)
		}
	}
	ip(t, "-n", a, "link", "add", "a0", "type", "veth", "peer", "name", "b0", "netns", b)
	ip(t, "-n", a, "link", "set", "a0", "up")
	ip(t, "-n", b, "link", "set", "b0", "up")
	ip(t, "-n", b, "addr", "add", "192.168.33.2/24", "dev", "b0")
	return a, b
}

func ip(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// sender is a raw packet socket on an interface of a namespace.
type sender struct {
	fd      int
	ifindex int
}

func newSender(t *testing.T, ns, iface string) *sender {
	t.Helper()
	done := make(chan error, 1)
	s := &sender{fd: -1}
	go func() {
		runtime.LockOSThread() // not unlocked: the thread ends with the goroutine
		orig, _ := netns.Get()
		defer orig.Close()
		h, err := netns.GetFromName(ns)
		if err != nil {
			done <- err
			return
		}
		defer h.Close()
		if err := netns.Set(h); err != nil {
			done <- err
			return
		}
		ifc, err := net.InterfaceByName(iface)
		if err != nil {
			done <- err
			return
		}
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
		if err != nil {
			done <- err
			return
		}
		s.fd, s.ifindex = fd, ifc.Index
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatalf("raw socket in %s: %v", ns, err)
	}
	t.Cleanup(func() { unix.Close(s.fd) })
	return s
}

func (s *sender) send(t *testing.T, frames ...[]byte) {
	t.Helper()
	for _, f := range frames {
		if err := unix.Sendto(s.fd, f, 0, &unix.SockaddrLinklayer{Ifindex: s.ifindex}); err != nil {
			t.Fatalf("send: %v", err)
		}
	}
}

// collect reads frames until it has seen want (compared whole) or the
// capture ends; it returns everything it read.
func collect(t *testing.T, l *Live, want []byte) [][]byte {
	t.Helper()
	var got [][]byte
	for {
		data, _, err := l.Next()
		if err != nil {
			t.Fatalf("Next: %v (after %d frames)", err, len(got))
		}
		got = append(got, append([]byte(nil), data...))
		if bytes.Equal(data, want) {
			return got
		}
	}
}

// closeAfter closes l if the test is still waiting after d, so a capture
// that never sees its frames fails instead of hanging.
func closeAfter(t *testing.T, l *Live, d time.Duration) {
	timer := time.AfterFunc(d, func() { l.Close() })
	t.Cleanup(func() { timer.Stop() })
}

func TestLiveInNetns(t *testing.T) {
	a, b := nsPair(t)
	l, err := OpenLive("b0", LiveOptions{Netns: b, Filter: "vrrp or arp"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	closeAfter(t, l, 20*time.Second)
	if l.Name() != "b0 (netns "+b+")" || l.LinkType() != 1 {
		t.Errorf("Name %q LinkType %v", l.Name(), l.LinkType())
	}
	// The capture socket stays in b: this thread's namespace has no b0.
	if _, err := net.InterfaceByName("b0"); err == nil {
		t.Error("b0 visible in the test's own namespace")
	}

	s := newSender(t, a, "a0")
	// ICMP does not pass "vrrp or arp"; the marker frame ends the wait.
	s.send(t, benchICMP, benchVRRP, benchICMP, benchARP)
	got := collect(t, l, benchARP)
	if len(got) != 2 || !bytes.Equal(got[0], benchVRRP) {
		t.Fatalf("got %d frames %x, want the VRRP and the ARP frame", len(got), got)
	}

	// Narrow to IGMP: VRRP and ARP no longer pass.
	if err := l.SetFilter("igmp"); err != nil {
		t.Fatal(err)
	}
	s.send(t, benchVRRP, benchARP, benchICMP, benchIGMP)
	if got = collect(t, l, benchIGMP); len(got) != 1 {
		t.Fatalf("after SetFilter(igmp): %d frames, want only the IGMP one", len(got))
	}

	// An empty filter takes everything.
	if err := l.SetFilter(""); err != nil {
		t.Fatal(err)
	}
	s.send(t, benchICMP, benchIGMP)
	if got = collect(t, l, benchIGMP); len(got) != 2 || !bytes.Equal(got[0], benchICMP) {
		t.Fatalf("after SetFilter(\"\"): %d frames, want ICMP then IGMP", len(got))
	}

	received, dropped, err := l.Stats()
	if err != nil {
		t.Fatal(err)
	}
	// libpcap counts what passed the kernel filter: at least the 5 frames
	// read above, at most the 10 sent.
	if received < 5 || received > 10 || dropped != 0 {
		t.Errorf("Stats = %d received, %d dropped; want 5..10, 0", received, dropped)
	}

	err = l.SetFilter("vrrp and")
	var ce *Error
	if !errors.As(err, &ce) || !errors.Is(err, ErrBadFilter) || !strings.Contains(err.Error(), `bad filter "vrrp and": `) {
		t.Errorf("SetFilter(\"vrrp and\") = %v, want a bad filter *Error", err)
	}
}

func TestLiveCloseUnblocksNext(t *testing.T) {
	_, b := nsPair(t)
	l, err := OpenLive("b0", LiveOptions{Netns: b, Filter: "udp port 9"})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, _, err := l.Next()
		done <- err
	}()
	time.Sleep(300 * time.Millisecond) // let Next block in libpcap
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != io.EOF {
			t.Errorf("Next after Close = %v, want io.EOF", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Next still blocked 10 s after Close")
	}
	if _, _, err := l.Next(); err != io.EOF {
		t.Errorf("Next on a closed capture = %v, want io.EOF", err)
	}
	if _, _, err := l.Stats(); err == nil {
		t.Error("Stats on a closed capture succeeded")
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestLiveErrors(t *testing.T) {
	_, b := nsPair(t)
	ip(t, "-n", b, "link", "add", "d0", "type", "veth", "peer", "name", "d1") // left down
	for _, tc := range []struct {
		iface string
		opt   LiveOptions
		want  string
		is    error
	}{
		{"nope0", LiveOptions{Netns: b},
			"nope0 (netns " + b + "): no such interface (have: b0, d0, d1, lo)", nil},
		{"d0", LiveOptions{Netns: b},
			"d0 (netns " + b + "): interface is down (ip link set d0 up)", nil},
		{"b0", LiveOptions{Netns: b, Filter: "vrrp and"},
			"b0 (netns " + b + `): bad filter "vrrp and": `, ErrBadFilter},
		{"b0", LiveOptions{Netns: b + "-missing"},
			"b0 (netns " + b + "-missing): network namespace \"" + b + "-missing\": no such file or directory", nil},
	} {
		l, err := OpenLive(tc.iface, tc.opt)
		if err == nil {
			l.Close()
			t.Errorf("OpenLive(%s, %+v) succeeded", tc.iface, tc.opt)
			continue
		}
		var ce *Error
		if !errors.As(err, &ce) || !strings.HasPrefix(err.Error(), tc.want) || (tc.is != nil && !errors.Is(err, tc.is)) {
			t.Errorf("OpenLive(%s, %+v):\n got %v\nwant %s...", tc.iface, tc.opt, err, tc.want)
		}
	}
}
