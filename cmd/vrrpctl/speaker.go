package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/vrrpctl/vrrpctl/internal/nsenter"
	"github.com/vrrpctl/vrrpctl/kaconf"
	"github.com/vrrpctl/vrrpctl/vrrpd"
)

type speakerOpts struct {
	file      string
	iface     string
	vrid      int
	priority  int
	vips      []string
	version   int
	advertInt time.Duration
	noPreempt bool
	preDelay  time.Duration
	authPass  string
	src       string
	peers     []string
	skipCheck bool
	garp      vrrpd.GARPConfig
	netns     string
	listen    string
	status    bool
	logFormat string
	logLevel  string
	allow     bool
	notifyTO  time.Duration
}

func newSpeakerCmd() *cobra.Command {
	o := &speakerOpts{garp: vrrpd.DefaultGARP()}
	c := &cobra.Command{
		Use:   "speaker [-f keepalived.conf | --interface IF --vrid N --priority P --vip ADDR/LEN]",
		Short: "Run a VRRP speaker (v2/v3) that interoperates with keepalived",
		Long: `Run virtual routers from a keepalived.conf (-f) or from flags.

On SIGTERM, SIGINT or SIGQUIT a master sends a priority-0 advert, so that a
backup takes over after Skew_Time, and everything the speaker added (virtual
addresses, macvlans, ARP settings) is removed. SIGHUP re-reads the -f
configuration: routers whose settings did not change keep their state;
a configuration that does not parse, or that the speaker would refuse, is
refused and the running one kept. Needs CAP_NET_RAW and CAP_NET_ADMIN.

Every keyword of keepalived.conf is acted on or reported with its file and
line. Keywords the speaker does not implement that would change the
protocol or a failover decision (vrrp_strict, track_process, ...) make it
exit with the list; --allow-unsupported runs without them, logging each.

While it runs, http://LISTEN/status serves the state as JSON and
http://LISTEN/metrics serves Prometheus metrics; 'vrrpctl speaker --status'
prints the former.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runSpeaker(c, o) },
	}
	f := c.Flags()
	f.StringVarP(&o.file, "config", "f", "", "keepalived.conf to read (global_defs and vrrp_instance blocks)")
	f.StringVar(&o.iface, "interface", "", "interface (without -f)")
	f.IntVar(&o.vrid, "vrid", 0, "virtual router id 1-255 (without -f)")
	f.IntVar(&o.priority, "priority", 100, "priority 1-255; 255 = address owner")
	f.StringArrayVar(&o.vips, "vip", nil, "virtual address ADDR/LEN (repeatable)")
	f.IntVar(&o.version, "vrrp-version", 2, "VRRP version 2 or 3")
	f.DurationVar(&o.advertInt, "advert-int", time.Second, "advert interval (whole seconds for v2, 10ms steps for v3)")
	f.BoolVar(&o.noPreempt, "nopreempt", false, "do not preempt a lower priority master")
	f.DurationVar(&o.preDelay, "preempt-delay", 0, "delay preemption after startup or a lower priority advert")
	f.StringVar(&o.authPass, "auth-pass", "", "VRRPv2 PASS authentication password (at most 8 characters)")
	f.StringVar(&o.src, "src", "", "source address of adverts (default: the interface's first address)")
	f.StringArrayVar(&o.peers, "unicast-peer", nil, "send adverts by unicast to this peer (repeatable)")
	f.BoolVar(&o.skipCheck, "skip-check-adv-addr", false, "accept adverts whose address list differs from ours")
	f.DurationVar(&o.garp.MasterDelay, "garp-master-delay", o.garp.MasterDelay, "second GARP burst this long after becoming master (0: none)")
	f.IntVar(&o.garp.MasterRepeat, "garp-master-repeat", o.garp.MasterRepeat, "GARPs per virtual address in each burst after becoming master")
	f.DurationVar(&o.garp.MasterRefresh, "garp-master-refresh", 0, "GARP refresh period while master (0: off)")
	f.IntVar(&o.garp.MasterRefreshRepeat, "garp-master-refresh-repeat", o.garp.MasterRefreshRepeat, "GARPs per virtual address in a refresh")
	f.DurationVar(&o.garp.Interval, "garp-interval", 0, "pace GARPs on an interface: one per interval (0: back to back)")
	f.DurationVar(&o.garp.LowerPrioDelay, "garp-lower-prio-delay", o.garp.LowerPrioDelay, "second burst after a master hears a lower priority (0: none)")
	f.IntVar(&o.garp.LowerPrioRepeat, "garp-lower-prio-repeat", o.garp.LowerPrioRepeat, "GARPs per virtual address when a master hears a lower priority (0: none)")
	f.StringVar(&o.netns, "netns", "", "run in the network namespace at this path (e.g. /run/netns/NAME)")
	f.StringVar(&o.listen, "listen", "127.0.0.1:9650", "status and metrics HTTP address ('' turns it off)")
	f.BoolVar(&o.status, "status", false, "print the status of the speaker running at --listen and exit")
	f.StringVar(&o.logFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	f.BoolVar(&o.allow, "allow-unsupported", false, "run a keepalived.conf although it uses keywords the speaker does not implement that change the protocol or a failover decision (each is logged)")
	f.DurationVar(&o.notifyTO, "notify-timeout", vrrpd.DefaultNotifyTimeout, "kill a notify script that runs longer")
	return c
}

func init() { rootCmd.AddCommand(newSpeakerCmd()) }

func runSpeaker(c *cobra.Command, o *speakerOpts) error {
	if o.status {
		return printSpeakerStatus(c.OutOrStdout(), o.listen)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return withStatus(exitUnusable, fmt.Errorf("--log-level %q: %w", o.logLevel, err))
	}
	hopts := &slog.HandlerOptions{Level: level}
	var logger *slog.Logger
	switch o.logFormat {
	case "text":
		logger = slog.New(slog.NewTextHandler(os.Stderr, hopts))
	case "json":
		logger = slog.New(slog.NewJSONHandler(os.Stderr, hopts))
	default:
		return withStatus(exitUnusable, fmt.Errorf("--log-format %q: want text or json", o.logFormat))
	}

	sopts, err := speakerOptions(c, o, logger)
	if err != nil {
		return withStatus(exitUnusable, err)
	}
	sopts.NetNS, sopts.Logger, sopts.NotifyTimeout = o.netns, logger, o.notifyTO
	sp, err := vrrpd.New(sopts)
	if err != nil {
		return withStatus(exitUnusable, err)
	}
	if err := vrrpd.CheckPrivileges(); err != nil {
		return withStatus(exitUnusable, err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGHUP)
	defer signal.Stop(sigs)
	go func() {
		for sig := range sigs {
			if sig != syscall.SIGHUP {
				logger.Info("stopping", "signal", sig.String())
				stop()
				return
			}
			reloadSpeaker(c, o, sp, logger)
		}
	}()
	if o.listen != "" {
		ln, err := listenIn(o.netns, o.listen)
		if err != nil {
			return withStatus(exitUnusable, fmt.Errorf("status endpoint %s: %w", o.listen, err))
		}
		srv := &http.Server{Handler: sp.Handler(), ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
		logger.Info("status endpoint", "url", "http://"+ln.Addr().String()+"/status")
	}
	if err := sp.Run(ctx); err != nil {
		return withStatus(exitUnusable, err)
	}
	logger.Info("stopped")
	return nil
}

// reloadSpeaker re-reads the configuration on SIGHUP and hands it to the
// running speaker; a configuration that does not parse or is refused is
// logged and the running one kept.
func reloadSpeaker(c *cobra.Command, o *speakerOpts, sp *vrrpd.Speaker, logger *slog.Logger) {
	if o.file == "" {
		logger.Warn("SIGHUP: no configuration file to re-read (the speaker runs from flags); nothing reloaded")
		return
	}
	logger.Info("SIGHUP: reloading", "file", o.file)
	opts, err := speakerOptions(c, o, logger)
	if err == nil {
		opts.NotifyTimeout = o.notifyTO
		err = sp.Reload(opts)
	}
	if err != nil {
		logger.Error("reload refused; the running configuration is kept", "err", err.Error())
		return
	}
	logger.Info("reloaded", "file", o.file)
}

// listenIn opens the status listener in the speaker's namespace, so that
// localhost means the namespace's loopback.
func listenIn(nsPath, addr string) (net.Listener, error) {
	if nsPath == "" {
		return net.Listen("tcp", addr)
	}
	var ln net.Listener
	err := nsenter.RunPath(nsPath, func() error {
		var err error
		ln, err = net.Listen("tcp", addr)
		return err
	})
	return ln, err
}

// speakerOptions reads the routers from -f or from the flags. Of a file,
// it logs keepalived's warnings and every keyword the speaker does not
// implement.
func speakerOptions(c *cobra.Command, o *speakerOpts, logger *slog.Logger) (vrrpd.Options, error) {
	quick := c.Flags().Changed("interface") || c.Flags().Changed("vrid") || c.Flags().Changed("vip")
	if o.file != "" {
		if quick {
			return vrrpd.Options{}, errors.New("-f and --interface/--vrid/--vip exclude each other")
		}
		cfg, err := kaconf.ParseFile(o.file)
		if err != nil {
			return vrrpd.Options{}, err
		}
		for _, w := range cfg.Warnings {
			logger.Warn(w.String())
		}
		refused, ignored := vrrpd.Unsupported(cfg)
		opts, err := vrrpd.FromKeepalived(cfg, o.allow)
		if err != nil {
			return opts, err
		}
		for _, u := range refused {
			logger.Warn("running without a keyword that changes the protocol (--allow-unsupported)", "at", fmt.Sprintf("%s:%d", u.File, u.Line), "keyword", u.Keyword, "note", u.Note)
		}
		for _, u := range ignored {
			logger.Info("keyword not implemented, harmless", "at", fmt.Sprintf("%s:%d", u.File, u.Line), "keyword", u.Keyword, "note", u.Note)
		}
		return opts, nil
	}
	routers, err := flagRouters(c, o, quick)
	return vrrpd.Options{Routers: routers}, err
}

// flagRouters is the one router of the flags (without -f).
func flagRouters(c *cobra.Command, o *speakerOpts, quick bool) ([]vrrpd.RouterConfig, error) {
	if !quick {
		return nil, errors.New("give -f keepalived.conf, or --interface, --vrid and --vip")
	}
	if o.vrid < 1 || o.vrid > 255 {
		return nil, fmt.Errorf("--vrid %d: must be 1-255", o.vrid)
	}
	if o.priority < 1 || o.priority > 255 {
		return nil, fmt.Errorf("--priority %d: must be 1-255", o.priority)
	}
	rc := vrrpd.RouterConfig{
		Interface: o.iface, VRID: uint8(o.vrid), Priority: uint8(o.priority), Version: o.version,
		AdvertInterval: o.advertInt, NoPreempt: o.noPreempt, PreemptDelay: o.preDelay,
		AuthPass: o.authPass, SkipCheckAdvAddr: o.skipCheck, GARP: o.garp,
	}
	for _, v := range o.vips {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			a, aerr := netip.ParseAddr(v)
			if aerr != nil {
				return nil, fmt.Errorf("--vip %q: want ADDR/LEN", v)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		rc.VIPs = append(rc.VIPs, p)
	}
	if o.src != "" {
		a, err := netip.ParseAddr(o.src)
		if err != nil {
			return nil, fmt.Errorf("--src %q: %w", o.src, err)
		}
		rc.Primary = a
	}
	for _, s := range o.peers {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("--unicast-peer %q: %w", s, err)
		}
		rc.UnicastPeers = append(rc.UnicastPeers, a)
	}
	if err := rc.Validate(); err != nil {
		return nil, err
	}
	return []vrrpd.RouterConfig{rc}, nil
}

func printSpeakerStatus(w io.Writer, addr string) error {
	if addr == "" {
		return withStatus(exitUnusable, errors.New("--status needs --listen"))
	}
	cl := &http.Client{Timeout: 3 * time.Second}
	resp, err := cl.Get("http://" + addr + "/status")
	if err != nil {
		return withStatus(exitUnusable, fmt.Errorf("no speaker answering at %s: %w", addr, err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return withStatus(exitUnusable, fmt.Errorf("speaker at %s: %s", addr, resp.Status))
	}
	_, err = io.Copy(w, resp.Body)
	return err
}
