package doctor

import (
	"fmt"
	"math"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/vrrpctl/vrrpctl/kaconf"
)

// Schedule is the GARP schedule keepalived will produce for one instance
// from the moment it becomes master (its first advert), as predicted from
// its settings and keepalived's version.
type Schedule struct {
	Instance string `json:"instance"`
	File     string `json:"file"`
	VRID     int    `json:"vrid"`
	// Keepalived is the version the prediction models.
	Keepalived    string  `json:"keepalived_version"`
	AdvertIntMS   float64 `json:"advert_int_ms"`
	Repeat        int     `json:"garp_master_repeat"`
	DelayMS       float64 `json:"garp_master_delay_ms"`
	RefreshMS     float64 `json:"garp_master_refresh_ms"`
	RefreshRepeat int     `json:"garp_master_refresh_repeat"`
	IntervalMS    float64 `json:"garp_interval_ms"`
	// GARPs are the predicted GARPs up to HorizonMS after becoming master.
	GARPs     []ScheduledGARP `json:"garps"`
	HorizonMS float64         `json:"horizon_ms"`
	// GapsMS are the gaps between successive moments GARPs go out.
	GapsMS []float64 `json:"gaps_ms"`
	// Irregular is set when the gaps after the first burst differ, and Why
	// says what makes them so.
	Irregular bool     `json:"irregular"`
	Why       []string `json:"why"`
}

// ScheduledGARP is one predicted gratuitous ARP (unsolicited NA for IPv6).
type ScheduledGARP struct {
	OffsetMS float64 `json:"offset_ms"`
	VIP      string  `json:"vip"`
	// Cause is what asked for it: "master" (becoming master),
	// "garp_master_delay" (the second burst), "garp_master_refresh".
	Cause string `json:"cause"`
	// QueuedMS is how long it waited in the interface's GARP queue.
	QueuedMS float64 `json:"queued_ms,omitempty"`
}

// garpSettings are the inputs of the prediction.
type garpSettings struct {
	advertInt     time.Duration
	repeat        int
	delay         time.Duration
	refresh       time.Duration
	refreshRepeat int
	interval      time.Duration
	vips          []netip.Addr
	// refreshOnTimer is keepalived 2.3.2 and later: the refresh runs on a
	// timer of its own instead of being looked at when an advert goes out.
	refreshOnTimer bool
}

func settingsOf(in *kaconf.Instance, v Version) garpSettings {
	s := garpSettings{
		advertInt:      in.AdvertInt,
		repeat:         in.GARP.MasterRepeat,
		delay:          in.GARP.MasterDelay,
		refresh:        in.GARP.MasterRefresh,
		refreshRepeat:  in.GARP.MasterRefreshRepeat,
		interval:       in.GARP.Interval,
		refreshOnTimer: v.AtLeast(2, 3, 2),
	}
	if in.Family() == "ipv6" {
		s.interval = in.GARP.NAInterval
	}
	for _, vip := range in.VIPs {
		s.vips = append(s.vips, vip.Prefix.Addr())
	}
	if len(s.vips) == 0 {
		s.vips = []netip.Addr{{}}
	}
	return s
}

// PredictGARP returns the GARP schedule of in under keepalived version v.
func PredictGARP(in *kaconf.Instance, v Version) Schedule {
	s := settingsOf(in, v)
	horizon := s.horizon()
	sched := Schedule{
		Instance: in.Name, File: in.File, VRID: in.VRID, Keepalived: v.String(),
		AdvertIntMS: ms(s.advertInt), Repeat: s.repeat, DelayMS: ms(s.delay), RefreshMS: ms(s.refresh),
		RefreshRepeat: s.refreshRepeat, IntervalMS: ms(s.interval), HorizonMS: ms(horizon),
	}
	sched.GARPs = s.simulate(horizon)
	sched.GapsMS, sched.Irregular = gaps(sched.GARPs, s)
	sched.Why = s.explain(sched.GARPs, v)
	return sched
}

// horizon is how far the schedule is predicted: the bursts and three
// refreshes, at most five minutes.
func (s garpSettings) horizon() time.Duration {
	h := s.delay + time.Duration(s.repeat+1)*s.interval + s.advertInt
	if s.refresh > 0 {
		period := s.refreshPeriod()
		h = max(h, s.delay) + 3*period + s.advertInt
	}
	h = max(h, 10*time.Second)
	return min(h, 5*time.Minute)
}

// refreshPeriod is how often the refresh really comes: before 2.3.2, at the
// first advert at or after the refresh is due.
func (s garpSettings) refreshPeriod() time.Duration {
	if s.refreshOnTimer || s.advertInt <= 0 {
		return s.refresh
	}
	n := (s.refresh + s.advertInt - 1) / s.advertInt
	return n * s.advertInt
}

// event kinds of the simulation, in the order keepalived handles them when
// they fall on one instant.
const (
	evDelay = iota
	evAdvert
	evRefresh
	evQueue
)

// simulate runs keepalived's GARP logic (vrrp_state_become_master,
// vrrp_send_link_update, send_gratuitous_arp and its queue, vrrp_arp_thread,
// the garp_delay thread and the refresh in the master's advert tick) on a
// virtual clock from becoming master to the horizon.
func (s garpSettings) simulate(horizon time.Duration) []ScheduledGARP {
	var out []ScheduledGARP
	pending := make([]bool, len(s.vips))
	queuedAt := make([]time.Duration, len(s.vips))
	cause := make([]string, len(s.vips))
	var ifNext time.Duration = -1 // when the interface may send its next GARP; -1: now
	queueAt := time.Duration(-1)  // when the queue thread runs; -1: not scheduled

	emit := func(t time.Duration, i int, why string, queued time.Duration) {
		out = append(out, ScheduledGARP{OffsetMS: ms(t), VIP: addrString(s.vips[i]), Cause: why, QueuedMS: ms(queued)})
		if s.interval > 0 {
			ifNext = t + s.interval
		}
	}
	send := func(t time.Duration, i int, why string) {
		if s.interval > 0 && ifNext >= 0 && t < ifNext {
			// Queued: one flag per address, so repeats that find it
			// waiting are merged into it.
			if !pending[i] {
				pending[i], queuedAt[i], cause[i] = true, t, why
			}
			next := t + s.interval
			if queueAt < 0 || next < queueAt {
				queueAt = next
			}
			return
		}
		emit(t, i, why, 0)
	}
	update := func(t time.Duration, rep int, why string) {
		for j := 0; j < rep; j++ {
			for i := range s.vips {
				send(t, i, why)
			}
		}
	}
	runQueue := func(t time.Duration) {
		queueAt = -1
		next := time.Duration(-1)
		for i := range s.vips {
			if !pending[i] {
				continue
			}
			if ifNext < 0 || t >= ifNext {
				pending[i] = false
				emit(t, i, cause[i], t-queuedAt[i])
				continue
			}
			if next < 0 || ifNext < next {
				next = ifNext
			}
		}
		if next >= 0 {
			queueAt = next
		}
	}

	// Becoming master: the advert, the VIPs, a burst of repeat.
	update(0, s.repeat, "master")
	refreshDue := time.Duration(-1)
	if s.refresh > 0 {
		refreshDue = s.refresh
	}
	delayAt := time.Duration(-1)
	if s.delay > 0 {
		delayAt = s.delay
	}
	nextAdvert := s.advertInt
	for {
		// The next event.
		type ev struct {
			t    time.Duration
			kind int
		}
		var cands []ev
		if delayAt >= 0 {
			cands = append(cands, ev{delayAt, evDelay})
		}
		if s.advertInt > 0 {
			cands = append(cands, ev{nextAdvert, evAdvert})
		}
		if s.refreshOnTimer && refreshDue >= 0 {
			cands = append(cands, ev{refreshDue, evRefresh})
		}
		if queueAt >= 0 {
			cands = append(cands, ev{queueAt, evQueue})
		}
		if len(cands) == 0 {
			break
		}
		sort.Slice(cands, func(i, j int) bool {
			if cands[i].t != cands[j].t {
				return cands[i].t < cands[j].t
			}
			return cands[i].kind < cands[j].kind
		})
		e := cands[0]
		if e.t > horizon {
			break
		}
		switch e.kind {
		case evDelay:
			update(e.t, s.repeat, "garp_master_delay")
			delayAt = -1
		case evAdvert:
			if !s.refreshOnTimer && refreshDue >= 0 && e.t >= refreshDue {
				update(e.t, s.refreshRepeat, "garp_master_refresh")
				refreshDue = e.t + s.refresh
			}
			nextAdvert += s.advertInt
		case evRefresh:
			update(e.t, s.refreshRepeat, "garp_master_refresh")
			refreshDue += s.refresh
		case evQueue:
			runQueue(e.t)
		}
	}
	return out
}

// gaps returns the gaps between the moments GARPs go out (GARPs within a
// millisecond are one moment) and whether the gaps between bursts after
// the first differ by more than a tenth of a second. GARPs no further apart
// than vrrp_garp_interval (plus 100 ms) are one burst.
func gaps(gs []ScheduledGARP, s garpSettings) ([]float64, bool) {
	var moments []float64
	for _, g := range gs {
		if len(moments) == 0 || g.OffsetMS-moments[len(moments)-1] >= 1 {
			moments = append(moments, g.OffsetMS)
		}
	}
	var out []float64
	var bursts []float64
	for i, m := range moments {
		if i > 0 {
			out = append(out, m-moments[i-1])
		}
		if i == 0 || m-moments[i-1] > ms(s.interval)+100 {
			bursts = append(bursts, m)
		}
	}
	if s.refresh == 0 || len(bursts) < 4 {
		return out, false
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := 2; i < len(bursts); i++ {
		g := bursts[i] - bursts[i-1]
		lo, hi = math.Min(lo, g), math.Max(hi, g)
	}
	return out, hi-lo > 100
}

// explain says why the schedule is what it is, where it differs from what
// the settings suggest.
func (s garpSettings) explain(gs []ScheduledGARP, v Version) []string {
	var why []string
	if s.interval > 0 && s.repeat > 1 {
		n := 0
		for _, g := range gs {
			if g.Cause == "master" {
				n++
			}
		}
		if want := s.repeat * len(s.vips); n < want {
			why = append(why, fmt.Sprintf("only %d of the %d GARPs of the first burst go out: vrrp_garp_interval %s lets one through at a time, and each VIP has one place in the queue, so the repeats that find it waiting are merged into it", n, want, secs(s.interval)))
		}
	}
	if s.refresh > 0 && !s.refreshOnTimer && s.refreshPeriod() != s.refresh {
		why = append(why, fmt.Sprintf("the refresh comes every %s, not every %s: keepalived %s looks at the refresh timer only when an advert goes out (every %s), so a refresh waits for the next advert (2.3.2 runs it on a timer of its own)", secs(s.refreshPeriod()), secs(s.refresh), v, secs(s.advertInt)))
	}
	var late []string
	for _, g := range gs {
		if g.QueuedMS >= 1 && g.Cause != "master" {
			late = append(late, fmt.Sprintf("the %s GARP due at +%s goes out at +%s", causeName(g.Cause), secsMS(g.OffsetMS-g.QueuedMS), secsMS(g.OffsetMS)))
		}
		if len(late) == 3 {
			break
		}
	}
	if len(late) > 0 {
		why = append(why, strings.Join(late, ", ")+fmt.Sprintf(": it waited in the interface's queue, which lets a GARP out only %s after the previous one and runs its timer from the moment the GARP was queued", secs(s.interval)))
	}
	if s.refresh > 0 && s.delay > 0 && s.delay%s.refreshPeriod() != 0 && s.refreshPeriod()%s.delay != 0 {
		why = append(why, fmt.Sprintf("the second burst (vrrp_garp_master_delay %s) and the refreshes (every %s) run on separate clocks, so their GARPs interleave", secs(s.delay), secs(s.refreshPeriod())))
	}
	return why
}

func causeName(c string) string {
	switch c {
	case "garp_master_delay":
		return "second-burst"
	case "garp_master_refresh":
		return "refresh"
	}
	return c
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func secs(d time.Duration) string { return secsMS(ms(d)) }

func secsMS(v float64) string {
	s := fmt.Sprintf("%.3f", v/1000)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s + " s"
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}
