package vrrpd

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
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
			Priority: vr.cfg.Priority, Primary: vr.cfg.Primary.String(), State: vr.r.State().String(),
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

// Handler serves GET /status (JSON) and GET /metrics (Prometheus text
// format, metric names as keepalived-exporter's).
func (s *Speaker) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(s.Status())
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		WriteMetrics(w, s.Status())
	})
	return mux
}

type metricCounter struct {
	name, help string
	get        func(*RouterStatus) uint64
}

var routerCounters = []metricCounter{
	{"keepalived_advertisements_sent_total", "Adverts sent.", func(r *RouterStatus) uint64 { return r.AdvertsSent }},
	{"keepalived_advertisements_received_total", "Adverts received and accepted.", func(r *RouterStatus) uint64 { return r.AdvertsReceived }},
	{"keepalived_become_master_total", "Transitions to MASTER.", func(r *RouterStatus) uint64 { return r.BecomeMaster }},
	{"keepalived_release_master_total", "Transitions out of MASTER.", func(r *RouterStatus) uint64 { return r.ReleaseMaster }},
	{"keepalived_priority_zero_sent_total", "Priority-0 adverts sent.", func(r *RouterStatus) uint64 { return r.PriorityZeroSent }},
	{"keepalived_priority_zero_received_total", "Priority-0 adverts received.", func(r *RouterStatus) uint64 { return r.PriorityZeroReceived }},
	{"keepalived_gratuitous_arp_sent_total", "Gratuitous ARPs and unsolicited neighbour advertisements sent.", func(r *RouterStatus) uint64 { return r.GARPsSent }},
	{"keepalived_ip_ttl_errors_total", "Adverts discarded for a TTL other than 255.", func(r *RouterStatus) uint64 { return r.Discards["ttl"] }},
	{"keepalived_invalid_type_received_total", "Adverts discarded for their type.", func(r *RouterStatus) uint64 { return r.Discards["type"] }},
	{"keepalived_advertisements_interval_errors_total", "Adverts discarded for their interval.", func(r *RouterStatus) uint64 { return r.Discards["interval"] }},
	{"keepalived_address_list_errors_total", "Adverts whose address list differs from ours.", func(r *RouterStatus) uint64 { return r.AddrMismatch }},
	{"keepalived_authentication_mismatch_total", "Adverts discarded for their authentication type.", func(r *RouterStatus) uint64 { return r.Discards["auth_type"] }},
	{"keepalived_authentication_failure_total", "Adverts discarded for a wrong password.", func(r *RouterStatus) uint64 { return r.Discards["auth_failure"] }},
	{"keepalived_packet_length_errors_total", "Adverts discarded as malformed.", func(r *RouterStatus) uint64 { return r.Discards["length"] }},
}

// WriteMetrics writes st in the Prometheus text exposition format.
func WriteMetrics(w io.Writer, st Status) {
	states := map[string]int{"INIT": 0, "BACKUP": 1, "MASTER": 2, "FAULT": 3}
	lbl := func(r *RouterStatus) string {
		return fmt.Sprintf("iname=%q,intf=%q,vrid=\"%d\"", r.Name, r.Interface, r.VRID)
	}
	fmt.Fprintln(w, "# HELP keepalived_vrrp_state State of the virtual router: 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT.")
	fmt.Fprintln(w, "# TYPE keepalived_vrrp_state gauge")
	for i := range st.Routers {
		r := &st.Routers[i]
		for _, vip := range r.VIPs {
			fmt.Fprintf(w, "keepalived_vrrp_state{%s,ip_address=%q} %d\n", lbl(r), vip, states[r.State])
		}
	}
	for _, c := range routerCounters {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n", c.name, c.help, c.name)
		for i := range st.Routers {
			r := &st.Routers[i]
			fmt.Fprintf(w, "%s{%s} %d\n", c.name, lbl(r), c.get(r))
		}
	}
	fmt.Fprintln(w, "# HELP vrrpctl_speaker_discards_total Adverts discarded, by reason.")
	fmt.Fprintln(w, "# TYPE vrrpctl_speaker_discards_total counter")
	for i := range st.Routers {
		r := &st.Routers[i]
		for _, d := range DiscardReasons() {
			fmt.Fprintf(w, "vrrpctl_speaker_discards_total{%s,reason=%q} %d\n", lbl(r), d.String(), r.Discards[d.String()])
		}
	}
	fmt.Fprintln(w, "# HELP vrrpctl_speaker_interface_discards_total Messages on an interface that no virtual router took, by reason.")
	fmt.Fprintln(w, "# TYPE vrrpctl_speaker_interface_discards_total counter")
	for _, ifc := range st.Interfaces {
		for _, d := range DiscardReasons() {
			fmt.Fprintf(w, "vrrpctl_speaker_interface_discards_total{intf=%q,reason=%q} %d\n", ifc.Name, d.String(), ifc.Discards[d.String()])
		}
	}
}
