package analyze_test

import (
	"errors"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/vrrpctl/vrrpctl/analyze"
	"github.com/vrrpctl/vrrpctl/decode"
)

// A capture whose first frames cannot be decoded still starts at its first
// frame: the report must not show a year-1 start.
func TestDecodeErrorFirst(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 19, 0, 0, 0, time.UTC)
	e := analyze.NewEngine(analyze.Options{})
	e.DecodeError(1, t0, &decode.FrameError{Number: 1, Kind: decode.KindVRRP, Err: errors.New("vrrp: auth type 1 (pass) needs 8 bytes")})
	e.Feed(&decode.Frame{Number: 2, Time: t0.Add(time.Second), LinkType: layers.LinkTypeEthernet, HasDstMAC: true})
	a := e.Finish()
	if !a.Source.Start.Equal(t0) || !a.Source.End.Equal(t0.Add(time.Second)) {
		t.Errorf("span %v .. %v, want %v .. +1 s", a.Source.Start, a.Source.End, t0)
	}
	if a.Source.LinkType != "Ethernet" || a.Source.Frames != 2 || a.Source.DecodeErrors != 1 {
		t.Errorf("source = %+v", a.Source)
	}
	if len(a.Errors) != 1 || a.Errors[0].Frame != 1 || a.Errors[0].Error != "vrrp: auth type 1 (pass) needs 8 bytes" {
		t.Errorf("errors = %+v", a.Errors)
	}
}
