package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/vrrpctl/vrrpctl/internal/testenv"
)

// The HTML report in a real browser: Debian's Chromium, headless, with the
// network off, loading each report from file://.

// htmlCaptures are the reference captures whose reports are checked.
var htmlCaptures = []string{
	"failover", "client-ignores-garp", "split-brain", "no-garp", "equal-prio", "article-garp",
	"auth-mismatch", "interval-mismatch", "v3-100ms", "vrrp-strict",
	"vmac-failover", "vmac-crash", "vmac-split-brain", "vmac-track",
	"frr-v2-ipv4", "frr-v3-ipv4", "frr-v3-ipv4-arp-default", "ipv6/frr-v3-ipv6",
}

// screenshotDir is where the screenshots go: $VRRPCTL_SCREENSHOTS when set
// (make screenshots sets it to docs/), else the test's artifact directory
// (kept with go test -artifacts).
func screenshotDir(t *testing.T) string {
	if d := os.Getenv("VRRPCTL_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.ArtifactDir()
}

// newBrowser starts headless Chromium for the test: no sandbox (root), no
// GPU, nothing in the background that would reach for the network, a fresh
// profile, and every host name unresolvable.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	testenv.NeedTool(t, "chromium")
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(append([]chromedp.ExecAllocatorOption{}, chromedp.DefaultExecAllocatorOptions[:]...),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND"),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1600, 1000),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	// Start the browser now, with a deadline of its own.
	start, cancel := context.WithTimeout(bctx, 60*time.Second)
	defer cancel()
	_ = start
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return bctx
}

// pageLog records what a page asked of the network and said on its console.
type pageLog struct {
	mu       sync.Mutex
	requests []string
	console  []string
}

func (pl *pageLog) listen(ev any) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		pl.requests = append(pl.requests, e.Request.URL)
	case *runtime.EventExceptionThrown:
		msg := e.ExceptionDetails.Text
		if e.ExceptionDetails.Exception != nil {
			msg += " " + e.ExceptionDetails.Exception.Description
		}
		pl.console = append(pl.console, "exception: "+msg)
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning || e.Type == runtime.ConsoleAPICalledTypeAssert {
			var parts []string
			for _, a := range e.Args {
				parts = append(parts, string(a.Value))
			}
			pl.console = append(pl.console, fmt.Sprintf("console.%s: %s", e.Type, strings.Join(parts, " ")))
		}
	case *log.EventEntryAdded:
		if e.Entry.Level == log.EntryLevelError || e.Entry.Level == log.EntryLevelWarning {
			pl.console = append(pl.console, fmt.Sprintf("log %s: %s %s", e.Entry.Level, e.Entry.Text, e.Entry.URL))
		}
	}
}

// pageFacts is what the page shows, read in the page.
type pageFacts struct {
	Ready      string   `json:"ready"`
	JSON       string   `json:"json"`
	Markers    int      `json:"markers"`
	StripTicks int      `json:"stripTicks"`
	Stale      int      `json:"stale"`
	StripStale int      `json:"stripStale"`
	Views      []string `json:"views"`
	Findings   []string `json:"findings"`
	External   []string `json:"external"`
	Visible    string   `json:"visible"`
}

const factsJS = `(() => {
  const q = (s) => Array.from(document.querySelectorAll(s));
  const ext = [];
  q('[src],[href]').forEach(e => {
    const u = e.getAttribute('src') || e.getAttribute('href');
    if (u && !u.startsWith('#')) ext.push(u);
  });
  q('link,iframe,img,object,embed,base').forEach(e => ext.push(e.outerHTML.slice(0, 80)));
  return {
    ready: document.body.dataset.ready || '',
    json: document.getElementById('vrrpctl-analysis').textContent,
    markers: q('#view-overview .failover-marker').length,
    stripTicks: q('svg.strip .fo-tick').length,
    stale: q('#view-overview .stale-bar').length,
    stripStale: q('svg.strip .strip-stale').length,
    views: q('.view').map(v => v.id),
    findings: q('.finding').map(f => f.id),
    external: ext,
    visible: (q('.view:not([hidden])')[0] || {}).id || '',
  };
})()`

// selection is what selecting a finding did.
type selection struct {
	Pressed     string `json:"pressed"`
	View        string `json:"view"`
	Marked      int    `json:"marked"`
	Unjustified int    `json:"unjustified"`
	Expected    int    `json:"expected"`
	MarkShown   bool   `json:"markShown"`
	InWindow    bool   `json:"inWindow"`
}

// selectionJS checks the marks against the finding: every marked element
// stands for one of its frames or (a client's stale period or unanswered
// requests) holds its time, and one of them, or the time mark, is on screen.
const selectionJS = `((id) => {
  const card = document.getElementById(id);
  const frames = (card.dataset.frames || '').split(',').filter(Boolean).map(Number);
  const t = card.dataset.t === '' ? null : +card.dataset.t;
  const view = document.querySelector('.view:not([hidden])');
  const holds = (e) => {
    if (e.dataset.f0 !== undefined && frames.some(f => f >= +e.dataset.f0 && f <= +e.dataset.f1)) return true;
    return t !== null && e.dataset.span !== undefined && t >= +e.dataset.t0 - 0.001 && t <= +e.dataset.t1 + 0.001;
  };
  const marked = Array.from(view.querySelectorAll('.hl'));
  let expected = 0;
  document.querySelectorAll('.view').forEach(v => {
    const n = Array.from(v.querySelectorAll('[data-f0]')).filter(e => frames.some(f => f >= +e.dataset.f0 && f <= +e.dataset.f1)).length;
    expected = Math.max(expected, n);
  });
  const mark = view.querySelector('.finding-mark');
  const onScreen = (r) => r.bottom > 0 && r.top < window.innerHeight;
  let inWindow = marked.some(e => onScreen(e.getBoundingClientRect()));
  const markShown = mark && mark.getAttribute('visibility') === 'visible';
  if (markShown) inWindow = inWindow || onScreen(mark.getBoundingClientRect());
  return {
    pressed: card.getAttribute('aria-pressed'),
    view: view.id,
    marked: marked.length,
    unjustified: marked.filter(e => !holds(e)).length,
    expected: expected,
    markShown: !!markShown,
    inWindow: inWindow,
  };
})`

func TestHTMLInBrowser(t *testing.T) {
	browser := newBrowser(t)
	shots := screenshotDir(t)
	for _, name := range htmlCaptures {
		base := strings.ReplaceAll(name, "/", "-")
		t.Run(base, func(t *testing.T) {
			// From the module's root, so that the reports name
			// testdata/NAME.pcap as a user would.
			page := filepath.Join(t.TempDir(), base+".html")
			capture := "testdata/" + name + ".pcap"
			r := runIn(t, "../..", nil, "analyze", "--html", page, capture)
			if r.code == exitUnusable {
				t.Fatalf("analyze --html: exit %d: %s", r.code, r.stderr)
			}
			doc := runIn(t, "../..", nil, "analyze", "--json", capture).stdout
			checkInBrowser(t, browser, page, doc, filepath.Join(shots, base))
		})
	}
}

// checkInBrowser loads a report and checks what the issue asks of it:
// nothing leaves the file, no console error, the JSON of --json embedded
// byte for byte, a marker per failover, a bar per stale client, findings
// that mark their frames; then it saves screenshots (shot.png, shot-dark.png).
func checkInBrowser(t *testing.T, browser context.Context, page, doc, shot string) {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	defer cancelT()
	pl := &pageLog{}
	if err := chromedp.Listen(ctx, pl.listen); err != nil {
		t.Fatal(err)
	}
	// The network is off for this tab; whatever the page asked for is seen
	// by the listener all the same.
	if _, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
		MatchedNetworkConditions: []*network.Conditions{{Offline: true, DownloadThroughput: -1, UploadThroughput: -1}},
	}); err != nil {
		t.Fatal(err)
	}
	url := "file://" + page
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="1"]`))); err != nil {
		t.Fatalf("load %s: %v", url, err)
	}
	facts, err := chromedp.Run(ctx, chromedp.Evaluate[pageFacts](factsJS))
	if err != nil {
		t.Fatal(err)
	}
	if facts.JSON != doc {
		t.Errorf("the embedded JSON differs from analyze --json (%d and %d bytes)", len(facts.JSON), len(doc))
	}
	a := decodeJSON(t, doc)
	if facts.Markers != len(a.Failovers) || facts.StripTicks != len(a.Failovers) {
		t.Errorf("failover markers: %d in the ladder, %d on the strips, want %d", facts.Markers, facts.StripTicks, len(a.Failovers))
	}
	stale := 0
	for _, fo := range a.Failovers {
		for _, c := range fo.Clients {
			if c.StaleFrames > 0 {
				stale++
			}
		}
	}
	if facts.Stale != stale || facts.StripStale != stale {
		t.Errorf("stale bars: %d in the ladder, %d on the strips, want %d (one per stale client)", facts.Stale, facts.StripStale, stale)
	}
	if len(facts.External) > 0 {
		t.Errorf("the page refers to outside resources: %q", facts.External)
	}
	wantViews := 1 + len(a.Failovers) + len(a.SplitBrains)
	if len(facts.Views) != wantViews || facts.Visible != "view-overview" {
		t.Errorf("views %v (showing %q), want %d starting with the whole capture", facts.Views, facts.Visible, wantViews)
	}
	if len(facts.Findings) != len(a.Findings) {
		t.Errorf("%d finding cards, want %d", len(facts.Findings), len(a.Findings))
	}

	// Each finding, selected, marks its frames and brings them into view.
	for _, id := range facts.Findings {
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#"+id+" h3"))); err != nil {
			t.Fatalf("click %s: %v", id, err)
		}
		sel, err := chromedp.Run(ctx, chromedp.Evaluate[selection](selectionJS+`("`+id+`")`))
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case sel.Pressed != "true":
			t.Errorf("%s: not selected after a click (aria-pressed %q)", id, sel.Pressed)
		case sel.Expected > 0 && sel.Marked == 0:
			t.Errorf("%s: nothing marked in %s, though %d elements stand for its frames", id, sel.View, sel.Expected)
		case sel.Marked == 0 && !sel.MarkShown:
			t.Errorf("%s: neither frames nor time marked", id)
		case sel.Unjustified > 0:
			t.Errorf("%s: %d of %d marked elements stand for none of its frames", id, sel.Unjustified, sel.Marked)
		case !sel.InWindow:
			t.Errorf("%s: what it marks is not scrolled into view", id)
		}
	}
	// Escape clears the marks.
	if err := chromedp.Do(ctx, chromedp.KeyEvent("\x1b")); err != nil {
		t.Fatal(err)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('.hl, .finding[aria-pressed=true]').length`)); err != nil || n != 0 {
		t.Errorf("Escape left %d marks (%v)", n, err)
	}

	// Each close-up is a click away and holds its failover.
	for i := range a.Failovers {
		id := fmt.Sprintf("view-failover-%d", i+1)
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`.tab[data-view="`+id+`"]`))); err != nil {
			t.Fatal(err)
		}
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const v = document.querySelector('.view:not([hidden])'); return v.id + ' ' + v.querySelectorAll('.failover-marker[data-fo="`+fmt.Sprint(i)+`"]').length; })()`))
		if err != nil {
			t.Fatal(err)
		}
		if got != id+" 1" {
			t.Errorf("close-up of failover %d: %q", i+1, got)
		}
		if i == 0 {
			png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS("#"+id)))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(shot+"-failover-1.png", png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`.tab[data-view="view-overview"]`)),
		chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0); document.getElementById("findings").scrollTop = 0`)); err != nil {
		t.Fatal(err)
	}

	for _, scheme := range []string{"light", "dark"} {
		if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Media:    "screen",
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		}); err != nil {
			t.Fatal(err)
		}
		// A viewport as tall as the page, so that the findings (as tall as
		// the window) show whole.
		h, err := chromedp.Run(ctx, chromedp.Evaluate[int64](`document.documentElement.scrollHeight`))
		if err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(1600, h)); err != nil {
			t.Fatal(err)
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		name := shot + ".png"
		if scheme == "dark" {
			name = shot + "-dark.png"
		}
		if err := os.WriteFile(name, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Printed, every view is on paper.
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	hidden, err := chromedp.Run(ctx, chromedp.Evaluate[int](`Array.from(document.querySelectorAll('.view')).filter(v => getComputedStyle(v).display === 'none').length`))
	if err != nil || hidden != 0 {
		t.Errorf("printed, %d views are hidden (%v)", hidden, err)
	}

	pl.mu.Lock()
	defer pl.mu.Unlock()
	for _, u := range pl.requests {
		if u != url {
			t.Errorf("the page asked for %s", u)
		}
	}
	for _, c := range pl.console {
		t.Errorf("console: %s", c)
	}
}

// TestAnalyzeHTMLAndLadder checks the flags without a browser: --html
// writes the report beside the usual output (or alone on stdout with -),
// --ladder prints the diagram in the width asked, plain without a
// terminal, and the exit status still follows the findings.
func TestAnalyzeHTMLAndLadder(t *testing.T) {
	page := filepath.Join(t.TempDir(), "r.html")
	r := run(t, nil, "analyze", "--html", page, ref("failover.pcap"))
	if r.code != 0 || !strings.Contains(r.stdout, "VIRTUAL ROUTERS") {
		t.Fatalf("analyze --html: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	body, err := os.ReadFile(page)
	if err != nil || !strings.HasPrefix(string(body), "<!DOCTYPE html>") || !strings.Contains(string(body), `id="vrrpctl-analysis"`) {
		t.Fatalf("the report %s: %v\n%.200s", page, err, body)
	}
	if r := run(t, nil, "analyze", "--html", "-", ref("failover.pcap")); r.code != 0 || r.stdout != string(body) {
		t.Errorf("--html - does not print the report alone: exit %d, %d bytes", r.code, len(r.stdout))
	}
	if r := run(t, nil, "analyze", "--html", filepath.Join(t.TempDir(), "no", "such", "dir.html"), ref("failover.pcap")); r.code != exitUnusable || !strings.Contains(r.stderr, "--html") {
		t.Errorf("an unwritable --html file: exit %d, %q", r.code, r.stderr)
	}

	for _, name := range htmlCaptures {
		r := run(t, nil, "analyze", "--ladder", "--width", "100", ref(name+".pcap"))
		if r.code == exitUnusable || !strings.HasPrefix(r.stdout, "vrrpctl ladder") {
			t.Errorf("%s: analyze --ladder: exit %d: %s", name, r.code, r.stderr)
			continue
		}
		if strings.ContainsRune(r.stdout, 0x1b) {
			t.Errorf("%s: escape codes with NO_COLOR and no terminal", name)
		}
		for _, l := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
			if n := len([]rune(l)); n > 100 {
				t.Errorf("%s: a line of %d columns: %q", name, n, l)
			}
		}
		json := decodeJSON(t, run(t, nil, "analyze", "--json", ref(name+".pcap")).stdout)
		for i := range json.Failovers {
			if want := fmt.Sprintf("FAILOVER %d/%d", i+1, len(json.Failovers)); !strings.Contains(r.stdout, want) {
				t.Errorf("%s: the ladder lacks %q", name, want)
			}
		}
		for i := range json.SplitBrains {
			if want := fmt.Sprintf("SPLIT BRAIN %d/%d", i+1, len(json.SplitBrains)); !strings.Contains(r.stdout, want) {
				t.Errorf("%s: the ladder lacks %q", name, want)
			}
		}
	}
	if r := run(t, nil, "analyze", "--ladder", ref("split-brain.pcap")); r.code != exitCritical {
		t.Errorf("--ladder on a split brain: exit %d, want %d", r.code, exitCritical)
	}
	if r := run(t, nil, "analyze", "--ladder", "--ladder-window", "10s", ref("failover.pcap")); !strings.Contains(r.stdout, "window 10 s") {
		t.Errorf("--ladder-window 10s:\n%s", r.stdout)
	}
	if r := run(t, nil, "analyze", "--ladder", "--color", "always", ref("client-ignores-garp.pcap")); !strings.Contains(r.stdout, "\x1b[") || !strings.Contains(r.stdout, "▒") {
		t.Errorf("--ladder --color always: no colour or no stale period:\n%s", r.stdout)
	}
}
