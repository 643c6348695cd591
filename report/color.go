package report

import (
	"os"

	"github.com/mattn/go-isatty"
)

// ColorWanted reports whether output to f should be coloured: only when f is
// a terminal, NO_COLOR is unset or empty (https://no-color.org) and TERM is
// not "dumb".
func ColorWanted(f *os.File) bool {
	if f == nil {
		return false
	}
	fd := f.Fd()
	return colorOnTerminal(isatty.IsTerminal(fd) || isatty.IsCygwinTerminal(fd))
}

// colorOnTerminal applies NO_COLOR and TERM to output that is, or is not, a
// terminal.
func colorOnTerminal(terminal bool) bool {
	return terminal && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
}
