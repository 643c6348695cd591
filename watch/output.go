package watch

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/vrrpctl/vrrpctl/analyze"
	"github.com/vrrpctl/vrrpctl/report"
)

// output writes whole lines, each in one Write (the writer is os.Stdout,
// unbuffered: a line is out as soon as it is printed). On a terminal the
// last line is a status line redrawn in place; printing a line first erases
// it and draws it again below.
type output struct {
	w      io.Writer
	json   bool
	status bool
	opt    report.Options

	shown string // the status line on screen, "" when none
}

// eraseLine returns the cursor to column 0 and clears the line.
const eraseLine = "\r\x1b[K"

func (o *output) line(s string) error {
	var b strings.Builder
	if o.shown != "" {
		b.WriteString(eraseLine)
	}
	b.WriteString(s)
	b.WriteByte('\n')
	if o.shown != "" {
		b.WriteString(o.shown)
	}
	_, err := io.WriteString(o.w, b.String())
	return err
}

func (o *output) ndjson(kind string, v any) error {
	return report.NDJSON(o.w, kind, v)
}

// setStatus draws the status line in place, cut to the terminal width so it
// never wraps (a wrapped line cannot be redrawn with a carriage return).
func (o *output) setStatus(s string) {
	if !o.status {
		return
	}
	if width := o.opt.Width; width > 1 {
		s = ansi.Truncate(s, width-1, "…")
	}
	if s == o.shown {
		return
	}
	o.shown = s
	io.WriteString(o.w, eraseLine+s)
}

func (o *output) clearStatus() {
	if o.shown != "" {
		io.WriteString(o.w, eraseLine)
		o.shown = ""
	}
}

// statusLine is report.StatusLine with, for each virtual router with a
// master, the time since the master's last advert.
func statusLine(groups []analyze.Group, now time.Time, opt report.Options) string {
	s := report.StatusLine(groups, now, opt)
	var ages []string
	for _, g := range groups {
		if g.Master == nil {
			continue
		}
		for _, sp := range g.Speakers {
			if sp.IP == g.Master.IP && !sp.LastAdvert.IsZero() {
				ages = append(ages, fmt.Sprintf("VRID %d last advert %.1fs ago", g.VRID, max(0, now.Sub(sp.LastAdvert).Seconds())))
			}
		}
	}
	if len(ages) == 0 {
		return s
	}
	return s + "  |  " + strings.Join(ages, ", ")
}

// neighbourLine shows a change of this host's neighbour entry for a VIP, as
// `ip neigh` would: the observation, not a conclusion.
func neighbourLine(n neighbourEntry, opt report.Options) string {
	ts := n.Time.Format("15:04:05.000")
	return ts + "  neigh  " + n.String()
}
