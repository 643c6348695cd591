package main

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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

func (w *ngWriter) spb(data []byte) {
	w.block(3, append(binary.LittleEndian.AppendUint32(nil, uint32(len(data))), data...))
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

func mustHex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

const (
	linkEthernet = 1
	linkSLL2     = 276
	linkUSB      = 220 // Linux USB: not decoded
)

// A UDP datagram between two hosts that play no part in the failover, as
// captured on "any" (Linux cooked v2).
var sll2UDP = mustHex("0800 0000 00000002 0001 00 06 0a0b0c0d0e0f 0000" +
	"4500002000004000401126cb0a0000010a000002 d4310035000c0000 70696e67")

// A capture of eth0 and "any" together (dumpcap -i eth0 -i any) plus a USB
// interface is analyzed whole: each frame decoded with its interface's link
// type, the USB frames skipped and said so, frame numbers those of the whole
// file as tshark numbers them.
func TestAnalyzeMixedLinkTypes(t *testing.T) {
	frames := readRef(t, "failover.pcap")
	w := newNgWriter(linkEthernet, linkSLL2, linkUSB)
	usb := bytes.Repeat([]byte{0x5a}, 64)
	for i, fr := range frames {
		w.epb(0, fr.ci.Timestamp, fr.data, fr.ci.Length)
		switch i + 1 {
		case 10: // before the first failover (frame 43): 2 more
			w.epb(1, fr.ci.Timestamp, sll2UDP, len(sll2UDP))
			w.epb(2, fr.ci.Timestamp, usb, len(usb))
		case 100: // before the second (frame 185): 3 more
			w.epb(1, fr.ci.Timestamp, sll2UDP, len(sll2UDP))
		case 200:
			w.epb(2, fr.ci.Timestamp, usb, len(usb))
			w.epb(2, fr.ci.Timestamp, usb, len(usb))
		}
	}
	path := filepath.Join(t.TempDir(), "mixed.pcapng")
	if err := os.WriteFile(path, w.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	plain := decodeJSON(t, run(t, nil, "analyze", "--json", ref("failover.pcap")).stdout)

	for _, filter := range []string{"", "vrrp or arp or igmp or udp"} {
		args := []string{"analyze", "--json", path}
		if filter != "" {
			args = append(args, filter)
		}
		r := run(t, nil, args...)
		if r.code == 3 || r.stderr != "" {
			t.Fatalf("%q: exit %d: %s", filter, r.code, r.stderr)
		}
		a := decodeJSON(t, r.stdout)
		if a.Source.Damaged || a.Source.LinkType != "Ethernet, Linux SLL2" {
			t.Errorf("%q: source %+v, want undamaged, link types Ethernet, Linux SLL2", filter, a.Source)
		}
		if filter == "" && a.Source.Frames != plain.Source.Frames+2 {
			t.Errorf("%d frames analyzed, want the %d of failover.pcap and 2 of Linux SLL2", a.Source.Frames, plain.Source.Frames)
		}
		// With the filter, libpcap cannot filter USB: the reader leaves those
		// frames out and says so instead.
		want := "3 frames of interface 2 (link type USB) skipped: not supported."
		if filter != "" {
			want = `The filter "vrrp or arp or igmp or udp" does not apply to link type USB (USB link-layer type filtering not implemented): 3 frames of that link type left out.`
		}
		if !slices.Contains(a.Notes, want) {
			t.Errorf("%q: notes %q lack %q", filter, a.Notes, want)
		}
		if len(a.Failovers) != 2 || a.Failovers[0].Frame != 45 || a.Failovers[1].Frame != 188 {
			t.Fatalf("%q: failovers %+v, want the reference's two at frames 45 and 188 of this file", filter, a.Failovers)
		}
		for i, fo := range a.Failovers {
			if p := plain.Failovers[i]; fo.Cause != p.Cause || fo.DetectMS != p.DetectMS || fo.To.IP != p.To.IP {
				t.Errorf("%q: failover %d: %s %.1f ms to %s, want %s %.1f ms to %s", filter, i, fo.Cause, fo.DetectMS, fo.To.IP, p.Cause, p.DetectMS, p.To.IP)
			}
		}
	}
	// tshark numbers the frames the same way: 45 and 188 are the new
	// masters' adverts.
	out, err := tshark(t, "-r", path, "-Y", "frame.number == 45 || frame.number == 188", "-T", "fields",
		"-e", "frame.number", "-e", "ip.src", "-e", "vrrp.prio")
	if err != nil {
		t.Fatalf("tshark: %v: %s", err, out)
	}
	if want := "45\t192.168.33.102\t10\n188\t192.168.33.101\t100\n"; !strings.HasSuffix(out, want) {
		t.Errorf("tshark says\n%s\nwant\n%s", out, want)
	}
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

	late := newNgWriter(linkEthernet)
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

// What the reader read leniently reaches the analysis's notes: simple packet
// blocks (no timestamp: the previous packet's) and a record whose captured
// length exceeds its original length.
func TestAnalyzeReaderNotes(t *testing.T) {
	frames := readRef(t, "failover.pcap")
	w := newNgWriter(linkEthernet)
	spbs, long := 0, 0
	for _, fr := range frames {
		// ICMP echoes of the client: their exact time matters to no finding.
		icmp := len(fr.data) > 34 && fr.data[12] == 0x08 && fr.data[13] == 0 && fr.data[23] == 1
		switch {
		case icmp && spbs < 3:
			w.spb(fr.data)
			spbs++
		case icmp && long < 1:
			w.epb(0, fr.ci.Timestamp, fr.data, len(fr.data)-10)
			long++
		default:
			w.epb(0, fr.ci.Timestamp, fr.data, fr.ci.Length)
		}
	}
	path := filepath.Join(t.TempDir(), "lenient.pcapng")
	if err := os.WriteFile(path, w.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	plain := decodeJSON(t, run(t, nil, "analyze", "--json", ref("failover.pcap")).stdout)
	r := run(t, nil, "analyze", "--json", path)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	a := decodeJSON(t, r.stdout)
	for _, want := range []string{
		"3 frames came in simple packet blocks, which have no timestamp: each was given the time of the packet before it in its section.",
		"1 record said more bytes were captured than the frame had on the wire; they were read whole, their original length taken as the captured length.",
	} {
		if !slices.Contains(a.Notes, want) {
			t.Errorf("notes %q lack %q", a.Notes, want)
		}
	}
	if !a.Source.Start.Equal(plain.Source.Start) || !a.Source.End.Equal(plain.Source.End) || a.Source.Frames != plain.Source.Frames {
		t.Errorf("source %+v, want the span and frames of %+v", a.Source, plain.Source)
	}
	if len(a.Failovers) != 2 || a.Failovers[0].Frame != 43 || a.Failovers[1].Frame != 185 {
		t.Errorf("failovers %+v, want frames 43 and 185", a.Failovers)
	}
}

// A file whose every frame is of a link type decode does not support is
// refused as before; a pcapng file with no interface and no frame is empty,
// not a file of link type Null.
func TestAnalyzeUnsupportedOnly(t *testing.T) {
	dir := t.TempDir()
	usb := newNgWriter(linkUSB)
	usb.epb(0, time.Unix(1795633310, 0), bytes.Repeat([]byte{0x5a}, 64), 64)
	path := filepath.Join(dir, "usb.pcapng")
	if err := os.WriteFile(path, usb.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := run(t, nil, "analyze", path); r.code != 3 || !strings.Contains(r.stderr, "decode: link type USB (220) is not supported") {
		t.Errorf("USB only: exit %d, %q", r.code, r.stderr)
	}
	empty := filepath.Join(dir, "empty.pcapng")
	if err := os.WriteFile(empty, newNgWriter().Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, nil, "analyze", "--json", empty)
	if a := decodeJSON(t, r.stdout); r.code != 0 || a.Source.Frames != 0 || a.Source.LinkType != "" {
		t.Errorf("no interface, no frame: exit %d, source %+v, %s", r.code, a.Source, r.stderr)
	}
}
