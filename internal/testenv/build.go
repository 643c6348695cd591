package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// BuildVrrpctl builds the module's cmd/vrrpctl into a new directory that
// every user may enter (some tests run the binary as nobody), for the
// TestMain of a package whose tests run vrrpctl as users do. It returns
// the binary's path and a function that removes the directory.
func BuildVrrpctl() (bin string, remove func(), err error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp("", "vrrpctl-bin-")
	if err != nil {
		return "", nil, err
	}
	remove = func() { os.RemoveAll(dir) }
	if err := os.Chmod(dir, 0o755); err != nil {
		remove()
		return "", nil, err
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = "/usr/local/go/bin/go"
	}
	bin = filepath.Join(dir, "vrrpctl")
	if out, err := exec.Command(goTool, "build", "-o", bin, filepath.Join(root, "cmd", "vrrpctl")).CombinedOutput(); err != nil {
		remove()
		return "", nil, fmt.Errorf("building vrrpctl: %v\n%s", err, out)
	}
	return bin, remove, nil
}
