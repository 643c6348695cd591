package report

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"

	"github.com/vrrpctl/vrrpctl/analyze"
)

// clean makes text taken from a capture safe to print: control characters
// (which a crafted packet could use to drive the terminal) become visible
// escapes, and invalid UTF-8 becomes U+FFFD.
func clean(s string) string {
	ok := true
	for _, r := range s {
		if r == utf8.RuneError || r == '\u00a0' || unicode.IsControl(r) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError:
			if _, n := utf8.DecodeRuneInString(s[i:]); n == 1 {
				b.WriteRune(utf8.RuneError)
			} else {
				b.WriteRune(r)
			}
		case r == '\n' || r == '\t' || r == '\u00a0':
			b.WriteByte(' ')
		case unicode.IsControl(r):
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// textWidth is the number of terminal cells s takes, escape codes excluded.
func textWidth(s string) int { return ansi.StringWidth(s) }

// nbsp joins words that wrap must keep on one line ("1 stale"); it prints
// as a plain space.
const nbsp = "\u00a0"

// wrap breaks text into lines of at most width cells at spaces. A word longer
// than width stays whole on its own line.
func wrap(text string, width int) []string {
	var words []string
	for _, w := range strings.Split(text, " ") {
		if w != "" {
			words = append(words, w)
		}
	}
	if len(words) == 0 {
		return []string{""}
	}
	var lines []string
	line := words[0]
	for _, w := range words[1:] {
		if textWidth(line)+1+textWidth(w) > width {
			lines = append(lines, line)
			line = w
			continue
		}
		line += " " + w
	}
	for i := range lines {
		lines[i] = strings.ReplaceAll(lines[i], nbsp, " ")
	}
	return append(lines, strings.ReplaceAll(line, nbsp, " "))
}

// relTime is t as an offset from start ("+9.870s"); the wall clock when
// start is unknown.
func relTime(t, start time.Time) string {
	switch {
	case t.IsZero():
		return "-"
	case start.IsZero():
		return t.Format("15:04:05.000")
	}
	d := t.Sub(start)
	sign := "+"
	if d < 0 {
		sign = "-"
		d = -d
	}
	return fmt.Sprintf("%s%d.%03ds", sign, d/time.Second, (d%time.Second)/time.Millisecond)
}

// fmtMS formats a duration given in milliseconds.
func fmtMS(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "?"
	}
	if math.Abs(v) >= 10000 {
		return fmt.Sprintf("%.2f s", v/1000)
	}
	return fmt.Sprintf("%.1f ms", v)
}

// fmtNum formats milliseconds for a column whose header gives the unit.
func fmtNum(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "?"
	}
	return fmt.Sprintf("%.1f", v)
}

func fmtDiffNum(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "?"
	}
	return fmt.Sprintf("%+.1f", v)
}

// fmtDiffMS formats a signed difference in milliseconds.
func fmtDiffMS(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "?"
	}
	if math.Abs(v) >= 10000 {
		return fmt.Sprintf("%+.2f s", v/1000)
	}
	return fmt.Sprintf("%+.1f ms", v)
}

// fmtSpan formats a capture span given in milliseconds.
func fmtSpan(v float64) string {
	d := time.Duration(v * float64(time.Millisecond)).Truncate(time.Millisecond)
	if d < time.Minute {
		return fmt.Sprintf("%.3f s", d.Seconds())
	}
	return d.Round(time.Millisecond).String()
}

// fmtInterval formats an advertisement interval: VRRPv3 counts centiseconds.
func fmtInterval(v float64) string {
	if v <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f s", v/1000)
}

// plural returns "1 frame" or "3 frames".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// abbrevFrames shows at most a few frame numbers: "4, 6, 32 … (+12)".
const shownFrames = 5

func fmtFrames(frames []uint64, all bool) string {
	n := len(frames)
	if !all && n > shownFrames {
		frames = frames[:3]
	}
	parts := make([]string, len(frames))
	for i, f := range frames {
		parts[i] = strconv.FormatUint(f, 10)
	}
	s := strings.Join(parts, ", ")
	if len(frames) < n {
		s += fmt.Sprintf(" … (+%d)", n-len(frames))
	}
	return s
}

// fmtEventFrames is "#3" or, for a folded run, "#3-#31".
func fmtEventFrames(ev analyze.Event) string {
	if ev.Count > 1 && ev.LastFrame > ev.Frame {
		return fmt.Sprintf("#%d-#%d", ev.Frame, ev.LastFrame)
	}
	return fmt.Sprintf("#%d", ev.Frame)
}

// eventSummary is the engine's summary with the size of a folded run. A
// GARP burst's summary names its count itself; every other folded kind
// (advert runs, repeated IGMP/MLD reports) gets "x N".
func eventSummary(ev analyze.Event) string {
	s := clean(ev.Summary)
	if ev.Count > 1 && ev.Kind != "garp" {
		s += " x" + nbsp + strconv.Itoa(ev.Count)
	}
	return s
}

// framesAt lists a finding's evidence per capture: "here 12, 13; nat2 40".
func framesAt(m map[string][]uint64) string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = clean(n) + " " + fmtFrames(m[n], false)
	}
	return strings.Join(parts, "; ")
}

// groupLabel names a virtual router: "51", "51 vlan 10", "51 ipv6".
func groupLabel(vrid, vlan int, family string) string {
	s := strconv.Itoa(vrid)
	if vlan != 0 {
		s += fmt.Sprintf(" vlan %d", vlan)
	}
	if family != "" && family != "ipv4" {
		s += " " + clean(family)
	}
	return s
}

func endpoint(e analyze.Endpoint) string {
	if e.IP == "" {
		if e.MAC == "" {
			return "?"
		}
		return clean(e.MAC)
	}
	return clean(e.IP)
}

// severityRank orders severities, most severe first.
func severityRank(s analyze.Severity) int {
	switch s {
	case analyze.Critical:
		return 0
	case analyze.Warning:
		return 1
	case analyze.Info:
		return 2
	}
	return 3
}

func (st styles) severity(s analyze.Severity) paint {
	switch s {
	case analyze.Critical:
		return st.critical
	case analyze.Warning:
		return st.warning
	case analyze.Info:
		return st.info
	}
	return st.dim
}

func severityWord(s analyze.Severity) string {
	if s == "" {
		return "UNKNOWN"
	}
	return strings.ToUpper(clean(string(s)))
}

// sortedFindings returns the findings most severe first, then in time order;
// the caller's slice is left as it is.
func sortedFindings(fs []analyze.Finding) []analyze.Finding {
	out := append([]analyze.Finding(nil), fs...)
	sort.SliceStable(out, func(i, j int) bool {
		ri, rj := severityRank(out[i].Severity), severityRank(out[j].Severity)
		if ri != rj {
			return ri < rj
		}
		return out[i].Time.Before(out[j].Time)
	})
	return out
}

// clientStats counts how the clients followed one failover.
type clientStats struct {
	total, switched, stale, staleFrames int
	answered, waited                    int     // virtual MAC: answered at all, after unanswered requests
	maxSwitchMS, maxAnswerMS            float64 // the slowest
}

func clientStatsOf(fo analyze.Failover) clientStats {
	var cs clientStats
	for _, c := range fo.Clients {
		cs.total++
		if c.SwitchMS != nil {
			cs.switched++
			cs.maxSwitchMS = math.Max(cs.maxSwitchMS, *c.SwitchMS)
		}
		if c.StaleFrames > 0 {
			cs.stale++
			cs.staleFrames += c.StaleFrames
		}
		if c.AnswerMS != nil {
			cs.answered++
			cs.maxAnswerMS = math.Max(cs.maxAnswerMS, *c.AnswerMS)
		}
		if c.Unanswered > 0 {
			cs.waited++
		}
	}
	return cs
}

// bad reports whether a client lagged: it kept the old MAC, or with the
// virtual MAC it waited for an answer.
func (cs clientStats) bad(fo analyze.Failover) bool {
	return cs.stale > 0 || fo.VirtualMAC && cs.waited > 0 && cs.maxAnswerMS >= 1000
}

// clientCount is the CLIENTS cell of the failover table: "switched/total"
// and the clients that stayed with the old master's MAC; with the virtual
// MAC (no client changes its entry) "answered/total" and the slowest
// answer.
func clientCount(fo analyze.Failover, hasDstMAC bool) (string, bool) {
	if !hasDstMAC && !fo.VirtualMAC {
		return "n/a", false
	}
	cs := clientStatsOf(fo)
	if cs.total == 0 {
		return "-", false
	}
	if fo.VirtualMAC {
		s := fmt.Sprintf("%d/%d answered", cs.answered, cs.total)
		if cs.waited > 0 && cs.answered > 0 {
			s += " within " + fmtMS(cs.maxAnswerMS)
		}
		return s, cs.bad(fo)
	}
	s := fmt.Sprintf("%d/%d", cs.switched, cs.total)
	if cs.stale > 0 {
		s += fmt.Sprintf(", %d"+nbsp+"stale", cs.stale)
	}
	return s, cs.bad(fo)
}

// clientSummary condenses how the clients followed one failover.
func clientSummary(fo analyze.Failover, hasDstMAC bool) (string, bool) {
	if !hasDstMAC && !fo.VirtualMAC {
		return "n/a", false
	}
	cs := clientStatsOf(fo)
	if cs.total == 0 {
		return "-", false
	}
	if fo.VirtualMAC {
		s := fmt.Sprintf("%d/%d answered", cs.answered, cs.total)
		if cs.answered > 0 {
			s += " within " + fmtMS(cs.maxAnswerMS)
		}
		return s + " (virtual MAC)", cs.bad(fo)
	}
	s := fmt.Sprintf("%d/%d switched", cs.switched, cs.total)
	if cs.switched > 0 {
		s += " within " + fmtMS(cs.maxSwitchMS)
	}
	if cs.stale > 0 {
		s += fmt.Sprintf(", %d stale (%s)", cs.stale, plural(cs.staleFrames, "frame", "frames"))
	}
	return s, cs.bad(fo)
}
