package main

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	const pass = `{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestA","Output":"=== RUN   TestA\n"}
{"Action":"pass","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Output":"PASS\n"}
{"Action":"output","Package":"p","Output":"ok  \tp\t0.1s\n"}
{"Action":"pass","Package":"p"}
`
	const skip = `{"Action":"run","Package":"p","Test":"TestB"}
{"Action":"output","Package":"p","Test":"TestB","Output":"    x_test.go:9: needs root\n"}
{"Action":"skip","Package":"p","Test":"TestB"}
`
	const fail = `{"Action":"output","Package":"p","Test":"TestC","Output":"    x_test.go:12: boom\n"}
{"Action":"fail","Package":"p","Test":"TestC"}
`
	for _, c := range []struct {
		name, in string
		status   int
		want     []string
		not      []string
	}{
		{"pass", pass, 0, []string{"ok  \tp\t0.1s\n"}, []string{"=== RUN", "PASS\n"}},
		{"skip", pass + skip, 1, []string{"1 test(s) skipped", "p TestB\n    x_test.go:9: needs root"}, nil},
		{"fail", pass + fail, 1, []string{"x_test.go:12: boom", "p TestC"}, nil},
		{"nothing", "", 1, []string{"no test ran"}, nil},
	} {
		var b strings.Builder
		if got := check(strings.NewReader(c.in), &b); got != c.status {
			t.Errorf("%s: status %d; want %d\n%s", c.name, got, c.status, b.String())
		}
		for _, w := range c.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s: output lacks %q:\n%s", c.name, w, b.String())
			}
		}
		for _, w := range c.not {
			if strings.Contains(b.String(), w) {
				t.Errorf("%s: output has %q:\n%s", c.name, w, b.String())
			}
		}
	}
}
