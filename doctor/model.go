// Package doctor finds the causes of VRRP failures before they bite: on a
// host (or in a network namespace) and across the keepalived
// configurations of the routers of a segment.
//
// The host is inspected once, at the edge (Inspect: netlink for links,
// addresses, neighbours and bridges, nft's JSON output and iptables-save for
// the firewall, /proc for sysctls, multicast memberships and the VRRP
// speakers that run); the checks are small functions over that state and the
// parsed configurations, so each is tested on data as well as on the real
// thing. Run ties them together and returns a Report, the plain value that
// the report package renders as a checklist or as JSON.
package doctor

import "time"

// Schema names the JSON document of a Report.
const Schema = "vrrpctl.doctor/v1"

// Check codes. They are stable: scripts match on them.
const (
	CodeVIPDropped           = "vip-dropped"
	CodeVRRPBlocked          = "vrrp-blocked"
	CodeNoVRRPMembership     = "no-vrrp-membership"
	CodeSnoopingNoQuerier    = "snooping-no-querier"
	CodeStaticNeigh          = "static-neigh"
	CodeARPSysctl            = "arp-sysctl"
	CodeEqualPriority        = "equal-priority"
	CodeIntervalMismatch     = "interval-mismatch"
	CodeAuthMismatch         = "auth-mismatch"
	CodeVersionMismatch      = "version-mismatch"
	CodeVIPMismatch          = "vip-mismatch"
	CodeMcastGroupMismatch   = "mcast-group-mismatch"
	CodeUnicastAsymmetry     = "unicast-asymmetry"
	CodeVRIDCollision        = "vrid-collision"
	CodeNopreemptNeedsBackup = "nopreempt-needs-backup"
	CodeGARPSchedule         = "garp-schedule"
	CodeKeepalivedVersion    = "keepalived-version"
)

// Status is the outcome of one check.
type Status string

const (
	Pass Status = "pass" // nothing found
	Warn Status = "warn" // a risk, or something that could not be checked
	Fail Status = "fail" // a cause of failure is present
	Skip Status = "skip" // the check does not apply or lacks its input
)

// rank orders statuses by how much they matter.
func (s Status) rank() int {
	switch s {
	case Warn:
		return 2
	case Fail:
		return 3
	case Pass:
		return 1
	}
	return 0
}

// Severity of a finding, as in the analyzer: info, warning, critical.
type Severity string

const (
	Info     Severity = "info"
	Warning  Severity = "warning"
	Critical Severity = "critical"
)

func (s Severity) status() Status {
	switch s {
	case Critical:
		return Fail
	case Warning:
		return Warn
	}
	return Pass
}

// Report is what doctor found.
type Report struct {
	Schema string `json:"schema"`
	// Time is when the inspection ran.
	Time time.Time `json:"time"`
	// Host describes the host or namespace inspected; nil when only
	// configurations were checked.
	Host *HostSummary `json:"host"`
	// Configs lists the keepalived configurations checked, given or found
	// on the host.
	Configs []ConfigSummary `json:"configs"`
	// Checks is the checklist, in a fixed order: every code once.
	Checks []Check `json:"checks"`
	// Findings are what the checks found, each with its code and severity.
	Findings []Finding `json:"findings"`
	// Schedules are the predicted GARP schedules, one per instance.
	Schedules []Schedule `json:"garp_schedules"`
	// Errors says what could not be inspected.
	Errors []string `json:"errors"`
}

// HostSummary is what the report says of the host inspected.
type HostSummary struct {
	Netns      string   `json:"netns"`
	Router     bool     `json:"router"`
	Speakers   []string `json:"speakers"`
	Interfaces []string `json:"interfaces"`
	Bridges    []string `json:"bridges"`
	Firewall   string   `json:"firewall"`
}

// ConfigSummary names a configuration and what it holds.
type ConfigSummary struct {
	File      string   `json:"file"`
	RouterID  string   `json:"router_id"`
	Found     string   `json:"found,omitempty"` // "given", or how it was found on the host
	Instances []string `json:"instances"`
	Warnings  []string `json:"warnings"`
}

// Check is one line of the checklist.
type Check struct {
	Code   string   `json:"code"`
	Title  string   `json:"title"`
	Status Status   `json:"status"`
	Saw    []string `json:"saw"`
	// Why and Fix are said when the check did not pass.
	Why string `json:"why,omitempty"`
	Fix string `json:"fix,omitempty"`
}

// Finding is one cause found.
type Finding struct {
	Code     string   `json:"code"`
	Severity Severity `json:"severity"`
	Summary  string   `json:"summary"`
	Detail   string   `json:"detail"`
	Hint     string   `json:"hint"`
	// Where it was found: any of these may be empty.
	VRID      int      `json:"vrid,omitempty"`
	Instance  string   `json:"instance,omitempty"`
	Interface string   `json:"interface,omitempty"`
	Address   string   `json:"address,omitempty"`
	Files     []string `json:"files,omitempty"`
	Rule      *RuleRef `json:"rule,omitempty"`
	Setting   string   `json:"setting,omitempty"`
}

// RuleRef names a firewall rule.
type RuleRef struct {
	Backend string `json:"backend"` // "nftables" or "iptables"
	Family  string `json:"family"`
	Table   string `json:"table"`
	Chain   string `json:"chain"`
	Handle  int    `json:"handle,omitempty"`
	Rule    string `json:"rule"`
}

// ExitStatus is the status vrrpctl doctor exits with: 0 everything passed,
// 1 warnings, 2 failures.
func (r *Report) ExitStatus() int {
	worst := 0
	for _, c := range r.Checks {
		switch c.Status {
		case Fail:
			return 2
		case Warn:
			worst = 1
		}
	}
	return worst
}

// Check returns the check of a code, or nil.
func (r *Report) Check(code string) *Check {
	for i := range r.Checks {
		if r.Checks[i].Code == code {
			return &r.Checks[i]
		}
	}
	return nil
}

// FindingsOf returns the findings of a code.
func (r *Report) FindingsOf(code string) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Code == code {
			out = append(out, f)
		}
	}
	return out
}
