package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// pcapFile builds a little-endian microsecond pcap file.
type pcapFile struct{ bytes.Buffer }

func newPcap(lt layers.LinkType) *pcapFile {
	p := &pcapFile{}
	le := binary.LittleEndian
	p.Write(le.AppendUint32(nil, 0xa1b2c3d4))
	p.Write([]byte{2, 0, 4, 0})
	p.Write(make([]byte, 8))
	p.Write(le.AppendUint32(nil, 65535))
	p.Write(le.AppendUint32(nil, uint32(lt)))
	return p
}

// record appends a record whose header says caplen and length, followed by data.
func (p *pcapFile) record(sec, usec, caplen, length uint32, data []byte) *pcapFile {
	le := binary.LittleEndian
	for _, v := range []uint32{sec, usec, caplen, length} {
		p.Write(le.AppendUint32(nil, v))
	}
	p.Write(data)
	return p
}

func (p *pcapFile) frame(sec uint32, data []byte) *pcapFile {
	return p.record(sec, 0, uint32(len(data)), uint32(len(data)), data)
}

// ngFile builds a pcapng file in either byte order.
type ngFile struct {
	bytes.Buffer
	order binary.AppendByteOrder
}

func newNg(order binary.AppendByteOrder) *ngFile {
	n := &ngFile{order: order}
	body := order.AppendUint32(nil, ngByteOrderMagic)
	body = order.AppendUint16(body, 1)
	body = order.AppendUint16(body, 0)
	body = order.AppendUint64(body, ^uint64(0))
	n.block(ngSectionHeader, body)
	return n
}

func pad4(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func (n *ngFile) block(typ uint32, body []byte) *ngFile {
	body = pad4(body)
	total := uint32(len(body) + 12)
	n.Write(n.order.AppendUint32(nil, typ))
	n.Write(n.order.AppendUint32(nil, total))
	n.Write(body)
	n.Write(n.order.AppendUint32(nil, total))
	return n
}

// iface appends an interface description; tsresol < 0 leaves the option out.
func (n *ngFile) iface(lt layers.LinkType, tsresol int, tsoffset int64) *ngFile {
	body := n.order.AppendUint16(nil, uint16(lt))
	body = n.order.AppendUint16(body, 0)
	body = n.order.AppendUint32(body, 0)
	// An option the reader does not know comes first: if_name.
	body = n.order.AppendUint16(body, 2)
	body = n.order.AppendUint16(body, 5)
	body = pad4(append(body, "veth0"...))
	if tsresol >= 0 {
		body = n.order.AppendUint16(body, ngOptTsresol)
		body = n.order.AppendUint16(body, 1)
		body = pad4(append(body, byte(tsresol)))
	}
	if tsoffset != 0 {
		body = n.order.AppendUint16(body, ngOptTsoffset)
		body = n.order.AppendUint16(body, 8)
		body = n.order.AppendUint64(body, uint64(tsoffset))
	}
	body = append(body, 0, 0, 0, 0) // opt_endofopt
	return n.block(ngInterfaceDesc, body)
}

// ifaceSnap appends an interface description with a snaplen and no options.
func (n *ngFile) ifaceSnap(lt layers.LinkType, snaplen uint32) *ngFile {
	body := n.order.AppendUint16(nil, uint16(lt))
	body = n.order.AppendUint16(body, 0)
	body = n.order.AppendUint32(body, snaplen)
	return n.block(ngInterfaceDesc, body)
}

func (n *ngFile) epb(id uint32, ts uint64, data []byte) *ngFile {
	return n.epbLen(id, ts, data, uint32(len(data)), uint32(len(data)))
}

// epbLen appends an enhanced packet block whose header says caplen and length.
func (n *ngFile) epbLen(id uint32, ts uint64, data []byte, caplen, length uint32) *ngFile {
	body := n.order.AppendUint32(nil, id)
	body = n.order.AppendUint32(body, uint32(ts>>32))
	body = n.order.AppendUint32(body, uint32(ts))
	body = n.order.AppendUint32(body, caplen)
	body = n.order.AppendUint32(body, length)
	body = pad4(append(body, data...))
	// opt_comment, which the reader skips.
	body = n.order.AppendUint16(body, 1)
	body = n.order.AppendUint16(body, 3)
	body = pad4(append(body, "hi!"...))
	body = append(body, 0, 0, 0, 0)
	return n.block(ngEnhancedPacket, body)
}

func (n *ngFile) spb(data []byte) *ngFile {
	return n.spbLen(data, uint32(len(data)))
}

// spbLen appends a simple packet block whose original length is length.
func (n *ngFile) spbLen(data []byte, length uint32) *ngFile {
	return n.block(ngSimplePacket, append(n.order.AppendUint32(nil, length), data...))
}

func writeTemp(t *testing.T, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

var (
	frameA = benchARP
	frameB = benchVRRP
)

// hostileCase is a damaged or foreign file and what reading it must give.
type hostileCase struct {
	name      string
	file      []byte
	frames    int    // good frames returned before the error (or EOF)
	err       error  // wrapped reason; nil: clean end
	message   string // the whole message, the file being "capture.pcap"
	unusable  bool
	openFails bool
	note      string // what Notes must say at the end; "" for nothing
}

func hostileCases() []hostileCase {
	zero := newPcap(layers.LinkTypeEthernet).frame(1, frameA).record(2, 0, 0, 0, nil).frame(3, frameB)
	return []hostileCase{
		{name: "empty", file: nil, err: ErrEmpty, openFails: true, unusable: true,
			message: "capture.pcap: empty file"},
		{name: "text", file: []byte("# Notes on the outage\n"), err: ErrNotCapture, openFails: true, unusable: true,
			message: "capture.pcap: not a pcap or pcapng file (starts with 23 20 4e 6f)"},
		{name: "three bytes", file: []byte{0xd4, 0xc3, 0xb2}, err: ErrTruncatedHeader, openFails: true, unusable: true,
			message: "capture.pcap: truncated file header: 3 bytes"},
		{name: "zstd", file: []byte{0x28, 0xb5, 0x2f, 0xfd, 0, 0}, err: ErrNotCapture, openFails: true, unusable: true,
			message: "capture.pcap: not a pcap or pcapng file (zstd-compressed: decompress it first)"},
		{name: "truncated file header", file: newPcap(layers.LinkTypeEthernet).Bytes()[:10],
			err: ErrTruncatedHeader, openFails: true, unusable: true,
			message: "capture.pcap: truncated file header: 10 of 24 bytes"},
		{name: "pcap version 3", file: append([]byte{0xd4, 0xc3, 0xb2, 0xa1, 3, 0}, newPcap(1).Bytes()[6:]...),
			err: ErrMalformed, openFails: true, unusable: true,
			message: "capture.pcap: malformed file header: pcap version 3.4, want 2.x"},
		{name: "header only", file: newPcap(layers.LinkTypeEthernet).Bytes()},
		{name: "truncated first record header", file: append(newPcap(1).Bytes(), 1, 2, 3),
			err: ErrTruncatedRecord, unusable: true,
			message: "capture.pcap: frame 1: truncated record header: 3 of 16 bytes"},
		{name: "truncated record header",
			file:   append(newPcap(1).frame(1, frameA).frame(2, frameB).Bytes(), make([]byte, 10)...),
			frames: 2, err: ErrTruncatedRecord,
			message: "capture.pcap: frame 3: truncated record header: 10 of 16 bytes"},
		{name: "truncated packet body",
			file:   newPcap(1).frame(1, frameA).frame(2, frameB).record(3, 0, 98, 98, make([]byte, 40)).Bytes(),
			frames: 2, err: ErrTruncatedRecord,
			message: "capture.pcap: frame 3: truncated record: header says 98 bytes, 40 remain"},
		{name: "zero-length record", file: zero.Bytes(), frames: 3},
		{name: "oversized record",
			file:   newPcap(1).frame(1, frameA).record(2, 0, 300000, 300000, make([]byte, 100)).Bytes(),
			frames: 1, err: ErrOversized,
			message: "capture.pcap: frame 2: oversized record: header says 300000 bytes, the limit is 262144"},
		// tshark reads it whole; so does the reader, counting it in Notes.
		{name: "caplen above length",
			file:   newPcap(1).frame(1, frameA).frame(2, frameB).record(3, 0, 60, 42, make([]byte, 60)).frame(4, frameA).Bytes(),
			frames: 4, note: "1 record said more bytes were captured than the frame had on the wire; " +
				"they were read whole, their original length taken as the captured length."},
		{name: "caplen above length and the limit",
			file:   newPcap(1).frame(1, frameA).record(2, 0, 300000, 42, make([]byte, 100)).Bytes(),
			frames: 1, err: ErrOversized,
			message: "capture.pcap: frame 2: oversized record: header says 300000 bytes, the limit is 262144"},
		{name: "pcapng with unknown blocks",
			file: newNg(binary.LittleEndian).iface(1, -1, 0).epb(0, 1, frameA).
				block(0x0bad, []byte("custom block, copyable")).block(0x40000bad, []byte("custom, not copyable")).
				block(0x12345678, []byte("a block type nobody defined")).
				block(5, make([]byte, 12)).   // interface statistics
				block(4, []byte{0, 0, 0, 0}). // name resolution, empty
				epb(0, 2, frameB).spb(frameA).Bytes(),
			frames: 3, note: "1 frame came in simple packet blocks"},
		{name: "pcapng truncated block",
			file: func() []byte {
				b := newNg(binary.LittleEndian).iface(1, -1, 0).epb(0, 1, frameA).epb(0, 2, frameB).Bytes()
				return b[:len(b)-20]
			}(),
			frames: 1, err: ErrTruncatedBlock,
			message: "capture.pcap: frame 2: truncated block: header says 100 bytes, 80 remain"},
		{name: "pcapng truncated unknown block",
			file: func() []byte {
				b := newNg(binary.LittleEndian).iface(1, -1, 0).epb(0, 1, frameA).block(0x0bad, make([]byte, 100)).Bytes()
				return b[:len(b)-50]
			}(),
			frames: 1, err: ErrTruncatedBlock,
			message: "capture.pcap: frame 2: truncated block: header says 112 bytes, 62 remain"},
		{name: "pcapng bad trailer",
			file: func() []byte {
				b := newNg(binary.LittleEndian).iface(1, -1, 0).epb(0, 1, frameA).epb(0, 2, frameB).Bytes()
				b[len(b)-1] = 0x7f
				return b
			}(),
			frames: 1, err: ErrMalformed,
			message: "capture.pcap: frame 2: malformed block: type 0x6, trailing length 2130706532, leading 100"},
		{name: "pcapng packet on an undescribed interface",
			file:   newNg(binary.LittleEndian).iface(1, -1, 0).epb(0, 1, frameA).epb(1, 2, frameB).Bytes(),
			frames: 1, err: ErrMalformed,
			message: "capture.pcap: frame 2: malformed packet block at offset 152: it refers to interface 1, but the section describes only interface 0"},
		{name: "pcapng several link types",
			file: newNg(binary.LittleEndian).iface(layers.LinkTypeEthernet, -1, 0).epb(0, 1, frameA).
				iface(layers.LinkTypeLinuxSLL, -1, 0).epb(0, 2, frameB).epb(1, 3, frameB).
				iface(220, -1, 0).epb(2, 4, frameA).epb(0, 5, frameB).Bytes(), // 220: Linux USB, unknown to decode
			frames: 5},
		{name: "pcapng packet before interface",
			file: newNg(binary.LittleEndian).epb(0, 1, frameA).Bytes(), err: ErrMalformed, openFails: true, unusable: true,
			message: "capture.pcap: frame 1: malformed packet block at offset 28: it refers to interface 0, but the section describes no interface"},
		{name: "pcapng simple packet before interface",
			file: newNg(binary.BigEndian).spb(frameA).Bytes(), err: ErrMalformed, openFails: true, unusable: true,
			message: "capture.pcap: frame 1: malformed packet block at offset 28: it refers to interface 0, but the section describes no interface"},
		{name: "pcapng section without interfaces",
			file: func() []byte {
				b := newNg(binary.LittleEndian).iface(1, -1, 0).epb(0, 1, frameA).iface(1, -1, 0).epb(1, 2, frameB).Bytes()
				return append(b, newNg(binary.LittleEndian).epb(0, 3, frameA).Bytes()...)
			}(),
			frames: 2, err: ErrMalformed,
			message: "capture.pcap: frame 3: malformed packet block at offset 316: it refers to interface 0, but the section describes no interface"},
		{name: "gzip pcapng packet on an undescribed interface",
			file: func() []byte {
				var z bytes.Buffer
				zw := gzip.NewWriter(&z)
				zw.Write(newNg(binary.LittleEndian).iface(1, -1, 0).epb(0, 1, frameA).epb(3, 2, frameB).Bytes())
				zw.Close()
				return z.Bytes()
			}(),
			frames: 1, err: ErrMalformed,
			message: "capture.pcap: frame 2: malformed packet block at offset 152 of the decompressed data: it refers to interface 3, but the section describes only interface 0"},
		{name: "pcapng caplen above length",
			file: newNg(binary.LittleEndian).iface(1, -1, 0).epb(0, 1, frameA).
				epbLen(0, 2, frameB, uint32(len(frameB)), 20).epbLen(0, 3, frameA, uint32(len(frameA)), 0).Bytes(),
			frames: 3, note: "2 records said more bytes"},
		{name: "pcapng caplen above the limit",
			file: newNg(binary.LittleEndian).iface(1, -1, 0).epb(0, 1, frameA).
				epbLen(0, 2, frameB, 300000, 300000).Bytes(),
			frames: 1, err: ErrOversized,
			message: "capture.pcap: frame 2: oversized record: header says 300000 bytes, the limit is 262144"},
		{name: "pcapng caplen beyond the block",
			file: newNg(binary.LittleEndian).iface(1, -1, 0).epb(0, 1, frameA).
				epbLen(0, 2, frameB, 200, 20).Bytes(),
			frames: 1, err: ErrTruncatedRecord,
			message: "capture.pcap: frame 2: truncated record: packet block says 200 bytes captured, block holds 68"},
		{name: "pcapng truncated section header",
			file: newNg(binary.LittleEndian).Bytes()[:20], err: ErrTruncatedHeader, openFails: true, unusable: true,
			message: "capture.pcap: truncated file header: section header block says 28 bytes, 20 remain"},
		{name: "pcapng bad byte-order magic",
			file: append([]byte{0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 1, 2, 3, 4}, make([]byte, 16)...),
			err:  ErrMalformed, openFails: true, unusable: true,
			message: "capture.pcap: malformed section header block: byte-order magic 01 02 03 04"},
		{name: "pcapng block length not a multiple of 4",
			file: func() []byte {
				b := newNg(binary.LittleEndian).iface(1, -1, 0).epb(0, 1, frameA).Bytes()
				return append(b, 6, 0, 0, 0, 33, 0, 0, 0)
			}(),
			frames: 1, err: ErrMalformed,
			message: "capture.pcap: frame 2: malformed block: type 0x6, length 33"},
		{name: "gzip cut short",
			file: func() []byte {
				p := newPcap(1)
				for i := 0; i < 200; i++ {
					p.frame(uint32(i), benchICMP)
				}
				var z bytes.Buffer
				zw := gzip.NewWriter(&z)
				zw.Write(p.Bytes())
				zw.Close()
				return z.Bytes()[:z.Len()/2]
			}(),
			err: io.ErrUnexpectedEOF},
		{name: "bad gzip header", file: append([]byte{0x1f, 0x8b, 9}, make([]byte, 30)...), openFails: true, unusable: true,
			message: "capture.pcap: bad gzip stream: gzip: invalid header"},
	}
}

func TestHostileFiles(t *testing.T) {
	for _, tc := range hostileCases() {
		t.Run(tc.name, func(t *testing.T) {
			path := writeTemp(t, "capture.pcap", tc.file)
			f, err := OpenFile(path, "")
			var frames []frame
			if err == nil {
				frames, err = readAll(t, f)
				if err != nil {
					// Reading stays stopped.
					if _, _, again := f.Next(); again != err {
						t.Errorf("Next after the error returned %v, want the same error", again)
					}
				}
				notes := strings.Join(f.Notes(), "\n")
				if tc.note == "" && notes != "" || !strings.HasPrefix(notes, tc.note) {
					t.Errorf("notes %q, want %q", notes, tc.note)
				}
				f.Close()
			} else if !tc.openFails {
				t.Fatalf("OpenFile: %v", err)
			}
			if tc.openFails && f != nil {
				t.Fatalf("OpenFile succeeded, want an error")
			}
			if tc.err == nil && tc.message == "" {
				if err != nil {
					t.Fatalf("err = %v, want a clean end", err)
				}
			} else {
				var ce *Error
				if !errors.As(err, &ce) {
					t.Fatalf("err = %#v, want a *capture.Error", err)
				}
				if tc.err != nil && !errors.Is(err, tc.err) {
					t.Errorf("err = %v, want it to wrap %v", err, tc.err)
				}
				if want := filepath.Join(filepath.Dir(path), tc.message); tc.message != "" && err.Error() != want {
					t.Errorf("message\n got %s\nwant %s", err, want)
				}
				if ce.Unusable() != tc.unusable || IsUnusable(err) != tc.unusable {
					t.Errorf("Unusable() = %v, want %v", ce.Unusable(), tc.unusable)
				}
				if !tc.unusable && ce.Frame != uint64(len(frames))+1 {
					t.Errorf("error at frame %d after %d good frames", ce.Frame, len(frames))
				}
			}
			if tc.frames != 0 && len(frames) != tc.frames {
				t.Errorf("%d frames before the end, want %d", len(frames), tc.frames)
			}
			for i, fr := range frames {
				if fr.Number != uint64(i+1) {
					t.Errorf("frame %d numbered %d", i+1, fr.Number)
				}
			}
		})
	}
}

func TestZeroLengthRecordIsAnEmptyFrame(t *testing.T) {
	b := newPcap(layers.LinkTypeEthernet).frame(1, frameA).record(2, 5, 0, 0, nil).frame(3, frameB).Bytes()
	f, err := OpenReader("zero.pcap", bytes.NewReader(b), "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, f)
	if err != nil {
		t.Fatal(err)
	}
	want := []frame{
		{1, "1.000000", hexs(frameA)},
		{2, "2.000005", ""},
		{3, "3.000000", hexs(frameB)},
	}
	sameFrames(t, "zero-length", got, want)
}

// TestPcapngInterfaces reads two sections, big- and little-endian, with
// interfaces of several timestamp resolutions and offsets.
func TestPcapngInterfaces(t *testing.T) {
	const sec = 1795633310
	for _, order := range []binary.AppendByteOrder{binary.BigEndian, binary.LittleEndian} {
		n := newNg(order).
			iface(layers.LinkTypeEthernet, -1, 0).      // microseconds
			iface(layers.LinkTypeEthernet, 9, 0).       // nanoseconds
			iface(layers.LinkTypeEthernet, 0x80|20, 0). // 2^-20 s
			iface(layers.LinkTypeEthernet, 3, sec).     // milliseconds, offset
			iface(layers.LinkTypeEthernet, 12, 0).      // picoseconds
			epb(0, sec*1e6+123456, frameA).             // 1
			epb(1, sec*1e9+123456789, frameB).          // 2
			epb(2, sec<<20|1<<19, frameA).              // 3: half a second
			epb(3, 1500, frameB).                       // 4: offset + 1.5 s
			epb(4, 100*1e12+123456789012, frameA).      // 5
			spb(frameB)                                 // 6: no timestamp: frame 5's
		other := binary.AppendByteOrder(binary.LittleEndian)
		if order == binary.LittleEndian {
			other = binary.BigEndian
		}
		second := newNg(other).iface(layers.LinkTypeEthernet, 6, 0).epb(0, sec*1e6+7, frameB)
		file := append(n.Bytes(), second.Bytes()...)

		f, err := OpenReader("ng", bytes.NewReader(file), "")
		if err != nil {
			t.Fatal(err)
		}
		want := []time.Time{
			time.Unix(sec, 123456000), time.Unix(sec, 123456789), time.Unix(sec, 5e8),
			time.Unix(sec+1, 5e8), time.Unix(100, 123456789), time.Unix(100, 123456789), time.Unix(sec, 7000),
		}
		ifaces := []int{0, 1, 2, 3, 4, 0, 0}
		for i, w := range want {
			data, ci, err := f.Next()
			if err != nil {
				t.Fatalf("%v frame %d: %v", order, i+1, err)
			}
			if !ci.Timestamp.Equal(w) || ci.InterfaceIndex != ifaces[i] || f.Frame() != uint64(i+1) {
				t.Errorf("%v frame %d: time %v interface %d number %d, want %v, %d, %d",
					order, i+1, ci.Timestamp.UTC(), ci.InterfaceIndex, f.Frame(), w.UTC(), ifaces[i], i+1)
			}
			if wantData := []byte(frameA); i%2 == 1 || i == 6 {
				wantData = frameB
				if !bytes.Equal(data, wantData) {
					t.Errorf("%v frame %d: wrong data", order, i+1)
				}
			} else if !bytes.Equal(data, wantData) {
				t.Errorf("%v frame %d: wrong data", order, i+1)
			}
		}
		if _, _, err := f.Next(); err != io.EOF {
			t.Errorf("%v: after the last frame: %v, want io.EOF", order, err)
		}
		if f.Format() != "pcapng" || f.LinkType() != layers.LinkTypeEthernet {
			t.Errorf("Format %q LinkType %v", f.Format(), f.LinkType())
		}
	}
}

func TestLinkTypePassesThrough(t *testing.T) {
	for _, lt := range []layers.LinkType{layers.LinkTypeLinuxSLL, 276 /* SLL2 */, layers.LinkTypeRaw, 228 /* IPv4 */} {
		b := newPcap(lt).frame(1, frameA).Bytes()
		f, err := OpenReader("x", bytes.NewReader(b), "")
		if err != nil {
			t.Fatal(err)
		}
		if f.LinkType() != lt {
			t.Errorf("LinkType %v, want %v", f.LinkType(), lt)
		}
		n := newNg(binary.LittleEndian).iface(lt, -1, 0).epb(0, 1, frameA).Bytes()
		if f, err = OpenReader("x", bytes.NewReader(n), ""); err != nil || f.LinkType() != lt {
			t.Errorf("pcapng: %v, LinkType %v, want %v", err, f.LinkType(), lt)
		}
	}
}

func TestOpenFileErrors(t *testing.T) {
	_, err := OpenFile("/nonexistent/x.pcap", "")
	if err == nil || err.Error() != "/nonexistent/x.pcap: no such file or directory" || !IsUnusable(err) {
		t.Errorf("missing file: %v", err)
	}
	dir := t.TempDir()
	if _, err = OpenFile(dir, ""); err == nil || err.Error() != dir+": is a directory" {
		t.Errorf("directory: %v", err)
	}
}

func hexs(b []byte) string { return hex.EncodeToString(b) }
