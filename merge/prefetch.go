package merge

import (
	"errors"
	"io"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/vrrpctl/vrrpctl/capture"
)

// The merged pass reads each capture (and runs its filter) in a goroutine
// of its own, a few batches ahead of the merge: reading and filtering is
// most of the work, and the captures are independent.
const (
	batchBytes   = 128 << 10 // frame bytes in a batch (one frame may overrun it)
	batchFrames  = 1024
	batchesAhead = 3 // per capture: one being merged, one ready, one being read
)

type batchFrame struct {
	start, end int // in the batch's buf
	ci         gopacket.CaptureInfo
	lt         layers.LinkType
	frame      uint64
}

type batch struct {
	frames []batchFrame
	buf    []byte
	last   bool  // the capture ends after this batch
	err    error // why, if not at its clean end
}

// prefetcher reads one capture ahead of the merge.
type prefetcher struct {
	f     *capture.File
	full  chan *batch
	empty chan *batch
	quit  chan struct{}
	done  chan struct{}

	cur *batch // being merged
	i   int    // its next frame
}

func newPrefetcher(f *capture.File) *prefetcher {
	p := &prefetcher{
		f:     f,
		full:  make(chan *batch, batchesAhead),
		empty: make(chan *batch, batchesAhead),
		quit:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	for range batchesAhead {
		p.empty <- &batch{buf: make([]byte, 0, batchBytes+capture.MaxFrameSize)}
	}
	go p.run()
	return p
}

func (p *prefetcher) run() {
	defer close(p.done)
	for {
		var b *batch
		select {
		case b = <-p.empty:
		case <-p.quit:
			return
		}
		b.frames, b.buf, b.last, b.err = b.frames[:0], b.buf[:0], false, nil
		for len(b.frames) < batchFrames && len(b.buf) < batchBytes {
			data, ci, err := p.f.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					b.err = err
				}
				b.last = true
				break
			}
			start := len(b.buf)
			b.buf = append(b.buf, data...)
			b.frames = append(b.frames, batchFrame{start, len(b.buf), ci, p.f.FrameLinkType(), p.f.Frame()})
		}
		select {
		case p.full <- b:
		case <-p.quit:
			return
		}
		if b.last {
			return
		}
	}
}

// next returns the capture's next frame, valid until the call after; err
// is io.EOF at its clean end.
func (p *prefetcher) next() (data []byte, fr *batchFrame, err error) {
	for p.cur == nil || p.i == len(p.cur.frames) {
		if p.cur != nil {
			if p.cur.last {
				if p.cur.err != nil {
					return nil, nil, p.cur.err
				}
				return nil, nil, io.EOF
			}
			p.empty <- p.cur
		}
		p.cur, p.i = <-p.full, 0
	}
	fr = &p.cur.frames[p.i]
	p.i++
	return p.cur.buf[fr.start:fr.end:fr.end], fr, nil
}

// stop ends the goroutine and waits for it; the file stays open.
func (p *prefetcher) stop() {
	close(p.quit)
	<-p.done
}
