package analyze_test

import (
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vrrpctl/vrrpctl/analyze"
	"github.com/vrrpctl/vrrpctl/capture"
)

// truth is what happened in a recorded capture, written from the routers'
// logs and the frames, not from the analyzer (testdata/*.truth.json,
// described in testdata/README.md).
type truth struct {
	Capture        string `json:"capture"`
	Implementation string `json:"implementation"`
	Failovers      []struct {
		From, To     string
		Cause        string
		First        uint64  `json:"new_master_first_advert_frame"`
		FirstGARP    *uint64 `json:"first_garp_frame"`
		PriorityDrop *struct {
			From, To int
		} `json:"priority_drop"`
	} `json:"failovers"`
	SplitBrains []struct {
		Routers    []string `json:"routers"`
		StartFrame uint64   `json:"start_frame"`
		EndFrame   uint64   `json:"end_frame"`
		// VRRPVisible false: the routers' logs say both were master, but
		// nothing on the wire tells who sent what.
		VRRPVisible *bool `json:"vrrp_visible"`
	} `json:"split_brains"`
	MasterAtEnd string `json:"master_at_end"`
}

// TestRecordedTruth replays every recorded capture of another
// implementation than keepalived without a virtual MAC (keepalived with
// use_vmac, FRR's vrrpd over IPv4 and IPv6) and checks each failover (who,
// cause, first advert, priority drop, GARP latency), each split brain the
// wire shows, the master at the end, and that nothing else rose above
// info.
func TestRecordedTruth(t *testing.T) {
	files, err := filepath.Glob("../testdata/*.truth.json")
	if err != nil || len(files) < 8 {
		t.Fatalf("truth files: %v, %v", files, err)
	}
	for _, file := range files {
		var tr truth
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &tr); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		t.Run(tr.Capture, func(t *testing.T) {
			path := filepath.Join("../testdata", tr.Capture)
			a := analyzeFile(t, path, analyze.Options{})
			times := frameTimes(t, path)
			checkTruth(t, a, tr, times)
			if t.Failed() {
				t.Logf("implementation: %s", tr.Implementation)
				for _, f := range a.Findings {
					t.Logf("finding %s %s %v: %s", f.Severity, f.Code, f.Frames, f.Summary)
				}
			}
		})
	}
}

func checkTruth(t *testing.T, a *analyze.Analysis, tr truth, times map[uint64]time.Time) {
	t.Helper()
	if len(a.Failovers) != len(tr.Failovers) {
		t.Errorf("failovers = %d, want %d: %+v", len(a.Failovers), len(tr.Failovers), a.Failovers)
	} else {
		for i, want := range tr.Failovers {
			fo := a.Failovers[i]
			if fo.From.IP != want.From || fo.To.IP != want.To || fo.Cause != want.Cause || fo.Frame != want.First {
				t.Errorf("failover %d = %s -> %s %s at frame %d, want %s -> %s %s at frame %d", i,
					fo.From.IP, fo.To.IP, fo.Cause, fo.Frame, want.From, want.To, want.Cause, want.First)
			}
			if fo.PriorityDrop != (want.PriorityDrop != nil) {
				t.Errorf("failover %d priority_drop = %v (%s), want %v", i, fo.PriorityDrop, fo.Reason, want.PriorityDrop != nil)
			}
			switch {
			case want.FirstGARP == nil && fo.GarpMS != nil:
				t.Errorf("failover %d garp_ms = %.1f, want none", i, *fo.GarpMS)
			case want.FirstGARP != nil && fo.GarpMS == nil:
				t.Errorf("failover %d garp_ms = none, want the GARP of frame %d", i, *want.FirstGARP)
			case want.FirstGARP != nil:
				// From the new master's first advert; negative when it
				// announced the VIP before it.
				garp := float64(times[*want.FirstGARP].Sub(times[want.First])) / float64(time.Millisecond)
				if math.Abs(*fo.GarpMS-garp) > 0.01 {
					t.Errorf("failover %d garp_ms = %.3f, want %.3f (frame %d)", i, *fo.GarpMS, garp, *want.FirstGARP)
				}
			}
			if fo.ExpectedMS > 0 && fo.DetectMS > fo.ExpectedMS*1.25+100 {
				t.Errorf("failover %d took %.1f ms against the RFC's %.1f", i, fo.DetectMS, fo.ExpectedMS)
			}
		}
	}
	visible := 0
	for _, sb := range tr.SplitBrains {
		if sb.VRRPVisible != nil && !*sb.VRRPVisible {
			continue
		}
		visible++
		if len(a.SplitBrains) < visible {
			t.Errorf("split brain from frame %d to %d not reported", sb.StartFrame, sb.EndFrame)
			continue
		}
		got := a.SplitBrains[visible-1]
		if got.StartFrame != sb.StartFrame || got.EndFrame != sb.EndFrame {
			t.Errorf("split brain frames %d-%d, want %d-%d", got.StartFrame, got.EndFrame, sb.StartFrame, sb.EndFrame)
		}
	}
	if len(a.SplitBrains) != visible {
		t.Errorf("split brains = %d, want %d: %+v", len(a.SplitBrains), visible, a.SplitBrains)
	}
	master := ""
	if len(a.Groups) == 1 && a.Groups[0].Master != nil {
		master = a.Groups[0].Master.IP
	}
	if len(a.Groups) != 1 || master != tr.MasterAtEnd {
		t.Errorf("groups %d, master at end %q, want one group, %q", len(a.Groups), master, tr.MasterAtEnd)
	}
	for _, f := range a.Findings {
		if f.Severity != analyze.Info && !(f.Code == analyze.CodeSplitBrain && visible > 0) {
			t.Errorf("%s %s: %s", f.Severity, f.Code, f.Summary)
		}
	}
}

// frameTimes reads the capture's frame times by frame number.
func frameTimes(t *testing.T, path string) map[uint64]time.Time {
	t.Helper()
	src, err := capture.OpenFile(path, "")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	out := make(map[uint64]time.Time)
	for n := uint64(1); ; n++ {
		_, ci, err := src.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out[n] = ci.Timestamp
	}
}
