package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/vrrpctl/vrrpctl/analyze"
	"github.com/vrrpctl/vrrpctl/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var t0 = time.Date(2024, 5, 2, 10, 0, 0, 0, time.UTC)

func at(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }

func f64(v float64) *float64 { return &v }
func u64(v uint64) *uint64   { return &v }

var (
	nat1 = analyze.Endpoint{IP: "192.168.33.101", MAC: "00:16:3e:aa:00:01"}
	nat2 = analyze.Endpoint{IP: "192.168.33.102", MAC: "00:16:3e:aa:00:02"}
)

// staleFrames are the client's frames to the old master's MAC after the
// preemption: more than a line can show.
var staleFrames = []uint64{186, 187, 188, 190, 191, 193, 194, 196, 197, 199, 200, 202, 203, 205, 206}

// fixture is a failover and a failback between two keepalived routers, as
// the engine would describe it.
func fixture() *analyze.Analysis {
	return &analyze.Analysis{
		Schema: analyze.Schema,
		Source: analyze.Source{
			File: "testdata/failover.pcap", LinkType: "Ethernet", Frames: 240,
			Start: t0, End: at(31.234567891), SpanMS: 31234.567891,
			DecodeErrors: 7, HasDstMAC: true,
		},
		Groups: []analyze.Group{{
			VRID: 51, Family: "ipv4", VIPs: []string{"192.168.33.100"},
			Speakers: []analyze.Speaker{
				{IP: nat1.IP, MAC: nat1.MAC, Priority: 100, AdvertIntervalMS: 1000, Version: 2, Auth: "none",
					VIPs: []string{"192.168.33.100"}, Adverts: 16, FirstFrame: 3, LastFrame: 230},
				{IP: nat2.IP, MAC: nat2.MAC, Priority: 10, AdvertIntervalMS: 1000, Version: 2, Auth: "pass", AuthPass: "s3cret",
					VIPs: []string{"192.168.33.100"}, Adverts: 12, FirstFrame: 43, LastFrame: 180},
			},
			Master: &analyze.Endpoint{IP: nat1.IP, MAC: nat1.MAC},
			Masterships: []analyze.Mastership{
				{Endpoint: nat1, FromFrame: 3, From: at(3.6), ToFrame: 36, To: at(8.91), Adverts: 6},
				{Endpoint: nat2, FromFrame: 43, From: at(9.87), ToFrame: 180, To: at(20.87), Adverts: 12},
				{Endpoint: nat1, FromFrame: 185, From: at(21.64), Adverts: 10},
			},
		}},
		Failovers: []analyze.Failover{
			{VRID: 51, Family: "ipv4", Frame: 43, Time: at(9.87), From: nat1, To: nat2, Cause: "resign",
				DetectMS: 960.512, ExpectedMS: 960.9375, GarpMS: f64(0.41),
				Clients: []analyze.ClientSwitch{{IP: "192.168.33.2", MAC: "00:16:3e:cc:00:02", SwitchMS: f64(212.3)}}},
			{VRID: 51, Family: "ipv4", Frame: 185, Time: at(21.64), From: nat2, To: nat1, Cause: "preempt",
				DetectMS: 770.2, GarpMS: f64(1.25),
				Clients: []analyze.ClientSwitch{{IP: "192.168.33.2", MAC: "00:16:3e:cc:00:02", StaleFrames: 15}}},
		},
		Evictions: []analyze.Eviction{},
		SplitBrains: []analyze.SplitBrain{
			{VRID: 51, Family: "ipv4", Start: at(15.2), StartFrame: 150, End: at(16.4), EndFrame: 152, DurationMS: 1200,
				Routers: []analyze.SplitSide{
					{IP: "192.168.33.101", MAC: "00:16:3e:aa:00:01", Claims: 3, Frames: []uint64{151}},
					{IP: "192.168.33.102", MAC: "00:16:3e:aa:00:02", Claims: 2, Frames: []uint64{150, 152}, GaveUp: true},
				},
				Clients: []analyze.ClientMove{{IP: "192.168.33.2", MAC: "00:16:3e:cc:00:02", Frames: []uint64{151}}},
				Cause:   "Likely cause: the routers do not hear each other."},
		},
		Findings: []analyze.Finding{
			{Code: analyze.CodeResign, Severity: analyze.Info, VRID: 51, Frames: []uint64{36}, Time: at(8.91),
				Summary: "192.168.33.101 resigned (priority 0); 192.168.33.102 took over after 960.5 ms",
				Detail:  "A master sent a priority-0 advert: a graceful handover.", Hint: "Nothing to fix."},
			{Code: analyze.CodeStaleARP, Severity: analyze.Warning, VRID: 51, Frames: staleFrames, Time: at(21.7),
				Summary: "192.168.33.2 kept sending to the old master 00:16:3e:aa:00:02 for 3.0 s after 192.168.33.101 took over (15 frames)",
				Detail:  "After the change of master a client kept sending frames for the VIP to the old master's MAC: its ARP cache still held the old entry.",
				Hint:    "Make sure the new master sends GARPs (vrrp_garp_master_repeat, vrrp_garp_master_delay) and that the client accepts them; or use a virtual MAC (use_vmac) so the VIP's MAC never changes."},
			{Code: analyze.CodeGARPInterval, Severity: analyze.Info, VRID: 51, Frames: []uint64{4, 6, 32}, Time: at(3.6),
				Summary: "2 GARPs on becoming master, 0.50 s apart, where keepalived sends 5 by default",
				Detail:  "keepalived paces every GARP of an interface through one queue.",
				Hint:    "Compare with the configured vrrp_garp_master_repeat and vrrp_garp_interval."},
			{Code: analyze.CodeSplitBrain, Severity: analyze.Critical, VRID: 51, Frames: []uint64{150, 151, 152}, Time: at(15.2),
				Summary: "192.168.33.101 and 192.168.33.102 both advertised as master for 1.2 s",
				Detail:  "Two routers advertised as master for the same virtual router at the same time.",
				Hint:    "Make the routers hear each other: check that IP protocol 112 to 224.0.0.18 passes both firewalls."},
			{Code: analyze.CodeAuthMismatch, Severity: analyze.Warning, VRID: 51, Frames: []uint64{3, 43}, Time: at(9.87),
				Summary: "192.168.33.101 uses no authentication, 192.168.33.102 uses a password",
				Hint:    "Use the same authentication block on every router."},
		},
		Timeline: []analyze.Event{
			{Frame: 1, Time: at(0.001), Kind: "igmp", VRID: 51, Summary: "192.168.33.101 joined 224.0.0.18"},
			{Frame: 3, Time: at(3.6), Kind: "master", VRID: 51, Summary: "192.168.33.101 became master (priority 100)"},
			{Frame: 3, Time: at(3.6), Kind: "adverts", VRID: 51, Summary: "192.168.33.101 advertised every 1.00 s", Count: 6, LastFrame: 31},
			{Frame: 4, Time: at(3.601), Kind: "garp", VRID: 51, Summary: "192.168.33.101 sent a gratuitous ARP for 192.168.33.100"},
			{Frame: 36, Time: at(8.91), Kind: "resign", VRID: 51, Summary: "192.168.33.101 resigned: priority-0 advert"},
			{Frame: 43, Time: at(9.87), Kind: "failover", VRID: 51, Summary: "192.168.33.102 took over from 192.168.33.101 (resign) after 960.5 ms, Skew_Time 960.9 ms"},
			{Frame: 45, Time: at(10.87), Kind: "adverts", VRID: 51, Summary: "192.168.33.102 advertised every 1.00 s", Count: 12, LastFrame: 180},
			{Frame: 185, Time: at(21.64), Kind: "failover", VRID: 51, Summary: "192.168.33.101 took over from 192.168.33.102 (preempt: priority 100 > 10)"},
		},
		Clients: []analyze.Client{{IP: "192.168.33.2", MAC: "00:16:3e:cc:00:02", Frames: 96,
			Resolutions: []string{"frame 12: 192.168.33.100 is-at 00:16:3e:aa:00:01"}}},
		Errors: []analyze.FrameError{
			{Frame: 17, Error: "vrrp: advert shorter than its header (12 bytes)"},
			{Frame: 18, Error: "vrrp: advert shorter than its header (12 bytes)"},
			{Frame: 60, Error: "igmp: bad checksum"},
			{Frame: 61, Error: "arp: truncated"},
			{Frame: 62, Error: "arp: truncated"},
			{Frame: 63, Error: "arp: truncated"},
			{Frame: 64, Error: "arp: truncated"},
		},
		Notes: []string{"nat2 (192.168.33.102) stopped advertising at frame 180 without a priority-0 advert: it was preempted, not stopped."},
	}
}

// damaged is a cooked live capture cut short: every warning of the header.
func damaged() *analyze.Analysis {
	a := fixture()
	a.Source.File = "/var/tmp/captures/2024-05-02/router-a-eth1-outage-window-1014.pcap"
	a.Source.LinkType = "Linux cooked v2"
	a.Source.HasDstMAC = false
	a.Source.Damaged = true
	a.Source.ReadError = "unexpected EOF in record 241"
	a.Source.Received = u64(260)
	a.Source.Dropped = u64(3)
	a.Failovers[1].Clients = nil
	a.Findings = nil
	a.Errors = nil
	a.Notes = nil
	return a
}

func render(t *testing.T, a *analyze.Analysis, opt Options) string {
	t.Helper()
	var b bytes.Buffer
	if err := Text(&b, a, opt); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run go test ./report -update after checking):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestTextGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		a    *analyze.Analysis
		opt  Options
	}{
		{"text.golden", fixture(), Options{}},
		{"text-verbose-80.golden", fixture(), Options{Width: 80, Verbose: true}},
		{"text-narrow-50.golden", fixture(), Options{Width: 50}},
		{"text-damaged.golden", damaged(), Options{}},
		{"text-empty.golden", &analyze.Analysis{}, Options{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			golden(t, tc.name, []byte(render(t, tc.a, tc.opt)))
		})
	}
}

func TestTextColor(t *testing.T) {
	for _, verbose := range []bool{false, true} {
		plain := render(t, fixture(), Options{Verbose: verbose})
		if strings.Contains(plain, nbsp) {
			t.Errorf("verbose=%v: output holds a no-break space", verbose)
		}
		if strings.ContainsRune(plain, '\x1b') {
			t.Errorf("verbose=%v: plain output holds an escape code", verbose)
		}
		colored := render(t, fixture(), Options{Color: true, Verbose: verbose})
		if !strings.Contains(colored, "\x1b[") {
			t.Fatalf("verbose=%v: colored output holds no escape code", verbose)
		}
		// Colour must not change the layout.
		if stripped := ansi.Strip(colored); stripped != plain {
			t.Errorf("verbose=%v: colored output without its escape codes differs from the plain output:\n%s", verbose, stripped)
		}
	}
	// The critical severity is red (ANSI 9), and bold.
	colored := render(t, fixture(), Options{Color: true})
	if !regexp.MustCompile(`\x1b\[[0-9;]*91[0-9;]*mCRITICAL`).MatchString(colored) {
		t.Errorf("CRITICAL is not rendered in bright red:\n%q", colored)
	}
}

// TestTextSanitizes checks that text from the capture cannot drive the
// terminal.
func TestTextSanitizes(t *testing.T) {
	a := fixture()
	a.Findings[0].Summary = "evil \x1b]0;owned\x07 summary"
	a.Source.File = "cap\x1b[2J.pcap"
	out := render(t, a, Options{})
	if strings.ContainsRune(out, '\x1b') || strings.ContainsRune(out, '\x07') {
		t.Errorf("control characters from the capture reached the output")
	}
	if !strings.Contains(out, `evil \x1b]0;owned\a summary`) {
		t.Errorf("escaped summary missing:\n%s", out)
	}
}

func TestTextFindings(t *testing.T) {
	a := fixture()
	verbose := render(t, a, Options{Verbose: true})
	for _, f := range a.Findings {
		if !strings.Contains(verbose, f.Code) {
			t.Errorf("finding %s missing", f.Code)
		}
		for _, fr := range f.Frames {
			if !regexp.MustCompile(`\b` + strconv.FormatUint(fr, 10) + `\b`).MatchString(verbose) {
				t.Errorf("frame %d of %s missing from the verbose report", fr, f.Code)
			}
		}
		if f.Detail != "" && !strings.Contains(verbose, f.Detail[:20]) {
			t.Errorf("detail of %s missing from the verbose report", f.Code)
		}
	}
	short := render(t, a, Options{})
	if !strings.Contains(short, "frames 186, 187, 188 … (+12)") {
		t.Errorf("many frames are not abbreviated:\n%s", short)
	}
	if strings.Contains(short, "why ") {
		t.Errorf("explanations shown without Verbose")
	}
	if !strings.Contains(short, "fix Make sure the new master") {
		t.Errorf("hints must show without Verbose")
	}
	// Most severe first, whatever the order in the model.
	crit := strings.Index(short, "CRITICAL  split-brain")
	warn := strings.Index(short, "WARNING  auth-mismatch")
	stale := strings.Index(short, "WARNING  stale-arp")
	info := strings.Index(short, "INFO  garp-interval")
	if crit < 0 || warn < 0 || stale < 0 || info < 0 || !(crit < warn && warn < stale && stale < info) {
		t.Errorf("findings out of order: critical %d, auth-mismatch %d, stale-arp %d, info %d", crit, warn, stale, info)
	}
	if a.Findings[0].Code != analyze.CodeResign {
		t.Errorf("Text reordered the caller's findings")
	}
}

func TestTextSections(t *testing.T) {
	out := render(t, fixture(), Options{})
	for _, want := range []string{
		"+9.870s     43  192.168.33.101 → 192.168.33.102  resign   960.5  960.9  -0.4   0.4  1/1",
		"+21.640s    185  192.168.33.102 → 192.168.33.101  preempt  770.2      -     -   1.2  0/1, 1 stale",
		"+3.600s  #3-#31    192.168.33.101 advertised every 1.00 s x 6",
		"#45-#180",
		"decode errors",
		"… and 2 more",
		"master at end 192.168.33.101",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(out, "s3cret") {
		t.Errorf("authentication password shown without Verbose")
	}
	if !strings.Contains(render(t, fixture(), Options{Verbose: true}), `pass "s3cret"`) {
		t.Errorf("verbose report lacks the authentication password")
	}

	d := render(t, damaged(), Options{})
	for _, want := range []string{"damaged", "unexpected EOF in record 241", "no destination MACs", "stale-arp", "client switch times", "received 260, dropped 3", "n/a"} {
		if !strings.Contains(d, want) {
			t.Errorf("damaged report lacks %q", want)
		}
	}
}

// TestTextWidth checks that no line is wider than asked, except a line
// whose overflow comes from a single token that cannot be broken.
func TestTextWidth(t *testing.T) {
	for _, a := range []*analyze.Analysis{fixture(), damaged()} {
		for _, w := range []int{40, 50, 60, 80, 100, 132} {
			for _, verbose := range []bool{false, true} {
				out := render(t, a, Options{Width: w, Verbose: verbose, Color: true})
				for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
					if textWidth(l) <= w {
						continue
					}
					long := false
					for _, tok := range strings.Fields(ansi.Strip(l)) {
						long = long || textWidth(tok) > w/2
					}
					if !long {
						t.Errorf("width %d verbose=%v: line of %d cells: %q", w, verbose, textWidth(l), ansi.Strip(l))
					}
				}
			}
		}
	}
}

func TestTextDefaultWidth(t *testing.T) {
	if a, b := render(t, fixture(), Options{}), render(t, fixture(), Options{Width: 100}); a != b {
		t.Errorf("Width 0 does not render as width 100")
	}
}

func TestJSON(t *testing.T) {
	a := fixture()
	var b bytes.Buffer
	if err := JSON(&b, a); err != nil {
		t.Fatal(err)
	}
	golden(t, "analysis.json.golden", b.Bytes())
	if !strings.Contains(b.String(), `"schema": "vrrpctl.analysis/v1"`) {
		t.Errorf("schema missing")
	}
	if !strings.Contains(b.String(), `"end": "2024-05-02T10:00:31.234567891Z"`) {
		t.Errorf("times are not RFC 3339 with nanoseconds")
	}
	var back analyze.Analysis
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, fixture()) {
		t.Errorf("JSON does not round-trip:\n got %+v\nwant %+v", back, *fixture())
	}
}

func TestJSONEmptyLists(t *testing.T) {
	a := &analyze.Analysis{
		Groups:    []analyze.Group{{VRID: 7, Family: "ipv4"}},
		Findings:  []analyze.Finding{{Code: analyze.CodeNoBackup, Severity: analyze.Warning}},
		Failovers: []analyze.Failover{{VRID: 7}},
		Clients:   []analyze.Client{{IP: "10.0.0.9"}},
	}
	var b bytes.Buffer
	if err := JSON(&b, a); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	// Only the optional measurements (garp_ms, switch_ms) may be null.
	if n := strings.Count(out, "null"); n != strings.Count(out, `"garp_ms": null`) {
		t.Errorf("JSON holds null for a list:\n%s", out)
	}
	for _, key := range []string{"timeline", "decode_errors", "notes", "vips", "speakers", "masterships", "frames", "clients", "resolutions"} {
		if !strings.Contains(out, `"`+key+`": []`) {
			t.Errorf("%s is not rendered as []", key)
		}
	}
	if !strings.Contains(out, `"schema": "vrrpctl.analysis/v1"`) {
		t.Errorf("schema not filled in")
	}
	// The caller's value is left alone.
	if a.Schema != "" || a.Notes != nil || a.Groups[0].VIPs != nil || a.Findings[0].Frames != nil || a.Clients[0].Resolutions != nil {
		t.Errorf("JSON modified its argument: %+v", a)
	}
}

func lines(t *testing.T, opt Options) string {
	a := fixture()
	var b strings.Builder
	for _, ev := range a.Timeline {
		b.WriteString(EventLine(ev, t0, opt) + "\n")
	}
	for _, f := range a.Findings {
		b.WriteString(FindingLine(f, t0, opt) + "\n")
	}
	for _, fo := range a.Failovers {
		b.WriteString(FailoverLine(fo, t0, opt) + "\n")
	}
	b.WriteString(StatusLine(a.Groups, at(31.2), opt) + "\n")
	b.WriteString(StatusLine(nil, at(31.2), opt) + "\n")
	b.WriteString(EventLine(a.Timeline[2], time.Time{}, opt) + "\n")
	return b.String()
}

func TestLines(t *testing.T) {
	plain := lines(t, Options{})
	golden(t, "lines.golden", []byte(plain))
	if strings.ContainsRune(plain, '\x1b') {
		t.Errorf("plain lines hold an escape code")
	}
	colored := lines(t, Options{Color: true})
	if !strings.Contains(colored, "\x1b[") {
		t.Errorf("colored lines hold no escape code")
	}
	if ansi.Strip(colored) != plain {
		t.Errorf("colour changes the lines' text")
	}
	if strings.Contains(plain, nbsp) {
		t.Errorf("lines hold a no-break space")
	}
	if n := strings.Count(plain, "\n"); n != 8+5+2+3 {
		t.Errorf("%d lines, want one per item", n)
	}
	for _, want := range []string{
		"+3.600s  #3-#31  VRID 51  192.168.33.101 advertised every 1.00 s x 6",
		"+15.200s  CRITICAL  split-brain  VRID 51  #150, 151, 152",
		"#186, 187, 188 … (+12)",
		"192.168.33.101 → 192.168.33.102  resign  took 960.5 ms (expected 960.9 ms, -0.4 ms)  GARP after 0.4 ms",
		"VRID 51: 192.168.33.101 master for 9.6s (10 adverts), prio 100",
		"10:00:03.600  #3-#31",
	} {
		if !strings.Contains(plain, want) {
			t.Errorf("lines lack %q:\n%s", want, plain)
		}
	}
}

func TestNDJSON(t *testing.T) {
	a := fixture()
	var b bytes.Buffer
	items := []struct {
		kind string
		v    any
	}{
		{KindEvent, a.Timeline[2]},
		{KindFinding, analyze.Finding{Code: analyze.CodeNoBackup, Severity: analyze.Warning, VRID: 51}},
		{KindFinding, &a.Findings[1]},
		{KindFailover, a.Failovers[0]},
		{KindFailover, analyze.Failover{VRID: 51, Cause: "unknown"}},
		{KindSummary, &analyze.Analysis{Source: a.Source}},
	}
	for _, it := range items {
		if err := NDJSON(&b, it.kind, it.v); err != nil {
			t.Fatal(err)
		}
	}
	got := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(got) != len(items) {
		t.Fatalf("%d lines for %d items", len(got), len(items))
	}
	for i, l := range got {
		var m struct {
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %d does not parse: %v\n%s", i+1, err, l)
		}
		if m.Type != items[i].kind || len(m.Data) == 0 {
			t.Errorf("line %d: type %q, data %s", i+1, m.Type, m.Data)
		}
		// garp_ms, switch_ms and answer_ms are documented to be null when
		// nothing happened; no other field may be.
		rest := l
		for _, ok := range []string{`"garp_ms":null`, `"switch_ms":null`, `"answer_ms":null`} {
			rest = strings.ReplaceAll(rest, ok, "")
		}
		if strings.Contains(rest, "null") {
			t.Errorf("line %d holds null: %s", i+1, l)
		}
	}
	var ev analyze.Event
	if err := json.Unmarshal([]byte(strings.TrimSuffix(strings.TrimPrefix(got[0], `{"type":"event","data":`), "}")), &ev); err != nil || !reflect.DeepEqual(ev, a.Timeline[2]) {
		t.Errorf("event does not round-trip: %v %+v", err, ev)
	}
	if !strings.Contains(got[5], `"schema":"vrrpctl.analysis/v1"`) {
		t.Errorf("summary lacks the schema: %s", got[5])
	}
	if err := NDJSON(&b, "gossip", 1); err == nil {
		t.Errorf("unknown type accepted")
	}
}

func TestColorWanted(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	t.Setenv("NO_COLOR", "")
	t.Setenv("TERM", "xterm-256color")
	if ColorWanted(f) {
		t.Errorf("colour wanted for a regular file")
	}
	if ColorWanted(nil) {
		t.Errorf("colour wanted for nil")
	}
	// The rules for a terminal, with the terminal taken as given (CI runs
	// without one), then ColorWanted on a pseudo-terminal.
	if !colorOnTerminal(true) {
		t.Errorf("colour not wanted on a terminal")
	}
	tty := testenv.Terminal(t)
	if !ColorWanted(tty) {
		t.Errorf("colour not wanted on a pseudo-terminal")
	}
	t.Setenv("NO_COLOR", "1")
	if colorOnTerminal(true) || ColorWanted(tty) {
		t.Errorf("colour wanted despite NO_COLOR")
	}
	t.Setenv("NO_COLOR", "")
	t.Setenv("TERM", "dumb")
	if colorOnTerminal(true) || ColorWanted(tty) {
		t.Errorf("colour wanted on a dumb terminal")
	}
	t.Setenv("TERM", "xterm-256color")
	if colorOnTerminal(false) {
		t.Errorf("colour wanted off a terminal")
	}
}

// TestEventCount checks that the size of a folded run comes from the
// event's fields: "x N" for every folded kind but a GARP burst, whose
// summary names its count.
func TestEventCount(t *testing.T) {
	for _, tc := range []struct {
		kind    string
		summary string
		count   int
		want    string
	}{
		{"adverts", "192.168.33.101 advertised every 1.00 s (priority 100)", 12, "192.168.33.101 advertised every 1.00 s (priority 100) x 12"},
		{"garp", "sent 5 gratuitous ARPs for 192.168.33.100", 5, "sent 5 gratuitous ARPs for 192.168.33.100"},
		{"join", "10.0.0.2 joined 224.0.0.2", 2, "10.0.0.2 joined 224.0.0.2 x 2"},
		{"adverts", "every 2.5 s", 5, "every 2.5 s x 5"},
		{"adverts", "one advert", 1, "one advert"},
	} {
		ev := analyze.Event{Frame: 3, LastFrame: 40, Time: at(1), Kind: tc.kind, Count: tc.count, Summary: tc.summary}
		if got := strings.ReplaceAll(eventSummary(ev), nbsp, " "); got != tc.want {
			t.Errorf("%s %q x %d: got %q, want %q", tc.kind, tc.summary, tc.count, got, tc.want)
		}
	}
}

// A long timeline keeps its head and tail in the short report, and all of it
// with Verbose.
func TestTextLongTimeline(t *testing.T) {
	a := fixture()
	a.Timeline = nil
	for i := 0; i < 200; i++ {
		a.Timeline = append(a.Timeline, analyze.Event{Frame: uint64(i + 1), Time: at(float64(i)), Kind: "garp",
			VRID: 51, Summary: fmt.Sprintf("event number %d", i)})
	}
	short := render(t, a, Options{Width: 100})
	for _, want := range []string{"event number 0\n", "event number 39\n", "120 more events (-v shows them all)", "event number 160\n", "event number 199\n"} {
		if !strings.Contains(short, want) {
			t.Errorf("short report lacks %q", want)
		}
	}
	if strings.Contains(short, "event number 40\n") || strings.Contains(short, "event number 159\n") {
		t.Error("short report shows the middle of a long timeline")
	}
	full := render(t, a, Options{Width: 100, Verbose: true})
	if !strings.Contains(full, "event number 100\n") || strings.Contains(full, "more events") {
		t.Error("verbose report does not show the whole timeline")
	}
}

// A merged analysis lists its captures: name, clock and where each was taken.
func TestTextCaptures(t *testing.T) {
	a := fixture()
	a.Sources = []analyze.Vantage{
		{Name: "here", File: "a.pcap", Frames: 240, Reference: true, Aligned: true, Inferred: "file name"},
		{Name: "nat2", File: "b.pcap", Frames: 71, Aligned: true, OffsetMS: -3600000.012, ErrorMS: 0.028, Matched: 56, Host: "192.168.33.102", Inferred: "given", AdvertsSeen: 9, AdvertDelayMS: 0.011},
		{Name: "old", File: "c.pcap", Frames: 12, Inferred: "file name"},
	}
	a.Findings[1].FramesAt = map[string][]uint64{"here": {186, 187}, "nat2": {40}}
	out := render(t, a, Options{Width: 120, Verbose: true})
	for _, want := range []string{"CAPTURES", "reference", "-3600000.012 ± 0.028 ms, 56 frames", "192.168.33.102 (given)", "not aligned", "in here 186, 187; nat2 40"} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q:\n%s", want, out)
		}
	}
}
