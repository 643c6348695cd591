package analyze_test

import (
	"errors"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/vrrpctl/vrrpctl/analyze"
	"github.com/vrrpctl/vrrpctl/decode"
)

// A capture whose first frames cannot be decoded still starts at its first
// frame: the report must not show a year-1 start.
func TestDecodeErrorFirst(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 19, 0, 0, 0, time.UTC)
	e := analyze.NewEngine(analyze.Options{})
	e.DecodeError(1, t0, &decode.FrameError{Number: 1, Kind: decode.KindVRRP, Err: errors.New("vrrp: auth type 1 (pass) needs 8 bytes")})
	e.Feed(&decode.Frame{Number: 2, Time: t0.Add(time.Second), LinkType: layers.LinkTypeEthernet, HasDstMAC: true})
	a := e.Finish()
	if !a.Source.Start.Equal(t0) || !a.Source.End.Equal(t0.Add(time.Second)) {
		t.Errorf("span %v .. %v, want %v .. +1 s", a.Source.Start, a.Source.End, t0)
	}
	if a.Source.LinkType != "Ethernet" || a.Source.Frames != 2 || a.Source.DecodeErrors != 1 {
		t.Errorf("source = %+v", a.Source)
	}
	if len(a.Errors) != 1 || a.Errors[0].Frame != 1 || a.Errors[0].Error != "vrrp: auth type 1 (pass) needs 8 bytes" {
		t.Errorf("errors = %+v", a.Errors)
	}
}

// Timeline events say who acted and whom it addressed, as fields: the
// report draws lanes and arrows from them, never from the summaries.
func TestEventParties(t *testing.T) {
	a := analyzeFile(t, "../testdata/failover.pcap", analyze.Options{})
	want := map[string][2]string{
		"join":     {"192.168.33.101", "224.0.0.18"},
		"master":   {"192.168.33.101", ""},
		"adverts":  {"192.168.33.101", "224.0.0.18"},
		"garp":     {"192.168.33.101", "broadcast"},
		"arp":      {"192.168.33.100", "192.168.33.2"},
		"resign":   {"192.168.33.101", "224.0.0.18"},
		"failover": {"192.168.33.101", "192.168.33.102"},
	}
	for _, ev := range a.Timeline {
		w, ok := want[ev.Kind]
		if !ok {
			continue
		}
		if ev.Source != w[0] || ev.Target != w[1] {
			t.Errorf("first %s event (frame %d): source %q target %q, want %q %q", ev.Kind, ev.Frame, ev.Source, ev.Target, w[0], w[1])
		}
		delete(want, ev.Kind)
	}
	for kind := range want {
		t.Errorf("no %s event", kind)
	}
	// The client that kept the old MAC in the generated stale capture has
	// its stale period as times, for the picture's red bar.
	for _, fo := range a.Failovers {
		for _, c := range fo.Clients {
			if c.StaleFrames == 0 && (!c.StaleFrom.IsZero() || !c.StaleTo.IsZero()) {
				t.Errorf("client %s: stale period without stale frames", c.IP)
			}
		}
	}
}
