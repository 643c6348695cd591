// Package merge reads several captures of one incident, taken at different
// places (both routers, a client, SPAN ports), as one: it brings their
// clocks onto one reference clock from the frames they share, matched by
// their bytes and never by their times, and merges them in time order,
// streaming, each frame seen at several places coming once with every
// place and time it was seen.
//
// Open makes two passes over each file. The first keeps a bounded sample
// of the frames seen all over a segment (multicast and broadcast: VRRP
// adverts, IGMP and MLD reports, ARP), known by their network-layer bytes
// so that Ethernet and Linux cooked copies of one frame match, and
// estimates each capture's clock offset (and drift) against the
// reference. The second is a k-way merge of the files through the filter,
// with a small window in which copies of one frame are folded together.
// Memory is bounded whatever the length of the files.
package merge

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/vrrpctl/vrrpctl/analyze"
	"github.com/vrrpctl/vrrpctl/capture"
)

// Input is one capture of an incident.
type Input struct {
	// Name is the vantage point's name; empty: inferred from the file.
	// NAME@ADDR names it and says the capture was taken on the host at
	// ADDR (which conclusions about a router's or a client's own capture
	// need); a name that is an address says so too.
	Name string
	Path string // the capture file (pcap or pcapng, gzip-compressed or not)
}

// nameAndHost splits NAME@ADDR; a NAME that is an address is its host.
func (in Input) nameAndHost() (string, netip.Addr) {
	if name, addr, ok := strings.Cut(in.Name, "@"); ok {
		if a, err := netip.ParseAddr(addr); err == nil {
			return name, a
		}
	}
	if a, err := netip.ParseAddr(in.Name); err == nil {
		return in.Name, a
	}
	return in.Name, netip.Addr{}
}

// Options configure Open.
type Options struct {
	// Filter is a tcpdump expression applied to every capture in the
	// merged pass (frame numbers stay those of the whole files). The
	// clocks are aligned on every frame, filtered or not.
	Filter string
	// Window is how close in reference time copies of one frame (the same
	// network-layer bytes) seen at several vantage points must be to be
	// one frame; 0 chooses it from the alignment's residual errors
	// (DefaultWindow at least).
	Window time.Duration
	// MaxOffset is the largest clock offset accepted; 0 means
	// DefaultMaxOffset. Frames in common that would put a capture's clock
	// further off are the same broadcasts on another day.
	MaxOffset time.Duration
	// Candidates bounds the frames the first pass keeps of each capture
	// and class (VRRP/IGMP/MLD, other multicast and broadcast); 0 means
	// DefaultCandidates.
	Candidates int
}

const (
	// DefaultWindow is the least window for folding copies of a frame.
	DefaultWindow = 2 * time.Millisecond
	// maxWindow bounds the window chosen from residual errors.
	maxWindow = 100 * time.Millisecond
	// DefaultCandidates is the per-class bound of the first pass: 16 bytes
	// a frame (and a map entry), about 3 MiB a capture in all.
	DefaultCandidates = 1 << 15
	// DefaultMaxOffset: clocks a day off are still aligned.
	DefaultMaxOffset = 24 * time.Hour
	// maxSameKey bounds the pending copies of one frame searched for one
	// a capture has not seen yet: a storm of identical frames is then not
	// folded, but costs no more than that a frame.
	maxSameKey = 64
	// MaxInputs is the most captures merged at once.
	MaxInputs = 64
)

// ErrStdin is returned when standard input is one of several captures:
// each file is read twice (once for the clocks), which a pipe cannot be.
var ErrStdin = errors.New("standard input (-) cannot be one of several captures: each is read twice, once to align the clocks; save it to a file first")

// Merged is several captures read as one, in reference time. It
// implements analyze.MergedSource. It is not safe for concurrent use.
type Merged struct {
	vantages  []analyze.Vantage
	unaligned []Unaligned
	notes     []string
	window    int64

	readers []*reader // aligned captures still being read, a heap on their next frame's time
	all     []*reader

	pending pendingHeap       // events that may still gain sightings
	byKey   map[uint64]*event // pending events of a key, oldest first
	seq     uint64
	out     *event // returned by the last Next
	free    []*event
}

// Unaligned is a capture that shares no frame (or too few) with the
// reference: it is not merged, and is analyzed on its own.
type Unaligned struct {
	Index   int // into Vantages
	Vantage analyze.Vantage
	Reason  string // "shares no frame with here: another segment, or another time"
	path    string
	filter  string
}

// Open opens the capture again as an ordinary file, with the filter.
func (u Unaligned) Open() (*capture.File, error) { return capture.OpenFile(u.path, u.filter) }

// reader is one aligned capture in the merged pass.
type reader struct {
	v     int
	bit   uint64
	f     *capture.File
	p     *prefetcher
	m     model
	data  []byte // the next frame, valid until f.Next
	ci    gopacket.CaptureInfo
	t     int64 // its time on the reference clock
	lt    layers.LinkType
	frame uint64
}

// Open reads every capture once to align their clocks, and opens the
// aligned ones for the merged pass. An input that cannot be read at all is
// an error naming it (a *capture.Error); one damaged part way is read up
// to the damage and marked in its Vantage.
func Open(inputs []Input, opt Options) (*Merged, error) {
	switch n := len(inputs); {
	case n == 0:
		return nil, errors.New("merge: no capture")
	case n > MaxInputs:
		return nil, fmt.Errorf("merge: %d captures: at most %d can be merged", n, MaxInputs)
	}
	given := map[string]bool{}
	for _, in := range inputs {
		if in.Path == "-" && len(inputs) > 1 {
			return nil, ErrStdin
		}
		if in.Name != "" {
			if given[in.Name] {
				return nil, fmt.Errorf("merge: two captures named %q", in.Name)
			}
			given[in.Name] = true
		}
	}
	if opt.MaxOffset <= 0 {
		opt.MaxOffset = DefaultMaxOffset
	}
	if opt.Candidates <= 0 {
		opt.Candidates = DefaultCandidates
	}
	// The headers and the filter first: a bad one fails at once, not
	// after the others were read.
	for _, in := range inputs {
		f, err := capture.OpenFile(in.Path, opt.Filter)
		if err != nil {
			return nil, err
		}
		f.Close()
	}
	scans, err := scanAll(inputs, opt.Candidates)
	if err != nil {
		return nil, err
	}

	own := ownHosts(scans)
	cands := make([][]naming, len(inputs))
	paths := make([]string, len(inputs))
	for i, in := range inputs {
		cands[i] = candidateNames(in, scans[i], own[i])
		paths[i] = in.Path
	}
	names := nameAll(cands, paths)
	nameList := make([]string, len(names))
	for i, n := range names {
		nameList[i] = n.name
	}
	p := makePlan(scans, nameList, opt.MaxOffset)

	m := &Merged{byKey: make(map[uint64]*event)}
	maxErr := 0.0
	for i, in := range inputs {
		s := scans[i]
		v := analyze.Vantage{
			Name:      names[i].name,
			Inferred:  names[i].inferred,
			File:      in.Path,
			LinkType:  linkTypeNames(s.linkTypes),
			Frames:    s.frames,
			Reference: i == p.ref,
			Aligned:   p.aligned[i],
		}
		if _, a := in.nameAndHost(); a.IsValid() {
			v.Host = a.String()
		} else if a, ok := hostOf(s, own[i]); ok {
			v.Host = a.String()
		}
		if s.err != nil {
			v.Damaged, v.ReadError = true, s.err.Error()
		}
		if p.aligned[i] && i != p.ref {
			v.OffsetMS = round3(p.models[i].offset / 1e6)
			v.DriftPPM = round3(p.models[i].drift * 1e6)
			v.ErrorMS = round3(p.errNS[i] / 1e6)
			v.Matched = p.matched[i]
			maxErr = max(maxErr, p.errNS[i])
			if u := p.via[i]; u >= 0 {
				m.notes = append(m.notes, fmt.Sprintf("%s shares no frame with the reference %s: its clock was aligned through %s (the errors add up).",
					names[i].name, names[p.ref].name, names[u].name))
			}
		}
		m.vantages = append(m.vantages, v)
	}
	for i, in := range inputs {
		if !p.aligned[i] {
			m.unaligned = append(m.unaligned, Unaligned{Index: i, Vantage: m.vantages[i], Reason: p.reasons[i], path: in.Path, filter: opt.Filter})
			m.notes = append(m.notes, fmt.Sprintf("%s (%s) was not aligned: it %s. It is analyzed on its own.", names[i].name, in.Path, p.reasons[i]))
		}
	}
	m.window = int64(opt.Window)
	if m.window <= 0 {
		m.window = min(max(int64(DefaultWindow), int64(4*maxErr)), int64(maxWindow))
	}
	if len(inputs)-len(m.unaligned) > 1 {
		m.notes = append(m.notes, fmt.Sprintf("Clocks aligned on %s's; copies of a frame (the same bytes from the IP or ARP header on) seen within %s of each other at several places are one frame.",
			names[p.ref].name, time.Duration(m.window)))
	}

	for i, in := range inputs {
		if !p.aligned[i] {
			continue
		}
		f, err := capture.OpenFile(in.Path, opt.Filter)
		if err != nil {
			m.Close()
			return nil, err
		}
		r := &reader{v: i, bit: 1 << i, f: f, m: p.models[i], p: newPrefetcher(f)}
		m.all = append(m.all, r)
		if m.advance(r) {
			m.readers = append(m.readers, r)
		}
	}
	m.initReaders()
	return m, nil
}

func round3(v float64) float64 {
	const k = 1e3
	if v < 0 {
		return -float64(int64(-v*k+0.5)) / k
	}
	return float64(int64(v*k+0.5)) / k
}

// scanAll runs the first pass over every capture, as many at once as there
// are processors.
func scanAll(inputs []Input, limit int) ([]*scan, error) {
	scans := make([]*scan, len(inputs))
	errs := make([]error, len(inputs))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, in := range inputs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			scans[i], errs[i] = scanFile(in.Path, limit)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return scans, nil
}

// Vantages describes every capture, in the order given; Sighting.Vantage
// indexes it.
func (m *Merged) Vantages() []analyze.Vantage { return slices.Clone(m.vantages) }

// Unaligned lists the captures not merged, to be analyzed each on its own.
func (m *Merged) Unaligned() []Unaligned { return slices.Clone(m.unaligned) }

// Notes says what the merge did that limits the conclusions: captures
// aligned through others, captures not aligned, the folding window.
func (m *Merged) Notes() []string { return slices.Clone(m.notes) }

// Window is how close copies of a frame must be to be one.
func (m *Merged) Window() time.Duration { return time.Duration(m.window) }

// Close closes every file.
func (m *Merged) Close() error {
	var first error
	for _, r := range m.all {
		r.p.stop()
		if err := r.f.Close(); err != nil && first == nil {
			first = err
		}
	}
	m.all, m.readers = nil, nil
	return first
}

// FrameLinkType is the link type of the copy Next returned last.
func (m *Merged) FrameLinkType() layers.LinkType {
	if m.out == nil {
		return 0
	}
	return m.out.lt
}

// advance reads r's next frame; false at its end. A capture damaged part
// way ends there: its Vantage says so, the others go on.
func (m *Merged) advance(r *reader) bool {
	data, fr, err := r.p.next()
	if err != nil {
		if !errors.Is(err, io.EOF) {
			v := &m.vantages[r.v]
			if !v.Damaged {
				v.Damaged, v.ReadError = true, err.Error()
			}
		}
		return false
	}
	r.data, r.ci, r.lt, r.frame = data, fr.ci, fr.lt, fr.frame
	r.t = r.m.apply(fr.ci.Timestamp.UnixNano())
	return true
}

// Next returns the next frame in reference time. data and seen are valid
// until the next call.
func (m *Merged) Next() (data []byte, ci gopacket.CaptureInfo, seen []analyze.Sighting, err error) {
	if m.out != nil {
		m.free = append(m.free, m.out)
		m.out = nil
	}
	for {
		// The earliest pending frame is final once no capture can still
		// have a copy of it: when the next frame of every one is later
		// than it by more than the window.
		if len(m.pending) > 0 && (len(m.readers) == 0 || m.pending[0].t+m.window < m.readers[0].t) {
			ev := m.pending.pop()
			m.unlink(ev)
			m.out = ev
			return ev.data, ev.ci, ev.seen, nil
		}
		if len(m.readers) == 0 {
			return nil, gopacket.CaptureInfo{}, nil, io.EOF
		}
		r := m.readers[0]
		m.sight(r)
		if m.advance(r) {
			m.fixReaders()
		} else {
			m.popReader()
		}
	}
}

// sight adds r's current frame: to a pending copy of it from another
// capture, or as a new frame.
func (m *Merged) sight(r *reader) {
	fr := parse(r.lt, r.data)
	k, _ := fr.key(r.lt, r.data)
	s := analyze.Sighting{Vantage: r.v, Frame: r.frame, Time: time.Unix(0, r.t)}
	walked := 0
	for ev := m.byKey[k]; ev != nil && walked < maxSameKey; ev, walked = ev.next, walked+1 {
		if ev.mask&r.bit != 0 || abs(ev.t-r.t) > m.window || !ev.same(&fr, r.data) {
			continue
		}
		ev.mask |= r.bit
		if r.t < ev.t { // a capture whose frames go back in time: this copy is the earliest
			ev.seen = slices.Insert(ev.seen, 0, s)
			ev.set(r)
			m.pending.fix(ev)
		} else {
			i := len(ev.seen)
			for i > 0 && ev.seen[i-1].Time.After(s.Time) {
				i--
			}
			ev.seen = slices.Insert(ev.seen, i, s)
		}
		return
	}
	var ev *event
	if n := len(m.free); n > 0 {
		ev, m.free = m.free[n-1], m.free[:n-1]
	} else {
		ev = &event{}
	}
	ev.key, ev.mask, ev.next = k, r.bit, nil
	ev.seen = append(ev.seen[:0], s)
	ev.set(r)
	m.seq++
	ev.seq = m.seq
	m.pending.push(ev)
	if head := m.byKey[k]; head == nil {
		m.byKey[k] = ev
	} else {
		for head.next != nil {
			head = head.next
		}
		head.next = ev
	}
}

// unlink removes an event leaving the window from its key's list.
func (m *Merged) unlink(ev *event) {
	head := m.byKey[ev.key]
	if head == ev {
		if ev.next == nil {
			delete(m.byKey, ev.key)
		} else {
			m.byKey[ev.key] = ev.next
		}
	} else {
		for p := head; p != nil; p = p.next {
			if p.next == ev {
				p.next = ev.next
				break
			}
		}
	}
	ev.next = nil
}

// The readers heap, on the time of each one's next frame (the capture
// given first among equals).

func (m *Merged) readerLess(i, j int) bool {
	a, b := m.readers[i], m.readers[j]
	return a.t < b.t || a.t == b.t && a.v < b.v
}

func (m *Merged) initReaders() {
	for i := len(m.readers)/2 - 1; i >= 0; i-- {
		m.downReader(i)
	}
}

func (m *Merged) fixReaders() { m.downReader(0) }

func (m *Merged) popReader() {
	n := len(m.readers) - 1
	m.readers[0] = m.readers[n]
	m.readers = m.readers[:n]
	if n > 0 {
		m.downReader(0)
	}
}

func (m *Merged) downReader(i int) {
	n := len(m.readers)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		c := l
		if r := l + 1; r < n && m.readerLess(r, l) {
			c = r
		}
		if !m.readerLess(c, i) {
			return
		}
		m.readers[i], m.readers[c] = m.readers[c], m.readers[i]
		i = c
	}
}
