package capture

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"testing"
)

// FuzzOpenReader feeds arbitrary bytes to the reader: it must never panic,
// every error must be an *Error, and frames must respect the limits.
func FuzzOpenReader(f *testing.F) {
	for _, name := range referenceCaptures {
		b, err := os.ReadFile(refPath(name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[:min(len(b), 4096)], false)
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(b[:min(len(b), 2048)])
		zw.Close()
		f.Add(z.Bytes(), true)
	}
	for _, tc := range hostileCases() {
		f.Add(tc.file, false)
	}
	f.Fuzz(func(t *testing.T, data []byte, filtered bool) {
		filter := ""
		if filtered {
			filter = "vrrp or arp"
		}
		r, err := OpenReader("fuzz", bytes.NewReader(data), filter)
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) || !ce.Unusable() {
				t.Fatalf("OpenReader: %v (%T), want an unusable *Error", err, err)
			}
			return
		}
		var last uint64
		for {
			frame, ci, err := r.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				var ce *Error
				if !errors.As(err, &ce) {
					t.Fatalf("Next: %v (%T), want an *Error", err, err)
				}
				if ce.Frame != r.Stats().Read+1 {
					t.Fatalf("error at frame %d after reading %d", ce.Frame, r.Stats().Read)
				}
				return
			}
			if len(frame) > MaxFrameSize || len(frame) != ci.CaptureLength || ci.CaptureLength > ci.Length {
				t.Fatalf("frame %d: %d bytes, CaptureLength %d, Length %d", r.Frame(), len(frame), ci.CaptureLength, ci.Length)
			}
			if r.Frame() <= last {
				t.Fatalf("frame number %d after %d", r.Frame(), last)
			}
			last = r.Frame()
		}
	})
}
