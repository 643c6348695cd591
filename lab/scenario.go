package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/vrrpctl/vrrpctl/analyze"
	"github.com/vrrpctl/vrrpctl/vrrp"
)

// Scenario is one staged failover.
type Scenario string

// The scenarios, in the order "all" runs them.
const (
	Stop              Scenario = "stop"
	Crash             Scenario = "crash"
	Failback          Scenario = "failback"
	Partition         Scenario = "partition"
	OneWay            Scenario = "one-way"
	ClientIgnoresGARP Scenario = "client-ignores-garp"
	NoGARP            Scenario = "no-garp"
	Article           Scenario = "article"
)

// Scenarios describes every scenario, in order.
var Scenarios = []struct {
	Name Scenario
	Help string
	// Expect lists the findings the scenario provokes on purpose, none
	// for a healthy one.
	Expect []string
}{
	{Stop, "the master stops gracefully (priority-0 advert)", nil},
	{Crash, "the master's link goes down", nil},
	{Failback, "the master's link goes down, then comes back and it preempts", nil},
	{Partition, "the routers stop hearing each other's adverts: split brain", []string{analyze.CodeSplitBrain}},
	{OneWay, "the bridge drops VRRP from nat1 toward nat2 only: nat2 takes the VIP too (split brain) until the drop is lifted", []string{analyze.CodeAdvertLost, analyze.CodeSplitBrain}},
	{ClientIgnoresGARP, "the master stops; the client drops gratuitous ARPs it received: stale ARP", []string{analyze.CodeGARPIgnored}},
	{NoGARP, "the master stops; the new master's GARPs are dropped on the bridge", []string{analyze.CodeGARPLost}},
	{Article, "the master stops, with the article's advert_int 5, garp_interval 4, garp_master_refresh 6", nil},
}

// ParseScenario checks a --scenario value.
func ParseScenario(s string) (Scenario, error) {
	var names []string
	for _, sc := range Scenarios {
		if string(sc.Name) == s {
			return sc.Name, nil
		}
		names = append(names, string(sc.Name))
	}
	return "", fmt.Errorf("scenario %q: want one of %s", s, strings.Join(names, ", "))
}

func expectedFindings(sc Scenario) []string {
	for _, s := range Scenarios {
		if s.Name == sc {
			return slices.Clone(s.Expect)
		}
	}
	return nil
}

// Config is what a run stages.
type Config struct {
	Impl      Impl
	Version   int
	AdvertInt time.Duration
	// Priority of nat1 (the initial master) and nat2.
	Priority [2]int
	GARP     GARP
	// PingInterval is the client's echo rate.
	PingInterval time.Duration
	// MaxOutage fails a failover whose outage is longer; 0 derives it from
	// the configuration: Master_Down_Interval plus one advert interval.
	MaxOutage time.Duration
	// Pcap keeps the client's capture at this path; with several scenarios
	// the scenario's name is added before the extension.
	Pcap string
	// KeepCaptures keeps the three captures (the client's and each
	// router's) in this directory as here.pcap, nat1.pcap and nat2.pcap;
	// with several scenarios in a subdirectory named after each.
	KeepCaptures string
	// Keep leaves each lab up after its scenario.
	Keep bool
	// Speaker runs vrrpctl's own speaker (ImplVRRPD, ImplMixed).
	Speaker SpeakerCommand
	// Progress receives one line per step; nil for none.
	Progress io.Writer
}

// DefaultConfig is the article's pair with a 1 s advert interval.
func DefaultConfig() Config {
	return Config{
		Impl:         ImplVRRPD,
		Version:      2,
		AdvertInt:    time.Second,
		Priority:     [2]int{100, 10},
		GARP:         DefaultGARP(),
		PingInterval: 100 * time.Millisecond,
	}
}

// Validate reports the first problem with c.
func (c *Config) Validate() error {
	switch {
	case c.Version != 2 && c.Version != 3:
		return fmt.Errorf("VRRP version %d: want 2 or 3", c.Version)
	case c.Version == 2 && (c.AdvertInt < time.Second || c.AdvertInt%time.Second != 0):
		return fmt.Errorf("advert interval %v: VRRPv2 needs whole seconds", c.AdvertInt)
	case c.Version == 3 && (c.AdvertInt < 10*time.Millisecond || c.AdvertInt%(10*time.Millisecond) != 0):
		return fmt.Errorf("advert interval %v: VRRPv3 needs a multiple of 10ms", c.AdvertInt)
	case c.AdvertInt > 40*time.Second:
		return fmt.Errorf("advert interval %v is too long for a test", c.AdvertInt)
	case c.Priority[0] < 1 || c.Priority[0] > 254 || c.Priority[1] < 1 || c.Priority[1] > 254:
		return fmt.Errorf("priorities %d,%d: want 1-254", c.Priority[0], c.Priority[1])
	case c.Priority[0] <= c.Priority[1]:
		return fmt.Errorf("priorities %d,%d: nat1 (the initial master) needs the higher one", c.Priority[0], c.Priority[1])
	case c.PingInterval < 10*time.Millisecond:
		return fmt.Errorf("ping interval %v: at least 10ms", c.PingInterval)
	case c.GARP.Repeat < 0 || c.GARP.Delay < 0 || c.GARP.Refresh < 0 || c.GARP.Interval < 0:
		return errors.New("GARP settings must not be negative")
	case c.MaxOutage < 0:
		return errors.New("max outage must not be negative")
	}
	if _, err := ParseImpl(string(c.Impl)); err != nil {
		return err
	}
	if c.Impl != ImplKeepalived && c.Speaker == nil {
		return fmt.Errorf("implementation %s needs vrrpctl's speaker command", c.Impl)
	}
	return nil
}

// forScenario applies a scenario's own settings.
func (c Config) forScenario(sc Scenario) Config {
	if sc == Article {
		c.AdvertInt = 5 * time.Second
		c.GARP.Interval = 4 * time.Second
		c.GARP.Refresh = 6 * time.Second
		c.MaxOutage = 0
	}
	if c.MaxOutage == 0 {
		c.MaxOutage = vrrp.MasterDownInterval(c.Version, c.Priority[1], c.AdvertInt) + c.AdvertInt
	}
	return c
}

// Preflight reports why the scenarios cannot run here, before anything is
// built: not root, no namespaces, a missing program.
func Preflight(cfg Config, scenarios []Scenario) error {
	if err := CheckHost(); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if cfg.Impl == ImplKeepalived || cfg.Impl == ImplMixed {
		if _, err := exec.LookPath("keepalived"); err != nil {
			return fmt.Errorf("--impl %s needs keepalived, which is not installed (apt-get install keepalived)", cfg.Impl)
		}
	}
	for _, sc := range scenarios {
		switch sc {
		case Partition, OneWay, ClientIgnoresGARP, NoGARP:
			if _, err := exec.LookPath("nft"); err != nil {
				return fmt.Errorf("scenario %s needs nft (apt-get install nftables)", sc)
			}
		}
	}
	if len(scenarios) == 0 {
		return errors.New("no scenario to run")
	}
	return nil
}

// Run stages each scenario in a lab of its own, in order. The error is for a
// run that could not be staged; a failover that went badly is a failed
// Result, not an error. Cancelling ctx (SIGINT) stops the run and removes
// the lab.
func Run(ctx context.Context, cfg Config, scenarios []Scenario) (*Report, error) {
	if err := Preflight(cfg, scenarios); err != nil {
		return nil, err
	}
	rep := &Report{Schema: ReportSchema, Impl: cfg.Impl, Version: cfg.Version, Pass: true}
	for _, sc := range scenarios {
		pcap := ScenarioPath(cfg.Pcap, sc, len(scenarios))
		keep := cfg.KeepCaptures
		if keep != "" && len(scenarios) > 1 {
			keep = filepath.Join(keep, string(sc))
		}
		res, err := runScenario(ctx, cfg.forScenario(sc), sc, pcap, keep)
		if err != nil {
			return rep, fmt.Errorf("scenario %s: %w", sc, err)
		}
		rep.Results = append(rep.Results, res)
		rep.Pass = rep.Pass && res.Pass
	}
	return rep, nil
}

// ScenarioPath is the file of one scenario's output (its capture, its
// report) among n: path itself for one, the scenario's name added before
// the extension for several; "" stays "".
func ScenarioPath(path string, sc Scenario, n int) string {
	if path == "" || n <= 1 {
		return path
	}
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + "-" + string(sc) + ext
}

// stage is one scenario in progress.
type stage struct {
	ctx     context.Context
	cfg     Config
	sc      Scenario
	lab     *Lab
	routers [2]*Router
	watch   *Watch
	pinger  *Pinger
	// captures are the client's and each router's, in Vantages' order.
	captures []*Capture
	actions  []action
}

// Vantages are the hosts the lab captures on, in the order the captures
// are merged: the client's first.
var Vantages = []string{Here, Nat1, Nat2}

// action is something the lab did to cause a failover.
type action struct {
	Time     time.Time
	What     string
	From, To string
	Cause    string // resign, master-down, preempt, partition
	Expected time.Duration
}

func (s *stage) logf(format string, a ...any) {
	if s.cfg.Progress != nil {
		fmt.Fprintf(s.cfg.Progress, "[%s] "+format+"\n", append([]any{s.sc}, a...)...)
	}
}

func routerImpls(impl Impl) [2]Impl {
	switch impl {
	case ImplMixed:
		return [2]Impl{ImplKeepalived, ImplVRRPD}
	case ImplKeepalived:
		return [2]Impl{ImplKeepalived, ImplKeepalived}
	}
	return [2]Impl{ImplVRRPD, ImplVRRPD}
}

func runScenario(ctx context.Context, cfg Config, sc Scenario, pcap, keep string) (res *Result, err error) {
	l, err := New()
	if err != nil {
		return nil, err
	}
	s := &stage{ctx: ctx, cfg: cfg, sc: sc, lab: l}
	s.logf("lab %s up (namespaces %s)", l.ID, strings.Join(l.Namespaces(), ", "))
	defer func() {
		s.stopObservers()
		if cfg.Keep {
			// Said even with progress off: the lab outlives the run.
			out := cfg.Progress
			if out == nil {
				out = os.Stderr
			}
			fmt.Fprint(out, l.EnterHint())
			return
		}
		if cerr := l.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("remove lab: %w", cerr)
		}
	}()
	dir := l.Dir
	if keep != "" {
		if err := os.MkdirAll(keep, 0o755); err != nil {
			return nil, fmt.Errorf("directory for the captures: %w", err)
		}
		dir = keep
	}
	var paths []string
	for _, h := range Vantages {
		paths = append(paths, filepath.Join(dir, h+".pcap"))
	}
	if err := s.setUp(paths); err != nil {
		return nil, err
	}
	if err := s.act(); err != nil {
		return nil, err
	}
	if err := s.stopObservers(); err != nil {
		return nil, err
	}
	if pcap != "" {
		if err := copyFile(paths[0], pcap); err != nil {
			return nil, fmt.Errorf("keep the client's capture: %w", err)
		}
	}
	res, err = s.grade(paths)
	if res != nil {
		res.Pcap = pcap
		if keep != "" {
			res.CaptureDir = keep
		}
	}
	return res, err
}

// copyFile copies the file at from to to.
func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// setUp starts the observers (a capture on each host's eth1 into paths,
// in Vantages' order) and the routers and waits for a steady state: nat1
// master, the client's echoes answered.
func (s *stage) setUp(paths []string) error {
	l, cfg := s.lab, s.cfg
	for i, h := range Vantages {
		// Both directions: a router's capture holds what it sent and what
		// reached it, so that losses on the way to it show.
		c, err := l.StartCapture(h, paths[i], "not ip6")
		if err != nil {
			return err
		}
		s.captures = append(s.captures, c)
	}
	var err error
	if s.watch, err = l.WatchVIP(Here, []string{Nat1, Nat2}, VIP.Addr()); err != nil {
		return err
	}
	switch s.sc {
	case ClientIgnoresGARP:
		// Drop ARP requests announcing the VIP (sender = target = VIP), as
		// hosts and firewalls that ignore gratuitous ARP do.
		err = l.Nft(Here, fmt.Sprintf(`table arp vrrpctl_lab {
	chain input {
		type filter hook input priority 0; policy accept;
		arp saddr ip %[1]s arp daddr ip %[1]s drop
	}
}
`, VIP.Addr()))
	case NoGARP:
		// Drop the new master's GARPs on the bridge.
		err = l.Nft(switchHost, fmt.Sprintf(`table bridge vrrpctl_lab {
	chain forward {
		type filter hook forward priority 0; policy accept;
		iifname "%[2]s" arp saddr ip %[1]s arp daddr ip %[1]s drop
	}
}
`, VIP.Addr(), l.Host(Nat2).Port))
	}
	if err != nil {
		return err
	}
	impls := routerImpls(cfg.Impl)
	for i, host := range []string{Nat1, Nat2} {
		spec := RouterSpec{Host: host, Impl: impls[i], Priority: cfg.Priority[i], Master: i == 0,
			Version: cfg.Version, AdvertInt: cfg.AdvertInt, GARP: cfg.GARP}
		if s.routers[i], err = l.StartRouter(spec, cfg.Speaker); err != nil {
			return err
		}
	}
	s.logf("%s on nat1 (priority %d), %s on nat2 (priority %d), VRRPv%d, advert_int %v",
		impls[0], cfg.Priority[0], impls[1], cfg.Priority[1], cfg.Version, cfg.AdvertInt)
	limit := 2*vrrp.MasterDownInterval(cfg.Version, cfg.Priority[0], cfg.AdvertInt) + 5*time.Second
	if err := s.waitFor(limit, "nat1 to become master", func() bool { return s.holders() == Nat1 }); err != nil {
		return err
	}
	// A backup that has not yet heard the master would take the VIP too:
	// wait one more advert interval so both settle.
	if err := s.sleep(cfg.AdvertInt + 200*time.Millisecond); err != nil {
		return err
	}
	if h := s.holders(); h != Nat1 {
		return fmt.Errorf("after the election the VIP is on %q, want nat1 alone", h)
	}
	if s.pinger, err = l.StartPinger(Here, VIP.Addr(), cfg.PingInterval); err != nil {
		return err
	}
	if err := s.waitFor(3*time.Second, "the client's first echo reply from the VIP", func() bool {
		return !s.pinger.LastReply().IsZero()
	}); err != nil {
		return err
	}
	s.logf("nat1 is master; client pings %s every %v", VIP.Addr(), cfg.PingInterval)
	return s.sleep(time.Second)
}

// holders names who holds the VIP: "nat1", "nat2", "nat1+nat2" or "".
func (s *stage) holders() string { return strings.Join(s.watch.Holders(), "+") }

// routerCheck fails when a router process died on its own.
func (s *stage) routerCheck(skip int) error {
	for i, r := range s.routers {
		if r != nil && i != skip {
			if err := r.Check(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *stage) sleep(d time.Duration) error {
	select {
	case <-s.ctx.Done():
		return s.ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// waitFor polls cond until it holds; running out of time is an error.
func (s *stage) waitFor(limit time.Duration, what string, cond func() bool) error {
	ok, err := s.until(limit, cond)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("timed out after %v waiting for %s%s", limit, what, s.routerLogs())
	}
	return nil
}

// until polls cond for at most limit; it reports whether cond came true.
func (s *stage) until(limit time.Duration, cond func() bool) (bool, error) {
	deadline := time.Now().Add(limit)
	for {
		if cond() {
			return true, nil
		}
		if time.Now().After(deadline) {
			return false, nil
		}
		if err := s.sleep(20 * time.Millisecond); err != nil {
			return false, err
		}
	}
}

func (s *stage) routerLogs() string {
	var b strings.Builder
	for _, r := range s.routers {
		if r != nil {
			if t := r.proc.Tail(); t != "" {
				fmt.Fprintf(&b, "\n--- %s on %s:\n%s", r.Spec.Impl, r.Spec.Host, t)
			}
		}
	}
	return b.String()
}

// recovered reports whether, after t, the client has had replies for a
// while and the VIP is held by want alone.
func (s *stage) recovered(t time.Time, want string) bool {
	if s.holders() != want {
		return false
	}
	echos := s.pinger.Echos()
	// The last second's worth of echoes (bar the one in flight) answered.
	n := int(time.Second/s.cfg.PingInterval) + 1
	if len(echos) < n+1 {
		return false
	}
	for _, e := range echos[len(echos)-n-1 : len(echos)-1] {
		if e.Sent.Before(t) || e.Replied.IsZero() {
			return false
		}
	}
	return true
}

// observe waits for the failover caused at a.Time to complete: the VIP on
// a.To and the client answered again, or the outage limit passed.
func (s *stage) observe(a action, minimum time.Duration) error {
	limit := s.cfg.MaxOutage + 2*time.Second
	if minimum > limit {
		limit = minimum
	}
	done, err := s.until(limit, func() bool {
		return time.Since(a.Time) >= minimum && s.recovered(a.Time, a.To)
	})
	if err != nil {
		return err
	}
	if done {
		s.logf("%s: VIP on %s, client answered again after %v", a.What, a.To, time.Since(a.Time).Round(time.Millisecond))
	} else {
		s.logf("%s: not recovered after %v; VIP on %q", a.What, limit, s.holders())
	}
	return nil
}

// act causes the scenario's failover(s) and watches them.
func (s *stage) act() error {
	cfg := s.cfg
	skew := vrrp.SkewTime(cfg.Version, cfg.Priority[1], cfg.AdvertInt)
	mdi := vrrp.MasterDownInterval(cfg.Version, cfg.Priority[1], cfg.AdvertInt)
	switch s.sc {
	case Stop, ClientIgnoresGARP, NoGARP, Article:
		if err := s.routerCheck(-1); err != nil {
			return err
		}
		a := action{Time: time.Now(), What: "stop nat1 (SIGTERM)", From: Nat1, To: Nat2, Cause: "resign", Expected: skew}
		s.actions = append(s.actions, a)
		s.logf("%s", a.What)
		s.routers[0].Stop(3 * time.Second)
		minimum := time.Duration(0)
		if s.sc == Article {
			// Long enough to show the refresh GARPs the article puzzled over.
			minimum = skew + 2*cfg.GARP.Refresh + time.Second
		}
		return s.observe(a, minimum)
	case Crash, Failback:
		if err := s.routerCheck(-1); err != nil {
			return err
		}
		a := action{Time: time.Now(), What: "unplug nat1 (bridge port down)", From: Nat1, To: Nat2, Cause: "master-down", Expected: mdi}
		s.actions = append(s.actions, a)
		s.logf("%s", a.What)
		if err := s.lab.SetPort(Nat1, false); err != nil {
			return err
		}
		if err := s.observe(a, 0); err != nil || s.sc == Crash {
			return err
		}
		if err := s.routerCheck(-1); err != nil {
			return err
		}
		b := action{Time: time.Now(), What: "plug nat1 back in", From: Nat2, To: Nat1, Cause: "preempt",
			Expected: vrrp.MasterDownInterval(cfg.Version, cfg.Priority[0], cfg.AdvertInt)}
		s.actions = append(s.actions, b)
		s.logf("%s", b.What)
		if err := s.lab.SetPort(Nat1, true); err != nil {
			return err
		}
		return s.observe(b, 0)
	case Partition, OneWay:
		return s.split(mdi)
	}
	return fmt.Errorf("unknown scenario %q", s.sc)
}

// oneWayRule drops, on the bridge, VRRP coming in from nat1's port on its
// way out of nat2's: nat2 stops hearing nat1, nat1 still hears nat2.
func (s *stage) oneWayRule() string {
	return fmt.Sprintf(`table bridge vrrpctl_lab {
	chain forward {
		type filter hook forward priority 0; policy accept;
		iifname "%s" oifname "%s" ip protocol 112 drop
	}
}
`, s.lab.Host(Nat1).Port, s.lab.Host(Nat2).Port)
}

// split stages a split brain: VRRP dropped between the routers (both ways
// on each router's input for Partition, one way on the bridge for OneWay)
// until both hold the VIP and two advert intervals more (four for
// OneWay), then let through again.
func (s *stage) split(mdi time.Duration) error {
	cfg := s.cfg
	if err := s.routerCheck(-1); err != nil {
		return err
	}
	if s.sc == OneWay {
		a := action{Time: time.Now(), What: "drop VRRP from nat1 toward nat2 on the bridge", From: Nat1, To: Nat2, Cause: "one-way", Expected: mdi}
		s.actions = append(s.actions, a)
		s.logf("%s", a.What)
		if err := s.lab.Nft(switchHost, s.oneWayRule()); err != nil {
			return err
		}
	} else {
		a := action{Time: time.Now(), What: "drop VRRP between nat1 and nat2", From: Nat1, To: Nat2, Cause: "partition", Expected: mdi}
		s.actions = append(s.actions, a)
		s.logf("%s", a.What)
		for _, p := range [][2]string{{Nat1, Nat2}, {Nat2, Nat1}} {
			if err := s.lab.Nft(p[0], fmt.Sprintf(`table ip vrrpctl_lab {
	chain input {
		type filter hook input priority 0; policy accept;
		ip saddr %s ip protocol 112 drop
	}
}
`, s.lab.Host(p[1]).Addr.Addr())); err != nil {
				return err
			}
		}
	}
	// The outcome is two masters.
	both, err := s.until(mdi+2*time.Second, func() bool { return s.holders() == Nat1+"+"+Nat2 })
	if err != nil {
		return err
	}
	if both {
		s.logf("split brain: both routers hold the VIP")
		// A one-way loss is kept up longer: nat1's adverts lost on the
		// way to nat2 while nat2 advertises are the evidence.
		hold := 2 * cfg.AdvertInt
		if s.sc == OneWay {
			hold = 4 * cfg.AdvertInt
		}
		if err := s.sleep(hold); err != nil {
			return err
		}
	}
	h := action{Time: time.Now(), What: "let VRRP through again", From: Nat2, To: Nat1, Cause: "heal", Expected: 0}
	s.actions = append(s.actions, h)
	s.logf("%s", h.What)
	if s.sc == OneWay {
		if err := s.lab.Nft(switchHost, "delete table bridge vrrpctl_lab\n"); err != nil {
			return err
		}
		// The analyzer tells that a split brain ended when the side that
		// gave up stays quiet for seven advert intervals: capture them.
		return s.observe(h, 8*cfg.AdvertInt)
	}
	for _, host := range []string{Nat1, Nat2} {
		if err := s.lab.Nft(host, "delete table ip vrrpctl_lab\n"); err != nil {
			return err
		}
	}
	return s.observe(h, 0)
}

// stopObservers ends the pinger, the watch and the captures; idempotent.
// The error is the first capture's that failed.
func (s *stage) stopObservers() error {
	if s.pinger != nil {
		// Late answers to the last echoes still count.
		s.pinger.Stop(300 * time.Millisecond)
	}
	if s.watch != nil {
		s.watch.Stop()
	}
	var errs []error
	for i, c := range s.captures {
		if err := c.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("capture on %s: %w", Vantages[i], err))
		}
	}
	return errors.Join(errs...)
}
