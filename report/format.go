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

// eventSummary is the engine's summary with the size of a folded run,
// unless the summary already states it ("sent 5 gratuitous ARPs").
func eventSummary(ev analyze.Event) string {
	s := clean(ev.Summary)
	if ev.Count > 1 && !statesCount(s, ev.Count) {
		s += " x" + nbsp + strconv.Itoa(ev.Count)
	}
	return s
}

// statesCount reports whether n appears in s as a number of its own, not as
// part of an address or a decimal.
func statesCount(s string, n int) bool {
	num := strconv.Itoa(n)
	part := func(b byte) bool { return b >= '0' && b <= '9' || b == '.' || b == ':' }
	for i := 0; i+len(num) <= len(s); i++ {
		if s[i:i+len(num)] != num {
			continue
		}
		if (i == 0 || !part(s[i-1])) && (i+len(num) == len(s) || !part(s[i+len(num)])) {
			return true
		}
	}
	return false
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

// clientCount is "switched/total" and the number of clients that stayed
// with the old master's MAC.
func clientCount(fo analyze.Failover, hasDstMAC bool) string {
	if !hasDstMAC {
		return "n/a"
	}
	if len(fo.Clients) == 0 {
		return "-"
	}
	switched, stale := 0, 0
	for _, c := range fo.Clients {
		if c.SwitchMS != nil {
			switched++
		}
		if c.StaleFrames > 0 {
			stale++
		}
	}
	s := fmt.Sprintf("%d/%d", switched, len(fo.Clients))
	if stale > 0 {
		s += fmt.Sprintf(", %d"+nbsp+"stale", stale)
	}
	return s
}

// clientSummary condenses how the clients followed one failover.
func clientSummary(fo analyze.Failover, hasDstMAC bool) string {
	if !hasDstMAC {
		return "n/a"
	}
	if len(fo.Clients) == 0 {
		return "-"
	}
	switched, stale, staleFrames := 0, 0, 0
	maxMS := 0.0
	for _, c := range fo.Clients {
		if c.SwitchMS != nil {
			switched++
			maxMS = math.Max(maxMS, *c.SwitchMS)
		}
		if c.StaleFrames > 0 {
			stale++
			staleFrames += c.StaleFrames
		}
	}
	s := fmt.Sprintf("%d/%d switched", switched, len(fo.Clients))
	if switched > 0 {
		s += " within " + fmtMS(maxMS)
	}
	if stale > 0 {
		s += fmt.Sprintf(", %d stale (%s)", stale, plural(staleFrames, "frame", "frames"))
	}
	return s
}
