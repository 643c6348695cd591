package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/vrrpctl/vrrpctl/analyze"
)

func renderHTML(t testing.TB, a *analyze.Analysis, opt HTMLOptions) string {
	t.Helper()
	var b bytes.Buffer
	if err := HTML(&b, a, opt); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// embedded is the text of the analysis' script element.
func embedded(t testing.TB, page string) string {
	t.Helper()
	const open = `<script type="application/json" id="vrrpctl-analysis">`
	i := strings.Index(page, open)
	if i < 0 {
		t.Fatal("no analysis script element")
	}
	rest := page[i+len(open):]
	j := strings.Index(rest, "</script>")
	if j < 0 {
		t.Fatal("analysis script element not closed")
	}
	return rest[:j]
}

// nodes parses the page and returns the elements for which keep is true.
func nodes(t testing.TB, page string, keep func(n *html.Node) bool) []*html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var out []*html.Node
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && keep(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasClass(n *html.Node, c string) bool {
	for _, f := range strings.Fields(attr(n, "class")) {
		if f == c {
			return true
		}
	}
	return false
}

// within tells whether n is inside the element of id.
func within(n *html.Node, id string) bool {
	for p := n.Parent; p != nil; p = p.Parent {
		if attr(p, "id") == id {
			return true
		}
	}
	return false
}

// TestHTMLEmbedsJSON checks that the report holds exactly what JSON
// writes, for the fixture and every reference capture.
func TestHTMLEmbedsJSON(t *testing.T) {
	cases := map[string]*analyze.Analysis{"fixture": fixture(), "damaged": damaged(), "empty": {}}
	for _, name := range referenceCaptures {
		cases[name] = analyzeRef(t, name)
	}
	for name, a := range cases {
		var want bytes.Buffer
		if err := JSON(&want, a); err != nil {
			t.Fatal(err)
		}
		if got := embedded(t, renderHTML(t, a, HTMLOptions{})); got != want.String() {
			t.Errorf("%s: embedded JSON differs from JSON's", name)
		}
	}
}

// TestHTMLScriptSafe checks that text from the capture can neither close
// the script element nor reach the page as markup, and that the embedded
// document still means what JSON writes.
func TestHTMLScriptSafe(t *testing.T) {
	a := fixture()
	a.Source.File = `</script><script>alert(1)</script><!-- x.pcap`
	a.Findings[0].Summary = `<img src=x onerror=alert(2)> </SCRIPT> done`
	a.Notes = append(a.Notes, "a note with <b>markup</b> & an ampersand")
	page := renderHTML(t, a, HTMLOptions{})
	doc := embedded(t, page)
	for _, bad := range []string{"</", "<!--"} {
		if strings.Contains(strings.ToLower(doc), strings.ToLower(bad)) {
			t.Errorf("the embedded JSON holds %q", bad)
		}
	}
	var got, want any
	if err := json.Unmarshal([]byte(doc), &got); err != nil {
		t.Fatalf("embedded JSON does not parse: %v", err)
	}
	var b bytes.Buffer
	JSON(&b, a)
	json.Unmarshal(b.Bytes(), &want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("embedded JSON means something else than JSON's")
	}
	// As a browser parses it: two script elements, the document and the
	// page's own, and no element from the capture's text.
	scripts := nodes(t, page, func(n *html.Node) bool { return n.Data == "script" })
	if len(scripts) != 2 || attr(scripts[0], "id") != "vrrpctl-analysis" || scripts[0].FirstChild == nil || scripts[0].FirstChild.Data != doc {
		t.Errorf("%d script elements; the first must hold the document whole", len(scripts))
	}
	if n := nodes(t, page, func(n *html.Node) bool { return n.Data == "img" || n.Data == "b" }); len(n) > 0 {
		t.Errorf("markup from the capture reached the page: %d elements", len(n))
	}
	if !strings.Contains(page, "&lt;img src=x onerror=alert(2)&gt;") {
		t.Errorf("the summary is not shown escaped")
	}
}

// TestHTMLSelfContained checks that the page refers to nothing outside
// itself: no URL, no source, no stylesheet or font to fetch.
func TestHTMLSelfContained(t *testing.T) {
	for _, name := range referenceCaptures {
		page := renderHTML(t, analyzeRef(t, name), HTMLOptions{})
		for _, re := range []string{`https?:`, `(?i)<link`, `(?i)<img`, `(?i)<iframe`, `(?i)\bsrc=`, `@import`, `@font-face`, `url\((?:[^#)]|$)`} {
			if m := regexp.MustCompile(re).FindString(page); m != "" {
				t.Errorf("%s: the page holds %q", name, m)
			}
		}
		for _, n := range nodes(t, page, func(n *html.Node) bool { return attr(n, "href") != "" }) {
			if !strings.HasPrefix(attr(n, "href"), "#") {
				t.Errorf("%s: a link leaves the page: %s", name, attr(n, "href"))
			}
		}
	}
}

// TestHTMLContent checks the report of the reference captures against
// their analyses: a marker per failover in the ladder and on the strips,
// a close-up per failover and split brain, a stale bar per stale client,
// a card per finding with its frames.
func TestHTMLContent(t *testing.T) {
	for _, name := range referenceCaptures {
		a := analyzeRef(t, name)
		page := renderHTML(t, a, HTMLOptions{})
		count := func(keep func(n *html.Node) bool) int { return len(nodes(t, page, keep)) }
		markers := count(func(n *html.Node) bool { return hasClass(n, "failover-marker") && within(n, "view-overview") })
		ticks := count(func(n *html.Node) bool { return hasClass(n, "fo-tick") })
		if markers != len(a.Failovers) || ticks != len(a.Failovers) {
			t.Errorf("%s: %d failover markers, %d on the strips, want %d", name, markers, ticks, len(a.Failovers))
		}
		stale := 0
		for _, fo := range a.Failovers {
			for _, c := range fo.Clients {
				if c.StaleFrames > 0 {
					stale++
				}
			}
		}
		if n := count(func(n *html.Node) bool { return hasClass(n, "stale-bar") && within(n, "view-overview") }); n != stale {
			t.Errorf("%s: %d stale bars, want %d", name, n, stale)
		}
		views := count(func(n *html.Node) bool { return hasClass(n, "view") })
		if views != 1+len(a.Failovers)+len(a.SplitBrains) {
			t.Errorf("%s: %d views", name, views)
		}
		for i := range a.Failovers {
			id := foViewID(i)
			if n := count(func(n *html.Node) bool {
				return hasClass(n, "failover-marker") && within(n, id) && attr(n, "data-fo") == fmt.Sprint(i)
			}); n != 1 {
				t.Errorf("%s: the close-up of failover %d holds %d markers of it", name, i+1, n)
			}
		}
		cards := nodes(t, page, func(n *html.Node) bool { return hasClass(n, "finding") })
		if len(cards) != len(a.Findings) {
			t.Errorf("%s: %d finding cards, want %d", name, len(cards), len(a.Findings))
		}
		for _, c := range cards {
			if attr(c, "role") != "button" || attr(c, "tabindex") != "0" {
				t.Errorf("%s: finding card %s cannot be selected", name, attr(c, "id"))
			}
		}
	}
	// The stale period of the client that ignored the GARPs, with its frames.
	page := renderHTML(t, analyzeRef(t, "client-ignores-garp"), HTMLOptions{})
	for _, want := range []string{"⚠ stale ×26", "kept sending to the old master&#39;s MAC 22:00:fd:09:31:7a: 26 frames over 5.11 s"} {
		if !strings.Contains(page, want) {
			t.Errorf("stale report lacks %q", want)
		}
	}
}

// TestHTMLOptions checks what the lab adds to a report: its sections and
// its actions as marks across the ladder.
func TestHTMLOptions(t *testing.T) {
	a := fixture()
	page := renderHTML(t, a, HTMLOptions{
		Title: "staged failover: stop", Generator: "vrrpctl test",
		Sections: []Section{{Title: "Measured by the lab", Head: []string{"", "lab", "analyzer"},
			Rows: [][]string{{"detection", "961 ms", "960.5 ms"}}, Notes: []string{"PASS"}}},
		Marks: []Mark{{Time: at(8.9), Label: "stop nat1 (SIGTERM)"}},
	})
	for _, want := range []string{"<title>staged failover: stop</title>", "Measured by the lab", "<th scope=\"row\">detection</th><td>961 ms</td><td>960.5 ms</td>", "stop nat1 (SIGTERM)", `content="vrrpctl test"`} {
		if !strings.Contains(page, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

// TestHTMLSize checks that a huge analysis folds: the timeline's cap of
// events, hundreds of clients and sixty failovers (a flapping hour) make a
// page whose diagram stays a fraction of the embedded document. (The
// 1-million-frame capture of bench/gen, 161 clients and two failovers,
// makes a report of 219 KB.)
func TestHTMLSize(t *testing.T) {
	a := fixture()
	a.Timeline = nil
	for i := 0; i < 20000; i++ {
		ev := analyze.Event{Frame: uint64(i + 1), Time: at(float64(i) * 0.18), VRID: 51, Source: nat1.IP}
		switch i % 4 {
		case 0:
			ev.Kind, ev.Target, ev.Summary = "garp", "broadcast", "192.168.33.101 sent a gratuitous ARP for 192.168.33.100"
		case 1:
			ev.Kind, ev.Target, ev.Summary = "arp", fmt.Sprintf("192.168.33.%d", 10+i%200), "client resolved the VIP"
			ev.Source = "192.168.33.100"
		case 2:
			ev.Kind, ev.Target, ev.Summary, ev.VRID = "join", "224.0.0.18", "joined 224.0.0.18", 0
		default:
			ev.Kind, ev.Target, ev.Summary, ev.Count, ev.LastFrame = "adverts", "224.0.0.18", "advertised every 1.00 s", 3, uint64(i+3)
		}
		a.Timeline = append(a.Timeline, ev)
	}
	a.Source.End = at(3600)
	a.Failovers = nil
	for f := 0; f < 60; f++ {
		fo := analyze.Failover{VRID: 51, Family: "ipv4", Frame: uint64(100 + f*300), Time: at(float64(f) * 60), From: nat1, To: nat2,
			Cause: "resign", DetectMS: 960, ExpectedMS: 960.9, GarpMS: f64(0.3)}
		for c := 0; c < 200; c++ {
			cs := analyze.ClientSwitch{IP: fmt.Sprintf("10.0.%d.%d", c/250, c%250), MAC: "02:00:00:00:00:01", SwitchMS: f64(float64(c))}
			if c%20 == 0 {
				cs.StaleFrames, cs.StaleFrom, cs.StaleTo = 4, fo.Time.Add(time.Millisecond), fo.Time.Add(time.Second)
			}
			fo.Clients = append(fo.Clients, cs)
		}
		a.Failovers = append(a.Failovers, fo)
	}
	page := renderHTML(t, a, HTMLOptions{})
	if d := os.Getenv("VRRPCTL_DUMP"); d != "" {
		os.WriteFile(d, []byte(page), 0o644)
	}
	doc := embedded(t, page)
	diagram := len(page) - len(doc)
	t.Logf("page %d bytes: embedded JSON %d, the rest %d", len(page), len(doc), diagram)
	if diagram > 3<<20 {
		t.Errorf("the page without its JSON is %d bytes; the diagram does not fold", diagram)
	}
	if n := strings.Count(page, `class="view"`); n != 1+maxCloseUps {
		t.Errorf("%d views, want the whole capture and %d close-ups", n, maxCloseUps)
	}
	if !strings.Contains(page, "more events") {
		t.Errorf("crowded lines are not folded")
	}
}

// TestScriptJSON checks the escaping of the embedded document.
func TestScriptJSON(t *testing.T) {
	for in, want := range map[string]string{
		`{"a":"b"}`:                  `{"a":"b"}`,
		`{"a":"</script>"}`:          `{"a":"<\/script>"}`,
		`{"a":"<!-- x -->"}`:         `{"a":"\u003c!-- x -->"}`,
		`{"a":"x < y > z, a/b </b"}`: `{"a":"x < y > z, a/b <\/b"}`,
	} {
		if got := string(scriptJSON([]byte(in))); got != want {
			t.Errorf("scriptJSON(%s) = %s, want %s", in, got, want)
		}
		var a, b any
		json.Unmarshal([]byte(in), &a)
		if err := json.Unmarshal([]byte(want), &b); err != nil || !reflect.DeepEqual(a, b) {
			t.Errorf("%s: escaped form means something else (%v)", in, err)
		}
	}
}
