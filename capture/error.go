// Package capture provides the packet sources vrrpctl reads from: capture
// files (pcap, pcapng, gzip-compressed or not, from a path or standard input),
// live interfaces through libpcap, and a pcap writer.
//
// Every source returns frames through the same three methods:
//
//	Next() (data []byte, ci gopacket.CaptureInfo, err error)
//	LinkType() layers.LinkType
//	Close() error
//
// The data returned by Next belongs to the source and is only valid until the
// next call; reading allocates nothing per frame. A File also says the link
// type of each frame (FrameLinkType: a pcapng file's interfaces may differ),
// the name and description of its pcapng interface (FrameInterface), and
// what it made of records that bend the format (Notes).
package capture

import (
	"errors"
	"fmt"
)

// Reasons a capture file is rejected. They are wrapped in an *Error that names
// the file and the frame; test them with errors.Is.
var (
	ErrEmpty           = errors.New("empty file")
	ErrNotCapture      = errors.New("not a pcap or pcapng file")
	ErrTruncatedHeader = errors.New("truncated file header")
	ErrTruncatedRecord = errors.New("truncated record")
	ErrTruncatedBlock  = errors.New("truncated block")
	ErrOversized       = errors.New("oversized record")
	ErrMalformed       = errors.New("malformed")
	ErrBadFilter       = errors.New("bad filter")
)

// Error is what the capture sources return for anything but io.EOF. Its
// message reads like
//
//	capture.pcap: frame 17: truncated record: header says 98 bytes, 40 remain
//	notes.txt: not a pcap or pcapng file (starts with 23 20 4e 6f)
type Error struct {
	Path  string // the file as named by the caller ("stdin" for standard input), or the interface
	Frame uint64 // 1-based number of the frame being read when it happened; 0 for the file header
	Err   error
}

func (e *Error) Error() string {
	if e.Frame == 0 {
		return e.Path + ": " + e.Err.Error()
	}
	return fmt.Sprintf("%s: frame %d: %v", e.Path, e.Frame, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Unusable reports whether nothing at all could be read before the error: the
// file header is bad, the input is not a capture, the filter does not compile,
// or the very first record is damaged. Otherwise the source is damaged after
// Frame-1 good frames, which were returned before the error.
func (e *Error) Unusable() bool { return e.Frame <= 1 }

// IsUnusable reports whether err is an *Error for which nothing could be read.
func IsUnusable(err error) bool {
	var ce *Error
	return errors.As(err, &ce) && ce.Unusable()
}
