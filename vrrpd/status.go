package vrrpd

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Status is the speaker's state, as served at /status.
type Status struct {
	Running    bool              `json:"running"`
	Started    time.Time         `json:"started"`
	Routers    []RouterStatus    `json:"routers"`
	Interfaces []InterfaceStatus `json:"interfaces"`
}

// RouterStatus is one virtual router.
type RouterStatus struct {
	Name                  string            `json:"name"`
	Interface             string            `json:"interface"`
	VRID                  uint8             `json:"vrid"`
	Version               int               `json:"version"`
	Priority              uint8             `json:"priority"`
	EffectivePriority     uint8             `json:"effective_priority"` // as tracking changed it
	SyncGroup             string            `json:"sync_group,omitempty"`
	Primary               string            `json:"primary"`
	VIPs                  []string          `json:"vips"`
	State                 string            `json:"state"`
	Since                 time.Time         `json:"since"`
	Reason                string            `json:"reason"`
	Master                string            `json:"master,omitempty"`
	AdvertIntervalMS      float64           `json:"advert_interval_ms"`
	MasterAdverIntervalMS float64           `json:"master_adver_interval_ms"`
	SkewTimeMS            float64           `json:"skew_time_ms"`
	MasterDownIntervalMS  float64           `json:"master_down_interval_ms"`
	AdvertsSent           uint64            `json:"adverts_sent"`
	AdvertsReceived       uint64            `json:"adverts_received"`
	BecomeMaster          uint64            `json:"become_master"`
	ReleaseMaster         uint64            `json:"release_master"`
	PriorityZeroSent      uint64            `json:"priority_zero_sent"`
	PriorityZeroReceived  uint64            `json:"priority_zero_received"`
	GARPsSent             uint64            `json:"garps_sent"`
	AddrMismatch          uint64            `json:"address_list_mismatches"`
	Discards              map[string]uint64 `json:"discards"`
	LastError             string            `json:"last_error,omitempty"`
}

// InterfaceStatus counts messages on an interface that no router took.
type InterfaceStatus struct {
	Name     string            `json:"name"`
	Up       bool              `json:"up"`
	Discards map[string]uint64 `json:"discards"`
}

func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func discardMap(d *[numDiscardReasons]uint64) map[string]uint64 {
	m := make(map[string]uint64, len(d))
	for i, n := range d {
		m[DiscardReason(i).String()] = n
	}
	return m
}

// Status returns a snapshot; safe to call at any time from any goroutine.
func (s *Speaker) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Status{Running: s.running, Started: s.started}
	for _, vr := range s.routers {
		c := vr.r.Counters()
		rs := RouterStatus{
			Name: vr.cfg.Name, Interface: vr.cfg.Interface, VRID: vr.cfg.VRID, Version: vr.cfg.Version,
			Priority: vr.cfg.Priority, EffectivePriority: vr.r.Priority(), SyncGroup: vr.cfg.SyncGroup,
			Primary: vr.cfg.Primary.String(), State: vr.r.State().String(),
			Since: vr.since, Reason: vr.reason,
			AdvertIntervalMS:      msOf(vr.cfg.AdvertInterval),
			MasterAdverIntervalMS: msOf(vr.r.MasterAdverInterval()),
			SkewTimeMS:            msOf(vr.r.SkewTime()),
			MasterDownIntervalMS:  msOf(vr.r.MasterDownInterval()),
			AdvertsSent:           c.AdvertsSent, AdvertsReceived: c.AdvertsReceived,
			BecomeMaster: c.BecomeMaster, ReleaseMaster: c.ReleaseMaster,
			PriorityZeroSent: c.PriorityZeroSent, PriorityZeroReceived: c.PriorityZeroReceived,
			GARPsSent: vr.garps, AddrMismatch: c.AddrMismatch, Discards: discardMap(&c.Discards),
			LastError: vr.lastErr,
		}
		if m := vr.r.Master(); m.IsValid() {
			rs.Master = m.String()
		}
		for _, p := range vr.cfg.VIPs {
			rs.VIPs = append(rs.VIPs, p.String())
		}
		st.Routers = append(st.Routers, rs)
	}
	for _, ifc := range s.ifaces {
		st.Interfaces = append(st.Interfaces, InterfaceStatus{Name: ifc.name, Up: ifc.up, Discards: discardMap(&ifc.discards)})
	}
	return st
}

// Handler serves GET /status (JSON) and GET /metrics (Prometheus exposition
// format, metric names as keepalived-exporter's). The metrics come from a
// registry of the speaker's own, so nothing is registered globally.
func (s *Speaker) Handler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(statusCollector{s})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(s.Status())
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return mux
}

var (
	routerLabels = []string{"iname", "intf", "vrid"}

	descState = prometheus.NewDesc("keepalived_vrrp_state",
		"State of the virtual router: 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT.",
		append(routerLabels[:len(routerLabels):len(routerLabels)], "ip_address"), nil)
	descDiscards = prometheus.NewDesc("vrrpctl_speaker_discards_total",
		"Adverts discarded, by reason.",
		append(routerLabels[:len(routerLabels):len(routerLabels)], "reason"), nil)
	descIfaceDiscards = prometheus.NewDesc("vrrpctl_speaker_interface_discards_total",
		"Messages on an interface that no virtual router took, by reason.",
		[]string{"intf", "reason"}, nil)
)

// routerGauge is a per-router gauge taken from a RouterStatus.
type routerGauge struct {
	desc *prometheus.Desc
	get  func(*RouterStatus) float64
}

func newRouterGauge(name, help string, get func(*RouterStatus) float64) routerGauge {
	return routerGauge{prometheus.NewDesc(name, help, routerLabels, nil), get}
}

// routerGauges are the speaker's own: what the RFC times of a failover are
// made of, and when the state last changed.
var routerGauges = []routerGauge{
	newRouterGauge("vrrpctl_speaker_priority", "The priority the router advertises now (tracking included); 0 while it does not take part.", func(r *RouterStatus) float64 { return float64(r.EffectivePriority) }),
	newRouterGauge("vrrpctl_speaker_advert_interval_seconds", "The configured advert interval.", func(r *RouterStatus) float64 { return r.AdvertIntervalMS / 1e3 }),
	newRouterGauge("vrrpctl_speaker_skew_time_seconds", "Skew_Time: how long after a priority-0 advert this router takes over.", func(r *RouterStatus) float64 { return r.SkewTimeMS / 1e3 }),
	newRouterGauge("vrrpctl_speaker_master_down_interval_seconds", "Master_Down_Interval: how long a silent master takes to be declared down by this router.", func(r *RouterStatus) float64 { return r.MasterDownIntervalMS / 1e3 }),
	newRouterGauge("vrrpctl_speaker_state_change_timestamp_seconds", "When the router entered its current state, in Unix seconds.", func(r *RouterStatus) float64 {
		if r.Since.IsZero() {
			return 0
		}
		return float64(r.Since.UnixNano()) / 1e9
	}),
}

// stateValues are keepalived_vrrp_state's values, as keepalived-exporter's.
var stateValues = map[string]float64{"INIT": 0, "BACKUP": 1, "MASTER": 2, "FAULT": 3}

// routerCounter is a per-router counter taken from a RouterStatus.
type routerCounter struct {
	desc *prometheus.Desc
	get  func(*RouterStatus) uint64
}

func newRouterCounter(name, help string, get func(*RouterStatus) uint64) routerCounter {
	return routerCounter{prometheus.NewDesc(name, help, routerLabels, nil), get}
}

var routerCounters = []routerCounter{
	newRouterCounter("keepalived_advertisements_sent_total", "Adverts sent.", func(r *RouterStatus) uint64 { return r.AdvertsSent }),
	newRouterCounter("keepalived_advertisements_received_total", "Adverts received and accepted.", func(r *RouterStatus) uint64 { return r.AdvertsReceived }),
	newRouterCounter("keepalived_become_master_total", "Transitions to MASTER.", func(r *RouterStatus) uint64 { return r.BecomeMaster }),
	newRouterCounter("keepalived_release_master_total", "Transitions out of MASTER.", func(r *RouterStatus) uint64 { return r.ReleaseMaster }),
	newRouterCounter("keepalived_priority_zero_sent_total", "Priority-0 adverts sent.", func(r *RouterStatus) uint64 { return r.PriorityZeroSent }),
	newRouterCounter("keepalived_priority_zero_received_total", "Priority-0 adverts received.", func(r *RouterStatus) uint64 { return r.PriorityZeroReceived }),
	newRouterCounter("keepalived_gratuitous_arp_sent_total", "Gratuitous ARPs and unsolicited neighbour advertisements sent.", func(r *RouterStatus) uint64 { return r.GARPsSent }),
	newRouterCounter("keepalived_ip_ttl_errors_total", "Adverts discarded for a TTL other than 255.", func(r *RouterStatus) uint64 { return r.Discards[DiscardTTL.String()] }),
	newRouterCounter("keepalived_invalid_type_received_total", "Adverts discarded for their type.", func(r *RouterStatus) uint64 { return r.Discards[DiscardType.String()] }),
	newRouterCounter("keepalived_advertisements_interval_errors_total", "Adverts discarded for their interval.", func(r *RouterStatus) uint64 { return r.Discards[DiscardInterval.String()] }),
	newRouterCounter("keepalived_address_list_errors_total", "Adverts whose address list differs from ours.", func(r *RouterStatus) uint64 { return r.AddrMismatch }),
	newRouterCounter("keepalived_authentication_mismatch_total", "Adverts discarded for their authentication type.", func(r *RouterStatus) uint64 { return r.Discards[DiscardAuthType.String()] }),
	newRouterCounter("keepalived_authentication_failure_total", "Adverts discarded for a wrong password.", func(r *RouterStatus) uint64 { return r.Discards[DiscardAuthFailure.String()] }),
	newRouterCounter("keepalived_packet_length_errors_total", "Adverts discarded as malformed.", func(r *RouterStatus) uint64 { return r.Discards[DiscardLength.String()] }),
}

// statusCollector exposes the speaker's Status snapshot, taken anew on each
// scrape, as const metrics; the packet path updates no Prometheus metrics.
type statusCollector struct{ s *Speaker }

func (c statusCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descState
	for _, rc := range routerCounters {
		ch <- rc.desc
	}
	for _, rg := range routerGauges {
		ch <- rg.desc
	}
	ch <- descDiscards
	ch <- descIfaceDiscards
}

func (c statusCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.s.Status()
	// A registry refuses a whole scrape over one repeated series, so a
	// series already sent (a virtual address listed twice, say) is sent once.
	type series struct {
		desc   *prometheus.Desc
		labels string
	}
	sent := map[series]bool{}
	emit := func(desc *prometheus.Desc, typ prometheus.ValueType, v float64, labels ...string) {
		key := series{desc, strings.Join(labels, "\x00")}
		if sent[key] {
			return
		}
		sent[key] = true
		ch <- prometheus.MustNewConstMetric(desc, typ, v, labels...)
	}
	for i := range st.Routers {
		r := &st.Routers[i]
		vrid := strconv.Itoa(int(r.VRID))
		for _, vip := range r.VIPs {
			emit(descState, prometheus.GaugeValue, stateValues[r.State], r.Name, r.Interface, vrid, vip)
		}
		for _, rc := range routerCounters {
			emit(rc.desc, prometheus.CounterValue, float64(rc.get(r)), r.Name, r.Interface, vrid)
		}
		for _, rg := range routerGauges {
			emit(rg.desc, prometheus.GaugeValue, rg.get(r), r.Name, r.Interface, vrid)
		}
		for _, d := range DiscardReasons() {
			emit(descDiscards, prometheus.CounterValue, float64(r.Discards[d.String()]), r.Name, r.Interface, vrid, d.String())
		}
	}
	for _, ifc := range st.Interfaces {
		for _, d := range DiscardReasons() {
			emit(descIfaceDiscards, prometheus.CounterValue, float64(ifc.Discards[d.String()]), ifc.Name, d.String())
		}
	}
}
