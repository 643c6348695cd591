package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vrrpctl/vrrpctl/analyze"
	"github.com/vrrpctl/vrrpctl/internal/testenv"
)

var bin string

// TestMain builds the vrrpctl binary once: these tests run it as a user does.
func TestMain(m *testing.M) {
	var remove func()
	var err error
	bin, remove, err = testenv.BuildVrrpctl()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	code := m.Run()
	remove()
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

func run(t *testing.T, stdin []byte, args ...string) result {
	t.Helper()
	return runIn(t, "", stdin, args...)
}

// runIn runs vrrpctl in dir ("": the test's own directory).
func runIn(t *testing.T, dir string, stdin []byte, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

func ref(name string) string { return filepath.Join("..", "..", "testdata", name) }

func decodeJSON(t *testing.T, s string) *analyze.Analysis {
	t.Helper()
	var a analyze.Analysis
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, s)
	}
	return &a
}

// The exit status follows the worst finding, monitoring-plugin style.
func TestAnalyzeExitStatus(t *testing.T) {
	for _, tc := range []struct {
		file string
		code int
	}{
		{"failover.pcap", 0},     // info only: resigns and GARP bursts against defaults
		{"equal-prio.pcap", 1},   // equal-priority warning
		{"article-garp.pcap", 1}, // garp-interval and no-backup warnings
		{"split-brain.pcap", 2},  // split-brain is critical
	} {
		r := run(t, nil, "analyze", ref(tc.file))
		if r.code != tc.code {
			t.Errorf("%s: exit %d, want %d\n%s", tc.file, r.code, tc.code, r.stderr)
		}
		if strings.ContainsRune(r.stdout, 0x1b) {
			t.Errorf("%s: escape codes with NO_COLOR and no terminal", tc.file)
		}
		if !strings.Contains(r.stdout, "VIRTUAL ROUTERS") || !strings.Contains(r.stdout, "VRID 51") {
			t.Errorf("%s: no report:\n%s", tc.file, r.stdout)
		}
	}
}

// Standard input, gzip and a filter give the same failovers, with the frame
// numbers of the whole file.
func TestAnalyzeInputs(t *testing.T) {
	plain := run(t, nil, "analyze", "--json", ref("failover.pcap"))
	want := decodeJSON(t, plain.stdout)
	raw, err := os.ReadFile(ref("failover.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	gzFile := filepath.Join(t.TempDir(), "capture.bin") // content decides, not the name
	if err := os.WriteFile(gzFile, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]result{
		"stdin":      run(t, raw, "analyze", "--json", "-"),
		"gzip stdin": run(t, gz.Bytes(), "analyze", "--json", "-"),
		"gzip file":  run(t, nil, "analyze", "--json", gzFile),
		"filter":     run(t, nil, "analyze", "--json", ref("failover.pcap"), "vrrp", "or", "arp", "or", "igmp", "or", "host", "192.168.33.100"),
	} {
		got := decodeJSON(t, r.stdout)
		if len(got.Failovers) != len(want.Failovers) {
			t.Errorf("%s: %d failovers, want %d", name, len(got.Failovers), len(want.Failovers))
			continue
		}
		for i := range want.Failovers {
			g, w := got.Failovers[i], want.Failovers[i]
			if g.Frame != w.Frame || g.Cause != w.Cause || g.DetectMS != w.DetectMS {
				t.Errorf("%s: failover %d = frame %d %s %.1f ms, want frame %d %s %.1f ms", name, i, g.Frame, g.Cause, g.DetectMS, w.Frame, w.Cause, w.DetectMS)
			}
		}
	}
	// A filter that drops the client's traffic keeps the VRRP story.
	r := run(t, nil, "analyze", "--json", ref("failover.pcap"), "vrrp")
	got := decodeJSON(t, r.stdout)
	if len(got.Failovers) != 2 || got.Failovers[0].Frame != 43 || got.Failovers[1].Frame != 185 {
		t.Errorf("filter vrrp: failovers %+v, want frames 43 and 185", got.Failovers)
	}
	if got.Source.Frames >= want.Source.Frames {
		t.Errorf("filter vrrp: %d frames analyzed, want fewer than %d", got.Source.Frames, want.Source.Frames)
	}
}

// Bad input: a clear one-line message naming the file, and exit 3 when
// nothing could be read; a partial report and at least 1 when the file breaks
// after good frames.
func TestAnalyzeBadInput(t *testing.T) {
	dir := t.TempDir()
	raw, err := os.ReadFile(ref("failover.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	text := write("notes.txt", []byte("# not a capture\n"))
	empty := write("empty.pcap", nil)
	header := write("header.pcap", raw[:10])
	cut := write("cut.pcap", raw[:len(raw)/2+7])
	badConf := write("r1.conf", []byte("vrrp_instance VI_1 {\n    interface eth1\n    virtual_router_id 300\n}\n"))

	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"text file", []string{"analyze", text}, 3, "notes.txt: not a pcap or pcapng file"},
		{"empty", []string{"analyze", empty}, 3, "empty.pcap"},
		{"cut header", []string{"analyze", header}, 3, "header.pcap: truncated file header"},
		{"missing", []string{"analyze", filepath.Join(dir, "nope.pcap")}, 3, "nope.pcap"},
		{"bad filter", []string{"analyze", ref("failover.pcap"), "vrrp", "and"}, 3, "bad filter"},
		{"bad flag", []string{"analyze", "--no-such-flag", ref("failover.pcap")}, 3, "unknown flag"},
		{"no file", []string{"analyze"}, 3, "a capture file is needed"},
		{"bad color", []string{"analyze", "--color", "pink", ref("failover.pcap")}, 3, "--color"},
		{"bad config", []string{"analyze", "--keepalived-conf", badConf, ref("failover.pcap")}, 3, "r1.conf:3: virtual_router_id"},
	} {
		r := run(t, nil, tc.args...)
		if r.code != tc.code {
			t.Errorf("%s: exit %d, want %d\nstderr: %s", tc.name, r.code, tc.code, r.stderr)
		}
		if !strings.Contains(r.stderr, tc.msg) {
			t.Errorf("%s: stderr %q lacks %q", tc.name, r.stderr, tc.msg)
		}
		if strings.Contains(r.stderr, "panic") || strings.Count(strings.TrimSpace(r.stderr), "\n") > 2 {
			t.Errorf("%s: stderr is not a clear message:\n%s", tc.name, r.stderr)
		}
	}

	r := run(t, nil, "analyze", "--json", cut)
	if r.code < 1 || r.code == 3 {
		t.Errorf("cut file: exit %d, want 1 or 2 (a partial report)", r.code)
	}
	if !strings.Contains(r.stderr, "cut.pcap: frame ") || !strings.Contains(r.stderr, "truncated") {
		t.Errorf("cut file: stderr %q should name the frame where reading stopped", r.stderr)
	}
	a := decodeJSON(t, r.stdout)
	if !a.Source.Damaged || a.Source.Frames == 0 || len(a.Failovers) == 0 {
		t.Errorf("cut file: source %+v, %d failovers: want a damaged partial analysis with the first failover", a.Source, len(a.Failovers))
	}
}

// rewritePcap rebuilds a microsecond little-endian pcap, letting edit change
// or cut each frame's bytes (1-based frame numbers).
func rewritePcap(t *testing.T, raw []byte, edit func(frame int, data []byte) []byte) []byte {
	t.Helper()
	le := binary.LittleEndian
	if le.Uint32(raw) != 0xa1b2c3d4 {
		t.Fatal("want a little-endian microsecond pcap")
	}
	out := append([]byte(nil), raw[:24]...)
	for off, n := 24, 1; off+16 <= len(raw); n++ {
		hdr := append([]byte(nil), raw[off:off+16]...)
		incl := int(le.Uint32(hdr[8:]))
		data := edit(n, append([]byte(nil), raw[off+16:off+16+incl]...))
		le.PutUint32(hdr[8:], uint32(len(data)))
		out = append(append(out, hdr...), data...)
		off += 16 + incl
	}
	return out
}

// Malformed adverts inside a good capture are counted and listed with their
// frame numbers; the analysis goes on around them.
func TestAnalyzeMalformedAdverts(t *testing.T) {
	raw, err := os.ReadFile(ref("failover.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	const vrrpAt = 14 + 20 // Ethernet and option-less IPv4 headers
	bad := rewritePcap(t, raw, func(frame int, data []byte) []byte {
		switch frame {
		case 8: // an advert whose address count overruns the packet
			data[vrrpAt+3] = 40
		case 9: // an advert cut by the capture's snaplen inside the VRRP header
			data = data[:vrrpAt+4]
		}
		return data
	})
	path := filepath.Join(t.TempDir(), "malformed.pcap")
	if err := os.WriteFile(path, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, nil, "analyze", "--json", path)
	if r.code == 3 || strings.Contains(r.stderr, "panic") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	a := decodeJSON(t, r.stdout)
	if a.Source.DecodeErrors != 2 || len(a.Errors) != 2 || a.Errors[0].Frame != 8 || a.Errors[1].Frame != 9 {
		t.Fatalf("decode errors %d %+v, want frames 8 and 9", a.Source.DecodeErrors, a.Errors)
	}
	if !strings.HasPrefix(a.Errors[0].Error, "vrrp: address count") {
		t.Errorf("frame 8 error %q should name the address count", a.Errors[0].Error)
	}
	if len(a.Failovers) != 2 || a.Failovers[0].Frame != 43 || a.Failovers[1].Frame != 185 {
		t.Errorf("failovers %+v: the analysis should go on around the bad frames", a.Failovers)
	}
	text := run(t, nil, "analyze", path)
	for _, want := range []string{"289, 2 decode errors", "DECODE ERRORS (2)", "vrrp: address count 40 needs", "vrrp: message of 4 bytes"} {
		if !strings.Contains(text.stdout, want) {
			t.Errorf("the terminal report lacks %q:\n%s", want, text.stdout)
		}
	}
}

func TestVersionFlag(t *testing.T) {
	r := run(t, nil, "--version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "vrrpctl version ") {
		t.Errorf("--version: exit %d, %q", r.code, r.stdout)
	}
}

// -r FILE reads as tcpdump's does: every argument is then the filter.
func TestAnalyzeReadFlag(t *testing.T) {
	r := run(t, nil, "analyze", "--json", "-r", ref("failover.pcap"), "vrrp")
	a := decodeJSON(t, r.stdout)
	if len(a.Failovers) != 2 || a.Failovers[0].Frame != 43 {
		t.Errorf("-r with a filter: failovers %+v", a.Failovers)
	}
	plain := decodeJSON(t, run(t, nil, "analyze", "--json", ref("failover.pcap")).stdout)
	if a.Source.Frames >= plain.Source.Frames {
		t.Errorf("-r FILE vrrp analyzed %d frames, the whole file has %d: the filter was not applied", a.Source.Frames, plain.Source.Frames)
	}
	if r := run(t, nil, "analyze", "--json"); r.code != 3 || !strings.Contains(r.stderr, "-r FILE") {
		t.Errorf("no file: exit %d, %q", r.code, r.stderr)
	}
}
