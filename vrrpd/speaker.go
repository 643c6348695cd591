package vrrpd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/vrrpctl/vrrpctl/decode"
	"github.com/vrrpctl/vrrpctl/internal/nsenter"
)

// Options configure a Speaker.
type Options struct {
	Routers []RouterConfig
	// Scripts and TrackFiles are the vrrp_scripts and track_files the
	// routers track by name; SyncGroups the routers that change state
	// together.
	Scripts    []ScriptConfig
	TrackFiles []TrackFileConfig
	SyncGroups []SyncGroupConfig
	// NotifyTimeout kills a notify script that runs longer (default
	// DefaultNotifyTimeout).
	NotifyTimeout time.Duration
	// NetNS is the path of a network namespace (such as /run/netns/NAME)
	// whose interfaces the speaker works on; empty means the caller's. With
	// it several speakers can run in one process, each in its namespace.
	NetNS  string
	Logger *slog.Logger
}

// Speaker runs virtual routers on the host: it owns their sockets, adds
// and removes their virtual addresses and sends their GARPs.
type Speaker struct {
	opts  Options
	log   *slog.Logger
	ready chan struct{}

	mu      sync.Mutex // held while the run loop handles an event
	routers []*vrouter
	ifaces  []*iface
	running bool
	started time.Time
	reloads chan reloadReq
	stopped chan struct{} // closed when Run returns
}

// vrouter is a Router with its place on the host.
type vrouter struct {
	idx     int
	r       *Router
	cfg     RouterConfig
	ifc     *iface
	conn    advertConn
	dsts    []netip.Addr
	had     map[netip.Addr]bool // virtual addresses on the interface before start: never touched
	added   map[netip.Addr]bool // virtual addresses this speaker added
	bits    map[netip.Addr]int  // their prefix lengths
	given   RouterConfig        // the configuration as given, before the host filled it in
	since   time.Time
	reason  string
	garps   uint64
	lastErr string
	vmac    *vmac // use_vmac: the macvlan the addresses, adverts and GARPs use
	// parentDown and vmacDown say which of its links are down.
	parentDown, vmacDown bool
	trackFault           bool
	notifier             *notifier
	group                *groupRun
}

// iface is one interface and what is shared on it.
type iface struct {
	name      string
	ifi       *net.Interface
	link      netlink.Link
	conn4     advertConn
	conn6     advertConn
	frames    frameConn
	pacer     Pacer
	linkLocal netip.Addr
	up        bool
	routers   map[routerKey]*vrouter
	discards  [numDiscardReasons]uint64 // messages no router could take
}

type routerKey struct {
	v6   bool
	vrid uint8
}

// New checks the configuration; it changes nothing on the host.
func New(opts Options) (*Speaker, error) {
	if err := checkOptions(&opts); err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Speaker{opts: opts, log: log, ready: make(chan struct{}), reloads: make(chan reloadReq), stopped: make(chan struct{})}, nil
}

// checkOptions validates opts and names the routers without a name.
func checkOptions(opts *Options) error {
	if len(opts.Routers) == 0 {
		return errNoRouters
	}
	seen := map[string]string{}
	names := map[string]bool{}
	for i := range opts.Routers {
		c := &opts.Routers[i]
		if err := c.Validate(); err != nil {
			return err
		}
		key := fmt.Sprintf("%s/%v/%d", c.Interface, c.IPv6(), c.VRID)
		if other, dup := seen[key]; dup {
			return fmt.Errorf("virtual routers %s and %s both use VRID %d on %s", other, c.Name, c.VRID, c.Interface)
		}
		if c.Name == "" {
			// IPv4 and IPv6 routers may share a VRID on an interface: the
			// default name tells them apart (it labels their metrics).
			c.Name = fmt.Sprintf("VR_%s_%d", c.Interface, c.VRID)
			if c.IPv6() {
				c.Name = fmt.Sprintf("VR6_%s_%d", c.Interface, c.VRID)
			}
		}
		if names[c.Name] {
			return fmt.Errorf("two virtual routers are named %s", c.Name)
		}
		names[c.Name] = true
		seen[key] = c.Name
	}
	scripts := map[string]bool{}
	for _, sc := range opts.Scripts {
		if sc.Command == "" || sc.Interval <= 0 || sc.Timeout <= 0 {
			return fmt.Errorf("vrrp_script %s: needs a command, an interval and a timeout", sc.Name)
		}
		scripts[sc.Name] = true
	}
	files := map[string]bool{}
	for _, tf := range opts.TrackFiles {
		files[tf.Name] = true
	}
	for _, c := range opts.Routers {
		for _, t := range c.TrackScripts {
			if !scripts[t.Name] {
				return fmt.Errorf("virtual router %s tracks vrrp_script %s, which is not defined", c.Name, t.Name)
			}
		}
		for _, t := range c.TrackFiles {
			if !files[t.Name] {
				return fmt.Errorf("virtual router %s tracks track_file %s, which is not defined", c.Name, t.Name)
			}
		}
	}
	for _, g := range opts.SyncGroups {
		for _, m := range g.Members {
			if !names[m] {
				return fmt.Errorf("vrrp_sync_group %s: no virtual router %s", g.Name, m)
			}
		}
	}
	return nil
}

// Ready is closed once Run has opened its sockets and started the routers.
func (s *Speaker) Ready() <-chan struct{} { return s.ready }

// CheckPrivileges reports an error unless the process has CAP_NET_RAW and
// CAP_NET_ADMIN in its effective set.
func CheckPrivileges() error {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil // cannot tell: let the sockets say
	}
	for _, line := range strings.Split(string(data), "\n") {
		hex, ok := strings.CutPrefix(line, "CapEff:")
		if !ok {
			continue
		}
		caps, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
		if err != nil {
			return nil
		}
		var missing []string
		if caps&(1<<unix.CAP_NET_ADMIN) == 0 {
			missing = append(missing, "CAP_NET_ADMIN")
		}
		if caps&(1<<unix.CAP_NET_RAW) == 0 {
			missing = append(missing, "CAP_NET_RAW")
		}
		if len(missing) > 0 {
			return fmt.Errorf("missing %s: the speaker needs CAP_NET_RAW (raw VRRP and packet sockets) and CAP_NET_ADMIN (virtual addresses); run it as root or grant them (setcap cap_net_raw,cap_net_admin+ep)", strings.Join(missing, " and "))
		}
	}
	return nil
}

type rxMsg struct {
	ifc  *iface
	vmac *vrouter // set when read from this router's macvlan
	v6   bool
	msg  []byte
	info rxInfo
}

// Run starts the routers and runs them until ctx is done; then masters send
// a priority-0 advert and every virtual address the speaker added is
// removed. Addresses are removed on every return, errors and panics
// included.
func (s *Speaker) Run(ctx context.Context) (err error) {
	defer close(s.stopped)
	if err := CheckPrivileges(); err != nil {
		return err
	}
	nl, nsh, err := s.openNetlink()
	if err != nil {
		return err
	}
	if nsh.IsOpen() {
		defer nsh.Close()
	}
	defer nl.Close()

	rctx, stopReaders := context.WithCancel(ctx)
	defer stopReaders()
	h := &runState{s: s, nl: nl, sysctlOld: map[string]string{}, byName: map[string]*iface{},
		rx: make(chan rxMsg, 512), rctx: rctx, links: map[string]bool{}, updates: make(chan trackUpdate, 64)}
	defer h.close()
	defer h.wg.Wait()
	defer stopReaders()
	defer h.closeConns()
	if err := nsenter.RunPath(s.opts.NetNS, func() error { return h.addRouters(s.opts.Routers) }); err != nil {
		return nsHint(err)
	}
	defer h.removeAddresses()

	linkCh := make(chan netlink.LinkUpdate, 64)
	linkDone := make(chan struct{})
	defer close(linkDone)
	lopts := netlink.LinkSubscribeOptions{ErrorCallback: func(error) {}}
	if nsh.IsOpen() {
		lopts.Namespace = &nsh
	}
	if err := netlink.LinkSubscribeWithOptions(linkCh, linkDone, lopts); err != nil {
		return permissionHint(err, "watching links")
	}
	h.startTracking(s.opts, nil)
	defer h.stopTracking()
	h.buildGroups(s.opts.SyncGroups)

	s.start(h)
	defer s.locked(func() { s.running = false })
	s.loop(ctx, h, linkCh)
	return nil
}

// openNetlink opens a netlink handle in the speaker's namespace, and that
// namespace's handle (closed, netns.None(), for the caller's own).
func (s *Speaker) openNetlink() (*netlink.Handle, netns.NsHandle, error) {
	if s.opts.NetNS == "" {
		nl, err := netlink.NewHandle()
		if err != nil {
			return nil, netns.None(), permissionHint(err, "opening netlink")
		}
		return nl, netns.None(), nil
	}
	nsh, err := netns.GetFromPath(s.opts.NetNS)
	if err != nil {
		return nil, netns.None(), fmt.Errorf("opening network namespace %s: %w", s.opts.NetNS, err)
	}
	nl, err := netlink.NewHandleAt(nsh)
	if err != nil {
		nsh.Close()
		return nil, netns.None(), permissionHint(err, "opening netlink")
	}
	return nl, nsh, nil
}

// Backoff of a reader whose socket keeps failing, so that it does not spin.
const (
	readBackoffMin = time.Millisecond
	readBackoffMax = time.Second
)

// startReader reads adverts from conn into h.rx until the socket is closed
// or the run ends. Repeated errors back off, from readBackoffMin doubling to
// readBackoffMax, and are logged once per streak.
func (h *runState) startReader(ifc *iface, vmac *vrouter, conn advertConn, v6 bool) {
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		buf := make([]byte, 1500)
		backoff := time.Duration(0)
		for {
			n, info, err := conn.ReadAdvert(buf)
			if err != nil {
				if errors.Is(err, net.ErrClosed) || h.rctx.Err() != nil {
					return
				}
				if backoff == 0 {
					h.s.log.Warn("reading adverts", "interface", ifc.name, "err", err)
					backoff = readBackoffMin
				} else {
					backoff = min(2*backoff, readBackoffMax)
				}
				select {
				case <-time.After(backoff):
				case <-h.rctx.Done():
					return
				}
				continue
			}
			backoff = 0
			select {
			case h.rx <- rxMsg{ifc: ifc, vmac: vmac, v6: v6, msg: append([]byte(nil), buf[:n]...), info: info}:
			case <-h.rctx.Done():
				return
			}
		}
	}()
}

// locked runs f with s.mu held, released even if f panics: the deferred
// clean-up of Run (addresses, macvlans, ARP settings) takes it too.
func (s *Speaker) locked(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f()
}

// start publishes the routers, gives each its start-up event (and a link
// down event when its interface is down) and tells Ready.
func (s *Speaker) start(h *runState) {
	s.locked(func() {
		s.routers, s.ifaces, s.running, s.started = h.routers, h.ifaces, true, time.Now()
		now := time.Now()
		for _, vr := range h.routers {
			h.startRouter(vr, now)
		}
		h.flushGARPs(now)
	})
	close(s.ready)
}

// startRouter brings a router to life: its tracking, its links, then its
// start-up event.
func (h *runState) startRouter(vr *vrouter, now time.Time) {
	vr.since = now
	if vr.cfg.IPv6() && !vr.cfg.VIPs[0].Addr().IsLinkLocalUnicast() {
		h.s.log.Warn("the first address of an IPv6 virtual router should be link-local (RFC 5798 5.2.9)",
			"router", vr.cfg.Name, "address", vr.cfg.VIPs[0].String())
	}
	h.retrack(vr, now)
	h.handle(vr, Event{Kind: EventStartup}, now)
	if !vr.linkUp() {
		h.handle(vr, Event{Kind: EventLinkDown}, now)
	}
}

// loop runs the routers' timers, the adverts received, the link changes,
// the tracking and the reloads until ctx is done, then shuts every router
// down.
func (s *Speaker) loop(ctx context.Context, h *runState, linkCh <-chan netlink.LinkUpdate) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		var wait time.Time
		var ok bool
		s.locked(func() {
			h.tick(time.Now())
			wait, ok = h.nextDeadline()
		})
		if ok {
			timer.Reset(max(time.Until(wait), 0))
		} else {
			timer.Reset(time.Hour)
		}
		select {
		case <-ctx.Done():
			s.locked(func() {
				now := time.Now()
				for _, vr := range h.routers {
					h.handle(vr, Event{Kind: EventShutdown}, now)
				}
			})
			h.waitNotifiers()
			return
		case <-timer.C:
		case m := <-h.rx:
			s.locked(func() {
				now := time.Now()
				h.tick(now)
				h.receive(m, now)
				h.flushGARPs(now)
			})
		case u := <-linkCh:
			s.locked(func() {
				h.linkUpdate(u, time.Now())
				h.flushGARPs(time.Now())
			})
		case u := <-h.updates:
			s.locked(func() {
				h.trackUpdate(u, time.Now())
				h.flushGARPs(time.Now())
			})
		case req := <-s.reloads:
			var err error
			s.locked(func() {
				err = h.reload(req.opts, time.Now())
				h.flushGARPs(time.Now())
				s.routers, s.ifaces = h.routers, h.ifaces
			})
			req.done <- err
		}
	}
}

// runState is the host side of one Run.
type runState struct {
	s       *Speaker
	nl      *netlink.Handle
	ifaces  []*iface
	byName  map[string]*iface
	routers []*vrouter
	nextIdx int // the index of the next router added
	adv     decode.VRRP
	// sysctlOld holds the parents' settings a macvlan changed (path ->
	// value found), restored on exit.
	sysctlOld map[string]string

	rx   chan rxMsg
	rctx context.Context // the readers run until it is done
	wg   sync.WaitGroup

	// Tracking: the scripts' and files' states, the tracked interfaces'
	// links by name, and the updates of the goroutines that watch them.
	scripts     map[string]*scriptState
	files       map[string]*TrackFileConfig
	fileValues  map[string]int
	links       map[string]bool
	updates     chan trackUpdate
	stopTrack   context.CancelFunc
	trackDone   sync.WaitGroup
	groups      []*groupRun
	notifyLog   []*notifier // every notifier, to wait for at the end
	groupNotify map[string]*notifier
}

// groupRun is a sync group while the speaker runs.
type groupRun struct {
	cfg      SyncGroupConfig
	members  []*vrouter
	state    State
	notifier *notifier
}

// addRouters opens what the routers need on the host (interfaces, sockets,
// macvlans) and adds them; it runs in the speaker's namespace and changes
// nothing on the host but the macvlans and the virtual addresses a killed
// run left behind.
func (h *runState) addRouters(cfgs []RouterConfig) error {
	for _, cfg := range cfgs {
		if err := h.addRouter(cfg); err != nil {
			return err
		}
	}
	return nil
}

func (h *runState) addRouter(cfg RouterConfig) error {
	ifc, err := h.iface(cfg)
	if err != nil {
		return err
	}
	ifc.pacer.Interval = max(ifc.pacer.Interval, cfg.GARP.Interval)
	v6 := cfg.IPv6()
	family := netlink.FAMILY_V4
	if v6 {
		family = netlink.FAMILY_V6
	}
	addrs, err := h.nl.AddrList(ifc.link, family)
	if err != nil {
		return fmt.Errorf("listing addresses of %s: %w", ifc.name, err)
	}
	vr := &vrouter{idx: h.nextIdx, cfg: cfg, given: cfg, ifc: ifc, had: map[netip.Addr]bool{}, added: map[netip.Addr]bool{}, bits: map[netip.Addr]int{}}
	h.nextIdx++
	for _, a := range addrs {
		ip, _ := netip.AddrFromSlice(a.IP)
		ip = ip.Unmap()
		for _, p := range append(slices.Clone(cfg.VIPs), cfg.ExcludedVIPs...) {
			if p.Addr() != ip {
				continue
			}
			if h.leftover(vr, a) {
				break
			}
			vr.had[ip] = true
			h.s.log.Warn("virtual address already on the interface at start: taken as configured by hand, never added or removed by the speaker",
				"router", cfg.Name, "address", ip.String(), "interface", ifc.name)
		}
		if v6 && ip.IsLinkLocalUnicast() && !ifc.linkLocal.IsValid() {
			ifc.linkLocal = ip
		}
		if !vr.cfg.Primary.IsValid() && !vr.had[ip] && (!v6 || ip.IsLinkLocalUnicast()) {
			vr.cfg.Primary = ip
		}
	}
	if !vr.cfg.Primary.IsValid() {
		return fmt.Errorf("virtual router %s: interface %s has no %s address to send adverts from", cfg.Name, ifc.name, map[bool]string{false: "IPv4", true: "IPv6 link-local"}[v6])
	}
	if vr.r, err = NewRouter(vr.cfg); err != nil {
		return err
	}
	unicast := len(cfg.UnicastPeers) > 0
	vr.dsts = cfg.UnicastPeers
	if !unicast {
		vr.dsts = []netip.Addr{cfg.group()}
	}
	conn := &ifc.conn4
	if v6 {
		conn = &ifc.conn6
	}
	if *conn == nil {
		var c advertConn
		if v6 {
			c, err = listenIPv6(ifc.ifi)
		} else {
			c, err = listenIPv4(ifc.ifi)
		}
		if err != nil {
			return err
		}
		*conn = c
		h.startReader(ifc, nil, c, v6)
	}
	if !unicast {
		if err := (*conn).Join(cfg.group()); err != nil {
			return err
		}
	}
	vr.conn = *conn
	ifc.routers[routerKey{v6, cfg.VRID}] = vr
	h.routers = append(h.routers, vr)
	vr.notifier = newNotifier(context.Background(), h.s.log, h.s.opts.NotifyTimeout)
	h.notifyLog = append(h.notifyLog, vr.notifier)
	if cfg.UseVMAC {
		if err := h.openVMAC(vr); err != nil {
			// Not half a router: its macvlan, if made, goes now.
			h.closeVMAC(vr)
			delete(ifc.routers, routerKey{v6, cfg.VRID})
			h.routers = h.routers[:len(h.routers)-1]
			return err
		}
		if vr.rxOnVMAC() {
			h.startReader(ifc, vr, vr.vmac.conn, v6)
		}
	}
	vr.parentDown = !ifc.up
	return nil
}

// iface returns the interface of cfg, opening it the first time.
func (h *runState) iface(cfg RouterConfig) (*iface, error) {
	if ifc, ok := h.byName[cfg.Interface]; ok {
		return ifc, nil
	}
	link, err := h.nl.LinkByName(cfg.Interface)
	if err != nil {
		return nil, fmt.Errorf("virtual router %s: interface %s: %w", cfg.Name, cfg.Interface, err)
	}
	a := link.Attrs()
	if len(a.HardwareAddr) != 6 {
		return nil, fmt.Errorf("interface %s has no Ethernet address", a.Name)
	}
	ifc := &iface{name: a.Name, link: link, routers: map[routerKey]*vrouter{},
		ifi: &net.Interface{Index: a.Index, MTU: a.MTU, Name: a.Name, HardwareAddr: a.HardwareAddr, Flags: a.Flags},
		up:  linkRunning(a)}
	fc, err := openPacketConn(ifc.ifi)
	if err != nil {
		return nil, err
	}
	ifc.frames = fc
	h.byName[cfg.Interface] = ifc
	h.ifaces = append(h.ifaces, ifc)
	return ifc, nil
}

func linkRunning(a *netlink.LinkAttrs) bool {
	return a.Flags&net.FlagUp != 0 && a.RawFlags&unix.IFF_RUNNING != 0
}

// linkUp reports whether the router's links are up: its interface (unless
// dont_track_primary) and its macvlan.
func (vr *vrouter) linkUp() bool {
	return (!vr.parentDown || vr.cfg.DontTrackPrimary) && !vr.vmacDown
}

func (h *runState) closeConns() {
	for _, ifc := range h.ifaces {
		if ifc.conn4 != nil {
			ifc.conn4.Close()
			ifc.conn4 = nil
		}
		if ifc.conn6 != nil {
			ifc.conn6.Close()
			ifc.conn6 = nil
		}
	}
	for _, vr := range h.routers {
		if vr.vmac != nil && vr.vmac.conn != nil {
			vr.vmac.conn.Close()
			vr.vmac.conn = nil
		}
	}
}

func (h *runState) close() {
	h.closeConns()
	h.closeVMACs()
	for _, ifc := range h.ifaces {
		if ifc.frames != nil {
			ifc.frames.Close()
			ifc.frames = nil
		}
	}
}

// removeAddresses removes every virtual address this speaker added.
func (h *runState) removeAddresses() {
	for _, vr := range h.routers {
		h.deleteVIPs(vr)
	}
}

func (h *runState) tick(now time.Time) {
	for _, vr := range h.routers {
		if d, ok := vr.r.NextDeadline(); ok && !d.After(now) {
			h.apply(vr, vr.r.Tick(now), now)
		}
	}
	h.flushGARPs(now)
}

func (h *runState) nextDeadline() (time.Time, bool) {
	var best time.Time
	found := false
	consider := func(t time.Time) {
		if !found || t.Before(best) {
			best, found = t, true
		}
	}
	for _, vr := range h.routers {
		if d, ok := vr.r.NextDeadline(); ok {
			consider(d)
		}
	}
	for _, ifc := range h.ifaces {
		if d, ok := ifc.pacer.NextDeadline(); ok {
			consider(d)
		}
	}
	return best, found
}

func (h *runState) receive(m rxMsg, now time.Time) {
	if len(m.msg) < 2 {
		m.ifc.discards[DiscardLength]++
		return
	}
	vr := m.ifc.routers[routerKey{m.v6, m.msg[1]}]
	switch {
	case m.vmac != nil:
		// The macvlan also gets the multicast of other routers, which
		// arrives on the parent as well: only this router's counts here.
		if vr != m.vmac {
			return
		}
	case vr == nil:
		m.ifc.discards[DiscardVRID]++
		return
	case vr.rxOnVMAC():
		return // taken from the macvlan, where it arrives too
	}
	a, ok := parseAdvert(&h.adv, m.msg, m.info, m.v6)
	if !ok {
		vr.r.CountDiscard(DiscardLength)
		h.s.log.Debug("advert discarded", "router", vr.cfg.Name, "reason", DiscardLength.String(), "src", m.info.Src.String())
		return
	}
	h.apply(vr, vr.r.Handle(now, Event{Kind: EventAdvert, Advert: a}), now)
}

// linkUpdate follows the links: a router's interface and macvlan (down is
// FAULT), and the interfaces routers track.
func (h *runState) linkUpdate(u netlink.LinkUpdate, now time.Time) {
	a := u.Attrs()
	up := linkRunning(a) && u.Header.Type != unix.RTM_DELLINK
	if was, tracked := h.links[a.Name]; tracked && was != up {
		h.links[a.Name] = up
		for _, vr := range h.routers {
			h.retrack(vr, now)
		}
	}
	for _, ifc := range h.ifaces {
		if ifc.ifi.Index == a.Index {
			ifc.up = up
		}
	}
	for _, vr := range h.routers {
		before := vr.linkUp()
		if vr.ifc.ifi.Index == a.Index {
			vr.parentDown = !up
		}
		if vr.vmac != nil && vr.vmac.ifi.Index == a.Index {
			vr.vmacDown = !up
		}
		if after := vr.linkUp(); after != before {
			ev := Event{Kind: EventLinkDown}
			if after {
				ev.Kind = EventLinkUp
			}
			h.handle(vr, ev, now)
		}
	}
}

// handle gives a router an event and carries out its actions.
func (h *runState) handle(vr *vrouter, ev Event, now time.Time) {
	h.apply(vr, vr.r.Handle(now, ev), now)
}

// apply carries out a router's actions, then what they mean for its sync
// group.
func (h *runState) apply(vr *vrouter, acts []Action, now time.Time) {
	log := h.s.log
	var edges []EventKind
	for _, a := range acts {
		switch a.Kind {
		case ActionSendAdvert:
			h.sendAdvert(vr, a.Priority)
		case ActionAddVIPs:
			h.addVIPs(vr)
		case ActionDeleteVIPs:
			h.deleteVIPs(vr)
			vr.ifc.pacer.Drop(vr.idx)
		case ActionGARP:
			vr.ifc.pacer.Push(vr.idx, a.Count, vr.garpAddrs())
			log.Debug("gratuitous ARP burst", "router", vr.cfg.Name, "schedule", a.Reason, "repeat", a.Count)
		case ActionStateChange:
			vr.since, vr.reason = now, a.Reason
			attrs := []any{"router", vr.cfg.Name, "interface", vr.cfg.Interface, "vrid", vr.cfg.VRID,
				"from", a.From.String(), "to", a.To.String(), "reason", a.Reason, "priority", vr.r.Priority()}
			if a.Src.IsValid() {
				attrs = append(attrs, "peer", a.Src.String())
			}
			if a.Priority != 0 {
				attrs = append(attrs, "peer_priority", a.Priority)
			}
			log.Info("state change", attrs...)
			h.notify(vr, a.To)
			if ev, ok := syncEdge(a); ok && vr.group != nil {
				edges = append(edges, ev)
			}
		case ActionDiscard:
			log.Debug("advert discarded", "router", vr.cfg.Name, "reason", a.Discard.String(), "src", a.Src.String(), "priority", a.Priority)
		case ActionAddrMismatch:
			log.Warn("advert address list differs from ours", "router", vr.cfg.Name, "src", a.Src.String())
		case ActionLowerPrioRx:
			log.Info("master heard a lower priority", "router", vr.cfg.Name, "peer", a.Src.String(), "peer_priority", a.Priority)
			vr.notifier.add(notifyJob{owner: vr.cfg.Name, script: vr.cfg.NotifyMasterRxLowerPri})
		}
	}
	if g := vr.group; g != nil {
		for _, ev := range edges {
			for _, m := range g.members {
				if m != vr {
					h.handle(m, Event{Kind: ev}, now)
				}
			}
		}
		h.syncFaults(g, now)
		h.groupChanged(g)
	}
}

// garpAddrs are the addresses a router announces: its virtual and excluded
// addresses.
func (vr *vrouter) garpAddrs() []netip.Addr {
	var addrs []netip.Addr
	for _, p := range vr.cfg.VIPs {
		addrs = append(addrs, p.Addr())
	}
	for _, p := range vr.cfg.ExcludedVIPs {
		addrs = append(addrs, p.Addr())
	}
	return addrs
}

func (h *runState) sendAdvert(vr *vrouter, prio uint8) {
	ttl := vr.cfg.UnicastTTL
	if ttl == 0 {
		ttl = 255
	}
	for _, dst := range vr.dsts {
		b, err := encodeAdvert(&vr.cfg, prio, vr.cfg.Primary, dst)
		if err == nil {
			conn := vr.conn
			if vr.vmac != nil {
				conn = vr.vmac.conn
			}
			err = conn.WriteAdvert(b, vr.cfg.Primary, dst, ttl)
		}
		if err != nil {
			vr.lastErr = err.Error()
			h.s.log.Warn("advert not sent", "router", vr.cfg.Name, "err", err)
		}
	}
}

func vipLabel(ifname string, vrid uint8) string {
	for _, l := range []string{fmt.Sprintf("%s:vrrp%d", ifname, vrid), fmt.Sprintf("%s:%d", ifname, vrid)} {
		if len(l) <= 15 {
			return l
		}
	}
	return ""
}

// leftover removes a, a virtual address on the router's interface at
// start, if an earlier run of the speaker left it there (killed before it
// could remove it): an IPv4 address with the label the speaker gives its
// virtual addresses. Kept, it would make this host answer for the VIP
// while it is a backup. An address without that label (and any IPv6
// address, which has no label) is the administrator's.
func (h *runState) leftover(vr *vrouter, a netlink.Addr) bool {
	if a.IP.To4() == nil || a.Label == "" || a.Label != vipLabel(vr.ifc.name, vr.cfg.VRID) {
		return false
	}
	err := h.nl.AddrDel(vr.ifc.link, &a)
	if err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
		h.s.log.Error("removing a virtual address left by an earlier run", "router", vr.cfg.Name, "address", a.IPNet.String(), "interface", vr.ifc.name, "err", err)
		return false
	}
	h.s.log.Warn("removed a virtual address left by an earlier run of the speaker", "router", vr.cfg.Name, "address", a.IPNet.String(), "interface", vr.ifc.name)
	return true
}

// addVIPs adds the router's virtual and excluded addresses that are not on
// the interface yet.
func (h *runState) addVIPs(vr *vrouter) {
	for _, p := range append(slices.Clone(vr.cfg.VIPs), vr.cfg.ExcludedVIPs...) {
		ip := p.Addr()
		if vr.had[ip] || vr.added[ip] {
			continue
		}
		addr := &netlink.Addr{IPNet: &net.IPNet{IP: ip.AsSlice(), Mask: net.CIDRMask(p.Bits(), ip.BitLen())}}
		link, name := vr.ifc.link, vr.ifc.name
		if vr.vmac != nil {
			link, name = vr.vmac.link, vr.vmac.name
		}
		if ip.Is4() {
			addr.Label = vipLabel(name, vr.cfg.VRID)
		} else {
			addr.Flags = unix.IFA_F_NODAD
		}
		if err := h.nl.AddrAdd(link, addr); err != nil && !errors.Is(err, unix.EEXIST) {
			vr.lastErr = err.Error()
			h.s.log.Error("adding virtual address", "router", vr.cfg.Name, "address", p.String(), "interface", vr.ifc.name, "err", err)
			continue
		}
		vr.added[ip] = true
		vr.bits[ip] = p.Bits()
	}
}

// deleteVIPs removes every address the router added.
func (h *runState) deleteVIPs(vr *vrouter) {
	h.deleteAddrs(vr, func(netip.Addr) bool { return true })
}

// deleteAddrs removes the addresses the router added for which del is true.
func (h *runState) deleteAddrs(vr *vrouter, del func(netip.Addr) bool) {
	for ip := range vr.added {
		if !del(ip) {
			continue
		}
		bits, ok := vr.bits[ip]
		if !ok {
			bits = ip.BitLen()
		}
		addr := &netlink.Addr{IPNet: &net.IPNet{IP: ip.AsSlice(), Mask: net.CIDRMask(bits, ip.BitLen())}}
		link := vr.ifc.link
		if vr.vmac != nil {
			link = vr.vmac.link
		}
		if err := h.nl.AddrDel(link, addr); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) && !errors.Is(err, unix.ENODEV) {
			vr.lastErr = err.Error()
			h.s.log.Error("removing virtual address", "router", vr.cfg.Name, "address", ip.String(), "interface", vr.ifc.name, "err", err)
			continue
		}
		delete(vr.added, ip)
	}
}

// flushGARPs sends the GARPs whose turn has come.
func (h *runState) flushGARPs(now time.Time) {
	for _, ifc := range h.ifaces {
		for _, it := range ifc.pacer.Pop(now) {
			var vr *vrouter
			for _, r := range h.routers {
				if r.idx == it.Router {
					vr = r
				}
			}
			if vr == nil {
				continue // the router was removed by a reload
			}
			var frame []byte
			var err error
			mac, out := ifc.ifi.HardwareAddr, ifc.frames
			if vr.vmac != nil {
				mac, out = vr.vmac.ifi.HardwareAddr, vr.vmac.frames
			}
			if it.Addr.Is4() {
				frame, err = garpFrame(mac, it.Addr)
			} else {
				frame, err = naFrame(mac, ifc.linkLocal, it.Addr)
			}
			if err == nil {
				err = out.WriteFrame(frame)
			}
			if err != nil {
				vr.lastErr = err.Error()
				h.s.log.Warn("gratuitous ARP not sent", "router", vr.cfg.Name, "address", it.Addr.String(), "err", err)
				continue
			}
			vr.garps++
		}
	}
}

// notify queues the router's notify scripts for its entry into st, as
// keepalived's notify_master, notify_backup, notify_fault, notify_stop and
// notify; they run one at a time, in order, without holding up the loop.
func (h *runState) notify(vr *vrouter, st State) {
	c := &vr.cfg
	own := map[State]string{StateMaster: c.NotifyMaster, StateBackup: c.NotifyBackup, StateFault: c.NotifyFault, StateInitialize: c.NotifyStop}
	for _, j := range notifyScripts("INSTANCE", c.Name, st, vr.r.Priority(), own, c.Notify) {
		vr.notifier.add(j)
	}
}

// waitNotifiers waits for the notify scripts queued (notify_stop among
// them), each queue at most its timeout.
func (h *runState) waitNotifiers() {
	d := h.s.opts.NotifyTimeout
	if d <= 0 {
		d = DefaultNotifyTimeout
	}
	deadline := time.Now().Add(d)
	for _, n := range h.notifyLog {
		n.wait(time.Until(deadline))
	}
}
