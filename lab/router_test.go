package lab

import (
	"testing"
	"time"

	"github.com/vrrpctl/vrrpctl/internal/testenv"
)

func TestKeepalivedElects(t *testing.T) {
	needRoot(t)
	testenv.NeedTool(t, "keepalived")
	l, err := New()
	if err != nil {
		t.Fatal(err)
	}
	id := l.ID
	defer func() { l.Close(); assertGone(t, id) }()
	w, err := l.WatchVIP(Here, []string{Nat1, Nat2}, VIP.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	for _, s := range []RouterSpec{
		{Host: Nat1, Impl: ImplKeepalived, Priority: 100, Master: true, Version: 2, AdvertInt: time.Second, GARP: DefaultGARP()},
		{Host: Nat2, Impl: ImplKeepalived, Priority: 10, Version: 2, AdvertInt: time.Second, GARP: DefaultGARP()},
	} {
		if _, err := l.StartRouter(s, nil); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(8 * time.Second)
	for time.Now().Before(deadline) {
		if h := w.Holders(); len(h) == 1 && h[0] == Nat1 {
			t.Logf("nat1 master after %v", w.Addrs()[0].Time)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("VIP holders %v, want nat1", w.Holders())
}

func TestDefaultGARP(t *testing.T) {
	if got, want := DefaultGARP(), (GARP{Repeat: 5, Delay: 5 * time.Second}); got != want {
		t.Errorf("DefaultGARP() = %+v; want %+v", got, want)
	}
}
