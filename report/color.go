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
	if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	fd := f.Fd()
	return isatty.IsTerminal(fd) || isatty.IsCygwinTerminal(fd)
}
