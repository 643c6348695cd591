package watch

import (
	"context"
	"maps"
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
	live      []analyze.LiveGroup
	frames    uint64
	received  uint64
	dropped   uint64
	haveStats bool
	failovers map[[4]string]uint64       // vrid, vlan, family, cause
	findings  map[[2]string]uint64       // code, severity
	takeovers map[[4]string]*histogram   // vrid, vlan, family, cause
	last      map[[3]string]lastFailover // vrid, vlan, family
	evictions []analyze.Eviction
}

// lastFailover is the latest change of master of a virtual router.
type lastFailover struct {
	at       time.Time
	took     float64 // seconds, as detect_ms
	expected float64 // the RFC time in seconds; 0 when none applies
}

// histogram counts observations into cumulative buckets, for a const
// histogram.
type histogram struct {
	count   uint64
	sum     float64
	buckets map[float64]uint64
}

func (h *histogram) observe(v float64) {
	h.count++
	h.sum += v
	for _, b := range takeoverBuckets {
		if v <= b {
			h.buckets[b]++
		}
	}
}

// takeoverBuckets span takeovers from a 100 ms VRRPv3 Skew_Time to a 10 s
// VRRPv2 Master_Down_Interval and beyond.
var takeoverBuckets = []float64{0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 5, 7.5, 10, 15, 30}

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

	descSplitBrain = prometheus.NewDesc("vrrpctl_split_brain",
		"1 while two routers hold the virtual router's VIP at once, 0 otherwise.",
		[]string{"vrid", "vlan", "family"}, nil)
	descStaleClients = prometheus.NewDesc("vrrpctl_stale_clients",
		"Clients that, since the last change of master, still send to the old master's MAC (and did so within the last 30 s).",
		[]string{"vrid", "vlan", "family"}, nil)
	descAdvertInterval = prometheus.NewDesc("vrrpctl_advert_interval_seconds",
		"The advert interval the speaker advertises.",
		[]string{"vrid", "vlan", "family", "ip"}, nil)
	descAdvertGaps = prometheus.NewDesc("vrrpctl_advert_gaps_total",
		"Silences of 1.8 advert intervals or more of the speaker while master (the advert-gap finding).",
		[]string{"vrid", "vlan", "family", "ip"}, nil)
	descAdvertsMissed = prometheus.NewDesc("vrrpctl_adverts_missed_total",
		"Adverts the speaker's silences as master lacked, counted in its advertised interval.",
		[]string{"vrid", "vlan", "family", "ip"}, nil)
	descTakeover = prometheus.NewDesc("vrrpctl_takeover_seconds",
		"Time of each change of master, from the old master's last advert (its priority-0 advert for a resign) to the new master's first, by cause.",
		[]string{"vrid", "vlan", "family", "cause"}, nil)
	descLastTakeover = prometheus.NewDesc("vrrpctl_last_takeover_seconds",
		"The takeover time of the virtual router's latest change of master.",
		[]string{"vrid", "vlan", "family"}, nil)
	descLastTakeoverRFC = prometheus.NewDesc("vrrpctl_last_takeover_rfc_seconds",
		"The RFC time of the latest change of master (Skew_Time for a resign, Master_Down_Interval when the master went silent); absent when none applies (a preemption, a new master that was not running).",
		[]string{"vrid", "vlan", "family"}, nil)
	descLastFailover = prometheus.NewDesc("vrrpctl_last_failover_timestamp_seconds",
		"When the latest change of master happened (the new master's first advert), in Unix seconds.",
		[]string{"vrid", "vlan", "family"}, nil)
)

// startMetrics listens on addr and serves /metrics.
func startMetrics(addr string) (*metrics, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	m := &metrics{ln: ln, failovers: map[[4]string]uint64{}, findings: map[[2]string]uint64{},
		takeovers: map[[4]string]*histogram{}, last: map[[3]string]lastFailover{}}
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

func (m *metrics) update(groups []analyze.Group, live []analyze.LiveGroup, frames, received, dropped uint64, haveStats bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.groups, m.live, m.frames = groups, live, frames
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
	k := [4]string{strconv.Itoa(fo.VRID), strconv.Itoa(fo.VLAN), fo.Family, fo.Cause}
	m.failovers[k]++
	h := m.takeovers[k]
	if h == nil {
		h = &histogram{buckets: map[float64]uint64{}}
		m.takeovers[k] = h
	}
	h.observe(fo.DetectMS / 1e3)
	m.last[[3]string{k[0], k[1], k[2]}] = lastFailover{at: fo.Time, took: fo.DetectMS / 1e3, expected: fo.ExpectedMS / 1e3}
}

func (m *metrics) finding(f analyze.Finding) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.findings[[2]string{f.Code, string(f.Severity)}]++
}

// Describe and Collect make metrics a prometheus.Collector.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descMaster, descHasMaster, descLastAdvert, descAdverts, descPriority,
		descFailovers, descFindings, descFrames, descReceived, descDropped,
		descSplitBrain, descStaleClients, descAdvertInterval, descAdvertGaps, descAdvertsMissed,
		descTakeover, descLastTakeover, descLastTakeoverRFC, descLastFailover, descEvictions, descTableLimit} {
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
			gauge(descAdvertInterval, s.AdvertIntervalMS/1e3, vrid, vlan, g.Family, s.IP)
			if !s.LastAdvert.IsZero() {
				gauge(descLastAdvert, float64(s.LastAdvert.UnixNano())/1e9, vrid, vlan, g.Family, s.IP)
			}
		}
	}
	for _, g := range m.live {
		vrid, vlan := strconv.Itoa(g.VRID), strconv.Itoa(g.VLAN)
		split := 0.0
		if g.SplitBrain {
			split = 1
		}
		gauge(descSplitBrain, split, vrid, vlan, g.Family)
		gauge(descStaleClients, float64(g.StaleClients), vrid, vlan, g.Family)
		for _, s := range g.Speakers {
			counter(descAdvertGaps, float64(s.AdvertGaps), vrid, vlan, g.Family, s.IP)
			counter(descAdvertsMissed, float64(s.MissedAdverts), vrid, vlan, g.Family, s.IP)
		}
	}
	for k, h := range m.takeovers {
		ch <- prometheus.MustNewConstHistogram(descTakeover, h.count, h.sum, maps.Clone(h.buckets), k[0], k[1], k[2], k[3])
	}
	for k, l := range m.last {
		gauge(descLastTakeover, l.took, k[0], k[1], k[2])
		if l.expected > 0 {
			gauge(descLastTakeoverRFC, l.expected, k[0], k[1], k[2])
		}
		gauge(descLastFailover, float64(l.at.UnixNano())/1e9, k[0], k[1], k[2])
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
