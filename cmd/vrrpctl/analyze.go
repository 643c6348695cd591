package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/vrrpctl/vrrpctl/analyze"
	"github.com/vrrpctl/vrrpctl/capture"
	"github.com/vrrpctl/vrrpctl/kaconf"
	"github.com/vrrpctl/vrrpctl/report"
)

type outputFlags struct {
	json    bool
	color   string
	width   int
	verbose bool
}

func (o *outputFlags) register(c *cobra.Command) {
	c.Flags().BoolVar(&o.json, "json", false, "print JSON (schema "+analyze.Schema+") instead of the terminal report")
	c.Flags().StringVar(&o.color, "color", "auto", "colour the report: auto (when stdout is a terminal and NO_COLOR is unset), always, never")
	c.Flags().IntVar(&o.width, "width", 0, "wrap the report at this many columns (default: the terminal's, else 100)")
	c.Flags().BoolVarP(&o.verbose, "verbose", "v", false, "explain every finding and print the whole timeline")
}

func (o *outputFlags) options() (report.Options, error) {
	opt := report.Options{Width: o.width, Verbose: o.verbose}
	switch o.color {
	case "auto":
		opt.Color = report.ColorWanted(os.Stdout)
	case "always":
		opt.Color = true
	case "never":
	default:
		return opt, fmt.Errorf("--color %q: want auto, always or never", o.color)
	}
	return opt, nil
}

func init() {
	var out outputFlags
	var confs []string
	var read, htmlFile string
	var ladder bool
	var window time.Duration
	c := &cobra.Command{
		Use:   "analyze FILE [BPF expression] | analyze -r FILE [BPF expression]",
		Short: "Analyze a pcap/pcapng capture: failover timeline and findings",
		Long: `Decode VRRP v2/v3, IGMP and ARP from a capture (pcap or pcapng, optionally
gzip-compressed; - reads standard input), build the failover timeline, measure
each failover against the RFC timers and report what went wrong, with the
evidence frame numbers. Trailing arguments are a tcpdump filter expression.

Exit status: 0 nothing above info, 1 warnings, 2 critical findings, 3 the input
could not be read or the usage was wrong.`,
		Example: `  vrrpctl analyze failover.pcap
  vrrpctl analyze --json capture.pcapng.gz > analysis.json
  vrrpctl analyze --html incident.html failover.pcap   # one file to attach to a ticket
  vrrpctl analyze --ladder --width 120 failover.pcap
  tcpdump -i eth1 -w - 'vrrp or arp or igmp' | vrrpctl analyze -
  vrrpctl analyze trunk.pcap vlan 10
  vrrpctl analyze -r trunk.pcap vlan 10      # as with tcpdump -r
  vrrpctl analyze --keepalived-conf nat1.conf --keepalived-conf nat2.conf failover.pcap`,
		Args: func(cmd *cobra.Command, args []string) error {
			if read == "" && len(args) == 0 {
				return fmt.Errorf("a capture file is needed: vrrpctl analyze FILE, or -r FILE")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ropt, err := out.options()
			if err != nil {
				return withStatus(exitUnusable, err)
			}
			var cfgs []*kaconf.Config
			for _, path := range confs {
				cfg, err := kaconf.ParseFile(path)
				if err != nil {
					return withStatus(exitUnusable, err)
				}
				for _, w := range cfg.Warnings {
					fmt.Fprintf(os.Stderr, "vrrpctl: warning: %v\n", w)
				}
				cfgs = append(cfgs, cfg)
			}
			// As with tcpdump, -r FILE leaves every argument to the filter.
			file, filter := read, strings.Join(args, " ")
			if read == "" {
				file, filter = args[0], strings.Join(args[1:], " ")
			}
			src, err := capture.OpenFile(file, filter)
			if err != nil {
				return withStatus(exitUnusable, err)
			}
			defer src.Close()
			a, readErr := analyze.Run(src, analyze.Options{File: file, Configs: cfgs})
			if a == nil {
				return withStatus(exitUnusable, readErr)
			}
			if readErr != nil {
				fmt.Fprintf(os.Stderr, "vrrpctl: warning: %v: the report covers the frames before\n", readErr)
			}
			if htmlFile != "" {
				err := writeFile(htmlFile, func(w io.Writer) error {
					return report.HTML(w, a, report.HTMLOptions{Generator: generator()})
				})
				if err != nil {
					return withStatus(exitUnusable, fmt.Errorf("--html: %w", err))
				}
			}
			switch {
			case htmlFile == "-":
			case out.json:
				err = report.JSON(os.Stdout, a)
			case ladder:
				err = report.Ladder(os.Stdout, a, ropt, window)
			default:
				err = report.Text(os.Stdout, a, ropt)
			}
			if err != nil {
				return withStatus(exitUnusable, err)
			}
			return analysisStatus(a, readErr)
		},
	}
	out.register(c)
	c.Flags().StringVarP(&read, "read", "r", "", "the capture file, as tcpdump's -r (then every argument is the filter)")
	c.Flags().StringArrayVar(&confs, "keepalived-conf", nil, "keepalived.conf of one router, to compare with what happened (repeatable)")
	c.Flags().StringVar(&htmlFile, "html", "", "also write a self-contained HTML report (ladder diagram, mastership strips, findings, the JSON) to this file; - writes it to stdout instead of the report")
	c.Flags().BoolVar(&ladder, "ladder", false, "print the ladder diagram around each failover and split brain instead of the report")
	c.Flags().DurationVar(&window, "ladder-window", report.DefaultLadderWindow, "how much of the capture --ladder shows around each failover")
	rootCmd.AddCommand(c)
}

// generator names vrrpctl and its version in the reports it writes.
func generator() string { return "vrrpctl " + version() }

// writeFile writes a report to path, or to stdout for "-".
func writeFile(path string, write func(io.Writer) error) error {
	if path == "-" {
		return write(os.Stdout)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
