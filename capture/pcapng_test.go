package capture

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// tsharkFields runs tshark -r path -T fields with one -e per field and
// returns its rows. It fails the test if tshark does not read the file.
func tsharkFields(t *testing.T, path, displayFilter string, fields ...string) [][]string {
	t.Helper()
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Fatalf("tshark is needed as the reference: %v", err)
	}
	args := []string{"-r", path, "-T", "fields"}
	if displayFilter != "" {
		args = append(args, "-Y", displayFilter)
	}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(tshark, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	var rows [][]string
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if line != "" {
			rows = append(rows, strings.Split(line, "\t"))
		}
	}
	return rows
}

// Records that say more bytes were captured than the frame had on the wire
// are read whole, their original length taken as the captured length, and
// counted. tshark reads them too, dissecting every captured byte (its
// frame.len keeps the header's value; tcpdump skips them).
func TestCaptureLongerThanOriginal(t *testing.T) {
	pcap := newPcap(layers.LinkTypeEthernet).frame(1, frameA).
		record(2, 0, uint32(len(frameA)), 30, frameA).
		record(3, 0, uint32(len(frameB)), 0, frameB).Bytes()
	ng := newNg(binary.BigEndian).ifaceSnap(layers.LinkTypeEthernet, 0).epb(0, 1e6, frameA).
		epbLen(0, 2e6, frameA, uint32(len(frameA)), 30).
		epbLen(0, 3e6, frameB, uint32(len(frameB)), 0).Bytes()
	for name, file := range map[string][]byte{"long.pcap": pcap, "long.pcapng": ng} {
		path := writeTemp(t, name, file)
		f, err := OpenFile(path, "")
		if err != nil {
			t.Fatal(err)
		}
		ts := tsharkFields(t, path, "", "frame.number", "frame.len", "frame.cap_len", "frame.protocols")
		headerLen := []string{"42", "30", "0"}
		for i, data := range [][]byte{frameA, frameA, frameB} {
			got, ci, err := f.Next()
			if err != nil {
				t.Fatalf("%s frame %d: %v", name, i+1, err)
			}
			if !bytes.Equal(got, data) || ci.CaptureLength != len(data) || ci.Length != len(data) {
				t.Errorf("%s frame %d: %d bytes, captured %d, length %d; want %d of each", name, i+1, len(got), ci.CaptureLength, ci.Length, len(data))
			}
			if row := ts[i]; row[2] != fmt.Sprint(len(data)) || row[1] != headerLen[i] || !strings.HasPrefix(row[3], "eth:ethertype:") {
				t.Errorf("%s frame %d: tshark says length %s, captured %s, %s; want %s, %d, dissected", name, i+1, row[1], row[2], row[3], headerLen[i], len(data))
			}
		}
		want := "2 records said more bytes were captured than the frame had on the wire; they were read whole, their original length taken as the captured length."
		if notes := f.Notes(); len(notes) != 1 || notes[0] != want {
			t.Errorf("%s: notes %q, want %q", name, notes, want)
		}
		f.Close()
	}
}
