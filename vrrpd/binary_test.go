package vrrpd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/vrrpctl/vrrpctl/internal/nsenter"
	"github.com/vrrpctl/vrrpctl/internal/testenv"
	"github.com/vrrpctl/vrrpctl/lab"
)

// vrrpctlBin is the vrrpctl binary TestMain builds for the tests that run
// `vrrpctl speaker` as users do; empty when not root (those tests skip).
var vrrpctlBin string

func TestMain(m *testing.M) {
	code := func() int {
		if os.Geteuid() == 0 {
			bin, remove, err := testenv.BuildVrrpctl()
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			defer remove()
			vrrpctlBin = bin
		}
		return m.Run()
	}()
	os.Exit(code)
}

// speakerProc is `vrrpctl speaker` running as a process.
type speakerProc struct {
	proc *lab.Process
	out  *procLog
}

// startBinary runs vrrpctl with args; in node's namespace when node is not
// empty, in this one otherwise.
func (l *testLab) startBinary(node string, args ...string) *speakerProc {
	l.t.Helper()
	if vrrpctlBin == "" {
		testenv.Skip(l.t, "needs root (vrrpctl is built by TestMain only then)")
	}
	argv := append([]string{vrrpctlBin}, args...)
	proc, out := l.start(node, "vrrpctl", argv...)
	p := &speakerProc{proc: proc, out: out}
	l.t.Cleanup(func() {
		if l.t.Failed() {
			l.t.Logf("vrrpctl %s output:\n%s", strings.Join(args, " "), out.String())
		}
	})
	return p
}

// wait waits for the process to exit and returns its exit status.
func (p *speakerProc) wait(t testing.TB, d time.Duration) int {
	t.Helper()
	if !p.proc.Wait(d) {
		p.proc.Stop(0)
		t.Fatalf("vrrpctl still running after %v\n%s", d, p.out.String())
		return -1
	}
	err := p.proc.Err()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("vrrpctl: %v", err)
	}
	return 0
}

// httpGetIn fetches url from inside the namespace at nsPath.
func httpGetIn(t testing.TB, nsPath, url string) string {
	t.Helper()
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		err := nsenter.RunPath(nsPath, func() error {
			var err error
			c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	resp, err := cl.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v", url, resp.Status, err)
	}
	return string(body)
}

// wantMetrics are the metric families /metrics serves: keepalived-exporter's
// names, so that dashboards built for keepalived work unchanged, and the
// speaker's own: discard counters, priority, RFC timers, state change time.
var wantMetrics = []string{
	"keepalived_address_list_errors_total",
	"keepalived_advertisements_interval_errors_total",
	"keepalived_advertisements_received_total",
	"keepalived_advertisements_sent_total",
	"keepalived_authentication_failure_total",
	"keepalived_authentication_mismatch_total",
	"keepalived_become_master_total",
	"keepalived_gratuitous_arp_sent_total",
	"keepalived_invalid_type_received_total",
	"keepalived_ip_ttl_errors_total",
	"keepalived_packet_length_errors_total",
	"keepalived_priority_zero_received_total",
	"keepalived_priority_zero_sent_total",
	"keepalived_release_master_total",
	"keepalived_vrrp_state",
	"vrrpctl_speaker_advert_interval_seconds",
	"vrrpctl_speaker_discards_total",
	"vrrpctl_speaker_interface_discards_total",
	"vrrpctl_speaker_master_down_interval_seconds",
	"vrrpctl_speaker_priority",
	"vrrpctl_speaker_skew_time_seconds",
	"vrrpctl_speaker_state_change_timestamp_seconds",
}

// metricFamilies parses an exposition and returns its families with their
// types (counter, gauge), and the samples by series, as seriesKey writes them.
func metricFamilies(t testing.TB, text string) (types map[string]string, samples map[string]string) {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parsing the exposition: %v\n%s", err, text)
	}
	types, samples = map[string]string{}, map[string]string{}
	for name, mf := range mfs {
		types[name] = strings.ToLower(mf.GetType().String())
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, lp := range m.GetLabel() {
				labels = append(labels, lp.GetName(), lp.GetValue())
			}
			var v float64
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				v = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				v = m.GetGauge().GetValue()
			default:
				v = m.GetUntyped().GetValue()
			}
			k := seriesKey(name, labels...)
			if _, dup := samples[k]; dup {
				t.Errorf("series %s appears twice", k)
			}
			samples[k] = strconv.FormatFloat(v, 'g', -1, 64)
		}
	}
	return types, samples
}

// seriesKey writes a series as name{label="value",...}, labels sorted by
// name, whatever their order in the exposition.
func seriesKey(name string, labelValues ...string) string {
	var pairs []string
	for i := 0; i+1 < len(labelValues); i += 2 {
		pairs = append(pairs, fmt.Sprintf("%s=%q", labelValues[i], labelValues[i+1]))
	}
	sort.Strings(pairs)
	return name + "{" + strings.Join(pairs, ",") + "}"
}

func checkMetrics(t testing.TB, text, iname string, wantState int) {
	t.Helper()
	types, samples := metricFamilies(t, text)
	var names []string
	for n := range types {
		names = append(names, n)
	}
	sort.Strings(names)
	if !slices.Equal(names, wantMetrics) {
		t.Errorf("metric families:\n%s\nwant:\n%s", strings.Join(names, "\n"), strings.Join(wantMetrics, "\n"))
	}
	for n, typ := range types {
		if want := map[bool]string{true: "counter", false: "gauge"}[strings.HasSuffix(n, "_total")]; typ != want {
			t.Errorf("%s is a %s; want %s", n, typ, want)
		}
	}
	lbl := []string{"iname", iname, "intf", "eth1", "vrid", "51"}
	series := map[string]string{
		seriesKey("keepalived_vrrp_state", append(lbl, "ip_address", "192.168.33.100/24")...):   fmt.Sprint(wantState),
		seriesKey("keepalived_become_master_total", lbl...):                                     "1",
		seriesKey("vrrpctl_speaker_discards_total", append(lbl, "reason", "ttl")...):            "0",
		seriesKey("vrrpctl_speaker_interface_discards_total", "intf", "eth1", "reason", "vrid"): "0",
	}
	for s, want := range series {
		if got, ok := samples[s]; !ok || got != want {
			t.Errorf("%s = %q (present %v); want %s\n%s", s, got, ok, want, text)
		}
	}
	if v, ok := samples[seriesKey("keepalived_advertisements_sent_total", lbl...)]; !ok || v == "0" {
		t.Errorf("keepalived_advertisements_sent_total of a master = %q", v)
	}
	for _, n := range []string{"vrrpctl_speaker_priority", "vrrpctl_speaker_advert_interval_seconds", "vrrpctl_speaker_skew_time_seconds",
		"vrrpctl_speaker_master_down_interval_seconds", "vrrpctl_speaker_state_change_timestamp_seconds"} {
		if v, ok := samples[seriesKey(n, lbl...)]; !ok || v == "0" {
			t.Errorf("%s of a master = %q (present %v)", n, v, ok)
		}
	}
}

// addrState is everything a failed start must leave alone: addresses and
// links of the node.
func (l *testLab) addrState(node string) string {
	return l.run(node, "ip", "-o", "addr", "show") + l.run(node, "ip", "-o", "link", "show")
}

// TestBinaryFlags runs `vrrpctl speaker` with flags from the host's
// namespace (--netns): it becomes master with the VIP, `--status` in the
// namespace prints its state, /metrics serves the exact metric families,
// and on SIGTERM it sends a priority-0 advert, removes the VIP and exits 0.
func TestBinaryFlags(t *testing.T) {
	l := newLab(t, "a", "c")
	p := l.startBinary("", "speaker", "--netns", l.nsPath("a"), "--interface", "eth1", "--vrid", "51",
		"--priority", "200", "--vip", "192.168.33.100/24", "--vrrp-version", "3", "--advert-int", "100ms",
		"--listen", "127.0.0.1:9650")
	waitFor(t, 5*time.Second, "the VIP on a", func() bool { return l.hasVIP("a", testVIP) })

	out := l.run("a", vrrpctlBin, "speaker", "--status", "--listen", "127.0.0.1:9650")
	var st Status
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("--status output: %v\n%s", err, out)
	}
	if !st.Running || len(st.Routers) != 1 {
		t.Fatalf("--status: running %v, %d routers", st.Running, len(st.Routers))
	}
	r := st.Routers[0]
	if r.Name != "VR_eth1_51" || r.State != "MASTER" || r.Priority != 200 || r.Version != 3 ||
		r.AdvertIntervalMS != 100 || r.Primary != l.addrs["a"].String() || !slices.Equal(r.VIPs, []string{"192.168.33.100/24"}) {
		t.Errorf("--status: %+v", r)
	}
	checkMetrics(t, httpGetIn(t, l.nsPath("a"), "http://127.0.0.1:9650/metrics"), "VR_eth1_51", 2)

	stopCap := l.capture("c")
	time.Sleep(300 * time.Millisecond)
	p.proc.Signal(syscall.SIGTERM)
	if code := p.wait(t, 5*time.Second); code != 0 {
		t.Errorf("exit status %d after SIGTERM; want 0\n%s", code, p.out.String())
	}
	if l.hasVIP("a", testVIP) {
		t.Error("VIP left on a after SIGTERM")
	}
	time.Sleep(100 * time.Millisecond)
	evs := readCapture(t, stopCap())
	var last *wireEvent
	for i := range evs {
		if !evs[i].garp && evs[i].src == l.addrs["a"] {
			last = &evs[i]
		}
	}
	if last == nil || last.prio != 0 {
		t.Errorf("last advert of a after SIGTERM: %+v; want priority 0", last)
	}
	if _, err := l.lab.Run("a", vrrpctlBin, "speaker", "--status", "--listen", "127.0.0.1:9650"); err == nil {
		t.Error("--status succeeded after the speaker stopped")
	}
}

const binaryConf = `global_defs {
    router_id bin
}
vrrp_instance VI_BIN {
    state BACKUP
    interface eth1
    virtual_router_id 51
    priority 150
    advert_int 0.1
    version 3
    %s
    virtual_ipaddress {
        192.168.33.100/24 %s
    }
}
`

// TestBinaryKeepalivedConf runs `vrrpctl speaker -f keepalived.conf` inside
// a namespace: an unknown keyword is reported with its file and line and
// the speaker runs anyway, with the instance's name in status and metrics.
func TestBinaryKeepalivedConf(t *testing.T) {
	l := newLab(t, "a")
	conf := filepath.Join(l.dir, "keepalived.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf(binaryConf, "frobnicate 7", "")), 0o644)
	p := l.startBinary("a", "speaker", "-f", conf, "--listen", "127.0.0.1:9651")
	waitFor(t, 5*time.Second, "the VIP on a", func() bool { return l.hasVIP("a", testVIP) })
	if want := conf + `:11: unknown keyword \"frobnicate\" ignored`; !strings.Contains(p.out.String(), want) {
		t.Errorf("no warning %q in:\n%s", want, p.out.String())
	}
	out := l.run("a", vrrpctlBin, "speaker", "--status", "--listen", "127.0.0.1:9651")
	var st Status
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("--status output: %v\n%s", err, out)
	}
	if len(st.Routers) != 1 || st.Routers[0].Name != "VI_BIN" || st.Routers[0].State != "MASTER" ||
		st.Routers[0].Priority != 150 || st.Routers[0].AdvertIntervalMS != 100 {
		t.Errorf("--status: %+v", st.Routers)
	}
	checkMetrics(t, httpGetIn(t, l.nsPath("a"), "http://127.0.0.1:9651/metrics"), "VI_BIN", 2)
	p.proc.Signal(syscall.SIGTERM)
	if code := p.wait(t, 5*time.Second); code != 0 {
		t.Errorf("exit status %d after SIGTERM; want 0", code)
	}
	if l.hasVIP("a", testVIP) {
		t.Error("VIP left on a after SIGTERM")
	}
}

// TestBinaryBrokenConfig: a configuration keepalived would refuse, or one
// this speaker cannot honour, makes `vrrpctl speaker -f` exit 3 with
// `file:line: keyword: message` before it changes anything in the
// namespace.
func TestBinaryBrokenConfig(t *testing.T) {
	l := newLab(t, "a")
	cases := []struct {
		name, line, vip, want string
	}{
		{"vrid out of range", "virtual_router_id 300", "", `:11: virtual_router_id: 300 is out of range 1-255`},
		{"address on another interface", "", "dev eth0", `:13: virtual_ipaddress 192.168.33.100/24 on eth0: only addresses on the instance's interface eth1 are supported`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			conf := filepath.Join(l.dir, strings.ReplaceAll(c.name, " ", "-")+".conf")
			os.WriteFile(conf, []byte(fmt.Sprintf(binaryConf, c.line, c.vip)), 0o644)
			before := l.addrState("a")
			p := l.startBinary("a", "speaker", "-f", conf, "--listen", "")
			if code := p.wait(t, 5*time.Second); code != 3 {
				t.Errorf("exit status %d; want 3", code)
			}
			re := regexp.MustCompile(`(?m)^vrrpctl: ` + regexp.QuoteMeta(conf+c.want))
			if !re.MatchString(p.out.String()) {
				t.Errorf("output does not match %s:\n%s", re, p.out.String())
			}
			if after := l.addrState("a"); after != before {
				t.Errorf("namespace changed by a refused configuration:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

// TestBinaryUnsupported: a keepalived.conf using a keyword the speaker does
// not implement and that changes the protocol is refused with file:line and
// the keyword, before anything changes in the namespace; with
// --allow-unsupported it runs and says what it runs without.
func TestBinaryUnsupported(t *testing.T) {
	l := newLab(t, "a")
	conf := filepath.Join(l.dir, "strict.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf(binaryConf, "strict_mode", "")), 0o644)
	before := l.addrState("a")
	p := l.startBinary("a", "speaker", "-f", conf, "--listen", "")
	if code := p.wait(t, 5*time.Second); code != 3 {
		t.Errorf("exit status %d; want 3", code)
	}
	if want := conf + ":11: strict_mode: refused: "; !strings.Contains(p.out.String(), want) || !strings.Contains(p.out.String(), "--allow-unsupported") {
		t.Errorf("output does not name %q and --allow-unsupported:\n%s", want, p.out.String())
	}
	if after := l.addrState("a"); after != before {
		t.Errorf("namespace changed by a refused configuration")
	}
	p = l.startBinary("a", "speaker", "-f", conf, "--listen", "", "--allow-unsupported")
	waitFor(t, 5*time.Second, "the VIP on a", func() bool { return l.hasVIP("a", testVIP) })
	if !strings.Contains(p.out.String(), "running without a keyword that changes the protocol") || !strings.Contains(p.out.String(), "keyword=strict_mode") {
		t.Errorf("the keyword run without is not logged:\n%s", p.out.String())
	}
	p.proc.Signal(syscall.SIGTERM)
	if code := p.wait(t, 5*time.Second); code != 0 {
		t.Errorf("exit status %d after SIGTERM", code)
	}
}

// TestBinaryKilledSpeakerLeftover: a speaker killed outright (SIGKILL)
// leaves its VIP on the interface. Started again, as a backup beside a
// master, it removes that VIP (it carries the speaker's label), and keeps
// the address an administrator put there by hand, saying so.
func TestBinaryKilledSpeakerLeftover(t *testing.T) {
	l := newLab(t, "a", "b")
	args := []string{"speaker", "--interface", "eth1", "--vrid", "51", "--vrrp-version", "3", "--advert-int", "100ms", "--vip", "192.168.33.100/24"}
	first := l.startBinary("a", append(args, "--priority", "200")...)
	waitFor(t, 5*time.Second, "the VIP on a", func() bool { return l.hasVIP("a", testVIP) })
	first.proc.Signal(syscall.SIGKILL)
	first.wait(t, 5*time.Second)
	if addrs := l.addrOn("a", "eth1"); !strings.Contains(addrs, "192.168.33.100/24") || !strings.Contains(addrs, "eth1:vrrp51") {
		t.Fatalf("after SIGKILL the VIP should still be on a, labelled eth1:vrrp51:\n%s", addrs)
	}

	// The same address list on both (a backup drops adverts whose list
	// differs from its own, as keepalived does).
	l.startBinary("b", append(args, "--priority", "200", "--vip", "192.168.33.150/24")...)
	waitFor(t, 5*time.Second, "the VIP on b", func() bool { return l.hasVIP("b", testVIP) })
	byHand := netip.MustParseAddr("192.168.33.150")
	l.run("a", "ip", "addr", "add", "192.168.33.150/24", "dev", "eth1")
	again := l.startBinary("a", append(args, "--priority", "100", "--vip", "192.168.33.150/24")...)
	waitFor(t, 5*time.Second, "the leftover VIP removed from a", func() bool { return !l.hasVIP("a", testVIP) })
	time.Sleep(500 * time.Millisecond) // several adverts of b: a stays a backup
	if l.hasVIP("a", testVIP) {
		t.Errorf("VIP back on a, a backup:\n%s", l.addrOn("a", "eth1"))
	}
	if !l.hasVIP("b", testVIP) {
		t.Error("VIP gone from b, the master")
	}
	again.proc.Signal(syscall.SIGTERM)
	if code := again.wait(t, 5*time.Second); code != 0 {
		t.Errorf("exit status %d after SIGTERM; want 0", code)
	}
	out := again.out.String()
	for _, want := range []string{
		`removed a virtual address left by an earlier run of the speaker" router=VR_eth1_51 address=192.168.33.100/24`,
		`taken as configured by hand, never added or removed by the speaker" router=VR_eth1_51 address=192.168.33.150`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in the speaker's log:\n%s", want, out)
		}
	}
	if !l.hasVIP("a", byHand) {
		t.Errorf("the address added by hand was removed:\n%s", l.addrOn("a", "eth1"))
	}
}
