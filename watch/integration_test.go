package watch

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vrrpctl/vrrpctl/analyze"
	"github.com/vrrpctl/vrrpctl/capture"
)

// ndLine is one NDJSON line of watch --json, with when it arrived.
type ndLine struct {
	at   time.Time
	kind string
	ev   analyze.Event
	fd   analyze.Finding
	fo   analyze.Failover
	sum  analyze.Analysis
}

func parseND(t *testing.T, lines []recordedLine) []ndLine {
	t.Helper()
	var out []ndLine
	for _, l := range lines {
		var raw struct {
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal([]byte(l.text), &raw); err != nil {
			t.Fatalf("not an NDJSON line: %q: %v", l.text, err)
		}
		n := ndLine{at: l.at, kind: raw.Type}
		var err error
		switch raw.Type {
		case "event":
			err = json.Unmarshal(raw.Data, &n.ev)
		case "finding":
			err = json.Unmarshal(raw.Data, &n.fd)
		case "failover":
			err = json.Unmarshal(raw.Data, &n.fo)
		case "summary":
			err = json.Unmarshal(raw.Data, &n.sum)
		default:
			t.Fatalf("unknown NDJSON type %q", raw.Type)
		}
		if err != nil {
			t.Fatalf("%s line %q: %v", raw.Type, l.text, err)
		}
		out = append(out, n)
	}
	return out
}

// TestWatchLive stages what an operator watches for, with two keepalived
// routers and a client on one bridge, and watch --json running in the
// client's namespace: a graceful stop of the master, the master vanishing
// (its link down), and a split brain (one router dropping IP protocol 112).
func TestWatchLive(t *testing.T) {
	l := newTestLab(t)
	l.addHost("r1", "192.168.33.101/24")
	l.addHost("r2", "192.168.33.102/24")
	cl := l.addHost("cl", "192.168.33.2/24")

	rec := &lineRecorder{}
	pcapPath := filepath.Join(t.TempDir(), "watch.pcap")
	htmlPath := filepath.Join(t.TempDir(), "watch.html")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type runResult struct {
		res *Result
		err error
	}
	done := make(chan runResult, 1)
	go func() {
		res, err := Run(ctx, Config{Interface: "eth1", Netns: cl, JSON: true, WriteFile: pcapPath, HTML: htmlPath, Neighbours: true, Out: rec, Err: &lineRecorder{}})
		done <- runResult{res, err}
	}()
	// Let the capture start before anything happens on the wire.
	time.Sleep(300 * time.Millisecond)
	select {
	case r := <-done:
		t.Fatalf("watch ended at once: %v", r.err)
	default:
	}

	r1 := l.keepalived("r1", 100, "MASTER")
	l.keepalived("r2", 10, "BACKUP")
	i, _ := rec.waitLine(t, 0, 10*time.Second, `"kind":"master"`, "192.168.33.101 is master")
	l.clientTraffic("cl", "192.168.33.100")

	// 1. Graceful stop of the master: priority-0 advert, the backup takes over after Skew_Time.
	time.Sleep(2 * time.Second)
	stopProc(r1, 5*time.Second)
	i, _ = rec.waitLine(t, i, 5*time.Second, `"type":"failover"`, `"cause":"resign"`)

	// 2. The master comes back and preempts; then it vanishes: its link goes down.
	l.keepalived("r1", 100, "MASTER")
	i, _ = rec.waitLine(t, i, 12*time.Second, `"type":"failover"`, `"to":{"ip":"192.168.33.101"`)
	time.Sleep(2 * time.Second)
	l.setPort("r1", false)
	i, _ = rec.waitLine(t, i, 8*time.Second, `"type":"failover"`, `"cause":"master-down"`)
	l.setPort("r1", true)
	i, _ = rec.waitLine(t, i, 8*time.Second, `"type":"failover"`, `"to":{"ip":"192.168.33.101"`)

	// 3. Split brain: r2 stops hearing r1's adverts and takes the VIP as well.
	time.Sleep(2 * time.Second)
	// The finding comes as soon as both hold the VIP, the end of the split
	// brain as an event when one side has given up.
	l.nft("r2", "add table inet vwtest; add chain inet vwtest in { type filter hook input priority 0; }; add rule inet vwtest in ip protocol 112 drop")
	i, _ = rec.waitLine(t, i, 10*time.Second, `"type":"finding"`, `"code":"split-brain"`)
	i, _ = rec.waitLine(t, i, 2*time.Second, `"kind":"split-brain"`, "two masters")
	time.Sleep(2 * time.Second)
	l.nft("r2", "delete table inet vwtest")
	rec.waitLine(t, i, 12*time.Second, `"kind":"split-brain"`, "split brain over")

	cancel()
	var r runResult
	select {
	case r = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("watch did not stop within 5 s of its context being cancelled")
	}
	if r.err != nil {
		t.Fatalf("watch: %v", r.err)
	}
	nd := parseND(t, rec.snapshot())
	if len(nd) == 0 || nd[len(nd)-1].kind != "summary" {
		t.Fatalf("the last line is not the summary:\n%s", joinLines(rec.snapshot()))
	}
	sum := nd[len(nd)-1].sum
	if sum.Source.Received == nil || sum.Source.Dropped == nil {
		t.Errorf("summary without libpcap counters: received %v, dropped %v", sum.Source.Received, sum.Source.Dropped)
	} else {
		t.Logf("libpcap: received %d, dropped %d; frames %d", *sum.Source.Received, *sum.Source.Dropped, sum.Source.Frames)
		if *sum.Source.Dropped != 0 {
			t.Errorf("libpcap dropped %d frames", *sum.Source.Dropped)
		}
	}
	// The HTML report, written when the watch stopped: every failover and
	// the split brain drawn.
	if page, err := os.ReadFile(htmlPath); err != nil {
		t.Errorf("--html: %v", err)
	} else if n := strings.Count(string(page), `class="takeover failover-marker"`); n < len(r.res.Analysis.Failovers) || !strings.Contains(string(page), "SPLIT BRAIN") {
		t.Errorf("the HTML report draws %d failover markers for %d failovers, split brain %v",
			n, len(r.res.Analysis.Failovers), strings.Contains(string(page), "SPLIT BRAIN"))
	}
	if got := r.res.Analysis.ExitStatus(); got != 2 {
		t.Errorf("exit status %d, want 2 (a split brain is critical)", got)
	}

	// Timeliness: what is concluded from a frame arrives within one second
	// of that frame; what is concluded from silence within one second of the
	// engine's wait: a takeover by a contender is decided once the old master
	// has held the VIP for no claim window (3.5 advert intervals of 1 s), the
	// end of a split brain after twice that.
	const slack = time.Second
	silence := 3500 * time.Millisecond
	splitEnd := 2 * silence
	var worst time.Duration
	check := func(what string, at, ref time.Time, allow time.Duration) {
		d := at.Sub(ref)
		if allow == slack && d > worst {
			worst = d
		}
		if d > allow {
			t.Errorf("%s arrived %v after it happened (allowed %v)", what, d.Round(time.Millisecond), allow)
		}
	}
	for _, n := range nd {
		switch n.kind {
		case "event":
			switch {
			case n.ev.Kind == "master" || n.ev.Kind == "resign" || n.ev.Kind == "arp" ||
				(n.ev.Kind == "contend" && strings.Contains(n.ev.Summary, "while")) ||
				(n.ev.Kind == "split-brain" && strings.Contains(n.ev.Summary, "two masters")):
				check("event "+n.ev.Kind+" "+n.ev.Summary, n.at, n.ev.Time, slack)
			case n.ev.Kind == "failover" && (strings.Contains(n.ev.Summary, "(resign)") || strings.Contains(n.ev.Summary, "(master-down)")):
				check("event "+n.ev.Summary, n.at, n.ev.Time, slack)
			case n.ev.Kind == "failover":
				check("event "+n.ev.Summary, n.at, n.ev.Time, slack+silence)
			case n.ev.Kind == "split-brain":
				check("event "+n.ev.Summary, n.at, n.ev.Time, slack+splitEnd)
			}
		case "failover":
			allow := slack
			if n.fo.Cause != "resign" && n.fo.Cause != "master-down" {
				allow += silence
			}
			check("failover "+n.fo.Cause, n.at, n.fo.Time, allow)
		case "finding":
			switch n.fd.Code {
			case analyze.CodeSplitBrain:
				// As soon as both hold the VIP: the contender's next claim,
				// an advert interval after its first advert.
				check("finding split-brain", n.at, n.fd.Time, slack+time.Second)
			case analyze.CodeResign:
				check("finding resign", n.at, n.fd.Time, slack)
			}
		}
	}
	t.Logf("worst latency of frame-triggered lines: %v", worst.Round(time.Millisecond))

	// The -w file, analyzed afterwards, tells the same failovers.
	src, err := capture.OpenFile(pcapPath, "")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	a, err := analyze.Run(src, analyze.Options{File: pcapPath})
	if err != nil {
		t.Fatalf("analyzing the -w file: %v", err)
	}
	var live []analyze.Failover
	for _, n := range nd {
		if n.kind == "failover" {
			live = append(live, n.fo)
		}
	}
	key := func(f analyze.Failover) string {
		return strings.Join([]string{f.From.IP, f.From.MAC, f.To.IP, f.To.MAC, f.Cause, f.Time.UTC().Format(time.RFC3339Nano)}, " ") + " #" + itoa(f.Frame)
	}
	if len(live) != len(a.Failovers) || len(live) != len(sum.Failovers) {
		t.Fatalf("failovers: %d streamed, %d in the summary, %d from the -w file", len(live), len(sum.Failovers), len(a.Failovers))
	}
	causes := []string{}
	for k := range live {
		if key(live[k]) != key(a.Failovers[k]) || key(live[k]) != key(sum.Failovers[k]) {
			t.Errorf("failover %d: streamed %s, summary %s, file %s", k+1, key(live[k]), key(sum.Failovers[k]), key(a.Failovers[k]))
		}
		causes = append(causes, live[k].Cause)
	}
	t.Logf("failovers: %v", causes)
	if len(causes) < 4 || causes[0] != "resign" || causes[2] != "master-down" {
		t.Errorf("failover causes %v, want resign, a return of r1, master-down, a return of r1", causes)
	}
	if !a.HasFinding(analyze.CodeSplitBrain) {
		t.Errorf("the -w file shows no split brain")
	}
}

func itoa(n uint64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
