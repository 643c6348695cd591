package vrrpd

import (
	"strings"
	"testing"
	"time"
)

// failoverFigures is one failover between two routers of one
// implementation, as the analyzer saw it from an observer.
type failoverFigures struct {
	takeover, expected, garp, jitter time.Duration
}

// pairFailover runs a master (a, priority 200) and a backup (b, 100) of
// impl ("vrrpd" or "keepalived"), VRRPv3 at 100 ms, captures on a third
// namespace, then stops a (priority 0) or cuts its link and returns the
// analyzer's figures, after checking them against the RFC windows.
func pairFailover(tb testing.TB, impl string, kill bool) failoverFigures {
	tb.Helper()
	const interval = 100 * time.Millisecond
	l := newLab(tb, "a", "b", "c")
	stopCap := l.capture("c")
	ra := labRouter(3, 200, interval, "")
	rb := labRouter(3, 100, interval, "")
	var stopA func()
	var bMaster func() bool
	switch impl {
	case "vrrpd":
		spB, _ := l.speaker("b", rb)
		spA, stop := l.speaker("a", ra)
		stopA = stop
		waitFor(tb, 5*time.Second, "a master with the VIP", func() bool {
			return routerState(spA).State == "MASTER" && l.hasVIP("a", testVIP) && routerState(spB).State == "BACKUP"
		})
		bMaster = func() bool { return routerState(spB).State == "MASTER" }
	case "keepalived":
		_, logB := l.keepalived("b", keepalivedConf(3, rb.Priority, interval, ""))
		cmdA, logA := l.keepalived("a", keepalivedConf(3, ra.Priority, interval, ""))
		stopA = func() { stopProcess(tb, cmdA) }
		waitFor(tb, 10*time.Second, "keepalived a master with the VIP, b backup", func() bool {
			return strings.Contains(logA.String(), "Entering MASTER STATE") && l.hasVIP("a", testVIP) &&
				strings.Contains(logB.String(), "Entering BACKUP STATE")
		})
		bMaster = func() bool { return strings.Contains(logB.String(), "Entering MASTER STATE") }
	default:
		tb.Fatalf("unknown implementation %q", impl)
	}
	time.Sleep(time.Second) // ten adverts for the jitter figure
	if kill {
		l.linkDown("a")
	} else {
		stopA()
	}
	waitFor(tb, 5*time.Second, "b master with the VIP", func() bool { return bMaster() && l.hasVIP("b", testVIP) })
	time.Sleep(200 * time.Millisecond)
	pcap := stopCap()
	f := onlyFailover(tb, analyzeCapture(tb, pcap), l.addrs["a"], l.addrs["b"])
	skew, mdi := timersFor(rb)
	assertTakeover(tb, f, !kill, skew, mdi)
	return failoverFigures{
		takeover: ms(f.DetectMS), expected: ms(f.ExpectedMS), garp: garpLatency(tb, f),
		jitter: advertJitter(readCapture(tb, pcap), l.addrs["a"], interval),
	}
}

// BenchmarkFailover measures, for our speaker and for keepalived in the
// same run, a VRRPv3 100 ms pair seen from an observer: the takeover after
// a priority-0 advert against Skew_Time and after silence against
// Master_Down_Interval (takeover-ms, rfc-ms, and their difference
// late-ms), the new master's first GARP after its first advert (garp-ms),
// and the old master's largest advert period error (jitter-ms). Each
// iteration is a full failover in fresh namespaces (about 2 s), so
// -benchtime=Nx chooses the number of samples:
//
//	go test -run '^$' -bench Failover -benchtime 5x ./vrrpd/
func BenchmarkFailover(b *testing.B) {
	for _, impl := range []string{"vrrpd", "keepalived"} {
		for _, kill := range []bool{false, true} {
			name := impl + "/" + map[bool]string{false: "priority-0", true: "silence"}[kill]
			b.Run(name, func(b *testing.B) {
				var sum failoverFigures
				var worstJitter time.Duration
				for range b.N {
					f := pairFailover(b, impl, kill)
					sum.takeover += f.takeover
					sum.expected += f.expected
					sum.garp += f.garp
					sum.jitter += f.jitter
					worstJitter = max(worstJitter, f.jitter)
				}
				n := float64(b.N)
				b.ReportMetric(0, "ns/op")
				b.ReportMetric(ms64(sum.takeover)/n, "takeover-ms")
				b.ReportMetric(ms64(sum.expected)/n, "rfc-ms")
				b.ReportMetric(ms64(sum.takeover-sum.expected)/n, "late-ms")
				b.ReportMetric(ms64(sum.garp)/n, "garp-ms")
				b.ReportMetric(ms64(sum.jitter)/n, "jitter-ms")
				b.ReportMetric(ms64(worstJitter), "max-jitter-ms")
			})
		}
	}
}
