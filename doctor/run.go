package doctor

import (
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/vrrpctl/vrrpctl/kaconf"
)

// Options say what doctor looks at.
type Options struct {
	// Netns is the network namespace to inspect: a name under /run/netns or
	// a path; "" inspects the caller's.
	Netns string
	// NoHost skips the host: only the configurations are checked.
	NoHost bool
	// Configs are the keepalived configurations given, one per router.
	Configs []*kaconf.Config
	// VIPs are addresses to treat as VIPs besides the configurations'.
	VIPs []netip.Addr
	// Keepalived is the version to model; the zero Version takes the one
	// found on the host, else DefaultVersion.
	Keepalived Version
}

// Run inspects the host (unless NoHost) and checks it with the
// configurations. The error is for a host that could not be inspected at
// all (no such namespace, no permission to enter it).
func Run(opts Options) (*Report, error) {
	var h *Host
	if !opts.NoHost {
		var err error
		h, err = Inspect(opts.Netns)
		if err != nil {
			return nil, err
		}
	}
	return Evaluate(h, opts), nil
}

// Evaluate runs every check over an inspected host (nil: none) and the
// configurations of opts.
func Evaluate(h *Host, opts Options) *Report {
	r := &Report{Schema: Schema, Time: time.Now().UTC()}
	given := opts.Configs
	var found []*kaconf.Config
	if h != nil {
		var errs []string
		found, errs = h.configsOf()
		r.Errors = append(r.Errors, errs...)
		r.Errors = append(r.Errors, h.Errors...)
	}
	for _, c := range given {
		r.Configs = append(r.Configs, summarize(c, "given"))
	}
	// A configuration found running that was also given is the same one.
	var fresh []*kaconf.Config
	for _, c := range found {
		dup := false
		for _, g := range given {
			dup = dup || sameFile(g.File, c.File)
		}
		if !dup {
			fresh = append(fresh, c)
		}
	}
	found = fresh
	for _, c := range found {
		r.Configs = append(r.Configs, summarize(c, "read by a speaker running here"))
	}
	// The configuration checks compare routers: the given configurations,
	// else those found running here.
	cross := given
	if len(cross) == 0 {
		cross = found
	}
	version, versionSaw := pickVersion(h, opts.Keepalived)

	results := map[string]*Check{}
	for _, code := range order {
		results[code] = &Check{Code: code, Title: Codes[code].Title, Status: Pass}
	}
	addFindings := func(code string, fs []Finding, saw []string, st Status) {
		c := results[code]
		c.Saw = append(c.Saw, saw...)
		if st.rank() > c.Status.rank() || c.Status == Pass && st == Skip {
			c.Status = st
		}
		for _, f := range fs {
			if s := f.Severity.status(); s.rank() > c.Status.rank() {
				c.Status = s
			}
			r.Findings = append(r.Findings, f)
		}
	}

	// keepalived-version
	addFindings(CodeKeepalivedVersion, nil, versionSaw, Pass)

	hostCodes := []string{CodeVIPDropped, CodeVRRPBlocked, CodeNoVRRPMembership, CodeSnoopingNoQuerier, CodeStaticNeigh, CodeARPSysctl}
	if h == nil {
		for _, code := range hostCodes {
			addFindings(code, nil, []string{"no host inspected (--no-host)"}, Skip)
		}
	} else {
		all := append(append([]*kaconf.Config(nil), given...), found...)
		v := newHostView(h, all, opts.VIPs)
		r.Host = v.summary()
		for _, c := range []struct {
			code string
			fn   func() ([]Finding, []string, Status)
		}{
			{CodeVIPDropped, v.checkVIPDropped},
			{CodeVRRPBlocked, v.checkVRRPBlocked},
			{CodeNoVRRPMembership, v.checkMembership},
			{CodeSnoopingNoQuerier, v.checkSnooping},
			{CodeStaticNeigh, v.checkStaticNeigh},
			{CodeARPSysctl, v.checkARPSysctl},
		} {
			fs, saw, st := c.fn()
			addFindings(c.code, fs, saw, st)
		}
	}

	// Across the configurations.
	crossCodes := []string{CodeEqualPriority, CodeIntervalMismatch, CodeAuthMismatch, CodeVersionMismatch, CodeVIPMismatch, CodeMcastGroupMismatch, CodeUnicastAsymmetry, CodeVRIDCollision}
	fs, saw := configChecks(cross)
	for _, code := range append(crossCodes, CodeNopreemptNeedsBackup) {
		var mine []Finding
		for _, f := range fs {
			if f.Code == code {
				mine = append(mine, f)
			}
		}
		st := Pass
		s := saw[code]
		switch {
		case len(cross) == 0:
			st, s = Skip, []string{"no keepalived configuration: give --keepalived-conf (one per router)"}
		case len(cross) < 2 && contains(crossCodes, code) && code != CodeVRIDCollision:
			st, s = Skip, []string{fmt.Sprintf("one configuration (%s): give the other routers' with --keepalived-conf", cross[0].File)}
		}
		if code == CodeNopreemptNeedsBackup && len(cross) > 0 && len(s) == 0 {
			s = []string{"no instance has nopreempt"}
		}
		addFindings(code, mine, s, st)
	}

	// GARP schedules.
	if len(cross) == 0 {
		addFindings(CodeGARPSchedule, nil, []string{"no keepalived configuration: give --keepalived-conf"}, Skip)
	}
	for _, c := range cross {
		for _, in := range c.Instances {
			s := PredictGARP(in, version)
			r.Schedules = append(r.Schedules, s)
			line := fmt.Sprintf("%s (%s, keepalived %s): GARPs at %s; gaps %s", in.Name, routerName(c), version, offsets(s.GARPs, 10), gapList(s.GapsMS, 10))
			if !s.Irregular && len(s.Why) == 0 {
				addFindings(CodeGARPSchedule, nil, []string{line}, Pass)
				continue
			}
			f := finding(CodeGARPSchedule, Warning, fmt.Sprintf("%s (%s): GARPs %s (%s) with advert_int %s, vrrp_garp_master_refresh %s, vrrp_garp_interval %s, vrrp_garp_master_delay %s: %s",
				in.Name, routerName(c), map[bool]string{true: "at irregular gaps", false: "otherwise than configured"}[s.Irregular], "gaps "+gapList(s.GapsMS, 8), secs(in.AdvertInt), secs(in.GARP.MasterRefresh), secs(in.GARP.Interval), secs(in.GARP.MasterDelay), strings.Join(s.Why, "; ")))
			f.VRID, f.Instance, f.Files = in.VRID, in.Name, []string{fmt.Sprintf("%s:%d", in.File, in.Line)}
			addFindings(CodeGARPSchedule, []Finding{f}, []string{line}, Pass)
		}
	}

	for _, code := range order {
		c := results[code]
		if c.Status == Warn || c.Status == Fail {
			c.Why, c.Fix = Codes[code].Why, Codes[code].Fix
		}
		if c.Saw == nil {
			c.Saw = []string{}
		}
		r.Checks = append(r.Checks, *c)
	}
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	for _, c := range r.Checks {
		if c.Status == Warn && len(r.FindingsOf(c.Code)) == 0 {
			// A check that could not read what it needs says so as a
			// finding too, for scripts.
			f := finding(c.Code, Warning, "could not be checked: "+strings.Join(c.Saw, "; "))
			r.Findings = append(r.Findings, f)
		}
	}
	return r
}

func pickVersion(h *Host, given Version) (Version, []string) {
	var v Version
	var saw []string
	switch {
	case given.Known():
		v = given
		saw = append(saw, fmt.Sprintf("keepalived %s (given)", v))
	case h != nil && h.Keepalived.Known():
		v = h.Keepalived
		saw = append(saw, fmt.Sprintf("keepalived %s (from %s)", v, h.KeepalivedFrom))
	default:
		v = DefaultVersion
		saw = append(saw, fmt.Sprintf("keepalived not found: the predictions model %s (give --keepalived-version)", v))
	}
	return v, append(saw, v.Behaviours()...)
}

func summarize(c *kaconf.Config, how string) ConfigSummary {
	s := ConfigSummary{File: c.File, RouterID: c.Global.RouterID, Found: how, Instances: []string{}, Warnings: []string{}}
	for _, in := range c.Instances {
		s.Instances = append(s.Instances, fmt.Sprintf("%s: VRID %d on %s, %s, priority %d, advert_int %s, VRRPv%d, VIPs %s", in.Name, in.VRID, in.Interface, in.State, in.Priority, secs(in.AdvertInt), in.Version, orNone(vipSet(in))))
	}
	for _, w := range c.Warnings {
		if !w.Unsupported {
			s.Warnings = append(s.Warnings, w.String())
		}
	}
	return s
}

func (v *hostView) summary() *HostSummary {
	s := &HostSummary{Netns: v.h.Netns, Router: v.router != "", Speakers: []string{}, Interfaces: []string{}, Bridges: []string{}}
	for _, sp := range v.h.Speakers {
		s.Speakers = append(s.Speakers, fmt.Sprintf("%s (pid %d)", sp.Kind, sp.Pid))
	}
	for _, l := range v.h.Links {
		if l.Name == "lo" {
			continue
		}
		var as []string
		for _, a := range l.Addrs {
			as = append(as, a.String())
		}
		s.Interfaces = append(s.Interfaces, fmt.Sprintf("%s %s", l.Name, orNone(strings.Join(as, " "))))
	}
	for _, b := range v.h.Bridges {
		s.Bridges = append(s.Bridges, b.Name)
	}
	if v.h.Firewall != nil {
		s.Firewall = strings.Join(v.h.Firewall.Backends, ", ")
	}
	return s
}

func offsets(gs []ScheduledGARP, n int) string {
	var parts []string
	last := -1.0
	for _, g := range gs {
		if last >= 0 && g.OffsetMS-last < 1 {
			continue
		}
		last = g.OffsetMS
		if len(parts) == n {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, "+"+strings.TrimSuffix(secsMS(g.OffsetMS), " s"))
	}
	return strings.Join(parts, ", ") + " s"
}

func gapList(gs []float64, n int) string {
	if len(gs) == 0 {
		return "none"
	}
	var parts []string
	for i, g := range gs {
		if i == n {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, strings.TrimSuffix(secsMS(g), " s"))
	}
	return strings.Join(parts, ", ") + " s"
}

// sameFile reports whether two paths name one file.
func sameFile(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	if err1 != nil || err2 != nil {
		return a == b
	}
	return os.SameFile(sa, sb)
}
