// Command testcheck reads `go test -json` on standard input and prints what
// `go test` would print without -v: each package's result line, and the
// whole output of a failing test. It exits 1 when a test or package failed,
// when a test was skipped (listed at the end: CI installs everything the
// tests need, so a skip there hides a test that never ran), or when no
// test ran at all.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

type key struct{ pkg, test string }

func main() {
	os.Exit(check(os.Stdin, os.Stdout))
}

func check(in io.Reader, out io.Writer) int {
	buf := map[key][]string{}
	var skipped, failed []string
	passed := 0
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var ev event
		if err := json.Unmarshal(line, &ev); err != nil || ev.Action == "" {
			fmt.Fprintln(out, string(line)) // not test2json: a build message
			continue
		}
		k := key{ev.Package, ev.Test}
		switch ev.Action {
		case "output", "build-output":
			if ev.Test != "" {
				buf[k] = append(buf[k], ev.Output)
			} else if ev.Output != "PASS\n" && !strings.HasPrefix(ev.Output, "=== ") {
				fmt.Fprint(out, ev.Output)
			}
		case "pass":
			if ev.Test != "" {
				passed++
			}
			delete(buf, k)
		case "skip":
			if ev.Test != "" {
				msg := strings.TrimSpace(strings.Join(buf[k], ""))
				skipped = append(skipped, fmt.Sprintf("%s %s\n%s", ev.Package, ev.Test, indent(msg)))
			}
			delete(buf, k)
		case "fail", "build-fail":
			if ev.Test != "" {
				fmt.Fprint(out, strings.Join(buf[k], ""))
				failed = append(failed, ev.Package+" "+ev.Test)
			} else {
				failed = append(failed, ev.Package)
			}
			delete(buf, k)
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(out, "testcheck: reading go test -json: %v\n", err)
		return 1
	}
	status := 0
	if len(skipped) > 0 {
		fmt.Fprintf(out, "\n%d test(s) skipped; every test must run here:\n", len(skipped))
		for _, s := range skipped {
			fmt.Fprintln(out, s)
		}
		status = 1
	}
	if len(failed) > 0 {
		fmt.Fprintf(out, "\n%d test(s) or package(s) failed:\n  %s\n", len(failed), strings.Join(failed, "\n  "))
		status = 1
	}
	if passed == 0 {
		fmt.Fprintln(out, "testcheck: no test ran")
		status = 1
	}
	return status
}

func indent(s string) string {
	if s == "" {
		return "    (no reason given)"
	}
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		b.WriteString("    " + strings.TrimSpace(l) + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}
