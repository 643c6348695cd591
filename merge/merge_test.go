package merge

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/vrrpctl/vrrpctl/analyze"
	"github.com/vrrpctl/vrrpctl/capture"
	"github.com/vrrpctl/vrrpctl/internal/testenv"
)

// incidents are the recorded captures that come with per-port captures:
// the client's capture, and what each router sent, taken where its veth
// enters the bridge, on the same host and so the same clock.
var incidents = []string{
	"vmac-failover", "vmac-crash", "vmac-split-brain", "vmac-track",
	"frr-v2-ipv4", "frr-v3-ipv4", "frr-v3-ipv4-arp-default", "frr-v3-ipv6",
}

func clientOf(incident string) string {
	if incident == "frr-v3-ipv6" {
		return ref("ipv6/" + incident + ".pcap")
	}
	return ref(incident + ".pcap")
}

// editcapShift writes a copy of a capture with every timestamp moved by
// sec seconds, with editcap -t.
func editcapShift(t *testing.T, in string, sec float64) string {
	t.Helper()
	testenv.NeedTool(t, "editcap")
	out := filepath.Join(t.TempDir(), "shifted-"+filepath.Base(in))
	if b, err := exec.Command("editcap", "-F", "pcap", "-t", fmt.Sprintf("%.6f", sec), in, out).CombinedOutput(); err != nil {
		t.Fatalf("editcap -t %v %s: %v: %s", sec, in, err, b)
	}
	return out
}

func gzipped(t *testing.T, in string) string {
	t.Helper()
	raw, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), filepath.Base(in)+".gz")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	zw.Write(raw)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return out
}

func firstTime(t *testing.T, path string) int64 {
	t.Helper()
	f, err := capture.OpenFile(path, "")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, ci, err := f.Next()
	if err != nil {
		t.Fatal(err)
	}
	return ci.Timestamp.UnixNano()
}

func lastTime(t *testing.T, path string) int64 {
	t.Helper()
	f, err := capture.OpenFile(path, "")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var last int64
	for {
		_, ci, err := f.Next()
		if err != nil {
			return last
		}
		last = ci.Timestamp.UnixNano()
	}
}

// truth is how a capture's clock was made to differ from the reference's:
// t' = t + offset + drift·(t − t0), t0 its first frame's true time.
type truth struct {
	offset   time.Duration
	driftPPM float64
}

// clockError is the largest distance, over the capture's span, between
// where the estimate puts its frames on the reference clock and where the
// truth does (both are lines: their ends say it).
func clockError(t *testing.T, v analyze.Vantage, path string, tr truth) time.Duration {
	t.Helper()
	first, last := firstTime(t, path), lastTime(t, path)
	d := tr.driftPPM * 1e-6
	var worst float64
	for _, tp := range []int64{first, last} {
		est := float64(tp) + v.OffsetMS*1e6 + v.DriftPPM*1e-6*float64(tp-first)
		t0 := float64(first) - float64(tr.offset) // the first frame's true time
		want := t0 + (float64(tp)-float64(first))/(1+d)
		worst = math.Max(worst, math.Abs(est-want))
	}
	return time.Duration(worst)
}

// accuracyCase is one way of taking the routers' captures elsewhere.
type accuracyCase struct {
	name string
	nat1 func(t *testing.T, in string) (string, truth)
	nat2 func(t *testing.T, in string) (string, truth)
}

var accuracyCases = []accuracyCase{
	{
		"editcap -t +2.5 s and -3 h",
		func(t *testing.T, in string) (string, truth) {
			return editcapShift(t, in, 2.5), truth{2500 * time.Millisecond, 0}
		},
		func(t *testing.T, in string) (string, truth) {
			return editcapShift(t, in, -3*3600), truth{-3 * time.Hour, 0}
		},
	},
	{
		"jitter ±300 µs +0.7 s; drift 80 ppm +5 h, Linux SLL2 pcapng",
		func(t *testing.T, in string) (string, truth) {
			return rewrite(t, in, xform{offset: 700 * time.Millisecond, jitter: 300 * time.Microsecond, seed: 1}), truth{700 * time.Millisecond, 0}
		},
		func(t *testing.T, in string) (string, truth) {
			x := xform{offset: 5 * time.Hour, driftPPM: 80, seed: 2, sll2: true, ng: true}
			return rewrite(t, in, x), truth{5 * time.Hour, 80}
		},
	},
	{
		"-45 min SLL2 with jitter ±100 µs, gzip; drift -30 ppm -90 s with jitter ±200 µs",
		func(t *testing.T, in string) (string, truth) {
			x := xform{offset: -45 * time.Minute, jitter: 100 * time.Microsecond, seed: 3, sll2: true}
			return gzipped(t, rewrite(t, in, x)), truth{-45 * time.Minute, 0}
		},
		func(t *testing.T, in string) (string, truth) {
			x := xform{offset: -90 * time.Second, driftPPM: -30, jitter: 200 * time.Microsecond, seed: 4}
			return rewrite(t, in, x), truth{-90 * time.Second, -30}
		},
	},
}

// Each router's capture, taken on a clock off by known amounts (seconds,
// hours, drifting, with jitter), is brought onto the client's within 1 ms
// over its whole span, on every recorded incident.
func TestClockAccuracy(t *testing.T) {
	var worst time.Duration
	for _, tc := range accuracyCases {
		for _, inc := range incidents {
			p1, t1 := tc.nat1(t, port(inc, "nat1"))
			p2, t2 := tc.nat2(t, port(inc, "nat2"))
			m, err := Open([]Input{{Path: clientOf(inc)}, {Name: "nat1", Path: p1}, {Name: "nat2", Path: p2}}, Options{})
			if err != nil {
				t.Fatalf("%s, %s: %v", tc.name, inc, err)
			}
			vs := m.Vantages()
			m.Close()
			if !vs[0].Reference {
				t.Errorf("%s, %s: the reference is not the client's capture: %+v", tc.name, inc, vs)
			}
			for i, c := range []struct {
				path string
				tr   truth
			}{{p1, t1}, {p2, t2}} {
				v := vs[i+1]
				if !v.Aligned {
					t.Errorf("%s, %s: %s not aligned", tc.name, inc, v.Name)
					continue
				}
				e := clockError(t, v, c.path, c.tr)
				worst = max(worst, e)
				t.Logf("%-70s %-24s %s: offset %.3f ms drift %.2f ppm (truth %v, %g ppm): error %v, residual %.3f ms over %d frames",
					tc.name, inc, v.Name, v.OffsetMS, v.DriftPPM, c.tr.offset, c.tr.driftPPM, e, v.ErrorMS, v.Matched)
				if e > time.Millisecond {
					t.Errorf("%s, %s, %s: the estimate is %v off the truth, want at most 1 ms (%+v)", tc.name, inc, v.Name, e, v)
				}
				if v.Matched < minMatched || v.ErrorMS <= 0 && c.tr.driftPPM == 0 && tc.name[0] == 'j' {
					t.Errorf("%s, %s, %s: %d frames matched, residual %.3f ms", tc.name, inc, v.Name, v.Matched, v.ErrorMS)
				}
			}
		}
	}
	t.Logf("worst error %v", worst)
}

// A capture of another incident (another day on the same lab: the same
// addresses, some identical broadcasts) and one of another segment are
// recognized as such, reported and left out of the merge.
func TestUnalignable(t *testing.T) {
	inc := "vmac-failover"
	m, err := Open([]Input{
		{Name: "other-day", Path: ref("failover.pcap")},
		{Path: clientOf(inc)},
		{Name: "nat1", Path: port(inc, "nat1")},
		{Name: "v6", Path: ref("ipv6/frr-v3-ipv6.pcap")},
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	vs := m.Vantages()
	if !vs[1].Reference || !vs[2].Aligned {
		t.Errorf("the client's capture should be the reference and nat1's aligned: %+v", vs)
	}
	un := m.Unaligned()
	if len(un) != 2 || un[0].Index != 0 || un[1].Index != 3 || vs[0].Aligned || vs[3].Aligned {
		t.Fatalf("unaligned %+v, want other-day and v6", un)
	}
	for _, u := range un {
		t.Logf("%s: %s", u.Vantage.Name, u.Reason)
	}
	if !strings.Contains(un[0].Reason, "another day") {
		t.Errorf("other-day: reason %q should say the frames in common do not line up", un[0].Reason)
	}
	if !strings.Contains(un[1].Reason, "shares no frame") {
		t.Errorf("v6: reason %q should say it shares no frame", un[1].Reason)
	}
	notes := strings.Join(m.Notes(), "\n")
	for _, n := range []string{"other-day", "v6"} {
		if !strings.Contains(notes, n+" (") || !strings.Contains(notes, "analyzed on its own") {
			t.Errorf("notes do not say %s was not aligned:\n%s", n, notes)
		}
	}
	// Each can be read on its own, as an ordinary capture.
	for _, u := range un {
		f, err := u.Open()
		if err != nil {
			t.Fatal(err)
		}
		a, err := analyze.Run(f, analyze.Options{File: u.Vantage.File})
		f.Close()
		if err != nil || a.Source.Frames != u.Vantage.Frames {
			t.Errorf("%s on its own: %v, %d frames of %d", u.Vantage.Name, err, a.Source.Frames, u.Vantage.Frames)
		}
	}
	// Nothing of theirs is merged.
	for {
		_, _, seen, err := m.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range seen {
			if s.Vantage == 0 || s.Vantage == 3 {
				t.Fatalf("a frame of an unaligned capture was merged: %+v", seen)
			}
		}
	}
}

// fileFrames reads a whole (small) capture: each frame's network layer, by
// frame number.
func fileFrames(t *testing.T, path string) map[uint64]frame {
	t.Helper()
	f, err := capture.OpenFile(path, "")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[uint64]frame{}
	for {
		data, _, err := f.Next()
		if err != nil {
			return out
		}
		fr := parse(f.FrameLinkType(), append([]byte(nil), data...))
		out[f.Frame()] = fr
	}
}

type mergedFrame struct {
	data []byte
	lt   layers.LinkType
	t    time.Time
	seen []analyze.Sighting
}

func drain(t *testing.T, m *Merged) []mergedFrame {
	t.Helper()
	var out []mergedFrame
	for {
		data, ci, seen, err := m.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, mergedFrame{append([]byte(nil), data...), m.FrameLinkType(), ci.Timestamp, append([]analyze.Sighting(nil), seen...)})
	}
}

// A frame seen at three places (a router's port, the client, and a
// tcpdump -i any of the client's taken on another clock) comes out once,
// with three sightings in time order, each with the frame's number in its
// own file; every frame of every file is in exactly one sighting, and the
// stream is in time order.
func TestThreeVantages(t *testing.T) {
	inc := "vmac-failover"
	client := clientOf(inc)
	nat1 := rewrite(t, port(inc, "nat1"), xform{offset: 1500 * time.Millisecond, jitter: 50 * time.Microsecond, seed: 5})
	any := rewrite(t, client, xform{offset: -time.Hour, sll2: true, ng: true, ifName: "any", seed: 6})
	paths := []string{client, nat1, any}
	m, err := Open([]Input{{Path: client}, {Path: nat1}, {Path: any}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	vs := m.Vantages()
	if vs[2].Name != "any" || vs[2].Inferred != `interface name "any"` || vs[2].LinkType != "Linux SLL2" || vs[0].LinkType != "Ethernet" {
		t.Errorf("vantages %+v", vs)
	}
	files := make([]map[uint64]frame, len(paths))
	for i, p := range paths {
		files[i] = fileFrames(t, p)
	}
	frames := drain(t, m)
	used := map[[2]uint64]bool{}
	perVantage := make([]int, 3)
	var prev time.Time
	adverts := 0
	for _, f := range frames {
		if f.t.Before(prev) {
			t.Errorf("frame at %v after %v", f.t, prev)
		}
		prev = f.t
		if !f.t.Equal(f.seen[0].Time) {
			t.Errorf("frame time %v, its first sighting %v", f.t, f.seen[0].Time)
		}
		own := parse(f.lt, f.data)
		for i, s := range f.seen {
			if i > 0 && s.Time.Before(f.seen[i-1].Time) {
				t.Errorf("sightings out of order: %+v", f.seen)
			}
			k := [2]uint64{uint64(s.Vantage), s.Frame}
			if used[k] {
				t.Errorf("frame %d of %s in two sightings", s.Frame, vs[s.Vantage].Name)
			}
			used[k] = true
			perVantage[s.Vantage]++
			fr, ok := files[s.Vantage][s.Frame]
			if !ok || string(fr.net) != string(own.net) {
				t.Errorf("sighting %+v: frame %d of %s is not the frame returned", s, s.Frame, vs[s.Vantage].Name)
			}
		}
		if own.etype == etherIPv4 && own.net[9] == protoVRRP && len(own.net) > 12 && string(own.net[12:16]) == "\xc0\xa8\x21\x65" {
			adverts++
			if len(f.seen) != 3 {
				t.Errorf("nat1's advert seen %+v, want 3 sightings", f.seen)
			}
		}
	}
	for i := range paths {
		if perVantage[i] != len(files[i]) {
			t.Errorf("%s: %d sightings, the file has %d frames", vs[i].Name, perVantage[i], len(files[i]))
		}
	}
	if adverts < 10 {
		t.Errorf("%d adverts of nat1 merged", adverts)
	}
	t.Logf("%d frames merged from %d, %d and %d; %d adverts of nat1 seen three times", len(frames), len(files[0]), len(files[1]), len(files[2]), adverts)
}

// The filter applies to every capture, frame numbers stay those of the
// whole files, and the window folds copies only across captures.
func TestFilterAndNumbers(t *testing.T) {
	inc := "frr-v3-ipv4"
	client := clientOf(inc)
	nat2 := rewrite(t, port(inc, "nat2"), xform{offset: 20 * time.Minute, seed: 7})
	m, err := Open([]Input{{Path: client}, {Path: nat2}}, Options{Filter: "vrrp"})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	want := map[[2]uint64]bool{}
	for i, p := range []string{client, nat2} {
		f, err := capture.OpenFile(p, "vrrp")
		if err != nil {
			t.Fatal(err)
		}
		for {
			if _, _, err := f.Next(); err != nil {
				break
			}
			want[[2]uint64{uint64(i), f.Frame()}] = true
		}
		f.Close()
	}
	got := map[[2]uint64]bool{}
	for _, f := range drain(t, m) {
		fr := parse(f.lt, f.data)
		if fr.etype != etherIPv4 || fr.net[9] != protoVRRP {
			t.Errorf("a frame that is not VRRP passed the filter")
		}
		for _, s := range f.seen {
			got[[2]uint64{uint64(s.Vantage), s.Frame}] = true
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d sightings, want the %d frames tcpdump's filter passes", len(got), len(want))
	}
	for k := range want {
		if !got[k] {
			t.Errorf("frame %d of capture %d missing", k[1], k[0])
		}
	}
}

// recordings are captures of different incidents on the same lab (the
// same addresses, keepalived restarted with the same advert
// identification, often minutes apart): no two may be aligned.
var recordings = []string{
	"failover", "split-brain", "equal-prio", "article-garp", "no-garp", "vrrp-strict", "client-ignores-garp",
	"v3-100ms", "interval-mismatch", "auth-mismatch", "vmac-failover", "vmac-crash", "vmac-track",
	"vmac-split-brain", "frr-v2-ipv4", "frr-v3-ipv4", "frr-v3-ipv4-arp-default",
	"vantages/garps-dropped/here", "vantages/client-drops-garp/here", "vantages/vrrp-one-way/here",
}

// Every pair of captures of different incidents is told apart, and every
// router's capture of each incident aligns with the client's.
func TestOtherIncidents(t *testing.T) {
	scans := map[string]*scan{}
	get := func(path string) *scan {
		if s := scans[path]; s != nil {
			return s
		}
		s, err := scanFile(path, DefaultCandidates)
		if err != nil {
			t.Fatal(err)
		}
		scans[path] = s
		return s
	}
	for i, a := range recordings {
		for _, b := range recordings[i+1:] {
			al := align(get(ref(a+".pcap")), get(ref(b+".pcap")), DefaultMaxOffset)
			if al.ok {
				t.Errorf("%s and %s aligned on %d frames (offset %.3f s): they are different incidents", a, b, al.matched, al.m.offset/1e9)
			} else if al.common > 0 {
				t.Logf("%s / %s: %s", a, b, al.reason)
			}
		}
	}
	for _, inc := range incidents {
		for _, r := range []string{"nat1", "nat2"} {
			if al := align(get(port(inc, r)), get(clientOf(inc)), DefaultMaxOffset); !al.ok {
				t.Errorf("%s %s: %s", inc, r, al.reason)
			}
		}
	}
}
