package pcapgen

import (
	"bytes"
	"math/rand/v2"
	"net"
	"slices"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/vrrpctl/vrrpctl/vrrp"
)

// A Vantage is a capture taken on one host's interface: it holds the frames
// the host sent and those the segment delivered to it (broadcast,
// multicast, unicast to its MAC, and to the virtual router MAC while it
// holds the VIP), less those a Drop rule lost on the way. Its clock may be
// off: Offset is added to every timestamp, and each gets up to Jitter more.
type Vantage struct {
	Name   string
	Host   *Host
	Offset time.Duration
	Jitter time.Duration
}

// Drop makes the segment lose frames on their way to a host, as a switch
// or firewall rule would: rule returns true for a frame f not delivered to
// to. The sender's own capture still holds the frame.
func (w *Writer) Drop(rule func(f *Frame, to *Host) bool) { w.drops = append(w.drops, rule) }

// Sees reports whether the capture on h holds f.
func (w *Writer) Sees(h *Host, f *Frame) bool {
	if f.host == h {
		return true
	}
	if !w.delivered(f, h) {
		return false
	}
	for _, drop := range w.drops {
		if drop(f, h) {
			return false
		}
	}
	return true
}

// delivered reports whether the segment takes f to h at all.
func (w *Writer) delivered(f *Frame, h *Host) bool {
	switch {
	case len(f.dst) == 0:
		return false
	case f.dst[0]&1 == 1: // broadcast and multicast
		return true
	case bytes.Equal(f.dst, h.MAC):
		return true
	}
	// Unicast to a virtual router MAC reaches whoever holds its VIPs.
	if _, _, ok := vrrp.ParseVirtualMAC([6]byte(f.dst)); ok {
		for i := range w.owners {
			o := &w.owners[i]
			if o.r.Host == h && o.r.VirtualMAC && f.At >= o.from && f.At < o.to && bytes.Equal(f.dst, virtualMAC(o.r)) {
				return true
			}
		}
	}
	return false
}

func virtualMAC(r *Router) net.HardwareAddr {
	m := vrrp.VirtualMAC(r.VRID, r.IPv6)
	return net.HardwareAddr(m[:])
}

// View returns the capture taken at v, in the Writer's format and link
// type, with v's clock error applied.
func (w *Writer) View(v Vantage) ([]byte, error) {
	if w.err != nil {
		return nil, w.err
	}
	rng := rand.New(rand.NewPCG(uint64(len(v.Name)), 0x76616e74))
	var buf bytes.Buffer
	write, flush, err := w.packetWriter(&buf)
	if err != nil {
		return nil, err
	}
	for _, f := range w.Frames() {
		if !w.Sees(v.Host, f) {
			continue
		}
		at := f.At + v.Offset
		if v.Jitter > 0 {
			at += time.Duration(rng.Int64N(int64(v.Jitter)))
		}
		ci := gopacket.CaptureInfo{Timestamp: w.Time(at), CaptureLength: len(f.Data), Length: len(f.Data)}
		if err := write(ci, f.Data); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), flush()
}

// packetWriter returns the writer of the Writer's file format.
func (w *Writer) packetWriter(buf *bytes.Buffer) (write func(gopacket.CaptureInfo, []byte) error, flush func() error, err error) {
	if w.format == PCAPNG {
		ng, err := pcapgo.NewNgWriter(buf, w.link.gopacket())
		if err != nil {
			return nil, nil, err
		}
		return ng.WritePacket, ng.Flush, nil
	}
	pw := pcapgo.NewWriter(buf)
	if err := pw.WriteFileHeader(262144, w.link.gopacket()); err != nil {
		return nil, nil, err
	}
	return pw.WritePacket, func() error { return nil }, nil
}

// SeenBy lists the names of the vantages whose capture holds f.
func (w *Writer) SeenBy(f *Frame, vs []Vantage) []string {
	var out []string
	for _, v := range vs {
		if w.Sees(v.Host, f) {
			out = append(out, v.Name)
		}
	}
	return slices.Clip(out)
}
