package testenv

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// runners are the helpers that start a program in a lab host, with the
// program among their first arguments or as the first word of an argv
// slice: lab's Run, Start and StartOutside and the tests' wrappers of them.
var runners = map[string]bool{"Run": true, "run": true, "Start": true, "start": true, "StartOutside": true}

// programsRun scans the module's Go files for the programs they start:
// definite ones (exec.Command, exec.CommandContext, exec.LookPath,
// NeedTool, and `ip netns exec NS PROGRAM`) and possible ones (the
// string arguments of runners, which may also be host or process names).
// Each maps to a file:line where it is run.
func programsRun(t *testing.T, root string) (definite, possible map[string]string) {
	definite, possible = map[string]string{}, map[string]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); path != root && (n == "testdata" || strings.HasPrefix(n, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			at := func() string {
				p := fset.Position(call.Pos())
				rel, _ := filepath.Rel(root, p.Filename)
				return rel + ":" + strconv.Itoa(p.Line)
			}
			lit := func(i int) (string, bool) {
				if i >= len(call.Args) {
					return "", false
				}
				b, ok := call.Args[i].(*ast.BasicLit)
				if !ok || b.Kind != token.STRING {
					return "", false
				}
				s, err := strconv.Unquote(b.Value)
				return s, err == nil && s != ""
			}
			add := func(m map[string]string, prog string) {
				if _, seen := m[prog]; !seen {
					m[prog] = at()
				}
			}
			var pkg, name string
			switch fn := call.Fun.(type) {
			case *ast.SelectorExpr:
				name = fn.Sel.Name
				if id, ok := fn.X.(*ast.Ident); ok {
					pkg = id.Name
				}
			case *ast.Ident:
				name = fn.Name
			}
			switch {
			case pkg == "exec" && (name == "Command" || name == "LookPath"):
				if p, ok := lit(0); ok {
					add(definite, p)
					if a1, _ := lit(1); p == "ip" && a1 == "netns" {
						if a2, _ := lit(2); a2 == "exec" {
							if p4, ok := lit(4); ok {
								add(definite, p4)
							}
						}
					}
				}
			case pkg == "exec" && name == "CommandContext":
				if p, ok := lit(1); ok {
					add(definite, p)
				}
			case name == "NeedTool":
				for i := 1; i < len(call.Args); i++ {
					if p, ok := lit(i); ok {
						add(definite, p)
					}
				}
			case runners[name]:
				for _, i := range []int{1, 2} {
					if p, ok := lit(i); ok {
						add(possible, p)
					}
				}
				for _, a := range call.Args {
					if cl, ok := a.(*ast.CompositeLit); ok && len(cl.Elts) > 0 {
						if b, ok := cl.Elts[0].(*ast.BasicLit); ok && b.Kind == token.STRING {
							if s, err := strconv.Unquote(b.Value); err == nil && s != "" {
								add(possible, s)
							}
						}
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return definite, possible
}

// dpkgOwner is the Debian package that installs the program at path, as
// dpkg -S says (merged /usr: dpkg may know /bin/ping as the owner of
// /usr/bin/ping, or the other way round).
func dpkgOwner(t *testing.T, path string) string {
	t.Helper()
	base := filepath.Base(path)
	out, _ := exec.Command("dpkg-query", "-S", "bin/"+base).Output()
	re := regexp.MustCompile(`^([a-z0-9][a-z0-9+.-]*)(:[a-z0-9]+)?: /(usr/)?s?bin/` + regexp.QuoteMeta(base) + `$`)
	for _, line := range strings.Split(string(out), "\n") {
		if m := re.FindStringSubmatch(line); m != nil {
			return m[1]
		}
	}
	return ""
}

func essential(t *testing.T, pkg string) bool {
	out, err := exec.Command("dpkg-query", "-W", "-f", "${Essential}", pkg).Output()
	return err == nil && strings.TrimSpace(string(out)) == "yes"
}

// TestDebianPackages checks that every program the tests run (and the code
// they drive: the lab, the speaker) is provided by a package of
// .ci/debian-packages, which `make deps` installs, or by an essential
// package that every Debian machine has; that each program listed there
// comes from the package it is listed under; and that every listed program
// is still run somewhere.
func TestDebianPackages(t *testing.T) {
	pkgs, err := Packages()
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	listedProg := map[string]string{} // program -> package
	for _, p := range pkgs {
		listed[p.Name] = true
		for _, prog := range p.Programs {
			listedProg[prog] = p.Name
		}
	}
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	definite, possible := programsRun(t, root)
	for _, want := range []string{"ping", "keepalived", "tcpdump", "ip"} {
		if definite[want] == "" && possible[want] == "" {
			t.Errorf("the scan found no test running %s: it has lost its way", want)
		}
	}
	for prog := range listedProg {
		if definite[prog] == "" && possible[prog] == "" {
			t.Errorf("%s lists %s, which no test runs any more", PackagesFile, prog)
		}
	}
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		Skip(t, "no dpkg-query: not Debian, cannot tell which package installs a program")
	}
	check := func(prog, where string, mustExist bool) {
		path, err := exec.LookPath(prog)
		if err != nil {
			switch {
			case !mustExist:
			case listedProg[filepath.Base(prog)] == "":
				t.Errorf("%s runs %s, which is not installed and not in %s", where, prog, PackagesFile)
			default:
				Skip(t, "%s (from %s) is not installed: run make deps", prog, listedProg[filepath.Base(prog)])
			}
			return
		}
		if filepath.Base(prog) == "go" {
			return // the Go toolchain: the one thing a fresh machine has
		}
		owner := dpkgOwner(t, path)
		switch {
		case owner == "":
			if mustExist {
				t.Errorf("%s runs %s (%s), which no Debian package installs", where, prog, path)
			}
		case listed[owner] || essential(t, owner):
			if lp := listedProg[filepath.Base(prog)]; lp != "" && lp != owner {
				t.Errorf("%s lists %s under %s, but %s installs it", PackagesFile, prog, lp, owner)
			}
		default:
			t.Errorf("%s runs %s, from package %s, which is neither in %s nor essential", where, prog, owner, PackagesFile)
		}
	}
	progs := slices.Sorted(func(yield func(string) bool) {
		for p := range definite {
			if !yield(p) {
				return
			}
		}
	})
	for _, p := range progs {
		check(p, definite[p], true)
	}
	for p, where := range possible {
		if _, ok := definite[p]; !ok {
			check(p, where, false)
		}
	}
	t.Logf("programs run by tests: %v", progs)
}
