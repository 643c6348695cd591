package main

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/vrrpctl/vrrpctl/analyze"
	"github.com/vrrpctl/vrrpctl/capture"
	"github.com/vrrpctl/vrrpctl/report"
)

// TestReadmeJSONExample keeps the README's JSON example true: every field
// it shows is in what analyze --json prints for the same capture, and every
// field printed is shown (the example abridges lists to one element, so
// the structure is compared, not the values).
func TestReadmeJSONExample(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "### JSON schema `"+analyze.Schema+"`")
	if i < 0 {
		t.Fatal("no JSON schema section in the README")
	}
	j := strings.Index(s[i:], "```json\n")
	k := strings.Index(s[i+j+8:], "```\n")
	if j < 0 || k < 0 {
		t.Fatal("no JSON example in the README's schema section")
	}
	var example any
	if err := json.Unmarshal([]byte(s[i+j+8:i+j+8+k]), &example); err != nil {
		t.Fatalf("the README's JSON example does not parse: %v", err)
	}
	var out bytes.Buffer
	for _, file := range []string{"../../testdata/failover.pcap", "../../testdata/vmac-split-brain.pcap"} {
		src, err := capture.OpenFile(file, "")
		if err != nil {
			t.Fatal(err)
		}
		a, err := analyze.Run(src, analyze.Options{File: file})
		src.Close()
		if err != nil {
			t.Fatal(err)
		}
		out.Reset()
		if err := report.JSON(&out, a); err != nil {
			t.Fatal(err)
		}
		var got any
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		shown, printed := paths(example, ""), paths(got, "")
		for _, p := range printed {
			if !slices.Contains(shown, p) && strings.Contains(file, "failover.pcap") {
				t.Errorf("the README's JSON example lacks %s", p)
			}
		}
		if strings.Contains(file, "split-brain") {
			for _, p := range shown {
				if strings.HasPrefix(p, "split_brains") && !slices.Contains(printed, p) {
					t.Errorf("the README's JSON example shows %s, which analyze --json does not print", p)
				}
			}
		}
	}
}

// paths lists the field paths of a JSON value ("groups[].speakers[].ip"),
// leaving out the keys of optional fields the example need not show.
func paths(v any, prefix string) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			out = append(out, p)
			out = append(out, paths(x, p)...)
		}
	case []any:
		for _, x := range v {
			out = append(out, paths(x, prefix+"[]")...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
