package capture

import (
	"bytes"
	"fmt"
	"io"
	"math/bits"
	"strings"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// pcapng block types (draft-ietf-opsawg-pcapng).
const (
	ngSectionHeader   = 0x0a0d0d0a
	ngInterfaceDesc   = 0x00000001
	ngObsoletePacket  = 0x00000002
	ngSimplePacket    = 0x00000003
	ngEnhancedPacket  = 0x00000006
	ngByteOrderMagic  = 0x1a2b3c4d
	ngOptEnd          = 0
	ngOptIfName       = 2
	ngOptIfDesc       = 3
	ngOptTsresol      = 9
	ngOptTsoffset     = 14
	ngBlockHeaderLen  = 8  // type, total length
	ngMinBlockLen     = 12 // type, total length, trailing total length
	ngSectionMinLen   = 28
	ngInterfaceMinLen = 20
	ngSimpleMinLen    = 16
	ngPacketMinLen    = 32 // EPB and obsolete packet block: 20 bytes of fields
	// ngMaxBufferedBlock bounds the blocks held in memory whole: packet and
	// interface blocks. Other blocks are skipped as they stream by.
	ngMaxBufferedBlock = 16 << 20
)

type ngInterface struct {
	linkType layers.LinkType
	filter   *linkFilter // the filter for its link type, nil without one
	snaplen  uint32
	pow2     bool   // if_tsresol is a power of two
	exp      uint8  // if_tsresol exponent
	unitNano uint64 // nanoseconds per unit, for decimal resolutions up to 1 ns
	divNano  uint64 // units per nanosecond, for decimal resolutions finer than 1 ns
	offset   int64  // if_tsoffset, seconds
	name     string // if_name, as the capturing host called the interface
	desc     string // if_description
}

// time converts a timestamp in the interface's units.
func (n *ngInterface) time(ts uint64) time.Time {
	var sec, nsec uint64
	switch {
	case n.unitNano == 1000: // the default; constant divisors are much cheaper
		sec, nsec = ts/1e6, ts%1e6*1000
	case n.unitNano == 1:
		sec, nsec = ts/1e9, ts%1e9
	case n.pow2:
		sec = ts >> n.exp
		frac := ts & (1<<n.exp - 1)
		hi, lo := bits.Mul64(frac, 1e9)
		nsec = hi<<(64-n.exp) | lo>>n.exp
		if n.exp == 0 {
			nsec = 0
		}
	case n.divNano != 0:
		units := n.divNano * 1e9
		sec, nsec = ts/units, ts%units/n.divNano
	default:
		units := 1e9 / n.unitNano
		sec, nsec = ts/units, ts%units*n.unitNano
	}
	return time.Unix(int64(sec)+n.offset, int64(nsec))
}

func (f *File) readNgHeader() error {
	f.ng = true
	f.format += "pcapng"
	if err := f.readSectionHeader(); err != nil {
		return f.headerError(err)
	}
	// The link type must be known before the first frame (for the filter and
	// the caller), so read on to the first interface description.
	for len(f.ifaces) == 0 {
		b := f.src.peek(ngBlockHeaderLen)
		if len(b) < ngBlockHeaderLen {
			if err := f.src.readErr(); err != nil {
				return f.headerError(err)
			}
			if len(b) == 0 {
				return nil // a capture without interfaces has no frames
			}
			return f.headerError(fmt.Errorf("%w header: %d of %d bytes", ErrTruncatedBlock, len(b), ngBlockHeaderLen))
		}
		typ := f.u32(b)
		if _, err := f.nextNgBlock(); err != nil {
			switch typ {
			case ngObsoletePacket, ngSimplePacket, ngEnhancedPacket:
				// The first frame: a packet block before any interface.
				return f.frameError(err)
			}
			return f.headerError(err)
		}
	}
	f.linkType = f.ifaces[0].linkType
	return nil
}

// readSectionHeader reads a section header block, which sets the byte order
// and forgets the interfaces of the previous section.
func (f *File) readSectionHeader() error {
	b := f.src.peek(12)
	if len(b) < 12 {
		if err := f.src.readErr(); err != nil {
			return err
		}
		return fmt.Errorf("%w: section header block: %d of at least %d bytes", ErrTruncatedHeader, len(b), ngSectionMinLen)
	}
	switch string(b[8:12]) {
	case "\x1a\x2b\x3c\x4d":
		f.big = true
	case "\x4d\x3c\x2b\x1a":
		f.big = false
	default:
		return fmt.Errorf("%w section header block: byte-order magic % x", ErrMalformed, b[8:12])
	}
	total := f.u32(b[4:])
	if total < ngSectionMinLen || total%4 != 0 || total > ngMaxBufferedBlock {
		return fmt.Errorf("%w section header block: length %d", ErrMalformed, total)
	}
	b = f.src.peek(int(total))
	if len(b) < int(total) {
		if err := f.src.readErr(); err != nil {
			return err
		}
		return fmt.Errorf("%w: section header block says %d bytes, %d remain", ErrTruncatedHeader, total, len(b))
	}
	if major := f.u16(b[12:]); major != 1 {
		return fmt.Errorf("%w section header block: pcapng version %d.%d, want 1.x", ErrMalformed, major, f.u16(b[14:]))
	}
	if trail := f.u32(b[total-4:]); trail != total {
		return fmt.Errorf("%w section header block: trailing length %d, leading %d", ErrMalformed, trail, total)
	}
	f.src.advance(int(total))
	f.ifaces = f.ifaces[:0]
	f.sectionPacket = false
	return nil
}

func (f *File) nextNg() error {
	for {
		packet, err := f.nextNgBlock()
		if err != nil {
			if err != io.EOF {
				err = f.frameError(err)
			}
			return err
		}
		if packet {
			return nil
		}
	}
}

// nextNgBlock consumes one block. For a packet block it sets f.data and f.ci
// and returns true.
func (f *File) nextNgBlock() (packet bool, err error) {
	b := f.src.peek(ngBlockHeaderLen)
	if len(b) < ngBlockHeaderLen {
		if err := f.src.readErr(); err != nil {
			return false, err
		}
		if len(b) == 0 {
			return false, io.EOF
		}
		return false, fmt.Errorf("%w header: %d of %d bytes", ErrTruncatedBlock, len(b), ngBlockHeaderLen)
	}
	typ := f.u32(b)
	if typ == ngSectionHeader {
		return false, f.readSectionHeader()
	}
	total := f.u32(b[4:])
	if total < ngMinBlockLen || total%4 != 0 {
		return false, fmt.Errorf("%w block: type %#x, length %d", ErrMalformed, typ, total)
	}
	switch typ {
	case ngInterfaceDesc, ngObsoletePacket, ngSimplePacket, ngEnhancedPacket:
	default:
		// Statistics, name resolution, secrets, custom and unknown blocks.
		if n := f.src.discard(int64(total) - 4); n < int64(total)-4 {
			return false, f.shortBlock(total, n)
		}
		return false, f.checkTrailer(total, typ)
	}
	if total > ngMaxBufferedBlock {
		return false, fmt.Errorf("%w block: type %#x, length %d exceeds %d", ErrMalformed, typ, total, ngMaxBufferedBlock)
	}
	b = f.src.peek(int(total))
	if len(b) < int(total) {
		return false, f.shortBlock(total, int64(len(b)))
	}
	if trail := f.u32(b[total-4:]); trail != total {
		return false, fmt.Errorf("%w block: type %#x, trailing length %d, leading %d", ErrMalformed, typ, trail, total)
	}
	body := b[ngBlockHeaderLen : total-4]
	switch typ {
	case ngInterfaceDesc:
		err = f.readInterface(body)
	case ngEnhancedPacket, ngObsoletePacket:
		packet, err = true, f.packetBlock(typ, body)
	case ngSimplePacket:
		packet, err = true, f.simplePacket(body)
	}
	if err != nil {
		return false, err
	}
	f.src.advance(int(total))
	return packet, nil
}

func (f *File) shortBlock(total uint32, have int64) error {
	if err := f.src.readErr(); err != nil {
		return err
	}
	return fmt.Errorf("%w: header says %d bytes, %d remain", ErrTruncatedBlock, total, have)
}

func (f *File) checkTrailer(total, typ uint32) error {
	b := f.src.peek(4)
	if len(b) < 4 {
		return f.shortBlock(total, int64(total)-4+int64(len(b)))
	}
	if trail := f.u32(b); trail != total {
		return fmt.Errorf("%w block: type %#x, trailing length %d, leading %d", ErrMalformed, typ, trail, total)
	}
	f.src.advance(4)
	return nil
}

func (f *File) readInterface(body []byte) error {
	if len(body)+ngMinBlockLen < ngInterfaceMinLen {
		return fmt.Errorf("%w interface description block: %d bytes", ErrMalformed, len(body)+ngMinBlockLen)
	}
	in := ngInterface{
		linkType: layers.LinkType(f.u16(body)),
		snaplen:  f.u32(body[4:]),
		unitNano: 1000, // default resolution: microseconds
	}
	for opts := body[8:]; len(opts) >= 4; {
		code, n := f.u16(opts), int(f.u16(opts[2:]))
		if code == ngOptEnd {
			break
		}
		padded := (n + 3) &^ 3
		if 4+padded > len(opts) {
			return fmt.Errorf("%w interface description block: option %d of %d bytes overruns the block", ErrMalformed, code, n)
		}
		v := opts[4 : 4+n]
		switch {
		case code == ngOptIfName:
			in.name = optString(v)
		case code == ngOptIfDesc:
			in.desc = optString(v)
		case code == ngOptTsresol && n == 1:
			if err := in.setResolution(v[0]); err != nil {
				return err
			}
		case code == ngOptTsoffset && n == 8:
			if f.big {
				in.offset = int64(uint64(f.u32(v))<<32 | uint64(f.u32(v[4:])))
			} else {
				in.offset = int64(uint64(f.u32(v[4:]))<<32 | uint64(f.u32(v)))
			}
		}
		opts = opts[4+padded:]
	}
	in.filter = f.filterFor(in.linkType)
	f.ifaces = append(f.ifaces, in)
	return nil
}

// maxOptString bounds the interface names and descriptions kept: they are
// for people to read.
const maxOptString = 256

// optString is a UTF-8 option value as written (without the NUL padding some
// writers add), cut to maxOptString bytes.
func optString(v []byte) string {
	if i := bytes.IndexByte(v, 0); i >= 0 {
		v = v[:i]
	}
	if len(v) > maxOptString {
		v = v[:maxOptString]
	}
	return strings.ToValidUTF8(string(v), "\uFFFD")
}

// Interface is what a pcapng interface description block says of the
// interface a frame was captured on.
type Interface struct {
	LinkType    layers.LinkType
	Name        string // if_name ("eth1"), empty if not recorded
	Description string // if_description, empty if not recorded
}

// FrameInterface describes the interface of the frame Next returned last;
// ok is false for a pcap file.
func (f *File) FrameInterface() (in Interface, ok bool) {
	if !f.ng || f.ci.InterfaceIndex >= len(f.ifaces) {
		return Interface{}, false
	}
	n := &f.ifaces[f.ci.InterfaceIndex]
	return Interface{LinkType: n.linkType, Name: n.name, Description: n.desc}, true
}

func (n *ngInterface) setResolution(r uint8) error {
	exp := r & 0x7f
	if r&0x80 != 0 {
		if exp > 63 {
			return fmt.Errorf("%w interface description block: if_tsresol 2^-%d", ErrMalformed, exp)
		}
		n.pow2, n.exp = true, exp
		n.unitNano, n.divNano = 0, 0
		return nil
	}
	if exp > 19 { // 10^19 units per second overflow 64 bits
		return fmt.Errorf("%w interface description block: if_tsresol 10^-%d", ErrMalformed, exp)
	}
	n.unitNano, n.divNano = 0, 0
	p := uint64(1)
	if exp <= 9 {
		for i := exp; i < 9; i++ {
			p *= 10
		}
		n.unitNano = p
	} else {
		for i := uint8(9); i < exp; i++ {
			p *= 10
		}
		n.divNano = p
	}
	return nil
}

// iface returns the interface a packet block refers to, and makes its link
// type and filter those of the frame.
func (f *File) iface(id uint32) (*ngInterface, error) {
	if int64(id) >= int64(len(f.ifaces)) {
		described := "no interface"
		switch n := len(f.ifaces); {
		case n == 1:
			described = "only interface 0"
		case n > 1:
			described = fmt.Sprintf("only interfaces 0 to %d", n-1)
		}
		return nil, fmt.Errorf("%w packet block at offset %d%s: it refers to interface %d, but the section describes %s",
			ErrMalformed, f.src.off, f.offsetNote(), id, described)
	}
	in := &f.ifaces[id]
	f.frameLT, f.filter = in.linkType, in.filter
	return in, nil
}

// offsetNote qualifies an offset into a compressed file.
func (f *File) offsetNote() string {
	if strings.HasPrefix(f.format, "gzip ") {
		return " of the decompressed data"
	}
	return ""
}

// packetBlock decodes an enhanced packet block or the obsolete packet block,
// which differ only in the width of the interface ID.
func (f *File) packetBlock(typ uint32, body []byte) error {
	ci := &f.ci
	if len(body)+ngMinBlockLen < ngPacketMinLen {
		return fmt.Errorf("%w packet block: %d bytes", ErrMalformed, len(body)+ngMinBlockLen)
	}
	id := f.u32(body)
	if typ == ngObsoletePacket {
		id = uint32(f.u16(body))
	}
	in, err := f.iface(id)
	if err != nil {
		return err
	}
	ts := uint64(f.u32(body[4:]))<<32 | uint64(f.u32(body[8:]))
	caplen, length := f.u32(body[12:]), f.u32(body[16:])
	if caplen > MaxFrameSize {
		return oversized(caplen)
	}
	if int64(caplen) > int64(len(body)-20) {
		return fmt.Errorf("%w: packet block says %d bytes captured, block holds %d", ErrTruncatedRecord, caplen, len(body)-20)
	}
	if caplen > length {
		length = f.longCapture(caplen)
	}
	ci.Timestamp = in.time(ts)
	ci.CaptureLength = int(caplen)
	ci.Length = int(length)
	ci.InterfaceIndex = int(id)
	f.sectionPacket = true
	f.data = body[20 : 20+caplen : 20+caplen]
	return nil
}

// simplePacket decodes a simple packet block: a frame of interface 0 with
// its original length and no timestamp.
func (f *File) simplePacket(body []byte) error {
	ci := &f.ci
	if len(body)+ngMinBlockLen < ngSimpleMinLen {
		return fmt.Errorf("%w simple packet block: %d bytes", ErrMalformed, len(body)+ngMinBlockLen)
	}
	in, err := f.iface(0)
	if err != nil {
		return err
	}
	// The captured length is not recorded: it is the original length cut to
	// the interface's snaplen (0: none), and to what the block holds.
	length := f.u32(body)
	caplen := min(length, uint32(len(body)-4))
	if in.snaplen != 0 {
		caplen = min(caplen, in.snaplen)
	}
	if caplen > MaxFrameSize {
		return oversized(caplen)
	}
	// With no timestamp of its own, the frame takes that of the packet
	// before it in the section, so that it does not fall back to 1970 in
	// the middle of a capture; with none before it, 0 as libpcap reports.
	f.untimed++
	if !f.sectionPacket {
		ci.Timestamp = time.Unix(0, 0)
		f.untimedZero++
	}
	ci.InterfaceIndex = 0
	ci.CaptureLength = int(caplen)
	ci.Length = int(length)
	f.sectionPacket = true
	f.data = body[4 : 4+caplen : 4+caplen]
	return nil
}
