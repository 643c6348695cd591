package analyze_test

import (
	"bytes"
	"math"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vrrpctl/vrrpctl/analyze"
	"github.com/vrrpctl/vrrpctl/capture"
	"github.com/vrrpctl/vrrpctl/internal/pcapgen"
)

// TestScenarios replays every generated capture (internal/pcapgen: each
// finding made to fire, and healthy pairs where it must stay quiet) through
// the analyzer and checks what the scenario's story says must be concluded.
func TestScenarios(t *testing.T) {
	for _, sc := range pcapgen.Scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			data, want, err := sc.Generate()
			if err != nil {
				t.Fatal(err)
			}
			src, err := capture.OpenReader(sc.Name+".pcap", bytes.NewReader(data), "")
			if err != nil {
				t.Fatal(err)
			}
			a, err := analyze.Run(src, analyze.Options{File: sc.Name + ".pcap"})
			if err != nil {
				t.Fatal(err)
			}
			checkScenario(t, a, want)
			if t.Failed() {
				for _, f := range a.Findings {
					t.Logf("finding %s %s frames %v: %s", f.Severity, f.Code, f.Frames, f.Summary)
				}
				for _, fo := range a.Failovers {
					t.Logf("failover %s -> %s %s detect %.1f expected %.1f clients %+v", fo.From.IP, fo.To.IP, fo.Cause, fo.DetectMS, fo.ExpectedMS, fo.Clients)
				}
				t.Logf("story: %s", sc.Story)
			}
		})
	}
}

func checkScenario(t *testing.T, a *analyze.Analysis, want pcapgen.Expect) {
	t.Helper()
	if int(a.Source.Frames) != want.Frames {
		t.Errorf("frames = %d, want %d", a.Source.Frames, want.Frames)
	}
	if a.Source.HasDstMAC != want.HasDstMAC {
		t.Errorf("has_dst_mac = %v, want %v", a.Source.HasDstMAC, want.HasDstMAC)
	}
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
	if want.Quiet {
		for _, f := range a.Findings {
			if f.Severity != analyze.Info && !slices.Contains(want.Must, f.Code) {
				t.Errorf("unexpected %s finding %s: %s", f.Severity, f.Code, f.Summary)
			}
		}
	}
	checkGroups(t, a, want.Groups)
	if want.CheckFailovers {
		checkFailovers(t, a, want.Failovers)
	}
	if want.CheckSplits {
		checkSplits(t, a, want.SplitBrains)
	}
}

// checkSplits compares the split brains with the overlaps generated: the
// two routers, the start (the later router's first claim) and the end (the
// last claim of the side that gave up).
func checkSplits(t *testing.T, a *analyze.Analysis, want []pcapgen.ExpectSplit) {
	t.Helper()
	if len(a.SplitBrains) != len(want) {
		t.Errorf("split brains = %d, want %d: %+v", len(a.SplitBrains), len(want), a.SplitBrains)
		return
	}
	for i, ws := range want {
		sb := a.SplitBrains[i]
		var ips []string
		for _, r := range sb.Routers {
			ips = append(ips, r.IP)
		}
		sort.Strings(ips)
		if len(ips) != 2 || ips[0] != ws.Routers[0] || ips[1] != ws.Routers[1] {
			t.Errorf("split brain %d routers = %v, want %v", i, ips, ws.Routers)
		}
		tol := math.Max(ws.TolMS, 1)
		start, end := msSince(a, sb.Start), msSince(a, sb.End)
		if math.Abs(start-ws.StartMS) > tol || math.Abs(end-ws.EndMS) > tol {
			t.Errorf("split brain %d = %.1f..%.1f ms, want %.1f..%.1f ± %.1f", i, start, end, ws.StartMS, ws.EndMS, tol)
		}
		if math.Abs(sb.DurationMS-(ws.EndMS-ws.StartMS)) > 2*tol {
			t.Errorf("split brain %d duration_ms = %.1f, want %.1f", i, sb.DurationMS, ws.EndMS-ws.StartMS)
		}
	}
}

func msSince(a *analyze.Analysis, t time.Time) float64 {
	return float64(t.Sub(a.Source.Start)) / float64(time.Millisecond)
}

func checkGroups(t *testing.T, a *analyze.Analysis, want []pcapgen.ExpectGroup) {
	t.Helper()
	if len(a.Groups) != len(want) {
		t.Errorf("groups = %d, want %d", len(a.Groups), len(want))
		return
	}
	for _, wg := range want {
		var g *analyze.Group
		for i := range a.Groups {
			if a.Groups[i].VRID == wg.VRID && a.Groups[i].VLAN == wg.VLAN && a.Groups[i].Family == wg.Family {
				g = &a.Groups[i]
			}
		}
		if g == nil {
			t.Errorf("no group VRID %d VLAN %d %s", wg.VRID, wg.VLAN, wg.Family)
			continue
		}
		if !slices.Equal(g.VIPs, wg.VIPs) {
			t.Errorf("VRID %d VLAN %d VIPs = %v, want %v", wg.VRID, wg.VLAN, g.VIPs, wg.VIPs)
		}
		var sp []string
		for _, s := range g.Speakers {
			sp = append(sp, s.IP)
		}
		sort.Strings(sp)
		if !slices.Equal(sp, wg.Speakers) {
			t.Errorf("VRID %d VLAN %d speakers = %v, want %v", wg.VRID, wg.VLAN, sp, wg.Speakers)
		}
		master := ""
		if g.Master != nil {
			master = g.Master.IP
		}
		if master != wg.Master {
			t.Errorf("VRID %d VLAN %d master at end = %q, want %q", wg.VRID, wg.VLAN, master, wg.Master)
		}
	}
}

func checkFailovers(t *testing.T, a *analyze.Analysis, want []pcapgen.ExpectFailover) {
	t.Helper()
	if len(a.Failovers) != len(want) {
		t.Errorf("failovers = %d, want %d", len(a.Failovers), len(want))
		return
	}
	for i, wf := range want {
		fo := a.Failovers[i]
		if fo.VRID != wf.VRID || fo.VLAN != wf.VLAN || fo.From.IP != wf.From || fo.To.IP != wf.To || fo.Cause != wf.Cause {
			t.Errorf("failover %d = VRID %d VLAN %d %s -> %s %s, want VRID %d VLAN %d %s -> %s %s", i,
				fo.VRID, fo.VLAN, fo.From.IP, fo.To.IP, fo.Cause, wf.VRID, wf.VLAN, wf.From, wf.To, wf.Cause)
		}
		tol := math.Max(wf.TolMS, 1)
		if math.Abs(fo.DetectMS-wf.DetectMS) > tol {
			t.Errorf("failover %d detect_ms = %.1f, want %.1f ± %.1f", i, fo.DetectMS, wf.DetectMS, tol)
		}
		if math.Abs(fo.ExpectedMS-wf.ExpectedMS) > 0.5 {
			t.Errorf("failover %d expected_ms = %.3f, want %.3f", i, fo.ExpectedMS, wf.ExpectedMS)
		}
		if fo.PriorityDrop != wf.PriorityDrop || fo.VirtualMAC != wf.VirtualMAC {
			t.Errorf("failover %d priority_drop %v virtual_mac %v, want %v %v (%s)", i, fo.PriorityDrop, fo.VirtualMAC, wf.PriorityDrop, wf.VirtualMAC, fo.Reason)
		}
		if wf.GARP != (fo.GarpMS != nil) {
			t.Errorf("failover %d garp_ms = %v, want GARP %v", i, fo.GarpMS, wf.GARP)
		} else if wf.GARP && math.Abs(*fo.GarpMS-wf.GarpMS) > 1 {
			t.Errorf("failover %d garp_ms = %.2f, want %.2f", i, *fo.GarpMS, wf.GarpMS)
		}
		for _, wc := range wf.Clients {
			var c *analyze.ClientSwitch
			for j := range fo.Clients {
				if strings.EqualFold(fo.Clients[j].MAC, wc.MAC) {
					c = &fo.Clients[j]
				}
			}
			if c == nil {
				t.Errorf("failover %d: client %s (%s) missing from %+v", i, wc.IP, wc.MAC, fo.Clients)
				continue
			}
			if c.StaleFrames < wc.StaleMin || c.StaleFrames > wc.StaleMax {
				t.Errorf("failover %d client %s stale_frames = %d, want %d..%d", i, wc.IP, c.StaleFrames, wc.StaleMin, wc.StaleMax)
			}
			if wf.VirtualMAC {
				if c.Unanswered != wc.Unanswered {
					t.Errorf("failover %d client %s unanswered = %d, want %d", i, wc.IP, c.Unanswered, wc.Unanswered)
				}
				if wc.Answered != (c.AnswerMS != nil) {
					t.Errorf("failover %d client %s answer_ms = %v, want answered %v", i, wc.IP, c.AnswerMS, wc.Answered)
				} else if wc.Answered && math.Abs(*c.AnswerMS-wc.AnswerMS) > 1 {
					t.Errorf("failover %d client %s answer_ms = %.2f, want %.2f", i, wc.IP, *c.AnswerMS, wc.AnswerMS)
				}
			}
			if wc.Switched != (c.SwitchMS != nil) {
				t.Errorf("failover %d client %s switch_ms = %v, want switched %v", i, wc.IP, c.SwitchMS, wc.Switched)
			} else if wc.Switched && math.Abs(*c.SwitchMS-wc.SwitchMS) > 1 {
				t.Errorf("failover %d client %s switch_ms = %.2f, want %.2f", i, wc.IP, *c.SwitchMS, wc.SwitchMS)
			}
		}
	}
}

// TestEveryCodeFiresAndStaysQuiet keeps the rule that each finding code has
// a capture that makes it fire and a healthy capture where it must not.
// config-mismatch needs a configuration and is covered by
// TestFailoverWithConfig; local-stale-arp needs this host's neighbour table
// and is covered by TestLocalStaleARPFires/Quiet (and the watch tests).
func TestEveryCodeFiresAndStaysQuiet(t *testing.T) {
	fires := map[string]bool{analyze.CodeConfigMismatch: true, analyze.CodeLocalStaleARP: true}
	quiet := map[string]bool{analyze.CodeConfigMismatch: true, analyze.CodeLocalStaleARP: true}
	for _, sc := range pcapgen.Scenarios() {
		_, want := sc.Build()
		for _, c := range want.Must {
			fires[c] = true
		}
		if strings.HasPrefix(sc.Name, "healthy") {
			for _, c := range want.MustNot {
				quiet[c] = true
			}
		}
	}
	// The codes only several captures tell: TestVantageScenarios.
	for _, sc := range pcapgen.VantageScenarios() {
		_, _, want := sc.Build()
		for _, c := range want.Must {
			fires[c] = true
		}
		if strings.HasSuffix(sc.Name, "healthy") {
			for _, c := range want.MustNot {
				quiet[c] = true
			}
		}
	}
	for code := range analyze.Codes {
		if !fires[code] {
			t.Errorf("no scenario makes %s fire", code)
		}
		if !quiet[code] {
			t.Errorf("no healthy scenario checks that %s stays quiet", code)
		}
	}
}

// A VRRPv3 checksum computed the VRRPv2 way is worth knowing, not a warning:
// receivers such as keepalived accept it.
func TestV2StyleChecksumIsInfo(t *testing.T) {
	sc, _ := pcapgen.Get("v3-v2-style-checksum")
	data, _, err := sc.Generate()
	if err != nil {
		t.Fatal(err)
	}
	src, err := capture.OpenReader("v3.pcap", bytes.NewReader(data), "")
	if err != nil {
		t.Fatal(err)
	}
	a, err := analyze.Run(src, analyze.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range a.Findings {
		if f.Code == analyze.CodeChecksum {
			n++
			if f.Severity != analyze.Info || !strings.Contains(f.Summary, "VRRPv2 way") {
				t.Errorf("finding %+v, want info about the VRRPv2-style checksum", f)
			}
		}
	}
	if n != 1 || a.ExitStatus() != 0 {
		t.Errorf("%d checksum findings, exit status %d: want one, at info, and exit 0", n, a.ExitStatus())
	}
}
