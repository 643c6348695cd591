package lab

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vrrpctl/vrrpctl/internal/testenv"
)

// waitForLab waits for a lab other than those in before to have processes
// running, and returns its ID.
func waitForLab(t *testing.T, before map[string]bool, cmd *exec.Cmd) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		ids, _ := Leftovers()
		for _, id := range ids {
			if !before[id] && len(Processes(id)) >= 2 {
				return id
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Kill()
	t.Fatal("no lab with running routers appeared")
	return ""
}

func leftoverSet() map[string]bool {
	ids, _ := Leftovers()
	m := map[string]bool{}
	for _, id := range ids {
		m[id] = true
	}
	return m
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func TestKilledRunIsCleanedUp(t *testing.T) {
	needRoot(t)
	before := leftoverSet()
	cmd := exec.Command(vrrpctlBin, "run-test-failover", "--quiet")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	id := waitForLab(t, before, cmd)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if len(Remains(id)) == 0 {
		t.Fatalf("SIGKILL left nothing of lab %s: nothing to test", id)
	}
	out, err := exec.Command(vrrpctlBin, "run-test-failover", "--cleanup").CombinedOutput()
	if err != nil {
		t.Fatalf("--cleanup: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "removed lab "+id) {
		t.Errorf("--cleanup said %q, want it to name lab %s", out, id)
	}
	assertGone(t, id)
}

func TestInterruptedRunRemovesLab(t *testing.T) {
	needRoot(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		before := leftoverSet()
		var stderr bytes.Buffer
		cmd := exec.Command(vrrpctlBin, "run-test-failover", "--quiet")
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		id := waitForLab(t, before, cmd)
		cmd.Process.Signal(sig)
		err := cmd.Wait()
		if code := exitCode(err); code != 3 {
			t.Errorf("%v: exit status %d, want 3; stderr: %s", sig, code, stderr.String())
		}
		if !strings.Contains(stderr.String(), "interrupted") {
			t.Errorf("%v: stderr %q does not say the run was interrupted", sig, stderr.String())
		}
		assertGone(t, id)
	}
}

func TestCannotRun(t *testing.T) {
	needRoot(t)
	before := leftoverSet()
	// keepalived missing.
	cmd := exec.Command(vrrpctlBin, "run-test-failover", "--impl", "keepalived")
	cmd.Env = []string{"PATH=/nonexistent"}
	out, err := cmd.CombinedOutput()
	if code := exitCode(err); code != 3 || !strings.Contains(string(out), "keepalived") {
		t.Errorf("without keepalived: exit %d, %q; want 3 and a word about keepalived", code, out)
	}
	// Not root.
	cmd = exec.Command(vrrpctlBin, "run-test-failover")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err = cmd.CombinedOutput()
	if code := exitCode(err); code != 3 || !strings.Contains(string(out), "root") {
		t.Errorf("as nobody: exit %d, %q; want 3 and a word about root", code, out)
	}
	// A wrong flag.
	out, err = exec.Command(vrrpctlBin, "run-test-failover", "--scenario", "meteor").CombinedOutput()
	if code := exitCode(err); code != 3 || !strings.Contains(string(out), "meteor") {
		t.Errorf("unknown scenario: exit %d, %q", code, out)
	}
	if after := leftoverSet(); len(after) != len(before) {
		t.Errorf("labs before %v, after %v", before, after)
	}
}

// TestMixedJSON runs the command whole: keepalived on nat1, the speaker on
// nat2, the default scenario, a JSON report and the exit status.
func TestMixedJSON(t *testing.T) {
	needRoot(t)
	testenv.NeedTool(t, "keepalived")
	before := leftoverSet()
	pcap := t.TempDir() + "/mixed.pcap"
	page := t.TempDir() + "/mixed.html"
	keep := t.TempDir() + "/captures"
	cmd := exec.Command(vrrpctlBin, "run-test-failover", "--impl", "mixed", "--json", "--quiet", "-w", pcap, "--html", page, "--keep-captures", keep)
	out, err := cmd.Output()
	if code := exitCode(err); code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	var rep Report
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("JSON report: %v\n%s", err, out)
	}
	if rep.Schema != ReportSchema || !rep.Pass || len(rep.Results) != 1 {
		t.Fatalf("report %+v", rep)
	}
	res := rep.Results[0]
	if res.Routers[0].Impl != ImplKeepalived || res.Routers[1].Impl != ImplVRRPD {
		t.Errorf("routers %+v: want keepalived then vrrpd", res.Routers)
	}
	if res.Pcap != pcap {
		t.Errorf("capture kept at %q, want %q", res.Pcap, pcap)
	}
	// --keep-captures: the three captures, those the analysis merged.
	if res.CaptureDir != keep || len(res.Captures) != 3 {
		t.Errorf("captures kept in %q (%d merged), want %q and 3", res.CaptureDir, len(res.Captures), keep)
	}
	for i, h := range Vantages {
		path := filepath.Join(keep, h+".pcap")
		if st, err := os.Stat(path); err != nil || st.Size() == 0 {
			t.Errorf("--keep-captures: %s: %v", path, err)
		}
		if i < len(res.Captures) && (res.Captures[i].File != path || !res.Captures[i].Aligned) {
			t.Errorf("capture %d: %+v, want %s aligned", i, res.Captures[i], path)
		}
	}
	client, err := os.ReadFile(pcap)
	if kept, err2 := os.ReadFile(filepath.Join(keep, "here.pcap")); err != nil || err2 != nil || string(client) != string(kept) {
		t.Errorf("-w and --keep-captures hold different client captures (%v, %v)", err, err2)
	}
	if g := res.Failovers[0]; g.DetectMS == nil || g.Cause != "resign" || !g.Moved {
		t.Errorf("failover %+v", g)
	}
	if len(res.ARP) < 2 {
		t.Errorf("client ARP history %+v: want the entry to change", res.ARP)
	}
	// The HTML report: the analyzer's ladder of the client's capture, the
	// lab's measurements beside the analyzer's, its action across the ladder.
	body, err := os.ReadFile(page)
	if err != nil {
		t.Fatalf("--html: %v", err)
	}
	for _, want := range []string{`id="vrrpctl-analysis"`, "Measured by the lab, beside the analyzer", `class="takeover failover-marker"`, "lab: " + g0(res).Action, "[PASS]"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the HTML report lacks %q", want)
		}
	}
	if after := leftoverSet(); len(after) != len(before) {
		t.Errorf("labs before %v, after %v", before, after)
	}
}

// g0 is a result's first failover, or none.
func g0(res *Result) FailoverGrade {
	if len(res.Failovers) == 0 {
		return FailoverGrade{}
	}
	return res.Failovers[0]
}
