package main

import (
	"errors"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/vrrpctl/vrrpctl/analyze"
)

// A capture that failed part of the way gives at least a warning, for
// analyze and watch alike; without findings and read errors the status is 0.
func TestAnalysisStatus(t *testing.T) {
	if err := analysisStatus(&analyze.Analysis{}, nil); err != nil {
		t.Errorf("clean analysis: %v; want nil", err)
	}
	if code := exitCode(analysisStatus(&analyze.Analysis{}, errors.New("frame 9: truncated"))); code != 1 {
		t.Errorf("clean analysis with a read error: exit %d; want 1", code)
	}
}

// vrrpctl imports every package of the project; none may change gopacket's
// global layer tables (decode.Register does, on request only).
func TestGopacketTablesUntouched(t *testing.T) {
	if got := layers.EthernetTypeMetadata[layers.EthernetTypeARP].LayerType; got != layers.LayerTypeARP {
		t.Errorf("EtherType ARP decodes as %v; want gopacket's %v", got, layers.LayerTypeARP)
	}
	for proto, want := range map[layers.IPProtocol]gopacket.LayerType{
		layers.IPProtocolVRRP: layers.LayerTypeVRRP, layers.IPProtocolIGMP: layers.LayerTypeIGMP,
	} {
		if got := layers.IPProtocolMetadata[proto].LayerType; got != want {
			t.Errorf("IP protocol %d decodes as %v; want gopacket's %v", proto, got, want)
		}
	}
}
