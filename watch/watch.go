// Package watch runs the analysis engine on a live interface: frames are
// captured through libpcap in immediate mode, fed to the same engine as
// `vrrpctl analyze`, and each event, failover and finding is printed as soon
// as the engine concludes it. The capture filter follows the VIPs the engine
// learns, the host's neighbour table is followed over netlink, and on stop the
// summary includes libpcap's received and dropped counters.
//
// Nothing is concluded here: watch feeds the engine and prints.
package watch

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/gopacket/gopacket"
	"github.com/vrrpctl/vrrpctl/analyze"
	"github.com/vrrpctl/vrrpctl/capture"
	"github.com/vrrpctl/vrrpctl/decode"
	"github.com/vrrpctl/vrrpctl/kaconf"
	"github.com/vrrpctl/vrrpctl/report"
)

// DefaultSnaplen is what watch keeps of each frame unless told otherwise.
// In immediate mode libpcap gives every frame a slot of the snapshot length
// in its ring, so tcpdump's 262144 leaves room for a few frames only: under
// 100 000 frames a second to a VIP, 60% were dropped, adverts among them;
// with 2048 none were. 2048 bytes hold any VRRP advert with up to 500 IPv4
// VIPs and every header the engine reads.
const DefaultSnaplen = 2048

// Config is one watch run.
type Config struct {
	Interface string
	// Filter is the user's BPF expression; it narrows the default filter.
	Filter string
	// Netns names a network namespace (as in /run/netns) to watch inside.
	Netns string
	// Snaplen is how much of each frame is kept; 0 means DefaultSnaplen.
	Snaplen int
	// BufferSize is libpcap's kernel buffer in bytes; 0 leaves libpcap's
	// default (2 MiB).
	BufferSize int
	Promisc    bool
	Count      uint64        // stop after this many frames; 0: no limit
	Duration   time.Duration // stop after this long; 0: no limit
	// WriteFile, when set, receives every captured frame as a pcap file.
	WriteFile string
	// HTML, when set, receives the HTML report of the whole watch when it
	// stops, written with HTMLOptions.
	HTML        string
	HTMLOptions report.HTMLOptions
	JSON        bool
	Report      report.Options
	// Status refreshes a status line in place (terminal output only).
	Status bool
	// StatusEvery is how often the status line is redrawn (default 1 s).
	StatusEvery time.Duration
	// Neighbours follows this host's neighbour table for the VIPs.
	Neighbours bool
	// MetricsAddr serves Prometheus metrics on host:port when set.
	MetricsAddr string
	Configs     []*kaconf.Config

	Out io.Writer // default os.Stdout
	Err io.Writer // default os.Stderr
	// Open opens the capture (default capture.OpenLive).
	Open Opener
}

// Result is what a run ends with.
type Result struct {
	Analysis *analyze.Analysis
	// ReadError is set when the capture failed while running; the analysis
	// covers the frames before.
	ReadError error
}

// Run watches until ctx is done, Count frames were read or Duration passed,
// then prints the summary. An error (a *StartError when the capture could not
// start) means nothing was analyzed.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Out == nil {
		cfg.Out = os.Stdout
	}
	if cfg.Err == nil {
		cfg.Err = os.Stderr
	}
	if cfg.Open == nil {
		cfg.Open = openLive
	}
	if cfg.StatusEvery <= 0 {
		cfg.StatusEvery = time.Second
	}
	if cfg.JSON {
		cfg.Status = false
	}
	if f, ok := cfg.Out.(*os.File); ok && cfg.Status && cfg.Report.Width <= 0 {
		if width, _, err := term.GetSize(f.Fd()); err == nil && width > 0 {
			cfg.Report.Width = width
		}
	}
	if cfg.Snaplen <= 0 {
		cfg.Snaplen = DefaultSnaplen
	}
	src, err := cfg.Open(cfg.Interface, capture.LiveOptions{
		Snaplen: cfg.Snaplen, BufferSize: cfg.BufferSize, Promisc: cfg.Promisc, Netns: cfg.Netns,
		Filter: captureFilter(nil, cfg.Filter),
	})
	if err != nil {
		return nil, &StartError{Err: err}
	}
	defer src.Close()
	where := "interface " + cfg.Interface
	if cfg.Netns != "" {
		where += " in network namespace " + cfg.Netns
	}
	dec, err := decode.NewDecoder(src.LinkType())
	if err != nil {
		return nil, &StartError{where, err}
	}

	w := &watcher{cfg: cfg, src: src, dec: dec, out: &output{w: cfg.Out, json: cfg.JSON, status: cfg.Status, opt: cfg.Report}}
	if cfg.WriteFile != "" {
		f, err := os.Create(cfg.WriteFile)
		if err != nil {
			return nil, &StartError{"-w " + cfg.WriteFile, err}
		}
		defer f.Close()
		pw, err := capture.NewWriter(f, src.LinkType(), cfg.Snaplen)
		if err != nil {
			return nil, &StartError{"-w " + cfg.WriteFile, err}
		}
		w.pcap, w.pcapFile = pw, f
	}
	if cfg.HTML != "" {
		// Made now, so that a path that cannot be written to stops the
		// watch before it begins; written when it stops.
		f, err := os.Create(cfg.HTML)
		if err != nil {
			return nil, &StartError{"--html " + cfg.HTML, err}
		}
		defer f.Close()
		w.htmlFile = f
	}
	if cfg.MetricsAddr != "" {
		m, err := startMetrics(cfg.MetricsAddr)
		if err != nil {
			return nil, &StartError{"--metrics-addr " + cfg.MetricsAddr, err}
		}
		defer m.close()
		w.metrics = m
	}
	w.engine = analyze.NewEngine(analyze.Options{
		File:       cfg.Interface,
		Configs:    cfg.Configs,
		OnEvent:    w.onEvent,
		OnFinding:  w.onFinding,
		OnFailover: w.onFailover,
	})
	if cfg.Neighbours {
		nb, err := followNeighbours(cfg.Interface, cfg.Netns)
		if err != nil {
			fmt.Fprintf(cfg.Err, "vrrpctl: warning: neighbour table of %s not followed: %v\n", where, err)
		} else {
			defer nb.close()
			w.neigh = nb
		}
	}
	return w.run(ctx)
}

// packet is a frame copied out of the capture handle.
type packet struct {
	data []byte
	ci   gopacket.CaptureInfo
}

type watcher struct {
	cfg    Config
	src    Source
	dec    *decode.Decoder
	engine *analyze.Engine
	out    *output

	pcap     *capture.Writer
	pcapFile *os.File
	htmlFile *os.File
	metrics  *metrics
	neigh    *neighbours

	vips      vipSet
	neighLast map[netip.Addr]neighbourEntry
	frames    uint64
	readErr   error
	outErr    error
}

func (w *watcher) run(ctx context.Context) (*Result, error) {
	if w.cfg.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, w.cfg.Duration)
		defer cancel()
	}
	pkts := make(chan packet, 4096)
	readErr := make(chan error, 1)
	done := make(chan struct{})
	// The reader copies each frame before the next call to Next: the data
	// Next returns stays valid until then, even across Close.
	go func() {
		defer close(pkts)
		for {
			data, ci, err := w.src.Next()
			if err != nil {
				if err != io.EOF {
					readErr <- err
				}
				return
			}
			p := packet{data: append([]byte(nil), data...), ci: ci}
			select {
			case pkts <- p:
			case <-done:
				return
			}
		}
	}()
	// stopReader closes the capture (Next then returns io.EOF) and waits for
	// the reader; the statistics must be read before.
	stopped := false
	stopReader := func() {
		if stopped {
			return
		}
		stopped = true
		close(done)
		w.src.Close()
		for range pkts {
		}
	}
	defer stopReader()

	tick := time.NewTicker(w.cfg.StatusEvery)
	defer tick.Stop()
	// Silence timers: the engine checks them every 20 ms of capture time,
	// and this keeps them running when no frame arrives.
	advance := time.NewTicker(50 * time.Millisecond)
	defer advance.Stop()
	var neighC <-chan neighbourEntry
	if w.neigh != nil {
		neighC = w.neigh.updates
	}
	w.refresh(time.Now())
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case p, ok := <-pkts:
			if !ok {
				select {
				case err := <-readErr:
					w.readErr = err
				default:
				}
				break loop
			}
			w.frame(p)
			if w.cfg.Count > 0 && w.frames >= w.cfg.Count {
				break loop
			}
		case <-advance.C:
			w.engine.Advance(time.Now())
		case <-tick.C:
			w.refresh(time.Now())
		case n := <-neighC:
			w.neighbour(n)
		}
	}
	return w.finish(stopReader)
}

// frame decodes one frame, writes it to the -w file and feeds the engine.
func (w *watcher) frame(p packet) {
	w.frames++
	if w.pcap != nil {
		if err := w.pcap.WritePacket(p.ci, p.data); err != nil && w.outErr == nil {
			w.outErr = fmt.Errorf("-w %s: %w", w.cfg.WriteFile, err)
			fmt.Fprintf(w.cfg.Err, "vrrpctl: %v: no longer writing\n", w.outErr)
			w.pcap = nil
		}
	}
	var f decode.Frame
	if err := w.dec.Decode(p.data, p.ci, w.frames, &f); err != nil {
		w.engine.DecodeError(w.frames, p.ci.Timestamp, err)
		return
	}
	w.engine.Feed(&f)
	if f.Kind == decode.KindVRRP {
		w.learned()
	}
}

// learned widens the capture filter when the engine knows new VIPs.
func (w *watcher) learned() {
	var added []netip.Addr
	for _, g := range w.engine.Groups() {
		added = append(added, w.vips.add(g.VIPs)...)
	}
	if len(added) == 0 {
		return
	}
	if err := w.src.SetFilter(captureFilter(w.vips.addrs, w.cfg.Filter)); err != nil {
		fmt.Fprintf(w.cfg.Err, "vrrpctl: warning: could not widen the capture filter to the VIPs: %v\n", err)
	}
	w.newVIPs(added)
}

// refresh redraws the status line, updates the metrics and flushes the -w file.
func (w *watcher) refresh(now time.Time) {
	groups := w.engine.Groups()
	if w.out.status {
		w.out.setStatus(statusLine(groups, now, w.cfg.Report))
	}
	if w.metrics != nil {
		recv, drop, err := w.src.Stats()
		w.metrics.update(groups, w.engine.Live(now), w.frames, recv, drop, err == nil)
		w.metrics.evicted(w.engine.Evictions())
	}
	if w.pcap != nil {
		if err := w.pcap.Flush(); err != nil && w.outErr == nil {
			w.outErr = fmt.Errorf("-w %s: %w", w.cfg.WriteFile, err)
			fmt.Fprintf(w.cfg.Err, "vrrpctl: %v: no longer writing\n", w.outErr)
			w.pcap = nil
		}
	}
}

func (w *watcher) onEvent(ev analyze.Event) {
	w.print(report.KindEvent, ev, func() string {
		if ev.Kind == "failover" {
			return "" // the failover line says it all
		}
		return report.EventLine(ev, time.Time{}, w.cfg.Report)
	})
}

func (w *watcher) onFinding(f analyze.Finding) {
	if w.metrics != nil {
		w.metrics.finding(f)
	}
	w.print(report.KindFinding, f, func() string { return report.FindingLine(f, time.Time{}, w.cfg.Report) })
}

func (w *watcher) onFailover(fo analyze.Failover) {
	if w.metrics != nil {
		w.metrics.failover(fo)
	}
	w.print(report.KindFailover, fo, func() string { return report.FailoverLine(fo, time.Time{}, w.cfg.Report) })
}

func (w *watcher) print(kind string, v any, text func() string) {
	var err error
	if w.cfg.JSON {
		err = w.out.ndjson(kind, v)
	} else if line := text(); line != "" {
		err = w.out.line(line)
	}
	if err != nil && w.outErr == nil {
		w.outErr = err
	}
}

// finish closes the capture, completes the analysis with libpcap's counters
// and prints the summary.
func (w *watcher) finish(stopReader func()) (*Result, error) {
	recv, drop, serr := w.src.Stats()
	stopReader()
	w.engine.Advance(time.Now())
	a := w.engine.Finish()
	if serr == nil {
		a.Source.Received, a.Source.Dropped = &recv, &drop
		if drop > 0 {
			a.Notes = append(a.Notes, fmt.Sprintf("libpcap dropped %d of %d frames matching the capture filter (the kernel buffer overflowed): gaps in the adverts may be capture loss, not the routers.", drop, recv))
		}
	}
	if w.readErr != nil {
		a.Source.Damaged = true
		a.Source.ReadError = w.readErr.Error()
		a.Notes = append(a.Notes, fmt.Sprintf("The capture stopped early: %v. The analysis covers the %d frame(s) before.", w.readErr, w.frames))
	}
	if w.metrics != nil {
		w.metrics.update(a.Groups, w.engine.Live(time.Time{}), w.frames, recv, drop, serr == nil)
		w.metrics.evicted(w.engine.Evictions())
	}
	if w.pcap != nil {
		if err := w.pcap.Flush(); err != nil && w.outErr == nil {
			w.outErr = fmt.Errorf("-w %s: %w", w.cfg.WriteFile, err)
		}
		if err := w.pcapFile.Sync(); err != nil && w.outErr == nil {
			w.outErr = fmt.Errorf("-w %s: %w", w.cfg.WriteFile, err)
		}
	}
	w.out.clearStatus()
	var err error
	if w.cfg.JSON {
		err = w.out.ndjson(report.KindSummary, a)
	} else {
		err = report.Text(w.out.w, a, w.cfg.Report)
	}
	if err == nil {
		err = w.outErr
	}
	if w.htmlFile != nil {
		herr := report.HTML(w.htmlFile, a, w.cfg.HTMLOptions)
		if herr == nil {
			herr = w.htmlFile.Close()
		}
		if herr != nil && err == nil {
			err = fmt.Errorf("--html %s: %w", w.cfg.HTML, herr)
		}
	}
	if err != nil {
		return &Result{Analysis: a, ReadError: w.readErr}, err
	}
	return &Result{Analysis: a, ReadError: w.readErr}, nil
}

// neighbour passes a change of this host's neighbour table for a VIP to the
// engine, and prints it. Entries for addresses not (yet) known as VIPs are
// kept, so a VIP learned later starts from what the table holds.
func (w *watcher) neighbour(n neighbourEntry) {
	if w.neighLast == nil {
		w.neighLast = make(map[netip.Addr]neighbourEntry)
	}
	prev, had := w.neighLast[n.IP]
	w.neighLast[n.IP] = n
	if !w.vips.has(n.IP) {
		return
	}
	if had && prev.MAC == n.MAC && prev.State == n.State {
		return
	}
	w.feedNeighbour(n)
}

func (w *watcher) feedNeighbour(n neighbourEntry) {
	w.engine.NeighbourEntry(n.IP, n.MAC, n.State, n.Time)
	if !w.cfg.JSON {
		if err := w.out.line(neighbourLine(n, w.cfg.Report)); err != nil && w.outErr == nil {
			w.outErr = err
		}
	}
}

// newVIPs feeds the neighbour entries already held for VIPs just learned.
func (w *watcher) newVIPs(added []netip.Addr) {
	for _, a := range added {
		if n, ok := w.neighLast[a]; ok {
			w.feedNeighbour(n)
		}
	}
}
