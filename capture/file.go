package capture

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/vrrpctl/vrrpctl/decode"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// MaxFrameSize is the largest record accepted (libpcap's own limit). A larger
// length in a record header means the file is damaged, not that a frame is big.
const MaxFrameSize = 256 << 10

// File reads a capture file: pcap (microsecond or nanosecond timestamps, either
// byte order) or pcapng, optionally gzip-compressed. It is not safe for
// concurrent use.
type File struct {
	name     string
	src      *source
	closer   io.Closer
	format   string
	linkType layers.LinkType // of the first interface

	// The filter expression is compiled once per link type met; each frame
	// is matched with the program for its own link type.
	expr    string
	filters map[layers.LinkType]*linkFilter
	filter  *linkFilter     // for the frame just read; nil without a filter
	frameLT layers.LinkType // link type of the frame just read

	// pcap
	big     bool  // big-endian headers (pcapng: of the current section)
	nsecMul int64 // nanoseconds per unit of the record's fraction field
	recHdr  int   // record header length: 16, or 24 in the modified format
	snaplen uint32

	// pcapng
	ng            bool
	ifaces        []ngInterface
	sectionPacket bool // a packet was read in this section: f.ci has its time

	data []byte               // the frame just read
	ci   gopacket.CaptureInfo // and its metadata

	read    uint64 // frames read, filtered out or not
	matched uint64 // frames returned
	last    uint64 // number of the frame last returned
	err     error  // sticky: once reading stopped, it stays stopped

	// Records read that do not follow the format to the letter, for Notes.
	longCaptures uint64 // captured length above the original length
	untimed      uint64 // simple packet blocks, which have no timestamp
	untimedZero  uint64 // of those, with no packet before them in their section
}

// Stats counts a file's frames so far.
type Stats struct {
	Read    uint64 // frames read from the file, matching the filter or not
	Matched uint64 // frames that matched the filter and were returned
}

// OpenFile opens the capture file at path, or standard input if path is "-".
// filter is a tcpdump expression ("vrrp or arp"); frames it rejects are
// skipped but still counted, so Frame keeps the numbering of the whole file.
// An empty filter returns every frame. Errors are *Error.
func OpenFile(path, filter string) (*File, error) {
	if path == "-" {
		return OpenReader("stdin", os.Stdin, filter)
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, &Error{Path: path, Err: bare(err)}
	}
	f, err := OpenReader(path, fh, filter)
	if err != nil {
		fh.Close()
		return nil, err
	}
	f.closer = fh
	return f, nil
}

// OpenReader reads a capture from r; name is what error messages call it.
// Closing the File does not close r.
func OpenReader(name string, r io.Reader, filter string) (*File, error) {
	f := &File{name: name, src: newSource(r, sourceBufSize), expr: filter}
	if err := f.readHeader(); err != nil {
		return nil, err
	}
	f.frameLT = f.linkType
	// A filter that does not compile for the first interface is a bad
	// filter; for a later interface of another link type, see filterFor.
	if f.filter = f.filterFor(f.linkType); f.filter != nil && f.filter.err != nil {
		return nil, f.headerError(fmt.Errorf("%w %q: %v", ErrBadFilter, filter, f.filter.err))
	}
	return f, nil
}

// linkFilter is the filter expression compiled for one link type: libpcap
// compiles for one link type, and a pcapng file's interfaces may differ.
type linkFilter struct {
	lt   layers.LinkType
	prog *filter // nil if the expression does not compile for lt
	err  error   // libpcap's reason
	left uint64  // frames left out because it does not compile
}

func (lf *linkFilter) matches(ci gopacket.CaptureInfo, data []byte) bool {
	if lf.prog == nil {
		lf.left++
		return false
	}
	return lf.prog.matches(ci, data)
}

// filterFor returns the filter for frames of link type lt, compiling it on
// first use, or nil without a filter expression. An expression may not
// compile for every link type ("ether host" on raw IP): the frames of such a
// link type cannot match it and are left out, and Notes says so.
func (f *File) filterFor(lt layers.LinkType) *linkFilter {
	if f.expr == "" {
		return nil
	}
	if lf, ok := f.filters[lt]; ok {
		return lf
	}
	if f.filters == nil {
		f.filters = make(map[layers.LinkType]*linkFilter)
	}
	lf := &linkFilter{lt: lt}
	lf.prog, lf.err = compileFilter(lt, f.expr)
	f.filters[lt] = lf
	return lf
}

func (f *File) headerError(err error) error { return &Error{Path: f.name, Err: bare(err)} }

// frameError reports damage found while reading the next frame.
func (f *File) frameError(err error) error {
	return &Error{Path: f.name, Frame: f.read + 1, Err: bare(err)}
}

// bare drops the operation and path from an *fs.PathError: the *Error names
// the file already.
func bare(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

var (
	gzipMagic  = [2]byte{0x1f, 0x8b}
	otherMagic = []struct {
		magic string
		name  string
	}{
		{"\x28\xb5\x2f\xfd", "zstd"},
		{"\xfd7zXZ", "xz"},
		{"BZh", "bzip2"},
		{"\x04\x22\x4d\x18", "lz4"},
		{"PK\x03\x04", "zip"},
	}
)

func (f *File) readHeader() error {
	b := f.src.peek(4)
	if len(b) >= 2 && b[0] == gzipMagic[0] && b[1] == gzipMagic[1] {
		zr, err := gzip.NewReader(f.src)
		if err != nil {
			return f.headerError(fmt.Errorf("bad gzip stream: %v", err))
		}
		f.format = "gzip "
		f.src = newSource(zr, sourceBufSize)
		b = f.src.peek(4)
	}
	if err := f.src.readErr(); err != nil && len(b) < 4 {
		return f.headerError(err)
	}
	switch {
	case len(b) == 0:
		return f.headerError(ErrEmpty)
	case len(b) < 4:
		return f.headerError(fmt.Errorf("%w: %d bytes", ErrTruncatedHeader, len(b)))
	}
	switch m := string(b); m {
	case "\xd4\xc3\xb2\xa1", "\xa1\xb2\xc3\xd4":
		return f.readPcapHeader(m[0] == 0xa1, 1000, 16)
	case "\x4d\x3c\xb2\xa1", "\xa1\xb2\x3c\x4d":
		return f.readPcapHeader(m[0] == 0xa1, 1, 16)
	case "\x34\xcd\xb2\xa1", "\xa1\xb2\xcd\x34":
		return f.readPcapHeader(m[0] == 0xa1, 1000, 24)
	case "\x0a\x0d\x0d\x0a":
		return f.readNgHeader()
	}
	for _, o := range otherMagic {
		if len(b) >= len(o.magic) && string(b[:len(o.magic)]) == o.magic {
			return f.headerError(fmt.Errorf("%w (%s-compressed: decompress it first)", ErrNotCapture, o.name))
		}
	}
	return f.headerError(fmt.Errorf("%w (starts with % x)", ErrNotCapture, b))
}

const pcapHeaderLen = 24

func (f *File) readPcapHeader(big bool, nsecMul int64, recHdr int) error {
	b := f.src.peek(pcapHeaderLen)
	if len(b) < pcapHeaderLen {
		if err := f.src.readErr(); err != nil {
			return f.headerError(err)
		}
		return f.headerError(fmt.Errorf("%w: %d of %d bytes", ErrTruncatedHeader, len(b), pcapHeaderLen))
	}
	f.big, f.nsecMul, f.recHdr = big, nsecMul, recHdr
	if major := f.u16(b[4:]); major != 2 {
		return f.headerError(fmt.Errorf("%w file header: pcap version %d.%d, want 2.x", ErrMalformed, major, f.u16(b[6:])))
	}
	f.snaplen = f.u32(b[16:])
	// The upper bits of the link type field carry FCS information.
	f.linkType = layers.LinkType(f.u32(b[20:]) & 0xffff)
	f.src.advance(pcapHeaderLen)
	f.format += "pcap"
	if nsecMul == 1 {
		f.format += " (nanosecond)"
	}
	return nil
}

func (f *File) u16(b []byte) uint16 {
	if f.big {
		return uint16(b[0])<<8 | uint16(b[1])
	}
	return uint16(b[0]) | uint16(b[1])<<8
}

func (f *File) u32(b []byte) uint32 {
	if f.big {
		return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	}
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// Next returns the next frame that matches the filter. data is valid until
// the next call. It returns io.EOF at the clean end of the file, and an *Error
// if the file is damaged; after an error it keeps returning that error.
func (f *File) Next() (data []byte, ci gopacket.CaptureInfo, err error) {
	data, cp, err := f.NextRef()
	if err != nil {
		return nil, gopacket.CaptureInfo{}, err
	}
	return data, *cp, nil
}

// NextRef is Next without copying the frame's metadata out: like data, ci
// is valid until the next call. A reader of millions of frames saves a
// copy each.
func (f *File) NextRef() (data []byte, ci *gopacket.CaptureInfo, err error) {
	for f.err == nil {
		if f.ng {
			f.err = f.nextNg()
		} else {
			f.err = f.nextPcap()
		}
		if f.err != nil {
			break
		}
		f.read++
		if f.filter != nil && !f.filter.matches(f.ci, f.data) {
			continue
		}
		f.matched++
		f.last = f.read
		return f.data, &f.ci, nil
	}
	return nil, nil, f.err
}

// endOfInput is the error for running out of input where a record would
// start: io.EOF at a clean end, the read error otherwise.
func (f *File) endOfInput(have, want int, what error) error {
	if err := f.src.readErr(); err != nil {
		return f.frameError(err)
	}
	if have == 0 {
		return io.EOF
	}
	return f.frameError(fmt.Errorf("%w header: %d of %d bytes", what, have, want))
}

func (f *File) nextPcap() error {
	s := f.src
	h := s.buf[s.pos:s.end]
	if len(h) < f.recHdr {
		h = s.peek(f.recHdr)
		if len(h) < f.recHdr {
			return f.endOfInput(len(h), f.recHdr, ErrTruncatedRecord)
		}
	}
	sec, frac := f.u32(h), f.u32(h[4:])
	caplen, length := f.u32(h[8:]), f.u32(h[12:])
	if caplen > MaxFrameSize || caplen > length {
		if caplen > MaxFrameSize {
			return f.frameError(oversized(caplen))
		}
		length = f.longCapture(caplen)
	}
	s.advance(f.recHdr)
	var data []byte
	if s.end-s.pos >= int(caplen) {
		data = s.buf[s.pos : s.pos+int(caplen) : s.pos+int(caplen)]
	} else if data = s.peek(int(caplen)); len(data) < int(caplen) {
		if err := s.readErr(); err != nil {
			return f.frameError(err)
		}
		return f.frameError(fmt.Errorf("%w: header says %d bytes, %d remain", ErrTruncatedRecord, caplen, len(data)))
	}
	s.advance(int(caplen))
	f.data = data
	f.ci.Timestamp = time.Unix(int64(sec), int64(frac)*f.nsecMul)
	f.ci.CaptureLength = int(caplen)
	f.ci.Length = int(length)
	return nil
}

func oversized(caplen uint32) error {
	return fmt.Errorf("%w: header says %d bytes, the limit is %d", ErrOversized, caplen, MaxFrameSize)
}

// longCapture counts a record that says more bytes were captured than the
// frame had on the wire, and returns the original length to use: the
// captured length. Such records are read whole, as tshark dissects them
// (tcpdump skips them); the bytes are there, only the header is odd.
func (f *File) longCapture(caplen uint32) uint32 {
	f.longCaptures++
	return caplen
}

// LinkType is the link-layer header type of the file: of every frame in a
// pcap file, of the first interface in a pcapng file (0 if it has none).
func (f *File) LinkType() layers.LinkType { return f.linkType }

// FrameLinkType is the link-layer header type of the frame Next returned
// last: in a pcapng file, that of the interface it was captured on, which
// may differ from one frame to the next.
func (f *File) FrameLinkType() layers.LinkType { return f.frameLT }

// Notes says, one sentence each, what the reader made of the records read
// so far that do not follow the format to the letter, and which frames a
// filter left out because it does not apply to their link type. An analysis
// lists them; nil when there is nothing to say.
func (f *File) Notes() []string {
	var notes []string
	if n := f.longCaptures; n > 0 {
		notes = append(notes, fmt.Sprintf("%s said more bytes were captured than the frame had on the wire; "+
			"they were read whole, their original length taken as the captured length.", plural(n, "record", "records")))
	}
	if n := f.untimed; n > 0 {
		note := fmt.Sprintf("%s came in simple packet blocks, which have no timestamp: each was given the time of "+
			"the packet before it in its section.", plural(n, "frame", "frames"))
		if z := f.untimedZero; z > 0 {
			note += fmt.Sprintf(" Those with no packet before them in their section (%d) got time 0 (1970-01-01 00:00:00 UTC).", z)
		}
		notes = append(notes, note)
	}
	for _, lt := range slices.Sorted(maps.Keys(f.filters)) {
		if lf := f.filters[lt]; lf.err != nil && lf.left > 0 {
			notes = append(notes, fmt.Sprintf("The filter %q does not apply to link type %s (%v): %s of that link type left out.",
				f.expr, decode.LinkTypeName(lf.lt), lf.err, plural(lf.left, "frame", "frames")))
		}
	}
	return notes
}

// plural returns "1 frame" or "3 frames".
func plural(n uint64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// Frame is the 1-based number of the frame Next returned last, counting every
// frame of the file, filtered out or not, as tcpdump and Wireshark do.
func (f *File) Frame() uint64 { return f.last }

// Stats counts the frames read and returned so far.
func (f *File) Stats() Stats { return Stats{Read: f.read, Matched: f.matched} }

// Format describes the file format: "pcap", "pcap (nanosecond)", "pcapng",
// prefixed with "gzip " when compressed.
func (f *File) Format() string { return f.format }

// Name is the file as error messages call it.
func (f *File) Name() string { return f.name }

// Close releases the file (not a reader passed to OpenReader).
func (f *File) Close() error {
	if f.err == nil {
		f.err = &Error{Path: f.name, Frame: f.read + 1, Err: fs.ErrClosed}
	}
	if f.closer != nil {
		c := f.closer
		f.closer = nil
		return c.Close()
	}
	return nil
}
