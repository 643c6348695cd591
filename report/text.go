package report

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/vrrpctl/vrrpctl/analyze"
)

// Shown without Verbose: the first few decode errors.
const shownErrors = 5

// Text writes the terminal report of a: header, virtual routers, failovers,
// findings (most severe first), timeline, decode errors and notes.
func Text(w io.Writer, a *analyze.Analysis, opt Options) error {
	if a == nil {
		return fmt.Errorf("report: no analysis")
	}
	t := &textReport{a: a, opt: opt, st: newStyles(opt.Color), width: opt.width()}
	t.header()
	t.captures()
	t.groups()
	t.failovers()
	t.splitBrains()
	t.findings()
	t.timeline()
	t.decodeErrors()
	t.notes()
	bw := bufio.NewWriter(w)
	for _, l := range t.out {
		bw.WriteString(l)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

type textReport struct {
	a     *analyze.Analysis
	opt   Options
	st    styles
	width int
	out   []string
}

func (t *textReport) line(s string) { t.out = append(t.out, s) }

// section starts a titled section, separated from the previous one.
func (t *textReport) section(title string) {
	if len(t.out) > 0 {
		t.line("")
	}
	t.line(t.st.title(title))
}

// para writes text wrapped to the width: the first line after first, the
// following lines indented by indent cells. Each line is painted with p.
func (t *textReport) para(first string, indent int, text string, p paint) {
	prefix := first
	for i, l := range wrap(text, max(t.width-indent, 10)) {
		if i > 0 {
			prefix = strings.Repeat(" ", indent)
		}
		t.line(prefix + p(l))
	}
}

// parts writes parts separated by two spaces, wrapped to the width between
// parts; the first line starts with first, the following are indented.
func (t *textReport) parts(first string, indent int, parts []string) {
	avail := max(t.width-indent, 10)
	line, lineW := first, textWidth(first)
	fresh := true
	for _, p := range parts {
		pw := textWidth(p)
		switch {
		case fresh:
		case lineW+2+pw <= t.width:
			line += "  "
			lineW += 2
		default:
			t.line(line)
			line, lineW = strings.Repeat(" ", indent), indent
		}
		fresh = false
		if pw > avail {
			// Too long for any line: break it at its words.
			ws := wrap(p, avail)
			for _, l := range ws[:len(ws)-1] {
				t.line(line + l)
				line, lineW = strings.Repeat(" ", indent), indent
			}
			p, pw = ws[len(ws)-1], textWidth(ws[len(ws)-1])
		}
		line += p
		lineW += pw
	}
	t.line(line)
}

// field writes one "label  value" header line with the value wrapped.
func (t *textReport) field(label, value string, p paint) {
	const labelWidth = 12
	first := "  " + t.st.dim(label) + strings.Repeat(" ", max(labelWidth-textWidth(label), 1))
	t.para(first, 2+labelWidth, value, p)
}

func (t *textReport) header() {
	src := t.a.Source
	name := clean(src.File)
	if name == "" {
		name = "(live capture)"
	}
	t.line(t.st.bold("vrrpctl analysis") + "  " + t.st.bold(name))
	if src.LinkType != "" {
		t.field("link type", clean(src.LinkType), noPaint)
	}
	if !src.Start.IsZero() {
		span := src.Start.Format("2006-01-02 15:04:05.000 MST")
		if !src.End.IsZero() {
			end := src.End.In(src.Start.Location())
			layout := "15:04:05.000"
			if end.YearDay() != src.Start.YearDay() || end.Year() != src.Start.Year() {
				layout = "2006-01-02 15:04:05.000"
			}
			span += " .. " + end.Format(layout)
		}
		span += " (" + fmtSpan(src.SpanMS) + ")"
		t.field("span", span, noPaint)
	}
	frames := strconv.FormatUint(src.Frames, 10)
	if src.DecodeErrors > 0 {
		frames += ", " + t.st.warning(plural(src.DecodeErrors, "decode error", "decode errors"))
	} else {
		frames += ", no decode errors"
	}
	t.field("frames", frames, noPaint)
	if src.Received != nil || src.Dropped != nil {
		var parts []string
		if src.Received != nil {
			parts = append(parts, fmt.Sprintf("received %d", *src.Received))
		}
		p := noPaint
		if src.Dropped != nil {
			parts = append(parts, fmt.Sprintf("dropped %d", *src.Dropped))
			if *src.Dropped > 0 {
				p = t.st.warning
			}
		}
		t.field("libpcap", strings.Join(parts, ", "), p)
	}
	t.field("verdict", t.verdict(), noPaint)

	if src.Damaged || src.ReadError != "" {
		msg := "the capture is damaged: reading stopped early"
		if src.ReadError != "" {
			msg += " (" + clean(src.ReadError) + ")"
		}
		msg += "; what follows covers only the frames before the damage."
		t.para("  "+t.st.warning("WARNING")+" ", 10, msg, noPaint)
	}
	if !src.HasDstMAC && src.Frames > 0 {
		t.para("  "+t.st.warning("WARNING")+" ", 10,
			"the capture has no destination MACs (Linux cooked capture): stale ARP caches (stale-arp) and client switch times could not be determined.",
			noPaint)
	}
}

// verdict counts what the report holds, worst first.
func (t *textReport) verdict() string {
	var crit, warn, info int
	for _, f := range t.a.Findings {
		switch f.Severity {
		case analyze.Critical:
			crit++
		case analyze.Warning:
			warn++
		default:
			info++
		}
	}
	parts := []string{
		plural(len(t.a.Groups), "virtual router", "virtual routers"),
		plural(len(t.a.Failovers), "failover", "failovers"),
	}
	if crit > 0 {
		parts = append(parts, t.st.critical(fmt.Sprintf("%d critical", crit)))
	}
	if warn > 0 {
		parts = append(parts, t.st.warning(plural(warn, "warning", "warnings")))
	}
	if info > 0 {
		parts = append(parts, t.st.info(fmt.Sprintf("%d info", info)))
	}
	if crit+warn+info == 0 {
		parts = append(parts, t.st.good("no findings"))
	}
	return strings.Join(parts, ", ")
}

// captures lists the captures of a merged analysis: where each was taken
// and how its clock was brought onto the reference's.
func (t *textReport) captures() {
	if len(t.a.Sources) == 0 {
		return
	}
	t.section("CAPTURES")
	tb := &table{cols: []column{{head: "NAME", wrap: true}, {head: "FILE", wrap: true}, {head: "FRAMES", right: true},
		{head: "CLOCK", wrap: true}, {head: "HOP\nms", right: true}, {head: "TAKEN ON", wrap: true}}}
	for _, v := range t.a.Sources {
		clock := "reference"
		p := noPaint
		switch {
		case !v.Aligned:
			clock, p = "not aligned: analyzed on its own", t.st.warning
		case !v.Reference:
			clock = fmt.Sprintf("%+.3f ± %.3f ms, %d frames", v.OffsetMS, v.ErrorMS, v.Matched)
			if v.DriftPPM != 0 {
				clock += fmt.Sprintf(", %+.1f ppm", v.DriftPPM)
			}
		}
		hop := "-"
		if v.AdvertsSeen > 0 {
			hop = fmtNum(v.AdvertDelayMS)
		}
		on := clean(v.Inferred)
		if v.Host != "" {
			on = clean(v.Host) + " (" + on + ")"
		}
		tb.add(cell{text: clean(v.Name)}, cell{text: clean(v.File)}, cell{text: strconv.FormatUint(v.Frames, 10)},
			cell{clock, p}, cell{text: hop}, cell{text: on})
	}
	for _, l := range tb.lines(t.st, 2, t.width) {
		t.line(l)
	}
}

func (t *textReport) groups() {
	t.section("VIRTUAL ROUTERS")
	if len(t.a.Groups) == 0 {
		t.line("  none seen")
		return
	}
	for gi, g := range t.a.Groups {
		if gi > 0 {
			t.line("")
		}
		head := []string{t.st.bold("VRID " + groupLabel(g.VRID, g.VLAN, "")), clean(g.Family)}
		if g.VLAN == 0 {
			head = append(head, "untagged")
		}
		if len(g.VIPs) > 0 {
			vips := make([]string, len(g.VIPs))
			for i, v := range g.VIPs {
				vips[i] = clean(v)
			}
			label := "VIP "
			if len(vips) > 1 {
				label = "VIPs "
			}
			head = append(head, label+strings.Join(vips, ", "))
		}
		if g.VirtualMAC != "" {
			head = append(head, "virtual MAC "+clean(g.VirtualMAC))
		}
		if g.Master != nil {
			head = append(head, "master at end "+t.st.good(endpoint(*g.Master)))
		} else {
			head = append(head, t.st.warning("no master at end"))
		}
		t.parts("  ", 4, head)
		if len(g.Speakers) == 0 {
			t.line("    no adverts seen")
			continue
		}
		tb := &table{cols: []column{
			{head: "SPEAKER", wrap: true}, {head: "PRIO", right: true},
			{head: "INTERVAL", right: true}, {head: "VER", right: true},
			{head: "AUTH", wrap: true}, {head: "ADVERTS", right: true},
			{head: "FRAMES"}, {head: "AT END"},
		}}
		for _, s := range g.Speakers {
			auth := clean(s.Auth)
			if t.opt.Verbose && s.AuthPass != "" {
				auth += " " + strconv.QuoteToASCII(s.AuthPass)
			}
			frames := fmt.Sprintf("%d-%d", s.FirstFrame, s.LastFrame)
			if s.FirstFrame == s.LastFrame {
				frames = strconv.FormatUint(s.FirstFrame, 10)
			}
			role := cell{}
			if g.Master != nil && g.Master.IP == s.IP && (g.Master.MAC == "" || g.Master.MAC == s.MAC) {
				role = cell{"master", t.st.good}
			}
			who := clean(s.IP) + " " + clean(s.MAC)
			if s.VirtualMAC {
				// Every router of the VRID sends from the virtual MAC: its own
				// MAC is what tells it apart, when the capture shows it.
				who = strings.Join(strings.Fields(clean(s.IP)+" "+clean(s.OwnMAC)+" vmac"), " ")
			}
			prio := strconv.Itoa(s.Priority)
			if s.MaxPriority > s.Priority {
				prio += " (max " + strconv.Itoa(s.MaxPriority) + ")"
			}
			tb.add(cell{text: who}, cell{text: prio},
				cell{text: fmtInterval(s.AdvertIntervalMS)}, cell{text: "v" + strconv.Itoa(s.Version)},
				cell{text: auth}, cell{text: strconv.Itoa(s.Adverts)}, cell{text: frames}, role)
		}
		for _, l := range tb.lines(t.st, 4, t.width) {
			t.line(l)
		}
	}
}

func (t *textReport) failovers() {
	t.section("FAILOVERS")
	if len(t.a.Failovers) == 0 {
		t.line("  none: mastership did not change")
		return
	}
	start := t.a.Source.Start
	// The VRID column only earns its room when more than one router failed over.
	multi := false
	for _, fo := range t.a.Failovers {
		f0 := t.a.Failovers[0]
		multi = multi || fo.VRID != f0.VRID || fo.VLAN != f0.VLAN || fo.Family != f0.Family
	}
	cols := []column{{head: "TIME", right: true}, {head: "FRAME", right: true}}
	if multi {
		cols = append(cols, column{head: "VRID", wrap: true})
	}
	tb := &table{cols: append(cols,
		column{head: "FROM → TO", wrap: true}, column{head: "CAUSE"},
		// Units go in the headers so that the numbers stay narrow.
		column{head: "TOOK\nms", right: true}, column{head: "RFC\nms", right: true},
		column{head: "DIFF\nms", right: true}, column{head: "GARP\nms", right: true},
		column{head: "CLIENTS", wrap: true},
	)}
	for _, fo := range t.a.Failovers {
		expected, diff := cell{text: "-"}, cell{text: "-"}
		if fo.ExpectedMS > 0 {
			expected = cell{text: fmtNum(fo.ExpectedMS)}
			diff = cell{text: fmtDiffNum(fo.DetectMS - fo.ExpectedMS)}
		}
		garp := cell{"none", t.st.warning}
		if fo.GarpMS != nil {
			garp = cell{text: fmtNum(*fo.GarpMS)}
		}
		clients, bad := clientCount(fo, t.a.Source.HasDstMAC)
		cp := noPaint
		if bad {
			cp = t.st.warning
		}
		row := []cell{{text: relTime(fo.Time, start)}, {text: strconv.FormatUint(fo.Frame, 10)}}
		if multi {
			row = append(row, cell{text: groupLabel(fo.VRID, fo.VLAN, fo.Family)})
		}
		tb.add(append(row,
			cell{text: endpoint(fo.From) + " → " + endpoint(fo.To)},
			cell{clean(fo.Cause), t.st.bold}, cell{text: fmtNum(fo.DetectMS)}, expected, diff, garp,
			cell{clients, cp})...)
	}
	for _, l := range tb.lines(t.st, 2, t.width) {
		t.line(l)
	}
	// What the table cannot say: why a preemption happened, why no RFC
	// time applies.
	for _, fo := range t.a.Failovers {
		if fo.Reason != "" && (fo.PriorityDrop || fo.Cause != analyze.CausePreempt) {
			first := "  " + relTime(fo.Time, start) + "  "
			t.para(first, textWidth(first), clean(fo.Cause)+": "+clean(fo.Reason), noPaint)
		}
	}
	if !t.opt.Verbose {
		return
	}
	// Per client, for whoever needs to know which host lagged.
	sep := false
	for _, fo := range t.a.Failovers {
		for _, c := range fo.Clients {
			if !sep {
				t.line("")
				sep = true
			}
			s := fmt.Sprintf("%s client %s (%s): ", relTime(fo.Time, start), clean(c.IP), clean(c.MAC))
			if fo.VirtualMAC {
				if c.AnswerMS != nil {
					s += "first answer from the VIP after " + fmtMS(*c.AnswerMS)
				} else {
					s += "no answer from the VIP"
				}
				if c.Unanswered > 0 {
					s += ", " + plural(c.Unanswered, "request", "requests") + " unanswered before"
				}
				t.para("  ", 4, s, noPaint)
				continue
			}
			if !t.a.Source.HasDstMAC {
				continue
			}
			if c.SwitchMS != nil {
				s += "switched to " + endpoint(fo.To) + " after " + fmtMS(*c.SwitchMS)
			} else {
				s += "never switched to " + endpoint(fo.To)
			}
			if c.StaleFrames > 0 {
				s += ", " + plural(c.StaleFrames, "frame", "frames") + " to the old master's MAC"
			}
			t.para("  ", 4, s, noPaint)
		}
	}
}

// splitBrains lists the periods in which two routers held a VIP at once.
func (t *textReport) splitBrains() {
	if len(t.a.SplitBrains) == 0 {
		return
	}
	t.section("SPLIT BRAINS")
	start := t.a.Source.Start
	tb := &table{cols: []column{{head: "TIME", right: true}, {head: "FRAMES"}, {head: "VRID", wrap: true},
		{head: "ROUTERS (CLAIMS)", wrap: true}, {head: "LASTED", right: true}, {head: "ENDED", wrap: true}}}
	for _, sb := range t.a.SplitBrains {
		var sides []string
		ended := "capture ended"
		for _, r := range sb.Routers {
			sides = append(sides, fmt.Sprintf("%s (%d)", clean(r.IP), r.Claims))
			if r.GaveUp {
				ended = clean(r.IP) + " gave up"
			}
		}
		tb.add(cell{text: relTime(sb.Start, start)}, cell{fmt.Sprintf("%d-%d", sb.StartFrame, sb.EndFrame), t.st.dim},
			cell{text: groupLabel(sb.VRID, sb.VLAN, sb.Family)}, cell{strings.Join(sides, " + "), t.st.critical},
			cell{text: fmtSpan(sb.DurationMS)}, cell{text: ended})
	}
	for _, l := range tb.lines(t.st, 2, t.width) {
		t.line(l)
	}
	for _, sb := range t.a.SplitBrains {
		for _, c := range sb.Clients {
			first := "  " + relTime(sb.Start, start) + "  "
			t.para(first, textWidth(first), fmt.Sprintf("client %s (%s) moved to %s's MAC (frames %s)",
				clean(c.IP), clean(c.MAC), clean(sb.Routers[len(sb.Routers)-1].IP), fmtFrames(c.Frames, t.opt.Verbose)), noPaint)
		}
	}
}

func (t *textReport) findings() {
	t.section("FINDINGS")
	if len(t.a.Findings) == 0 {
		t.line("  " + t.st.good("none"))
		return
	}
	start := t.a.Source.Start
	for i, f := range sortedFindings(t.a.Findings) {
		if i > 0 {
			t.line("")
		}
		sev := t.st.severity(f.Severity)
		head := []string{sev(severityWord(f.Severity)), t.st.bold(clean(f.Code))}
		if f.VRID != 0 {
			head = append(head, "VRID "+groupLabel(f.VRID, f.VLAN, ""))
		}
		if !f.Time.IsZero() {
			head = append(head, relTime(f.Time, start))
		}
		if len(f.Frames) > 0 {
			label := "frame "
			if len(f.Frames) > 1 {
				label = "frames "
			}
			head = append(head, label+fmtFrames(f.Frames, t.opt.Verbose))
		}
		t.parts("  ", 4, head)
		if f.Summary != "" {
			t.para("    ", 4, clean(f.Summary), noPaint)
		}
		if t.opt.Verbose && len(f.FramesAt) > 0 {
			t.para("    "+t.st.dim("in")+" ", 7, framesAt(f.FramesAt), noPaint)
		}
		if t.opt.Verbose && f.Detail != "" {
			t.para("    "+t.st.dim("why")+" ", 8, clean(f.Detail), noPaint)
		}
		if f.Hint != "" {
			t.para("    "+t.st.dim("fix")+" ", 8, clean(f.Hint), noPaint)
		}
	}
}

// timelineEdge is how many events the short report keeps at each end.
const timelineEdge = 40

func (t *textReport) timeline() {
	t.section("TIMELINE")
	if len(t.a.Timeline) == 0 {
		t.line("  no events")
		return
	}
	// The VRID column only earns its room when more than one router speaks.
	// Events of no router (VRID 0: IGMP, ARP) do not count.
	multi := false
	var first *analyze.Event
	for i, ev := range t.a.Timeline {
		switch {
		case ev.VRID == 0:
		case first == nil:
			first = &t.a.Timeline[i]
		case ev.VRID != first.VRID || ev.VLAN != first.VLAN:
			multi = true
		}
	}
	cols := []column{{head: "TIME", right: true}, {head: "FRAME"}}
	if multi {
		cols = append(cols, column{head: "VRID", wrap: true})
	}
	cols = append(cols, column{head: "EVENT", wrap: true})
	tb := &table{cols: cols}
	// The report is one screen: a long timeline keeps its head and its tail
	// unless asked for in full (-v, or --json for machines).
	events := t.a.Timeline
	omitted := 0
	if !t.opt.Verbose && len(events) > 2*timelineEdge {
		omitted = len(events) - 2*timelineEdge
		events = append(append([]analyze.Event(nil), events[:timelineEdge]...), events[len(events)-timelineEdge:]...)
	}
	for i, ev := range events {
		if omitted > 0 && i == timelineEdge {
			row := []cell{{text: "…"}, {text: ""}}
			if multi {
				row = append(row, cell{text: ""})
			}
			row = append(row, cell{fmt.Sprintf("%d more events (-v shows them all)", omitted), t.st.dim})
			tb.add(row...)
		}
		row := []cell{{text: relTime(ev.Time, t.a.Source.Start)}, {fmtEventFrames(ev), t.st.dim}}
		if multi {
			vrid := ""
			if ev.VRID != 0 {
				vrid = groupLabel(ev.VRID, ev.VLAN, "")
			}
			row = append(row, cell{text: vrid})
		}
		row = append(row, cell{eventSummary(ev), t.st.eventPaint(ev.Kind)})
		tb.add(row...)
	}
	for _, l := range tb.lines(t.st, 2, t.width) {
		t.line(l)
	}
}

func (t *textReport) decodeErrors() {
	errs := t.a.Errors
	if len(errs) == 0 {
		return
	}
	t.section(fmt.Sprintf("DECODE ERRORS (%d)", len(errs)))
	shown := errs
	if !t.opt.Verbose && len(shown) > shownErrors {
		shown = shown[:shownErrors]
	}
	for _, e := range shown {
		t.para(fmt.Sprintf("  #%-6d ", e.Frame), 10, clean(e.Error), noPaint)
	}
	if len(shown) < len(errs) {
		t.line(t.st.dim(fmt.Sprintf("  … and %d more", len(errs)-len(shown))))
	}
}

func (t *textReport) notes() {
	if len(t.a.Notes) == 0 {
		return
	}
	t.section("NOTES")
	for _, n := range t.a.Notes {
		t.para("  - ", 4, clean(n), noPaint)
	}
}

// eventPaint highlights the events that change who holds the VIP.
func (st styles) eventPaint(kind string) paint {
	switch kind {
	case "failover", "master":
		return st.bold
	case "split-brain":
		return st.critical
	case "resign", "contend", "silent", "truncated", "priority", "election":
		return st.warning
	case "adverts":
		return st.dim
	}
	return noPaint
}
