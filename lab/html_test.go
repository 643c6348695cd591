package lab

import (
	"bytes"
	"strings"
	"testing"

	"github.com/vrrpctl/vrrpctl/analyze"
	"github.com/vrrpctl/vrrpctl/capture"
)

// TestWriteHTML renders a scenario's report from a recorded capture: the
// lab's measurements beside the analyzer's, matched by the router that
// took over, and the lab's action drawn across the ladder.
func TestWriteHTML(t *testing.T) {
	src, err := capture.OpenFile("../testdata/failover.pcap", "")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	a, err := analyze.Run(src, analyze.Options{File: "failover.pcap"})
	if err != nil {
		t.Fatal(err)
	}
	resign := a.Failovers[0]
	detect, garp := 965.4, 0.2
	res := &Result{
		Scenario: Stop, Description: "the master stops gracefully (priority-0 advert)", Lab: "abc123", Pcap: "failover.pcap",
		Routers: []RouterInfo{{Host: Nat1, Impl: ImplKeepalived, Addr: "192.168.33.101", MAC: "42:27:ce:07:10:a3", Priority: 100},
			{Host: Nat2, Impl: ImplKeepalived, Addr: "192.168.33.102", MAC: "ba:2e:73:81:71:78", Priority: 10}},
		AdvertMS: 1000, MaxOutageMS: 4960, EchoesSent: 30, EchoesLost: 9,
		Failovers: []FailoverGrade{{Action: "stop nat1 (SIGTERM)", From: Nat1, To: Nat2, Cause: "resign",
			DetectMS: &detect, ExpectedMS: 960.9, TakeoverMS: &detect, GarpMS: &garp, OutageMS: 900, Lost: 9, Recovered: true, Moved: true}},
		ARP: []ARPChange{{AtMS: -1000, State: "REACHABLE", MAC: "42:27:ce:07:10:a3", Owner: Nat1}, {AtMS: 970, State: "STALE", MAC: "ba:2e:73:81:71:78", Owner: Nat2}},
		VIP: []VIPChange{{AtMS: 0, Host: Nat1}, {AtMS: 965, Host: Nat2, Held: true}},
		Captures: []analyze.Vantage{{Name: Here, Host: "192.168.33.2", Frames: 289, Aligned: true, Reference: true},
			{Name: Nat1, Host: "192.168.33.101", Frames: 120, Aligned: true, OffsetMS: -0.012, ErrorMS: 0.05, Matched: 100}},
		CaptureDir: "/tmp/kept",
		Pass:       true, start: resign.Time.Add(-1100e6), analysis: a,
	}
	var b bytes.Buffer
	if err := res.WriteHTML(&b, "vrrpctl test"); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{
		"<title>vrrpctl run-test-failover: stop [PASS]</title>",
		"Staged by the lab: stop [PASS]",
		"Measured by the lab, beside the analyzer",
		"<th scope=\"row\">detection</th><td>965.4 ms</td><td>965.4 ms</td>",
		"192.168.33.101 → 192.168.33.102 (resign), frame 43",
		"lab: stop nat1 (SIGTERM)",
		"nat2 gained the VIP",
		"The captures, merged",
		"<td>-0.012 ms (± 0.050 ms, 100 frames matched)</td>",
		"Kept in /tmp/kept.",
		`id="vrrpctl-analysis"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	// Not analyzed: the lab's own measurements all the same.
	res.analysis, res.AnalyzeError = nil, "no such file"
	b.Reset()
	if err := res.WriteHTML(&b, "vrrpctl test"); err != nil || !strings.Contains(b.String(), "could not be analyzed: no such file") {
		t.Errorf("report without an analysis: %v", err)
	}
}
