package capture

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

var referenceCaptures = []string{"failover.pcap", "split-brain.pcap", "article-garp.pcap", "equal-prio.pcap"}

func refPath(name string) string { return filepath.Join("..", "testdata", name) }

// frame is one frame as tcpdump printed it or as the reader returned it.
type frame struct {
	Number uint64 // 1-based, in the unfiltered file
	Time   string // seconds.microseconds, as tcpdump -tt prints it
	Data   string // hex of the captured bytes
}

func (f frame) String() string {
	d := f.Data
	if len(d) > 32 {
		d = d[:32] + "..."
	}
	return fmt.Sprintf("#%d %s %s", f.Number, f.Time, d)
}

// tcpdumpFrames runs tcpdump -r path -n -tt -xx [filter] and returns what it
// printed. Frame numbers are left 0: tcpdump numbers matching frames only.
func tcpdumpFrames(t *testing.T, path, filter string) []frame {
	t.Helper()
	tcpdump, err := exec.LookPath("tcpdump")
	if err != nil {
		t.Fatalf("tcpdump is needed as the reference: %v", err)
	}
	args := []string{"-r", path, "-n", "-tt", "-xx"}
	if filter != "" {
		args = append(args, filter)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(tcpdump, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tcpdump %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	var frames []frame
	var data strings.Builder
	flush := func() {
		if len(frames) > 0 {
			frames[len(frames)-1].Data = data.String()
		}
		data.Reset()
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "\t0x") {
			flush()
			ts, _, _ := strings.Cut(line, " ")
			frames = append(frames, frame{Time: ts})
			continue
		}
		// "\t0x0010:  0028 0000 ...  " : hex groups after the offset.
		_, hexPart, _ := strings.Cut(line, ":")
		data.WriteString(strings.ReplaceAll(strings.TrimSpace(hexPart), " ", ""))
	}
	flush()
	return frames
}

// tcpdumpNumbered returns tcpdump's frames with their numbers in the
// unfiltered file: the filtered listing is a subsequence of the full one.
func tcpdumpNumbered(t *testing.T, path, filter string) []frame {
	t.Helper()
	all := tcpdumpFrames(t, path, "")
	for i := range all {
		all[i].Number = uint64(i + 1)
	}
	if filter == "" {
		return all
	}
	sel := tcpdumpFrames(t, path, filter)
	j := 0
	for i := range sel {
		for j < len(all) && (all[j].Time != sel[i].Time || all[j].Data != sel[i].Data) {
			j++
		}
		if j == len(all) {
			t.Fatalf("tcpdump %q printed a frame not in the unfiltered listing: %v", filter, sel[i])
		}
		sel[i].Number = all[j].Number
		j++
	}
	return sel
}

// readAll returns every frame f gives and the error that ended it (nil at io.EOF).
func readAll(t *testing.T, f *File) ([]frame, error) {
	t.Helper()
	var frames []frame
	for {
		data, ci, err := f.Next()
		if err == io.EOF {
			return frames, nil
		}
		if err != nil {
			return frames, err
		}
		if ci.CaptureLength != len(data) {
			t.Fatalf("frame %d: CaptureLength %d, data %d bytes", f.Frame(), ci.CaptureLength, len(data))
		}
		ts := ci.Timestamp
		frames = append(frames, frame{
			Number: f.Frame(),
			Time:   fmt.Sprintf("%d.%06d", ts.Unix(), ts.Nanosecond()/1000),
			Data:   hex.EncodeToString(data),
		})
	}
}

func readPath(t *testing.T, path, filter string) []frame {
	t.Helper()
	f, err := OpenFile(path, filter)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	frames, err := readAll(t, f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return frames
}

func sameFrames(t *testing.T, what string, got, want []frame) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d frames, want %d", what, len(got), len(want))
	}
	for i := 0; i < len(got) && i < len(want); i++ {
		if got[i] != want[i] {
			t.Fatalf("%s: frame %d:\n got %v\nwant %v", what, i+1, got[i], want[i])
		}
	}
}

// convert runs editcap -F format in out and returns out.
func editcap(t *testing.T, in, format string) string {
	t.Helper()
	editcap, err := exec.LookPath("editcap")
	if err != nil {
		t.Fatalf("editcap (from the Wireshark tools) is needed: %v", err)
	}
	out := filepath.Join(t.TempDir(), filepath.Base(in)+"."+format)
	if b, err := exec.Command(editcap, "-F", format, in, out).CombinedOutput(); err != nil {
		t.Fatalf("editcap -F %s %s: %v: %s", format, in, err, b)
	}
	return out
}

func gzipFile(t *testing.T, in string) string {
	t.Helper()
	raw, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(raw)
	zw.Close()
	// A name that does not say gzip: detection is by content.
	out := filepath.Join(t.TempDir(), filepath.Base(in))
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestReferenceCapturesMatchTcpdump(t *testing.T) {
	for _, name := range referenceCaptures {
		t.Run(name, func(t *testing.T) {
			path := refPath(name)
			want := tcpdumpNumbered(t, path, "")
			if len(want) == 0 {
				t.Fatal("tcpdump printed no frames")
			}
			got := readPath(t, path, "")
			sameFrames(t, "pcap", got, want)

			for _, format := range []string{"pcapng", "nsecpcap"} {
				sameFrames(t, format, readPath(t, editcap(t, path, format), ""), want)
			}
			sameFrames(t, "gzip pcap", readPath(t, gzipFile(t, path), ""), want)
			sameFrames(t, "gzip pcapng", readPath(t, gzipFile(t, editcap(t, path, "pcapng")), ""), want)
			sameFrames(t, "big-endian pcap", readPath(t, bigEndianPcap(t, path), ""), want)

			raw, err := os.ReadFile(editcap(t, path, "pcapng"))
			if err != nil {
				t.Fatal(err)
			}
			// One byte per Read: the buffer must cope with any read size.
			f, err := OpenReader("stdin", &oneByteReader{bytes.NewReader(raw)}, "")
			if err != nil {
				t.Fatal(err)
			}
			got, err = readAll(t, f)
			if err != nil {
				t.Fatal(err)
			}
			sameFrames(t, "pcapng one byte at a time", got, want)
		})
	}
}

type oneByteReader struct{ r io.Reader }

func (o *oneByteReader) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return o.r.Read(p)
}

// bigEndianPcap rewrites a little-endian microsecond pcap in big-endian order.
func bigEndianPcap(t *testing.T, in string) string {
	t.Helper()
	b, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(b[:4]) != "\xd4\xc3\xb2\xa1" {
		t.Fatalf("%s: not a little-endian microsecond pcap", in)
	}
	swap32 := func(p []byte) { p[0], p[1], p[2], p[3] = p[3], p[2], p[1], p[0] }
	swap16 := func(p []byte) { p[0], p[1] = p[1], p[0] }
	swap32(b[0:])
	swap16(b[4:])
	swap16(b[6:])
	for off := 8; off < 24; off += 4 {
		swap32(b[off:])
	}
	for off := 24; off < len(b); {
		caplen := int(b[off+8]) | int(b[off+9])<<8 | int(b[off+10])<<16 | int(b[off+11])<<24
		for i := 0; i < 16; i += 4 {
			swap32(b[off+i:])
		}
		off += 16 + caplen
	}
	out := filepath.Join(t.TempDir(), "be.pcap")
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestStdin(t *testing.T) {
	path := refPath("failover.pcap")
	want := tcpdumpNumbered(t, path, "")
	in, err := os.Open(gzipFile(t, path))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	saved := os.Stdin
	os.Stdin = in
	defer func() { os.Stdin = saved }()

	f, err := OpenFile("-", "")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Name() != "stdin" || f.Format() != "gzip pcap" {
		t.Errorf("Name, Format = %q, %q; want stdin, gzip pcap", f.Name(), f.Format())
	}
	got, err := readAll(t, f)
	if err != nil {
		t.Fatal(err)
	}
	sameFrames(t, "stdin", got, want)
}

func TestFilterMatchesTcpdump(t *testing.T) {
	filters := []string{"vrrp", "arp", "igmp", "host 192.168.33.100", "vrrp or igmp or arp", "icmp and src 192.168.33.2", "greater 90", "ether[0] & 1 = 1 and len < 70"}
	for _, name := range referenceCaptures {
		for _, filter := range filters {
			t.Run(name+"/"+filter, func(t *testing.T) {
				path := refPath(name)
				want := tcpdumpNumbered(t, path, filter)
				f, err := OpenFile(path, filter)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				got, err := readAll(t, f)
				if err != nil {
					t.Fatal(err)
				}
				sameFrames(t, filter, got, want)
				all := len(tcpdumpFrames(t, path, ""))
				if st := f.Stats(); st.Read != uint64(all) || st.Matched != uint64(len(want)) {
					t.Errorf("Stats = %+v, want Read %d, Matched %d", st, all, len(want))
				}
			})
		}
	}
}

func TestBadFilter(t *testing.T) {
	_, err := OpenFile(refPath("failover.pcap"), "vrrp and")
	var ce *Error
	if !errors.As(err, &ce) || !errors.Is(err, ErrBadFilter) || !ce.Unusable() {
		t.Fatalf("err = %v, want an unusable *Error wrapping ErrBadFilter", err)
	}
	const prefix = `failover.pcap: bad filter "vrrp and": `
	if msg := err.Error(); !strings.Contains(msg, prefix) || !strings.Contains(msg, "syntax error") {
		t.Errorf("message %q, want it to contain %q and libpcap's syntax error", msg, prefix)
	}
}

func TestLinkTypes(t *testing.T) {
	f, err := OpenFile(refPath("failover.pcap"), "")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.LinkType() != layers.LinkTypeEthernet {
		t.Errorf("LinkType = %v, want Ethernet", f.LinkType())
	}
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}
