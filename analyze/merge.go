package analyze

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/vrrpctl/vrrpctl/decode"
)

// Sighting is one vantage point's copy of a frame in a merged analysis of
// several captures.
type Sighting struct {
	Vantage int       `json:"vantage"` // index into Analysis.Sources
	Frame   uint64    `json:"frame"`   // the frame's number in that file
	Time    time.Time `json:"time"`    // when that vantage saw it, on the reference clock
}

// Vantage is one capture of a merged analysis: where it was taken and how
// its clock was brought onto the reference's.
type Vantage struct {
	Name     string `json:"name"`
	Inferred string `json:"inferred"` // how the name was found: "given", or what in the file told (interface name, outgoing frames of ADDR, own frames of ADDR), or "file name"
	// Host is the address of the host the capture was taken on, when the
	// file tells (its outgoing frames, or its own conversations).
	Host      string  `json:"host,omitempty"`
	File      string  `json:"file"`
	LinkType  string  `json:"link_type"`
	Frames    uint64  `json:"frames"`
	Reference bool    `json:"reference"`
	Aligned   bool    `json:"aligned"`   // false: it shares no frame with the reference: analyzed on its own
	OffsetMS  float64 `json:"offset_ms"` // added to its timestamps
	DriftPPM  float64 `json:"drift_ppm"`
	ErrorMS   float64 `json:"error_ms"` // 95th percentile of the matched frames' absolute residuals after the correction
	Matched   int     `json:"matched"`  // frames the estimate rests on
	Damaged   bool    `json:"damaged"`
	// AdvertsSeen counts the adverts this capture saw, AdvertDelayMS how
	// much later on average than the first capture that saw each: the hop.
	AdvertsSeen   int     `json:"adverts_seen"`
	AdvertDelayMS float64 `json:"advert_delay_ms"`
	ReadError     string  `json:"read_error,omitempty"`
}

// A MergedSource is what analyze.RunMerged reads:
type MergedSource interface {
	// Next returns the next frame in reference time: its bytes (one vantage's copy), its capture info with the timestamp on the reference clock, and every vantage that saw it (the copy returned is seen[0]'s), in time order.
	Next() (data []byte, ci gopacket.CaptureInfo, seen []Sighting, err error)
	FrameLinkType() layers.LinkType // of the copy returned
	Vantages() []Vantage
}

// RunMerged decodes every frame of a merged source once and returns the
// analysis, with the vantages in Sources. Frames are numbered in the order
// they come; a read error after some frames returns the analysis of what
// was read and the error, as Run does.
func RunMerged(src MergedSource, opt Options) (*Analysis, error) {
	var decs decoders
	e := NewEngine(opt)
	e.UseVantages(src.Vantages())
	var f decode.Frame
	var n, skipped uint64
	var readErr error
	for {
		data, ci, seen, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			readErr = err
			break
		}
		n++
		dec := decs.get(src.FrameLinkType(), ci.InterfaceIndex)
		if dec == nil {
			skipped++
			continue
		}
		if err := dec.Decode(data, ci, n, &f); err != nil {
			e.DecodeError(n, ci.Timestamp, err)
			continue
		}
		e.FeedSeen(&f, seen)
	}
	a, err := finish(e, src, &decs, readErr, n, skipped)
	if err != nil {
		return nil, err
	}
	if a.Sources == nil {
		a.Sources = src.Vantages()
	}
	// A capture damaged part way stops on its own; the others go on.
	var damaged []string
	for _, v := range a.Sources {
		if v.Damaged {
			damaged = append(damaged, v.ReadError)
		}
	}
	if len(damaged) > 0 {
		a.Source.Damaged = true
		a.Source.ReadError = strings.Join(damaged, "; ")
	}
	if readErr != nil {
		a.Source.Damaged = true
		a.Source.ReadError = readErr.Error()
		a.Notes = append(a.Notes, fmt.Sprintf("Reading stopped early: %v. The analysis covers the %d frame(s) before.", readErr, n))
	}
	return a, readErr
}
