package vrrpd

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The conformance suite: every folder under testdata/conformance is one case
// with the router's configuration (config.json), input events with their
// times (events.jsonl) and the exact actions expected, with their times
// (actions.jsonl). Timers fire on a virtual clock between events. Run with
// -update to rewrite actions.jsonl from what the code does (then review the
// diff).

var update = flag.Bool("update", false, "rewrite conformance actions.jsonl")

type caseConfig struct {
	Name             string   `json:"name"`
	Interface        string   `json:"interface"`
	VRID             uint8    `json:"vrid"`
	Priority         uint8    `json:"priority"`
	Version          int      `json:"version"`
	AdvertIntMS      float64  `json:"advert_int_ms"`
	NoPreempt        bool     `json:"nopreempt"`
	PreemptDelayMS   float64  `json:"preempt_delay_ms"`
	AuthPass         string   `json:"auth_pass"`
	VIPs             []string `json:"vips"`
	Primary          string   `json:"primary"`
	SkipCheckAdvAddr bool     `json:"skip_check_adv_addr"`
	UnicastPeers     []string `json:"unicast_peers"`
	// PeerTTL holds [min, max] for each of UnicastPeers.
	PeerTTL              [][2]uint8 `json:"peer_ttl"`
	CheckUnicastSrc      bool       `json:"check_unicast_src"`
	Group                string     `json:"group"`
	LowerPrioNoAdvert    bool       `json:"lower_prio_no_advert"`
	HigherPrioSendAdvert bool       `json:"higher_prio_send_advert"`
	GARP                 *struct {
		MasterDelayMS       *float64 `json:"master_delay_ms"`
		MasterRepeat        *int     `json:"master_repeat"`
		MasterRefreshMS     *float64 `json:"master_refresh_ms"`
		MasterRefreshRepeat *int     `json:"master_refresh_repeat"`
		IntervalMS          *float64 `json:"interval_ms"`
		LowerPrioDelayMS    *float64 `json:"lower_prio_delay_ms"`
		LowerPrioRepeat     *int     `json:"lower_prio_repeat"`
	} `json:"garp"`
}

func ms(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }

func (c caseConfig) routerConfig(t *testing.T) RouterConfig {
	rc := RouterConfig{
		Name: c.Name, Interface: c.Interface, VRID: c.VRID, Priority: c.Priority,
		Version: c.Version, AdvertInterval: ms(c.AdvertIntMS), NoPreempt: c.NoPreempt,
		PreemptDelay: ms(c.PreemptDelayMS), AuthPass: c.AuthPass,
		Primary: netip.MustParseAddr(c.Primary), SkipCheckAdvAddr: c.SkipCheckAdvAddr,
		GARP: DefaultGARP(),
	}
	if rc.Interface == "" {
		rc.Interface = "eth1"
	}
	for _, p := range c.UnicastPeers {
		rc.UnicastPeers = append(rc.UnicastPeers, netip.MustParseAddr(p))
	}
	for _, r := range c.PeerTTL {
		rc.PeerTTL = append(rc.PeerTTL, TTLRange{Min: r[0], Max: r[1]})
	}
	rc.CheckUnicastSrc, rc.LowerPrioNoAdvert, rc.HigherPrioSendAdvert = c.CheckUnicastSrc, c.LowerPrioNoAdvert, c.HigherPrioSendAdvert
	if c.Group != "" {
		rc.Group = netip.MustParseAddr(c.Group)
	}
	for _, v := range c.VIPs {
		rc.VIPs = append(rc.VIPs, netip.MustParsePrefix(v))
	}
	if g := c.GARP; g != nil {
		setD := func(dst *time.Duration, v *float64) {
			if v != nil {
				*dst = ms(*v)
			}
		}
		setI := func(dst *int, v *int) {
			if v != nil {
				*dst = *v
			}
		}
		setD(&rc.GARP.MasterDelay, g.MasterDelayMS)
		setI(&rc.GARP.MasterRepeat, g.MasterRepeat)
		setD(&rc.GARP.MasterRefresh, g.MasterRefreshMS)
		setI(&rc.GARP.MasterRefreshRepeat, g.MasterRefreshRepeat)
		setD(&rc.GARP.Interval, g.IntervalMS)
		setD(&rc.GARP.LowerPrioDelay, g.LowerPrioDelayMS)
		setI(&rc.GARP.LowerPrioRepeat, g.LowerPrioRepeat)
	}
	return rc
}

// caseEvent is one line of events.jsonl. Advert fields left out take the
// router's own values (a valid advert from another router).
type caseEvent struct {
	TMS float64 `json:"t_ms"`
	// startup, shutdown, advert, link_down, link_up, priority, track_fault,
	// track_ok, sync_master, sync_backup, sync_fault, sync_ok, end
	Event       string   `json:"event"`
	Src         string   `json:"src"`
	Dst         string   `json:"dst"`
	Priority    *uint8   `json:"priority"`
	TTL         *int     `json:"ttl"`
	Version     *uint8   `json:"version"`
	Type        *uint8   `json:"type"`
	VRID        *uint8   `json:"vrid"`
	IntervalMS  *float64 `json:"interval_ms"`
	AuthType    *uint8   `json:"auth_type"`
	AuthPass    *string  `json:"auth_pass"`
	Addrs       []string `json:"addrs"`
	BadChecksum bool     `json:"bad_checksum"`
	Repeat      int      `json:"repeat"`   // send this advert Repeat times...
	EveryMS     float64  `json:"every_ms"` // ...every EveryMS
}

// caseAction is one line of actions.jsonl.
type caseAction struct {
	TMS      float64 `json:"t_ms"`
	Action   string  `json:"action"`
	Priority *uint8  `json:"priority,omitempty"`
	From     string  `json:"from,omitempty"`
	To       string  `json:"to,omitempty"`
	Reason   string  `json:"reason,omitempty"`
	Count    int     `json:"count,omitempty"`
	Addr     string  `json:"addr,omitempty"`
	Src      string  `json:"src,omitempty"`
}

func (e caseEvent) advert(rc RouterConfig) Advert {
	a := Advert{TTL: 255, Version: uint8(rc.Version), Type: 1, VRID: rc.VRID,
		Priority: 100, Interval: rc.AdvertInterval, AuthType: authType(rc.AuthPass),
		AuthData: authData(rc.AuthPass), Src: netip.MustParseAddr(e.Src)}
	for _, p := range rc.VIPs {
		a.Addrs = append(a.Addrs, p.Addr())
	}
	if e.Priority != nil {
		a.Priority = *e.Priority
	}
	if e.TTL != nil {
		a.TTL = *e.TTL
	}
	if e.Version != nil {
		a.Version = *e.Version
	}
	if e.Type != nil {
		a.Type = *e.Type
	}
	if e.VRID != nil {
		a.VRID = *e.VRID
	}
	if e.IntervalMS != nil {
		a.Interval = ms(*e.IntervalMS)
	}
	if e.AuthType != nil {
		a.AuthType = *e.AuthType
	}
	if e.AuthPass != nil {
		a.AuthData = authData(*e.AuthPass)
	}
	if e.Addrs != nil {
		a.Addrs = nil
		for _, s := range e.Addrs {
			a.Addrs = append(a.Addrs, netip.MustParseAddr(s))
		}
	}
	a.BadChecksum = e.BadChecksum
	if e.Dst != "" {
		a.Dst = netip.MustParseAddr(e.Dst)
	}
	return a
}

// conformanceRun drives a Router and a Pacer on a virtual clock.
type conformanceRun struct {
	r     *Router
	p     *Pacer
	vips  []netip.Addr
	epoch time.Time
	out   []caseAction
}

func (c *conformanceRun) record(now time.Time, acts []Action) {
	t := float64(now.Sub(c.epoch)) / float64(time.Millisecond)
	for _, a := range acts {
		ca := caseAction{TMS: t}
		switch a.Kind {
		case ActionSendAdvert:
			p := a.Priority
			ca.Action, ca.Priority = "advert", &p
		case ActionAddVIPs:
			ca.Action = "add_vips"
		case ActionDeleteVIPs:
			ca.Action = "delete_vips"
			c.p.Drop(0)
		case ActionGARP:
			ca.Action, ca.Count, ca.Reason = "garp_burst", a.Count, a.Reason
			c.p.Push(0, a.Count, c.vips)
		case ActionStateChange:
			ca.Action, ca.From, ca.To, ca.Reason = "state", a.From.String(), a.To.String(), a.Reason
		case ActionDiscard:
			ca.Action, ca.Reason = "discard", a.Discard.String()
		case ActionAddrMismatch:
			ca.Action = "addr_mismatch"
		case ActionLowerPrioRx:
			ca.Action = "lower_prio_rx"
			p := a.Priority
			ca.Priority = &p
		}
		if a.Src.IsValid() {
			ca.Src = a.Src.String()
		}
		c.out = append(c.out, ca)
	}
	for _, it := range c.p.Pop(now) {
		c.out = append(c.out, caseAction{TMS: t, Action: "garp", Addr: it.Addr.String()})
	}
}

// until fires every timer and paced GARP due up to and including t.
func (c *conformanceRun) until(t time.Time) {
	for {
		d1, ok1 := c.r.NextDeadline()
		d2, ok2 := c.p.NextDeadline()
		if ok2 && d2.IsZero() {
			d2 = c.epoch
		}
		var now time.Time
		switch {
		case ok1 && (!ok2 || d1.Before(d2)):
			now = d1
		case ok2:
			now = d2
		default:
			return
		}
		if now.After(t) {
			return
		}
		c.record(now, c.r.Tick(now))
	}
}

func readJSONL[T any](t *testing.T, path string) []T {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []T
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var v T
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		out = append(out, v)
	}
	return out
}

func TestConformance(t *testing.T) {
	dirs, err := filepath.Glob("testdata/conformance/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no conformance cases: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) { runCase(t, dir) })
	}
}

func runCase(t *testing.T, dir string) {
	raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cc caseConfig
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cc); err != nil {
		t.Fatalf("config.json: %v", err)
	}
	rc := cc.routerConfig(t)
	r, err := NewRouter(rc)
	if err != nil {
		t.Fatal(err)
	}
	run := &conformanceRun{r: r, p: &Pacer{Interval: rc.GARP.Interval},
		epoch: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	for _, p := range rc.VIPs {
		run.vips = append(run.vips, p.Addr())
	}
	at := func(ms float64) time.Time { return run.epoch.Add(time.Duration(ms * float64(time.Millisecond))) }
	for _, ev := range readJSONL[caseEvent](t, filepath.Join(dir, "events.jsonl")) {
		n := max(ev.Repeat, 1)
		for i := range n {
			now := at(ev.TMS + float64(i)*ev.EveryMS)
			run.until(now)
			var e Event
			switch ev.Event {
			case "startup":
				e.Kind = EventStartup
			case "shutdown":
				e.Kind = EventShutdown
			case "link_down":
				e.Kind = EventLinkDown
			case "link_up":
				e.Kind = EventLinkUp
			case "advert":
				e.Kind, e.Advert = EventAdvert, ev.advert(rc)
			case "priority":
				e.Kind = EventPriority
				if ev.Priority != nil {
					e.Priority = *ev.Priority
				}
			case "track_fault":
				e.Kind = EventTrackFault
			case "track_ok":
				e.Kind = EventTrackOK
			case "sync_master":
				e.Kind = EventSyncMaster
			case "sync_backup":
				e.Kind = EventSyncBackup
			case "sync_fault":
				e.Kind = EventSyncFault
			case "sync_ok":
				e.Kind = EventSyncOK
			case "end":
				continue
			default:
				t.Fatalf("unknown event %q", ev.Event)
			}
			run.record(now, r.Handle(now, e))
		}
	}
	var got bytes.Buffer
	for _, a := range run.out {
		b, _ := json.Marshal(a)
		got.Write(b)
		got.WriteByte('\n')
	}
	path := filepath.Join(dir, "actions.jsonl")
	if *update {
		if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want := readJSONL[caseAction](t, path)
	if len(want) != len(run.out) {
		t.Errorf("%d actions, want %d", len(run.out), len(want))
	}
	for i := range max(len(want), len(run.out)) {
		var w, g string
		if i < len(want) {
			b, _ := json.Marshal(want[i])
			w = string(b)
		}
		if i < len(run.out) {
			b, _ := json.Marshal(run.out[i])
			g = string(b)
		}
		if w != g {
			t.Errorf("action %d:\n got %s\nwant %s", i+1, g, w)
			if i > 5 {
				t.FailNow()
			}
		}
	}
	if t.Failed() {
		t.Logf("all actions:\n%s", got.String())
	}
}
