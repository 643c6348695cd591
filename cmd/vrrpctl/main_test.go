package main

import (
	"errors"
	"testing"

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
