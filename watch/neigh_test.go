package watch

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"
)

// macOf reads the MAC of eth1 in a lab host.
func (l *testLab) macOf(host string) string { return l.lab.Host(host).MAC.String() }

// TestNeighbourEntries follows the client's neighbour entry for the VIP
// across a graceful failover: a client that accepts the new master's GARP
// shows the entry moving to the new master's MAC; a client that drops ARP
// from the new master keeps the old master's MAC, and the engine reports
// local-stale-arp for it (and only for it).
func TestNeighbourEntries(t *testing.T) {
	for _, ignore := range []bool{false, true} {
		name := map[bool]string{false: "follows", true: "ignores"}[ignore]
		t.Run(name, func(t *testing.T) {
			l := newTestLab(t)
			l.addHost("r1", "192.168.33.101/24")
			l.addHost("r2", "192.168.33.102/24")
			cl := l.addHost("cl", "192.168.33.2/24")
			mac1, mac2 := l.macOf("r1"), l.macOf("r2")
			if ignore {
				l.nft("cl", "add table arp vwtest; add chain arp vwtest in { type filter hook input priority 0; }; add rule arp vwtest in arp saddr ether "+mac2+" drop")
			}
			rec := &lineRecorder{}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				_, err := Run(ctx, Config{Interface: "eth1", Netns: cl, Neighbours: true, Out: rec, Err: rec})
				done <- err
			}()
			defer func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("watch: %v", err)
				}
			}()
			time.Sleep(300 * time.Millisecond)
			r1 := l.keepalived("r1", 100, "MASTER")
			l.keepalived("r2", 10, "BACKUP")
			i, _ := rec.waitLine(t, 0, 10*time.Second, "192.168.33.101 is master")
			l.clientTraffic("cl", "192.168.33.100")
			i, _ = rec.waitLine(t, i, 5*time.Second, "neighbour entry for 192.168.33.100: "+mac1)
			stopProc(r1, 5*time.Second)
			rec.waitLine(t, i, 5*time.Second, "FAILOVER", "192.168.33.102")
			time.Sleep(3 * time.Second)
			var last string
			re := regexp.MustCompile(`neighbour entry for 192\.168\.33\.100: ([0-9a-f:]{17})`)
			for _, ln := range rec.snapshot() {
				if m := re.FindStringSubmatch(ln.text); m != nil {
					last = m[1]
				}
			}
			stale := false
			for _, ln := range rec.snapshot() {
				stale = stale || strings.Contains(ln.text, "local-stale-arp")
			}
			if stale != ignore {
				t.Errorf("local-stale-arp reported %v, want %v (the client %s the GARP):\n%s", stale, ignore, name, joinLines(rec.snapshot()))
			}
			switch {
			case !ignore && last != mac2:
				t.Errorf("after the failover the entry shown is %q, want the new master's %s:\n%s", last, mac2, joinLines(rec.snapshot()))
			case ignore && last != mac1:
				t.Errorf("a client dropping the new master's ARP shows %q, want the old master's %s:\n%s", last, mac1, joinLines(rec.snapshot()))
			}
		})
	}
}
