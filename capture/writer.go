package capture

import (
	"bufio"
	"fmt"
	"io"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Writer writes frames to a pcap file with nanosecond timestamps, buffered:
// call Flush before the file is closed (and whenever a reader should see the
// frames so far).
type Writer struct {
	buf     *bufio.Writer
	pw      *pcapgo.Writer
	snaplen int
}

// NewWriter writes the pcap file header for link type lt to w. Frames longer
// than snaplen are cut to it; snaplen 0 means MaxFrameSize.
func NewWriter(w io.Writer, lt layers.LinkType, snaplen int) (*Writer, error) {
	if snaplen <= 0 || snaplen > MaxFrameSize {
		snaplen = MaxFrameSize
	}
	buf := bufio.NewWriterSize(w, 64<<10)
	pw := pcapgo.NewWriterNanos(buf)
	if err := pw.WriteFileHeader(uint32(snaplen), lt); err != nil {
		return nil, fmt.Errorf("writing pcap file header: %w", err)
	}
	return &Writer{buf: buf, pw: pw, snaplen: snaplen}, nil
}

// WritePacket appends one frame, cut to the snaplen. ci.CaptureLength is taken
// from data; ci.Length (the length on the wire) is kept if it is larger.
func (w *Writer) WritePacket(ci gopacket.CaptureInfo, data []byte) error {
	if ci.Length < len(data) {
		ci.Length = len(data)
	}
	if len(data) > w.snaplen {
		data = data[:w.snaplen]
	}
	ci.CaptureLength = len(data)
	return w.pw.WritePacket(ci, data)
}

// Flush writes buffered frames to the underlying writer.
func (w *Writer) Flush() error { return w.buf.Flush() }
