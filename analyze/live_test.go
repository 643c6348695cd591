package analyze_test

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/vrrpctl/vrrpctl/analyze"
	"github.com/vrrpctl/vrrpctl/capture"
	"github.com/vrrpctl/vrrpctl/decode"
	"github.com/vrrpctl/vrrpctl/internal/pcapgen"
)

// TestLive replays generated captures frame by frame and reads the engine's
// live state after each: a split brain while it lasts, stale clients while
// they send to the old master, the master's advert gaps; none of them in a
// healthy failover.
func TestLive(t *testing.T) {
	type seen struct {
		split, endSplit    bool
		maxStale, endStale int
		gaps, missed       uint64
		groups             int
	}
	replay := func(t *testing.T, name string) seen {
		t.Helper()
		var sc *pcapgen.Scenario
		for _, s := range pcapgen.Scenarios() {
			if s.Name == name {
				sc = &s
				break
			}
		}
		if sc == nil {
			t.Fatalf("no scenario %s", name)
		}
		data, _, err := sc.Generate()
		if err != nil {
			t.Fatal(err)
		}
		src, err := capture.OpenReader(name+".pcap", bytes.NewReader(data), "")
		if err != nil {
			t.Fatal(err)
		}
		dec, err := decode.NewDecoder(src.LinkType())
		if err != nil {
			t.Fatal(err)
		}
		e := analyze.NewEngine(analyze.Options{File: name})
		var out seen
		var n uint64
		var last time.Time
		read := func(live []analyze.LiveGroup) {
			out.groups = len(live)
			out.endSplit, out.endStale, out.gaps, out.missed = false, 0, 0, 0
			for _, g := range live {
				out.endSplit = out.endSplit || g.SplitBrain
				out.endStale += g.StaleClients
				for _, s := range g.Speakers {
					out.gaps += s.AdvertGaps
					out.missed += s.MissedAdverts
				}
			}
			out.split = out.split || out.endSplit
			out.maxStale = max(out.maxStale, out.endStale)
		}
		for {
			b, ci, err := src.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			n++
			var f decode.Frame
			if err := dec.Decode(b, ci, n, &f); err != nil {
				e.DecodeError(n, ci.Timestamp, err)
				continue
			}
			e.Feed(&f)
			last = f.Time
			read(e.Live(f.Time))
		}
		// Time goes on after the capture, as it does live: what was under
		// way at its end is concluded.
		end := last.Add(10 * time.Second)
		e.Advance(end)
		read(e.Live(end))
		return out
	}

	if s := replay(t, "healthy-v2"); s.split || s.maxStale != 0 || s.gaps != 0 || s.groups != 1 {
		t.Errorf("healthy-v2: %+v; want no split brain, no stale client, no gap, one group", s)
	}
	if s := replay(t, "split-brain"); !s.split || s.endSplit {
		t.Errorf("split-brain: %+v; want a split brain that ends", s)
	}
	if s := replay(t, "client-ignores-garp"); s.maxStale != 1 || s.endStale != 0 || s.split {
		t.Errorf("client-ignores-garp: %+v; want one stale client, none once it followed", s)
	}
	if s := replay(t, "advert-gap"); s.gaps != 1 || s.missed < 1 || s.split {
		t.Errorf("advert-gap: %+v; want one gap with adverts missed", s)
	}
}
