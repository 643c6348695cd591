package watch

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/vrrpctl/vrrpctl/analyze"
)

// metrics serves what the watcher knows as Prometheus metrics. The watch loop
// updates a snapshot; scrapes read it under a lock, so the engine is only
// ever touched by the loop.
type metrics struct {
	srv *http.Server
	ln  net.Listener

	mu        sync.Mutex
	groups    []analyze.Group
	frames    uint64
	received  uint64
	dropped   uint64
	haveStats bool
	failovers map[[4]string]uint64 // vrid, vlan, family, cause
	findings  map[[2]string]uint64 // code, severity
	evictions []analyze.Eviction
}

var (
	descMaster = prometheus.NewDesc("vrrpctl_master",
		"1 for the router that is master of the virtual router, by its primary IP and MAC.",
		[]string{"vrid", "vlan", "family", "ip", "mac"}, nil)
	descHasMaster = prometheus.NewDesc("vrrpctl_has_master",
		"1 when the virtual router has a master, 0 when none advertises.",
		[]string{"vrid", "vlan", "family"}, nil)
	descLastAdvert = prometheus.NewDesc("vrrpctl_last_advert_timestamp_seconds",
		"When the speaker last advertised, in Unix seconds.",
		[]string{"vrid", "vlan", "family", "ip"}, nil)
	descAdverts = prometheus.NewDesc("vrrpctl_adverts_total",
		"VRRP adverts seen, by speaker.",
		[]string{"vrid", "vlan", "family", "ip"}, nil)
	descPriority = prometheus.NewDesc("vrrpctl_priority",
		"Last non-zero priority the speaker advertised.",
		[]string{"vrid", "vlan", "family", "ip"}, nil)
	descFailovers = prometheus.NewDesc("vrrpctl_failovers_total",
		"Changes of master, by cause (resign, master-down, preempt, unknown).",
		[]string{"vrid", "vlan", "family", "cause"}, nil)
	descFindings = prometheus.NewDesc("vrrpctl_findings_total",
		"Findings made, by code and severity.",
		[]string{"code", "severity"}, nil)
	descFrames = prometheus.NewDesc("vrrpctl_capture_frames_total",
		"Frames read from the capture.", nil, nil)
	descReceived = prometheus.NewDesc("vrrpctl_capture_received_total",
		"Frames that passed the capture filter, as libpcap counts them.", nil, nil)
	descDropped = prometheus.NewDesc("vrrpctl_capture_dropped_total",
		"Frames libpcap or the kernel dropped for lack of buffer space.", nil, nil)
	descEvictions = prometheus.NewDesc("vrrpctl_watch_evictions_total",
		"Entries the engine evicted from a bounded table (the least recently used) to stay within its limit.",
		[]string{"table"}, nil)
	descTableLimit = prometheus.NewDesc("vrrpctl_watch_table_limit",
		"The most entries a bounded table of the engine holds.",
		[]string{"table"}, nil)
)

// startMetrics listens on addr and serves /metrics.
func startMetrics(addr string) (*metrics, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	m := &metrics{ln: ln, failovers: map[[4]string]uint64{}, findings: map[[2]string]uint64{}}
	reg := prometheus.NewRegistry()
	reg.MustRegister(m)
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	m.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	// Serve returns when the server is shut down; a failure of the listener
	// afterwards ends the metrics, never the watch.
	go m.srv.Serve(ln)
	return m, nil
}

// Addr is the address actually listened on (useful with port 0).
func (m *metrics) Addr() string { return m.ln.Addr().String() }

func (m *metrics) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	m.srv.Shutdown(ctx)
}

func (m *metrics) update(groups []analyze.Group, frames, received, dropped uint64, haveStats bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.groups, m.frames = groups, frames
	if haveStats {
		m.received, m.dropped, m.haveStats = received, dropped, true
	}
}

// evicted records the engine's bounded tables and their eviction counts.
func (m *metrics) evicted(ev []analyze.Eviction) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.evictions = ev
}

func (m *metrics) failover(fo analyze.Failover) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failovers[[4]string{strconv.Itoa(fo.VRID), strconv.Itoa(fo.VLAN), fo.Family, fo.Cause}]++
}

func (m *metrics) finding(f analyze.Finding) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.findings[[2]string{f.Code, string(f.Severity)}]++
}

// Describe and Collect make metrics a prometheus.Collector.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descMaster, descHasMaster, descLastAdvert, descAdverts, descPriority,
		descFailovers, descFindings, descFrames, descReceived, descDropped, descEvictions, descTableLimit} {
		ch <- d
	}
}

func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	defer m.mu.Unlock()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	for _, g := range m.groups {
		vrid, vlan := strconv.Itoa(g.VRID), strconv.Itoa(g.VLAN)
		has := 0.0
		if g.Master != nil {
			has = 1
			gauge(descMaster, 1, vrid, vlan, g.Family, g.Master.IP, g.Master.MAC)
		}
		gauge(descHasMaster, has, vrid, vlan, g.Family)
		for _, s := range g.Speakers {
			counter(descAdverts, float64(s.Adverts), vrid, vlan, g.Family, s.IP)
			gauge(descPriority, float64(s.Priority), vrid, vlan, g.Family, s.IP)
			if !s.LastAdvert.IsZero() {
				gauge(descLastAdvert, float64(s.LastAdvert.UnixNano())/1e9, vrid, vlan, g.Family, s.IP)
			}
		}
	}
	for k, v := range m.failovers {
		counter(descFailovers, float64(v), k[0], k[1], k[2], k[3])
	}
	for k, v := range m.findings {
		counter(descFindings, float64(v), k[0], k[1])
	}
	for _, ev := range m.evictions {
		counter(descEvictions, float64(ev.Evicted), ev.Table)
		gauge(descTableLimit, float64(ev.Limit), ev.Table)
	}
	counter(descFrames, float64(m.frames))
	if m.haveStats {
		counter(descReceived, float64(m.received))
		counter(descDropped, float64(m.dropped))
	}
}
