package monitoring_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vrrpctl/vrrpctl/internal/nsenter"
	"github.com/vrrpctl/vrrpctl/internal/testenv"
	"github.com/vrrpctl/vrrpctl/lab"
)

// The end-to-end test: a segment of package lab with a client (here) and
// two routers (nat1 priority 100, nat2 priority 50) running `vrrpctl
// speaker` (VRID 51, VRRPv2, 1 s adverts, VIP 192.168.33.100). On the
// client, `vrrpctl watch -i eth1 --metrics-addr` and a real Prometheus
// server (Debian's), started by the test on a temporary data directory,
// which scrapes the watcher and both speakers every second and evaluates
// vrrpctl.rules.yml, as shipped, every 5 s. The speakers and the watcher run
// as nobody with only the capabilities their systemd units give them
// (setpriv), so the units' privileges are tested too.

const (
	labPrefix   = "vm"
	vip         = "192.168.33.100"
	scrapeEvery = time.Second
	// evalEvery is the rules' evaluation interval: the urgent alerts have
	// `for: 5s`, so they fire at the second evaluation that sees their
	// condition, as they do with Debian's 15 s.
	evalEvery = 5 * time.Second
	watchAddr = "127.0.0.1:9468"
	promAddr  = "127.0.0.1:9090"
)

var routerAddr = map[string]string{"nat1": "192.168.33.101", "nat2": "192.168.33.102"}

// vrrpctlBin is the binary TestMain builds when running as root.
var vrrpctlBin string

func TestMain(m *testing.M) {
	code := func() int {
		if os.Geteuid() != 0 {
			return m.Run()
		}
		// nobody runs it: BuildVrrpctl's directory is open to it.
		bin, remove, err := testenv.BuildVrrpctl()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer remove()
		vrrpctlBin = bin
		return m.Run()
	}()
	os.Exit(code)
}

// unprivileged wraps argv to run as nobody with only caps (as the systemd
// units' DynamicUser, AmbientCapabilities, CapabilityBoundingSet and
// NoNewPrivileges do).
func unprivileged(caps string, argv ...string) []string {
	return append([]string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--no-new-privs",
		"--inh-caps=-all," + caps, "--ambient-caps=-all," + caps, "--bounding-set=-all," + caps, "--"}, argv...)
}

type e2e struct {
	t     *testing.T
	lab   *lab.Lab
	dir   string
	here  *lab.Host
	http  *http.Client
	procs map[string]*lab.Process
	n     int
	// measures are the timings the test reports, in order.
	measures []string
}

func newE2E(t *testing.T) *e2e {
	testenv.NeedRoot(t)
	testenv.NeedTool(t, "prometheus", "promtool", "setpriv", "nft", "bash", "ip")
	if vrrpctlBin == "" {
		testenv.Skip(t, "vrrpctl was not built (TestMain builds it as root)")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	l, err := lab.NewSegment(lab.SegmentOptions{Prefix: labPrefix, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	e := &e2e{t: t, lab: l, dir: dir, procs: map[string]*lab.Process{}}
	e.here, err = l.AddHost("here", netip.MustParsePrefix("192.168.33.2/24"))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"nat1", "nat2"} {
		if _, err := l.AddHost(h, netip.MustParsePrefix(routerAddr[h]+"/24")); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.WaitCarrier(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	// HTTP from the test to the client's loopback and the lab's addresses.
	path := e.here.Path()
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		err := nsenter.RunPath(path, func() error {
			var err error
			c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}}
	t.Cleanup(tr.CloseIdleConnections)
	e.http = &http.Client{Transport: tr, Timeout: 10 * time.Second}
	t.Cleanup(func() {
		if t.Failed() {
			for name, p := range e.procs {
				t.Logf("%s output (tail):\n%s", name, p.Tail())
			}
		}
	})
	return e
}

// start runs argv on host as process name (the test's handle for it).
func (e *e2e) start(host, name string, argv []string) *lab.Process {
	e.t.Helper()
	e.n++
	p, err := e.lab.Start(host, fmt.Sprintf("%s-%d", name, e.n), argv, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	e.procs[name] = p
	return p
}

// speaker starts `vrrpctl speaker` on router host.
func (e *e2e) speaker(host string, prio int) {
	e.t.Helper()
	e.start(host, host, unprivileged("+net_raw,+net_admin", vrrpctlBin, "speaker",
		"--interface", "eth1", "--vrid", "51", "--priority", strconv.Itoa(prio), "--vip", vip+"/24",
		"--listen", routerAddr[host]+":9650", "--log-format", "json"))
}

// stop stops a process the test started (SIGTERM: a master resigns) and
// checks its exit status is at most maxStatus (watch exits 1 or 2 after
// warnings or critical findings, as its unit's SuccessExitStatus allows).
func (e *e2e) stop(name string, maxStatus int) {
	e.t.Helper()
	if p := e.procs[name]; p != nil {
		p.Stop(5 * time.Second)
		if code := p.ExitCode(); code < 0 || code > maxStatus {
			e.t.Errorf("%s exited with status %d:\n%s", name, code, p.Tail())
		}
	}
}

func (e *e2e) measure(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	e.measures = append(e.measures, s)
	e.t.Log("MEASURE " + s)
}

// get fetches url and returns its body; an error for a status other than 200.
func (e *e2e) get(u string) ([]byte, error) {
	resp, err := e.http.Get(u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s: %s", u, resp.Status, b)
	}
	return b, err
}

// api calls Prometheus' HTTP API and decodes its data.
func (e *e2e) api(path string, params url.Values, data any) {
	e.t.Helper()
	b, err := e.get("http://" + promAddr + "/api/v1/" + path + "?" + params.Encode())
	if err != nil {
		e.t.Fatal(err)
	}
	var r struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
		Error  string          `json:"error"`
	}
	if err := json.Unmarshal(b, &r); err != nil || r.Status != "success" {
		e.t.Fatalf("%s %v: %v %s %s", path, params, err, r.Error, b)
	}
	if err := json.Unmarshal(r.Data, data); err != nil {
		e.t.Fatalf("%s: %v: %s", path, err, r.Data)
	}
}

type alert struct {
	Labels   map[string]string `json:"labels"`
	State    string            `json:"state"`
	ActiveAt time.Time         `json:"activeAt"`
}

// alerts returns the active alerts named name whose labels include match.
func (e *e2e) alerts(name string, match map[string]string) []alert {
	e.t.Helper()
	var d struct {
		Alerts []alert `json:"alerts"`
	}
	e.api("alerts", nil, &d)
	var out []alert
next:
	for _, a := range d.Alerts {
		if a.Labels["alertname"] != name {
			continue
		}
		for k, v := range match {
			if a.Labels[k] != v {
				continue next
			}
		}
		out = append(out, a)
	}
	return out
}

// sample is one raw sample of a series.
type sample struct {
	at    time.Time
	value float64
}

// samples returns the raw samples of selector over the last window, by
// series (its labels written out).
func (e *e2e) samples(selector string, window time.Duration) map[string][]sample {
	e.t.Helper()
	var d struct {
		Result []struct {
			Metric map[string]string `json:"metric"`
			Values [][2]any          `json:"values"`
		} `json:"result"`
	}
	e.api("query", url.Values{"query": {fmt.Sprintf("%s[%ds]", selector, int(window.Seconds()))}}, &d)
	out := map[string][]sample{}
	for _, r := range d.Result {
		var k []string
		for n, v := range r.Metric {
			k = append(k, n+"="+v)
		}
		sort.Strings(k)
		key := strings.Join(k, ",")
		for _, v := range r.Values {
			ts, _ := v[0].(float64)
			s, _ := v[1].(string)
			f, _ := strconv.ParseFloat(s, 64)
			out[key] = append(out[key], sample{time.UnixMilli(int64(ts * 1000)), f})
		}
	}
	return out
}

// firstSample is the time of the first sample of selector after from that
// ok accepts (zero if none).
func (e *e2e) firstSample(selector string, from time.Time, ok func(float64) bool) time.Time {
	e.t.Helper()
	var first time.Time
	for _, ss := range e.samples(selector, time.Since(from)+2*time.Second) {
		for _, s := range ss {
			if s.at.Before(from) || !ok(s.value) {
				continue
			}
			if first.IsZero() || s.at.Before(first) {
				first = s.at
			}
			break
		}
	}
	return first
}

// waitFor polls cond every 200 ms for up to d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// watched is an alert followed through a staged event: cond is the PromQL
// selector of its condition's source (the series whose scraped samples
// say when the event was seen and when it was over) and hot tells a
// sample of it during the event.
type watched struct {
	name   string
	match  map[string]string
	cond   string
	hot    func(float64) bool
	action time.Time
	event  time.Time // the first scrape that showed it
	sel    string    // ALERTS{...,alertstate="%s"}
}

// holds are the rules' `for` of the alerts the test follows.
var holds = map[string]time.Duration{"VRRPSplitBrain": 5 * time.Second, "VRRPNoMaster": 5 * time.Second,
	"VRRPStaleClient": 5 * time.Second, "VRRPSpeakerDown": 30 * time.Second}

// fireBound is how long after the scrape that showed its condition an
// alert with for: hold fires at the latest: the next evaluation makes it
// pending, the first evaluation hold later fires it. Within two
// evaluation intervals when hold is at most one.
func fireBound(hold time.Duration) time.Duration {
	n := (hold + evalEvery - 1) / evalEvery
	return evalEvery + n*evalEvery
}

// slack allows for a scrape appended just after an evaluation's instant.
const slack = 500 * time.Millisecond

// waitFiring waits up to within for alert name (labels match) to fire
// after action; it checks that it was pending first, and that it fired
// within fireBound of the first scrape showing the event (two evaluation
// intervals for the urgent alerts).
func (e *e2e) waitFiring(name string, match map[string]string, cond string, hot func(float64) bool, action time.Time, within time.Duration) *watched {
	e.t.Helper()
	t := e.t
	w := &watched{name: name, match: match, cond: cond, hot: hot, action: action,
		sel: fmt.Sprintf(`ALERTS{alertname=%q,alertstate="%%s"%s}`, name, labelMatchers(match))}
	sawPending := false
	waitFor(t, within, fmt.Sprintf("%s %v firing", name, match), func() bool {
		for _, a := range e.alerts(name, match) {
			switch a.State {
			case "pending":
				sawPending = true
			case "firing":
				return true
			}
		}
		return false
	})
	any := func(float64) bool { return true }
	pending := e.firstSample(fmt.Sprintf(w.sel, "pending"), action, any)
	firing := e.firstSample(fmt.Sprintf(w.sel, "firing"), action, any)
	w.event = e.firstSample(cond, action, hot)
	if pending.IsZero() || firing.IsZero() || w.event.IsZero() {
		t.Fatalf("%s %v: pending at %v, firing at %v, event scraped at %v", name, match, pending, firing, w.event)
	}
	if !sawPending && !pending.Before(firing) {
		t.Errorf("%s %v was never pending before firing", name, match)
	}
	hold, ok := holds[name]
	if !ok {
		t.Fatalf("no hold known for %s", name)
	}
	d := firing.Sub(w.event)
	if bound := fireBound(hold); d > bound+slack || d < 0 {
		t.Errorf("%s %v fired %v after the event was scraped; want within %v (for: %v, evaluation every %v)", name, match, d, bound, hold, evalEvery)
	}
	e.measure("%s %v: the event scraped %.1f s after the action; pending %.1f s and firing %.1f s after it",
		name, match, w.event.Sub(action).Seconds(), pending.Sub(w.event).Seconds(), d.Seconds())
	return w
}

// waitResolved waits for a fired alert to resolve after the event was
// healed at healed, and checks it resolved within two evaluation intervals
// of the first scrape showing the event over.
func (e *e2e) waitResolved(w *watched, healed time.Time) {
	e.t.Helper()
	t := e.t
	waitFor(t, 60*time.Second, fmt.Sprintf("%s %v resolved", w.name, w.match), func() bool { return len(e.alerts(w.name, w.match)) == 0 })
	over := e.firstSample(w.cond, healed, func(v float64) bool { return !w.hot(v) })
	if over.IsZero() {
		t.Fatalf("%s %v: no sample of %s shows the event over", w.name, w.match, w.cond)
	}
	var lastFiring time.Time
	for _, ss := range e.samples(fmt.Sprintf(w.sel, "firing"), time.Since(w.action)+2*time.Second) {
		for _, s := range ss {
			if s.at.After(lastFiring) {
				lastFiring = s.at
			}
		}
	}
	// It is resolved at the evaluation after its last firing one.
	resolved := lastFiring.Add(evalEvery)
	d := resolved.Sub(over)
	if d > 2*evalEvery+slack {
		t.Errorf("%s %v resolved %v after the event was scraped over; want within two evaluation intervals", w.name, w.match, d)
	}
	e.measure("%s %v: over %.1f s after healing (as scraped), resolved %.1f s after that",
		w.name, w.match, over.Sub(healed).Seconds(), d.Seconds())
}

// alertCycle is waitFiring, heal, waitResolved.
func (e *e2e) alertCycle(name string, match map[string]string, cond string, hot func(float64) bool, action time.Time,
	within time.Duration, heal func() time.Time) {
	e.t.Helper()
	w := e.waitFiring(name, match, cond, hot, action, within)
	e.waitResolved(w, heal())
}

func labelMatchers(m map[string]string) string {
	var out []string
	for k, v := range m {
		out = append(out, fmt.Sprintf(",%s=%q", k, v))
	}
	sort.Strings(out)
	return strings.Join(out, "")
}

// value runs an instant query and returns the single value it gives, or
// NaN when it returns no series.
func (e *e2e) value(query string) float64 {
	e.t.Helper()
	var d struct {
		Result []struct {
			Value [2]any `json:"value"`
		} `json:"result"`
	}
	e.api("query", url.Values{"query": {query}}, &d)
	if len(d.Result) == 0 {
		return math.NaN()
	}
	s, _ := d.Result[0].Value[1].(string)
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

// TestEndToEnd stages, under a real Prometheus evaluating the shipped
// rules: a failover (the master stops) with a client that ignores GARPs
// (a stale client) and the stopped speaker down; a split brain (nat2 drops
// VRRP); a virtual router without a master (both stop). Each alert must go
// pending, fire within two evaluation intervals of the scrape that showed
// the event, and resolve once it is over. Then every query of the
// dashboard must return series, the real /metrics of the watcher and the
// speakers must pass promtool check metrics, and every rule evaluates
// without error.
func TestEndToEnd(t *testing.T) {
	e := newE2E(t)
	begin := time.Now()

	// Routers, the watcher, the client's traffic to the VIP, Prometheus.
	e.speaker("nat1", 100)
	e.speaker("nat2", 50)
	e.start("here", "watch", unprivileged("+net_raw", vrrpctlBin, "watch", "--interface", "eth1",
		"--color", "never", "--metrics-addr", watchAddr))
	e.start("here", "client", []string{"bash", "-c", "while :; do echo x 2>/dev/null >/dev/udp/" + vip + "/9; sleep 0.2; done"})
	rules, err := filepath.Abs("vrrpctl.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(e.dir, "prometheus.yml")
	os.WriteFile(conf, []byte(fmt.Sprintf(`global:
  scrape_interval: %s
  scrape_timeout: 900ms
  evaluation_interval: %s
rule_files:
  - %s
scrape_configs:
  - job_name: vrrpctl-watch
    static_configs:
      - targets: ['%s']
  - job_name: vrrpctl-speaker
    static_configs:
      - targets: ['%s:9650', '%s:9650']
`, scrapeEvery, evalEvery, rules, watchAddr, routerAddr["nat1"], routerAddr["nat2"])), 0o644)
	e.start("here", "prometheus", []string{"prometheus", "--config.file=" + conf,
		"--storage.tsdb.path=" + filepath.Join(e.dir, "prometheus-data"),
		"--web.listen-address=" + promAddr, "--storage.tsdb.retention.time=1h"})
	waitFor(t, 30*time.Second, "Prometheus ready", func() bool {
		_, err := e.get("http://" + promAddr + "/-/ready")
		return err == nil
	})

	// Healthy: every target up, nat1 master, no alert of ours.
	waitFor(t, 30*time.Second, "every target up and nat1 master", func() bool {
		return e.value(`count(up == 1)`) == 3 &&
			e.value(`vrrpctl_master{vrid="51",ip="192.168.33.101"}`) == 1 &&
			e.value(`keepalived_vrrp_state{instance="192.168.33.101:9650"}`) == 2
	})
	time.Sleep(2 * evalEvery)
	var d struct {
		Alerts []alert `json:"alerts"`
	}
	e.api("alerts", nil, &d)
	for _, a := range d.Alerts {
		t.Errorf("healthy segment: alert %s %s %v", a.Labels["alertname"], a.State, a.Labels)
	}

	// 1. A failover with a client that ignores gratuitous ARP: nat1 stops
	// (priority 0), nat2 takes over after its Skew_Time, the client keeps
	// sending to nat1's MAC. The stale client must fire; so must nat1's
	// speaker being down (for 30 s). Healing: the client's entry flushed,
	// nat1 started again (it preempts).
	if err := e.lab.Nft("here", fmt.Sprintf(`table arp vrrpctl_mon {
	chain in {
		type filter hook input priority 0; policy accept;
		arp saddr ip %[1]s arp daddr ip %[1]s drop
	}
}
`, vip)); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	e.stop("nat1", 0)
	waitFor(t, 10*time.Second, "the failover counted", func() bool {
		return e.value(`sum(vrrpctl_failovers_total{vrid="51",cause="resign"})`) == 1
	})
	took, rfc := e.value(`vrrpctl_last_takeover_seconds{vrid="51"}`), e.value(`vrrpctl_last_takeover_rfc_seconds{vrid="51"}`)
	// nat2's Skew_Time: (256 - 50) / 256 s.
	if want := 206.0 / 256; math.Abs(rfc-want) > 0.001 || took < rfc-0.001 || took > rfc+0.1 {
		t.Errorf("takeover %.4f s against RFC %.4f s; want the RFC time %.4f s, the takeover within 100 ms after it", took, rfc, want)
	}
	e.measure("failover nat1 -> nat2 (resign): vrrpctl_last_takeover_seconds %.4f, vrrpctl_last_takeover_rfc_seconds %.4f", took, rfc)
	e.alertCycle("VRRPStaleClient", map[string]string{"vrid": "51"}, `vrrpctl_stale_clients{vrid="51"}`,
		func(v float64) bool { return v > 0 }, stopped, 30*time.Second, func() time.Time {
			if err := e.lab.Nft("here", "delete table arp vrrpctl_mon\n"); err != nil {
				t.Fatal(err)
			}
			if out, err := e.lab.Run("here", "ip", "neigh", "flush", "dev", "eth1", "to", vip); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			return time.Now()
		})
	e.alertCycle("VRRPSpeakerDown", map[string]string{"instance": "192.168.33.101:9650"}, `up{instance="192.168.33.101:9650"}`,
		func(v float64) bool { return v == 0 }, stopped, 60*time.Second, func() time.Time {
			e.speaker("nat1", 100)
			return time.Now()
		})
	waitFor(t, 15*time.Second, "nat1 master again", func() bool {
		return e.value(`vrrpctl_master{vrid="51",ip="192.168.33.101"}`) == 1
	})
	for _, a := range []string{"VRRPTakeoverSlow", "VRRPNoMaster", "VRRPSplitBrain", "VRRPFlapping", "VRRPAdvertsLate"} {
		if got := e.alerts(a, nil); len(got) > 0 {
			t.Errorf("after a healthy failover and back: %s %+v", a, got)
		}
	}

	// 2. A split brain: nat2 drops VRRP from nat1, takes over after its
	// Master_Down_Interval while nat1 stays master. Both the watcher's
	// split brain and our two speakers in MASTER must fire; healing: the
	// rule removed, nat2 hears nat1 and backs off.
	split := time.Now()
	if err := e.lab.Nft("nat2", fmt.Sprintf(`table ip vrrpctl_mon {
	chain in {
		type filter hook input priority 0; policy accept;
		ip saddr %s ip protocol 112 drop
	}
}
`, routerAddr["nat1"])); err != nil {
		t.Fatal(err)
	}
	isMaster := func(v float64) bool { return v == 2 }
	bySpeakers := e.waitFiring("VRRPSplitBrain", map[string]string{"ip_address": vip + "/24"},
		`keepalived_vrrp_state{instance="192.168.33.102:9650"}`, isMaster, split, 30*time.Second)
	byWatch := e.waitFiring("VRRPSplitBrain", map[string]string{"job": "vrrpctl-watch", "vrid": "51"},
		`vrrpctl_split_brain{vrid="51"}`, func(v float64) bool { return v == 1 }, split, 3*evalEvery)
	if err := e.lab.Nft("nat2", "delete table ip vrrpctl_mon\n"); err != nil {
		t.Fatal(err)
	}
	healed := time.Now()
	e.waitResolved(bySpeakers, healed)
	e.waitResolved(byWatch, healed)

	// 3. No master: nat2 (backup) stops, then nat1 resigns with no backup.
	// Healing: nat1 starts again and becomes master.
	e.stop("nat2", 0)
	gone := time.Now()
	e.stop("nat1", 0)
	e.alertCycle("VRRPNoMaster", map[string]string{"vrid": "51"}, `vrrpctl_has_master{vrid="51"}`,
		func(v float64) bool { return v == 0 }, gone, 30*time.Second, func() time.Time {
			e.speaker("nat1", 100)
			e.speaker("nat2", 50)
			return time.Now()
		})
	waitFor(t, 15*time.Second, "the speakers scraped again", func() bool { return e.value(`count(up == 1)`) == 3 })

	// Every rule evaluates without error.
	var rd struct {
		Groups []struct {
			Rules []struct {
				Name      string `json:"name"`
				Health    string `json:"health"`
				LastError string `json:"lastError"`
			} `json:"rules"`
		} `json:"groups"`
	}
	e.api("rules", nil, &rd)
	nrules := 0
	for _, g := range rd.Groups {
		for _, r := range g.Rules {
			nrules++
			if r.Health != "ok" || r.LastError != "" {
				t.Errorf("rule %s: health %s, %s", r.Name, r.Health, r.LastError)
			}
		}
	}
	if nrules < 15 {
		t.Errorf("Prometheus loaded %d rules", nrules)
	}

	// The real /metrics of the watcher and of both speakers pass promtool
	// check metrics.
	for _, u := range []string{"http://" + watchAddr + "/metrics", "http://192.168.33.101:9650/metrics", "http://192.168.33.102:9650/metrics"} {
		b, err := e.get(u)
		if err != nil {
			t.Fatal(err)
		}
		if out := promtool(t, string(b), "check", "metrics"); strings.TrimSpace(out) != "" {
			t.Errorf("promtool check metrics on %s:\n%s", u, out)
		}
	}

	// Every query of the dashboard returns series over the test, with its
	// variables at "All" and $__rate_interval at 30 s.
	checkDashboardQueries(e, begin)

	e.stop("watch", 2)
	e.stop("nat1", 0)
	e.stop("nat2", 0)
	t.Logf("timings (scrape every %v, rules evaluated every %v):\n  %s", scrapeEvery, evalEvery, strings.Join(e.measures, "\n  "))
}

// checkDashboardQueries runs every panel query of the dashboard over the
// test's span, and each variable's label_values.
func checkDashboardQueries(e *e2e, begin time.Time) {
	t := e.t
	d := readDashboard(t)
	vars := strings.NewReplacer(`"$instance"`, `".*"`, `"$vrid"`, `".*"`, "$__rate_interval", "30s")
	n := 0
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			q := vars.Replace(tg.Expr)
			if strings.Contains(q, "$") {
				t.Errorf("panel %q: a variable the test does not know in %s", p.Title, q)
				continue
			}
			var r struct {
				Result []struct {
					Metric map[string]string `json:"metric"`
					Values [][2]any          `json:"values"`
				} `json:"result"`
			}
			e.api("query_range", url.Values{"query": {q}, "start": {fmt.Sprint(begin.Unix())},
				"end": {fmt.Sprint(time.Now().Unix())}, "step": {"1"}}, &r)
			points := 0
			for _, s := range r.Result {
				points += len(s.Values)
			}
			if len(r.Result) == 0 || points == 0 {
				t.Errorf("panel %q query %s returned no series", p.Title, q)
			}
			n++
			e.measure("dashboard %q %s: %d series, %d points", p.Title, tg.RefID, len(r.Result), points)
		}
	}
	if n < 10 {
		t.Errorf("only %d dashboard queries", n)
	}
	labelValues := regexp.MustCompile(`^label_values\((?:(.+),\s*)?(\w+)\)$`)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		m := labelValues.FindStringSubmatch(v.Definition)
		if m == nil {
			t.Errorf("variable %s: %q is not label_values(...)", v.Name, v.Definition)
			continue
		}
		params := url.Values{}
		if m[1] != "" {
			params.Set("match[]", m[1])
		}
		var vals []string
		e.api("label/"+m[2]+"/values", params, &vals)
		if len(vals) == 0 {
			t.Errorf("variable %s (%s) has no values", v.Name, v.Definition)
		}
		e.measure("dashboard variable %s: %v", v.Name, vals)
	}
}
