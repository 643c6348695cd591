package analyze

import (
	"errors"
	"fmt"
	"io"
	"strings"

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

// frameLinkTyper is implemented by sources whose frames may differ in link
// type (a pcapng file's interfaces): the link type of the frame Next
// returned last.
type frameLinkTyper interface {
	FrameLinkType() layers.LinkType
}

// refNexter is implemented by sources that lend the frame's capture info
// rather than copy it out (a copy less per frame): valid, like the data,
// until the next call.
type refNexter interface {
	NextRef() (data []byte, ci *gopacket.CaptureInfo, err error)
}

// noter is implemented by sources that have something to say about the
// input (records they read leniently): one note each.
type noter interface {
	Notes() []string
}

// ErrNothingRead is returned (wrapped) when a source yielded no frame at all
// before failing: there is nothing to analyze.
var ErrNothingRead = errors.New("no frame could be read")

// Run decodes every frame of src and returns the analysis. A read error after
// some frames returns the analysis of what was read (Source.Damaged set) and
// the error; a read error before any frame returns only the error.
//
// A source that says each frame's link type is decoded frame by frame with a
// decoder for that type; frames of a link type decode does not support are
// skipped and counted in a note, and only if every frame was skipped is that
// an error.
func Run(src PacketSource, opt Options) (*Analysis, error) {
	return run(src, opt, true)
}

// run is Run, with or without the prefilter (the tests compare the two).
func run(src PacketSource, opt Options, prefiltered bool) (*Analysis, error) {
	var dec *decode.Decoder // for every frame, unless the source says each one's link type
	var decs decoders
	typed, _ := src.(frameLinkTyper)
	if typed == nil {
		var err error
		if dec, err = decode.NewDecoder(src.LinkType()); err != nil {
			return nil, err
		}
	}
	e := NewEngine(opt)
	numbered, _ := src.(frameNumberer)
	var f decode.Frame
	var pf prefilter
	var n, skipped uint64
	var readErr error
	ref, _ := src.(refNexter)
	var copied gopacket.CaptureInfo
	for {
		var data []byte
		var ci *gopacket.CaptureInfo
		var err error
		if ref != nil {
			data, ci, err = ref.NextRef()
		} else {
			data, copied, err = src.Next()
			ci = &copied
		}
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
		if typed != nil {
			if dec = decs.get(typed.FrameLinkType(), ci.InterfaceIndex); dec == nil {
				skipped++
				continue
			}
		}
		if prefiltered && pf.skips(dec.LinkType(), data) {
			b := &pf.bare
			b.Number, b.Time, b.Length, b.CapLen, b.LinkType, b.HasDstMAC = num, ci.Timestamp, ci.Length, len(data), layers.LinkTypeEthernet, true
			e.Feed(b)
			continue
		}
		if err := dec.DecodeAt(data, ci.Timestamp, ci.Length, num, &f); err != nil {
			e.DecodeError(num, ci.Timestamp, err)
			continue
		}
		if f.Kind == decode.KindVRRP {
			pf.learn(&f)
		}
		e.Feed(&f)
	}
	a, err := finish(e, src, &decs, readErr, n, skipped)
	if err != nil {
		return nil, err
	}
	if readErr != nil {
		a.Source.Damaged = true
		a.Source.ReadError = readErr.Error()
		a.Notes = append(a.Notes, fmt.Sprintf("Reading stopped early: %v. The analysis covers the %d frame(s) before.", readErr, n))
	}
	return a, readErr
}

// decoders holds a decoder per link type met, in the order met, and counts
// the frames of link types decode does not support, per interface. Maps,
// not lists: a hostile file may describe thousands of interfaces.
type decoders struct {
	last    *linkDecoder // the link type of the previous frame: usually the next's
	byType  map[layers.LinkType]*linkDecoder
	all     []*linkDecoder
	skipped map[skipKey]*skippedFrames
	order   []*skippedFrames
}

type linkDecoder struct {
	lt  layers.LinkType
	dec *decode.Decoder // nil: not supported
	err error
}

type skipKey struct {
	iface int
	lt    layers.LinkType
}

type skippedFrames struct {
	skipKey
	n uint64
}

// get returns the decoder for frames of link type lt, or nil (and counts the
// frame against its interface) when decode does not support lt.
func (ds *decoders) get(lt layers.LinkType, iface int) *decode.Decoder {
	if ds.last == nil || ds.last.lt != lt {
		ds.last = ds.find(lt)
	}
	if ds.last.dec != nil {
		return ds.last.dec
	}
	k := skipKey{iface, lt}
	s := ds.skipped[k]
	if s == nil {
		if ds.skipped == nil {
			ds.skipped = make(map[skipKey]*skippedFrames)
		}
		s = &skippedFrames{skipKey: k}
		ds.skipped[k] = s
		ds.order = append(ds.order, s)
	}
	s.n++
	return nil
}

func (ds *decoders) find(lt layers.LinkType) *linkDecoder {
	if d := ds.byType[lt]; d != nil {
		return d
	}
	if ds.byType == nil {
		ds.byType = make(map[layers.LinkType]*linkDecoder)
	}
	d := &linkDecoder{lt: lt}
	d.dec, d.err = decode.NewDecoder(lt)
	ds.byType[lt] = d
	ds.all = append(ds.all, d)
	return d
}

// names lists the link types of the frames decoded, in the order met.
func (ds *decoders) names() []string {
	var names []string
	for _, d := range ds.all {
		if d.dec != nil {
			names = append(names, decode.LinkTypeName(d.lt))
		}
	}
	return names
}

// unsupported is decode's reason for the first link type skipped.
func (ds *decoders) unsupported() error {
	for _, d := range ds.all {
		if d.err != nil {
			return d.err
		}
	}
	return nil
}

func (ds *decoders) skipNotes() []string {
	var notes []string
	for _, s := range ds.order {
		frames := "frames"
		if s.n == 1 {
			frames = "frame"
		}
		notes = append(notes, fmt.Sprintf("%d %s of interface %d (link type %s) skipped: not supported.",
			s.n, frames, s.iface, decode.LinkTypeName(s.lt)))
	}
	return notes
}

// finish ends the reading of src after n frames, skipped of them of link
// types decode does not support: an error when no frame could be read or
// none decoded, otherwise the engine's analysis with the link types met
// and the source's notes.
func finish(e *Engine, src any, decs *decoders, readErr error, n, skipped uint64) (*Analysis, error) {
	if readErr != nil && n == 0 {
		return nil, fmt.Errorf("%w: %w", ErrNothingRead, readErr)
	}
	if skipped > 0 && skipped == n {
		return nil, decs.unsupported()
	}
	a := e.Finish()
	if names := decs.names(); len(names) > 0 {
		a.Source.LinkType = strings.Join(names, ", ")
	}
	if ns, ok := src.(noter); ok {
		a.Notes = append(a.Notes, ns.Notes()...)
	}
	a.Notes = append(a.Notes, decs.skipNotes()...)
	return a, nil
}
