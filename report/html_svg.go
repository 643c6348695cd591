package report

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vrrpctl/vrrpctl/analyze"
)

// The SVG of the HTML report: the mastership strips and the ladder views.
// Coordinates are CSS pixels; classes carry the colours (html.css), so the
// page follows the light or dark scheme and prints in black on white.

// Geometry of a ladder view.
const (
	svgTimeW    = 92.0  // the time column
	svgTextW    = 600.0 // the text column right of the lanes
	svgTextMax  = 82    // runes of a line of the text column
	svgRowH     = 15.0  // one line of the text column
	svgMaxPush  = 90.0  // how far a line may be pushed below its time before lines fold
	svgTopPad   = 14.0
	svgBreakH   = 34.0 // an axis break
	svgOverview = 1100.0
	svgCloseUp  = 640.0
)

// px formats a coordinate.
func px(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

// vscale maps time to y: linear, with breaks where nothing happens for a
// long while (the whole capture's view only).
type vscale struct {
	lo, hi time.Time
	segs   []vseg
	bottom float64
}

type vseg struct {
	t0, t1 time.Time
	y0, y1 float64
	brk    bool
}

// newScale lays out [lo, hi] from top: pps pixels a second, and gaps
// between the times in marks longer than breakAfter (0: none) compressed
// into breaks.
func newScale(lo, hi time.Time, top, pps float64, marks []time.Time, breakAfter time.Duration) *vscale {
	s := &vscale{lo: lo, hi: hi}
	ts := []time.Time{lo, hi}
	for _, t := range marks {
		if !t.Before(lo) && !t.After(hi) {
			ts = append(ts, t)
		}
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	y := top
	lin := func(a, b time.Time) {
		if !b.After(a) {
			return
		}
		h := b.Sub(a).Seconds() * pps
		s.segs = append(s.segs, vseg{t0: a, t1: b, y0: y, y1: y + h})
		y += h
	}
	for i := 1; i < len(ts); i++ {
		a, b := ts[i-1], ts[i]
		if breakAfter > 0 && b.Sub(a) > breakAfter {
			lead := breakAfter / 4
			lin(a, a.Add(lead))
			s.segs = append(s.segs, vseg{t0: a.Add(lead), t1: b.Add(-lead), y0: y, y1: y + svgBreakH, brk: true})
			y += svgBreakH
			lin(b.Add(-lead), b)
			continue
		}
		lin(a, b)
	}
	if len(s.segs) == 0 {
		s.segs = append(s.segs, vseg{t0: lo, t1: hi, y0: top, y1: top})
	}
	s.bottom = y
	return s
}

// linearPPS is the pixels a second that make the linear part of [lo, hi]
// about target pixels high, breaks left out.
func linearPPS(lo, hi time.Time, marks []time.Time, breakAfter time.Duration, target float64) float64 {
	ts := []time.Time{lo, hi}
	for _, t := range marks {
		if !t.Before(lo) && !t.After(hi) {
			ts = append(ts, t)
		}
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	var lin time.Duration
	for i := 1; i < len(ts); i++ {
		d := ts[i].Sub(ts[i-1])
		if breakAfter > 0 && d > breakAfter {
			d = breakAfter / 2
		}
		lin += d
	}
	if lin <= 0 {
		return 100
	}
	return math.Min(math.Max(target/lin.Seconds(), 0.01), 2e6)
}

func (s *vscale) y(t time.Time) float64 {
	if t.Before(s.lo) {
		t = s.lo
	}
	if t.After(s.hi) {
		t = s.hi
	}
	for _, g := range s.segs {
		if t.After(g.t1) {
			continue
		}
		span := g.t1.Sub(g.t0)
		if span <= 0 {
			return g.y0
		}
		return g.y0 + (g.y1-g.y0)*float64(t.Sub(g.t0))/float64(span)
	}
	return s.bottom
}

// json describes the scale for the script: [t0, t1, y0, y1] a segment,
// times in ms from start.
func (s *vscale) json(start time.Time) string {
	parts := make([]string, len(s.segs))
	for i, g := range s.segs {
		parts[i] = fmt.Sprintf("[%s,%s,%s,%s]", strconv.FormatFloat(ms(g.t0.Sub(start)), 'f', 3, 64),
			strconv.FormatFloat(ms(g.t1.Sub(start)), 'f', 3, 64), px(g.y0), px(g.y1))
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// niceStep is the tick step for pps pixels a second: ticks at least
// minPx apart.
func niceStep(pps, minPx float64) time.Duration {
	for _, s := range []time.Duration{
		100 * time.Microsecond, 200 * time.Microsecond, 500 * time.Microsecond,
		time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond,
		50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond,
		time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
		time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour,
	} {
		if s.Seconds()*pps >= minPx {
			return s
		}
	}
	return 2 * time.Hour
}

// fmtTick labels a tick: an offset from ref in the step's unit.
func fmtTick(d, step time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case step < time.Millisecond:
		return fmt.Sprintf("%+.1f ms", ms(d))
	case step < time.Second:
		return fmt.Sprintf("%+.0f ms", ms(d))
	case step < time.Minute:
		return fmt.Sprintf("%+.0f s", d.Seconds())
	}
	return fmt.Sprintf("%+.0f min", d.Minutes())
}

// fmtAt labels a time in the text column: from the capture's start in the
// whole view, from the takeover in a close-up.
func fmtAt(t, ref time.Time, closeUp bool) string {
	if !closeUp {
		return relTime(t, ref)
	}
	return fmtOffset(t.Sub(ref))
}

// failoverWindow is the close-up of a failover: from a little before the
// old master's last advert to a little after the new master's first, long
// enough for the clients' switch (up to 2 s).
func (l *ladder) failoverWindow(fo analyze.Failover) (lo, hi time.Time) {
	start, end := l.takeoverSpan(fo)
	pad := max(end.Sub(start)/4, 100*time.Millisecond)
	after := pad
	for _, c := range fo.Clients {
		for _, v := range []*float64{c.SwitchMS, c.AnswerMS} {
			if v != nil {
				after = max(after, min(msDur(*v), 2*time.Second)+pad/2)
			}
		}
	}
	if fo.GarpMS != nil {
		after = max(after, msDur(*fo.GarpMS)+pad/2)
	}
	return start.Add(-pad), fo.Time.Add(after)
}

// splitWindow is the close-up of a split brain.
func splitWindow(sb analyze.SplitBrain) (lo, hi time.Time) {
	pad := max(sb.End.Sub(sb.Start)/10, 200*time.Millisecond)
	return sb.Start.Add(-pad), sb.End.Add(pad)
}

// view is one diagram of the page: the whole capture or a close-up.
type view struct {
	id, tab, title string
	lo, hi, ref    time.Time
	closeUp        bool
	fo, sb         int
}

func (p *page) views() []view {
	l := p.l
	vs := []view{{id: "view-overview", tab: "Whole capture", title: "The whole capture", lo: l.start, hi: l.end, ref: l.start, fo: -1, sb: -1}}
	n := 0
	for i, fo := range p.a.Failovers {
		if n == maxCloseUps {
			break
		}
		lo, hi := l.failoverWindow(fo)
		vs = append(vs, view{id: foViewID(i), tab: fmt.Sprintf("Failover %d", i+1),
			title: fmt.Sprintf("Failover %d, %s → %s (%s): times from the new master's first advert, frame %d at %s",
				i+1, endpoint(fo.From), endpoint(fo.To), clean(fo.Cause), fo.Frame, relTime(fo.Time, p.a.Source.Start)),
			lo: lo, hi: hi, ref: fo.Time, closeUp: true, fo: i, sb: -1})
		n++
	}
	for i, sb := range p.a.SplitBrains {
		if n == maxCloseUps {
			break
		}
		lo, hi := splitWindow(sb)
		vs = append(vs, view{id: sbViewID(i), tab: fmt.Sprintf("Split brain %d", i+1),
			title: fmt.Sprintf("Split brain %d: times from its start, frame %d at %s", i+1, sb.StartFrame, relTime(sb.Start, p.a.Source.Start)),
			lo:    lo, hi: hi, ref: sb.Start, closeUp: true, fo: -1, sb: i})
		n++
	}
	return vs
}

func (p *page) diagram() {
	p.raw("<section id=\"diagram\">\n<h2>Ladder</h2>\n")
	if p.l.start.IsZero() || len(p.l.lanes) == 0 {
		p.raw("<p class=\"none\">Nothing to draw: no router, client or event in the capture.</p>\n</section>\n")
		return
	}
	vs := p.views()
	p.raw("<nav class=\"tabs\" role=\"tablist\" aria-label=\"views of the ladder\">\n")
	for i, v := range vs {
		p.f("<button type=\"button\" role=\"tab\" class=\"tab\" data-view=\"%s\" aria-selected=\"%v\" aria-controls=\"%s\">%s</button>\n", v.id, i == 0, v.id, esc(v.tab))
	}
	if n := len(p.a.Failovers) + len(p.a.SplitBrains); n > maxCloseUps {
		p.f("<span class=\"more\">close-ups of the first %d of %d</span>\n", maxCloseUps, n)
	}
	p.raw("</nav>\n")
	p.legend()
	for i, v := range vs {
		hidden := ""
		if i > 0 {
			hidden = " hidden"
		}
		p.f("<div class=\"view\" id=\"%s\" role=\"tabpanel\" data-view=\"%s\"%s>\n<h3 class=\"view-title\">%s</h3>\n<div class=\"scroll\">\n", v.id, v.id, hidden, esc(v.title))
		p.ladderSVG(v)
		p.raw("</div>\n</div>\n")
	}
	p.raw("</section>\n")
}

func (p *page) legend() {
	p.raw(`<ul class="legend" aria-label="legend">
<li><svg width="14" height="22" aria-hidden="true"><rect class="bar master" x="2" y="1" width="10" height="20"/></svg> master</li>
<li><svg width="22" height="14" aria-hidden="true"><path class="ticks" d="M4 3h14M4 7h14M4 11h14"/></svg> adverts</li>
<li><svg width="34" height="14" aria-hidden="true"><line class="arrow-line ev-garp" x1="2" y1="7" x2="26" y2="7"/><polygon class="head ev-garp" points="32,7 24,3 24,11"/></svg> GARP, ARP, IGMP</li>
<li><svg width="34" height="14" aria-hidden="true"><line class="arrow-line dashed" x1="2" y1="7" x2="26" y2="7"/><polygon class="head" points="32,7 24,3 24,11"/></svg> takeover, client's switch</li>
<li><svg width="26" height="16" aria-hidden="true"><rect class="takeover" x="1" y="1" width="24" height="14"/></svg> failover: old master's last advert to new master's first</li>
<li><svg width="26" height="14" aria-hidden="true"><line class="rfc-line" x1="1" y1="7" x2="25" y2="7"/></svg> RFC time</li>
<li><svg width="14" height="22" aria-hidden="true"><rect class="stale-bar" x="3" y="1" width="8" height="20"/></svg> ⚠ stale: client sends to the old MAC</li>
<li><svg width="14" height="22" aria-hidden="true"><rect class="outage-bar" x="3" y="1" width="8" height="20"/></svg> ⊘ requests unanswered</li>
<li><svg width="26" height="16" aria-hidden="true"><rect class="split-band" x="1" y="1" width="24" height="14"/></svg> ‼ split brain</li>
</ul>
`)
}

// lane geometry of a view.
type laneGeo struct {
	w, x0, x1 float64
	text      float64 // x of the text column
	width     float64
}

func (p *page) geo() laneGeo {
	n := float64(len(p.l.lanes))
	w := math.Min(math.Max(620/n, 100), 126)
	g := laneGeo{w: w, x0: svgTimeW + 8}
	g.x1 = g.x0 + w*n
	g.text = g.x1 + 14
	g.width = g.text + svgTextW
	return g
}

func (g laneGeo) cx(lane int) float64 { return g.x0 + g.w*(float64(lane)+0.5) }

// entry is one line of the text column.
type entry struct {
	y    float64
	text string
	it   *item
}

// itemAttrs are the data attributes the script selects by: frames, times,
// the virtual router, the failover or split brain.
func (p *page) itemAttrs(it *item) string {
	var b strings.Builder
	if it.f0 > 0 && it.kind != itMaster && it.kind != itContender {
		fmt.Fprintf(&b, " data-f0=\"%d\" data-f1=\"%d\"", it.f0, max(it.f1, it.f0))
	}
	if it.kind == itStale || it.kind == itOutage || it.kind == itSplit || it.kind == itTakeover {
		fmt.Fprintf(&b, " data-span=\"1\" data-t0=\"%s\" data-t1=\"%s\" data-vrid=\"%d\" data-vlan=\"%d\"", p.offMS(it.t0), p.offMS(it.t1), it.vrid, it.vlan)
	}
	if it.fo >= 0 {
		fmt.Fprintf(&b, " data-fo=\"%d\"", it.fo)
	}
	if it.sb >= 0 {
		fmt.Fprintf(&b, " data-sb=\"%d\"", it.sb)
	}
	return b.String()
}

// marksOf are the times a view's scale must keep apart.
func (p *page) marksOf() []time.Time {
	var ts []time.Time
	for _, it := range p.l.items {
		ts = append(ts, it.t0)
		if it.kind != itMaster && it.kind != itAdverts && it.kind != itContender {
			ts = append(ts, it.t1)
		}
		if it.kind == itTakeover {
			if fo := p.a.Failovers[it.fo]; fo.ExpectedMS > 0 {
				ts = append(ts, it.t0.Add(msDur(fo.ExpectedMS)))
			}
		}
	}
	return ts
}

// ladderSVG draws one view of the ladder.
func (p *page) ladderSVG(v view) {
	l := p.l
	g := p.geo()
	// Lane headers: a title (two lines when long) and what the lane is.
	headH := 0.0
	for _, ln := range l.lanes {
		parts, _ := fitTitle(ln.title, g.w)
		h := 18.0 + 12*float64(len(ln.sub)) + 13*float64(len(parts)-1)
		headH = math.Max(headH, h)
	}
	top := headH + svgTopPad + 8
	var sc *vscale
	if v.closeUp {
		// A long quiet stretch (the backup waiting out its timer) is
		// broken, so that both ends of the takeover read.
		marks := p.marksOf()
		breakAfter := v.hi.Sub(v.lo) * 3 / 10
		pps := linearPPS(v.lo, v.hi, marks, breakAfter, svgCloseUp)
		sc = newScale(v.lo, v.hi, top, pps, marks, breakAfter)
	} else {
		marks := p.marksOf()
		breakAfter := 10 * time.Second
		// Room for each failover and split brain to be read.
		target := math.Max(svgOverview, 48*float64(len(p.a.Failovers)+len(p.a.SplitBrains)))
		pps := linearPPS(v.lo, v.hi, marks, breakAfter, target)
		// Breaks only where they save room.
		if v.hi.Sub(v.lo).Seconds()*pps < target*1.5 {
			breakAfter = 0
		}
		sc = newScale(v.lo, v.hi, top, pps, marks, breakAfter)
	}

	// Items of the view, and the text column's lines.
	var items []*item
	for i := range l.items {
		it := &l.items[i]
		if it.overlaps(v.lo, v.hi) {
			items = append(items, it)
		}
	}
	// A failover that left many clients behind gets one line for them.
	lagging := map[int]int{}
	for _, it := range items {
		if it.kind == itStale || it.kind == itOutage {
			lagging[it.fo]++
		}
	}
	spoke := map[int]bool{}
	var entries []entry
	for _, it := range items {
		switch {
		case it.kind == itMaster || it.kind == itContender:
			continue
		case (it.kind == itStale || it.kind == itOutage) && lagging[it.fo] > 3:
			if spoke[it.fo] {
				continue
			}
			spoke[it.fo] = true
			t := it.t0
			if t.Before(v.lo) {
				t = v.lo
			}
			e := entry{y: sc.y(t), it: it,
				text: fmt.Sprintf("%s  ⚠ %d clients lagged after failover %d: stale or unanswered (the bars on their lanes)", fmtAt(t, v.ref, v.closeUp), lagging[it.fo], it.fo+1)}
			entries = append(entries, e)
			continue
		case (it.kind == itStale || it.kind == itOutage) && it.nsub > 1 && it.sub > 0:
			continue // the first bar of a folded lane speaks for all
		}
		t := it.t0
		if t.Before(v.lo) {
			if it.kind != itAdverts && it.kind != itStale && it.kind != itOutage && it.kind != itSplit && it.kind != itTakeover {
				continue
			}
			t = v.lo
		}
		entries = append(entries, entry{y: sc.y(t), text: p.entryText(it, t, v), it: it})
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].y < entries[j].y })
	placed, folds := placeEntries(entries)
	height := math.Max(sc.bottom, 0) + 24
	for _, e := range placed {
		height = math.Max(height, e.y+svgRowH)
	}
	for _, f := range folds {
		height = math.Max(height, f.y+svgRowH)
	}

	p.f("<svg class=\"ladder\" width=\"%s\" height=\"%s\" viewBox=\"0 0 %s %s\" data-scale=\"%s\" data-start=\"0\" role=\"img\" aria-label=\"%s\">\n",
		px(g.width), px(height), px(g.width), px(height), sc.json(l.start), esc("ladder diagram: "+v.title))
	p.axis(sc, g, v, height)
	p.laneHeads(g, top, height)

	// Spans first, under the arrows.
	for _, it := range items {
		switch it.kind {
		case itTakeover, itSplit, itNote:
			p.band(it, sc, g, v)
		}
	}
	for _, it := range items {
		switch it.kind {
		case itMaster, itContender, itStale, itOutage:
			p.bar(it, sc, g, v)
		}
	}
	drawn := map[*item]bool{}
	for _, e := range placed {
		drawn[e.it] = true
	}
	quiet := p.crowdedLabels(items, drawn, sc, g)
	p.adverts(items, sc, g, v)
	for _, it := range items {
		switch it.kind {
		case itArrow, itSwitch, itMark:
			if drawn[it] {
				p.arrow(it, sc, g, !quiet[it])
			}
		}
	}
	// The text column, each line with its item so that both highlight.
	p.raw("<g class=\"text-col\">\n")
	for _, e := range placed {
		p.textLine(e, sc, g)
	}
	for _, f := range folds {
		attrs, frames := "", ""
		if f.f0 > 0 {
			attrs = fmt.Sprintf(" data-f0=\"%d\" data-f1=\"%d\"", f.f0, f.f1)
			frames = fmt.Sprintf(", frames %d–%d", f.f0, f.f1)
		}
		p.f("<g class=\"it fold\"%s><text class=\"entry dim\" x=\"%s\" y=\"%s\">⋯ %s%s (the close-ups and --json have them)</text></g>\n",
			attrs, px(g.text), px(f.y+4), esc(plural(f.n, "more event", "more events")), frames)
	}
	p.raw("</g>\n")
	// Where a selected finding points; the script moves it.
	p.f("<g class=\"finding-mark\" visibility=\"hidden\"><line x1=\"%s\" x2=\"%s\" y1=\"0\" y2=\"0\"/><text x=\"%s\" y=\"-4\"></text></g>\n", px(svgTimeW-4), px(g.x1), px(g.x0+4))
	p.raw("</svg>\n")
}

// entryText is a line of the text column: time, frames, what happened.
func (p *page) entryText(it *item, t time.Time, v view) string {
	at := fmtAt(t, v.ref, v.closeUp)
	fr := ""
	switch {
	case it.f0 == 0:
	case it.f1 > it.f0:
		fr = fmt.Sprintf("#%d–%d", it.f0, it.f1)
	default:
		fr = fmt.Sprintf("#%d", it.f0)
	}
	text := it.text
	switch it.kind {
	case itTakeover:
		text = "failover " + strconv.Itoa(it.fo+1) + ": " + it.text
		fr = ""
	case itStale:
		text = "⚠ " + text
		if it.nsub > 1 {
			text = fmt.Sprintf("⚠ %d clients of %s kept sending to the old master's MAC", it.nsub, p.l.lanes[it.from].title)
		}
	case itOutage:
		text = "⊘ " + text
	case itSplit:
		text = "‼ " + text
	}
	return strings.TrimSpace(at + "  " + fr + "  " + text)
}

// fold is a run of text lines left out where too many crowd together.
type fold struct {
	y      float64
	n      int
	f0, f1 uint64
}

// placeEntries places each line at its time or just below the line before
// it; where lines would be pushed too far from their time they fold into
// one line that counts them.
func placeEntries(in []entry) (placed []entry, folds []fold) {
	next := -1.0
	var cur *fold
	flush := func() {
		if cur != nil {
			cur.y = math.Max(cur.y, next)
			folds = append(folds, *cur)
			next = cur.y + svgRowH
			cur = nil
		}
	}
	for _, e := range in {
		y := math.Max(e.y, next)
		// Failovers and split brains always have their line; stale
		// periods and unanswered requests unless they crowd far more.
		push := svgMaxPush
		switch {
		case e.it.kind == itTakeover || e.it.kind == itSplit:
			push = math.Inf(1)
		case e.it.kind == itStale || e.it.kind == itOutage || e.it.ev == "failover":
			push = 3 * svgMaxPush
		}
		if y-e.y > push {
			if cur == nil {
				cur = &fold{y: e.y}
			}
			cur.n++
			if e.it.f0 > 0 {
				if cur.f0 == 0 || e.it.f0 < cur.f0 {
					cur.f0 = e.it.f0
				}
				cur.f1 = max(cur.f1, e.it.f1, e.it.f0)
			}
			continue
		}
		if cur != nil && e.y >= next-svgRowH {
			flush()
			y = math.Max(e.y, next)
		}
		e.y = y
		placed = append(placed, e)
		next = y + svgRowH
	}
	flush()
	return placed, folds
}

// svgDefs writes the patterns every SVG of the page uses, once, in an SVG
// that is always rendered (a pattern inside a hidden view would not be).
func (p *page) svgDefs() {
	p.raw(`<svg class="defs" width="0" height="0" aria-hidden="true"><defs>
<pattern id="hatch-stale" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" class="hatch-bg-stale"/><line x1="0" y1="0" x2="0" y2="6" class="hatch-stale"/></pattern>
<pattern id="hatch-split" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(-45)"><line x1="0" y1="0" x2="0" y2="8" class="hatch-split"/></pattern>
</defs></svg>
`)
}

// axis draws the time column: ticks, their grid lines, and the breaks.
func (p *page) axis(sc *vscale, g laneGeo, v view, height float64) {
	p.raw("<g class=\"axis\">\n")
	for _, s := range sc.segs {
		if s.brk {
			y := (s.y0 + s.y1) / 2
			p.f("<path class=\"break\" d=\"M%s %sl6 -5l6 10l6 -5H%s\"/>\n", px(4), px(y), px(g.x1))
			p.f("<text class=\"break-label\" x=\"%s\" y=\"%s\">⋯ %s without events ⋯</text>\n", px(g.x0+6), px(y-7), esc(fmtSpan(ms(s.t1.Sub(s.t0)))))
			continue
		}
		pps := (s.y1 - s.y0) / math.Max(s.t1.Sub(s.t0).Seconds(), 1e-9)
		if s.y1 <= s.y0 {
			continue
		}
		step := niceStep(pps, 56)
		// Ticks at multiples of the step from the reference time.
		k := int64(math.Ceil(float64(s.t0.Sub(v.ref)) / float64(step)))
		for ; ; k++ {
			t := v.ref.Add(time.Duration(k) * step)
			if t.After(s.t1) {
				break
			}
			y := sc.y(t)
			p.f("<line class=\"grid\" x1=\"%s\" x2=\"%s\" y1=\"%s\" y2=\"%s\"/>", px(svgTimeW-6), px(g.x1), px(y), px(y))
			p.f("<text class=\"tick\" x=\"%s\" y=\"%s\">%s</text>\n", px(svgTimeW-10), px(y+4), esc(fmtTick(t.Sub(v.ref), step)))
		}
	}
	p.raw("</g>\n")
}

// fitTitle fits a lane's title to its width: on one line, or broken at
// colons or dots into two or three, in a smaller font if need be (an IPv6
// address in a narrow lane).
func fitTitle(title string, w float64) (parts []string, font float64) {
	const em = 0.61 // advance of a monospace character, in ems
	fits := func(ps []string, f float64) bool {
		for _, p := range ps {
			if float64(len([]rune(p)))*em*f > w-6 {
				return false
			}
		}
		return true
	}
	for _, try := range []struct {
		n int
		f float64
	}{{1, 12}, {1, 11}, {1, 10}, {2, 12}, {2, 11}, {2, 10}, {1, 9}, {3, 10}, {3, 9}, {2, 9}} {
		if ps := splitAt(title, try.n); fits(ps, try.f) {
			return ps, try.f
		}
	}
	return splitAt(title, 3), 8
}

// splitAt breaks s into n parts of about equal length after ':', '.' or ' '.
func splitAt(s string, n int) []string {
	if n <= 1 {
		return []string{s}
	}
	target := len(s) / n
	best := -1
	for i := range s {
		if s[i] == ':' || s[i] == ' ' || s[i] == '.' {
			if best < 0 || abs(i+1-target) < abs(best+1-target) {
				best = i
			}
		}
	}
	if best <= 0 || best == len(s)-1 {
		return []string{s}
	}
	return append([]string{s[:best+1]}, splitAt(s[best+1:], n-1)...)
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}

// routerIndex numbers the routers for their colour.
func (p *page) routerIndex(lane int) int {
	n := 0
	for i, ln := range p.l.lanes {
		if ln.kind != laneRouter {
			continue
		}
		if i == lane {
			return n % 6
		}
		n++
	}
	return 0
}

func laneClass(k laneKind) string {
	switch k {
	case laneRouter:
		return "router"
	case laneClient, laneClients:
		return "client"
	case laneGroup, laneBroadcast:
		return "sink"
	}
	return "host"
}

func (p *page) laneHeads(g laneGeo, top, height float64) {
	p.raw("<g class=\"lanes\">\n")
	for i, ln := range p.l.lanes {
		cx := g.cx(i)
		cls := "lane " + laneClass(ln.kind)
		if ln.kind == laneRouter {
			cls += " r" + strconv.Itoa(p.routerIndex(i))
		}
		p.f("<g class=\"%s\"><title>%s</title>", cls, esc(ln.title+" — "+strings.Join(append(append([]string{}, ln.sub...), ln.members...), ", ")))
		y := 16.0
		if ln.kind == laneRouter {
			p.f("<rect class=\"chip\" x=\"%s\" y=\"4\" width=\"%s\" height=\"3\" rx=\"1.5\"/>", px(cx-g.w/2+10), px(g.w-20))
		}
		parts, font := fitTitle(ln.title, g.w)
		for _, part := range parts {
			p.f("<text class=\"lane-title\" x=\"%s\" y=\"%s\" font-size=\"%s\">%s</text>", px(cx), px(y), px(font), esc(part))
			y += 13
		}
		for _, s := range ln.sub {
			p.f("<text class=\"lane-sub\" x=\"%s\" y=\"%s\">%s</text>", px(cx), px(y), esc(s))
			y += 12
		}
		p.f("<line class=\"lifeline\" x1=\"%s\" x2=\"%s\" y1=\"%s\" y2=\"%s\"/></g>\n", px(cx), px(cx), px(top-6), px(height-4))
	}
	p.raw("</g>\n")
}

// band draws something across all lanes: a failover window, a split brain,
// a note.
func (p *page) band(it *item, sc *vscale, g laneGeo, v view) {
	y0, y1 := sc.y(it.t0), sc.y(it.t1)
	switch it.kind {
	case itNote:
		p.f("<g class=\"it note ev-%s\"%s><title>%s</title><line x1=\"%s\" x2=\"%s\" y1=\"%s\" y2=\"%s\"/><text class=\"note-label\" x=\"%s\" y=\"%s\">%s</text></g>\n",
			esc(it.ev), p.itemAttrs(it), esc(it.text), px(g.x0), px(g.x1), px(y0), px(y0), px(g.x0+4), px(y0-3), esc(it.label))
	case itTakeover:
		fo := p.a.Failovers[it.fo]
		h := math.Max(y1-y0, 2)
		p.f("<g class=\"it takeover-g\"%s><title>%s</title>", p.itemAttrs(it), esc("failover "+strconv.Itoa(it.fo+1)+": "+it.text))
		p.f("<rect class=\"takeover failover-marker\" data-fo=\"%d\" x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\"/>", it.fo, px(g.x0), px(y0), px(g.x1-g.x0), px(h))
		// Measured against the RFC in the time column: a bracket for each.
		p.f("<line class=\"took\" x1=\"%s\" x2=\"%s\" y1=\"%s\" y2=\"%s\"/>", px(svgTimeW-2), px(svgTimeW-2), px(y0), px(y0+h))
		if fo.ExpectedMS > 0 {
			ry := sc.y(it.t0.Add(msDur(fo.ExpectedMS)))
			p.f("<line class=\"rfc-line\" x1=\"%s\" x2=\"%s\" y1=\"%s\" y2=\"%s\"/>", px(g.x0), px(g.x1), px(ry), px(ry))
			if v.closeUp {
				p.f("<text class=\"rfc-label\" x=\"%s\" y=\"%s\">RFC %s %s</text>", px(g.x1-4), px(ry-3), esc(rfcName(fo)), esc(fmtMS(fo.ExpectedMS)))
			}
		}
		label := fmt.Sprintf("failover %d · took %s", it.fo+1, fmtMS(fo.DetectMS))
		if fo.ExpectedMS > 0 {
			label += fmt.Sprintf(" · RFC %s (%s)", fmtMS(fo.ExpectedMS), fmtDiffMS(fo.DetectMS-fo.ExpectedMS))
		}
		ly := y0 + 12
		if h < 16 {
			ly = y0 - 3
		}
		p.f("<text class=\"takeover-label\" x=\"%s\" y=\"%s\">%s</text>", px(g.x0+4), px(ly), esc(label))
		if !v.closeUp && it.fo < maxCloseUps {
			// A way into the close-up.
			p.f("<a class=\"goto\" data-view=\"%s\" href=\"#%s\" tabindex=\"0\"><text class=\"goto-label\" x=\"%s\" y=\"%s\">close-up ▸</text></a>",
				foViewID(it.fo), foViewID(it.fo), px(g.x1-4), px(ly))
		}
		p.raw("</g>\n")
	case itSplit:
		h := math.Max(y1-y0, 2)
		p.f("<g class=\"it split-g\"%s><title>%s</title><rect class=\"split-band-bg\" x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\"/><rect class=\"split-band\" x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\"/>",
			p.itemAttrs(it), esc(it.text), px(g.x0), px(y0), px(g.x1-g.x0), px(h), px(g.x0), px(y0), px(g.x1-g.x0), px(h))
		p.f("<text class=\"split-label\" x=\"%s\" y=\"%s\">‼ SPLIT BRAIN %s</text>", px(g.x0+4), px(y0+13), esc(fmtSpan(p.a.SplitBrains[it.sb].DurationMS)))
		if !v.closeUp && len(p.a.Failovers)+it.sb < maxCloseUps {
			p.f("<a class=\"goto\" data-view=\"%s\" href=\"#%s\" tabindex=\"0\"><text class=\"goto-label\" x=\"%s\" y=\"%s\">close-up ▸</text></a>",
				sbViewID(it.sb), sbViewID(it.sb), px(g.x1-4), px(y0+13))
		}
		p.raw("</g>\n")
	}
}

// bar draws a span on one lane: a mastership, a contender, a client's
// stale period or unanswered requests.
func (p *page) bar(it *item, sc *vscale, g laneGeo, v view) {
	cx := g.cx(it.from)
	y0, y1 := sc.y(it.t0), sc.y(it.t1)
	h := math.Max(y1-y0, 3)
	switch it.kind {
	case itMaster:
		p.f("<rect class=\"bar master r%d\" x=\"%s\" y=\"%s\" width=\"10\" height=\"%s\"><title>%s</title></rect>\n",
			p.routerIndex(it.from), px(cx-5), px(y0), px(h), esc(it.text))
	case itContender:
		p.f("<rect class=\"bar contender\" x=\"%s\" y=\"%s\" width=\"10\" height=\"%s\"><title>%s</title></rect>\n", px(cx-5), px(y0), px(h), esc(it.text))
	case itStale, itOutage:
		// One client: a wide bar on its lifeline over a band the width of
		// its lane; several on a folded lane: side by side.
		w, x := 16.0, cx-8
		if it.nsub > 1 {
			w = math.Max((g.w-16)/float64(it.nsub), 2)
			x = cx - g.w/2 + 8 + float64(it.sub)*w
		}
		cls, sign := "stale-bar", "⚠ stale ×"+strconv.Itoa(it.count)
		if it.kind == itOutage {
			cls, sign = "outage-bar", "⊘ "+strconv.Itoa(it.count)+" unanswered"
		}
		p.f("<g class=\"it %s-g\"%s data-client=\"%s\"><title>%s</title>", cls, p.itemAttrs(it), esc(it.who), esc(it.text))
		if it.nsub <= 1 {
			p.f("<rect class=\"%s-band\" x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\"/>", cls, px(cx-g.w/2+3), px(y0), px(g.w-6), px(h))
		}
		p.f("<rect class=\"%s\" x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\"/>", cls, px(x), px(y0), px(w), px(h))
		if it.nsub <= 1 || it.sub == 0 {
			ly := math.Max(y0, sc.y(v.lo)) + 12
			lx := x + w + 4
			if it.nsub > 1 {
				lx = cx + g.w/2 - 4
			}
			p.f("<text class=\"bar-label %s-label\" x=\"%s\" y=\"%s\">%s</text>", cls, px(lx), px(ly), esc(sign))
		}
		if it.t1.After(v.hi) {
			p.f("<text class=\"bar-label %s-label\" x=\"%s\" y=\"%s\">▼ until %s</text>", cls, px(x+w+4), px(sc.y(v.hi)-3), esc(fmtAt(it.t1, v.ref, v.closeUp)))
		}
		p.raw("</g>\n")
	}
}

// adverts draws the runs of adverts of a view; runs that follow one another
// closer than a few pixels on a lane are drawn as one.
func (p *page) adverts(items []*item, sc *vscale, g laneGeo, v view) {
	var cur *item
	var merged item
	flush := func() {
		if cur != nil {
			p.ticks(&merged, sc, g, v)
			cur = nil
		}
	}
	byLane := map[int][]*item{}
	var lanes []int
	for _, it := range items {
		if it.kind == itAdverts {
			if byLane[it.from] == nil {
				lanes = append(lanes, it.from)
			}
			byLane[it.from] = append(byLane[it.from], it)
		}
	}
	for _, ln := range lanes {
		for _, it := range byLane[ln] {
			if cur != nil && sc.y(it.t0)-sc.y(merged.t1) < 4 {
				merged.t1 = maxTime(merged.t1, it.t1)
				merged.f1 = max(merged.f1, it.f1)
				merged.count += it.count
				merged.period = 0 // no longer one period: drawn dense
				merged.text = fmt.Sprintf("%s: %d adverts in runs, frames %d–%d", p.l.lanes[ln].title, merged.count, merged.f0, merged.f1)
				continue
			}
			flush()
			cur, merged = it, *it
		}
		flush()
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// ticks draws a run of adverts as the periodic ticks they are.
func (p *page) ticks(it *item, sc *vscale, g laneGeo, v view) {
	cx := g.cx(it.from)
	p.f("<g class=\"it adverts\"%s><title>%s</title>", p.itemAttrs(it), esc(it.text))
	lo, hi := it.t0, it.t1
	if lo.Before(v.lo) {
		lo = v.lo
	}
	if hi.After(v.hi) {
		hi = v.hi
	}
	n := 1
	if it.period > 0 && it.count > 1 {
		n = it.count
	}
	dense := it.period == 0 && it.count > 1 && it.t1.After(it.t0)
	var d strings.Builder
	count, lastY := 0, -100.0
	for k := 0; k < n && !dense; k++ {
		t := it.t0.Add(time.Duration(k) * it.period)
		if t.Before(lo) || t.After(hi) {
			continue
		}
		y := sc.y(t)
		if y-lastY < 3 {
			dense = true
			break
		}
		fmt.Fprintf(&d, "M%s %sh14", px(cx-7), px(y))
		lastY = y
		count++
		if count > 600 {
			dense = true
			break
		}
	}
	if dense {
		p.f("<line class=\"ticks dense\" x1=\"%s\" x2=\"%s\" y1=\"%s\" y2=\"%s\"/>", px(cx), px(cx), px(sc.y(lo)), px(sc.y(hi)))
	} else if d.Len() > 0 {
		p.f("<path class=\"ticks\" d=\"%s\"/>", d.String())
	}
	p.raw("</g>\n")
}

// box is where a label is written.
type box struct{ x0, y0, x1, y1 float64 }

func (b box) overlaps(o box) bool { return b.x0 < o.x1 && o.x0 < b.x1 && b.y0 < o.y1 && o.y0 < b.y1 }

// labelBox is where an arrow's or a mark's label goes.
func labelBox(it *item, sc *vscale, g laneGeo) box {
	y := sc.y(it.t0)
	w := float64(len([]rune(it.label)))*6.2 + 4
	x0 := g.cx(it.from)
	if it.kind == itMark || it.to < 0 {
		return box{x0 + 8, y - 14, x0 + 8 + w, y - 1}
	}
	c := (x0 + g.cx(it.to)) / 2
	return box{c - w/2, y - 14, c + w/2, y - 1}
}

// labelRank orders labels by what they say: the takeover first, joins last.
func labelRank(it *item) int {
	switch {
	case it.ev == "failover":
		return 0
	case it.ev == "resign" || it.ev == "split-brain":
		return 1
	case it.ev == "garp":
		return 2
	case it.kind == itSwitch || it.ev == "arp":
		return 3
	case it.ev == "contend" || it.ev == "election" || it.ev == "master" || it.ev == "silent":
		return 4
	case it.ev == "join" || it.ev == "leave":
		return 6
	}
	return 5
}

// crowdedLabels picks the labels left out where they would write over one
// another: the lesser of two, by labelRank. The text column and the
// tooltip still say what the arrow is.
func (p *page) crowdedLabels(items []*item, drawn map[*item]bool, sc *vscale, g laneGeo) map[*item]bool {
	var taken []box
	for _, it := range items {
		switch it.kind {
		case itTakeover:
			y0, y1 := sc.y(it.t0), sc.y(it.t1)
			ly := y0 + 12
			if y1-y0 < 16 {
				ly = y0 - 3
			}
			taken = append(taken, box{g.x0, ly - 11, g.x1, ly + 2})
		case itSplit:
			y0 := sc.y(it.t0)
			taken = append(taken, box{g.x0, y0 + 2, g.x0 + 200, y0 + 15})
		}
	}
	var cand []*item
	for _, it := range items {
		if drawn[it] && (it.kind == itArrow || it.kind == itSwitch || it.kind == itMark) {
			cand = append(cand, it)
		}
	}
	sort.SliceStable(cand, func(i, j int) bool { return labelRank(cand[i]) < labelRank(cand[j]) })
	quiet := map[*item]bool{}
	for _, it := range cand {
		b := labelBox(it, sc, g)
		clash := false
		for _, o := range taken {
			if b.overlaps(o) {
				clash = true
				break
			}
		}
		if clash {
			quiet[it] = true
			continue
		}
		taken = append(taken, b)
	}
	return quiet
}

// arrow draws a frame from one lane to another, or a mark on one lane,
// with its label unless another took its place.
func (p *page) arrow(it *item, sc *vscale, g laneGeo, label bool) {
	y := sc.y(it.t0)
	x0 := g.cx(it.from)
	cls := "ev-" + strings.ReplaceAll(it.ev, " ", "-")
	if it.kind == itSwitch {
		cls = "ev-switch"
	}
	p.f("<g class=\"it %s\"%s><title>%s</title>", cls, p.itemAttrs(it), esc(it.text))
	if it.kind == itMark || it.to < 0 {
		switch it.ev {
		case "master":
			p.f("<polygon class=\"mark\" points=\"%s,%s %s,%s %s,%s %s,%s\"/>", px(x0), px(y-6), px(x0+6), px(y), px(x0), px(y+6), px(x0-6), px(y))
		case "silent":
			p.f("<path class=\"mark-x\" d=\"M%s %sl10 10m0 -10l-10 10\"/>", px(x0-5), px(y-5))
		default:
			p.f("<circle class=\"mark\" cx=\"%s\" cy=\"%s\" r=\"4\"/>", px(x0), px(y))
		}
		if label {
			p.f("<text class=\"mark-label\" x=\"%s\" y=\"%s\">%s</text>", px(x0+9), px(y-4), esc(it.label))
		}
		p.raw("</g>\n")
		return
	}
	x1 := g.cx(it.to)
	dir := 1.0
	if x1 < x0 {
		dir = -1
	}
	dashed := ""
	if it.kind == itSwitch || it.ev == "failover" || it.ev == "election" || it.ev == "split-brain" {
		dashed = " dashed"
	}
	tip := x1 - dir*2
	p.f("<circle class=\"tail\" cx=\"%s\" cy=\"%s\" r=\"2.5\"/>", px(x0), px(y))
	p.f("<line class=\"arrow-line%s\" x1=\"%s\" x2=\"%s\" y1=\"%s\" y2=\"%s\"/>", dashed, px(x0), px(tip-dir*7), px(y), px(y))
	p.f("<polygon class=\"head\" points=\"%s,%s %s,%s %s,%s\"/>", px(tip), px(y), px(tip-dir*9), px(y-4), px(tip-dir*9), px(y+4))
	if label {
		p.f("<text class=\"arrow-label\" x=\"%s\" y=\"%s\">%s</text>", px((x0+x1)/2), px(y-4), esc(it.label))
	}
	p.raw("</g>\n")
}

// textLine writes a line of the text column, joined to its time by a
// leader when it was pushed down.
func (p *page) textLine(e entry, sc *vscale, g laneGeo) {
	it := e.it
	want := sc.y(it.t0)
	if it.t0.Before(sc.lo) {
		want = sc.y(sc.lo)
	}
	cls := "entry"
	switch {
	case it.kind == itStale || it.kind == itSplit || it.ev == "split-brain":
		cls += " sev-critical"
	case it.kind == itOutage || it.kind == itTakeover || it.ev == "resign" || it.ev == "contend":
		cls += " sev-warning"
	case it.ev == "failover" || it.ev == "master":
		cls += " strong"
	case it.kind == itAdverts || it.ev == "join" || it.ev == "leave":
		cls += " dim"
	}
	p.f("<g class=\"it line\"%s>", p.itemAttrs(it))
	if e.y-want > 2 {
		p.f("<path class=\"leader\" d=\"M%s %sL%s %sH%s\"/>", px(g.x1), px(want), px(g.text-6), px(e.y), px(g.text-2))
	}
	if len([]rune(e.text)) > svgTextMax {
		p.f("<title>%s</title>", esc(e.text))
	}
	p.f("<text class=\"%s\" x=\"%s\" y=\"%s\">%s</text></g>\n", cls, px(g.text), px(e.y+4), esc(truncateRunes(e.text, svgTextMax)))
}

// truncateRunes cuts s to n runes with an ellipsis.
func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
