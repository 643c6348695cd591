package analyze_test

import (
	"bytes"
	"io"
	"net/netip"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/vrrpctl/vrrpctl/analyze"
	"github.com/vrrpctl/vrrpctl/capture"
	"github.com/vrrpctl/vrrpctl/decode"
)

// replay is a PacketSource over frames held in memory, repeated n times with
// times shifted so they stay monotonic.
type replay struct {
	frames [][]byte
	cis    []gopacket.CaptureInfo
	lt     layers.LinkType
	n, i   int
	round  int
	span   time.Duration
}

func (r *replay) LinkType() layers.LinkType { return r.lt }

func (r *replay) Next() ([]byte, gopacket.CaptureInfo, error) {
	if r.i == len(r.frames) {
		r.i = 0
		r.round++
		if r.round == r.n {
			return nil, gopacket.CaptureInfo{}, io.EOF
		}
	}
	ci := r.cis[r.i]
	ci.Timestamp = ci.Timestamp.Add(time.Duration(r.round) * r.span)
	data := r.frames[r.i]
	r.i++
	return data, ci, nil
}

func loadReplay(tb testing.TB, path string, rounds int) *replay {
	tb.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	src, err := capture.OpenReader(path, bytes.NewReader(raw), "")
	if err != nil {
		tb.Fatal(err)
	}
	r := &replay{lt: src.LinkType(), n: rounds}
	for {
		data, ci, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		r.frames = append(r.frames, append([]byte(nil), data...))
		r.cis = append(r.cis, ci)
	}
	r.span = r.cis[len(r.cis)-1].Timestamp.Sub(r.cis[0].Timestamp) + 5*time.Second
	return r
}

// BenchmarkEngine is the per-frame cost of decode + engine over the failover
// capture replayed (one op = one frame).
func BenchmarkEngine(b *testing.B) {
	r := loadReplay(b, "../testdata/failover.pcap", 1)
	r.n = b.N/len(r.frames) + 1
	b.ReportAllocs()
	b.ResetTimer()
	if _, err := analyze.Run(r, analyze.Options{}); err != nil {
		b.Fatal(err)
	}
}

// Frames that are not VRRP, IGMP or ARP and not for a VIP cost the engine no
// allocation: a busy interface does not make the heap grow.
func TestFeedUnrelatedFramesAllocatesNothing(t *testing.T) {
	e := analyze.NewEngine(analyze.Options{})
	dec, err := decode.NewDecoder(layers.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	buf := gopacket.NewSerializeBuffer()
	eth := &layers.Ethernet{SrcMAC: []byte{2, 0, 0, 0, 0, 1}, DstMAC: []byte{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: []byte{10, 0, 0, 1}, DstIP: []byte{10, 0, 0, 2}}
	udp := &layers.UDP{SrcPort: 1000, DstPort: 53}
	udp.SetNetworkLayerForChecksum(ip)
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, udp, gopacket.Payload(make([]byte, 100))); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	ci := gopacket.CaptureInfo{Timestamp: time.Unix(1700000000, 0), CaptureLength: len(data), Length: len(data)}
	var f decode.Frame
	n := uint64(0)
	allocs := testing.AllocsPerRun(1000, func() {
		n++
		ci.Timestamp = ci.Timestamp.Add(time.Millisecond)
		if err := dec.Decode(data, ci, n, &f); err != nil {
			t.Fatal(err)
		}
		e.Feed(&f)
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per unrelated frame, want 0", allocs)
	}
}

// The engine's memory does not grow with the number of frames: 200 rounds of
// the failover story leave the heap about where 20 rounds did.
func TestEngineMemoryIsBounded(t *testing.T) {
	heapAfter := func(rounds int) uint64 {
		r := loadReplay(t, "../testdata/failover.pcap", rounds)
		e := analyze.NewEngine(analyze.Options{})
		dec, _ := decode.NewDecoder(r.lt)
		var f decode.Frame
		num := uint64(0)
		for {
			data, ci, err := r.Next()
			if err == io.EOF {
				break
			}
			num++
			if dec.Decode(data, ci, num, &f) == nil {
				e.Feed(&f)
			}
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		_ = e.Groups() // the engine stays alive through the measurement
		return ms.HeapAlloc
	}
	small, large := heapAfter(20), heapAfter(200)
	// 10x the frames; the timeline is capped, state is per router and client.
	if large > small*3+8<<20 {
		t.Errorf("heap after 200 rounds %d KiB, after 20 rounds %d KiB: memory grows with frames", large>>10, small>>10)
	}
}

// BenchmarkFloodOfGroups is the engine's cost of an advert for a virtual
// router it has not seen, the table of virtual routers full (one op = one
// advert; every VRID on VLANs 1..4000, round-robin).
func BenchmarkFloodOfGroups(b *testing.B) {
	e := analyze.NewEngine(analyze.Options{})
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	v := decode.VRRP{Version: 2, Type: 1, Priority: 100, CountAddr: 1, AdverInt: 1, Addrs: make([]netip.Addr, 1)}
	f := decode.Frame{LinkType: 1, HasDstMAC: true, Kind: decode.KindVRRP, VRRP: &v, VRRPChecksum: decode.ChecksumOK,
		IP: decode.IPHeader{Version: 4, Dst: netip.MustParseAddr("224.0.0.18"), TTL: 255, Protocol: 112}}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		vlan, vrid := uint16(1+i/255%4000), uint8(1+i%255)
		f.Number, f.Time, f.VLAN = uint64(i+1), t0.Add(time.Duration(i)*30*time.Microsecond), vlan
		f.SrcMAC = decode.MAC{0x02, 0x56, byte(vlan >> 8), byte(vlan), 0, 1}
		f.IP.Src = netip.AddrFrom4([4]byte{100, 64 | byte(vlan>>8), byte(vlan), 1})
		v.VRID = vrid
		v.Addrs[0] = netip.AddrFrom4([4]byte{10, byte(vlan >> 8), byte(vlan), vrid})
		e.Feed(&f)
	}
}
