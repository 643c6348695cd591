package report

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vrrpctl/vrrpctl/analyze"
)

// DefaultLadderWindow is how much of the capture the terminal ladder shows
// around each failover: half before the old master's last advert, half after
// the new master's first.
const DefaultLadderWindow = 4 * time.Second

// Ladder writes the ladder diagram around each failover and split brain, as
// sngrep draws a call flow: the routers, clients and other hosts as columns,
// one line per event, arrows drawn with box characters, fitted to the width.
// window is the time shown around each (DefaultLadderWindow when 0); a
// capture with neither failover nor split brain is drawn whole.
//
// A master's lane is drawn heavy (┃), a client's stale period ▒, its
// unanswered requests ┆, and the takeover window is bracketed in the gutter
// left of the lanes; colour repeats what the characters say.
func Ladder(w io.Writer, a *analyze.Analysis, opt Options, window time.Duration) error {
	if a == nil {
		return fmt.Errorf("report: no analysis")
	}
	if window <= 0 {
		window = DefaultLadderWindow
	}
	l := newLadder(a, nil)
	st := newStyles(opt.Color)
	width := opt.width()
	var out []string
	name := clean(a.Source.File)
	if name == "" {
		name = "(live capture)"
	}
	out = append(out, st.bold("vrrpctl ladder")+"  "+st.bold(name))
	n := 0
	for fi, fo := range a.Failovers {
		start, _ := l.takeoverSpan(fo)
		lo, hi := start.Add(-window/2), fo.Time.Add(window/2)
		head := fmt.Sprintf("FAILOVER %d/%d  VRID %s  %s → %s  %s", fi+1, len(a.Failovers),
			groupLabel(fo.VRID, fo.VLAN, fo.Family), endpoint(fo.From), endpoint(fo.To), clean(fo.Cause))
		detail := takeoverMeasures(fo)
		if c, _ := clientSummary(fo, a.Source.HasDstMAC); c != "-" && c != "n/a" {
			detail += "; clients " + c
		}
		ref := fmt.Sprintf("times from the takeover (frame %d, %s); window %s", fo.Frame, relTime(fo.Time, a.Source.Start), fmtWindow(window))
		out = append(out, "")
		out = append(out, l.textWindow(st, width, head, []string{detail, ref}, lo, hi, fo.Time, fi, -1)...)
		n++
	}
	for si, sb := range a.SplitBrains {
		lo, hi := sb.Start.Add(-window/2), sb.End.Add(window/2)
		var names []string
		for _, r := range sb.Routers {
			names = append(names, clean(r.IP))
		}
		head := fmt.Sprintf("SPLIT BRAIN %d/%d  VRID %s  %s", si+1, len(a.SplitBrains),
			groupLabel(sb.VRID, sb.VLAN, sb.Family), strings.Join(names, " + "))
		detail := "both held the VIP for " + fmtSpan(sb.DurationMS)
		if sb.Ongoing {
			detail += ", until the capture ended"
		}
		ref := fmt.Sprintf("times from its start (frame %d, %s); window %s", sb.StartFrame, relTime(sb.Start, a.Source.Start), fmtWindow(window))
		out = append(out, "")
		out = append(out, l.textWindow(st, width, head, []string{detail, ref}, lo, hi, sb.Start, -1, si)...)
		n++
	}
	if n == 0 {
		out = append(out, "")
		lo, hi := l.start, l.end
		if lo.IsZero() {
			out = append(out, "  nothing to draw: no event in the capture")
		} else {
			out = append(out, l.textWindow(st, width, "WHOLE CAPTURE", []string{"no failover or split brain: every event, times from the capture's start"}, lo, hi, lo, -1, -1)...)
		}
	}
	bw := bufio.NewWriter(w)
	for _, s := range out {
		bw.WriteString(s)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

func fmtWindow(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + " s"
}

// fmtOffset formats a time relative to the reference: "-965.4ms", "+0.2ms",
// "+5.444s".
func fmtOffset(d time.Duration) string {
	v := ms(d)
	if math.Abs(v) >= 10000 {
		return fmt.Sprintf("%+.2fs", v/1000)
	}
	if math.Abs(v) >= 1000 {
		return fmt.Sprintf("%+.3fs", v/1000)
	}
	if math.Abs(v) < 0.05 {
		return "0ms"
	}
	return fmt.Sprintf("%+.1fms", v)
}

// textRow is one line of the terminal ladder.
type textRow struct {
	t      time.Time
	frames string
	it     *item  // the arrow or mark drawn, nil for none
	note   string // what the row says
	// labelled rows draw the item's label on its arrow, or before the
	// note when it does not fit there.
	labelled bool
	gap      bool // a stretch of time with nothing in it
}

// Lane glyphs by state.
const (
	glyphIdle   = "│"
	glyphMaster = "┃"
	glyphStale  = "▒"
	glyphOutage = "┆"
)

// textWindow draws the items in [lo, hi], times relative to ref; fo and sb
// name the failover or split brain the window is about (-1: none).
func (l *ladder) textWindow(st styles, width int, head string, detail []string, lo, hi, ref time.Time, fo, sb int) []string {
	var out []string
	t := &textReport{st: st, width: width}
	t.parts("", 2, []string{st.bold(head)})
	for _, d := range detail {
		t.para("  ", 2, d, noPaint)
	}
	out = append(out, t.out...)

	// The lanes drawn: those something happens on in the window, and the
	// routers of the virtual router in question.
	var items []*item
	use := map[int]bool{}
	for i := range l.items {
		it := &l.items[i]
		if !it.overlaps(lo, hi) {
			continue
		}
		items = append(items, it)
		if it.from >= 0 {
			use[it.from] = true
		}
		if it.to >= 0 {
			use[it.to] = true
		}
	}
	for i, ln := range l.lanes {
		if ln.kind == laneRouter && (fo >= 0 || sb >= 0) {
			use[i] = true
		}
	}
	var lanes []int
	for i := range l.lanes {
		if use[i] {
			lanes = append(lanes, i)
		}
	}
	if len(lanes) == 0 {
		return append(out, "  nothing on the wire in this window")
	}
	col := map[int]int{} // lane -> column index
	for c, ln := range lanes {
		col[ln] = c
	}

	rows := l.textRows(items, lo, hi, ref, fo, sb)

	// Widths: time, frames, gutter, the lanes, the note column.
	timeW, frameW := len("TIME"), len("FRAME")
	for _, r := range rows {
		if !r.gap {
			timeW = max(timeW, textWidth(fmtOffset(r.t.Sub(ref))))
		}
		frameW = max(frameW, textWidth(r.frames))
	}
	const noteMin = 30
	fixed := 2 + timeW + 1 + frameW + 1 + 1 + 1
	laneW := (width - fixed - noteMin) / len(lanes)
	laneW = min(max(laneW, 5), 16)
	noteW := width - fixed - laneW*len(lanes) - 1
	if noteW < 8 {
		// Narrow: the lanes give way to a few words of note.
		laneW = max((width-fixed-9)/len(lanes), 3)
		noteW = max(width-fixed-laneW*len(lanes)-1, 1)
	}

	out = append(out, "")
	prefix := "  " + strings.Repeat(" ", timeW-len("TIME")) + "TIME " + "FRAME"
	out = append(out, l.laneHeader(st, lanes, laneW, fixed, prefix, width)...)

	gutterOf := func(t time.Time) (string, paint) {
		for _, it := range items {
			if (it.kind == itTakeover && it.fo == fo && fo >= 0) || (it.kind == itSplit && it.sb == sb && sb >= 0) {
				p := st.warning
				if it.kind == itSplit {
					p = st.critical
				}
				switch {
				case t.Equal(it.t0) && t.Equal(it.t1):
					return "─", p
				case t.Equal(it.t0):
					return "┌", p
				case t.Equal(it.t1):
					return "└", p
				case t.After(it.t0) && t.Before(it.t1):
					return "│", p
				}
			}
		}
		return " ", noPaint
	}
	for _, r := range rows {
		var b strings.Builder
		tm := ""
		if !r.gap {
			tm = fmtOffset(r.t.Sub(ref))
		}
		b.WriteString("  " + strings.Repeat(" ", timeW-textWidth(tm)) + tm + " ")
		b.WriteString(st.dim(r.frames) + strings.Repeat(" ", frameW-textWidth(r.frames)) + " ")
		g, gp := gutterOf(r.t)
		if r.gap && g != " " {
			g = "┊"
		}
		b.WriteString(gp(g) + " ")
		cells, paints, onArrow := l.laneCells(st, items, lanes, col, laneW, r)
		for i, c := range cells {
			b.WriteString(paints[i](c))
		}
		note := r.note
		if r.it != nil && r.labelled && !onArrow {
			note = strings.TrimSuffix(r.it.label+", "+note, ", ")
		}
		if textWidth(note) > noteW {
			note = truncateCells(note, noteW)
		}
		np := noPaint
		switch {
		case r.gap:
			np = st.dim
		case r.it != nil:
			np = l.notePaint(st, r.it)
		}
		b.WriteString(" " + np(note))
		out = append(out, strings.TrimRight(b.String(), " "))
	}
	return out
}

// notePaint colours a row's words as its arrow or mark.
func (l *ladder) notePaint(st styles, it *item) paint {
	switch it.kind {
	case itStale, itSplit, itContender:
		return st.critical
	case itOutage, itTakeover:
		return st.warning
	case itAdverts:
		return st.dim
	}
	switch it.ev {
	case "failover", "master":
		return st.bold
	case "split-brain":
		return st.critical
	case "resign", "contend", "silent", "priority", "election":
		return st.warning
	}
	return noPaint
}

func truncateCells(s string, w int) string {
	if w <= 1 {
		return "…"
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		rw := textWidth(string(r))
		if n+rw > w-1 {
			break
		}
		b.WriteRune(r)
		n += rw
	}
	return b.String() + "…"
}

// laneHeader names the lanes above their columns: titles centred on the
// lanes, on two staggered lines when they are wider than a lane, else
// letters with a legend. prefix names the columns left of the lanes, on
// the last line.
func (l *ladder) laneHeader(st styles, lanes []int, laneW, indent int, prefix string, width int) []string {
	titles := make([]string, len(lanes))
	subs := make([]string, len(lanes))
	for i, ln := range lanes {
		titles[i] = l.lanes[ln].title
		subs[i] = laneRole(l.lanes[ln], laneW <= 7)
	}
	const spare = 40 // a title may run past the last lane, into the note column
	place := func(texts []string, pick func(i int) bool) (string, bool) {
		line := []rune(strings.Repeat(" ", indent+laneW*len(lanes)+spare))
		end := 0 // first free column
		for i, txt := range texts {
			if !pick(i) || txt == "" {
				continue
			}
			center := indent + i*laneW + laneW/2
			w := textWidth(txt)
			start := max(center-w/2, indent)
			if start < end || start+w > len(line) {
				return "", false
			}
			copy(line[start:], []rune(txt))
			end = start + w + 1
		}
		return strings.TrimRight(string(line), " "), true
	}
	all := func(int) bool { return true }
	even := func(i int) bool { return i%2 == 0 }
	odd := func(i int) bool { return i%2 == 1 }
	type hline struct {
		text string
		p    paint
	}
	var lines []hline
	var legend []string
	if s, ok := place(titles, all); ok {
		lines = append(lines, hline{s, st.head})
	} else if a, ok1 := place(titles, even); ok1 {
		b, ok2 := place(titles, odd)
		if ok2 {
			lines = append(lines, hline{a, st.head}, hline{b, st.head})
		}
	}
	if len(lines) == 0 {
		// Letters, and a legend.
		keys := make([]string, len(lanes))
		for i, ln := range lanes {
			keys[i] = string(rune('A' + i%26))
			lane := l.lanes[ln]
			what := strings.Join(lane.sub, ", ")
			if len(lane.members) > 0 {
				what += ": " + strings.Join(lane.members, ", ")
			}
			t := &textReport{st: st, width: width}
			t.para("  "+st.bold(keys[i])+"  ", 5, lane.title+"  "+what, noPaint)
			legend = append(legend, t.out...)
		}
		s, _ := place(keys, all)
		lines = append(lines, hline{s, st.head})
	}
	if r, ok := place(subs, all); ok {
		lines = append(lines, hline{r, st.dim})
	} else {
		a, _ := place(subs, even)
		b, _ := place(subs, odd)
		lines = append(lines, hline{a, st.dim}, hline{b, st.dim})
	}
	out := legend
	if len(legend) > 0 {
		out = append(out, "")
	}
	for i, hl := range lines {
		text := hl.text
		if i == len(lines)-1 {
			pad := max(textWidth(text), textWidth(prefix))
			text = prefix + string([]rune(text + strings.Repeat(" ", pad))[textWidth(prefix):])
			text = strings.TrimRight(text, " ")
			out = append(out, st.head(text[:len(prefix)])+hl.p(text[len(prefix):]))
			continue
		}
		out = append(out, hl.p(text))
	}
	return out
}

// laneRole is the one word under a lane's title; short for narrow lanes.
func laneRole(ln lane, short bool) string {
	switch ln.kind {
	case laneRouter:
		if short {
			return "rtr"
		}
		return "router"
	case laneClient:
		if short {
			return "cli"
		}
		return "client"
	case laneClients:
		if short {
			return "clis"
		}
		return "clients"
	case laneHost, laneHosts:
		if len(ln.sub) > 0 && strings.HasPrefix(ln.sub[0], "VIP") {
			return "VIP"
		}
		return "host"
	case laneGroup:
		return "mcast"
	case laneBroadcast:
		return "bcast"
	}
	return ""
}

// textRows lists what the window shows, in time order: the timeline's
// events, the start and end of spans, the RFC's time for the takeover, and
// gaps where nothing happens for a while.
func (l *ladder) textRows(items []*item, lo, hi, ref time.Time, fo, sb int) []textRow {
	var rows []textRow
	in := func(t time.Time) bool { return !t.Before(lo) && !t.After(hi) }
	frames := func(it *item) string {
		switch {
		case it.f0 == 0:
			return ""
		case it.f1 > it.f0:
			return fmt.Sprintf("#%d-%d", it.f0, it.f1)
		}
		return fmt.Sprintf("#%d", it.f0)
	}
	var takeover *item
	for _, it := range items {
		if it.kind == itTakeover && it.fo == fo && fo >= 0 {
			takeover = it
		}
	}
	for _, it := range items {
		switch it.kind {
		case itArrow, itMark, itSwitch, itNote:
			if !in(it.t0) {
				continue
			}
			r := textRow{t: it.t0, frames: frames(it), it: it, labelled: true}
			switch {
			case it.ev == "failover" && takeover != nil && it.f0 == takeover.f0:
				r.note = "took " + fmtMS(l.a.Failovers[fo].DetectMS)
			case it.kind == itSwitch:
				r.note = "after " + fmtMS(ms(it.t0.Sub(l.a.Failovers[it.fo].Time)))
			case it.kind == itMark || it.kind == itNote:
				r.labelled, r.note = false, it.label
			}
			rows = append(rows, r)
		case itAdverts:
			t := it.t0
			if t.Before(lo) {
				t = lo
			}
			note := it.label
			if it.period > 0 {
				note += ", every " + fmtInterval(ms(it.period))
			}
			rows = append(rows, textRow{t: t, frames: frames(it), it: it, note: note})
		case itStale:
			if in(it.t0) {
				rows = append(rows, textRow{t: it.t0, it: it, note: fmt.Sprintf("stale: %s to the old MAC", plural(it.count, "frame", "frames"))})
			}
			if in(it.t1) && it.t1.After(it.t0) {
				rows = append(rows, textRow{t: it.t1, it: it, note: "last frame to the old MAC"})
			} else if it.t1.After(hi) {
				rows = append(rows, textRow{t: hi, it: it, note: "stale until " + fmtOffset(it.t1.Sub(ref))})
			}
		case itOutage:
			if in(it.t1) && it.t1.After(it.t0) {
				rows = append(rows, textRow{t: it.t1, it: it, note: fmt.Sprintf("answered after %d unanswered", it.count)})
			} else if it.t1.After(hi) {
				rows = append(rows, textRow{t: hi, it: it, note: fmt.Sprintf("%d unanswered, no answer yet", it.count)})
			}
		case itTakeover:
			if it.fo != fo {
				continue
			}
			f := l.a.Failovers[it.fo]
			if in(it.t0) {
				// On the old master's priority-0 advert when there is one.
				merged := false
				for i := range rows {
					if r := &rows[i]; r.t.Equal(it.t0) && r.it != nil && r.it.from == it.from && r.it.ev == "resign" {
						r.note = strings.TrimPrefix(r.note+", last advert", ", ")
						merged = true
					}
				}
				if !merged {
					rows = append(rows, textRow{t: it.t0, it: it, note: "old master's last advert"})
				}
			}
			if f.ExpectedMS > 0 {
				if t := it.t0.Add(msDur(f.ExpectedMS)); in(t) {
					rows = append(rows, textRow{t: t, it: it, note: fmt.Sprintf("RFC %s %s", rfcName(f), fmtMS(f.ExpectedMS))})
				}
			}
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].t.Before(rows[j].t) })
	// Gaps: a pause longer than a tenth of the window.
	span := hi.Sub(lo)
	var out []textRow
	for i, r := range rows {
		if i > 0 {
			d := r.t.Sub(rows[i-1].t)
			if d > span/10 && d > 50*time.Millisecond {
				mid := rows[i-1].t.Add(d / 2)
				out = append(out, textRow{t: mid, gap: true, note: "(" + fmtGap(d) + ")"})
			}
		}
		out = append(out, r)
	}
	return out
}

func fmtGap(d time.Duration) string {
	if d >= time.Second {
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
	return fmt.Sprintf("%.0f ms", ms(d))
}

// laneCells draws one row across the lanes: each lane's glyph for its state
// at the row's time, and the row's arrow or mark over them.
func (l *ladder) laneCells(st styles, items []*item, lanes []int, col map[int]int, laneW int, r textRow) (cells []string, paints []paint, onArrow bool) {
	n := len(lanes) * laneW
	cells = make([]string, n)
	paints = make([]paint, n)
	for i := range cells {
		cells[i] = " "
		paints[i] = noPaint
	}
	center := func(c int) int { return c*laneW + laneW/2 }
	for c, ln := range lanes {
		g, p := l.laneState(st, items, ln, r.t)
		if r.gap && g == glyphIdle {
			g = "┊"
		}
		cells[center(c)] = g
		paints[center(c)] = p
	}
	if r.gap || r.it == nil {
		return cells, paints, false
	}
	it := r.it
	fc, okf := col[it.from]
	switch it.kind {
	case itArrow, itSwitch:
		tc, okt := col[it.to]
		if !okf || !okt || fc == tc {
			break
		}
		a, b := center(fc), center(tc)
		dash := "─"
		if it.ev == "failover" || it.ev == "election" || it.ev == "split-brain" || it.kind == itSwitch {
			dash = "╌"
		}
		p := l.arrowPaint(st, it)
		lo, hi := min(a, b), max(a, b)
		for x := lo + 1; x < hi; x++ {
			cells[x], paints[x] = dash, p
		}
		if b > a {
			cells[hi-1] = "►"
		} else {
			cells[lo+1] = "◄"
		}
		// The label on the arrow, when it fits with a margin.
		label := " " + it.label + " "
		room := hi - lo - 3
		if lw := textWidth(label); lw <= room {
			start := lo + 2 + (room-lw)/2
			if b < a {
				start = lo + 2 + (room-lw+1)/2
			}
			x := start
			for _, rn := range label {
				cells[x], paints[x] = string(rn), p
				x++
			}
			onArrow = true
		}
	case itMark, itAdverts:
		if !okf {
			break
		}
		g := "●"
		switch {
		case it.kind == itAdverts:
			g = "┿"
		case it.ev == "master":
			g = "◆"
		case it.ev == "silent":
			g = "✕"
		case it.ev == "priority":
			g = "◇"
		}
		cells[center(fc)], paints[center(fc)] = g, l.arrowPaint(st, it)
	case itStale, itOutage:
		if okf {
			g := "▼"
			if !r.t.Equal(it.t0) {
				g = "▲"
			}
			cells[center(fc)], paints[center(fc)] = g, l.arrowPaint(st, it)
		}
	}
	return cells, paints, onArrow
}

func (l *ladder) arrowPaint(st styles, it *item) paint {
	switch it.kind {
	case itStale:
		return st.critical
	case itOutage:
		return st.warning
	case itAdverts:
		return st.dim
	case itSwitch:
		return st.good
	}
	switch it.ev {
	case "garp":
		return st.info
	case "failover", "master":
		return st.bold
	case "split-brain":
		return st.critical
	case "resign", "contend", "silent", "priority", "election":
		return st.warning
	case "join", "leave":
		return st.dim
	}
	return noPaint
}

// laneState is a lane's glyph at t: a stale client, a client waiting for
// answers, a master (a contender in a split brain in red), or idle.
func (l *ladder) laneState(st styles, items []*item, ln int, t time.Time) (string, paint) {
	g, p, rank := glyphIdle, st.dim, 0
	for _, it := range items {
		if it.from != ln || t.Before(it.t0) || t.After(it.t1) {
			continue
		}
		switch {
		case it.kind == itStale && rank < 4:
			g, p, rank = glyphStale, st.critical, 4
		case it.kind == itContender && rank < 3:
			g, p, rank = glyphMaster, st.critical, 3
		case it.kind == itOutage && rank < 2:
			g, p, rank = glyphOutage, st.warning, 2
		case it.kind == itMaster && rank < 1:
			g, p, rank = glyphMaster, st.good, 1
		}
	}
	return g, p
}
