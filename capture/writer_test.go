package capture

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

func TestWriterRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, layers.LinkTypeEthernet, 60)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1795633310, 123456789)
	in := []struct {
		ci   gopacket.CaptureInfo
		data []byte
	}{
		{gopacket.CaptureInfo{Timestamp: t0, Length: len(benchARP)}, benchARP},
		{gopacket.CaptureInfo{Timestamp: t0.Add(time.Nanosecond), Length: 1500}, benchVRRP}, // cut on the wire
		{gopacket.CaptureInfo{Timestamp: t0.Add(time.Second)}, benchICMP},                   // longer than snaplen 60
	}
	for _, p := range in {
		if err := w.WritePacket(p.ci, p.data); err != nil {
			t.Fatal(err)
		}
	}
	if buf.Len() != 0 {
		t.Errorf("%d bytes written before Flush; the writer should buffer", buf.Len())
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	// File header: nanosecond magic, version 2.4, snaplen 60, Ethernet.
	if want := mustHex("4d3cb2a1 0200 0400 00000000 00000000 3c000000 01000000"); !bytes.Equal(buf.Bytes()[:24], want) {
		t.Errorf("file header % x, want % x", buf.Bytes()[:24], want)
	}
	raw := append([]byte(nil), buf.Bytes()...)

	f, err := OpenReader("written", &buf, "")
	if err != nil {
		t.Fatal(err)
	}
	if f.Format() != "pcap (nanosecond)" || f.LinkType() != layers.LinkTypeEthernet {
		t.Errorf("Format %q LinkType %v", f.Format(), f.LinkType())
	}
	wantLen := []int{len(benchARP), 1500, len(benchICMP)}
	for i, p := range in {
		data, ci, err := f.Next()
		if err != nil {
			t.Fatal(err)
		}
		want := p.data
		if len(want) > 60 {
			want = want[:60]
		}
		if !bytes.Equal(data, want) || !ci.Timestamp.Equal(p.ci.Timestamp) || ci.Length != wantLen[i] {
			t.Errorf("frame %d: %d bytes at %v, length %d; want %d bytes at %v, length %d",
				i+1, len(data), ci.Timestamp, ci.Length, len(want), p.ci.Timestamp, wantLen[i])
		}
	}
	if _, _, err := f.Next(); err != io.EOF {
		t.Errorf("after the last frame: %v", err)
	}

	// tcpdump reads it too, to the nanosecond.
	path := filepath.Join(t.TempDir(), "w.pcap")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("tcpdump", "-r", path, "-n", "-tt", "--time-stamp-precision=nano").Output()
	if err != nil {
		t.Fatalf("tcpdump: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "1795633310.123456789 ") || !strings.HasPrefix(lines[1], "1795633310.123456790 ") {
		t.Errorf("tcpdump printed:\n%s", out)
	}
}
