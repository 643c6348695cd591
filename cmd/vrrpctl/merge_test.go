package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vrrpctl/vrrpctl/merge"
)

// The rule that tells captures from the filter expression.
func TestSplitCaptures(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, f := range []string{"a.pcap", "b.pcap", "host"} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Mkdir("vrrp", 0o755) // a directory is not a capture
	in := func(pairs ...string) []merge.Input {
		var out []merge.Input
		for _, p := range pairs {
			name, path, ok := strings.Cut(p, "=")
			if !ok {
				name, path = "", p
			}
			out = append(out, merge.Input{Name: name, Path: path})
		}
		return out
	}
	for _, tc := range []struct {
		args   []string
		dash   int
		reads  []string
		inputs []merge.Input
		filter string
	}{
		// The one-file forms, as before.
		{[]string{"a.pcap"}, -1, nil, in("a.pcap"), ""},
		{[]string{"a.pcap", "vlan", "10"}, -1, nil, in("a.pcap"), "vlan 10"},
		{[]string{"nope.pcap", "vrrp"}, -1, nil, in("nope.pcap"), "vrrp"},
		{[]string{"-", "vrrp"}, -1, nil, in("-"), "vrrp"},
		{nil, -1, []string{"a.pcap"}, in("a.pcap"), ""},
		{[]string{"b.pcap", "vrrp"}, -1, []string{"a.pcap"}, in("a.pcap"), "b.pcap vrrp"},
		// Several captures: while they are files, - or NAME=FILE.
		{[]string{"a.pcap", "b.pcap", "vrrp", "or", "arp"}, -1, nil, in("a.pcap", "b.pcap"), "vrrp or arp"},
		{[]string{"client=a.pcap", "nat2=b.pcap"}, -1, nil, in("client=a.pcap", "nat2=b.pcap"), ""},
		{[]string{"a.pcap", "nat2=b.pcap", "ether[0]=1"}, -1, nil, in("a.pcap", "nat2=b.pcap"), "ether[0]=1"},
		{[]string{"a.pcap", "nat2=nope.pcap", "vrrp"}, -1, nil, in("a.pcap"), "nat2=nope.pcap vrrp"},
		{[]string{"a.pcap", "b.pcap", "host", "10.0.0.5"}, -1, nil, in("a.pcap", "b.pcap", "host"), "10.0.0.5"},
		// -- ends the captures: a filter word that is a file name.
		{[]string{"a.pcap", "b.pcap", "host", "10.0.0.5"}, 2, nil, in("a.pcap", "b.pcap"), "host 10.0.0.5"},
		{[]string{"a.pcap", "x=nope.pcap", "vrrp"}, 2, nil, in("a.pcap", "x=nope.pcap"), "vrrp"},
		// Repeated -r.
		{[]string{"vrrp"}, -1, []string{"a.pcap", "nat2=b.pcap"}, in("a.pcap", "nat2=b.pcap"), "vrrp"},
	} {
		inputs, filter := splitCaptures(tc.args, tc.dash, tc.reads)
		if !reflect.DeepEqual(inputs, tc.inputs) || filter != tc.filter {
			t.Errorf("args %q, -- at %d, -r %q: captures %v, filter %q; want %v, %q", tc.args, tc.dash, tc.reads, inputs, filter, tc.inputs, tc.filter)
		}
	}
}

func logs(incident, file string) string { return ref(filepath.Join("logs", incident, file)) }

// Several captures of one incident are analyzed as one, with their
// sources; one of another incident is analyzed on its own, after; the
// exit status is the worst of all.
func TestAnalyzeSeveral(t *testing.T) {
	inc := "vmac-failover"
	alone := decodeJSON(t, run(t, nil, "analyze", "--json", ref(inc+".pcap")).stdout)
	r := run(t, nil, "analyze", "--json", "client="+ref(inc+".pcap"), logs(inc, "port-nat1.pcap"), "nat2="+logs(inc, "port-nat2.pcap"))
	if r.code == 3 {
		t.Fatalf("exit 3: %s", r.stderr)
	}
	a := decodeJSON(t, r.stdout)
	if len(a.Sources) != 3 || a.Sources[0].Name != "client" || !a.Sources[0].Reference || a.Sources[1].Name != "port-nat1" ||
		a.Sources[2].Name != "nat2" || a.Sources[2].Inferred != "given" || !a.Sources[1].Aligned || !a.Sources[2].Aligned || a.Unaligned != nil {
		t.Errorf("sources %+v, %d unaligned", a.Sources, len(a.Unaligned))
	}
	for _, v := range a.Sources[1:] {
		if v.Matched < 3 || v.ErrorMS > 1 || v.OffsetMS > 1 || v.OffsetMS < -1 {
			t.Errorf("%s: %+v: the ports share the client's clock", v.Name, v)
		}
	}
	if len(a.Failovers) != len(alone.Failovers) {
		t.Errorf("%d failovers merged, %d in the client's capture", len(a.Failovers), len(alone.Failovers))
	}
	if a.Source.Frames <= alone.Source.Frames {
		t.Errorf("%d frames merged, the client's capture alone has %d", a.Source.Frames, alone.Source.Frames)
	}

	other := ref("split-brain.pcap")
	r = run(t, nil, "analyze", "--json", ref(inc+".pcap"), logs(inc, "port-nat1.pcap"), other, "vrrp", "or", "arp")
	a = decodeJSON(t, r.stdout)
	if len(a.Unaligned) != 1 || a.Unaligned[0].Source.File != other || a.Unaligned[0].Timeline == nil || a.Sources[2].Aligned {
		t.Fatalf("unaligned %d, sources %+v", len(a.Unaligned), a.Sources)
	}
	if r.code != 2 || !strings.Contains(r.stderr, "split-brain ("+other+") was not aligned") {
		t.Errorf("exit %d (the split brain is critical), stderr %q", r.code, r.stderr)
	}
	text := run(t, nil, "analyze", ref(inc+".pcap"), logs(inc, "port-nat1.pcap"), other)
	if n := strings.Count(text.stdout, "vrrpctl analysis  "); n != 2 || !strings.Contains(text.stdout, "vrrpctl analysis  "+other) {
		t.Errorf("the text report has %d analyses, want the merged one and %s:\n%s", n, other, text.stdout)
	}

	// Standard input cannot be one of several captures.
	raw, err := os.ReadFile(ref(inc + ".pcap"))
	if err != nil {
		t.Fatal(err)
	}
	r = run(t, raw, "analyze", "-", logs(inc, "port-nat1.pcap"))
	if r.code != 3 || !strings.Contains(r.stderr, "standard input (-) cannot be one of several captures") {
		t.Errorf("stdin among several: exit %d, %q", r.code, r.stderr)
	}
	// -r, repeated, names captures too; every argument is the filter.
	r = run(t, nil, "analyze", "--json", "-r", ref(inc+".pcap"), "-r", "nat1="+logs(inc, "port-nat1.pcap"), "vrrp")
	a = decodeJSON(t, r.stdout)
	if len(a.Sources) != 2 || a.Sources[1].Name != "nat1" || a.Source.Frames == 0 {
		t.Errorf("-r twice: sources %+v, %d frames", a.Sources, a.Source.Frames)
	}
}
