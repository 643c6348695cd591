package lab

import (
	"fmt"
	"strings"
	"time"

	"github.com/vrrpctl/vrrpctl/analyze"
	"github.com/vrrpctl/vrrpctl/kaconf"
	"github.com/vrrpctl/vrrpctl/merge"
)

// ReportSchema names the JSON document shape; bump it on incompatible changes.
const ReportSchema = "vrrpctl.failover-test/v2"

// Report is the outcome of a run: one Result per scenario.
type Report struct {
	Schema  string    `json:"schema"`
	Impl    Impl      `json:"impl"`
	Version int       `json:"version"`
	Pass    bool      `json:"pass"`
	Results []*Result `json:"results"`
}

// Result is one scenario's outcome. Times (…_ms, at_ms) are milliseconds;
// at_ms counts from the scenario's first action.
type Result struct {
	Scenario    Scenario `json:"scenario"`
	Description string   `json:"description"`
	Lab         string   `json:"lab"`
	Pcap        string   `json:"pcap,omitempty"`
	// CaptureDir holds the three captures when they were kept.
	CaptureDir  string          `json:"capture_dir,omitempty"`
	Routers     []RouterInfo    `json:"routers"`
	AdvertMS    float64         `json:"advert_interval_ms"`
	MaxOutageMS float64         `json:"max_outage_ms"`
	EchoesSent  int             `json:"echoes_sent"`
	EchoesLost  int             `json:"echoes_lost"`
	Failovers   []FailoverGrade `json:"failovers"`
	ARP         []ARPChange     `json:"client_arp"`
	VIP         []VIPChange     `json:"vip_moves"`
	GARPs       []GARPSeen      `json:"garps"`
	// SplitBrainMS is the longest time both routers held the VIP.
	SplitBrainMS float64 `json:"split_brain_ms"`
	// Captures are the client's and each router's captures as the
	// analyzer merged them (the analysis' sources: clock offsets, frames,
	// adverts seen); Findings and SplitBrains are the merged analysis'.
	Captures     []analyze.Vantage    `json:"captures"`
	Findings     []analyze.Finding    `json:"findings"`
	SplitBrains  []analyze.SplitBrain `json:"split_brains"`
	AnalyzeError string               `json:"analyze_error,omitempty"`
	// Expect lists the findings the scenario provokes on purpose;
	// ExpectSeen tells whether the analyzer reported them all, and
	// ExpectMissing which it did not.
	Expect        []string `json:"expect"`
	ExpectSeen    bool     `json:"expect_seen"`
	ExpectMissing []string `json:"expect_missing,omitempty"`
	Pass          bool     `json:"pass"`
	Reasons       []string `json:"reasons"`

	// start is when the scenario's first action came (at_ms counts from
	// it); analysis is the analyzer's view of the captures merged, for
	// the HTML report.
	start    time.Time
	analysis *analyze.Analysis
}

// RouterInfo describes one router of the lab.
type RouterInfo struct {
	Host     string `json:"host"`
	Impl     Impl   `json:"impl"`
	Addr     string `json:"addr"`
	MAC      string `json:"mac"`
	Priority int    `json:"priority"`
}

// FailoverGrade is how one failover went.
type FailoverGrade struct {
	Action string  `json:"action"`
	AtMS   float64 `json:"at_ms"`
	From   string  `json:"from"`
	To     string  `json:"to"`
	Cause  string  `json:"cause"`
	// DetectMS runs from the old master's last advert (its priority-0
	// advert for a resign; the lab's action for a preempt) to the new
	// master's first advert; ExpectedMS is the RFC's time for the cause.
	DetectMS   *float64 `json:"detect_ms"`
	ExpectedMS float64  `json:"expected_ms"`
	// TakeoverMS runs from the lab's action to the new master's first advert.
	TakeoverMS *float64 `json:"takeover_ms"`
	// GarpMS and SwitchMS run from the new master's first advert to its
	// first GARP, and to the client's first echo sent to its MAC.
	GarpMS   *float64 `json:"garp_ms"`
	SwitchMS *float64 `json:"switch_ms"`
	// OutageMS is the longest run of unanswered echoes, from the first
	// unanswered one to the next answered one.
	OutageMS  float64 `json:"outage_ms"`
	Lost      int     `json:"lost"`
	Recovered bool    `json:"recovered"`
	// Moved tells whether To held the VIP (alone) at the end.
	Moved bool `json:"moved"`
}

// ARPChange is a change of the client's neighbour entry for the VIP.
type ARPChange struct {
	AtMS  float64 `json:"at_ms"`
	State string  `json:"state"`
	MAC   string  `json:"mac,omitempty"`
	Owner string  `json:"owner,omitempty"`
}

// GARPSeen is a gratuitous ARP for the VIP the client saw.
type GARPSeen struct {
	AtMS float64 `json:"at_ms"`
	Host string  `json:"host"`
}

// VIPChange is the VIP appearing on or leaving a router.
type VIPChange struct {
	AtMS float64 `json:"at_ms"`
	Host string  `json:"host"`
	Held bool    `json:"held"`
}

func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func msPtr(d time.Duration) *float64 { v := msOf(d); return &v }

// grade turns what the stage observed into a Result; paths are the
// captures, in Vantages' order.
func (s *stage) grade(paths []string) (*Result, error) {
	l, cfg := s.lab, s.cfg
	res := &Result{
		Scenario: s.sc, Lab: l.ID, Expect: expectedFindings(s.sc),
		AdvertMS: msOf(cfg.AdvertInt), MaxOutageMS: msOf(cfg.MaxOutage),
		Captures: []analyze.Vantage{}, Findings: []analyze.Finding{}, SplitBrains: []analyze.SplitBrain{}, Reasons: []string{},
	}
	if res.Expect == nil {
		res.Expect = []string{}
	}
	for _, sc := range Scenarios {
		if sc.Name == s.sc {
			res.Description = sc.Help
		}
	}
	for i, r := range s.routers {
		h := l.Host(r.Spec.Host)
		res.Routers = append(res.Routers, RouterInfo{Host: h.Name, Impl: r.Spec.Impl, Addr: h.Addr.Addr().String(), MAC: h.MAC.String(), Priority: cfg.Priority[i]})
	}
	t0 := s.actions[0].Time
	res.start = t0
	rel := func(t time.Time) float64 { return msOf(t.Sub(t0)) }
	for _, n := range s.watch.Neigh() {
		res.ARP = append(res.ARP, ARPChange{AtMS: rel(n.Time), State: n.State, MAC: n.MAC, Owner: l.hostByMACString(n.MAC)})
	}
	moves := s.watch.Addrs()
	for _, m := range moves {
		res.VIP = append(res.VIP, VIPChange{AtMS: rel(m.Time), Host: m.Host, Held: m.Added})
	}
	res.SplitBrainMS = msOf(longestBoth(moves, time.Now()))

	// The lab's own measurements come from the client's capture.
	w, err := readWire(paths[0], VIP.Addr(), l.Host(Here).MAC)
	if err != nil {
		return nil, err
	}
	for _, g := range w.garps {
		res.GARPs = append(res.GARPs, GARPSeen{AtMS: rel(g.Time), Host: l.hostByMACString(g.MAC)})
	}
	echos := s.pinger.Echos()
	res.EchoesSent = len(echos)
	for _, e := range echos {
		if e.Replied.IsZero() {
			res.EchoesLost++
		}
	}
	end := time.Now()
	if len(echos) > 0 {
		end = echos[len(echos)-1].Sent.Add(cfg.PingInterval)
	}
	for i, a := range s.actions {
		until := end
		if i+1 < len(s.actions) {
			until = s.actions[i+1].Time
		}
		res.Failovers = append(res.Failovers, s.gradeFailover(a, until, w, echos, moves, rel))
	}

	s.analyze(res, paths)
	s.verdict(res)
	return res, nil
}

// splitAction reports whether an action stages a split brain: both
// routers are then meant to hold the VIP.
func splitAction(cause string) bool { return cause == "partition" || cause == "one-way" }

func (l *Lab) hostByMACString(mac string) string {
	for _, h := range l.hosts {
		if h.MAC.String() == mac {
			return h.Name
		}
	}
	return ""
}

func (s *stage) gradeFailover(a action, until time.Time, w *wire, echos []Echo, moves []AddrEvent, rel func(time.Time) float64) FailoverGrade {
	l := s.lab
	toMAC, fromMAC := l.Host(a.To).MAC.String(), l.Host(a.From).MAC.String()
	g := FailoverGrade{Action: a.What, AtMS: rel(a.Time), From: a.From, To: a.To, Cause: a.Cause, ExpectedMS: msOf(a.Expected)}

	var newFirst time.Time
	for _, ad := range w.adverts {
		if ad.MAC == toMAC && ad.Priority > 0 && !ad.Time.Before(a.Time) && ad.Time.Before(until) {
			newFirst = ad.Time
			break
		}
	}
	var ref time.Time
	switch a.Cause {
	case "resign":
		for _, ad := range w.adverts {
			if ad.MAC == fromMAC && ad.Priority == 0 && !ad.Time.Before(a.Time) {
				ref = ad.Time
				break
			}
		}
	case "master-down", "partition", "one-way":
		for _, ad := range w.adverts {
			if ad.MAC == fromMAC && ad.Time.Before(a.Time) {
				ref = ad.Time
			}
		}
	default:
		ref = a.Time
	}
	if !newFirst.IsZero() {
		g.TakeoverMS = msPtr(newFirst.Sub(a.Time))
		if !ref.IsZero() {
			g.DetectMS = msPtr(newFirst.Sub(ref))
		}
		for _, ga := range w.garps {
			if ga.MAC == toMAC && !ga.Time.Before(newFirst.Add(-50*time.Millisecond)) && ga.Time.Before(until) {
				g.GarpMS = msPtr(ga.Time.Sub(newFirst))
				break
			}
		}
	}
	for _, e := range w.echoes {
		if e.MAC == toMAC && !e.Time.Before(a.Time) && e.Time.Before(until) {
			base := newFirst
			if base.IsZero() {
				base = a.Time
			}
			g.SwitchMS = msPtr(e.Time.Sub(base))
			break
		}
	}

	// The longest run of unanswered echoes in the window.
	g.Recovered = true
	from := a.Time.Add(-s.cfg.PingInterval)
	var runStart time.Time
	for _, e := range echos {
		if e.Sent.Before(from) || !e.Sent.Before(until) {
			continue
		}
		if e.Replied.IsZero() {
			g.Lost++
			if runStart.IsZero() {
				runStart = e.Sent
			}
			continue
		}
		if !runStart.IsZero() {
			if d := msOf(e.Sent.Sub(runStart)); d > g.OutageMS {
				g.OutageMS = d
			}
			runStart = time.Time{}
		}
	}
	if !runStart.IsZero() {
		g.Recovered = false
		if d := msOf(until.Sub(runStart)); d > g.OutageMS {
			g.OutageMS = d
		}
	}
	held := heldAt(moves, until)
	// A partition is meant to leave both routers holding the VIP.
	g.Moved = held[a.To] && (!held[a.From] || splitAction(a.Cause))
	return g
}

// heldAt replays the VIP moves up to t.
func heldAt(moves []AddrEvent, t time.Time) map[string]bool {
	held := map[string]bool{}
	for _, m := range moves {
		if m.Time.After(t) {
			break
		}
		held[m.Host] = m.Added
	}
	return held
}

// longestBoth is the longest stretch during which both routers held the VIP.
func longestBoth(moves []AddrEvent, end time.Time) time.Duration {
	held := map[string]bool{}
	var since time.Time
	var longest time.Duration
	for _, m := range moves {
		held[m.Host] = m.Added
		both := held[Nat1] && held[Nat2]
		switch {
		case both && since.IsZero():
			since = m.Time
		case !both && !since.IsZero():
			longest = max(longest, m.Time.Sub(since))
			since = time.Time{}
		}
	}
	if !since.IsZero() {
		longest = max(longest, end.Sub(since))
	}
	return longest
}

// analyze runs vrrpctl's analyzer on the three captures merged (each named
// after its host, with the host's address: NAME@ADDR), with the routers'
// configurations to compare against.
func (s *stage) analyze(res *Result, paths []string) {
	var inputs []merge.Input
	for i, h := range Vantages {
		inputs = append(inputs, merge.Input{Name: h + "@" + s.lab.Host(h).Addr.Addr().String(), Path: paths[i]})
	}
	m, err := merge.Open(inputs, merge.Options{})
	if err != nil {
		res.AnalyzeError = err.Error()
		return
	}
	defer m.Close()
	var confs []*kaconf.Config
	for _, r := range s.routers {
		if c, err := kaconf.ParseFile(r.Conf); err == nil {
			confs = append(confs, c)
		}
	}
	a, err := analyze.RunMerged(m, analyze.Options{File: strings.Join(paths, ", "), Configs: confs})
	if err != nil {
		res.AnalyzeError = err.Error()
		return
	}
	var unaligned []string
	for _, u := range m.Unaligned() {
		unaligned = append(unaligned, fmt.Sprintf("%s's capture could not be aligned with the others (%s)", u.Vantage.Name, u.Reason))
	}
	if len(unaligned) > 0 {
		res.AnalyzeError = strings.Join(unaligned, "; ")
	}
	res.analysis = a
	res.Captures = append(res.Captures, a.Sources...)
	res.Findings = append(res.Findings, a.Findings...)
	res.SplitBrains = append(res.SplitBrains, a.SplitBrains...)
	for _, code := range res.Expect {
		if !a.HasFinding(code) {
			res.ExpectMissing = append(res.ExpectMissing, code)
		}
	}
	res.ExpectSeen = len(res.Expect) > 0 && len(res.ExpectMissing) == 0
}

// verdict decides pass or fail and says why.
func (s *stage) verdict(res *Result) {
	fail := func(format string, a ...any) { res.Reasons = append(res.Reasons, fmt.Sprintf(format, a...)) }
	for _, g := range res.Failovers {
		if !g.Moved {
			fail("%s: the VIP did not end up on %s alone", g.Action, g.To)
		}
		if !g.Recovered {
			fail("%s: the client was still without answers after %.1f s", g.Action, g.OutageMS/1000)
		} else if g.OutageMS > res.MaxOutageMS {
			fail("%s: outage %.1f s exceeds the limit of %.1f s", g.Action, g.OutageMS/1000, res.MaxOutageMS/1000)
		}
	}
	if res.SplitBrainMS > res.AdvertMS {
		fail("split brain: both routers held the VIP for %.1f s", res.SplitBrainMS/1000)
	}
	if res.AnalyzeError != "" {
		fail("the captures could not be analyzed: %s", res.AnalyzeError)
	}
	res.Pass = len(res.Reasons) == 0
}
