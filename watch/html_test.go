package watch

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/vrrpctl/vrrpctl/analyze"
	"github.com/vrrpctl/vrrpctl/capture"
	"github.com/vrrpctl/vrrpctl/report"
)

// replay is a capture file played as a live source, as fast as it reads.
type replay struct {
	f    *capture.File
	read uint64
}

func (r *replay) Next() ([]byte, gopacket.CaptureInfo, error) {
	data, ci, err := r.f.Next()
	if err == nil {
		r.read++
	}
	return data, ci, err
}
func (r *replay) LinkType() layers.LinkType                  { return r.f.LinkType() }
func (r *replay) SetFilter(string) error                     { return nil }
func (r *replay) Stats() (received, dropped uint64, e error) { return r.read, 0, nil }
func (r *replay) Close() error                               { return r.f.Close() }

func openReplay(path string) Opener {
	return func(string, capture.LiveOptions) (Source, error) {
		f, err := capture.OpenFile(path, "")
		if err != nil {
			return nil, err
		}
		return &replay{f: f}, nil
	}
}

// TestWatchHTML checks that watch --html writes the report of what it saw
// when it stops, and refuses to start when the file cannot be written.
func TestWatchHTML(t *testing.T) {
	dir := t.TempDir()
	page := filepath.Join(dir, "watch.html")
	res, err := Run(context.Background(), Config{Interface: "replay", Open: openReplay("../testdata/failover.pcap"),
		HTML: page, HTMLOptions: report.HTMLOptions{Generator: "vrrpctl test"}, Out: io.Discard, Err: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	const open = `<script type="application/json" id="vrrpctl-analysis">`
	i := strings.Index(string(body), open)
	if i < 0 {
		t.Fatalf("no analysis in the report:\n%.300s", body)
	}
	doc := string(body[i+len(open):])
	doc = doc[:strings.Index(doc, "</script>")]
	var a analyze.Analysis
	if err := json.Unmarshal([]byte(doc), &a); err != nil {
		t.Fatal(err)
	}
	if len(a.Failovers) != 2 || len(res.Analysis.Failovers) != 2 {
		t.Errorf("the report holds %d failovers, the watch saw %d; want 2", len(a.Failovers), len(res.Analysis.Failovers))
	}
	if n := strings.Count(string(body), `class="takeover failover-marker"`); n < 2 {
		t.Errorf("%d failover markers drawn", n)
	}
	if !strings.Contains(string(body), `content="vrrpctl test"`) {
		t.Errorf("the generator is not named")
	}

	_, err = Run(context.Background(), Config{Interface: "replay", Open: openReplay("../testdata/failover.pcap"),
		HTML: filepath.Join(dir, "no", "such", "dir.html"), Out: io.Discard, Err: io.Discard})
	var se *StartError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "--html") {
		t.Errorf("an unwritable --html file: %v, want a StartError naming --html", err)
	}
}
