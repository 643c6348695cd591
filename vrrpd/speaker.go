package vrrpd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
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
	since   time.Time
	reason  string
	garps   uint64
	lastErr string
	vmac    *vmac // use_vmac: the macvlan the addresses, adverts and GARPs use
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
	if len(opts.Routers) == 0 {
		return nil, errNoRouters
	}
	seen := map[string]string{}
	for i := range opts.Routers {
		c := &opts.Routers[i]
		if err := c.Validate(); err != nil {
			return nil, err
		}
		key := fmt.Sprintf("%s/%v/%d", c.Interface, c.IPv6(), c.VRID)
		if other, dup := seen[key]; dup {
			return nil, fmt.Errorf("virtual routers %s and %s both use VRID %d on %s", other, c.Name, c.VRID, c.Interface)
		}
		if c.Name == "" {
			// IPv4 and IPv6 routers may share a VRID on an interface: the
			// default name tells them apart (it labels their metrics).
			c.Name = fmt.Sprintf("VR_%s_%d", c.Interface, c.VRID)
			if c.IPv6() {
				c.Name = fmt.Sprintf("VR6_%s_%d", c.Interface, c.VRID)
			}
		}
		seen[key] = c.Name
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Speaker{opts: opts, log: log, ready: make(chan struct{})}, nil
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
// removed. Addresses are removed on every return, errors included.
func (s *Speaker) Run(ctx context.Context) (err error) {
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

	h := &runState{s: s, nl: nl, sysctlOld: map[string]string{}}
	defer h.close()
	if err := nsenter.RunPath(s.opts.NetNS, h.open); err != nil {
		return nsHint(err)
	}
	defer h.removeAddresses()

	linkCh := make(chan netlink.LinkUpdate, 16)
	linkDone := make(chan struct{})
	defer close(linkDone)
	lopts := netlink.LinkSubscribeOptions{ErrorCallback: func(error) {}}
	if nsh.IsOpen() {
		lopts.Namespace = &nsh
	}
	if err := netlink.LinkSubscribeWithOptions(linkCh, linkDone, lopts); err != nil {
		return permissionHint(err, "watching links")
	}

	rx := make(chan rxMsg, 512)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer h.closeConns()
	h.startReaders(ctx, rx, &wg)

	s.start(h)
	defer func() {
		s.mu.Lock()
		s.running = false
		s.mu.Unlock()
	}()
	s.loop(ctx, h, rx, linkCh)
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

// startReaders reads adverts from every socket of the speaker (each
// interface's IPv4 and IPv6 sockets, and the macvlan of a router that
// receives there) into rx, until the socket is closed or ctx is done.
func (h *runState) startReaders(ctx context.Context, rx chan<- rxMsg, wg *sync.WaitGroup) {
	type reader struct {
		ifc  *iface
		vmac *vrouter
		conn advertConn
		v6   bool
	}
	var readers []reader
	for _, ifc := range h.ifaces {
		readers = append(readers, reader{ifc: ifc, conn: ifc.conn4}, reader{ifc: ifc, conn: ifc.conn6, v6: true})
	}
	for _, vr := range h.routers {
		if vr.rxOnVMAC() {
			readers = append(readers, reader{ifc: vr.ifc, vmac: vr, conn: vr.vmac.conn, v6: vr.cfg.IPv6()})
		}
	}
	for _, rd := range readers {
		if rd.conn == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 1500)
			for {
				n, info, err := rd.conn.ReadAdvert(buf)
				if err != nil {
					if errors.Is(err, net.ErrClosed) {
						return
					}
					continue
				}
				select {
				case rx <- rxMsg{ifc: rd.ifc, vmac: rd.vmac, v6: rd.v6, msg: append([]byte(nil), buf[:n]...), info: info}:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
}

// start publishes the routers, gives each its start-up event (and a link
// down event when its interface is down) and tells Ready.
func (s *Speaker) start(h *runState) {
	s.mu.Lock()
	s.routers, s.ifaces, s.running, s.started = h.routers, h.ifaces, true, time.Now()
	now := time.Now()
	for _, vr := range h.routers {
		vr.since = now
		h.apply(vr, vr.r.Handle(now, Event{Kind: EventStartup}), now)
		if !vr.ifc.up {
			h.apply(vr, vr.r.Handle(now, Event{Kind: EventLinkDown}), now)
		}
	}
	h.flushGARPs(now)
	s.mu.Unlock()
	close(s.ready)
}

// loop runs the routers' timers, the adverts received and the link
// changes until ctx is done, then shuts every router down.
func (s *Speaker) loop(ctx context.Context, h *runState, rx <-chan rxMsg, linkCh <-chan netlink.LinkUpdate) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		s.mu.Lock()
		h.tick(time.Now())
		wait, ok := h.nextDeadline()
		s.mu.Unlock()
		if ok {
			timer.Reset(max(time.Until(wait), 0))
		} else {
			timer.Reset(time.Hour)
		}
		select {
		case <-ctx.Done():
			s.mu.Lock()
			now := time.Now()
			for _, vr := range h.routers {
				h.apply(vr, vr.r.Handle(now, Event{Kind: EventShutdown}), now)
			}
			s.mu.Unlock()
			return
		case <-timer.C:
		case m := <-rx:
			s.mu.Lock()
			now := time.Now()
			h.tick(now)
			h.receive(m, now)
			h.flushGARPs(now)
			s.mu.Unlock()
		case u := <-linkCh:
			s.mu.Lock()
			h.linkUpdate(u, time.Now())
			s.mu.Unlock()
		}
	}
}

// runState is the host side of one Run.
type runState struct {
	s       *Speaker
	nl      *netlink.Handle
	ifaces  []*iface
	routers []*vrouter
	adv     decode.VRRP
	// sysctlOld holds the parents' settings a macvlan changed (path ->
	// value found), restored on exit.
	sysctlOld map[string]string
}

// open looks up interfaces and addresses and opens the sockets; it runs in
// the speaker's namespace and changes nothing on the host.
func (h *runState) open() error {
	byName := map[string]*iface{}
	for i, cfg := range h.s.opts.Routers {
		ifc, ok := byName[cfg.Interface]
		if !ok {
			link, err := h.nl.LinkByName(cfg.Interface)
			if err != nil {
				return fmt.Errorf("virtual router %s: interface %s: %w", cfg.Name, cfg.Interface, err)
			}
			a := link.Attrs()
			ifc = &iface{name: a.Name, link: link, routers: map[routerKey]*vrouter{},
				ifi: &net.Interface{Index: a.Index, MTU: a.MTU, Name: a.Name, HardwareAddr: a.HardwareAddr, Flags: a.Flags},
				up:  linkRunning(a)}
			ifc.pacer.Interval = cfg.GARP.Interval
			if len(a.HardwareAddr) != 6 {
				return fmt.Errorf("interface %s has no Ethernet address", a.Name)
			}
			byName[cfg.Interface] = ifc
			h.ifaces = append(h.ifaces, ifc)
			fc, err := openPacketConn(ifc.ifi)
			if err != nil {
				return err
			}
			ifc.frames = fc
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
		vr := &vrouter{idx: i, cfg: cfg, ifc: ifc, had: map[netip.Addr]bool{}, added: map[netip.Addr]bool{}}
		for _, a := range addrs {
			ip, _ := netip.AddrFromSlice(a.IP)
			ip = ip.Unmap()
			for _, p := range cfg.VIPs {
				if p.Addr() == ip {
					vr.had[ip] = true
				}
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
		vr.dsts = cfg.UnicastPeers
		unicast := len(cfg.UnicastPeers) > 0
		if !unicast {
			vr.dsts = []netip.Addr{Group4}
			if v6 {
				vr.dsts = []netip.Addr{Group6}
			}
		}
		conn := &ifc.conn4
		if v6 {
			conn = &ifc.conn6
		}
		if *conn == nil {
			if v6 {
				c, err := listenIPv6(ifc.ifi, vr.cfg.Primary, unicast)
				if err != nil {
					return err
				}
				*conn = c
			} else {
				c, err := listenIPv4(ifc.ifi, vr.cfg.Primary, unicast)
				if err != nil {
					return err
				}
				*conn = c
			}
		}
		vr.conn = *conn
		ifc.routers[routerKey{v6, cfg.VRID}] = vr
		h.routers = append(h.routers, vr)
		if cfg.UseVMAC {
			if err := h.openVMAC(vr); err != nil {
				return err
			}
		}
	}
	return nil
}

func linkRunning(a *netlink.LinkAttrs) bool {
	return a.Flags&net.FlagUp != 0 && a.RawFlags&unix.IFF_RUNNING != 0
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

func (h *runState) linkUpdate(u netlink.LinkUpdate, now time.Time) {
	a := u.Attrs()
	for _, ifc := range h.ifaces {
		if ifc.ifi.Index != a.Index {
			continue
		}
		up := linkRunning(a) && u.Header.Type != unix.RTM_DELLINK
		if up == ifc.up {
			return
		}
		ifc.up = up
		ev := Event{Kind: EventLinkDown}
		if up {
			ev.Kind = EventLinkUp
		}
		for _, vr := range h.routers {
			if vr.ifc == ifc {
				h.apply(vr, vr.r.Handle(now, ev), now)
			}
		}
	}
}

// apply carries out a router's actions.
func (h *runState) apply(vr *vrouter, acts []Action, now time.Time) {
	log := h.s.log
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
			var addrs []netip.Addr
			for _, p := range vr.cfg.VIPs {
				addrs = append(addrs, p.Addr())
			}
			vr.ifc.pacer.Push(vr.idx, a.Count, addrs)
			log.Debug("gratuitous ARP burst", "router", vr.cfg.Name, "schedule", a.Reason, "repeat", a.Count)
		case ActionStateChange:
			vr.since, vr.reason = now, a.Reason
			attrs := []any{"router", vr.cfg.Name, "interface", vr.cfg.Interface, "vrid", vr.cfg.VRID,
				"from", a.From.String(), "to", a.To.String(), "reason", a.Reason}
			if a.Src.IsValid() {
				attrs = append(attrs, "peer", a.Src.String())
			}
			if a.Priority != 0 {
				attrs = append(attrs, "peer_priority", a.Priority)
			}
			log.Info("state change", attrs...)
			h.notify(vr, a.To)
		case ActionDiscard:
			log.Debug("advert discarded", "router", vr.cfg.Name, "reason", a.Discard.String(), "src", a.Src.String(), "priority", a.Priority)
		case ActionAddrMismatch:
			log.Warn("advert address list differs from ours", "router", vr.cfg.Name, "src", a.Src.String())
		}
	}
}

func (h *runState) sendAdvert(vr *vrouter, prio uint8) {
	for _, dst := range vr.dsts {
		b, err := encodeAdvert(&vr.cfg, prio, vr.cfg.Primary, dst)
		if err == nil {
			conn := vr.conn
			if vr.vmac != nil {
				conn = vr.vmac.conn
			}
			err = conn.WriteAdvert(b, dst)
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

func (h *runState) addVIPs(vr *vrouter) {
	for _, p := range vr.cfg.VIPs {
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
	}
}

func (h *runState) deleteVIPs(vr *vrouter) {
	for _, p := range vr.cfg.VIPs {
		ip := p.Addr()
		if !vr.added[ip] {
			continue
		}
		addr := &netlink.Addr{IPNet: &net.IPNet{IP: ip.AsSlice(), Mask: net.CIDRMask(p.Bits(), ip.BitLen())}}
		link := vr.ifc.link
		if vr.vmac != nil {
			link = vr.vmac.link
		}
		if err := h.nl.AddrDel(link, addr); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) && !errors.Is(err, unix.ENODEV) {
			vr.lastErr = err.Error()
			h.s.log.Error("removing virtual address", "router", vr.cfg.Name, "address", p.String(), "interface", vr.ifc.name, "err", err)
			continue
		}
		delete(vr.added, ip)
	}
}

// flushGARPs sends the GARPs whose turn has come.
func (h *runState) flushGARPs(now time.Time) {
	for _, ifc := range h.ifaces {
		for _, it := range ifc.pacer.Pop(now) {
			vr := h.routers[0]
			for _, r := range h.routers {
				if r.idx == it.Router {
					vr = r
				}
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

// notify runs the router's notify script for state st, as keepalived's
// notify_master / notify_backup / notify_fault, without waiting for it.
func (h *runState) notify(vr *vrouter, st State) {
	var script string
	switch st {
	case StateMaster:
		script = vr.cfg.NotifyMaster
	case StateBackup:
		script = vr.cfg.NotifyBackup
	case StateFault:
		script = vr.cfg.NotifyFault
	}
	if script == "" {
		return
	}
	cmd := exec.Command("/bin/sh", "-c", script)
	if err := cmd.Start(); err != nil {
		h.s.log.Warn("notify script did not start", "router", vr.cfg.Name, "script", script, "err", err)
		return
	}
	go func() {
		if err := cmd.Wait(); err != nil {
			h.s.log.Warn("notify script failed", "router", vr.cfg.Name, "script", script, "err", err)
		}
	}()
}
