package analyze

import (
	"errors"
	"fmt"
	"io"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/vrrpctl/vrrpctl/decode"
)

// PacketSource is what Run reads: a capture file or a live interface.
type PacketSource interface {
	Next() (data []byte, ci gopacket.CaptureInfo, err error)
	LinkType() layers.LinkType
}

// frameNumberer is implemented by sources that skip frames (a BPF filter) and
// know each returned frame's number in the unfiltered capture.
type frameNumberer interface {
	Frame() uint64
}

// ErrNothingRead is returned (wrapped) when a source yielded no frame at all
// before failing: there is nothing to analyze.
var ErrNothingRead = errors.New("no frame could be read")

// Run decodes every frame of src and returns the analysis. A read error after
// some frames returns the analysis of what was read (Source.Damaged set) and
// the error; a read error before any frame returns only the error.
func Run(src PacketSource, opt Options) (*Analysis, error) {
	dec, err := decode.NewDecoder(src.LinkType())
	if err != nil {
		return nil, err
	}
	e := NewEngine(opt)
	numbered, _ := src.(frameNumberer)
	var f decode.Frame
	var n uint64
	var readErr error
	for {
		data, ci, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			readErr = err
			break
		}
		n++
		num := n
		if numbered != nil {
			num = numbered.Frame()
		}
		if err := dec.Decode(data, ci, num, &f); err != nil {
			e.DecodeError(num, ci.Timestamp, err)
			continue
		}
		e.Feed(&f)
	}
	if readErr != nil && n == 0 {
		return nil, fmt.Errorf("%w: %w", ErrNothingRead, readErr)
	}
	a := e.Finish()
	if readErr != nil {
		a.Source.Damaged = true
		a.Source.ReadError = readErr.Error()
		a.Notes = append(a.Notes, fmt.Sprintf("Reading stopped early: %v. The analysis covers the %d frame(s) before.", readErr, n))
	}
	return a, readErr
}
