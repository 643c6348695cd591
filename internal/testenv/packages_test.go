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
// definite ones and possible ones (see programsOfCall). Each maps to a
// file:line where it is run.
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
		rel, _ := filepath.Rel(root, path)
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			at := rel + ":" + strconv.Itoa(fset.Position(call.Pos()).Line)
			defs, poss := programsOfCall(call)
			for _, p := range defs {
				if _, seen := definite[p]; !seen {
					definite[p] = at
				}
			}
			for _, p := range poss {
				if _, seen := possible[p]; !seen {
					possible[p] = at
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

// programsOfCall returns the programs a call starts: definitely
// (exec.Command, exec.CommandContext, exec.LookPath, NeedTool, and
// `ip netns exec NS PROGRAM`) or possibly (the string arguments of a
// runner, which may also be host or process names).
func programsOfCall(call *ast.CallExpr) (definite, possible []string) {
	str := func(e ast.Expr) (string, bool) {
		b, ok := e.(*ast.BasicLit)
		if !ok || b.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(b.Value)
		return s, err == nil && s != ""
	}
	lit := func(i int) string {
		if i >= len(call.Args) {
			return ""
		}
		s, _ := str(call.Args[i])
		return s
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
	var out []string
	switch {
	case pkg == "exec" && (name == "Command" || name == "LookPath"):
		out = append(out, lit(0))
		if lit(0) == "ip" && lit(1) == "netns" && lit(2) == "exec" {
			out = append(out, lit(4))
		}
	case pkg == "exec" && name == "CommandContext":
		out = append(out, lit(1))
	case name == "NeedTool":
		for i := 1; i < len(call.Args); i++ {
			out = append(out, lit(i))
		}
	case runners[name]:
		possible = append(possible, lit(1), lit(2))
		for _, a := range call.Args {
			if cl, ok := a.(*ast.CompositeLit); ok && len(cl.Elts) > 0 {
				s, _ := str(cl.Elts[0])
				possible = append(possible, s)
			}
		}
	}
	nonEmpty := func(ss []string) []string {
		return slices.DeleteFunc(ss, func(s string) bool { return s == "" })
	}
	return nonEmpty(out), nonEmpty(possible)
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

// checkProgram checks that prog, run at where, comes from a listed or an
// essential package, and from the one it is listed under. A possible
// program (mustExist false) that is not installed is taken for a name.
func checkProgram(t *testing.T, prog, where string, mustExist bool, listed map[string]bool, listedProg map[string]string) {
	t.Helper()
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
	progs := slices.Sorted(func(yield func(string) bool) {
		for p := range definite {
			if !yield(p) {
				return
			}
		}
	})
	for _, p := range progs {
		checkProgram(t, p, definite[p], true, listed, listedProg)
	}
	for p, where := range possible {
		if _, ok := definite[p]; !ok {
			checkProgram(t, p, where, false, listed, listedProg)
		}
	}
	t.Logf("programs run by tests: %v", progs)
}
