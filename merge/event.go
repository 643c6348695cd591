package merge

import (
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/vrrpctl/vrrpctl/analyze"
)

// event is one frame of the merged stream, with every place it was seen.
type event struct {
	t    int64 // reference time of its earliest copy
	seq  uint64
	key  uint64
	mask uint64 // the captures that saw it
	data []byte // the earliest copy, owned
	fr   frame  // parsed from data
	ci   gopacket.CaptureInfo
	lt   layers.LinkType
	seen []analyze.Sighting
	next *event // the next pending event of the same key
	idx  int    // in the pending heap
}

// set makes r's frame the copy the event returns.
func (ev *event) set(r *reader) {
	ev.t = r.t
	ev.data = append(ev.data[:0], r.data...)
	ev.fr = parse(r.lt, ev.data)
	ev.lt = r.lt
	ev.ci = r.ci
	ev.ci.Timestamp = ev.seen[0].Time
	ev.ci.CaptureLength = len(ev.data)
}

// same reports whether a frame is a copy of the event's.
func (ev *event) same(fr *frame, data []byte) bool {
	if fr.etype == 0 || ev.fr.etype == 0 {
		return fr.etype == ev.fr.etype && string(data) == string(ev.data)
	}
	return sameNet(&ev.fr, fr)
}

// pendingHeap orders the pending events by time (then arrival).
type pendingHeap []*event

func (h pendingHeap) less(i, j int) bool {
	return h[i].t < h[j].t || h[i].t == h[j].t && h[i].seq < h[j].seq
}

func (h pendingHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx, h[j].idx = i, j
}

func (h *pendingHeap) push(ev *event) {
	ev.idx = len(*h)
	*h = append(*h, ev)
	h.up(ev.idx)
}

func (h *pendingHeap) pop() *event {
	old := *h
	n := len(old) - 1
	old.swap(0, n)
	ev := old[n]
	old[n] = nil
	*h = old[:n]
	h.down(0)
	return ev
}

func (h pendingHeap) fix(ev *event) {
	h.up(ev.idx)
	h.down(ev.idx)
}

func (h pendingHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			return
		}
		h.swap(i, p)
		i = p
	}
}

func (h pendingHeap) down(i int) {
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		c := l
		if r := l + 1; r < n && h.less(r, l) {
			c = r
		}
		if !h.less(c, i) {
			return
		}
		h.swap(i, c)
		i = c
	}
}
