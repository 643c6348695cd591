package monitoring_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vrrpctl/vrrpctl/internal/testenv"
)

// promtool runs promtool with args and fails the test on a non-zero exit.
func promtool(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	testenv.NeedTool(t, "promtool")
	cmd := exec.Command("promtool", args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestRules checks the rules (promtool check rules), runs their unit tests
// (promtool test rules) and checks the example configuration's syntax.
func TestRules(t *testing.T) {
	promtool(t, "", "check", "rules", "vrrpctl.rules.yml")
	out := promtool(t, "", "test", "rules", "vrrpctl.rules.test.yml")
	if !strings.Contains(out, "SUCCESS") {
		t.Errorf("promtool test rules:\n%s", out)
	}
	promtool(t, "", "check", "config", "--syntax-only", "prometheus.yml.example")
}

var (
	alertRule  = regexp.MustCompile(`(?m)^\s*- alert: (\S+)\s*$`)
	recordRule = regexp.MustCompile(`(?m)^\s*- record: (\S+)\s*$`)
	// An alert test that expects the alert: its alertname followed by an
	// exp_alerts list with an entry.
	alertTested = regexp.MustCompile(`(?m)^\s*alertname: (\S+)\s*\n\s*exp_alerts:\s*\n\s*- exp_labels:`)
	exprTested  = regexp.MustCompile(`(?m)^\s*- expr: (\S+)\s*$`)
)

// TestEveryRuleTested checks that every alert of vrrpctl.rules.yml has a
// unit test that makes it fire, and every recording rule is either tested
// on its own or read by a tested alert.
func TestEveryRuleTested(t *testing.T) {
	rules, err := os.ReadFile("vrrpctl.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile("vrrpctl.rules.test.yml")
	if err != nil {
		t.Fatal(err)
	}
	var fired, exprs []string
	for _, m := range alertTested.FindAllStringSubmatch(string(tests), -1) {
		fired = append(fired, m[1])
	}
	for _, m := range exprTested.FindAllStringSubmatch(string(tests), -1) {
		exprs = append(exprs, m[1])
	}
	alerts := alertRule.FindAllStringSubmatch(string(rules), -1)
	if len(alerts) < 10 {
		t.Fatalf("only %d alerts found in vrrpctl.rules.yml", len(alerts))
	}
	for _, m := range alerts {
		if !slices.Contains(fired, m[1]) {
			t.Errorf("alert %s has no test in vrrpctl.rules.test.yml that makes it fire", m[1])
		}
	}
	for _, m := range recordRule.FindAllStringSubmatch(string(rules), -1) {
		used := strings.Count(string(rules), m[1]) > 1 // read by an alert
		if !used && !slices.Contains(exprs, m[1]) {
			t.Errorf("recording rule %s is neither tested nor read by an alert", m[1])
		}
	}
}

// dashboard is the part of a Grafana dashboard the tests read.
type dashboard struct {
	UID        string `json:"uid"`
	Title      string `json:"title"`
	Templating struct {
		List []struct {
			Name       string `json:"name"`
			Type       string `json:"type"`
			Definition string `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
	Panels []struct {
		ID         int    `json:"id"`
		Type       string `json:"type"`
		Title      string `json:"title"`
		Datasource struct {
			Type string `json:"type"`
			UID  string `json:"uid"`
		} `json:"datasource"`
		GridPos struct{ X, Y, W, H int } `json:"gridPos"`
		Targets []struct {
			Expr  string `json:"expr"`
			RefID string `json:"refId"`
		} `json:"targets"`
	} `json:"panels"`
}

func readDashboard(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile("grafana/vrrpctl.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("grafana/vrrpctl.json: %v", err)
	}
	return d
}

// TestDashboard checks the dashboard's form: a uid for provisioning, the
// Prometheus data source as a variable (no import-time inputs), unique
// panel ids, and a query for each thing it must show. The queries
// themselves are run against a real Prometheus by TestEndToEnd.
func TestDashboard(t *testing.T) {
	d := readDashboard(t)
	if d.UID == "" || d.Title == "" {
		t.Errorf("uid %q, title %q", d.UID, d.Title)
	}
	vars := map[string]string{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v.Type
	}
	if vars["datasource"] != "datasource" {
		t.Errorf("no datasource variable: %v", vars)
	}
	ids := map[int]bool{}
	var exprs []string
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d twice", p.ID)
		}
		ids[p.ID] = true
		if p.Type == "row" {
			continue
		}
		if p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q: data source %q, want ${datasource}", p.Title, p.Datasource.UID)
		}
		if p.GridPos.W <= 0 || p.GridPos.H <= 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %q: gridPos %+v", p.Title, p.GridPos)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	all := strings.Join(exprs, "\n")
	for _, want := range []string{"vrrpctl_master", "keepalived_vrrp_state", "vrrpctl_failovers_total",
		"vrrpctl_last_takeover_seconds", "vrrpctl_last_takeover_rfc_seconds", "vrrpctl_stale_clients",
		"ip:vrrpctl_advert_silence:intervals", "vrrpctl_adverts_missed_total", "vrrpctl_capture_dropped_total"} {
		if !strings.Contains(all, want) {
			t.Errorf("no panel queries %s", want)
		}
	}
}
