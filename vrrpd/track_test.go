package vrrpd

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestTrackResult pins keepalived's tracking arithmetic: weights while up
// or down, reverse, weight 0 as FAULT, files as value × weight, the
// clamping to 1-254 and the address owner's fixed priority.
func TestTrackResult(t *testing.T) {
	for _, c := range []struct {
		name  string
		base  uint8
		items []trackItem
		prio  uint8
		fault bool
	}{
		{"nothing", 100, nil, 100, false},
		{"negative weight, up", 100, []trackItem{{weight: -20, up: true}}, 100, false},
		{"negative weight, down", 100, []trackItem{{weight: -20}}, 80, false},
		{"positive weight, up", 100, []trackItem{{weight: 15, up: true}}, 115, false},
		{"positive weight, down", 100, []trackItem{{weight: 15}}, 100, false},
		{"reverse: down counts as up", 100, []trackItem{{weight: -20, reverse: true}}, 100, false},
		{"reverse: up counts as down", 100, []trackItem{{weight: -20, reverse: true, up: true}}, 80, false},
		{"no weight, down: fault", 100, []trackItem{{up: false}, {weight: -10, up: true}}, 100, true},
		{"no weight, up", 100, []trackItem{{up: true}}, 100, false},
		{"sum", 100, []trackItem{{weight: -30}, {weight: 10, up: true}, {weight: -5}}, 75, false},
		{"at least 1", 10, []trackItem{{weight: -50}}, 1, false},
		{"at most 254", 250, []trackItem{{weight: 50, up: true}}, 254, false},
		{"file: value × weight", 100, []trackItem{{file: true, weight: -3, value: 5}}, 85, false},
		{"file: reverse", 100, []trackItem{{file: true, weight: -3, value: 5, reverse: true}}, 115, false},
		{"file: weight 0, 0 is up", 100, []trackItem{{file: true, value: 0}}, 100, false},
		{"file: weight 0, non-zero is fault", 100, []trackItem{{file: true, value: 2}}, 100, true},
		{"file: -254 is fault", 100, []trackItem{{file: true, weight: -1, value: 254}}, 100, true},
		{"owner keeps 255", 255, []trackItem{{weight: -50}}, 255, false},
		{"owner faults", 255, []trackItem{{}}, 255, true},
	} {
		prio, fault := trackResult(c.base, c.items)
		if prio != c.prio || fault != c.fault {
			t.Errorf("%s: priority %d fault %v; want %d %v", c.name, prio, fault, c.prio, c.fault)
		}
	}
}

// TestScriptRiseFall: a script goes down after fall failures in a row and
// up after rise successes in a row; a result that agrees resets the count.
func TestScriptRiseFall(t *testing.T) {
	st := &scriptState{cfg: ScriptConfig{Rise: 2, Fall: 3}, up: true}
	var changes []bool
	for _, ok := range []bool{false, false, true, false, false, false, true, false, true, true, true} {
		if st.result(ok) {
			changes = append(changes, st.up)
		}
	}
	if !reflect.DeepEqual(changes, []bool{false, true}) || !st.up {
		t.Errorf("changes %v, up %v; want down after the 3rd failure in a row, up after 2 successes", changes, st.up)
	}
}

func TestSplitCommand(t *testing.T) {
	for in, want := range map[string][]string{
		`/bin/check`:                    {"/bin/check"},
		`/bin/check  a 'b c' "d e"f`:    {"/bin/check", "a", "b c", "d ef"},
		`  /usr/bin/killall -0 haproxy`: {"/usr/bin/killall", "-0", "haproxy"},
	} {
		if got := splitCommand(in); !reflect.DeepEqual(got, want) {
			t.Errorf("splitCommand(%q) = %q; want %q", in, got, want)
		}
	}
}

// TestRunScript runs real scripts: a failing script is reported down after
// fall runs and up again after rise runs, a script that outlives its
// timeout is killed and counts as a failure, runs never overlap, and the
// output reaches the log.
func TestRunScript(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	runs := filepath.Join(dir, "runs")
	script := filepath.Join(dir, "check.sh")
	os.WriteFile(script, []byte("#!/bin/sh\necho start >> "+runs+"\necho checking\nread v < "+state+"\n[ \"$v\" = slow ] && sleep 5\necho end >> "+runs+"\n[ \"$v\" = ok ]\n"), 0o755)
	os.WriteFile(state, []byte("ok\n"), 0o644)
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	updates := make(chan trackUpdate, 8)
	sc := ScriptConfig{Name: "chk", Command: script, Interval: 50 * time.Millisecond, Timeout: 200 * time.Millisecond, Rise: 2, Fall: 2}
	done := make(chan struct{})
	go func() { runScript(ctx, log, sc, true, updates); close(done) }()
	next := func(what string) trackUpdate {
		t.Helper()
		select {
		case u := <-updates:
			return u
		case <-time.After(5 * time.Second):
			t.Fatalf("no update: %s", what)
		}
		return trackUpdate{}
	}
	time.Sleep(150 * time.Millisecond)
	os.WriteFile(state, []byte("fail\n"), 0o644)
	if u := next("down"); u.script != "chk" || u.up {
		t.Errorf("update %+v; want chk down", u)
	}
	os.WriteFile(state, []byte("ok\n"), 0o644)
	if u := next("up"); !u.up {
		t.Errorf("update %+v; want up", u)
	}
	os.WriteFile(state, []byte("slow\n"), 0o644)
	start := time.Now()
	if u := next("down by timeout"); u.up {
		t.Errorf("update %+v; want down", u)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("timed-out runs took %v to count", d)
	}
	cancel()
	<-done
	// Runs never overlap: the loop waits for each (killed or not) before
	// the next; every run that was not killed wrote its end (two were
	// killed by the timeout, one maybe by the end of the test).
	data, _ := os.ReadFile(runs)
	if starts, ends := strings.Count(string(data), "start"), strings.Count(string(data), "end"); starts-ends > 3 || ends == 0 {
		t.Errorf("%d runs started, %d ended", starts, ends)
	}
	if !strings.Contains(logs.String(), "line=checking") {
		t.Errorf("script output not logged:\n%s", logs.String())
	}
}

// TestNotifyScripts: the state's own script first, then the generic one
// with keepalived's arguments; a group's gets no priority.
func TestNotifyScripts(t *testing.T) {
	own := map[State]string{StateMaster: "/m", StateInitialize: "/stop"}
	got := notifyScripts("INSTANCE", "VI_1", StateMaster, 150, own, "/any")
	want := []notifyJob{{owner: "VI_1", script: "/m"}, {owner: "VI_1", script: "/any", args: []string{"INSTANCE", "VI_1", "MASTER", "150"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	got = notifyScripts("GROUP", "G", StateInitialize, 0, own, "/any")
	want = []notifyJob{{owner: "G", script: "/stop"}, {owner: "G", script: "/any", args: []string{"GROUP", "G", "STOP"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

// TestNotifierOrder: the scripts of one queue run one at a time, in order,
// a slow one killed at the timeout without holding the others forever.
func TestNotifierOrder(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	n := newNotifier(context.Background(), slog.New(slog.NewTextHandler(&syncBuffer{}, nil)), 300*time.Millisecond)
	for i, s := range []string{"sleep 0.1; echo a", "echo b", "sleep 5; echo never", "echo c"} {
		n.add(notifyJob{owner: "x", script: "(" + s + ") >> " + out + "; echo", args: []string{string(rune('0' + i))}})
	}
	start := time.Now()
	n.wait(5 * time.Second)
	data, _ := os.ReadFile(out)
	if got := strings.Fields(string(data)); !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
		t.Errorf("ran %q; want a b c in order, the slow one killed", got)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v: the timeout did not kill the slow script", d)
	}
}

// TestSyncFaultEvents: a member in FAULT of its own holds the others in
// FAULT; when none is left, they are let go.
func TestSyncFaultEvents(t *testing.T) {
	mk := func() *Router {
		r, err := NewRouter(RouterConfig{Name: "r", Interface: "eth1", VRID: 1, Priority: 100, Version: 3,
			AdvertInterval: time.Second, VIPs: []netip.Prefix{netip.MustParsePrefix("192.168.33.100/24")},
			Primary: netip.MustParseAddr("192.168.33.101")})
		if err != nil {
			t.Fatal(err)
		}
		r.Handle(time.Unix(0, 0), Event{Kind: EventStartup})
		return r
	}
	a, b := mk(), mk()
	now := time.Unix(1, 0)
	a.Handle(now, Event{Kind: EventTrackFault})
	evs := syncFaultEvents([]*Router{a, b})
	if !reflect.DeepEqual(evs, []EventKind{eventNone, EventSyncFault}) {
		t.Fatalf("events %v", evs)
	}
	b.Handle(now, Event{Kind: EventSyncFault})
	if b.State() != StateFault || b.OwnFault() {
		t.Errorf("b: %v own fault %v", b.State(), b.OwnFault())
	}
	a.Handle(now, Event{Kind: EventTrackOK})
	evs = syncFaultEvents([]*Router{a, b})
	if !reflect.DeepEqual(evs, []EventKind{eventNone, EventSyncOK}) {
		t.Fatalf("events after recovery %v", evs)
	}
	b.Handle(now, Event{Kind: EventSyncOK})
	if b.State() != StateBackup {
		t.Errorf("b: %v after the group recovered", b.State())
	}
	if st := groupState([]*Router{a, b}, StateFault); st != StateBackup {
		t.Errorf("group state %v", st)
	}
}

// failingConn is a socket whose every read fails.
type failingConn struct{ reads atomic.Int64 }

func (c *failingConn) ReadAdvert([]byte) (int, rxInfo, error) {
	c.reads.Add(1)
	return 0, rxInfo{}, errors.New("ENOBUFS")
}
func (c *failingConn) WriteAdvert([]byte, netip.Addr, netip.Addr, int) error { return nil }
func (c *failingConn) Join(netip.Addr) error                                 { return nil }
func (c *failingConn) Close() error                                          { return nil }

// TestReaderBacksOff: a socket that keeps failing is read again after 1 ms,
// 2 ms, 4 ms ... up to a second, not in a busy loop, and the failure is
// logged once.
func TestReaderBacksOff(t *testing.T) {
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	h := &runState{s: &Speaker{log: slog.New(slog.NewTextHandler(&logs, nil))}, rctx: ctx, rx: make(chan rxMsg)}
	c := &failingConn{}
	h.startReader(&iface{name: "eth1"}, nil, c, false)
	time.Sleep(300 * time.Millisecond)
	cancel()
	h.wg.Wait()
	// 1+2+4+...+256 ms: about 9 reads in 300 ms.
	if n := c.reads.Load(); n < 5 || n > 12 {
		t.Errorf("%d reads of a failing socket in 300 ms; want about 9", n)
	}
	if n := strings.Count(logs.String(), "reading adverts"); n != 1 {
		t.Errorf("the failure logged %d times; want once", n)
	}
}
