package layering

import (
	"go/build"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/vrrpctl/vrrpctl/"

// allowed lists, for each package of the project, the project packages its
// non-test files may import. The README's "Imports point one way" paragraph
// says the same in words; a new package or a new edge is a decision, made here.
var allowed = map[string][]string{
	"vrrp":                         nil,
	"kaconf":                       nil,
	"decode":                       nil,
	"internal/nsenter":             nil,
	"internal/mcbridge":            nil,
	"internal/testenv":             nil,
	"internal/testcheck":           nil,
	"internal/layering":            nil,
	"bench/gen":                    nil,
	"monitoring":                   nil, // rules, dashboard and their tests
	"packaging":                    nil, // the Debian package and its test
	"capture":                      {"decode"},
	"analyze":                      {"decode", "kaconf", "vrrp"},
	"merge":                        {"analyze", "capture", "decode"},
	"doctor":                       {"internal/mcbridge", "internal/nsenter", "kaconf"},
	"report":                       {"analyze", "doctor"},
	"vrrpd":                        {"decode", "internal/nsenter", "kaconf", "vrrp"},
	"watch":                        {"analyze", "capture", "decode", "kaconf", "report"},
	"internal/pcapgen":             {"analyze", "decode", "kaconf", "vrrp"},
	"internal/pcapgen/cmd/vrrpgen": {"internal/pcapgen"},
	"lab": {"analyze", "capture", "decode", "internal/mcbridge", "internal/nsenter",
		"kaconf", "merge", "report", "vrrp"},
	"cmd/vrrpctl": {"analyze", "capture", "doctor", "internal/nsenter", "kaconf", "lab",
		"merge", "report", "vrrpd", "watch"},
}

// projectImports reads every non-test Go file under the module root and
// returns, per package directory, the project packages it imports.
func projectImports(t *testing.T, root string) map[string]map[string]string {
	t.Helper()
	pkgs := map[string]map[string]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		// Generators run with go run (//go:build ignore) are not part of the package.
		if match, err := build.Default.MatchFile(filepath.Dir(path), d.Name()); err != nil || !match {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		rel = filepath.ToSlash(rel)
		if pkgs[rel] == nil {
			pkgs[rel] = map[string]string{}
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if dep, ok := strings.CutPrefix(p, module); ok {
				pkgs[rel][dep] = fset.Position(imp.Pos()).String()
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

func TestImportsPointOneWay(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found at %s: %v", root, err)
	}
	pkgs := projectImports(t, root)
	if len(pkgs) < len(allowed)/2 {
		t.Fatalf("found only %d packages under %s", len(pkgs), root)
	}
	for pkg, deps := range pkgs {
		ok, known := allowed[pkg]
		if !known {
			t.Errorf("package %s is not in the layering table: add it with the project packages it may import", pkg)
			continue
		}
		for dep, where := range deps {
			if !slices.Contains(ok, dep) {
				t.Errorf("%s: %s imports %s, which the layering allows it only %v", where, pkg, dep, ok)
			}
		}
	}
}

// TestLayeringHasNoCycle checks the table itself: a cycle in it would let
// two packages lean on each other one edit at a time.
func TestLayeringHasNoCycle(t *testing.T) {
	state := map[string]int{} // 0 unseen, 1 on the path, 2 done
	var visit func(p string, path []string)
	visit = func(p string, path []string) {
		switch state[p] {
		case 1:
			t.Fatalf("the layering table has a cycle: %s → %s", strings.Join(path, " → "), p)
		case 2:
			return
		}
		state[p] = 1
		for _, d := range allowed[p] {
			if _, ok := allowed[d]; !ok {
				t.Errorf("%s may import %s, which is not a package in the table", p, d)
			}
			visit(d, append(path, p))
		}
		state[p] = 2
	}
	for p := range allowed {
		visit(p, nil)
	}
}
