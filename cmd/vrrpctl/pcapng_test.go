package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/vrrpctl/vrrpctl/capture"
)

// ngWriter builds a little-endian pcapng file, microsecond timestamps.
type ngWriter struct{ bytes.Buffer }

// newNgWriter starts a section with one interface per link type.
func newNgWriter(linkTypes ...uint16) *ngWriter {
	w := &ngWriter{}
	w.section(linkTypes...)
	return w
}

func (w *ngWriter) section(linkTypes ...uint16) *ngWriter {
	le := binary.LittleEndian
	shb := le.AppendUint32(nil, 0x1a2b3c4d)
	shb = le.AppendUint16(shb, 1)
	shb = le.AppendUint16(shb, 0)
	w.block(0x0a0d0d0a, le.AppendUint64(shb, ^uint64(0)))
	for _, lt := range linkTypes {
		w.block(1, le.AppendUint32(le.AppendUint16(le.AppendUint16(nil, lt), 0), 0))
	}
	return w
}

func (w *ngWriter) block(typ uint32, body []byte) {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	le := binary.LittleEndian
	total := uint32(len(body) + 12)
	w.Write(le.AppendUint32(le.AppendUint32(nil, typ), total))
	w.Write(body)
	w.Write(le.AppendUint32(nil, total))
}

// epb appends an enhanced packet block whose header says length on the wire.
func (w *ngWriter) epb(iface uint32, t time.Time, data []byte, length int) {
	le := binary.LittleEndian
	us := uint64(t.UnixMicro())
	body := le.AppendUint32(nil, iface)
	body = le.AppendUint32(body, uint32(us>>32))
	body = le.AppendUint32(body, uint32(us))
	body = le.AppendUint32(body, uint32(len(data)))
	body = le.AppendUint32(body, uint32(length))
	w.block(6, append(body, data...))
}

type refFrame struct {
	data []byte
	ci   gopacket.CaptureInfo
}

func readRef(t *testing.T, name string) []refFrame {
	t.Helper()
	f, err := capture.OpenFile(ref(name), "")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var frames []refFrame
	for {
		data, ci, err := f.Next()
		if err == io.EOF {
			return frames
		}
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, refFrame{append([]byte(nil), data...), ci})
	}
}

func tshark(t *testing.T, args ...string) (string, error) {
	t.Helper()
	path, err := exec.LookPath("tshark")
	if err != nil {
		t.Fatalf("tshark is needed as the reference: %v", err)
	}
	out, err := exec.Command(path, args...).CombinedOutput()
	return string(out), err
}

// A packet block that refers to an interface its section does not describe
// is an error naming the file, the frame, the block's offset and the
// interface: the whole input when it comes first (exit 3), damage after
// good frames (a partial report). tshark calls both files damaged.
func TestAnalyzeUndescribedInterface(t *testing.T) {
	dir := t.TempDir()
	frames := readRef(t, "failover.pcap")

	none := newNgWriter() // a section without interfaces
	none.epb(0, frames[0].ci.Timestamp, frames[0].data, frames[0].ci.Length)
	first := filepath.Join(dir, "none.pcapng")
	if err := os.WriteFile(first, none.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, nil, "analyze", first)
	if want := first + ": frame 1: malformed packet block at offset 28: it refers to interface 0, but the section describes no interface"; r.code != 3 || strings.TrimSpace(r.stderr) != "vrrpctl: "+want {
		t.Errorf("no interface: exit %d, %q; want 3, %q", r.code, r.stderr, want)
	}

	late := newNgWriter(1) // Ethernet
	for _, fr := range frames[:50] {
		late.epb(0, fr.ci.Timestamp, fr.data, fr.ci.Length)
	}
	offset := late.Len()
	late.epb(3, frames[50].ci.Timestamp, frames[50].data, frames[50].ci.Length)
	damaged := filepath.Join(dir, "late.pcapng")
	if err := os.WriteFile(damaged, late.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	r = run(t, nil, "analyze", "--json", damaged)
	want := fmt.Sprintf("%s: frame 51: malformed packet block at offset %d: it refers to interface 3, but the section describes only interface 0", damaged, offset)
	if r.code == 3 || r.code == 0 || !strings.Contains(r.stderr, want) {
		t.Errorf("after 50 frames: exit %d, %q; want 1 or 2 and %q", r.code, r.stderr, want)
	}
	if a := decodeJSON(t, r.stdout); !a.Source.Damaged || a.Source.Frames != 50 || a.Source.ReadError != want {
		t.Errorf("after 50 frames: source %+v", a.Source)
	}

	for _, path := range []string{first, damaged} {
		out, err := tshark(t, "-r", path)
		if err == nil || !strings.Contains(out, "is not less than section interface count") {
			t.Errorf("tshark -r %s: %v: %s, want it to call the file damaged", path, err, out)
		}
	}
}
