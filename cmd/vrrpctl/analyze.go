package main

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/vrrpctl/vrrpctl/analyze"
	"github.com/vrrpctl/vrrpctl/capture"
	"github.com/vrrpctl/vrrpctl/kaconf"
	"github.com/vrrpctl/vrrpctl/merge"
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
	var confs, reads []string
	var maxOffset time.Duration
	var pics pictures
	c := &cobra.Command{
		Use:   "analyze [flags] CAPTURE... [BPF expression] | analyze -r CAPTURE [-r CAPTURE]... [BPF expression]",
		Short: "Analyze pcap/pcapng captures of an incident: failover timeline and findings",
		Long: `Decode VRRP v2/v3, IGMP and ARP from a capture (pcap or pcapng, optionally
gzip-compressed; - reads standard input), build the failover timeline, measure
each failover against the RFC timers and report what went wrong, with the
evidence frame numbers.

Several captures of one incident (both routers, a client, SPAN ports) are
analyzed as one: their clocks are aligned on the frames they share, and a
frame seen at several places is one event. NAME=FILE names a capture's
vantage point; without a name it is inferred from the file.

Which arguments are captures: the first argument always is; each next one is
while it names an existing file, is -, or is NAME=FILE of an existing file;
the first that is none of these starts the tcpdump filter expression, which
takes every argument after it. -- ends the captures explicitly (a filter
word that is also a file name). With -r (repeatable), as with tcpdump, every
argument is the filter.

Exit status: 0 nothing above info, 1 warnings, 2 critical findings, 3 the input
could not be read or the usage was wrong.`,
		Example: `  vrrpctl analyze failover.pcap
  vrrpctl analyze --json capture.pcapng.gz > analysis.json
  vrrpctl analyze --html incident.html failover.pcap   # one file to attach to a ticket
  vrrpctl analyze --ladder --width 120 failover.pcap
  tcpdump -i eth1 -w - 'vrrp or arp or igmp' | vrrpctl analyze -
  vrrpctl analyze trunk.pcap vlan 10
  vrrpctl analyze -r trunk.pcap vlan 10      # as with tcpdump -r
  vrrpctl analyze here.pcap nat1.pcap nat2.pcap
  vrrpctl analyze client=a.pcapng nat2=b.pcap vrrp or arp
  vrrpctl analyze a.pcap b.pcap -- host 10.0.0.5
  vrrpctl analyze -r a.pcap -r nat2=b.pcap vrrp
  vrrpctl analyze --keepalived-conf nat1.conf --keepalived-conf nat2.conf failover.pcap`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(reads) == 0 && (len(args) == 0 || cmd.ArgsLenAtDash() == 0) {
				return fmt.Errorf("a capture file is needed: vrrpctl analyze FILE, or -r FILE")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			limitMemory()
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
			inputs, filter := splitCaptures(args, cmd.ArgsLenAtDash(), reads)
			if len(inputs) > 1 {
				return analyzeMerged(inputs, filter, maxOffset, cfgs, out, ropt, pics)
			}
			file := inputs[0].Path
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
			if err := pics.render(a, out, ropt); err != nil {
				return err
			}
			return analysisStatus(a, readErr)
		},
	}
	out.register(c)
	c.Flags().StringArrayVarP(&reads, "read", "r", nil, "a capture (NAME=FILE names it), as tcpdump's -r: every argument is then the filter (repeatable)")
	c.Flags().StringArrayVar(&confs, "keepalived-conf", nil, "keepalived.conf of one router, to compare with what happened (repeatable)")
	c.Flags().DurationVar(&maxOffset, "max-offset", merge.DefaultMaxOffset, "with several captures: the largest clock offset accepted between them")
	c.Flags().StringVar(&pics.html, "html", "", "also write a self-contained HTML report (ladder diagram, mastership strips, findings, the JSON) to this file; - writes it to stdout instead of the report")
	c.Flags().BoolVar(&pics.ladder, "ladder", false, "print the ladder diagram around each failover and split brain instead of the report")
	c.Flags().DurationVar(&pics.window, "ladder-window", report.DefaultLadderWindow, "how much of the capture --ladder shows around each failover")
	rootCmd.AddCommand(c)
}

// pictures are the --html and --ladder outputs.
type pictures struct {
	html   string
	ladder bool
	window time.Duration
}

// render prints the analysis as asked: the HTML file (or only it, for
// --html -), then JSON, the ladder or the terminal report.
func (p pictures) render(a *analyze.Analysis, out outputFlags, ropt report.Options) error {
	if p.html != "" {
		err := writeFile(p.html, func(w io.Writer) error {
			return report.HTML(w, a, report.HTMLOptions{Generator: generator()})
		})
		if err != nil {
			return withStatus(exitUnusable, fmt.Errorf("--html: %w", err))
		}
	}
	var err error
	switch {
	case p.html == "-":
	case out.json:
		err = report.JSON(os.Stdout, a)
	case p.ladder:
		err = report.Ladder(os.Stdout, a, ropt, p.window)
	default:
		err = report.Text(os.Stdout, a, ropt)
		for i := range a.Unaligned {
			if err == nil {
				fmt.Fprintln(os.Stdout)
				err = report.Text(os.Stdout, &a.Unaligned[i], ropt)
			}
		}
	}
	if err != nil {
		return withStatus(exitUnusable, err)
	}
	return nil
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

// splitCaptures tells the captures from the filter expression. With -r
// (reads), every argument is the filter. Otherwise the first argument is a
// capture, and so is each next one while it names an existing file, is -,
// or is NAME=FILE of an existing file (or -); the first that is none of
// these starts the filter. Arguments before -- (dash, as cobra reports it)
// are all captures, those after it the filter.
func splitCaptures(args []string, dash int, reads []string) ([]merge.Input, string) {
	if len(reads) > 0 {
		var inputs []merge.Input
		for _, r := range reads {
			in, _ := captureArg(r, true)
			inputs = append(inputs, in)
		}
		return inputs, strings.Join(args, " ")
	}
	if dash > 0 {
		var inputs []merge.Input
		for _, a := range args[:dash] {
			in, _ := captureArg(a, true)
			inputs = append(inputs, in)
		}
		return inputs, strings.Join(args[dash:], " ")
	}
	first, _ := captureArg(args[0], true)
	inputs := []merge.Input{first}
	i := 1
	for ; i < len(args); i++ {
		in, ok := captureArg(args[i], false)
		if !ok {
			break
		}
		inputs = append(inputs, in)
	}
	return inputs, strings.Join(args[i:], " ")
}

// captureArg reads an argument as a capture: "-", a file, or NAME=FILE.
// ok says whether it surely is one: - or an existing file, bare or named.
// must accepts it anyway (as a file, or NAME=FILE when that is not a file
// itself), for opening to say what is wrong with it.
func captureArg(a string, must bool) (in merge.Input, ok bool) {
	if a == "-" || isFile(a) {
		return merge.Input{Path: a}, true
	}
	if name, path, found := strings.Cut(a, "="); found && vantageName.MatchString(name) && path != "" {
		in = merge.Input{Name: name, Path: path}
		return in, path == "-" || isFile(path) || must
	}
	return merge.Input{Path: a}, must
}

// vantageName is what NAME may be in NAME=FILE: a host name, an address.
var vantageName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:@-]*$`)

func isFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

// analyzeMerged analyzes several captures of one incident as one, and
// those that could not be aligned with the others each on its own, after
// it.
func analyzeMerged(inputs []merge.Input, filter string, maxOffset time.Duration, cfgs []*kaconf.Config, out outputFlags, ropt report.Options, pics pictures) error {
	m, err := merge.Open(inputs, merge.Options{Filter: filter, MaxOffset: maxOffset})
	if err != nil {
		return withStatus(exitUnusable, err)
	}
	defer m.Close()
	var files []string
	for _, v := range m.Vantages() {
		if v.Aligned {
			files = append(files, v.File)
		}
	}
	a, readErr := analyze.RunMerged(m, analyze.Options{File: strings.Join(files, ", "), Configs: cfgs})
	if a == nil {
		return withStatus(exitUnusable, readErr)
	}
	damaged := readErr != nil
	for _, v := range a.Sources {
		if v.Damaged {
			damaged = true
			fmt.Fprintf(os.Stderr, "vrrpctl: warning: %s: the report covers the frames before\n", v.ReadError)
		}
	}
	status := a.ExitStatus()
	for _, u := range m.Unaligned() {
		fmt.Fprintf(os.Stderr, "vrrpctl: warning: %s (%s) was not aligned with the others: it %s; it is analyzed on its own\n", u.Vantage.Name, u.Vantage.File, u.Reason)
		f, err := u.Open()
		if err != nil {
			return withStatus(exitUnusable, err)
		}
		ua, uerr := analyze.Run(f, analyze.Options{File: u.Vantage.File, Configs: cfgs})
		f.Close()
		if ua == nil {
			return withStatus(exitUnusable, uerr)
		}
		if uerr != nil {
			damaged = true
			fmt.Fprintf(os.Stderr, "vrrpctl: warning: %v: the report covers the frames before\n", uerr)
		}
		status = max(status, ua.ExitStatus())
		a.Unaligned = append(a.Unaligned, *ua)
	}
	if err := pics.render(a, out, ropt); err != nil {
		return err
	}
	if damaged {
		status = max(status, exitWarning)
	}
	if status == exitOK {
		return nil
	}
	return withStatus(status, nil)
}
