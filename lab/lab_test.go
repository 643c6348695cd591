package lab

import (
	"os"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/vrrpctl/vrrpctl/internal/testenv"
)

func needRoot(t *testing.T) {
	t.Helper()
	testenv.NeedRoot(t)
}

// assertGone fails the test if anything of run id is left on the machine,
// including on the host's own interfaces.
func assertGone(t *testing.T, id string) {
	t.Helper()
	if left := Remains(id); len(left) > 0 {
		t.Errorf("lab %s left behind: %v", id, left)
	}
	links, err := netlink.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range links {
		if len(l.Attrs().Name) > len(Prefix) && l.Attrs().Name[:len(Prefix)] == Prefix {
			t.Errorf("host link %s left behind", l.Attrs().Name)
		}
	}
	addrs, err := netlink.AddrList(nil, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if Subnet.Contains(addrFromIP(a.IP)) {
			t.Errorf("lab address %s is on the host", a.IPNet)
		}
	}
}

func TestLabPingAndClose(t *testing.T) {
	needRoot(t)
	l, err := New()
	if err != nil {
		t.Fatal(err)
	}
	id := l.ID
	defer func() {
		l.Close()
		assertGone(t, id)
	}()
	for _, ns := range l.Namespaces() {
		if _, err := os.Stat(netnsDir + "/" + ns); err != nil {
			t.Errorf("namespace %s missing: %v", ns, err)
		}
	}
	p, err := l.StartPinger(Here, l.Host(Nat1).Addr.Addr(), 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for p.LastReply().IsZero() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	first := len(p.Echos())
	time.Sleep(500 * time.Millisecond)
	echos := p.Stop(100 * time.Millisecond)[first-1:]
	answered := 0
	for _, e := range echos {
		if !e.Replied.IsZero() {
			answered++
		}
	}
	if len(echos) < 5 || answered < len(echos)-2 {
		t.Fatalf("nat1 answered %d of %d echoes", answered, len(echos))
	}

	// Unplugging nat1 stops the answers.
	if err := l.SetPort(Nat1, false); err != nil {
		t.Fatal(err)
	}
	p, err = l.StartPinger(Here, l.Host(Nat1).Addr.Addr(), 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond)
	for _, e := range p.Stop(100 * time.Millisecond) {
		if !e.Replied.IsZero() {
			t.Fatalf("echo %d answered through a port that is down", e.Seq)
		}
	}
}

func TestCleanupAfterLeftover(t *testing.T) {
	needRoot(t)
	l, err := New()
	if err != nil {
		t.Fatal(err)
	}
	// A process in the lab that outlives its creator, as after a SIGKILL.
	if _, err := l.Start(Nat1, "sleeper", []string{"sleep", "60"}, nil); err != nil {
		l.Close()
		t.Fatal(err)
	}
	if len(Processes(l.ID)) != 1 {
		t.Errorf("processes in lab: %v, want the sleeper", Processes(l.ID))
	}
	ids, err := Cleanup()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, id := range ids {
		found = found || id == l.ID
	}
	if !found {
		t.Errorf("Cleanup removed %v, not %s", ids, l.ID)
	}
	assertGone(t, l.ID)
	l.Close()
}
