package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/vrrpctl/vrrpctl/kaconf"
	"github.com/vrrpctl/vrrpctl/watch"
)

func init() {
	var out outputFlags
	var cfg watch.Config
	var confs []string
	var count int64
	var bufferKiB int
	c := &cobra.Command{
		Use:   "watch -i IFACE [BPF expression]",
		Short: "Analyze VRRP live on an interface: masters, failovers and findings as they happen",
		Long: `Capture on a live interface (libpcap, immediate mode) and feed the frames to the
same analysis as 'vrrpctl analyze': one line per timeline event, failover and
finding as it happens, and a status line (master per VRID, time since its last
advert) refreshed in place on a terminal. The capture filter keeps VRRP, IGMP
and ARP, and the traffic to and from each VIP once it is learned; trailing
arguments are a tcpdump expression that narrows it further. This host's
neighbour (ARP) entries for the VIPs are followed over netlink.

On SIGINT or SIGTERM (or after -c/--duration) the summary of 'analyze' is
printed, with libpcap's received and dropped counters.

Exit status: 0 nothing above info, 1 warnings, 2 critical findings, 3 the
capture could not start (no such interface, interface down, no permission -
capturing needs CAP_NET_RAW - or a bad filter) or the usage was wrong.`,
		Example: `  vrrpctl watch -i eth1
  vrrpctl watch -i eth1 --json > events.ndjson
  vrrpctl watch -i eth1 -w incident.pcap --metrics-addr 127.0.0.1:9468
  vrrpctl watch -i eth1 --duration 10m --html incident.html
  vrrpctl watch -i eth1 --netns client1 --duration 10m
  vrrpctl watch -i eth1 not host 192.168.33.7`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			limitMemory()
			if cfg.Interface == "" {
				return withStatus(exitUnusable, fmt.Errorf("-i IFACE is required (see '%s --help')", cmd.CommandPath()))
			}
			if count < 0 || cfg.Duration < 0 || cfg.Snaplen < 0 || bufferKiB < 0 {
				return withStatus(exitUnusable, fmt.Errorf("-c, --duration, --snaplen and -B must not be negative"))
			}
			cfg.BufferSize = bufferKiB << 10
			ropt, err := out.options()
			if err != nil {
				return withStatus(exitUnusable, err)
			}
			for _, path := range confs {
				kc, err := kaconf.ParseFile(path)
				if err != nil {
					return withStatus(exitUnusable, err)
				}
				for _, w := range kc.Warnings {
					fmt.Fprintf(os.Stderr, "vrrpctl: warning: %v\n", w)
				}
				cfg.Configs = append(cfg.Configs, kc)
			}
			cfg.Filter = strings.Join(args, " ")
			cfg.Count = uint64(count)
			cfg.JSON = out.json
			cfg.Report = ropt
			cfg.HTMLOptions.Generator = generator()
			cfg.Status = !out.json && ropt.Color // a terminal that takes escape codes
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			res, err := watch.Run(ctx, cfg)
			if res == nil {
				return withStatus(exitUnusable, err)
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "vrrpctl: warning: %v\n", err)
			}
			if res.ReadError != nil {
				fmt.Fprintf(os.Stderr, "vrrpctl: warning: %v: the summary covers the frames before\n", res.ReadError)
			}
			return analysisStatus(res.Analysis, res.ReadError)
		},
	}
	out.register(c)
	c.Flags().Lookup("json").Usage = `print NDJSON, one {"type":"event"|"finding"|"failover"|"summary","data":...} object a line, in the shapes of analyze --json`
	f := c.Flags()
	f.StringVarP(&cfg.Interface, "interface", "i", "", "interface to capture on (required)")
	f.StringVarP(&cfg.WriteFile, "write", "w", "", "also write the captured frames to this pcap file")
	f.StringVar(&cfg.HTML, "html", "", "write an HTML report (ladder diagram, findings, the analysis as JSON) to this file when the watch stops")
	f.Int64VarP(&count, "count", "c", 0, "stop after this many frames (0: no limit)")
	f.DurationVar(&cfg.Duration, "duration", 0, "stop after this long, e.g. 90s or 10m (0: no limit)")
	f.IntVarP(&cfg.Snaplen, "snaplen", "s", watch.DefaultSnaplen, "bytes kept of each frame (262144: whole frames; the default keeps every header and advert, and keeps libpcap's ring from overflowing under load)")
	f.IntVarP(&bufferKiB, "buffer-size", "B", 0, "libpcap's kernel buffer in KiB, as tcpdump's -B (0: libpcap's default, 2 MiB)")
	f.BoolVar(&cfg.Promisc, "promisc", false, "capture in promiscuous mode (to see other hosts' unicast to the VIP on a mirror port or hub)")
	f.StringVar(&cfg.Netns, "netns", "", "watch inside this named network namespace (as in 'ip netns')")
	f.BoolVar(&cfg.Neighbours, "neigh", true, "follow this host's neighbour (ARP) entries for the VIPs")
	f.StringVar(&cfg.MetricsAddr, "metrics-addr", "", "serve Prometheus metrics on this address, e.g. 127.0.0.1:9468")
	f.DurationVar(&cfg.StatusEvery, "status-every", time.Second, "how often the status line is redrawn on a terminal")
	f.StringArrayVar(&confs, "keepalived-conf", nil, "keepalived.conf of one router, to compare with what happens (repeatable)")
	rootCmd.AddCommand(c)
}
