package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vrrpctl/vrrpctl/analyze"
	"github.com/vrrpctl/vrrpctl/internal/testenv"
)

// vrrpctlBin is the vrrpctl binary built for these tests: the lab runs it
// as the speaker, and the command-line tests run it whole.
var vrrpctlBin string

func TestMain(m *testing.M) {
	code := func() int {
		if os.Geteuid() == 0 {
			// One test runs it as an unprivileged user: BuildVrrpctl's
			// directory is open to everyone.
			bin, remove, err := testenv.BuildVrrpctl()
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			defer remove()
			vrrpctlBin = bin
		}
		return m.Run()
	}()
	os.Exit(code)
}

func speakerCommand(conf string) ([]string, []string) {
	return []string{vrrpctlBin, "speaker", "--config", conf, "--listen", ""}, nil
}

// runOne stages one scenario and checks that nothing of the lab remains.
func runOne(t *testing.T, cfg Config, sc Scenario) *Result {
	t.Helper()
	cfg.Progress = testWriter{t}
	cfg.Speaker = speakerCommand
	rep, err := Run(context.Background(), cfg, []Scenario{sc})
	if rep != nil {
		for _, r := range rep.Results {
			assertGone(t, r.Lab)
		}
	}
	if err != nil {
		t.Fatalf("%s: %v", sc, err)
	}
	if len(rep.Results) != 1 {
		t.Fatalf("%d results for one scenario", len(rep.Results))
	}
	res := rep.Results[0]
	b, _ := json.MarshalIndent(res.Failovers, "", "  ")
	t.Logf("%s: pass=%v reasons=%v failovers=%s", sc, res.Pass, res.Reasons, b)
	for _, f := range res.Findings {
		t.Logf("finding %s %s: %s", f.Severity, f.Code, f.Summary)
	}
	if rep.Pass != res.Pass {
		t.Errorf("report pass %v, scenario pass %v", rep.Pass, res.Pass)
	}
	return res
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// checkTimely asserts a failover's detection is within tolerance of the RFC's time.
func checkTimely(t *testing.T, g FailoverGrade, tolerance float64) {
	t.Helper()
	if g.DetectMS == nil {
		t.Errorf("%s: no detection time (no advert from %s?)", g.Action, g.To)
		return
	}
	if math.Abs(*g.DetectMS-g.ExpectedMS) > tolerance {
		t.Errorf("%s: detection %.0f ms, RFC expects %.0f ms", g.Action, *g.DetectMS, g.ExpectedMS)
	}
	if g.GarpMS == nil {
		t.Errorf("%s: %s sent no GARP", g.Action, g.To)
	}
	if g.SwitchMS == nil && g.Cause != "preempt" {
		t.Errorf("%s: the client never sent to %s's MAC", g.Action, g.To)
	}
}

func hasCode(res *Result, code string) bool {
	for _, f := range res.Findings {
		if f.Code == code {
			return true
		}
	}
	return false
}

// checkCaptures asserts the three captures were merged, each on its host,
// the routers' clocks aligned with the client's (one kernel: the offset is
// the hop, microseconds).
func checkCaptures(t *testing.T, res *Result) {
	t.Helper()
	if len(res.Captures) != len(Vantages) {
		t.Fatalf("captures %+v: want %v", res.Captures, Vantages)
	}
	for i, v := range res.Captures {
		if v.Name != Vantages[i] || v.Host == "" || !v.Aligned || v.Frames == 0 {
			t.Errorf("capture %d: %+v", i, v)
		}
		if math.Abs(v.OffsetMS) > 1 {
			t.Errorf("%s's clock %+.3f ms off the client's, on the same machine", v.Name, v.OffsetMS)
		}
	}
}

// vantageCodes are the findings only several captures make.
var vantageCodes = []string{analyze.CodeGARPLost, analyze.CodeGARPIgnored, analyze.CodeAdvertLost, analyze.CodeNotSent}

// checkOnly asserts that of the findings only several captures make, just
// those of want are made, each naming its capture (code -> a phrase its
// summary holds), and nothing else of them.
func checkOnly(t *testing.T, res *Result, want map[string]string) {
	t.Helper()
	checkCaptures(t, res)
	for _, code := range vantageCodes {
		n := 0
		for _, f := range res.Findings {
			if f.Code != code {
				continue
			}
			n++
			phrase, ok := want[code]
			if !ok {
				t.Errorf("unexpected %s: %s", code, f.Summary)
			} else if !strings.Contains(f.Summary, phrase) {
				t.Errorf("%s does not say %q: %s", code, phrase, f.Summary)
			}
		}
		if _, ok := want[code]; ok && n == 0 {
			t.Errorf("no %s finding", code)
		}
	}
}

// TestScenarios runs every scenario with both implementations.
func TestScenarios(t *testing.T) {
	needRoot(t)
	for _, impl := range []Impl{ImplVRRPD, ImplKeepalived} {
		t.Run(string(impl), func(t *testing.T) {
			if impl == ImplKeepalived {
				testenv.NeedTool(t, "keepalived")
			}
			t.Parallel()
			cfg := DefaultConfig()
			cfg.Impl = impl
			t.Run("stop", func(t *testing.T) {
				res := runOne(t, cfg, Stop)
				if !res.Pass {
					t.Errorf("failed: %v", res.Reasons)
				}
				g := res.Failovers[0]
				checkTimely(t, g, 150)
				if g.Cause != "resign" || !hasCode(res, "resign") {
					t.Errorf("cause %s, findings %v: want a resign", g.Cause, res.Findings)
				}
				checkOnly(t, res, nil)
				if g.OutageMS > g.ExpectedMS+300 {
					t.Errorf("outage %.0f ms for a graceful stop (Skew_Time %.0f ms)", g.OutageMS, g.ExpectedMS)
				}
			})
			t.Run("crash", func(t *testing.T) {
				res := runOne(t, cfg, Crash)
				if !res.Pass {
					t.Errorf("failed: %v", res.Reasons)
				}
				checkTimely(t, res.Failovers[0], 300)
				if res.Failovers[0].Lost == 0 {
					t.Errorf("no echo lost when the master's link went down")
				}
				checkOnly(t, res, nil)
			})
			t.Run("failback", func(t *testing.T) {
				res := runOne(t, cfg, Failback)
				if !res.Pass {
					t.Errorf("failed: %v", res.Reasons)
				}
				if len(res.Failovers) != 2 {
					t.Fatalf("%d failovers, want 2", len(res.Failovers))
				}
				checkTimely(t, res.Failovers[0], 300)
				back := res.Failovers[1]
				if back.To != Nat1 || back.Cause != "preempt" || !back.Moved {
					t.Errorf("second failover %+v: want nat1 preempting", back)
				}
				checkTimely(t, back, 1100)
				checkOnly(t, res, nil)
			})
			t.Run("partition", func(t *testing.T) {
				res := runOne(t, cfg, Partition)
				if res.Pass {
					t.Errorf("a split brain passed")
				}
				if !res.ExpectSeen || !hasCode(res, "split-brain") {
					t.Errorf("no split-brain finding: %v", res.Findings)
				}
				if res.SplitBrainMS < res.AdvertMS {
					t.Errorf("both routers held the VIP for %.0f ms only", res.SplitBrainMS)
				}
				// Each router drops the other's adverts on its own
				// input: they are on the wire everywhere, none lost.
				checkOnly(t, res, nil)
			})
			t.Run("one-way", func(t *testing.T) {
				res := runOne(t, cfg, OneWay)
				if res.Pass {
					t.Errorf("a split brain passed")
				}
				if !res.ExpectSeen || !hasCode(res, analyze.CodeSplitBrain) || !hasCode(res, analyze.CodeAdvertLost) {
					t.Errorf("findings %v: want advert-lost and split-brain", res.Findings)
				}
				if res.SplitBrainMS < res.AdvertMS {
					t.Errorf("both routers held the VIP for %.0f ms only", res.SplitBrainMS)
				}
				checkOnly(t, res, map[string]string{analyze.CodeAdvertLost: "not at nat2,"})
				for _, f := range res.Findings {
					if f.Code == analyze.CodeAdvertLost && !strings.Contains(f.Summary, "adverts of 192.168.33.101 ") {
						t.Errorf("advert-lost of another router than nat1: %s", f.Summary)
					}
				}
				if len(res.SplitBrains) != 1 {
					t.Fatalf("split brains %+v: want one", res.SplitBrains)
				}
				if sb := res.SplitBrains[0]; !strings.Contains(sb.Cause, "one-way loss") || !strings.Contains(sb.Cause, "not at nat2") || sb.Ongoing {
					t.Errorf("split brain %+v: want it over, caused by the advert loss at nat2", sb)
				}
			})
			t.Run("client-ignores-garp", func(t *testing.T) {
				res := runOne(t, cfg, ClientIgnoresGARP)
				if res.Pass {
					t.Errorf("a client stuck on the old MAC passed")
				}
				if !res.ExpectSeen || hasCode(res, analyze.CodeStaleARP) {
					t.Errorf("findings %v: want garp-ignored instead of stale-arp", res.Findings)
				}
				checkOnly(t, res, map[string]string{analyze.CodeGARPIgnored: "its own capture, here,"})
				g := res.Failovers[0]
				if g.GarpMS == nil || g.SwitchMS != nil {
					t.Errorf("GARP %v, switch %v: want a GARP the client ignored", g.GarpMS, g.SwitchMS)
				}
			})
			t.Run("no-garp", func(t *testing.T) {
				res := runOne(t, cfg, NoGARP)
				if res.Pass {
					t.Errorf("a failover without GARP passed")
				}
				if !res.ExpectSeen || hasCode(res, analyze.CodeNoGARP) || hasCode(res, analyze.CodeStaleARP) {
					t.Errorf("findings %v: want garp-lost instead of no-garp and stale-arp", res.Findings)
				}
				// The bridge drops nat2's GARPs toward every other port:
				// lost on the way to the client and to nat1.
				checkOnly(t, res, map[string]string{analyze.CodeGARPLost: "were seen at nat2 and none at "})
				var atHere bool
				for _, f := range res.Findings {
					atHere = atHere || f.Code == analyze.CodeGARPLost && strings.Contains(f.Summary, "none at here,") && f.Severity == analyze.Critical
				}
				if !atHere {
					t.Errorf("no critical garp-lost at the client, which kept the old MAC: %v", res.Findings)
				}
				if g := res.Failovers[0]; g.GarpMS != nil {
					t.Errorf("a GARP from %s reached the client", g.To)
				}
			})
			t.Run("article", func(t *testing.T) {
				res := runOne(t, cfg, Article)
				if !res.Pass {
					t.Errorf("failed: %v", res.Reasons)
				}
				if res.AdvertMS != 5000 {
					t.Errorf("advert interval %.0f ms, want the article's 5 s", res.AdvertMS)
				}
				checkTimely(t, res.Failovers[0], 150)
				// The burst is paced by garp_interval 4 s: GARPs come seconds apart.
				var nat2 []float64
				for _, g := range res.GARPs {
					if g.Host == Nat2 {
						nat2 = append(nat2, g.AtMS)
					}
				}
				if len(nat2) < 3 {
					t.Fatalf("%d GARPs from nat2, want a paced burst", len(nat2))
				}
				for i := 1; i < len(nat2); i++ {
					if gap := nat2[i] - nat2[i-1]; gap < 3500 {
						t.Errorf("GARPs %.2f s apart, vrrp_garp_interval is 4 s", gap/1000)
					}
				}
				checkOnly(t, res, nil)
			})
		})
	}
}

// TestVersion3 runs the stop and crash scenarios with VRRPv3 and 100 ms
// adverts, our speaker on one side and keepalived on the other (mixed).
func TestVersion3(t *testing.T) {
	needRoot(t)
	testenv.NeedTool(t, "keepalived") // the mixed pair
	cfg := DefaultConfig()
	cfg.Impl = ImplMixed
	cfg.Version = 3
	cfg.AdvertInt = 100 * time.Millisecond
	cfg.PingInterval = 20 * time.Millisecond
	t.Run("stop", func(t *testing.T) {
		res := runOne(t, cfg, Stop)
		if !res.Pass {
			t.Errorf("failed: %v", res.Reasons)
		}
		g := res.Failovers[0]
		// Skew_Time for priority 10 at 100 ms: (256-10)*0.1/256 s = 96.1 ms.
		if math.Abs(g.ExpectedMS-96.09375) > 0.01 {
			t.Errorf("expected %.3f ms, want VRRPv3 Skew_Time 96.094 ms", g.ExpectedMS)
		}
		checkTimely(t, g, 50)
		if g.Cause != "resign" {
			t.Errorf("cause %s, want resign", g.Cause)
		}
	})
	t.Run("crash", func(t *testing.T) {
		res := runOne(t, cfg, Crash)
		if !res.Pass {
			t.Errorf("failed: %v", res.Reasons)
		}
		g := res.Failovers[0]
		// Master_Down_Interval: 3*100 ms + Skew_Time 96.1 ms.
		if math.Abs(g.ExpectedMS-396.09375) > 0.01 {
			t.Errorf("expected %.3f ms, want VRRPv3 Master_Down_Interval 396.094 ms", g.ExpectedMS)
		}
		checkTimely(t, g, 100)
	})
}
