package report

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/vrrpctl/vrrpctl/analyze"
	"github.com/vrrpctl/vrrpctl/capture"
)

// referenceCaptures are the recorded captures of testdata/, by name.
var referenceCaptures = []string{
	"failover", "client-ignores-garp", "split-brain", "no-garp", "equal-prio", "article-garp",
	"auth-mismatch", "interval-mismatch", "v3-100ms", "vrrp-strict",
	"vmac-failover", "vmac-crash", "vmac-split-brain", "vmac-track",
	"frr-v2-ipv4", "frr-v3-ipv4", "frr-v3-ipv4-arp-default", "ipv6/frr-v3-ipv6",
}

// analyzeRef analyzes a capture of testdata/ as vrrpctl analyze does.
func analyzeRef(t testing.TB, name string) *analyze.Analysis {
	t.Helper()
	path := filepath.Join("..", "testdata", name+".pcap")
	src, err := capture.OpenFile(path, "")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	a, err := analyze.Run(src, analyze.Options{File: "testdata/" + name + ".pcap"})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func ladderText(t testing.TB, a *analyze.Analysis, opt Options, window time.Duration) string {
	t.Helper()
	var b bytes.Buffer
	if err := Ladder(&b, a, opt, window); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestLadderGolden pins the terminal ladder of every reference capture at
// the default width.
func TestLadderGolden(t *testing.T) {
	for _, name := range referenceCaptures {
		t.Run(name, func(t *testing.T) {
			a := analyzeRef(t, name)
			golden(t, filepath.Join("ladder", strings.ReplaceAll(name, "/", "-")+".golden"), []byte(ladderText(t, a, Options{}, 0)))
		})
	}
}

// TestLadderWidth checks that the ladder fits the width at every width
// the report supports, on every reference capture, and that colour adds
// escape codes and nothing else.
func TestLadderWidth(t *testing.T) {
	for _, name := range referenceCaptures {
		a := analyzeRef(t, name)
		for _, w := range []int{60, 80, 100, 132, 160} {
			plain := ladderText(t, a, Options{Width: w}, 0)
			if strings.ContainsRune(plain, '\x1b') {
				t.Errorf("%s width %d: plain ladder holds an escape code", name, w)
			}
			for _, l := range strings.Split(strings.TrimSuffix(plain, "\n"), "\n") {
				if n := textWidth(l); n > w {
					long := false
					for _, tok := range strings.Fields(l) {
						long = long || textWidth(tok) > w/2
					}
					if !long {
						t.Errorf("%s width %d: line of %d cells: %q", name, w, n, l)
					}
				}
			}
			colored := ladderText(t, a, Options{Width: w, Color: true}, 0)
			if !strings.Contains(colored, "\x1b[") {
				t.Errorf("%s width %d: coloured ladder holds no escape code", name, w)
			}
			if ansi.Strip(colored) != plain {
				t.Errorf("%s width %d: colour changes the ladder's text", name, w)
			}
		}
	}
}

// TestLadderContent checks what the ladder of the reference failover
// shows, from the model's fields: each failover's window with its times,
// the GARP bursts with their counts, the client's switch, the RFC time.
func TestLadderContent(t *testing.T) {
	out := ladderText(t, analyzeRef(t, "failover"), Options{}, 0)
	for _, want := range []string{
		"FAILOVER 1/2  VRID 51  192.168.33.101 → 192.168.33.102  resign",
		"FAILOVER 2/2  VRID 51  192.168.33.102 → 192.168.33.101  preempt",
		"took 965.4 ms, RFC Skew_Time 960.9 ms (+4.5 ms), first GARP +0.2 ms",
		"GARP ×2 ──",
		"priority 0",
		"RFC Skew_Time 960.9 ms",
		"takes over, took 965.4 ms",
		"to new MAC",
		"+89.0ms",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("ladder lacks %q:\n%s", want, out)
		}
	}
	// The stale period of a client that ignored the GARPs, and how long it lasted.
	stale := ladderText(t, analyzeRef(t, "client-ignores-garp"), Options{}, 0)
	for _, want := range []string{"stale: 26 frames to the old MAC", glyphStale, "stale until +5.240s"} {
		if !strings.Contains(stale, want) {
			t.Errorf("stale ladder lacks %q:\n%s", want, stale)
		}
	}
	// The window is settable.
	wide := ladderText(t, analyzeRef(t, "failover"), Options{}, 20*time.Second)
	if !strings.Contains(wide, "window 20 s") || !strings.Contains(wide, "join 224.0.0.18") {
		t.Errorf("a 20 s window does not reach the joins:\n%s", wide)
	}
	// A capture without failover or split brain is drawn whole.
	a := analyzeRef(t, "article-garp")
	if out := ladderText(t, a, Options{}, 0); !strings.Contains(out, "WHOLE CAPTURE") || !strings.Contains(out, "GARP") {
		t.Errorf("article-garp ladder:\n%s", out)
	}
	if out := ladderText(t, &analyze.Analysis{}, Options{}, 0); !strings.Contains(out, "nothing to draw") {
		t.Errorf("empty ladder:\n%s", out)
	}
}
