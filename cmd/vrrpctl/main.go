// Command vrrpctl analyzes, watches, speaks and stages VRRP.
//
// Each subcommand lives in its own file and only parses flags and calls one
// package; the exit status is decided here, in one place.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vrrpctl/vrrpctl/analyze"
)

// Exit statuses, monitoring-plugin style.
const (
	exitOK       = 0 // nothing above info / the test passed
	exitWarning  = 1 // warnings / the test failed
	exitCritical = 2 // critical findings
	exitUnusable = 3 // the input could not be read, the usage was wrong, or a run could not start
)

// exitError carries a status out of a command. A nil Err means the command
// already printed what it had to say.
type exitError struct {
	Code int
	Err  error
}

func (e *exitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *exitError) Unwrap() error { return e.Err }

// withStatus wraps err so that vrrpctl exits with code.
func withStatus(code int, err error) error { return &exitError{Code: code, Err: err} }

// analysisStatus is the status of an analysis printed by analyze or watch:
// its findings' (0 nothing above info, 1 warnings, 2 critical), and at least
// a warning when the capture failed part of the way (readErr), since the
// report then covers only the frames before.
func analysisStatus(a *analyze.Analysis, readErr error) error {
	status := a.ExitStatus()
	if readErr != nil && status < exitWarning {
		status = exitWarning
	}
	if status == exitOK {
		return nil
	}
	return withStatus(status, nil)
}

var rootCmd = &cobra.Command{
	Use:           "vrrpctl",
	Short:         "See what really happened on the wire when a virtual IP moved",
	Long:          "vrrpctl decodes VRRP, IGMP and ARP, builds a failover timeline and flags\nstale ARP caches, GARP anomalies, split brain and misconfigurations.",
	SilenceUsage:  true,
	SilenceErrors: true,
}

// version is the module version the binary was built from ("devel" in a
// work tree), with the VCS revision when the build recorded one.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := strings.TrimPrefix(bi.Main.Version, "(")
	v = strings.TrimSuffix(v, ")")
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
	}
	return v
}

func main() {
	rootCmd.Version = version()
	rootCmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return withStatus(exitUnusable, fmt.Errorf("%w (see '%s --help')", err, c.CommandPath()))
	})
	err := rootCmd.Execute()
	os.Exit(exitCode(err))
}

// memoryLimit is the Go runtime's soft memory limit for analyze and watch:
// the engine's tables are bounded (README, Limits) so that the process
// stays under 64 MiB; the limit makes the garbage collector work harder
// near it rather than let garbage take the process past it. 40 MiB keeps
// the 100 000-client benchmark files at 49 MiB (56 MiB with 48) for the
// same time. On the worst input measured (bench/out/loaded.pcap: every
// table full at once) the live heap reaches about 50 MiB and the process
// 78 MiB, past the ceiling whatever this limit (README, Benchmarks).
const memoryLimit = 40 << 20

// limitMemory sets memoryLimit, unless GOMEMLIMIT says otherwise.
func limitMemory() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}

// exitCode prints err (if it has a message) and returns the status to exit with.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			fmt.Fprintf(os.Stderr, "vrrpctl: %v\n", ee.Err)
		}
		return ee.Code
	}
	// Errors cobra raises itself (unknown command, bad arguments) are usage errors.
	fmt.Fprintf(os.Stderr, "vrrpctl: %v\n", err)
	return exitUnusable
}
