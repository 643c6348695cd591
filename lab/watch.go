package lab

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/vrrpctl/vrrpctl/analyze"
	"github.com/vrrpctl/vrrpctl/capture"
)

// Capture records what a host's interface sees into a pcap file.
type Capture struct {
	Path string

	live *capture.Live
	file *os.File
	done chan struct{}
	err  error
	once sync.Once
}

// StartCapture captures on host's eth1 into path with the given BPF filter.
func (l *Lab) StartCapture(host, path, filter string) (*Capture, error) {
	h := l.hosts[host]
	if h == nil {
		return nil, fmt.Errorf("no host %q in the lab", host)
	}
	// The packet socket is opened in the host's namespace and stays there.
	live, err := capture.OpenLive(Iface, capture.LiveOptions{Promisc: true, Filter: filter, Netns: h.NS})
	if err != nil {
		return nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		live.Close()
		return nil, fmt.Errorf("capture file: %w", err)
	}
	w, err := capture.NewWriter(f, live.LinkType(), 0)
	if err != nil {
		live.Close()
		f.Close()
		return nil, fmt.Errorf("capture file %s: %w", path, err)
	}
	c := &Capture{Path: path, live: live, file: f, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for {
			data, ci, err := live.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err == nil {
				err = w.WritePacket(ci, data)
			}
			if err != nil {
				c.err = err
				live.Close()
				break
			}
		}
		if err := w.Flush(); err != nil && c.err == nil {
			c.err = err
		}
	}()
	return c, nil
}

// Stop ends the capture and closes the file with every frame written.
func (c *Capture) Stop() error {
	c.once.Do(func() {
		c.live.Close()
		<-c.done
		if err := c.file.Close(); err != nil && c.err == nil {
			c.err = err
		}
	})
	return c.err
}

// NeighEvent is one change of a host's neighbour entry for an address.
type NeighEvent struct {
	Time  time.Time
	State string // REACHABLE, STALE, DELAY, PROBE, FAILED, INCOMPLETE, ... or "deleted"
	MAC   string // "" while unresolved
}

// AddrEvent is one change of an address on a host.
type AddrEvent struct {
	Time  time.Time
	Host  string
	Added bool
}

// Watch records, through netlink, the client's neighbour entry for one
// address and which routers hold it.
type Watch struct {
	mu    sync.Mutex
	neigh []NeighEvent
	addrs []AddrEvent
	held  map[string]bool
	done  chan struct{}
	wg    sync.WaitGroup
}

// pollEvery is how often the watch reads the neighbour table and the
// routers' addresses. Polling, unlike a netlink subscription, never leaves a
// blocked socket holding a namespace alive after the lab is gone.
const pollEvery = 10 * time.Millisecond

// WatchVIP starts recording client's neighbour entry for vip and vip's
// presence on each of routers.
func (l *Lab) WatchVIP(client string, routers []string, vip netip.Addr) (*Watch, error) {
	c := l.hosts[client]
	if c == nil {
		return nil, fmt.Errorf("no host %q in the lab", client)
	}
	var rs []*Host
	for _, r := range routers {
		h := l.hosts[r]
		if h == nil {
			return nil, fmt.Errorf("no host %q in the lab", r)
		}
		rs = append(rs, h)
	}
	w := &Watch{done: make(chan struct{}), held: map[string]bool{}}
	w.poll(c, rs, vip)
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		t := time.NewTicker(pollEvery)
		defer t.Stop()
		for {
			select {
			case <-w.done:
				return
			case <-t.C:
				w.poll(c, rs, vip)
			}
		}
	}()
	return w, nil
}

func (w *Watch) poll(client *Host, routers []*Host, vip netip.Addr) {
	now := time.Now()
	ev := NeighEvent{Time: now, State: "none"}
	if neighs, err := client.nl.NeighList(0, netlink.FAMILY_V4); err == nil {
		for _, n := range neighs {
			if addrFromIP(n.IP) == vip {
				ev.State = strings.ToUpper(analyze.NeighbourState(n.State))
				if len(n.HardwareAddr) > 0 {
					ev.MAC = n.HardwareAddr.String()
				}
			}
		}
	}
	held := map[string]bool{}
	for _, r := range routers {
		addrs, err := r.nl.AddrList(nil, netlink.FAMILY_V4)
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if addrFromIP(a.IP) == vip {
				held[r.Name] = true
			}
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if n := len(w.neigh); n == 0 || w.neigh[n-1].State != ev.State || w.neigh[n-1].MAC != ev.MAC {
		w.neigh = append(w.neigh, ev)
	}
	for _, r := range routers {
		if w.held[r.Name] != held[r.Name] {
			w.held[r.Name] = held[r.Name]
			w.addrs = append(w.addrs, AddrEvent{Time: now, Host: r.Name, Added: held[r.Name]})
		}
	}
}

// Holders lists the routers that hold the VIP now.
func (w *Watch) Holders() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var hs []string
	for _, r := range []string{Nat1, Nat2} {
		if w.held[r] {
			hs = append(hs, r)
		}
	}
	return hs
}

// Neigh returns the neighbour history so far.
func (w *Watch) Neigh() []NeighEvent {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]NeighEvent(nil), w.neigh...)
}

// Addrs returns the VIP's moves so far.
func (w *Watch) Addrs() []AddrEvent {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]AddrEvent(nil), w.addrs...)
}

// Stop ends the watch.
func (w *Watch) Stop() {
	select {
	case <-w.done:
	default:
		close(w.done)
	}
	w.wg.Wait()
}
