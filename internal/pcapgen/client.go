package pcapgen

import (
	"bytes"
	"net"
	"net/netip"
	"time"
)

// ClientModel is how a client's ARP cache treats the VIP.
type ClientModel int

const (
	// LinuxClient follows a Linux neighbour table: a GARP with a new MAC
	// replaces the entry at once (state STALE); an entry in use is
	// confirmed by a unicast ARP probe 5 s after it went stale, and after
	// three unanswered probes (1 s apart) it fails and is resolved again by
	// broadcast. A confirmed entry stays reachable for 15-45 s.
	LinuxClient ClientModel = iota
	// StaticClient ignores gratuitous ARP, as many firewalls and appliances
	// do: an entry lives ARPTimeout from when it was learned, then the next
	// packet resolves the VIP again by broadcast.
	StaticClient
)

// Traffic is what a client sends to a VIP. Its ARP cache (neighbour cache
// for an IPv6 VIP: solicitations and advertisements instead of ARP, echo
// requests from the client's IP6 address) decides which MAC each frame
// goes to; the router holding the VIP at that MAC answers (unless it drops
// traffic to the VIP). Against routers with a virtual MAC the entry never
// changes: whoever holds the VIP answers.
type Traffic struct {
	Client   *Host
	VIP      netip.Addr
	From, To time.Duration
	// PingEvery is the echo request period (200 ms when zero, as the
	// reference captures; negative for no pings).
	PingEvery time.Duration
	ICMPID    uint16 // echo identifier; 0x25f8 when zero
	// Connects are the times of TCP connection attempts to VIP:Port (80
	// when zero). Unanswered SYNs are retransmitted after 1, 3 and 7 s.
	Connects []time.Duration
	Port     uint16
	Model    ClientModel
	// ARPTimeout is how long a StaticClient keeps an entry (20 s when zero).
	ARPTimeout time.Duration
	// Reachable is a LinuxClient's reachable time (a value drawn in
	// [15 s, 45 s) when zero, like base_reachable_time 30 s).
	Reachable time.Duration
	// SwitchDelay is how long after a takeover the switch keeps sending
	// frames for a virtual MAC to the previous holder's port (which, now
	// backup, discards them) before the new master's frames teach it: the
	// client's unicast requests go unanswered meanwhile. Connects are not
	// modelled over IPv6.
	SwitchDelay time.Duration
}

// Client generates the client's traffic. Call it after the routers' Master
// terms and GARPs are in place: the client reacts to them.
func (w *Writer) Client(tr Traffic) {
	c := clientSim{w: w, tr: tr}
	c.run()
}

type nudState int

const (
	nudNone nudState = iota
	nudReachable
	nudStale
	nudDelay
	nudProbe
)

type clientSim struct {
	w  *Writer
	tr Traffic

	mac       net.HardwareAddr // the entry's MAC
	state     nudState
	learned   time.Duration // StaticClient: when the entry was learned
	timer     time.Duration // LinuxClient: next NUD timer, -1 none
	used      time.Duration
	probes    int
	lastBcast time.Duration
	reach     time.Duration
	seq       uint16
}

type pendingSYN struct {
	first, at time.Duration
	tries     int
	sport     uint16
	isn       uint32
}

func (c *clientSim) run() {
	w, tr := c.w, c.tr
	if tr.PingEvery == 0 {
		tr.PingEvery = 200 * time.Millisecond
	}
	if tr.ICMPID == 0 {
		tr.ICMPID = 0x25f8
	}
	if tr.Port == 0 {
		tr.Port = 80
	}
	if tr.ARPTimeout == 0 {
		tr.ARPTimeout = 20 * time.Second
	}
	c.reach = tr.Reachable
	if c.reach == 0 {
		c.reach = w.Jitter(15*time.Second, 45*time.Second)
	}
	c.timer = -1
	c.lastBcast = -time.Hour
	c.tr = tr

	// The GARPs on the wire for the VIP, from anyone but the client.
	type garp struct {
		at  time.Duration
		mac net.HardwareAddr
	}
	var garps []garp
	for _, f := range w.Frames() {
		if !w.Sees(tr.Client, f) {
			continue // lost on the way (Drop): the client never hears it
		}
		if f.arp != nil && f.arp.SenderIP == tr.VIP && f.arp.TargetIP == tr.VIP && !bytes.Equal(f.src, tr.Client.MAC) {
			garps = append(garps, garp{f.At, f.src})
		}
		// Unsolicited neighbour advertisements with the override flag.
		if f.nd != nil && f.kind == "na" && f.nd.target == tr.VIP && f.nd.flags&naSolicited == 0 && f.nd.flags&naOverride != 0 && f.host != tr.Client {
			garps = append(garps, garp{f.At, f.nd.ll})
		}
	}
	if tr.VIP.Is6() {
		tr.Connects = nil
	}
	var syns []*pendingSYN
	for _, t := range tr.Connects {
		t += w.Jitter(0, 3*time.Millisecond)
		syns = append(syns, &pendingSYN{first: t, at: t})
	}
	nextPing := tr.From + w.Jitter(0, 3*time.Millisecond)
	if tr.PingEvery < 0 {
		nextPing = 1 << 62
	}
	const never = time.Duration(1 << 62)
	for {
		next, what := never, ""
		if nextPing < next {
			next, what = nextPing, "ping"
		}
		for _, s := range syns {
			if s.tries <= 3 && s.at < next {
				next, what = s.at, "syn"
			}
		}
		if c.timer >= 0 && c.timer < next {
			next, what = c.timer, "timer"
		}
		if len(garps) > 0 && garps[0].at <= next {
			next, what = garps[0].at, "garp"
		}
		if next >= tr.To || next == never {
			return
		}
		switch what {
		case "garp":
			g := garps[0]
			garps = garps[1:]
			if tr.Model != LinuxClient {
				break
			}
			// An entry being resolved (INCOMPLETE: broadcasts within the
			// last 3 s) is completed by the GARP too.
			resolving := c.state == nudNone && next-c.lastBcast < 3*time.Second
			if (c.state != nudNone || resolving) && !bytes.Equal(g.mac, c.mac) {
				c.mac, c.state, c.timer, c.probes = g.mac, nudStale, -1, 0
			}
		case "timer":
			c.nudTimer()
		case "ping":
			c.ping(next)
			nextPing = next + tr.PingEvery + w.Jitter(1500*time.Microsecond, 5*time.Millisecond)
		case "syn":
			for _, s := range syns {
				if s.at == next && s.tries <= 3 {
					c.syn(s)
					break
				}
			}
		}
	}
}

// nudTimer runs the Linux neighbour timer.
func (c *clientSim) nudTimer() {
	w, t := c.w, c.timer
	switch c.state {
	case nudReachable:
		if t-c.used <= 5*time.Second {
			c.state, c.timer, c.probes = nudDelay, t+5*time.Second, 0
		} else {
			c.state, c.timer = nudStale, -1
		}
	case nudDelay, nudProbe:
		if c.probes >= 3 {
			// No answer to ucast_solicit probes: the entry fails.
			c.state, c.probes, c.timer, c.mac = nudNone, 0, -1, nil
			return
		}
		c.state = nudProbe
		if c.tr.VIP.Is6() {
			w.At(t).neighborSolicit(c.tr.Client, c.tr.Client.IP6, c.tr.VIP, c.mac)
		} else {
			w.At(t).ARPProbe(c.tr.Client, c.tr.VIP, c.mac)
		}
		c.probes++
		if r := c.holder(c.mac, t); r != nil {
			r.learn(c.tr.Client)
			w.After(w.Jitter(30*time.Microsecond, 110*time.Microsecond))
			c.advertise(r)
			c.state, c.probes, c.timer = nudReachable, 0, w.Now()+c.reach
			return
		}
		c.timer = t + time.Second
	default:
		c.timer = -1
	}
}

// resolve makes sure the entry is usable at t; it returns the time the
// frame can go out, or false if the VIP could not be resolved.
func (c *clientSim) resolve(t time.Duration) (time.Duration, bool) {
	w, tr := c.w, c.tr
	if tr.Model == StaticClient && c.state != nudNone && t >= c.learned+tr.ARPTimeout {
		c.state, c.mac = nudNone, nil
	}
	if c.state != nudNone {
		return t, true
	}
	if t < c.lastBcast+time.Second {
		return t, false
	}
	c.lastBcast = t
	if tr.VIP.Is6() {
		w.At(t).neighborSolicit(tr.Client, tr.Client.IP6, tr.VIP, nil)
	} else {
		w.At(t).ARPRequest(tr.Client, tr.VIP)
	}
	owners := w.ownersAt(tr.VIP, t)
	if len(owners) == 0 {
		return t, false
	}
	for i, o := range owners {
		o.r.learn(tr.Client)
		w.At(t + w.Jitter(35*time.Microsecond, 60*time.Microsecond) + time.Duration(i)*40*time.Microsecond)
		c.advertise(o.r)
		if i == 0 {
			c.mac = o.r.vipMAC()
		}
	}
	c.state, c.learned, c.probes = nudReachable, w.Now(), 0
	if tr.Model == LinuxClient {
		c.timer = w.Now() + c.reach
	}
	return w.Now() + w.Jitter(2*time.Microsecond, 8*time.Microsecond), true
}

// use marks the entry used at t (Linux: a stale entry starts its delay).
func (c *clientSim) use(t time.Duration) {
	c.used = t
	if c.tr.Model == LinuxClient && c.state == nudStale {
		c.state, c.timer, c.probes = nudDelay, t+5*time.Second, 0
	}
}

// advertise has r answer the client's ARP request or neighbour
// solicitation for the VIP, from the MAC r uses for it.
func (c *clientSim) advertise(r *Router) {
	cl := c.tr.Client
	if c.tr.VIP.Is6() {
		c.w.solicitedNA(r.Host, r.vipMAC(), c.tr.VIP, cl, cl.IP6, true)
		return
	}
	c.w.arp(r.Host, cl.MAC, 2, r.vipMAC(), c.tr.VIP, cl.MAC, cl.IP)
}

// holder is the router that gets a unicast frame for the VIP sent to mac
// at t: the first holder of the VIP at that MAC, unless the switch still
// sends a virtual MAC to the previous holder's port (SwitchDelay).
func (c *clientSim) holder(mac net.HardwareAddr, t time.Duration) *Router {
	w := c.w
	for _, o := range w.ownersAt(c.tr.VIP, t) {
		if !bytes.Equal(o.r.vipMAC(), mac) {
			continue
		}
		if c.tr.SwitchDelay > 0 && o.r.VirtualMAC && t < o.from+c.tr.SwitchDelay {
			for _, p := range w.owners {
				if p.r != o.r && p.from < o.from && bytes.Equal(p.r.vipMAC(), mac) {
					return nil // the previous holder's port, where it is discarded
				}
			}
		}
		return o.r
	}
	return nil
}

// answerer is the router that gets a frame sent to mac at t and answers it.
func (c *clientSim) answerer(mac net.HardwareAddr, t time.Duration) *Router {
	if r := c.holder(mac, t); r != nil && !r.Drop {
		return r
	}
	return nil
}

// reachBack has r resolve the client first if it does not know it yet;
// it returns when r can answer.
func (c *clientSim) reachBack(r *Router, t time.Duration) time.Duration {
	w, cl := c.w, c.tr.Client
	if r.neigh[cl] {
		return t + w.Jitter(30*time.Microsecond, 60*time.Microsecond)
	}
	w.At(t + w.Jitter(80*time.Microsecond, 100*time.Microsecond))
	switch {
	case c.tr.VIP.Is6():
		// A router resolves from its own link-local address.
		w.neighborSolicit(r.Host, r.IP6, cl.IP6, nil)
		w.After(w.Jitter(8*time.Microsecond, 15*time.Microsecond)).solicitedNA(cl, cl.MAC, cl.IP6, r.Host, r.IP6, false)
	case r.VirtualMAC:
		// ARP for the router's own address, from its own MAC.
		w.ARPRequest(r.Host, cl.IP)
		w.After(w.Jitter(8*time.Microsecond, 15*time.Microsecond)).ARPReply(cl, cl.IP, r.Host, r.IP)
	default:
		w.ARPRequestFrom(r.Host, c.tr.VIP, cl.IP)
		w.After(w.Jitter(8*time.Microsecond, 15*time.Microsecond)).ARPReply(cl, cl.IP, r.Host, c.tr.VIP)
	}
	r.learn(cl)
	return w.Now() + w.Jitter(10*time.Microsecond, 20*time.Microsecond)
}

func (c *clientSim) ping(t time.Duration) {
	w, tr := c.w, c.tr
	c.seq++
	at, ok := c.resolve(t)
	if !ok {
		return
	}
	c.use(at)
	if tr.VIP.Is6() {
		w.At(at).ping6(tr.Client, tr.VIP, c.mac, tr.ICMPID, c.seq)
	} else {
		w.At(at).Ping(tr.Client, tr.VIP, c.mac, tr.ICMPID, c.seq)
	}
	r := c.answerer(c.mac, at)
	if r == nil {
		return
	}
	w.At(c.reachBack(r, at))
	if tr.VIP.Is6() {
		w.pingReply6(r.Host, r.vipMAC(), tr.VIP, tr.Client, tr.ICMPID, c.seq)
	} else {
		w.pingReplyAs(r.Host, r.vipMAC(), tr.VIP, tr.Client, tr.ICMPID, c.seq)
	}
}

func (c *clientSim) syn(s *pendingSYN) {
	w, tr := c.w, c.tr
	if s.tries == 0 {
		s.sport = uint16(40000 + w.rng.IntN(20000))
		s.isn = w.rng.Uint32()
	}
	now := s.at
	s.tries++
	// Retransmissions 1, 3 and 7 s after the first SYN; then it gives up.
	s.at = s.first + time.Duration(1<<s.tries-1)*time.Second + w.Jitter(0, 4*time.Millisecond)
	at, ok := c.resolve(now)
	if !ok {
		return
	}
	c.use(at)
	w.At(at).TCPSyn(tr.Client, tr.VIP, c.mac, s.sport, tr.Port, s.isn)
	r := c.answerer(c.mac, at)
	if r == nil {
		return
	}
	s.tries = 99 // answered: no retransmission
	t := c.reachBack(r, at)
	rsn := w.rng.Uint32()
	w.At(t).tcpSynAckAs(r.Host, r.vipMAC(), tr.VIP, tr.Client, tr.Port, s.sport, rsn, s.isn+1)
	w.After(w.Jitter(20*time.Microsecond, 50*time.Microsecond)).tcpFlags(tr.Client, tr.Client.IP, tr.VIP, c.mac, s.sport, tr.Port, s.isn+1, rsn+1, tcpACK)
	// The client closes; the server answers the FIN.
	w.After(w.Jitter(2*time.Millisecond, 6*time.Millisecond)).tcpFlags(tr.Client, tr.Client.IP, tr.VIP, c.mac, s.sport, tr.Port, s.isn+1, rsn+1, tcpFIN|tcpACK)
	w.After(w.Jitter(30*time.Microsecond, 60*time.Microsecond)).tcpFlagsAs(r.Host, r.vipMAC(), tr.VIP, tr.Client.IP, tr.Client.MAC, tr.Port, s.sport, rsn+1, s.isn+2, tcpFIN|tcpACK)
	w.After(w.Jitter(20*time.Microsecond, 50*time.Microsecond)).tcpFlags(tr.Client, tr.Client.IP, tr.VIP, c.mac, s.sport, tr.Port, s.isn+2, rsn+2, tcpACK)
}

// learn records that r's host knows h's MAC.
func (h *Host) learn(n *Host) {
	if h.neigh == nil {
		h.neigh = map[*Host]bool{}
	}
	h.neigh[n] = true
}
