package analyze_test

import (
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vrrpctl/vrrpctl/analyze"
	"github.com/vrrpctl/vrrpctl/decode"
)

// feedWithNeighbour replays failover.pcap through an engine, and calls hook
// before each frame so a test can say what this host's neighbour table held.
func feedWithNeighbour(t *testing.T, hook func(e *analyze.Engine, frame uint64, at time.Time)) *analyze.Analysis {
	t.Helper()
	r := loadReplay(t, "../testdata/failover.pcap", 1)
	e := analyze.NewEngine(analyze.Options{})
	dec, err := decode.NewDecoder(r.lt)
	if err != nil {
		t.Fatal(err)
	}
	var f decode.Frame
	for n := uint64(1); ; n++ {
		data, ci, err := r.Next()
		if err == io.EOF {
			break
		}
		hook(e, n, ci.Timestamp)
		if err := dec.Decode(data, ci, n, &f); err != nil {
			t.Fatal(err)
		}
		e.Feed(&f)
	}
	return e.Finish()
}

var (
	vip     = netip.MustParseAddr("192.168.33.100")
	nat1MAC = decode.MAC{0x42, 0x27, 0xce, 0x07, 0x10, 0xa3}
	nat2MAC = decode.MAC{0xba, 0x2e, 0x73, 0x81, 0x71, 0x78}
)

// The host kept nat1's MAC after nat2 took over at frame 43 until it
// resolved the VIP again at frame 108 (15.04 s): local-stale-arp, critical
// since it lasted over 5 s.
func TestLocalStaleARPFires(t *testing.T) {
	a := feedWithNeighbour(t, func(e *analyze.Engine, frame uint64, at time.Time) {
		switch frame {
		case 13: // after the client's ARP at frame 12: nat1's MAC, right
			e.NeighbourEntry(vip, nat1MAC, "reachable", at)
		case 50: // after the failover: still nat1's MAC, gone stale
			e.NeighbourEntry(vip, nat1MAC, "stale", at)
		case 109: // the reply of frame 108 corrected it
			e.NeighbourEntry(vip, nat2MAC, "reachable", at)
		case 190: // nat1 preempted at 185; its GARP at 186 moved the entry back
			e.NeighbourEntry(vip, nat1MAC, "stale", at)
		}
	})
	var fd *analyze.Finding
	for i := range a.Findings {
		if a.Findings[i].Code == analyze.CodeLocalStaleARP {
			if fd != nil {
				t.Fatalf("two local-stale-arp findings: %+v", a.Findings)
			}
			fd = &a.Findings[i]
		}
	}
	if fd == nil {
		t.Fatalf("no local-stale-arp: %+v", a.Findings)
	}
	if fd.Severity != analyze.Critical || !strings.Contains(fd.Summary, nat1MAC.String()) || !strings.Contains(fd.Summary, "for 5.") {
		t.Errorf("finding = %+v, want critical, naming %s, wrong for about 5 s", fd, nat1MAC)
	}
}

// An entry that follows the GARP within milliseconds, and one seen before
// any failover, raise nothing.
func TestLocalStaleARPQuiet(t *testing.T) {
	a := feedWithNeighbour(t, func(e *analyze.Engine, frame uint64, at time.Time) {
		switch frame {
		case 13:
			e.NeighbourEntry(vip, nat1MAC, "reachable", at)
		case 45: // the GARP of frame 44 moved it
			e.NeighbourEntry(vip, nat2MAC, "stale", at)
		case 190: // nat1 preempted at 185 and its GARP at 186 moved it back
			e.NeighbourEntry(vip, nat1MAC, "stale", at)
		}
	})
	if a.HasFinding(analyze.CodeLocalStaleARP) {
		t.Errorf("local-stale-arp on an entry that followed: %+v", a.Findings)
	}
}
