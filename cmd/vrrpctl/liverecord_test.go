package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/vrrpctl/vrrpctl/analyze"
	"github.com/vrrpctl/vrrpctl/internal/testenv"
)

// TestRecordAndAnalyze records again, in namespaces of its own, scenarios
// of testdata/record-vmac.sh with the FRR and keepalived installed now (FRR's
// vrrpd, which always sends from the virtual MAC; keepalived with use_vmac),
// and analyzes each capture as a user would. The conclusions must be those of
// the committed recording's truth file (written from the routers' logs): the
// same failovers in the same order, each with its cause, a GARP where there
// was one and a takeover within the RFC's time, the same master at the end,
// and nothing above info. Frame numbers differ from run to run; the
// committed captures pin those (analyze's TestRecordedTruth).
func TestRecordAndAnalyze(t *testing.T) {
	testenv.NeedRoot(t)
	testenv.NeedTool(t, "bash", "vtysh", "keepalived", "tcpdump", "nft", "ping", "ip")
	for _, daemon := range []string{"/usr/lib/frr/zebra", "/usr/lib/frr/vrrpd"} {
		if _, err := os.Stat(daemon); err != nil {
			testenv.Skip(t, "%s: %v (the Debian package frr installs it)", daemon, err)
		}
	}
	script, err := filepath.Abs(ref("record-vmac.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for _, scenario := range []string{"frr-v3-ipv4", "vmac-failover"} {
		t.Run(scenario, func(t *testing.T) {
			dir := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "bash", script, "-o", dir, scenario)
			// The script removes its namespaces, daemons and files on
			// SIGTERM: sent on the deadline, and if this test dies first.
			cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
			cmd.WaitDelay = 30 * time.Second
			cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("record-vmac.sh %s: %v\n%s", scenario, err, out)
			}
			r := run(t, nil, "analyze", "--json", filepath.Join(dir, scenario+".pcap"))
			if r.code == 3 {
				t.Fatalf("analyze: exit 3: %s", r.stderr)
			}
			checkAgainstTruth(t, decodeJSON(t, r.stdout), ref(scenario+".truth.json"))
		})
	}
}

func checkAgainstTruth(t *testing.T, a *analyze.Analysis, truthFile string) {
	t.Helper()
	b, err := os.ReadFile(truthFile)
	if err != nil {
		t.Fatal(err)
	}
	var tr struct {
		Failovers []struct {
			From, To, Cause string
			FirstGARP       *uint64 `json:"first_garp_frame"`
		} `json:"failovers"`
		MasterAtEnd string `json:"master_at_end"`
	}
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatalf("%s: %v", truthFile, err)
	}
	if len(a.Failovers) != len(tr.Failovers) {
		t.Errorf("%d failovers, want %d as recorded in %s: %+v", len(a.Failovers), len(tr.Failovers), truthFile, a.Failovers)
	} else {
		for i, want := range tr.Failovers {
			fo := a.Failovers[i]
			if fo.From.IP != want.From || fo.To.IP != want.To || fo.Cause != want.Cause {
				t.Errorf("failover %d: %s -> %s (%s), want %s -> %s (%s)", i, fo.From.IP, fo.To.IP, fo.Cause, want.From, want.To, want.Cause)
			}
			if (fo.GarpMS != nil) != (want.FirstGARP != nil) {
				t.Errorf("failover %d: GARP measured %v, want a GARP %v", i, fo.GarpMS != nil, want.FirstGARP != nil)
			}
			if fo.ExpectedMS > 0 && fo.DetectMS > fo.ExpectedMS*1.25+100 {
				t.Errorf("failover %d took %.1f ms against the RFC's %.1f", i, fo.DetectMS, fo.ExpectedMS)
			}
		}
	}
	if len(a.Groups) != 1 || a.Groups[0].Master == nil || a.Groups[0].Master.IP != tr.MasterAtEnd {
		t.Errorf("groups %+v, want one, its master at the end %s", a.Groups, tr.MasterAtEnd)
	}
	for _, f := range a.Findings {
		if f.Severity != analyze.Info {
			t.Errorf("%s %s: %s", f.Severity, f.Code, f.Summary)
		}
	}
}
