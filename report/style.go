package report

import (
	"io"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// Options control the terminal renderers.
type Options struct {
	// Color styles the output with ANSI escape codes; without it the output
	// holds no escape code at all.
	Color bool
	// Width is the terminal width the report fits in; 0 means unknown (100).
	Width int
	// Verbose adds the explanation of each finding, every evidence frame,
	// per-client switch times and every decode error.
	Verbose bool
}

const (
	defaultWidth = 100
	minWidth     = 40
)

func (o Options) width() int {
	switch {
	case o.Width <= 0:
		return defaultWidth
	case o.Width < minWidth:
		return minWidth
	}
	return o.Width
}

// paint styles one single-line fragment of text.
type paint func(string) string

func noPaint(s string) string { return s }

// styles holds every style of the package. The plain set paints nothing, so
// plain output never carries an escape code.
type styles struct {
	title    paint // section titles
	head     paint // table headers
	dim      paint // secondary text
	bold     paint
	critical paint
	warning  paint
	info     paint
	good     paint
}

func newStyles(color bool) styles {
	if !color {
		return styles{noPaint, noPaint, noPaint, noPaint, noPaint, noPaint, noPaint, noPaint}
	}
	// A renderer of its own: the report never depends on lipgloss's global
	// state or on probing the output. The 16 basic colours follow the user's
	// terminal theme and exist on every terminal.
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.ANSI)
	r.SetHasDarkBackground(true)
	mk := func(st lipgloss.Style) paint {
		return func(s string) string {
			if s == "" {
				return s
			}
			return st.Render(s)
		}
	}
	return styles{
		title:    mk(r.NewStyle().Bold(true)),
		head:     mk(r.NewStyle().Bold(true)),
		dim:      mk(r.NewStyle().Faint(true)),
		bold:     mk(r.NewStyle().Bold(true)),
		critical: mk(r.NewStyle().Bold(true).Foreground(lipgloss.Color("9"))),
		warning:  mk(r.NewStyle().Foreground(lipgloss.Color("3"))),
		info:     mk(r.NewStyle().Foreground(lipgloss.Color("12"))),
		good:     mk(r.NewStyle().Foreground(lipgloss.Color("2"))),
	}
}
