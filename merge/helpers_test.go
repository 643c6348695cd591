package merge

import (
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/vrrpctl/vrrpctl/capture"
)

func ref(name string) string { return filepath.Join("..", "testdata", name) }

// port is a per-bridge-port capture of a recorded incident: the frames one
// router sent, taken on the same host (the same clock) as the client's.
func port(capture, router string) string {
	return filepath.Join("..", "testdata", "logs", capture, "port-"+router+".pcap")
}

// xform says how to rewrite a capture as if another host had taken it.
type xform struct {
	offset   time.Duration // added to every timestamp
	driftPPM float64       // the clock runs this much fast, from the first frame on
	jitter   time.Duration // each timestamp moved by up to ± this (uniform), kept in order
	seed     uint64
	sll2     bool   // write Linux cooked (SLL2) frames, as tcpdump -i any
	outgoing bool   // with sll2: every frame was sent by the capturing host (packet type 4)
	ng       bool   // write pcapng
	ifName   string // its interface's name and description (pcapng)
	ifDesc   string
	keep     func(n int, data []byte) bool // frames to keep (1-based numbers); nil: all
	// extra returns frames to add after frame n (1-based), a microsecond
	// apart.
	extra func(n int, data []byte) [][]byte
}

// rewrite copies a capture with x applied and returns the new file's path.
func rewrite(t testing.TB, in string, x xform) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(in))
	if x.ng {
		out += "ng"
	}
	src, err := capture.OpenFile(in, "")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	fh, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	lt := layers.LinkTypeEthernet
	if x.sll2 {
		lt = layers.LinkTypeLinuxSLL2
	}
	var write func(ci gopacket.CaptureInfo, data []byte) error
	var flush func() error
	if x.ng {
		w, err := pcapgo.NewNgWriterInterface(fh, pcapgo.NgInterface{Name: x.ifName, Description: x.ifDesc, LinkType: lt, SnapLength: 262144, TimestampResolution: 9},
			pcapgo.NgWriterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		write, flush = w.WritePacket, w.Flush
	} else {
		w, err := capture.NewWriter(fh, lt, 0)
		if err != nil {
			t.Fatal(err)
		}
		write, flush = w.WritePacket, w.Flush
	}
	rng := rand.New(rand.NewPCG(x.seed, 1))
	var first, prev int64
	writeOne := func(ci gopacket.CaptureInfo, data []byte) {
		ts := ci.Timestamp.UnixNano()
		if first == 0 {
			first = ts
		}
		ts += int64(x.offset) + int64(x.driftPPM*1e-6*float64(ts-first))
		if x.jitter > 0 {
			ts += int64((rng.Float64()*2 - 1) * float64(x.jitter))
		}
		if prev != 0 && ts <= prev {
			ts = prev + 1
		}
		prev = ts
		ci.Timestamp = time.Unix(0, ts)
		if x.sll2 {
			data = toSLL2(data, x.outgoing)
		}
		ci.CaptureLength, ci.Length = len(data), max(ci.Length, len(data))
		if err := write(ci, data); err != nil {
			t.Fatal(err)
		}
	}
	for n := 1; ; n++ {
		data, ci, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if x.keep != nil && !x.keep(n, data) {
			continue
		}
		frames := [][]byte{data}
		if x.extra != nil {
			frames = append(frames, x.extra(n, data)...)
		}
		for i, data := range frames {
			ci := ci
			ci.Timestamp = ci.Timestamp.Add(time.Duration(i) * time.Microsecond)
			if i > 0 {
				ci.Length = len(data)
			}
			writeOne(ci, data)
		}
	}
	if err := flush(); err != nil {
		t.Fatal(err)
	}
	return out
}

// toSLL2 turns an Ethernet frame into what tcpdump -i any records: the
// SLL2 header, then the frame from its network layer on.
func toSLL2(eth []byte, outgoing bool) []byte {
	h := make([]byte, 20, 20+len(eth))
	copy(h[0:2], eth[12:14])             // protocol
	binary.BigEndian.PutUint32(h[4:], 3) // interface index
	binary.BigEndian.PutUint16(h[8:], 1) // ARPHRD_ETHER
	switch {
	case outgoing:
		h[10] = sllOutgoing
	case eth[0] == 0xff:
		h[10] = 1 // broadcast
	case eth[0]&1 == 1:
		h[10] = 2 // multicast
	default:
		h[10] = 0 // to us
	}
	h[11] = 6
	copy(h[12:18], eth[6:12])
	return append(h, eth[14:]...)
}
