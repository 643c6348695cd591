package analyze_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vrrpctl/vrrpctl/analyze"
	"github.com/vrrpctl/vrrpctl/decode"
)

// A MAC flood that fills the client table many times over, every host
// sending once to the master of the moment, and among it two hosts that
// keep sending: one that follows the failovers and one whose ARP entry
// keeps the first master's MAC. The stale one is still found, the one that
// follows is never displaced, and the flood's hosts are turned away.
func TestStaleClientInFlood(t *testing.T) {
	const perGap = 1200
	staleMAC := decode.MAC{0x02, 0xaa, 0, 0, 0, 1}
	loyalMAC := decode.MAC{0x02, 0xaa, 0, 0, 0, 2}
	staleIP := netip.MustParseAddr("10.250.0.1")
	loyalIP := netip.MustParseAddr("10.250.0.2")
	e := analyze.NewEngine(analyze.Options{})
	hosts := 0
	request := func(number uint64, at time.Time, lt decode.Frame, src, dst decode.MAC, ip netip.Addr) {
		f := decode.Frame{Number: number, Time: at, LinkType: lt.LinkType, SrcMAC: src, DstMAC: dst, HasDstMAC: true, Kind: decode.KindIP,
			IP: decode.IPHeader{Version: 4, Src: ip, Dst: vip, TTL: 64, Protocol: 1},
			L4: decode.Transport{Protocol: 1, ICMPType: 8}}
		e.Feed(&f)
	}
	replayFailover(t, e, func(prev, next *decode.Frame) {
		master := nat1MAC // the capture's failovers: to nat2 at frame 43, back at 185
		if prev.Number >= 43 && prev.Number < 185 {
			master = nat2MAC
		}
		step := next.Time.Sub(prev.Time) / (perGap + 3)
		for i := range perGap {
			hosts++
			request(prev.Number, prev.Time.Add(time.Duration(i+1)*step), *next, floodMAC(hosts), master,
				netip.AddrFrom4([4]byte{10, byte(hosts >> 16), byte(hosts >> 8), byte(hosts)}))
		}
		request(prev.Number, prev.Time.Add(time.Duration(perGap+1)*step), *next, staleMAC, nat1MAC, staleIP)
		request(prev.Number, prev.Time.Add(time.Duration(perGap+2)*step), *next, loyalMAC, master, loyalIP)
	})
	a := e.Finish()
	if hosts < 2*analyze.MaxClients {
		t.Fatalf("only %d hosts: the flood must overflow the table", hosts)
	}
	var stale []string
	for _, f := range a.Findings {
		if f.Code == analyze.CodeStaleARP {
			stale = append(stale, f.Summary)
		}
	}
	if len(stale) != 1 || !strings.Contains(stale[0], staleIP.String()) {
		t.Errorf("stale-arp findings %q, want one, for %s", stale, staleIP)
	}
	listed := map[string]bool{}
	for _, c := range a.Clients {
		listed[c.IP] = true
	}
	for _, ip := range []netip.Addr{staleIP, loyalIP} {
		if !listed[ip.String()] {
			t.Errorf("%s, which kept sending, is not among the clients listed", ip)
		}
	}
	var turned uint64
	for _, ev := range a.Evictions {
		if ev.Table == "clients" {
			turned = ev.Evicted
		}
	}
	if turned < uint64(hosts-analyze.MaxClients)*9/10 {
		t.Errorf("the clients table turned away or forgot %d hosts of %d, want most of the %d past its limit", turned, hosts, hosts-analyze.MaxClients)
	}
	// Every failover still names the clients that followed it.
	for _, fo := range a.Failovers {
		found := false
		for _, c := range fo.Clients {
			found = found || c.IP == loyalIP.String() && c.SwitchMS != nil
		}
		if !found {
			t.Errorf("failover at frame %d does not list %s switching", fo.Frame, loyalIP)
		}
	}
}

// BenchmarkFeedClientFlood is the engine's cost of a frame from a host never
// seen before, sent to the VIP, once the client table is full.
func BenchmarkFeedClientFlood(b *testing.B) {
	e := analyze.NewEngine(analyze.Options{})
	var last decode.Frame
	replayFailover(&testing.T{}, e, func(prev, next *decode.Frame) { last = *next })
	f := decode.Frame{LinkType: last.LinkType, DstMAC: nat1MAC, HasDstMAC: true, Kind: decode.KindIP,
		IP: decode.IPHeader{Version: 4, Dst: vip, TTL: 64, Protocol: 6}, L4: decode.Transport{Protocol: 6, TCPFlags: 0x02}}
	feed := func(i int) {
		f.Number = last.Number + uint64(i)
		f.Time = last.Time.Add(time.Duration(i) * time.Microsecond)
		f.SrcMAC = floodMAC(i)
		f.IP.Src = netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		e.Feed(&f)
	}
	for i := range 2 * analyze.MaxClients {
		feed(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		feed(2*analyze.MaxClients + i)
	}
}
