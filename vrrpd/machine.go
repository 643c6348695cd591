package vrrpd

import (
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/vrrpctl/vrrpctl/vrrp"
)

// State is a virtual router's protocol state.
type State uint8

// The RFC 5798 states, plus Fault (keepalived's name for "the interface is
// down": no adverts sent or heard, addresses released).
const (
	StateInitialize State = iota
	StateBackup
	StateMaster
	StateFault
)

var stateNames = [...]string{"INIT", "BACKUP", "MASTER", "FAULT"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", s)
}

// EventKind says what happened to a Router.
type EventKind uint8

const (
	EventStartup  EventKind = iota // the router was enabled
	EventShutdown                  // the router is being stopped (SIGTERM, SIGINT)
	EventAdvert                    // an advertisement was received
	EventLinkDown                  // the interface lost its link
	EventLinkUp                    // the interface got its link back
	// EventPriority sets the effective priority (Priority), as tracking
	// weights change it; the configured priority is the base.
	EventPriority
	EventTrackFault // a tracked object without weight failed: FAULT
	EventTrackOK    // every tracked object without weight is up again
	// A member of the router's sync group became master (EventSyncMaster),
	// left master for backup (EventSyncBackup), or the group entered or
	// left FAULT (EventSyncFault, EventSyncOK) because of another member.
	EventSyncMaster
	EventSyncBackup
	EventSyncFault
	EventSyncOK
)

// Event is one input to a Router. Timer expiries are not events: the caller
// runs Router.Tick at Router.NextDeadline.
type Event struct {
	Kind     EventKind
	Advert   Advert // for EventAdvert
	Priority uint8  // for EventPriority: 1-254
}

// Advert is a received advertisement as the checks need it: the decoded
// VRRP fields plus what the IP layer and the checksum said.
type Advert struct {
	Src         netip.Addr
	Dst         netip.Addr // the IP destination; not checked when invalid
	TTL         int        // IPv4 TTL or IPv6 hop limit
	Version     uint8
	Type        uint8
	VRID        uint8
	Priority    uint8
	Interval    time.Duration
	AuthType    uint8
	AuthData    [8]byte
	Addrs       []netip.Addr
	BadChecksum bool
}

// ActionKind says what a Router wants done.
type ActionKind uint8

const (
	ActionSendAdvert   ActionKind = iota // send an advert with Priority
	ActionAddVIPs                        // add the virtual addresses to the interface
	ActionDeleteVIPs                     // remove them
	ActionGARP                           // a burst: Count GARPs/NAs per virtual address
	ActionStateChange                    // From -> To, because of Reason
	ActionDiscard                        // an advert was discarded for Discard
	ActionAddrMismatch                   // an accepted advert's address list differs from ours
	ActionLowerPrioRx                    // a master accepted a lower priority advert (notify_master_rx_lower_pri)
)

// Action is one output of a Router.
type Action struct {
	Kind     ActionKind
	Priority uint8 // SendAdvert: the priority to send; StateChange/Discard: the advert's
	Count    int   // GARP: repeats
	From, To State
	// Reason is a short code: for StateChange the cause (see the Reason*
	// constants), for GARP which schedule the burst belongs to.
	Reason  string
	Discard DiscardReason
	Src     netip.Addr // the advert that caused it, if any
}

// Reasons of state changes and GARP bursts.
const (
	ReasonStartup       = "startup"
	ReasonOwner         = "address-owner"
	ReasonMasterDown    = "master-down-timer"
	ReasonPriorityZero  = "priority-zero-skew-time"
	ReasonPreemptDelay  = "preempt-delay-expired"
	ReasonHigherPrio    = "higher-priority"
	ReasonHigherAddress = "equal-priority-higher-address"
	ReasonPreempt       = "preempt-lower-priority-master"
	ReasonShutdown      = "shutdown"
	ReasonLinkDown      = "link-down"
	ReasonLinkUp        = "link-up"
	ReasonTrackFault    = "track-fault"
	ReasonTrackOK       = "track-ok"
	ReasonSync          = "sync-group"

	GARPMaster      = "become-master"
	GARPMasterDelay = "master-delay"
	GARPRefresh     = "master-refresh"
	GARPLowerPrio   = "lower-priority"
	GARPLowerDelay  = "lower-priority-delay"
)

// DiscardReason says why a received advert was dropped.
type DiscardReason uint8

const (
	DiscardTTL         DiscardReason = iota // TTL/hop limit not 255
	DiscardVersion                          // not the configured VRRP version
	DiscardType                             // not an ADVERTISEMENT
	DiscardChecksum                         // bad checksum
	DiscardLength                           // malformed, too short
	DiscardVRID                             // no virtual router with this VRID
	DiscardInterval                         // VRRPv2 advert interval differs from ours
	DiscardAuthType                         // authentication type differs (VRRPv2)
	DiscardAuthFailure                      // wrong password (VRRPv2)
	DiscardOwnAddress                       // our own advert came back
	DiscardAddrList                         // address list differs from ours
	DiscardDestination                      // multicast on a unicast router, unicast or another group on a multicast one
	DiscardUnicastSrc                       // unicast from an address that is no unicast peer (check_unicast_src)
	DiscardOwner                            // the address owner (priority 255) takes no advert
	numDiscardReasons
)

var discardNames = [...]string{"ttl", "version", "type", "checksum", "length", "vrid",
	"interval", "auth_type", "auth_failure", "own_address", "addr_list", "destination",
	"unicast_src", "owner"}

func (d DiscardReason) String() string {
	if int(d) < len(discardNames) {
		return discardNames[d]
	}
	return fmt.Sprintf("DiscardReason(%d)", d)
}

// DiscardReasons lists every reason, in counter order.
func DiscardReasons() []DiscardReason {
	r := make([]DiscardReason, numDiscardReasons)
	for i := range r {
		r[i] = DiscardReason(i)
	}
	return r
}

// Counters are a router's statistics, named after keepalived's.
type Counters struct {
	AdvertsSent          uint64
	AdvertsReceived      uint64 // accepted (passed every check)
	BecomeMaster         uint64
	ReleaseMaster        uint64
	PriorityZeroSent     uint64
	PriorityZeroReceived uint64
	GARPBursts           uint64
	AddrMismatch         uint64 // address list differed (whether discarded or not)
	Discards             [numDiscardReasons]uint64
}

// DiscardsTotal is the sum of Discards.
func (c *Counters) DiscardsTotal() uint64 {
	var n uint64
	for _, d := range c.Discards {
		n += d
	}
	return n
}

type timerID uint8

const (
	timerAdver timerID = iota
	timerMasterDown
	timerGARPDelay
	timerGARPRefresh
	timerGARPLowerPrio
	numTimers
)

// Router is the RFC 5798 / RFC 3768 state machine of one virtual router. It
// has no sockets and no clock: Handle and Tick take the time and return the
// actions to carry out, in order. It is not safe for concurrent use.
type Router struct {
	cfg   RouterConfig
	state State
	// prio is the effective priority: the configured one as tracking
	// weights change it.
	prio uint8
	// faults are the reasons the router is in FAULT, if any.
	faults faultSet
	// masterAdverInt is Master_Adver_Interval: learned from the master in
	// VRRPv3, always the configured interval in VRRPv2.
	masterAdverInt time.Duration
	timers         [numTimers]time.Time
	downReason     string     // why timerMasterDown is set as it is
	downSrc        netip.Addr // the advert that set it
	preemptAt      time.Time  // zero: no preemption delay running
	vips           []netip.Addr
	master         netip.Addr // the current master's address, as far as known
	counters       Counters
	out            []Action
}

// NewRouter returns a router in state Initialize. cfg must have a valid
// Primary address.
func NewRouter(cfg RouterConfig) (*Router, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !cfg.Primary.IsValid() {
		return nil, fmt.Errorf("virtual router %s: no primary address", cfg.Name)
	}
	r := &Router{cfg: cfg, masterAdverInt: cfg.AdvertInterval, prio: cfg.Priority}
	for _, p := range cfg.VIPs {
		r.vips = append(r.vips, p.Addr())
	}
	return r, nil
}

// SetConfig changes the settings of a running router that take effect at
// once: its addresses, base priority, preemption, GARP schedule, checks and
// scripts. The others (interface, VRID, family, version, interval,
// authentication, source, peers, group, address ownership) make another
// router: Reconfigurable tells. The effective priority becomes the new base
// until tracking changes it again.
func (r *Router) SetConfig(cfg RouterConfig) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if !Reconfigurable(r.cfg, cfg) {
		return fmt.Errorf("virtual router %s: the change needs a new router", cfg.Name)
	}
	r.cfg = cfg
	r.prio = cfg.Priority
	r.vips = r.vips[:0]
	for _, p := range cfg.VIPs {
		r.vips = append(r.vips, p.Addr())
	}
	return nil
}

// Reconfigurable reports whether a router of configuration a can take b by
// SetConfig, keeping its state.
func Reconfigurable(a, b RouterConfig) bool {
	return a.Name == b.Name && a.Interface == b.Interface && a.VRID == b.VRID && a.IPv6() == b.IPv6() &&
		a.Version == b.Version && a.AdvertInterval == b.AdvertInterval && a.AuthPass == b.AuthPass &&
		a.Primary == b.Primary && slices.Equal(a.UnicastPeers, b.UnicastPeers) && a.group() == b.group() &&
		a.UseVMAC == b.UseVMAC && (a.Priority == 255) == (b.Priority == 255)
}

// Config returns the router's configuration.
func (r *Router) Config() RouterConfig { return r.cfg }

// State returns the current state.
func (r *Router) State() State { return r.state }

// Counters returns a copy of the statistics.
func (r *Router) Counters() Counters { return r.counters }

// Priority returns the effective priority.
func (r *Router) Priority() uint8 { return r.prio }

// OwnFault reports whether the router is in FAULT for a reason of its own
// (its link, its tracking), not only because of its sync group.
func (r *Router) OwnFault() bool { return r.faults&^faultSync != 0 }

// Master returns the address of the current master as far as this router
// knows (itself when master), or the zero Addr.
func (r *Router) Master() netip.Addr { return r.master }

// MasterAdverInterval is Master_Adver_Interval.
func (r *Router) MasterAdverInterval() time.Duration { return r.masterAdverInt }

// SkewTime is Skew_Time for this router's priority and the
// Master_Adver_Interval it has learnt, as package vrrp computes it.
func (r *Router) SkewTime() time.Duration {
	return vrrp.SkewTime(r.cfg.Version, int(r.prio), r.masterAdverInt)
}

// MasterDownInterval is 3 * Master_Adver_Interval + Skew_Time, as package
// vrrp computes it.
func (r *Router) MasterDownInterval() time.Duration {
	return vrrp.MasterDownInterval(r.cfg.Version, int(r.prio), r.masterAdverInt)
}

// NextDeadline returns when Tick must next run; ok is false when no timer
// is running.
func (r *Router) NextDeadline() (t time.Time, ok bool) {
	for _, d := range r.timers {
		if !d.IsZero() && (!ok || d.Before(t)) {
			t, ok = d, true
		}
	}
	return t, ok
}

// Tick fires every timer due at or before now, earliest first.
func (r *Router) Tick(now time.Time) []Action {
	r.out = r.out[:0]
	for {
		id, at, ok := r.due(now)
		if !ok {
			break
		}
		r.timers[id] = time.Time{}
		r.fire(id, at, now)
	}
	return r.actions()
}

func (r *Router) due(now time.Time) (timerID, time.Time, bool) {
	best, found := timerID(0), false
	for id, d := range r.timers {
		if d.IsZero() || d.After(now) {
			continue
		}
		if !found || d.Before(r.timers[best]) {
			best, found = timerID(id), true
		}
	}
	return best, r.timers[best], found
}

// next returns the deadline period after at, or after now when at is
// too far behind (the process was stopped): periodic timers do not drift
// and do not fire in bursts to catch up.
func next(at, now time.Time, period time.Duration) time.Time {
	t := at.Add(period)
	if t.After(now) {
		return t
	}
	return now.Add(period)
}

func (r *Router) fire(id timerID, at, now time.Time) {
	g := r.cfg.GARP
	switch id {
	case timerAdver:
		r.sendAdvert(r.prio)
		r.timers[timerAdver] = next(at, now, r.cfg.AdvertInterval)
	case timerMasterDown:
		if r.state == StateBackup {
			r.becomeMaster(now, r.downReason, r.downSrc)
		}
	case timerGARPDelay:
		r.garp(g.MasterRepeat, GARPMasterDelay)
	case timerGARPRefresh:
		r.garp(g.MasterRefreshRepeat, GARPRefresh)
		r.timers[timerGARPRefresh] = next(at, now, g.MasterRefresh)
	case timerGARPLowerPrio:
		r.garp(g.LowerPrioRepeat, GARPLowerDelay)
	}
}

// Handle applies ev at time now. Run Tick first if a deadline has passed.
func (r *Router) Handle(now time.Time, ev Event) []Action {
	r.out = r.out[:0]
	switch ev.Kind {
	case EventStartup:
		if r.state == StateInitialize {
			if r.faults != 0 {
				r.setState(StateFault, r.faults.reason(), netip.Addr{}, 0)
				break
			}
			r.start(now, ReasonStartup)
		}
	case EventShutdown:
		switch r.state {
		case StateMaster:
			r.timers = [numTimers]time.Time{}
			r.sendAdvert(0)
			r.leaveMaster(StateInitialize, ReasonShutdown, netip.Addr{}, 0)
		case StateBackup, StateFault:
			r.setState(StateInitialize, ReasonShutdown, netip.Addr{}, 0)
		}
		r.timers = [numTimers]time.Time{}
	case EventLinkDown:
		r.fault(now, faultLink, false)
	case EventLinkUp:
		r.clearFault(now, faultLink, ReasonLinkUp)
	case EventTrackFault:
		r.fault(now, faultTrack, true)
	case EventTrackOK:
		r.clearFault(now, faultTrack, ReasonTrackOK)
	case EventSyncFault:
		r.fault(now, faultSync, true)
	case EventSyncOK:
		r.clearFault(now, faultSync, ReasonSync)
	case EventPriority:
		if ev.Priority >= 1 && ev.Priority <= 254 && r.cfg.Priority != 255 {
			r.prio = ev.Priority
		}
	case EventSyncMaster:
		if r.state == StateBackup {
			r.becomeMaster(now, ReasonSync, netip.Addr{})
		}
	case EventSyncBackup:
		if r.state == StateMaster {
			r.leaveMaster(StateBackup, ReasonSync, netip.Addr{}, 0)
			r.setMasterDown(now, r.MasterDownInterval(), ReasonMasterDown, netip.Addr{})
		}
	case EventAdvert:
		r.receive(now, &ev.Advert)
	}
	return r.actions()
}

// faultSet holds the reasons a router is in FAULT.
type faultSet uint8

const (
	faultLink  faultSet = 1 << iota // its interface (or macvlan) is down
	faultTrack                      // a tracked object without weight failed
	faultSync                       // another member of its sync group is in FAULT
)

func (f faultSet) reason() string {
	switch {
	case f&faultLink != 0:
		return ReasonLinkDown
	case f&faultTrack != 0:
		return ReasonTrackFault
	}
	return ReasonSync
}

// fault adds a reason to be in FAULT. A master leaves at once, with a
// priority-0 advert when it still can send (advert: the link is up), as
// keepalived does, so that a backup takes over after Skew_Time.
func (r *Router) fault(now time.Time, f faultSet, advert bool) {
	first := r.faults == 0
	r.faults |= f
	if !first {
		return
	}
	reason := f.reason()
	switch r.state {
	case StateMaster:
		if advert {
			r.sendAdvert(0)
		}
		r.leaveMaster(StateFault, reason, netip.Addr{}, 0)
	case StateBackup:
		r.setState(StateFault, reason, netip.Addr{}, 0)
	default:
		return
	}
	r.timers = [numTimers]time.Time{}
}

// clearFault removes a reason; the last one gone starts the router again.
func (r *Router) clearFault(now time.Time, f faultSet, reason string) {
	if r.faults&f == 0 {
		return
	}
	r.faults &^= f
	if r.faults == 0 && r.state == StateFault {
		r.start(now, reason)
	}
}

func (r *Router) actions() []Action {
	if len(r.out) == 0 {
		return nil
	}
	return slices.Clone(r.out)
}

func (r *Router) start(now time.Time, reason string) {
	r.masterAdverInt = r.cfg.AdvertInterval
	if r.cfg.PreemptDelay > 0 {
		r.preemptAt = now.Add(r.cfg.PreemptDelay)
	}
	if r.cfg.Priority == 255 {
		r.becomeMaster(now, ReasonOwner, netip.Addr{})
		return
	}
	r.setState(StateBackup, reason, netip.Addr{}, 0)
	r.master = netip.Addr{}
	r.setMasterDown(now, r.MasterDownInterval(), ReasonMasterDown, netip.Addr{})
}

func (r *Router) setMasterDown(now time.Time, d time.Duration, reason string, src netip.Addr) {
	r.timers[timerMasterDown] = now.Add(d)
	r.downReason, r.downSrc = reason, src
}

func (r *Router) setState(to State, reason string, src netip.Addr, prio uint8) {
	from := r.state
	r.state = to
	r.out = append(r.out, Action{Kind: ActionStateChange, From: from, To: to, Reason: reason, Src: src, Priority: prio})
}

func (r *Router) sendAdvert(prio uint8) {
	r.counters.AdvertsSent++
	if prio == 0 {
		r.counters.PriorityZeroSent++
	}
	r.out = append(r.out, Action{Kind: ActionSendAdvert, Priority: prio})
}

func (r *Router) garp(count int, reason string) {
	if count <= 0 {
		return
	}
	r.counters.GARPBursts++
	r.out = append(r.out, Action{Kind: ActionGARP, Count: count, Reason: reason})
}

func (r *Router) becomeMaster(now time.Time, reason string, src netip.Addr) {
	g := r.cfg.GARP
	r.timers = [numTimers]time.Time{}
	r.counters.BecomeMaster++
	r.setState(StateMaster, reason, src, 0)
	r.master = r.cfg.Primary
	r.sendAdvert(r.prio)
	r.out = append(r.out, Action{Kind: ActionAddVIPs})
	r.garp(g.MasterRepeat, GARPMaster)
	r.timers[timerAdver] = now.Add(r.cfg.AdvertInterval)
	if g.MasterDelay > 0 && g.MasterRepeat > 0 {
		r.timers[timerGARPDelay] = now.Add(g.MasterDelay)
	}
	if g.MasterRefresh > 0 && g.MasterRefreshRepeat > 0 {
		r.timers[timerGARPRefresh] = now.Add(g.MasterRefresh)
	}
}

func (r *Router) leaveMaster(to State, reason string, src netip.Addr, prio uint8) {
	r.timers[timerAdver] = time.Time{}
	r.timers[timerGARPDelay] = time.Time{}
	r.timers[timerGARPRefresh] = time.Time{}
	r.timers[timerGARPLowerPrio] = time.Time{}
	r.counters.ReleaseMaster++
	r.setState(to, reason, src, prio)
	r.out = append(r.out, Action{Kind: ActionDeleteVIPs})
	r.master = src
}

func (r *Router) discard(a *Advert, why DiscardReason) {
	r.counters.Discards[why]++
	r.out = append(r.out, Action{Kind: ActionDiscard, Discard: why, Src: a.Src, Priority: a.Priority})
}

// check runs the receive-side checks of RFC 5798 section 7.1 and RFC 3768
// section 7.1 and reports whether a passed.
func (r *Router) check(a *Advert) bool {
	c := &r.cfg
	unicast := len(c.UnicastPeers) > 0
	switch {
	case !r.ttlOK(a):
		r.discard(a, DiscardTTL)
	case a.Dst.IsValid() && unicast == a.Dst.IsMulticast(),
		a.Dst.IsValid() && !unicast && a.Dst != c.group():
		r.discard(a, DiscardDestination)
	case int(a.Version) != c.Version:
		r.discard(a, DiscardVersion)
	case a.Type != 1:
		r.discard(a, DiscardType)
	case a.BadChecksum:
		r.discard(a, DiscardChecksum)
	case a.VRID != c.VRID:
		r.discard(a, DiscardVRID)
	case a.Src == c.Primary:
		r.discard(a, DiscardOwnAddress)
	case unicast && c.CheckUnicastSrc && !slices.Contains(c.UnicastPeers, a.Src):
		r.discard(a, DiscardUnicastSrc)
	case c.Priority == 255:
		// RFC 5798 6.4.3: the address owner stays master; it has no use
		// for another router's advert.
		r.discard(a, DiscardOwner)
	case c.Version == 2 && a.AuthType != authType(c.AuthPass):
		r.discard(a, DiscardAuthType)
	case c.Version == 2 && c.AuthPass != "" && a.AuthData != authData(c.AuthPass):
		r.discard(a, DiscardAuthFailure)
	case c.Version == 2 && a.Interval != c.AdvertInterval:
		r.discard(a, DiscardInterval)
	case c.Version == 3 && a.Interval == 0:
		// An interval of 0 would make Master_Down_Interval Skew_Time.
		r.discard(a, DiscardInterval)
	default:
		if c.SkipCheckAdvAddr || sameAddrs(a.Addrs, r.vips) {
			return true
		}
		r.counters.AddrMismatch++
		if a.Priority == 255 {
			// RFC 3768 7.1: log, but an owner's advert is still processed.
			r.out = append(r.out, Action{Kind: ActionAddrMismatch, Src: a.Src, Priority: a.Priority})
			return true
		}
		r.discard(a, DiscardAddrList)
	}
	return false
}

// ttlOK checks the TTL (hop limit): 255 on a multicast router (RFC 5798
// 7.1); on a unicast router the peer's min_ttl-max_ttl (any TTL when it
// sets none), as keepalived relaxes it for peers that may be routed.
func (r *Router) ttlOK(a *Advert) bool {
	c := &r.cfg
	if len(c.UnicastPeers) == 0 {
		return a.TTL == 255
	}
	for i, p := range c.UnicastPeers {
		if p == a.Src && i < len(c.PeerTTL) {
			return a.TTL >= int(c.PeerTTL[i].Min) && a.TTL <= int(c.PeerTTL[i].Max)
		}
	}
	return a.TTL >= 0
}

func authType(pass string) uint8 {
	if pass == "" {
		return 0
	}
	return 1
}

func authData(pass string) (d [8]byte) {
	copy(d[:], pass)
	return d
}

func sameAddrs(a, b []netip.Addr) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

func (r *Router) receive(now time.Time, a *Advert) {
	if r.state != StateBackup && r.state != StateMaster {
		return // not listening
	}
	if !r.check(a) {
		return
	}
	r.counters.AdvertsReceived++
	if a.Priority == 0 {
		r.counters.PriorityZeroReceived++
	}
	switch r.state {
	case StateBackup:
		r.backupReceive(now, a)
	case StateMaster:
		r.masterReceive(now, a)
	}
}

func (r *Router) learnInterval(a *Advert) {
	if r.cfg.Version == 3 && a.Interval > 0 {
		r.masterAdverInt = a.Interval
	}
}

func (r *Router) backupReceive(now time.Time, a *Advert) {
	c := &r.cfg
	if a.Priority == 0 {
		// The master resigned: take over after Skew_Time unless someone
		// else speaks first.
		r.master = netip.Addr{}
		r.setMasterDown(now, r.SkewTime(), ReasonPriorityZero, a.Src)
		return
	}
	if c.NoPreempt || a.Priority >= r.prio {
		r.learnInterval(a)
		r.master = a.Src
		if !r.preemptAt.IsZero() && !now.Before(r.preemptAt) {
			r.preemptAt = time.Time{} // the next lower priority master gets a fresh delay
		}
		r.setMasterDown(now, r.MasterDownInterval(), ReasonMasterDown, a.Src)
		return
	}
	// A lower priority master while preemption is on.
	if c.PreemptDelay > 0 {
		if r.preemptAt.IsZero() {
			r.preemptAt = now.Add(c.PreemptDelay)
		}
		if now.Before(r.preemptAt) {
			// Accept it until the delay is over, then preempt.
			r.learnInterval(a)
			r.master = a.Src
			mdi := r.MasterDownInterval()
			if wait := r.preemptAt.Sub(now); wait < mdi {
				r.setMasterDown(now, wait, ReasonPreemptDelay, a.Src)
			} else {
				r.setMasterDown(now, mdi, ReasonMasterDown, a.Src)
			}
			return
		}
	}
	// Discarded (RFC 5798 6.4.2): the master down timer runs out and this
	// router preempts.
	if r.downReason == ReasonMasterDown || r.downReason == ReasonPreemptDelay {
		r.downReason = ReasonPreempt
	}
}

func (r *Router) masterReceive(now time.Time, a *Advert) {
	c := &r.cfg
	if a.Priority == 0 {
		// Another master resigned: assert ourselves at once.
		r.sendAdvert(r.prio)
		r.timers[timerAdver] = now.Add(c.AdvertInterval)
		return
	}
	higher := a.Priority > r.prio
	tieLost := a.Priority == r.prio && addrGreater(a.Src, c.Primary)
	if higher || tieLost {
		if c.HigherPrioSendAdvert {
			// keepalived's higher_prio_send_advert: one advert of ours on
			// the way out, for a peer that does not hear us otherwise.
			r.sendAdvert(r.prio)
		}
		r.learnInterval(a)
		reason := ReasonHigherPrio
		if tieLost {
			reason = ReasonHigherAddress
		}
		r.leaveMaster(StateBackup, reason, a.Src, a.Priority)
		r.setMasterDown(now, r.MasterDownInterval(), ReasonMasterDown, a.Src)
		return
	}
	// A lower priority (or lower address) master: re-assert at once with an
	// advert (unless lower_prio_no_advert) and GARPs, as keepalived does,
	// and a second burst later.
	g := c.GARP
	if !c.LowerPrioNoAdvert {
		r.sendAdvert(r.prio)
		r.timers[timerAdver] = now.Add(c.AdvertInterval)
	}
	if g.LowerPrioRepeat > 0 {
		r.garp(g.LowerPrioRepeat, GARPLowerPrio)
		if g.LowerPrioDelay > 0 {
			r.timers[timerGARPLowerPrio] = now.Add(g.LowerPrioDelay)
		}
	}
	r.out = append(r.out, Action{Kind: ActionLowerPrioRx, Src: a.Src, Priority: a.Priority})
}

func addrGreater(a, b netip.Addr) bool { return a.Compare(b) > 0 }

// CountDiscard counts a message discarded before it could be handed to
// Handle (malformed beyond decoding).
func (r *Router) CountDiscard(why DiscardReason) { r.counters.Discards[why]++ }
