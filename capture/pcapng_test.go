package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
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

// ngSec is a time in 2026, in seconds, for the timestamps of the files the
// tests write.
const ngSec = 1795633310

// The same VRRP advert and ARP request as frameB and frameA, under each link
// layer a capture on several interfaces meets.
var (
	sll2VRRP = append(mustHex("0800 0000 00000002 0001 02 06 66039a8ff06a 0000"), benchVRRP[14:]...)
	sll2ARP  = append(mustHex("0806 0000 00000002 0001 01 06 4227ce0710a3 0000"), benchARP[14:]...)
	rawVRRP  = benchVRRP[14:]
	usbJunk  = bytes.Repeat([]byte{0x5a}, 64)
)

// mixedFrame is one frame of a pcapng file with interfaces of several link
// types.
type mixedFrame struct {
	iface uint32
	data  []byte
}

var (
	mixedIfaces = []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeLinuxSLL2, layers.LinkTypeRaw, 220 /* Linux USB */, layers.LinkTypeIPv4}
	mixedFrames = []mixedFrame{
		{0, benchVRRP}, {1, sll2VRRP}, {2, rawVRRP}, {3, usbJunk}, {4, rawVRRP},
		{0, benchARP}, {1, sll2ARP}, {3, usbJunk}, {0, benchICMP}, {2, rawVRRP},
	}
	// tshark's encapsulation numbers (WTAP_ENCAP_*) for mixedIfaces.
	wtapEncap = map[layers.LinkType]string{1: "1", 276: "210", 101: "7", 220: "115", 228: "129"}
)

func mixedFile(order binary.AppendByteOrder) []byte {
	n := newNg(order)
	for _, lt := range mixedIfaces {
		n.ifaceSnap(lt, 0)
	}
	for i, fr := range mixedFrames {
		n.epb(fr.iface, ngSec*1e6+uint64(i)*1000, fr.data)
	}
	return n.Bytes()
}

// A pcapng file with interfaces of different link types (dumpcap -i eth0
// -i any) is read to its end; each frame says its own interface's link type,
// and frames are numbered in the whole file, as tshark numbers them.
func TestPcapngMixedLinkTypes(t *testing.T) {
	for _, order := range []binary.AppendByteOrder{binary.LittleEndian, binary.BigEndian} {
		path := writeTemp(t, "mixed.pcapng", mixedFile(order))
		f, err := OpenFile(path, "")
		if err != nil {
			t.Fatal(err)
		}
		if f.LinkType() != layers.LinkTypeEthernet {
			t.Errorf("LinkType %v, want the first interface's, Ethernet", f.LinkType())
		}
		want := tsharkFields(t, path, "", "frame.number", "frame.interface_id", "frame.encap_type", "frame.len", "frame.cap_len", "frame.time_epoch")
		if len(want) != len(mixedFrames) {
			t.Fatalf("tshark read %d frames, the file has %d", len(want), len(mixedFrames))
		}
		for i, fr := range mixedFrames {
			data, ci, err := f.Next()
			if err != nil {
				t.Fatalf("%v frame %d: %v", order, i+1, err)
			}
			lt := mixedIfaces[fr.iface]
			if !bytes.Equal(data, fr.data) || f.FrameLinkType() != lt || ci.InterfaceIndex != int(fr.iface) {
				t.Errorf("%v frame %d: link type %v, interface %d, %d bytes; want %v, %d, %d",
					order, i+1, f.FrameLinkType(), ci.InterfaceIndex, len(data), lt, fr.iface, len(fr.data))
			}
			got := []string{fmt.Sprint(f.Frame()), fmt.Sprint(ci.InterfaceIndex), wtapEncap[f.FrameLinkType()],
				fmt.Sprint(ci.Length), fmt.Sprint(ci.CaptureLength), fmt.Sprintf("%d.%09d", ci.Timestamp.Unix(), ci.Timestamp.Nanosecond())}
			if !slices.Equal(got, want[i]) {
				t.Errorf("%v frame %d: number, interface, encapsulation, length, captured, time\n got %q\nwant %q (tshark)", order, i+1, got, want[i])
			}
		}
		if _, _, err := f.Next(); err != io.EOF {
			t.Errorf("after the last frame: %v, want io.EOF", err)
		}
		if notes := f.Notes(); notes != nil {
			t.Errorf("notes %q, want none", notes)
		}
		f.Close()
	}
}

// A filter is compiled for each link type and matches each frame with the
// program for its interface. Frames of a link type the expression does not
// compile for cannot match it: they are left out and Notes says so. The
// frames chosen are those tshark's equivalent display filter shows.
func TestPcapngMixedLinkTypesFilter(t *testing.T) {
	path := writeTemp(t, "mixed.pcapng", mixedFile(binary.LittleEndian))
	for _, tc := range []struct {
		filter, display string
		note            string // a note that must be given, "" for none
	}{
		{"vrrp", "vrrp", `The filter "vrrp" does not apply to link type USB (USB link-layer type filtering not implemented): 2 frames of that link type left out.`},
		{"arp", "arp", `The filter "arp" does not apply to link type Raw (expression rejects all packets): 2 frames of that link type left out.`},
		{"vrrp or arp", "vrrp || arp", "link type USB"},
		{"src 192.168.33.101", "ip.src == 192.168.33.101", "link type USB"},
		{"ether src 66:03:9a:8f:f0:6a", "eth.src == 66:03:9a:8f:f0:6a", "link type Linux SLL2 (ethernet addresses supported only on"},
		{"len >= 54", "frame.len >= 54", ""},
	} {
		t.Run(tc.filter, func(t *testing.T) {
			var want []frame
			for _, row := range tsharkFields(t, path, tc.display, "frame.number") {
				var n uint64
				fmt.Sscan(row[0], &n)
				want = append(want, frame{Number: n})
			}
			f, err := OpenFile(path, tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			all, err := readAll(t, f)
			if err != nil {
				t.Fatal(err)
			}
			var got []frame
			for _, fr := range all {
				got = append(got, frame{Number: fr.Number})
			}
			sameFrames(t, tc.filter, got, want)
			notes := strings.Join(f.Notes(), "\n")
			if tc.note == "" && notes != "" || !strings.Contains(notes, tc.note) {
				t.Errorf("notes %q, want %q", notes, tc.note)
			}
		})
	}
	// On the first interface the expression must compile, as on a pcap file.
	first := newNg(binary.LittleEndian).ifaceSnap(layers.LinkTypeLinuxSLL2, 0).ifaceSnap(layers.LinkTypeEthernet, 0).
		epb(0, 1, sll2VRRP).epb(1, 2, benchVRRP).Bytes()
	_, err := OpenReader("any.pcapng", bytes.NewReader(first), "vlan 10")
	if !errors.Is(err, ErrBadFilter) || !IsUnusable(err) || !strings.Contains(err.Error(), "no VLAN support for Linux cooked v2") {
		t.Errorf("a filter that does not compile for interface 0: %v, want an unusable bad filter", err)
	}
}

// A simple packet block has no timestamp: it takes the time of the packet
// before it in its section (time 0 with none before it). Its captured length
// is its original length cut to interface 0's snaplen and to what the block
// holds; the lengths are those tshark reads.
func TestSimplePacketBlocks(t *testing.T) {
	const t1, t2 = ngSec*1e6 + 250, ngSec*1e6 + 7e6
	n := newNg(binary.LittleEndian).ifaceSnap(layers.LinkTypeEthernet, 80).
		spb(frameA).                 // 1: nothing before it: time 0
		epb(0, t1, frameB).          // 2
		spb(frameA).                 // 3: frame 2's time
		spbLen(benchICMP[:80], 198). // 4: a 198-byte frame cut to the snaplen, 80
		spbLen(benchICMP[:41], 41).  // 5: 41 bytes and 3 of padding
		spbLen(benchICMP[:60], 60)   // 6
	second := newNg(binary.LittleEndian).ifaceSnap(layers.LinkTypeEthernet, 0).
		epb(0, t2, frameA).        // 7
		spbLen(benchICMP[:97], 97) // 8: no snaplen: all 97, then 3 bytes of padding
	file := append(n.Bytes(), second.Bytes()...)
	ts := tsharkFields(t, writeTemp(t, "spb.pcapng", file), "", "frame.number", "frame.len", "frame.cap_len", "frame.time_epoch")
	// 9: a block that holds less than its original length (98 bytes and 2
	// of padding, which nothing tells from data): the reader takes what it
	// holds, tshark refuses the file.
	short := (&ngFile{order: binary.LittleEndian}).spbLen(benchICMP, 142)
	path := writeTemp(t, "spb-short.pcapng", append(file, short.Bytes()...))

	type want struct {
		time          string
		length, capt  int
		tsharkHasTime bool
	}
	wants := []want{
		{"0.000000", 42, 42, false},
		{fmt.Sprintf("%d.000250", ngSec), 54, 54, true},
		{fmt.Sprintf("%d.000250", ngSec), 42, 42, false},
		{fmt.Sprintf("%d.000250", ngSec), 198, 80, false},
		{fmt.Sprintf("%d.000250", ngSec), 41, 41, false},
		{fmt.Sprintf("%d.000250", ngSec), 60, 60, false},
		{fmt.Sprintf("%d.000000", ngSec+7), 42, 42, true},
		{fmt.Sprintf("%d.000000", ngSec+7), 97, 97, false},
		{fmt.Sprintf("%d.000000", ngSec+7), 142, 100, false},
	}
	if len(ts) != len(wants)-1 {
		t.Fatalf("tshark read %d frames, want %d", len(ts), len(wants)-1)
	}
	f, err := OpenFile(path, "")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i, w := range wants {
		data, ci, err := f.Next()
		if err != nil {
			t.Fatalf("frame %d: %v", i+1, err)
		}
		got := fmt.Sprintf("%d.%06d", ci.Timestamp.Unix(), ci.Timestamp.Nanosecond()/1000)
		if got != w.time || ci.Length != w.length || ci.CaptureLength != w.capt || len(data) != w.capt {
			t.Errorf("frame %d: time %s, length %d, captured %d; want %s, %d, %d", i+1, got, ci.Length, ci.CaptureLength, w.time, w.length, w.capt)
		}
		if i == len(ts) {
			break
		}
		if tsl := []string{fmt.Sprint(i + 1), fmt.Sprint(w.length), fmt.Sprint(w.capt)}; !slices.Equal(ts[i][:3], tsl) {
			t.Errorf("frame %d: tshark says number, length, captured %q, want %q", i+1, ts[i][:3], tsl)
		}
		// tshark gives a simple packet block no time at all.
		if hasTime := ts[i][3] != ""; hasTime != w.tsharkHasTime {
			t.Errorf("frame %d: tshark's time %q", i+1, ts[i][3])
		}
	}
	wantNote := "7 frames came in simple packet blocks, which have no timestamp: each was given the time of the packet before it " +
		"in its section. Those with no packet before them in their section (1) got time 0 (1970-01-01 00:00:00 UTC)."
	if notes := f.Notes(); len(notes) != 1 || notes[0] != wantNote {
		t.Errorf("notes %q, want %q", notes, wantNote)
	}
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

// ifaceNamed appends an interface description with if_name and, when not
// empty, if_description.
func (n *ngFile) ifaceNamed(lt layers.LinkType, name, desc string) *ngFile {
	body := n.order.AppendUint16(nil, uint16(lt))
	body = n.order.AppendUint16(body, 0)
	body = n.order.AppendUint32(body, 0)
	for _, o := range []struct {
		code uint16
		v    string
	}{{ngOptIfName, name}, {ngOptIfDesc, desc}} {
		if o.v == "" {
			continue
		}
		body = n.order.AppendUint16(body, o.code)
		body = n.order.AppendUint16(body, uint16(len(o.v)))
		body = pad4(append(body, o.v...))
	}
	body = append(body, 0, 0, 0, 0)
	return n.block(ngInterfaceDesc, body)
}

// Each frame tells the name and description its interface was given, as
// tshark reads them; a pcap file has none.
func TestFrameInterface(t *testing.T) {
	n := newNg(binary.LittleEndian).ifaceNamed(layers.LinkTypeEthernet, "eth1", "nat1 towards the clients").
		ifaceNamed(layers.LinkTypeLinuxSLL2, "any", "").iface(layers.LinkTypeEthernet, -1, 0)
	n.epb(0, ngSec*1e6, benchVRRP).epb(1, ngSec*1e6+1000, sll2VRRP).epb(2, ngSec*1e6+2000, benchARP)
	path := writeTemp(t, "named.pcapng", n.Bytes())
	want := tsharkFields(t, path, "", "frame.interface_name", "frame.interface_description")
	f, err := OpenFile(path, "")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := range 3 {
		if _, _, err := f.Next(); err != nil {
			t.Fatal(err)
		}
		in, ok := f.FrameInterface()
		got := []string{in.Name, in.Description}
		w := append(want[i], "", "")[:2]
		if !ok || !slices.Equal(got, w) || in.LinkType != f.FrameLinkType() {
			t.Errorf("frame %d: interface %+v (%v), want name and description %q (tshark), link type %v", i+1, in, ok, w, f.FrameLinkType())
		}
	}
	p, err := OpenFile(refPath("failover.pcap"), "")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, _, err := p.Next(); err != nil {
		t.Fatal(err)
	}
	if in, ok := p.FrameInterface(); ok {
		t.Errorf("a pcap file's frame has interface %+v", in)
	}
}
