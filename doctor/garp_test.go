package doctor

import (
	"fmt"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/vrrpctl/vrrpctl/kaconf"
)

// TestPredictArticle pins the schedule of the article's settings (advert_int
// 5, vrrp_garp_interval 4, vrrp_garp_master_refresh 6) in keepalived 2.2.7
// and 2.3.2.
func TestPredictArticle(t *testing.T) {
	cfg, err := kaconf.ParseFile("../testdata/keepalived/article-nat1.conf")
	if err != nil {
		t.Fatal(err)
	}
	in := cfg.Instances[0]
	s := PredictGARP(in, Version{2, 2, 7})
	if got, want := moments(s.GARPs, 45000), "0 4 9 14 20 30 40"; got != want {
		t.Errorf("2.2.7: GARPs at %s s, want %s", got, want)
	}
	if !s.Irregular || len(s.Why) < 2 {
		t.Errorf("2.2.7: irregular %v, why %q", s.Irregular, s.Why)
	}
	s = PredictGARP(in, Version{2, 3, 2})
	if got, want := moments(s.GARPs, 45000), "0 4 9 16 22 28 34 40"; got != want {
		t.Errorf("2.3.2: GARPs at %s s, want %s", got, want)
	}
	// keepalived's defaults: 5 in one instant, 5 more 5 s later.
	def := &kaconf.Instance{Name: "VI_1", AdvertInt: time.Second, GARP: kaconf.GARP{MasterRepeat: 5, MasterDelay: 5 * time.Second, MasterRefreshRepeat: 1},
		VIPs: []kaconf.VIP{{Prefix: netip.MustParsePrefix("192.168.33.100/24")}}}
	s = PredictGARP(def, DefaultVersion)
	if len(s.GARPs) != 10 || s.GARPs[4].OffsetMS != 0 || s.GARPs[5].OffsetMS != 5000 || s.Irregular {
		t.Errorf("defaults: %+v", s.GARPs)
	}
}

func moments(gs []ScheduledGARP, untilMS float64) string {
	var out []string
	last := -1.0
	for _, g := range gs {
		if g.OffsetMS > untilMS || last >= 0 && g.OffsetMS-last < 1 {
			continue
		}
		last = g.OffsetMS
		out = append(out, fmt.Sprintf("%g", g.OffsetMS/1000))
	}
	return strings.Join(out, " ")
}

// capturedRun is one mastership in a capture: the router's first and last
// advert and the GARPs it sent meanwhile.
type capturedRun struct {
	router     netip.Addr
	start, end time.Time
	garps      []time.Time
}

// masterships reads a capture of keepalived (no virtual MAC) and returns
// each router's runs of adverts (a gap of three intervals or a priority-0
// advert ends one) with the GARPs from its MAC.
func masterships(t *testing.T, path string, interval func(netip.Addr) time.Duration) []capturedRun {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	macOf := map[string]netip.Addr{}
	open := map[netip.Addr]*capturedRun{}
	last := map[netip.Addr]time.Time{}
	var runs []*capturedRun
	type garp struct {
		mac string
		t   time.Time
	}
	var garps []garp
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		p := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
		eth, _ := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
		if arp, ok := p.Layer(layers.LayerTypeARP).(*layers.ARP); ok && eth != nil {
			if arp.Operation == layers.ARPRequest && string(arp.SourceProtAddress) == string(arp.DstProtAddress) {
				garps = append(garps, garp{eth.SrcMAC.String(), ci.Timestamp})
			}
			continue
		}
		ip, ok := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		if !ok || ip.Protocol != 112 || len(ip.Payload) < 3 {
			continue
		}
		src, _ := netip.AddrFromSlice(ip.SrcIP.To4())
		macOf[eth.SrcMAC.String()] = src
		prio := ip.Payload[2]
		run := open[src]
		if run != nil && ci.Timestamp.Sub(last[src]) > 3*interval(src) {
			run = nil
		}
		if run == nil && prio > 0 {
			run = &capturedRun{router: src, start: ci.Timestamp}
			runs = append(runs, run)
		}
		if run != nil {
			run.end = ci.Timestamp
		}
		open[src], last[src] = run, ci.Timestamp
		if prio == 0 {
			open[src] = nil
		}
	}
	var out []capturedRun
	for _, run := range runs {
		for _, g := range garps {
			if macOf[g.mac] == run.router && !g.t.Before(run.start.Add(-50*time.Millisecond)) && !g.t.After(run.end.Add(50*time.Millisecond)) {
				run.garps = append(run.garps, g.t)
			}
		}
		out = append(out, *run)
	}
	return out
}

// TestPredictCaptures holds the prediction to real keepalived 2.2.7: every
// GARP of every mastership in the reference captures (without contention:
// the split brains add the lower-priority bursts that are not part of the
// schedule) is predicted within one advert interval, and none more.
func TestPredictCaptures(t *testing.T) {
	cases := []struct {
		capture, conf string // conf: the file name before -nat1.conf / -nat2.conf
	}{
		{"failover.pcap", "failover"},
		{"article-garp.pcap", "article"},
		{"v3-100ms.pcap", "v3-100ms"},
		{"client-ignores-garp.pcap", "client-ignores-garp"},
		{"vrrp-strict.pcap", "vrrp-strict"},
	}
	worst := 0.0
	total := 0
	for _, c := range cases {
		t.Run(c.capture, func(t *testing.T) {
			ins := map[netip.Addr]*kaconf.Instance{}
			for i, name := range []string{"nat1", "nat2"} {
				path := filepath.Join("../testdata/keepalived", c.conf+"-"+name+".conf")
				cfg, err := kaconf.ParseFile(path)
				if os.IsNotExist(err) {
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				ins[netip.AddrFrom4([4]byte{192, 168, 33, byte(101 + i)})] = cfg.Instances[0]
			}
			runs := masterships(t, filepath.Join("../testdata", c.capture), func(a netip.Addr) time.Duration {
				if in := ins[a]; in != nil {
					return in.AdvertInt
				}
				return time.Second
			})
			if len(runs) == 0 {
				t.Fatal("no mastership found")
			}
			for _, run := range runs {
				in := ins[run.router]
				if in == nil {
					t.Fatalf("no configuration for %s", run.router)
				}
				s := PredictGARP(in, Version{2, 2, 7})
				span := run.end.Sub(run.start)
				var want []float64
				for _, g := range s.GARPs {
					if g.OffsetMS <= ms(span) {
						want = append(want, g.OffsetMS)
					}
				}
				var got []float64
				for _, g := range run.garps {
					got = append(got, ms(g.Sub(run.start)))
				}
				if len(got) != len(want) {
					t.Errorf("%s master at +%s for %s: %d GARPs at %v ms, predicted %d at %v ms", run.router, run.start.Format("05.000"), span, len(got), got, len(want), want)
					continue
				}
				for i := range got {
					d := math.Abs(got[i] - want[i])
					worst = math.Max(worst, d)
					total++
					if d > ms(in.AdvertInt) {
						t.Errorf("%s GARP %d at +%.1f ms, predicted +%.1f ms: off by more than advert_int %s", run.router, i, got[i], want[i], in.AdvertInt)
					}
				}
				t.Logf("%s master for %s: %d GARPs, predicted at %v ms, seen at %v ms", run.router, span.Round(time.Millisecond), len(got), want, rounded(got))
			}
		})
	}
	t.Logf("%d GARPs predicted, the worst %.1f ms off", total, worst)
}

func rounded(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = math.Round(x*10) / 10
	}
	return out
}
