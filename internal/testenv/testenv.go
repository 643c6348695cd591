// Package testenv gates tests on what the machine provides: root, programs,
// a terminal. Outside CI a test whose environment is missing is skipped, with
// the reason; under CI (CI=true, as .ci/run sets it) it fails instead, since
// CI installs everything the tests need and a skip there would hide a test
// that never ran. Every environment-gated skip in the project goes through
// this package.
package testenv

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// CI reports whether the tests run under CI: the CI environment variable is
// set to a true value ("true", "1", ...), as CI services and .ci/run set it.
func CI() bool {
	v, err := strconv.ParseBool(os.Getenv("CI"))
	return err == nil && v
}

// Skip skips t because its environment is missing, or fails it under CI.
func Skip(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if CI() {
		t.Fatalf("%s (CI=true: a missing environment is a failure, not a skip)", msg)
	}
	t.Skip(msg)
}

// NeedRoot skips t unless it runs as root (network namespaces, raw sockets,
// live capture), or fails it under CI.
func NeedRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Skip(t, "needs root")
	}
}

// NeedTool skips t unless every program is in PATH, or fails it under CI.
// A program must come from a package of .ci/debian-packages (or be one that
// every Debian machine has): TestDebianPackages checks every call.
func NeedTool(t testing.TB, programs ...string) {
	t.Helper()
	for _, p := range programs {
		if _, err := exec.LookPath(p); err != nil {
			Skip(t, "%s not installed (make deps installs it)", p)
		}
	}
}

// Package is one line of .ci/debian-packages: a Debian package and the
// programs the tests run from it.
type Package struct {
	Name     string
	Programs []string
}

// PackagesFile is the list of Debian packages, relative to the module root.
const PackagesFile = ".ci/debian-packages"

// Packages reads .ci/debian-packages from the module that holds the
// current directory.
func Packages() ([]Package, error) {
	root, err := ModuleRoot()
	if err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(root, PackagesFile))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Package
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		w := strings.Fields(line)
		if len(w) > 0 {
			out = append(out, Package{Name: w[0], Programs: w[1:]})
		}
	}
	return out, sc.Err()
}

// ModuleRoot is the directory of the go.mod above the current directory.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the current directory")
		}
		dir = parent
	}
}
