package analyze_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vrrpctl/vrrpctl/analyze"
	"github.com/vrrpctl/vrrpctl/internal/pcapgen"
	"github.com/vrrpctl/vrrpctl/merge"
)

// TestVantageScenarios analyzes each generated incident from the captures
// of the client and both routers together, clocks off by seconds and an
// hour, and checks the conclusions only several captures allow.
func TestVantageScenarios(t *testing.T) {
	for _, sc := range pcapgen.VantageScenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			w, vs, want := sc.Build()
			a := analyzeVantages(t, w, vs)
			got := codes(a)
			for _, c := range want.Must {
				if got[c] == 0 {
					t.Errorf("missing finding %s", c)
				}
			}
			for _, c := range want.MustNot {
				if got[c] > 0 {
					t.Errorf("unexpected finding %s", c)
				}
			}
			for _, f := range a.Findings {
				if want.Quiet && f.Severity != analyze.Info && !slices.Contains(want.Must, f.Code) {
					t.Errorf("unexpected %s %s: %s", f.Severity, f.Code, f.Summary)
				}
				if at, ok := want.At[f.Code]; ok && !strings.Contains(f.Summary, at) {
					t.Errorf("%s does not name %s: %s", f.Code, at, f.Summary)
				}
				if len(f.Frames) > 0 && len(f.FramesAt) == 0 {
					t.Errorf("%s has no frames per capture", f.Code)
				}
			}
			if len(a.Failovers) != want.Failovers || len(a.SplitBrains) != want.SplitBrains {
				t.Errorf("%d failovers, %d split brains; want %d, %d", len(a.Failovers), len(a.SplitBrains), want.Failovers, want.SplitBrains)
			}
			if want.SplitBrains > 0 && len(a.SplitBrains) > 0 && !strings.Contains(a.SplitBrains[0].Cause, "one-way loss") {
				t.Errorf("split brain cause %q does not name the advert loss", a.SplitBrains[0].Cause)
			}
			if len(a.Sources) != len(vs) {
				t.Errorf("sources %+v", a.Sources)
			}
			if t.Failed() {
				for _, f := range a.Findings {
					t.Logf("%s %s %v %v: %s", f.Severity, f.Code, f.Frames, f.FramesAt, f.Summary)
				}
				t.Logf("story: %s", sc.Story)
			}
		})
	}
}

// analyzeVantages writes each vantage's capture and analyzes them merged;
// names carry the host's address (NAME@ADDR).
func analyzeVantages(t *testing.T, w *pcapgen.Writer, vs []pcapgen.Vantage) *analyze.Analysis {
	t.Helper()
	dir := t.TempDir()
	var inputs []merge.Input
	for _, v := range vs {
		b, err := w.View(v)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, v.Name+".pcap")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, merge.Input{Name: v.Name + "@" + v.Host.IP.String(), Path: path})
	}
	m, err := merge.Open(inputs, merge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for _, u := range m.Unaligned() {
		t.Fatalf("%s not aligned: %s", u.Vantage.Name, u.Reason)
	}
	a, err := analyze.RunMerged(m, analyze.Options{File: "merged"})
	if err != nil {
		t.Fatal(err)
	}
	return a
}
