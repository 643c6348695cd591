package analyze_test

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/vrrpctl/vrrpctl/analyze"
	"github.com/vrrpctl/vrrpctl/capture"
	"github.com/vrrpctl/vrrpctl/internal/pcapgen"
	"github.com/vrrpctl/vrrpctl/kaconf"
)

func analyzeFile(t *testing.T, path string, opt analyze.Options) *analyze.Analysis {
	t.Helper()
	src, err := capture.OpenFile(path, "")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	opt.File = path
	a, err := analyze.Run(src, opt)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func codes(a *analyze.Analysis) map[string]int {
	m := make(map[string]int)
	for _, f := range a.Findings {
		m[f.Code]++
	}
	return m
}

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

// failover.pcap: keepalived 2.2.7 resigning at frame 36 (nat2 takes over at
// frame 43 after Skew_Time) and preempting back at frame 185.
func TestFailoverCapture(t *testing.T) {
	a := analyzeFile(t, "../testdata/failover.pcap", analyze.Options{})
	if len(a.Groups) != 1 || a.Groups[0].VRID != 51 || len(a.Groups[0].Speakers) != 2 {
		t.Fatalf("groups = %+v, want one VRID 51 with two speakers", a.Groups)
	}
	if got := a.Groups[0].VIPs; len(got) != 1 || got[0] != "192.168.33.100" {
		t.Errorf("VIPs = %v", got)
	}
	if len(a.Failovers) != 2 {
		t.Fatalf("failovers = %+v, want 2", a.Failovers)
	}
	resign, preempt := a.Failovers[0], a.Failovers[1]
	if resign.Cause != "resign" || resign.Frame != 43 || resign.From.IP != "192.168.33.101" || resign.To.IP != "192.168.33.102" {
		t.Errorf("first failover = %+v, want resign 101 -> 102 at frame 43", resign)
	}
	// README: priority-0 advert at 8.91 (frame 36), nat2 master at 9.87: 966 ms; Skew_Time (256-10)/256 s.
	if !near(resign.DetectMS, 966, 50) {
		t.Errorf("resign detect_ms = %.1f, want ~966", resign.DetectMS)
	}
	if !near(resign.ExpectedMS, 960.9375, 0.01) {
		t.Errorf("resign expected_ms = %.4f, want Skew_Time 960.9375", resign.ExpectedMS)
	}
	if resign.GarpMS == nil || *resign.GarpMS > 10 {
		t.Errorf("resign garp_ms = %v, want the GARP of frame 44 within 10 ms", resign.GarpMS)
	}
	if len(resign.Clients) != 1 || resign.Clients[0].IP != "192.168.33.2" || resign.Clients[0].StaleFrames != 0 || resign.Clients[0].SwitchMS == nil {
		t.Errorf("resign clients = %+v, want 192.168.33.2 switched without stale frames", resign.Clients)
	}
	if preempt.Cause != "preempt" || preempt.Frame != 185 || preempt.To.IP != "192.168.33.101" {
		t.Errorf("second failover = %+v, want preempt to 101 at frame 185", preempt)
	}
	// nat2's last advert 20.883 (frame 176), nat1's first 21.636 (frame 185).
	if !near(preempt.DetectMS, 753, 50) {
		t.Errorf("preempt detect_ms = %.1f, want ~753", preempt.DetectMS)
	}
	c := codes(a)
	for _, bad := range []string{"stale-arp", "split-brain", "no-garp", "slow-failover", "vip-unanswered", "no-backup", "equal-priority", "advert-gap", "ttl", "checksum"} {
		if c[bad] > 0 {
			t.Errorf("finding %s on the clean failover capture: %+v", bad, a.Findings)
		}
	}
	if c["resign"] != 2 {
		t.Errorf("resign findings = %d, want 2 (frames 36 and 273)", c["resign"])
	}
}

func TestSplitBrainCapture(t *testing.T) {
	a := analyzeFile(t, "../testdata/split-brain.pcap", analyze.Options{})
	var sb *analyze.Finding
	for i := range a.Findings {
		if a.Findings[i].Code == "split-brain" {
			sb = &a.Findings[i]
		}
	}
	if sb == nil {
		t.Fatalf("no split-brain finding: %+v", a.Findings)
	}
	if sb.Severity != analyze.Critical || sb.Frames[0] != 84 {
		t.Errorf("split-brain = %+v, want critical starting at frame 84", sb)
	}
	if len(a.Failovers) != 0 {
		t.Errorf("failovers = %+v, want none: two masters at once is not a failover", a.Failovers)
	}
	if a.ExitStatus() != 2 {
		t.Errorf("exit status %d, want 2", a.ExitStatus())
	}
}

func TestArticleGARPCapture(t *testing.T) {
	a := analyzeFile(t, "../testdata/article-garp.pcap", analyze.Options{})
	if !a.HasFinding("garp-interval") {
		t.Fatalf("no garp-interval finding: %+v", a.Findings)
	}
	if !a.HasFinding("no-backup") {
		t.Errorf("one router only, want no-backup: %+v", a.Findings)
	}
	if len(a.Failovers) != 0 {
		t.Errorf("failovers = %+v, want none", a.Failovers)
	}
}

func TestEqualPriorityCapture(t *testing.T) {
	a := analyzeFile(t, "../testdata/equal-prio.pcap", analyze.Options{})
	if !a.HasFinding("equal-priority") {
		t.Fatalf("no equal-priority finding: %+v", a.Findings)
	}
	if len(a.Failovers) != 2 {
		t.Fatalf("failovers = %+v, want 2 resigns", a.Failovers)
	}
	for i, fo := range a.Failovers {
		if fo.Cause != "resign" {
			t.Errorf("failover %d cause %s, want resign", i, fo.Cause)
		}
	}
	// Skew_Time for priority 100: (256-100)/256 s = 609 ms; nat1 resigned 10.96, nat2 master 11.57.
	if fo := a.Failovers[0]; !near(fo.ExpectedMS, 609.375, 0.01) || !near(fo.DetectMS, 612, 50) {
		t.Errorf("first failover detect %.1f expected %.3f, want ~612 vs 609.375", fo.DetectMS, fo.ExpectedMS)
	}
	for _, bad := range []string{"garp-interval", "no-garp", "split-brain", "stale-arp"} {
		if a.HasFinding(bad) {
			t.Errorf("unexpected %s: %+v", bad, a.Findings)
		}
	}
}

// With the article's configuration the analyzer shows expected against
// observed: GARPs paced 4, 5, 5, 6 s apart where vrrp_garp_interval is 4 s.
func TestArticleGARPWithConfig(t *testing.T) {
	cfg, err := kaconf.ParseFile("../testdata/keepalived/article-nat1.conf")
	if err != nil {
		t.Fatal(err)
	}
	a := analyzeFile(t, "../testdata/article-garp.pcap", analyze.Options{Configs: []*kaconf.Config{cfg}})
	var fd *analyze.Finding
	for i := range a.Findings {
		if a.Findings[i].Code == "garp-interval" {
			fd = &a.Findings[i]
		}
	}
	if fd == nil {
		t.Fatalf("no garp-interval: %+v", a.Findings)
	}
	for _, want := range []string{"4.0, 5.0, 5.0, 6.0 s apart", "vrrp_garp_interval is 4.0 s"} {
		if !strings.Contains(fd.Summary, want) {
			t.Errorf("summary %q lacks %q", fd.Summary, want)
		}
	}
	if fd.Severity != analyze.Warning || !strings.Contains(fd.Detail, "vrrp_garp_master_refresh 6.0 s") {
		t.Errorf("finding = %+v, want a warning naming the configured refresh", fd)
	}
}

// The failover capture against its own configuration: what keepalived was
// told matches the wire except for the shortened GARP bursts.
func TestFailoverWithConfig(t *testing.T) {
	var cfgs []*kaconf.Config
	for _, p := range []string{"failover-nat1.conf", "failover-nat2.conf"} {
		cfg, err := kaconf.ParseFile("../testdata/keepalived/" + p)
		if err != nil {
			t.Fatal(err)
		}
		cfgs = append(cfgs, cfg)
	}
	a := analyzeFile(t, "../testdata/failover.pcap", analyze.Options{Configs: cfgs})
	if a.HasFinding("config-mismatch") {
		t.Errorf("config-mismatch on matching configuration: %+v", a.Findings)
	}
	n := 0
	for _, f := range a.Findings {
		if f.Code == "garp-interval" {
			n++
			if !strings.Contains(f.Summary, "2 GARP(s) where 5 are configured") {
				t.Errorf("garp-interval summary %q", f.Summary)
			}
		}
	}
	if n != 3 {
		t.Errorf("garp-interval findings = %d, want one per mastership (3)", n)
	}
	// A configuration that disagrees with the wire is reported.
	bad := *cfgs[1]
	in := *bad.Instances[0]
	in.AdvertInt = 2 * time.Second
	bad.Instances = []*kaconf.Instance{&in}
	a = analyzeFile(t, "../testdata/failover.pcap", analyze.Options{Configs: []*kaconf.Config{&bad}})
	if !a.HasFinding("config-mismatch") {
		t.Errorf("no config-mismatch for advert_int 2 configured, 1 s on the wire: %+v", a.Findings)
	}
}

// advert-gap names the last advert before the gap and the first after it.
func TestAdvertGapEvidence(t *testing.T) {
	sc, _ := pcapgen.Get("advert-gap")
	data, _, err := sc.Generate()
	if err != nil {
		t.Fatal(err)
	}
	src, err := capture.OpenReader("advert-gap.pcap", bytes.NewReader(data), "")
	if err != nil {
		t.Fatal(err)
	}
	a, err := analyze.Run(src, analyze.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range a.Findings {
		if f.Code == "advert-gap" {
			if len(f.Frames) != 2 || f.Frames[0] >= f.Frames[1] {
				t.Errorf("advert-gap frames %v, want the adverts on either side of the gap", f.Frames)
			}
			return
		}
	}
	t.Fatalf("no advert-gap: %+v", a.Findings)
}
