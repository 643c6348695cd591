package main

import (
	"fmt"
	"net/netip"
	"os"

	"github.com/spf13/cobra"

	"github.com/vrrpctl/vrrpctl/doctor"
	"github.com/vrrpctl/vrrpctl/kaconf"
	"github.com/vrrpctl/vrrpctl/report"
)

func init() {
	var out outputFlags
	var opts doctor.Options
	var confs, vips []string
	var version string
	c := &cobra.Command{
		Use:   "doctor [--netns NS] [--keepalived-conf FILE]...",
		Short: "Find the causes of VRRP failures before they bite: on this host and across the routers' configurations",
		Long: `Inspect this host (or a named network namespace) and the keepalived
configurations of the routers, and print a checklist: each check with PASS,
WARN, FAIL or SKIP, what it saw, why it matters and the fix.

On the host: firewall rules that drop traffic to a VIP (keepalived's
vrrp_strict among them) or VRRP itself, speakers that have not joined
224.0.0.18 / ff02::12, bridges that snoop multicast without a querier,
static neighbour entries and settings that keep a client from following a
GARP, and a router's ARP sysctls. Across the configurations (one
--keepalived-conf per router): priorities, intervals, authentication,
versions, VIP lists, multicast groups, unicast peers, VRID collisions,
nopreempt, and the GARP schedule the keepalived version will produce.

The VIPs come from the configurations given, those of the keepalived or
vrrpctl speaker running here, and --vip.

Exit status: 0 every check passed (or was skipped), 1 warnings, 2
failures, 3 doctor could not run (no such namespace, a configuration
keepalived would refuse, bad usage).`,
		Example: `  vrrpctl doctor
  vrrpctl doctor --netns nat1
  vrrpctl doctor --netns client --keepalived-conf nat1.conf --keepalived-conf nat2.conf
  vrrpctl doctor --no-host --keepalived-conf nat1.conf --keepalived-conf nat2.conf --keepalived-version 2.2.7
  vrrpctl doctor --json | jq '.checks[] | select(.status != "pass")'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ropt, err := out.options()
			if err != nil {
				return withStatus(exitUnusable, err)
			}
			for _, path := range confs {
				cfg, err := kaconf.ParseFile(path)
				if err != nil {
					return withStatus(exitUnusable, err)
				}
				for _, w := range cfg.Warnings {
					if !w.Unsupported {
						fmt.Fprintf(os.Stderr, "vrrpctl: warning: %v\n", w)
					}
				}
				opts.Configs = append(opts.Configs, cfg)
			}
			for _, v := range vips {
				a, err := netip.ParseAddr(v)
				if err != nil {
					if p, perr := netip.ParsePrefix(v); perr == nil {
						a, err = p.Addr(), nil
					}
				}
				if err != nil {
					return withStatus(exitUnusable, fmt.Errorf("--vip %q: %v", v, err))
				}
				opts.VIPs = append(opts.VIPs, a)
			}
			if version != "" {
				v, err := doctor.ParseVersion(version)
				if err != nil {
					return withStatus(exitUnusable, err)
				}
				opts.Keepalived = v
			}
			if opts.NoHost && opts.Netns != "" {
				return withStatus(exitUnusable, fmt.Errorf("--no-host and --netns exclude each other"))
			}
			r, err := doctor.Run(opts)
			if err != nil {
				return withStatus(exitUnusable, err)
			}
			if out.json {
				err = report.DoctorJSON(os.Stdout, r)
			} else {
				err = report.DoctorText(os.Stdout, r, ropt)
			}
			if err != nil {
				return withStatus(exitUnusable, err)
			}
			if s := r.ExitStatus(); s != exitOK {
				return withStatus(s, nil)
			}
			return nil
		},
	}
	out.register(c)
	c.Flags().Lookup("json").Usage = "print the report as JSON (schema " + doctor.Schema + ")"
	c.Flags().Lookup("verbose").Usage = "show what every check saw and the GARP schedules in full"
	f := c.Flags()
	f.StringVar(&opts.Netns, "netns", "", "inspect this named network namespace (as in 'ip netns'; or a path such as /proc/PID/ns/net)")
	f.StringArrayVar(&confs, "keepalived-conf", nil, "keepalived.conf of one router (repeatable: one per router of the segment)")
	f.StringArrayVar(&vips, "vip", nil, "an address to check as a VIP besides the configurations' (repeatable)")
	f.StringVar(&version, "keepalived-version", "", "the keepalived version the routers run (default: the one found here, else 2.2.7)")
	f.BoolVar(&opts.NoHost, "no-host", false, "check only the configurations, not this host")
	rootCmd.AddCommand(c)
}
