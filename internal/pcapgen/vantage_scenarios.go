package pcapgen

import (
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/vrrpctl/vrrpctl/analyze"
)

// A VantageScenario is an incident captured on several hosts at once: the
// client and both routers, each capture on its own clock.
type VantageScenario struct {
	Name  string
	Story string
	build func(seed uint64) (*Writer, []Vantage, VantageExpect)
}

// VantageExpect is what a merged analysis of the captures concludes.
type VantageExpect struct {
	// Must lists finding codes that must be made, MustNot codes that must
	// not; Quiet allows nothing above info besides Must.
	Must, MustNot []string
	Quiet         bool
	Failovers     int
	SplitBrains   int
	// At names, per code of Must, the vantage its finding must name.
	At map[string]string
}

// Build generates the scenario's captures.
func (s VantageScenario) Build() (*Writer, []Vantage, VantageExpect) {
	h := fnv.New64a()
	h.Write([]byte(s.Name))
	return s.build(h.Sum64())
}

// VantageScenarios lists the scenarios of several captures.
func VantageScenarios() []VantageScenario { return slices.Clone(vantageScenarios) }

// The codes only several captures tell.
var vantageCodes = []string{analyze.CodeGARPLost, analyze.CodeGARPIgnored, analyze.CodeAdvertLost, analyze.CodeNotSent}

func notCodes(codes []string, but ...string) []string {
	var out []string
	for _, c := range codes {
		if !slices.Contains(but, c) {
			out = append(out, c)
		}
	}
	return out
}

var vantageScenarios = []VantageScenario{
	{"vantages-healthy", "healthy-v2 captured on the client and on both routers, nat1's clock 2.5 s ahead and nat2's an hour behind, each with 0.2 ms of jitter. The same clean resign as seen from one capture: no new finding.",
		func(seed uint64) (*Writer, []Vantage, VantageExpect) {
			w, _ := healthy(pairOpts{seed: seed})
			return w, labVantages(w), VantageExpect{MustNot: append(slices.Clone(warnings), vantageCodes...), Quiet: true, Failovers: 1}
		}},
	{"vantages-garp-lost", "healthy-v2, but the bridge drops the GARPs on their way to the client: they are in nat2's capture and nat1's, not in the client's, which keeps seeing nat2's adverts. The Linux client keeps nat1's MAC until its entry's reachable time runs out. garp-lost at here (instead of stale-arp).",
		func(seed uint64) (*Writer, []Vantage, VantageExpect) {
			w, _ := healthy(pairOpts{seed: seed, reachable: 17 * time.Second, end: 36 * time.Second,
				drop: func(l *lab) func(*Frame, *Host) bool {
					return func(f *Frame, to *Host) bool { return f.arp != nil && f.arp.IsGratuitous() && to == l.here }
				}})
			return w, labVantages(w), VantageExpect{Must: []string{analyze.CodeGARPLost},
				MustNot: notCodes(append(slices.Clone(warnings), vantageCodes...), analyze.CodeGARPLost), Failovers: 1,
				At: map[string]string{analyze.CodeGARPLost: "here"}}
		}},
	{"vantages-garp-ignored", "client-ignores-garp captured on the client and both routers: the client's own capture holds nat2's GARPs and the client keeps sending to nat1's MAC. garp-ignored (instead of stale-arp).",
		func(seed uint64) (*Writer, []Vantage, VantageExpect) {
			w, _ := healthy(pairOpts{seed: seed, client: StaticClient, end: 32 * time.Second})
			return w, labVantages(w), VantageExpect{Must: []string{analyze.CodeGARPIgnored},
				MustNot: notCodes(append(slices.Clone(warnings), vantageCodes...), analyze.CodeGARPIgnored), Failovers: 1,
				At: map[string]string{analyze.CodeGARPIgnored: "here"}}
		}},
	{"vantages-not-sent", "no-garp captured on the client and both routers: nat2's own capture shows it became master and sent no GARP. not-sent (instead of no-garp); the client's stale entry stays stale-arp, since no GARP existed to lose or ignore.",
		func(seed uint64) (*Writer, []Vantage, VantageExpect) {
			w, _ := healthy(pairOpts{seed: seed, noGARP: true, reachable: 17 * time.Second, end: 36 * time.Second})
			return w, labVantages(w), VantageExpect{Must: []string{analyze.CodeNotSent, analyze.CodeStaleARP},
				MustNot: notCodes(append(slices.Clone(warnings), vantageCodes...), analyze.CodeNotSent, analyze.CodeStaleARP), Failovers: 1,
				At: map[string]string{analyze.CodeNotSent: "nat2"}}
		}},
	{"vantages-advert-lost", "As split-brain, but what makes nat2 deaf is visible: from about 8.6 s the bridge drops nat1's adverts on their way to nat2 (one way: nat1 still hears nat2 and answers its adverts). The adverts are in nat1's and the client's captures, not in nat2's; nat2 becomes master too. advert-lost at nat2 and split-brain, whose cause names the loss.",
		vantagesAdvertLost},
}

// labVantages captures the lab's three hosts, each clock off its own way.
func labVantages(w *Writer) []Vantage {
	host := func(name string) *Host {
		for _, h := range w.hosts {
			if h.Name == name {
				return h
			}
		}
		panic(fmt.Sprintf("pcapgen: no host %s", name))
	}
	return []Vantage{
		{Name: "here", Host: host("here")},
		{Name: "nat1", Host: host("nat1"), Offset: 2500 * time.Millisecond, Jitter: 200 * time.Microsecond},
		{Name: "nat2", Host: host("nat2"), Offset: -time.Hour, Jitter: 200 * time.Microsecond},
	}
}

func vantagesAdvertLost(seed uint64) (*Writer, []Vantage, VantageExpect) {
	l := newLab(seed, Ethernet)
	w := l.w
	end := 24 * time.Second
	up := l.startup()
	var deaf, heal time.Duration
	w.Drop(func(f *Frame, to *Host) bool {
		return f.kind == "vrrp" && f.host == l.nat1.Host && to == l.nat2.Host && f.At >= deaf && f.At < heal
	})
	t1 := w.Master(l.nat1, up, end)
	for _, a := range t1.Adverts {
		if a > 8*time.Second+500*time.Millisecond {
			deaf = a
			break
		}
	}
	from := deaf + masterDown(2, 10, time.Second) + w.Jitter(time.Millisecond, 3*time.Millisecond)
	heal = from + 5*time.Second + w.Jitter(10*time.Millisecond, 60*time.Millisecond)
	t2 := w.Master(l.nat2, from, heal)
	answerLower(w, l.nat1, t2, l.vip)
	w.Client(Traffic{Client: l.here, VIP: l.vip, From: 6*time.Second + 880*time.Millisecond, To: end})
	return w, labVantages(w), VantageExpect{Must: []string{analyze.CodeAdvertLost, analyze.CodeSplitBrain},
		MustNot:     notCodes(vantageCodes, analyze.CodeAdvertLost),
		SplitBrains: 1, At: map[string]string{analyze.CodeAdvertLost: "nat2"}}
}
