package merge

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vrrpctl/vrrpctl/analyze"
)

// The incidents of testdata/vantages/: keepalived captured at the client
// and on each router's own eth1 at once, one machine, one clock.
var vantageIncidents = []string{"garps-dropped", "client-drops-garp", "vrrp-one-way"}

// vantageHosts are the captures of each incident, in the order given.
var vantageHosts = []string{"here", "nat1", "nat2"}

// vantageTruth is an incident's truth.json (testdata/README.md): what
// happened, read from the logs and the frames, in each file's frame numbers.
type vantageTruth struct {
	Captures map[string]struct {
		Host   string `json:"host"`
		Frames uint64 `json:"frames"`
	} `json:"captures"`
	Failovers []struct {
		From                      string            `json:"from"`
		To                        string            `json:"to"`
		Cause                     string            `json:"cause"`
		NewMasterFirstAdvertFrame map[string]uint64 `json:"new_master_first_advert_frame"`
		NewMasterFirstAdvertS     float64           `json:"new_master_first_advert_s"`
	} `json:"failovers"`
	SplitBrains []struct {
		GaveUp     string            `json:"gave_up"`
		StartFrame map[string]uint64 `json:"start_frame"`
		EndFrame   map[string]uint64 `json:"end_frame"`
	} `json:"split_brains"`
	MasterAtEnd string `json:"master_at_end"`
	Codes       []struct {
		Code string `json:"code"`
		At   string `json:"at"`
		// The frames of each capture the finding's evidence may name:
		// the new master's GARPs, or the adverts that went missing.
		GARPFrames map[string][]uint64 `json:"garp_frames"`
		LostFrames map[string][]uint64 `json:"lost_advert_frames"`
	} `json:"codes"`
	Absent []string `json:"absent"`
}

func readVantageTruth(t *testing.T, incident string) vantageTruth {
	t.Helper()
	b, err := os.ReadFile(ref(filepath.Join("vantages", incident, "truth.json")))
	if err != nil {
		t.Fatal(err)
	}
	var tr vantageTruth
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatalf("%s truth: %v", incident, err)
	}
	return tr
}

// vantageClock moves one capture's clock: how, and by how much in truth
// (the mean of the jitter is zero).
type vantageClock struct {
	how   string
	shift time.Duration
	apply func(t *testing.T, in string) string
}

func asRecorded() vantageClock {
	return vantageClock{"as recorded", 0, func(_ *testing.T, in string) string { return in }}
}

func editcapBy(d time.Duration) vantageClock {
	return vantageClock{fmt.Sprintf("editcap -t %v", d), d, func(t *testing.T, in string) string { return editcapShift(t, in, d.Seconds()) }}
}

func jitterBy(d, jitter time.Duration, seed uint64) vantageClock {
	return vantageClock{fmt.Sprintf("%v ±%v", d, jitter), d, func(t *testing.T, in string) string {
		return rewrite(t, in, xform{offset: d, jitter: jitter, seed: seed})
	}}
}

// vantageClockCases take the three captures on clocks off by seconds and
// hours, by editcap -t and by our writer with jitter; the client's own
// clock is off in some. hosts: the inputs are named NAME@ADDR.
var vantageClockCases = []struct {
	name   string
	clocks map[string]vantageClock
	hosts  bool
}{
	{"as recorded", map[string]vantageClock{}, true},
	{"editcap: nat1 +2.5 s, nat2 -3 h", map[string]vantageClock{"nat1": editcapBy(2500 * time.Millisecond), "nat2": editcapBy(-3 * time.Hour)}, true},
	{"editcap: here +1 h 7 min, nat2 -42.25 s", map[string]vantageClock{"here": editcapBy(67 * time.Minute), "nat2": editcapBy(-42250 * time.Millisecond)}, true},
	{"jitter: here ±50 µs, nat1 +0.7 s ±300 µs, nat2 -45 min ±100 µs", map[string]vantageClock{
		"here": jitterBy(0, 50*time.Microsecond, 11), "nat1": jitterBy(700*time.Millisecond, 300*time.Microsecond, 12),
		"nat2": jitterBy(-45*time.Minute, 100*time.Microsecond, 13)}, true},
	{"jitter: here -2 h ±200 µs, nat1 +5 s ±250 µs, nat2 +9 h", map[string]vantageClock{
		"here": jitterBy(-2*time.Hour, 200*time.Microsecond, 21), "nat1": jitterBy(5*time.Second, 250*time.Microsecond, 22),
		"nat2": editcapBy(9 * time.Hour)}, true},
	{"names without addresses; editcap: nat1 -90 s, nat2 +4 h", map[string]vantageClock{"nat1": editcapBy(-90 * time.Second), "nat2": editcapBy(4 * time.Hour)}, false},
}

// codePhrase is how a finding of code names the capture where it
// happened.
func codePhrase(code, at string) string {
	switch code {
	case analyze.CodeGARPLost:
		return "none at " + at + ","
	case analyze.CodeAdvertLost:
		return "not at " + at + ","
	case analyze.CodeGARPIgnored:
		return "its own capture, " + at + ","
	}
	return at
}

// TestRecordedVantages analyzes each recorded incident from its three
// captures merged, their clocks moved by known amounts: every capture is
// aligned within 1 ms of the truth; garp-lost, garp-ignored and
// advert-lost are found where they happened, naming that capture, and
// nowhere else; the failovers and split brains are those of the truth,
// down to each file's frame numbers.
func TestRecordedVantages(t *testing.T) {
	var worst time.Duration
	var cases int
	for _, inc := range vantageIncidents {
		tr := readVantageTruth(t, inc)
		for _, tc := range vantageClockCases {
			t.Run(inc+"/"+tc.name, func(t *testing.T) {
				shift := map[string]time.Duration{}
				var inputs []Input
				for _, h := range vantageHosts {
					path := ref(filepath.Join("vantages", inc, h+".pcap"))
					c, ok := tc.clocks[h]
					if !ok {
						c = asRecorded()
					}
					shift[h] = c.shift
					name := h
					if tc.hosts {
						name += "@" + tr.Captures[h].Host
					}
					inputs = append(inputs, Input{Name: name, Path: c.apply(t, path)})
				}
				m, err := Open(inputs, Options{})
				if err != nil {
					t.Fatal(err)
				}
				defer m.Close()
				for _, u := range m.Unaligned() {
					t.Fatalf("%s not aligned: %s", u.Vantage.Name, u.Reason)
				}
				a, err := analyze.RunMerged(m, analyze.Options{File: inc})
				if err != nil {
					t.Fatal(err)
				}
				e := checkVantageClocks(t, a, shift, tr)
				worst = max(worst, e)
				cases++
				checkVantageCodes(t, a, tr)
				checkVantageStory(t, a, tr, tc.hosts)
				if t.Failed() {
					for _, f := range a.Findings {
						t.Logf("%s %s %v: %s", f.Severity, f.Code, f.FramesAt, f.Summary)
					}
				}
			})
		}
	}
	t.Logf("%d merged analyses: the worst clock estimate is %v off the truth", cases, worst)
}

// checkVantageClocks checks each capture's estimated clock against the
// truth over its whole span (the captures were taken on one clock, so a
// capture's true offset to the reference is the difference of the shifts
// applied) and returns the worst error.
func checkVantageClocks(t *testing.T, a *analyze.Analysis, shift map[string]time.Duration, tr vantageTruth) time.Duration {
	t.Helper()
	var refShift time.Duration
	for _, v := range a.Sources {
		if v.Reference {
			refShift = shift[vantageName(v)]
		}
	}
	var worst time.Duration
	for _, v := range a.Sources {
		name := vantageName(v)
		if !v.Aligned {
			t.Errorf("%s not aligned", name)
			continue
		}
		if v.Frames != tr.Captures[name].Frames {
			t.Errorf("%s: %d frames, truth %d", name, v.Frames, tr.Captures[name].Frames)
		}
		if v.Reference {
			continue
		}
		want := float64(refShift-shift[name]) / 1e6
		span := a.Source.SpanMS
		e := math.Max(math.Abs(v.OffsetMS-want), math.Abs(v.OffsetMS+v.DriftPPM*1e-6*span-want))
		d := time.Duration(e * 1e6)
		worst = max(worst, d)
		t.Logf("%s: offset %+.3f ms, drift %.2f ppm (truth %+.3f ms): error %v, residual %.3f ms over %d frames", name, v.OffsetMS, v.DriftPPM, want, d, v.ErrorMS, v.Matched)
		if d > time.Millisecond {
			t.Errorf("%s: the estimate is %v off the truth, want at most 1 ms (%+v)", name, d, v)
		}
	}
	return worst
}

// vantageName is the capture's host name, without the address.
func vantageName(v analyze.Vantage) string {
	name, _, _ := strings.Cut(v.Name, "@")
	return name
}

// checkVantageCodes checks the findings only several captures make: each
// of the truth's where it happened and nowhere else, none of those it
// rules out.
func checkVantageCodes(t *testing.T, a *analyze.Analysis, tr vantageTruth) {
	t.Helper()
	want := map[string][]string{}
	for _, c := range tr.Codes {
		want[c.Code] = append(want[c.Code], c.At)
	}
	// evidence: the frames of each capture a code's findings may cite.
	evidence := map[string]map[string][]uint64{}
	for _, c := range tr.Codes {
		switch {
		case c.GARPFrames != nil && c.Code == analyze.CodeGARPLost:
			evidence[c.Code] = c.GARPFrames
		case c.LostFrames != nil:
			evidence[c.Code] = c.LostFrames
		}
	}
	got := map[string][]analyze.Finding{}
	for _, f := range a.Findings {
		got[f.Code] = append(got[f.Code], f)
	}
	for code, ats := range want {
		if len(got[code]) != len(ats) {
			t.Errorf("%d %s finding(s), want %d (at %v)", len(got[code]), code, len(ats), ats)
		}
		for _, f := range got[code] {
			ok := false
			for _, at := range ats {
				ok = ok || strings.Contains(f.Summary, codePhrase(code, at))
			}
			if !ok {
				t.Errorf("%s names no capture of %v: %s", code, ats, f.Summary)
			}
			if len(f.FramesAt) == 0 {
				t.Errorf("%s has no frames per capture", code)
			}
			if ev := evidence[code]; ev != nil {
				for h, frames := range f.FramesAt {
					for _, n := range frames {
						if !slices.Contains(ev[h], n) {
							t.Errorf("%s cites frame %d of %s.pcap, which the truth does not list (%v)", code, n, h, ev[h])
						}
					}
				}
			}
		}
	}
	for _, code := range tr.Absent {
		for _, f := range got[code] {
			t.Errorf("unexpected %s: %s", code, f.Summary)
		}
	}
}

// checkVantageStory checks the failovers, split brains and the master at
// the end against the truth, with each capture's frame numbers of the
// frames that mark them; with hosts, a split brain's cause names the
// advert loss.
func checkVantageStory(t *testing.T, a *analyze.Analysis, tr vantageTruth, hosts bool) {
	t.Helper()
	seen := map[uint64]map[string]uint64{}
	for _, ev := range a.Timeline {
		if ev.Frame == 0 || len(ev.SeenAt) == 0 {
			continue
		}
		at := map[string]uint64{}
		for _, s := range ev.SeenAt {
			at[vantageName(a.Sources[s.Vantage])] = s.Frame
		}
		seen[ev.Frame] = at
	}
	framesOf := func(what string, n uint64, want map[string]uint64) {
		got := seen[n]
		for h, w := range want {
			if got[h] != w {
				t.Errorf("%s: frame %d of %s.pcap, truth %d (merged frame %d seen at %v)", what, got[h], h, w, n, got)
			}
		}
	}
	if len(a.Failovers) != len(tr.Failovers) {
		t.Errorf("%d failovers, truth %d", len(a.Failovers), len(tr.Failovers))
	}
	for i, fo := range a.Failovers {
		if i >= len(tr.Failovers) {
			break
		}
		w := tr.Failovers[i]
		if fo.From.IP != w.From || fo.To.IP != w.To || fo.Cause != w.Cause {
			t.Errorf("failover %d: %s -> %s (%s), truth %s -> %s (%s)", i+1, fo.From.IP, fo.To.IP, fo.Cause, w.From, w.To, w.Cause)
		}
		framesOf(fmt.Sprintf("failover %d, the new master's first advert", i+1), fo.Frame, w.NewMasterFirstAdvertFrame)
		if fo.GarpMS == nil {
			t.Errorf("failover %d: no GARP, though the routers' captures hold them", i+1)
		}
	}
	if len(a.SplitBrains) != len(tr.SplitBrains) {
		t.Errorf("%d split brains, truth %d", len(a.SplitBrains), len(tr.SplitBrains))
	}
	for i, sb := range a.SplitBrains {
		if i >= len(tr.SplitBrains) {
			break
		}
		w := tr.SplitBrains[i]
		framesOf(fmt.Sprintf("split brain %d's start", i+1), sb.StartFrame, w.StartFrame)
		framesOf(fmt.Sprintf("split brain %d's end", i+1), sb.EndFrame, w.EndFrame)
		var gaveUp []string
		for _, r := range sb.Routers {
			if r.GaveUp {
				gaveUp = append(gaveUp, r.IP)
			}
		}
		if !slices.Equal(gaveUp, []string{w.GaveUp}) {
			t.Errorf("split brain %d: %v gave up, truth %s", i+1, gaveUp, w.GaveUp)
		}
		if hosts && !strings.Contains(sb.Cause, "one-way loss") {
			t.Errorf("split brain %d: the cause does not name the advert loss: %s", i+1, sb.Cause)
		}
	}
	if len(a.Groups) != 1 || a.Groups[0].Master == nil || a.Groups[0].Master.IP != tr.MasterAtEnd {
		t.Errorf("master at the end: %+v, truth %s", a.Groups, tr.MasterAtEnd)
	}
}
