package packaging_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vrrpctl/vrrpctl/internal/testenv"
)

// marker says that the vrrpctl package installed on this machine was
// installed by TestDebianPackage, and by which process: a run killed
// before it removed the package leaves it, and the next run purges it.
const marker = "/var/lib/vrrpctl-package-test.pid"

// installedBin is where the package puts vrrpctl.
const installedBin = "/usr/bin/vrrpctl"

// run runs a command and returns its standard output; a non-zero exit
// fails the test with its standard error.
func run(t *testing.T, env []string, argv ...string) string {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s%s", strings.Join(argv, " "), err, out, stderr.String())
	}
	return string(out)
}

// installed reports whether dpkg knows package vrrpctl in any state
// (installed, or removed with its configuration files left).
func installed() bool {
	out, err := exec.Command("dpkg-query", "-W", "-f", "${db:Status-Status}", "vrrpctl").Output()
	return err == nil && strings.TrimSpace(string(out)) != "not-installed"
}

func processAlive(pid int) bool { return syscall.Kill(pid, 0) == nil }

// purge removes the package, then the marker. dpkg may be busy (a signal
// came while the test's dpkg -i ran, and dpkg finishes its work): it is
// tried again for up to a minute.
func purge() error {
	var out []byte
	var err error
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Second) {
		out, err = exec.Command("dpkg", "--purge", "vrrpctl").CombinedOutput()
		if err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("dpkg --purge vrrpctl: %v\n%s", err, out)
	}
	os.Remove(marker)
	return nil
}

// takeMachine makes sure the package may be installed here: not installed,
// or installed by a test run that died (purged then), and purges it again
// on every way out of the test, a SIGINT or SIGTERM of the test binary
// included.
func takeMachine(t *testing.T) {
	t.Helper()
	if b, err := os.ReadFile(marker); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && !processAlive(pid) {
			t.Logf("purging the package a killed run (pid %d) left installed", pid)
			if err := purge(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if installed() {
		testenv.Skip(t, "package vrrpctl is installed on this machine (not by this test): the test would replace it")
	}
	if err := os.WriteFile(marker, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	remove := func() {
		once.Do(func() {
			if !installed() {
				os.Remove(marker)
			} else if err := purge(); err != nil {
				t.Error(err)
			}
		})
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-sigs:
			if installed() {
				if err := purge(); err != nil {
					fmt.Fprintf(os.Stderr, "%v: %v\n", sig, err)
					os.Exit(1)
				}
			}
			os.Remove(marker)
			fmt.Fprintf(os.Stderr, "%v: package vrrpctl removed\n", sig)
			os.Exit(1)
		case <-done:
		}
	}()
	t.Cleanup(func() {
		signal.Stop(sigs)
		close(done)
		remove()
	})
}

// commands lists the visible commands of a vrrpctl binary, from its help.
func commands(t *testing.T, bin string) []string {
	t.Helper()
	var out []string
	in := false
	sc := bufio.NewScanner(strings.NewReader(run(t, nil, bin, "--help")))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "Available Commands:":
			in = true
		case in && strings.HasPrefix(line, "  "):
			name := strings.Fields(line)[0]
			if name != "help" {
				out = append(out, name)
			}
		case in:
			in = false
		}
	}
	if len(out) < 5 {
		t.Fatalf("%s --help lists only %v", bin, out)
	}
	return out
}

// TestDebianPackage builds the package as `make deb` does
// (packaging/build-deb), installs it with dpkg -i, and checks what an
// operator gets: the binary; a man page per command that man renders
// without a groff warning; systemd-analyze verify passing on both units
// (with an instance of the template); the bash completion loaded by
// bash-completion and completing commands and flags; the zsh and fish
// completions, the rules, the dashboard and the example configuration in
// place. Then dpkg -r leaves only the configuration files and dpkg --purge
// nothing. The package is purged on every way out of the test.
func TestDebianPackage(t *testing.T) {
	testenv.NeedRoot(t)
	testenv.NeedTool(t, "dpkg", "dpkg-query", "dpkg-deb", "systemd-analyze", "man", "bash", "zsh", "fish")
	takeMachine(t)

	deb := strings.TrimSpace(run(t, nil, "bash", "build-deb", t.TempDir()))
	if !strings.HasSuffix(deb, ".deb") {
		t.Fatalf("build-deb printed %q", deb)
	}
	info := run(t, nil, "dpkg-deb", "--field", deb, "Package", "Version", "Architecture", "Depends")
	t.Logf("%s:\n%s", filepath.Base(deb), info)

	run(t, nil, "dpkg", "--install", deb)
	if st := run(t, nil, "dpkg-query", "-W", "-f", "${Status}", "vrrpctl"); st != "install ok installed" {
		t.Fatalf("after dpkg -i: status %q", st)
	}
	files := strings.Fields(run(t, nil, "dpkg-query", "-L", "vrrpctl"))
	var conffiles []string // ${Conffiles} is " PATH MD5SUM" a line
	for _, w := range strings.Fields(run(t, nil, "dpkg-query", "-W", "-f", "${Conffiles}", "vrrpctl")) {
		if strings.HasPrefix(w, "/") {
			conffiles = append(conffiles, w)
		}
	}
	has := func(path string) bool { return slices.Contains(files, path) }

	// The binary, and a man page for each of its commands.
	if v := run(t, nil, installedBin, "--version"); !strings.HasPrefix(v, "vrrpctl version ") {
		t.Errorf("vrrpctl --version: %q", v)
	}
	pages := []string{"vrrpctl"}
	for _, c := range commands(t, installedBin) {
		pages = append(pages, "vrrpctl-"+c)
	}
	for _, p := range pages {
		path := "/usr/share/man/man1/" + p + ".1.gz"
		if !has(path) {
			t.Errorf("no man page %s in the package", path)
			continue
		}
		if got := strings.TrimSpace(run(t, nil, "man", "-w", p)); got != path {
			t.Errorf("man -w %s = %q; want %s", p, got, path)
		}
	}
	// man renders them, without a warning.
	manEnv := []string{"MANWIDTH=80", "MANPAGER=cat", "PAGER=cat", "LANG=C.UTF-8"}
	page := run(t, manEnv, "man", "vrrpctl-analyze")
	for _, want := range []string{"VRRPCTL-ANALYZE(1)", "NAME", "vrrpctl-analyze - Analyze", "SYNOPSIS", "--keepalived-conf", "EXAMPLE", "SEE ALSO"} {
		if !strings.Contains(page, want) {
			t.Errorf("man vrrpctl-analyze lacks %q:\n%s", want, page)
		}
	}
	for _, p := range pages {
		cmd := exec.Command("man", "--warnings", p)
		cmd.Env = append(os.Environ(), manEnv...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if out, err := cmd.Output(); err != nil || len(out) < 200 || stderr.Len() > 0 {
			t.Errorf("man %s: %v, %d bytes, warnings:\n%s", p, err, len(out), stderr.String())
		}
	}

	// The units verify (systemd as PID 1 is not needed: systemd-analyze
	// loads them itself, checks ExecStart's binary and the man pages their
	// Documentation names).
	for _, u := range []string{"/lib/systemd/system/vrrpctl-speaker.service", "/lib/systemd/system/vrrpctl-watch@.service"} {
		if !has(u) {
			t.Errorf("no unit %s in the package", u)
		}
	}
	for _, u := range []string{"vrrpctl-speaker.service", "vrrpctl-watch@eth1.service", "/lib/systemd/system/vrrpctl-watch@.service"} {
		cmd := exec.Command("systemd-analyze", "verify", u)
		if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
			t.Errorf("systemd-analyze verify %s: %v\n%s", u, err, out)
		}
	}

	// bash-completion loads the completion on demand, as an interactive
	// shell does on the first <Tab>, and it completes a command and a flag
	// (through the installed binary).
	complete := func(words ...string) []string {
		t.Helper()
		script := fmt.Sprintf(`source /usr/share/bash-completion/bash_completion
_completion_loader vrrpctl
complete -p vrrpctl >&2
COMP_WORDS=(%s); COMP_CWORD=%d; COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}
__start_vrrpctl vrrpctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}" 2>/dev/null
printf '%%s\n' "${COMPREPLY[@]}"`, strings.Join(words, " "), len(words)-1)
		cmd := exec.Command("bash", "--norc", "--noprofile", "-c", script)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil || !strings.Contains(stderr.String(), "complete -o default -F __start_vrrpctl vrrpctl") {
			t.Fatalf("bash completion of %v: %v\n%s%s", words, err, out, stderr.String())
		}
		return strings.Fields(string(out))
	}
	if got := complete("vrrpctl", "an"); !slices.Equal(got, []string{"analyze"}) {
		t.Errorf("vrrpctl an<Tab>: %v; want analyze", got)
	}
	if got := complete("vrrpctl", "watch", "--metr"); !slices.Equal(got, []string{"--metrics-addr"}) {
		t.Errorf("vrrpctl watch --metr<Tab>: %v; want --metrics-addr", got)
	}

	// zsh finds the completion in its vendor directory (compinit reads the
	// #compdef line), and fish completes a command and a flag through the
	// installed binary, as on a <Tab>, with no set-up of either shell.
	zsh := exec.Command("zsh", "-f", "-c", `autoload -U compinit; compinit -u -D; print -r -- ${_comps[vrrpctl]:-none}`)
	if out, err := zsh.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "_vrrpctl" {
		t.Errorf("zsh: vrrpctl's completion function %q (%v), want _vrrpctl", out, err)
	}
	fishHome := t.TempDir() // no user configuration
	for _, tc := range []struct{ line, want string }{{"vrrpctl an", "analyze"}, {"vrrpctl watch --metr", "--metrics-addr"}} {
		fish := exec.Command("fish", "-c", "complete --do-complete "+strconv.Quote(tc.line))
		fish.Env = append(os.Environ(), "HOME="+fishHome, "XDG_CONFIG_HOME="+fishHome, "XDG_DATA_HOME="+fishHome)
		out, err := fish.Output()
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			word, _, _ := strings.Cut(line, "\t")
			got = append(got, word)
		}
		if err != nil || !slices.Equal(got, []string{tc.want}) {
			t.Errorf("fish: %s<Tab>: %q (%v); want %s", tc.line, got, err, tc.want)
		}
	}

	// The rest of what the package holds.
	for _, f := range []string{
		"/usr/bin/vrrpctl",
		"/usr/share/bash-completion/completions/vrrpctl",
		"/usr/share/zsh/vendor-completions/_vrrpctl",
		"/usr/share/fish/vendor_completions.d/vrrpctl.fish",
		"/usr/share/vrrpctl/prometheus/vrrpctl.rules.yml",
		"/usr/share/vrrpctl/prometheus/vrrpctl.rules.test.yml",
		"/usr/share/vrrpctl/prometheus/prometheus.yml.example",
		"/usr/share/vrrpctl/grafana/dashboards/vrrpctl.json",
		"/usr/share/vrrpctl/grafana/provisioning/vrrpctl.yml",
		"/usr/share/doc/vrrpctl/examples/keepalived.conf",
		"/etc/default/vrrpctl-watch",
		"/etc/default/vrrpctl-speaker",
	} {
		if st, err := os.Stat(f); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	for _, f := range []string{"/etc/default/vrrpctl-watch", "/etc/default/vrrpctl-speaker"} {
		if !slices.Contains(conffiles, f) {
			t.Errorf("%s is not a conffile: %v", f, conffiles)
		}
	}
	if st, err := os.Stat("/etc/vrrpctl"); err != nil || !st.IsDir() {
		t.Errorf("/etc/vrrpctl: %v", err)
	}
	// The example configuration is a good one: doctor fails nothing in it.
	cmd := exec.Command(installedBin, "doctor", "--no-host", "--keepalived-conf", "/usr/share/doc/vrrpctl/examples/keepalived.conf")
	if out, err := cmd.CombinedOutput(); cmd.ProcessState == nil || cmd.ProcessState.ExitCode() > 1 {
		t.Errorf("vrrpctl doctor on the example configuration: %v\n%s", err, out)
	}

	// dpkg -r removes every file but the configuration files; --purge
	// removes those too, and /etc/vrrpctl.
	run(t, nil, "dpkg", "--remove", "vrrpctl")
	if st := run(t, nil, "dpkg-query", "-W", "-f", "${db:Status-Status}", "vrrpctl"); st != "config-files" {
		t.Errorf("after dpkg -r: status %q; want config-files", st)
	}
	for _, f := range files {
		st, err := os.Lstat(f)
		if err != nil || !st.Mode().IsRegular() {
			continue // gone, or a directory other packages share (/lib a link to usr/lib)
		}
		if !slices.Contains(conffiles, f) {
			t.Errorf("dpkg -r left %s", f)
		}
	}
	run(t, nil, "dpkg", "--purge", "vrrpctl")
	os.Remove(marker)
	if installed() {
		t.Error("vrrpctl still known to dpkg after --purge")
	}
	for _, f := range append(conffiles, "/etc/vrrpctl", "/usr/share/vrrpctl", "/usr/share/doc/vrrpctl") {
		if _, err := os.Lstat(f); err == nil {
			t.Errorf("dpkg --purge left %s", f)
		}
	}
}
