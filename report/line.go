package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/vrrpctl/vrrpctl/analyze"
)

// The one-line forms are for the live watcher: each returns a single line
// without the newline. Times are offsets from start, or the wall clock when
// start is zero. Lines are never cut to Options.Width: a wrapped line is
// better than a lost one.

// EventLine renders one timeline event:
// "+3.600s  #3-#31  VRID 51  192.168.33.101 advertised every 1.00 s x 12".
func EventLine(ev analyze.Event, start time.Time, opt Options) string {
	st := newStyles(opt.Color)
	parts := []string{relTime(ev.Time, start), st.dim(fmtEventFrames(ev))}
	if ev.VRID != 0 {
		parts = append(parts, "VRID "+groupLabel(ev.VRID, ev.VLAN, ""))
	}
	parts = append(parts, st.eventPaint(ev.Kind)(strings.ReplaceAll(eventSummary(ev), nbsp, " ")))
	return strings.Join(parts, "  ")
}

// FindingLine renders one finding: time, severity, code, VRID, frames and
// summary; with Verbose also the hint.
func FindingLine(f analyze.Finding, start time.Time, opt Options) string {
	st := newStyles(opt.Color)
	parts := []string{relTime(f.Time, start), st.severity(f.Severity)(severityWord(f.Severity)), st.bold(clean(f.Code))}
	if f.VRID != 0 {
		parts = append(parts, "VRID "+groupLabel(f.VRID, f.VLAN, ""))
	}
	if len(f.Frames) > 0 {
		parts = append(parts, st.dim("#"+fmtFrames(f.Frames, false)))
	}
	if f.Summary != "" {
		parts = append(parts, clean(f.Summary))
	}
	if opt.Verbose && f.Hint != "" {
		parts = append(parts, st.dim("fix:")+" "+clean(f.Hint))
	}
	return strings.Join(parts, "  ")
}

// FailoverLine renders one failover: who took over from whom, why, and how
// long it took against the RFC timer. The GARP latency and the clients
// appear once known; a missing GARP is reported as a finding.
func FailoverLine(fo analyze.Failover, start time.Time, opt Options) string {
	st := newStyles(opt.Color)
	parts := []string{
		relTime(fo.Time, start),
		st.dim(fmt.Sprintf("#%d", fo.Frame)),
		st.bold("FAILOVER"),
		"VRID " + groupLabel(fo.VRID, fo.VLAN, fo.Family),
		endpoint(fo.From) + " → " + st.bold(endpoint(fo.To)),
		clean(fo.Cause),
	}
	if fo.Reason != "" {
		parts = append(parts, "("+clean(fo.Reason)+")")
	}
	took := "took " + fmtMS(fo.DetectMS)
	if fo.ExpectedMS > 0 {
		took += fmt.Sprintf(" (expected %s, %s)", fmtMS(fo.ExpectedMS), fmtDiffMS(fo.DetectMS-fo.ExpectedMS))
	}
	parts = append(parts, took)
	if fo.GarpMS != nil {
		parts = append(parts, "GARP after "+fmtMS(*fo.GarpMS))
	}
	if len(fo.Clients) > 0 {
		c, bad := clientSummary(fo, true)
		if bad {
			c = st.warning(c)
		}
		parts = append(parts, "clients "+c)
	}
	return strings.Join(parts, "  ")
}

// StatusLine renders who is master of each virtual router at now, and for
// how long: "status  VRID 51: 192.168.33.101 master for 12.3s (12 adverts)".
func StatusLine(groups []analyze.Group, now time.Time, opt Options) string {
	st := newStyles(opt.Color)
	if len(groups) == 0 {
		return st.dim("status") + "  no virtual router seen yet"
	}
	parts := make([]string, 0, len(groups))
	for _, g := range groups {
		s := "VRID " + groupLabel(g.VRID, g.VLAN, g.Family) + ": "
		if g.Master == nil {
			parts = append(parts, s+st.warning("no master"))
			continue
		}
		s += st.good(endpoint(*g.Master)) + " master"
		if m, ok := currentMastership(g); ok {
			if !now.IsZero() && !m.From.IsZero() {
				s += " for " + fmtAge(now.Sub(m.From))
			}
			s += " (" + plural(m.Adverts, "advert", "adverts") + ")"
		}
		if sp, ok := speakerOf(g, *g.Master); ok {
			s += ", prio " + strconv.Itoa(sp.Priority)
		}
		parts = append(parts, s)
	}
	return st.dim("status") + "  " + strings.Join(parts, "; ")
}

// currentMastership is the open mastership period of the group's master.
func currentMastership(g analyze.Group) (analyze.Mastership, bool) {
	for i := len(g.Masterships) - 1; i >= 0; i-- {
		m := g.Masterships[i]
		if m.IP == g.Master.IP && m.To.IsZero() {
			return m, true
		}
	}
	return analyze.Mastership{}, false
}

func speakerOf(g analyze.Group, e analyze.Endpoint) (analyze.Speaker, bool) {
	for _, s := range g.Speakers {
		if s.IP == e.IP {
			return s, true
		}
	}
	return analyze.Speaker{}, false
}

// fmtAge formats an elapsed time coarsely: "12.3s", "4m05s".
func fmtAge(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	if d < time.Minute {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	d = d.Round(time.Second)
	if d < time.Hour {
		return fmt.Sprintf("%dm%02ds", d/time.Minute, (d%time.Minute)/time.Second)
	}
	return fmt.Sprintf("%dh%02dm", d/time.Hour, (d%time.Hour)/time.Minute)
}

// NDJSON kinds.
const (
	KindEvent    = "event"
	KindFinding  = "finding"
	KindFailover = "failover"
	KindSummary  = "summary"
)

// NDJSON writes v as one line {"type": kind, "data": v}, in the shapes of
// the JSON document (lists never null). The line is written in one Write.
func NDJSON(w io.Writer, kind string, v any) error {
	switch kind {
	case KindEvent, KindFinding, KindFailover, KindSummary:
	default:
		return fmt.Errorf("report: unknown NDJSON type %q", kind)
	}
	switch x := v.(type) {
	case analyze.Finding:
		v = normalizeFinding(x)
	case *analyze.Finding:
		if x != nil {
			v = normalizeFinding(*x)
		}
	case analyze.Failover:
		v = normalizeFailover(x)
	case *analyze.Failover:
		if x != nil {
			v = normalizeFailover(*x)
		}
	case analyze.Analysis:
		v = normalizeAnalysis(&x)
	case *analyze.Analysis:
		if x != nil {
			v = normalizeAnalysis(x)
		}
	case []analyze.Group:
		gs := make([]analyze.Group, len(x))
		for i, g := range x {
			gs[i] = normalizeGroup(g)
		}
		v = gs
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(struct {
		Type string `json:"type"`
		Data any    `json:"data"`
	}{kind, v}); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}
