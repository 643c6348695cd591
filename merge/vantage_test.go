package merge

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// dnsQuery is a unicast frame from the client to a server no router sees.
func dnsQuery(id uint16) []byte {
	b := ethIPv4(nil, []byte{0x02, 0, 0, 0, 0, 0x53}, 17, id, [4]byte{192, 168, 33, 2}, [4]byte{192, 168, 33, 1}, 8+12)
	b = binary.BigEndian.AppendUint16(b, 40000+id)
	b = binary.BigEndian.AppendUint16(b, 53)
	b = binary.BigEndian.AppendUint16(b, 20)
	b = binary.BigEndian.AppendUint16(b, 0)
	return binary.BigEndian.AppendUint32(append(b, 0, 0, 0, 0, 0, 0, 0, 0), uint32(id))
}

// Where a capture was taken is found in the file: a pcapng interface's
// description, the source of a Linux cooked capture's outgoing frames, the
// host whose own conversations only this capture has; else its file name.
// A given name always wins.
func TestVantageNames(t *testing.T) {
	inc := "vmac-failover"
	dir := t.TempDir()
	queries := 0
	client := rewrite(t, clientOf(inc), xform{seed: 1, extra: func(n int, data []byte) [][]byte {
		if n%3 != 0 {
			return nil
		}
		queries++
		return [][]byte{dnsQuery(uint16(n))}
	}})
	desc := rewrite(t, port(inc, "nat1"), xform{ng: true, ifName: "eth1", ifDesc: "nat1 towards the clients", offset: time.Second})
	out := rewrite(t, port(inc, "nat2"), xform{sll2: true, outgoing: true, offset: -time.Minute})
	m, err := Open([]Input{{Path: client}, {Path: desc}, {Path: out}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	vs := m.Vantages()
	m.Close()
	want := [][2]string{
		{"192.168.33.2", "own frames of 192.168.33.2"},
		{"nat1 towards the clients", `interface description "nat1 towards the clients"`},
		{"192.168.33.102", "outgoing frames of 192.168.33.102"},
	}
	for i, w := range want {
		if vs[i].Name != w[0] || vs[i].Inferred != w[1] || !vs[i].Aligned {
			t.Errorf("capture %d: %q (%s), aligned %v; want %q (%s)", i, vs[i].Name, vs[i].Inferred, vs[i].Aligned, w[0], w[1])
		}
	}
	t.Logf("%d queries to a server only the client sees", queries)

	// Given names win; file names otherwise; alike file names are told
	// apart by their paths.
	other := filepath.Join(dir, "b", filepath.Base(port(inc, "nat1")))
	os.MkdirAll(filepath.Dir(other), 0o755)
	raw, _ := os.ReadFile(port(inc, "nat1"))
	os.WriteFile(other, raw, 0o644)
	m, err = Open([]Input{{Name: "here", Path: clientOf(inc)}, {Path: port(inc, "nat1")}, {Path: other}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	vs = m.Vantages()
	m.Close()
	if vs[0].Name != "here" || vs[0].Inferred != "given" || vs[1].Name != port(inc, "nat1") || vs[2].Name != other || vs[1].Inferred != "file name" {
		t.Errorf("names %q %q %q (%s)", vs[0].Name, vs[1].Name, vs[2].Name, vs[1].Inferred)
	}
	m, err = Open([]Input{{Path: clientOf(inc)}, {Path: port(inc, "nat2")}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	vs = m.Vantages()
	m.Close()
	if vs[0].Name != inc || vs[1].Name != "port-nat2" || vs[0].Inferred != "file name" {
		t.Errorf("names %+v", vs)
	}
	if _, err := Open([]Input{{Name: "a", Path: clientOf(inc)}, {Name: "a", Path: other}}, Options{}); err == nil || !strings.Contains(err.Error(), `two captures named "a"`) {
		t.Errorf("two captures of one name: %v", err)
	}
}

// Standard input cannot be one of several captures; a file that is not a
// capture, or a bad filter, stops everything with the file's name; a
// capture damaged part way is read up to the damage and says so.
func TestBadInputs(t *testing.T) {
	inc := "frr-v3-ipv4"
	if _, err := Open([]Input{{Path: "-"}, {Path: clientOf(inc)}}, Options{}); !errors.Is(err, ErrStdin) {
		t.Errorf("stdin among several: %v", err)
	}
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte("# not a capture\n"), 0o644)
	if _, err := Open([]Input{{Path: clientOf(inc)}, {Path: text}}, Options{}); err == nil || !strings.Contains(err.Error(), "notes.txt: not a pcap or pcapng file") {
		t.Errorf("a text file: %v", err)
	}
	if _, err := Open([]Input{{Path: clientOf(inc)}, {Path: port(inc, "nat1")}}, Options{Filter: "vrrp and"}); err == nil || !strings.Contains(err.Error(), "bad filter") {
		t.Errorf("a bad filter: %v", err)
	}
	raw, err := os.ReadFile(port(inc, "nat1"))
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.pcap")
	os.WriteFile(cut, raw[:len(raw)/2+5], 0o644)
	m, err := Open([]Input{{Path: clientOf(inc)}, {Path: cut}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	v := m.Vantages()[1]
	if !v.Damaged || !strings.Contains(v.ReadError, "cut.pcap: frame ") || !v.Aligned || v.Frames == 0 {
		t.Errorf("the cut capture: %+v", v)
	}
	n := 0
	for _, f := range drain(t, m) {
		for _, s := range f.seen {
			if s.Vantage == 1 {
				n++
			}
		}
	}
	if uint64(n) != v.Frames {
		t.Errorf("%d frames of the cut capture merged, %d read before the damage", n, v.Frames)
	}
}
