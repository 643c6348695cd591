package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/vrrpctl/vrrpctl/lab"
)

type failoverOpts struct {
	impl      string
	scenarios []string
	priority  []int
	cfg       lab.Config
	cleanup   bool
	json      bool
	quiet     bool
	html      string
}

func newFailoverCmd() *cobra.Command {
	o := &failoverOpts{cfg: lab.DefaultConfig()}
	var names []string
	for _, s := range lab.Scenarios {
		names = append(names, fmt.Sprintf("  %-20s %s", s.Name, s.Help))
	}
	c := &cobra.Command{
		Use:   "run-test-failover",
		Short: "Stage a VRRP failover in network namespaces and grade it",
		Long: `Build a lab on this machine (a client "here" and two routers "nat1" and
"nat2" on one bridge, VIP 192.168.33.100, all inside network namespaces of
its own), fail the master, watch from the client and grade the failover:
detection time against the RFC, first GARP, client switch, outage, the
client's ARP entry, and the analyzer's findings on three captures merged:
the client's eth1 and each router's.

Scenarios (--scenario, repeatable, run in order; "all" runs every one):
` + strings.Join(names, "\n") + `

Needs root. Exit status: 0 pass, 1 fail, 3 could not run.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runFailover(c, o) },
	}
	f := c.Flags()
	f.StringVar(&o.impl, "impl", string(lab.ImplVRRPD), "router implementation: vrrpd (vrrpctl's speaker), keepalived, or mixed (keepalived on nat1, vrrpd on nat2)")
	f.StringSliceVar(&o.scenarios, "scenario", []string{string(lab.Stop)}, "scenario to run (repeatable, or comma-separated; all = every one)")
	f.IntVar(&o.cfg.Version, "version", o.cfg.Version, "VRRP version, 2 or 3")
	f.DurationVar(&o.cfg.AdvertInt, "advert-int", o.cfg.AdvertInt, "advert interval (whole seconds for VRRPv2)")
	f.IntSliceVar(&o.priority, "priority", []int{o.cfg.Priority[0], o.cfg.Priority[1]}, "priorities of nat1 (the initial master) and nat2")
	f.IntVar(&o.cfg.GARP.Repeat, "garp-repeat", o.cfg.GARP.Repeat, "vrrp_garp_master_repeat: GARPs per burst on becoming master")
	f.DurationVar(&o.cfg.GARP.Delay, "garp-delay", o.cfg.GARP.Delay, "vrrp_garp_master_delay: second burst this long after becoming master (0: none)")
	f.DurationVar(&o.cfg.GARP.Refresh, "garp-refresh", o.cfg.GARP.Refresh, "vrrp_garp_master_refresh: GARP refresh period while master (0: off)")
	f.DurationVar(&o.cfg.GARP.Interval, "garp-interval", o.cfg.GARP.Interval, "vrrp_garp_interval: pacing between GARPs")
	f.DurationVar(&o.cfg.PingInterval, "ping-interval", o.cfg.PingInterval, "the client's ICMP echo interval")
	f.DurationVar(&o.cfg.MaxOutage, "max-outage", 0, "fail a failover with a longer outage (default: Master_Down_Interval + one advert interval)")
	f.StringVarP(&o.cfg.Pcap, "write", "w", "", "keep the client's capture in this pcap file (the scenario's name is added with several)")
	f.StringVar(&o.cfg.KeepCaptures, "keep-captures", "", "keep the three captures (here.pcap, nat1.pcap, nat2.pcap) in this directory (a subdirectory per scenario with several)")
	f.BoolVar(&o.cfg.Keep, "keep", false, "leave each lab up for inspection and print how to enter it")
	f.BoolVar(&o.cleanup, "cleanup", false, "remove labs left behind by killed or --keep runs, and exit")
	f.BoolVar(&o.json, "json", false, "print the report as JSON")
	f.StringVar(&o.html, "html", "", "also write an HTML report of the staged failover (the analyzer's ladder and findings with the lab's measurements) to this file (the scenario's name is added with several)")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "no progress lines on stderr")
	return c
}

func init() { rootCmd.AddCommand(newFailoverCmd()) }

func runFailover(c *cobra.Command, o *failoverOpts) error {
	if o.cleanup {
		ids, err := lab.Cleanup()
		for _, id := range ids {
			fmt.Fprintf(c.OutOrStdout(), "removed lab %s\n", id)
		}
		if err != nil {
			return withStatus(exitUnusable, err)
		}
		if len(ids) == 0 {
			fmt.Fprintln(c.OutOrStdout(), "no lab left behind")
		}
		return nil
	}
	impl, err := lab.ParseImpl(o.impl)
	if err != nil {
		return withStatus(exitUnusable, err)
	}
	cfg := o.cfg
	cfg.Impl = impl
	if len(o.priority) != 2 {
		return withStatus(exitUnusable, fmt.Errorf("--priority wants two values (nat1,nat2), got %d", len(o.priority)))
	}
	cfg.Priority = [2]int{o.priority[0], o.priority[1]}
	var scenarios []lab.Scenario
	for _, name := range o.scenarios {
		if name == "all" {
			for _, s := range lab.Scenarios {
				scenarios = append(scenarios, s.Name)
			}
			continue
		}
		sc, err := lab.ParseScenario(name)
		if err != nil {
			return withStatus(exitUnusable, err)
		}
		scenarios = append(scenarios, sc)
	}
	exe, err := os.Executable()
	if err != nil {
		return withStatus(exitUnusable, fmt.Errorf("find vrrpctl's own binary for the speaker: %w", err))
	}
	cfg.Speaker = func(conf string) ([]string, []string) {
		// The lab starts it inside the router's namespace; no HTTP listener.
		return []string{exe, "speaker", "--config", conf, "--listen", ""}, nil
	}
	if !o.quiet {
		cfg.Progress = c.ErrOrStderr()
	}
	if err := lab.Preflight(cfg, scenarios); err != nil {
		return withStatus(exitUnusable, err)
	}

	// SIGINT and SIGTERM cancel the run; the lab is removed on the way out.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	rep, err := lab.Run(ctx, cfg, scenarios)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			err = fmt.Errorf("interrupted after %v; the lab was removed", time.Since(start).Round(time.Second))
		}
		return withStatus(exitUnusable, err)
	}
	if o.html != "" {
		for _, res := range rep.Results {
			path := lab.ScenarioPath(o.html, res.Scenario, len(rep.Results))
			if err := writeFile(path, func(w io.Writer) error { return res.WriteHTML(w, generator()) }); err != nil {
				return withStatus(exitUnusable, fmt.Errorf("--html: %w", err))
			}
		}
	}
	if o.json {
		enc := json.NewEncoder(c.OutOrStdout())
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return withStatus(exitUnusable, err)
		}
	} else if err := rep.WriteText(c.OutOrStdout()); err != nil {
		return withStatus(exitUnusable, err)
	}
	if !rep.Pass {
		return withStatus(exitWarning, nil)
	}
	return nil
}
