package watch

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/vrrpctl/vrrpctl/analyze"
	"github.com/vrrpctl/vrrpctl/decode"
)

// neighbourEntry is one change of this host's neighbour table (the ARP cache
// for IPv4) on the watched interface.
type neighbourEntry struct {
	IP    netip.Addr
	MAC   decode.MAC // zero when the entry has no address (incomplete, failed, deleted)
	State string     // the kernel's NUD state ("reachable", "stale", ...) or "deleted"
	Time  time.Time  // when the change was heard
}

func (n neighbourEntry) String() string {
	mac := n.MAC.String()
	if n.MAC.IsZero() {
		mac = "(no address)"
	}
	return fmt.Sprintf("this host's neighbour entry for %s: %s (%s)", n.IP, mac, n.State)
}

// neighbours follows the neighbour table of one interface over netlink.
type neighbours struct {
	updates chan neighbourEntry
	done    chan struct{}
}

// followNeighbours subscribes to the neighbour table of the namespace nsName
// ("" for the current one), listing the existing entries first, and passes on
// the changes for iface.
func followNeighbours(iface, nsName string) (*neighbours, error) {
	index, err := linkIndex(iface, nsName)
	if err != nil {
		return nil, err
	}
	opt := netlink.NeighSubscribeOptions{ListExisting: true}
	if nsName != "" {
		ns, err := netns.GetFromName(nsName)
		if err != nil {
			return nil, fmt.Errorf("network namespace %s: %w", nsName, err)
		}
		// The subscription socket is opened in ns; the handle is not needed after.
		defer ns.Close()
		opt.Namespace = &ns
	}
	raw := make(chan netlink.NeighUpdate, 256)
	n := &neighbours{updates: make(chan neighbourEntry, 256), done: make(chan struct{})}
	if err := netlink.NeighSubscribeWithOptions(raw, n.done, opt); err != nil {
		return nil, fmt.Errorf("subscribing to the neighbour table: %w", err)
	}
	go func() {
		defer close(n.updates)
		for u := range raw {
			e, ok := entryOf(u, index)
			if !ok {
				continue
			}
			select {
			case n.updates <- e:
			case <-n.done:
				return
			}
		}
	}()
	return n, nil
}

func (n *neighbours) close() { close(n.done) }

// entryOf converts a netlink update for the interface with the given index.
func entryOf(u netlink.NeighUpdate, index int) (neighbourEntry, bool) {
	if u.LinkIndex != index || u.IP == nil {
		return neighbourEntry{}, false
	}
	ip, ok := netip.AddrFromSlice(u.IP)
	if !ok {
		return neighbourEntry{}, false
	}
	e := neighbourEntry{IP: ip.Unmap(), State: analyze.NeighbourState(u.State), Time: time.Now()}
	if u.Type == unix.RTM_DELNEIGH {
		e.State = "deleted"
	} else if len(u.HardwareAddr) == 6 && u.State&(netlink.NUD_INCOMPLETE|netlink.NUD_FAILED) == 0 {
		copy(e.MAC[:], u.HardwareAddr)
	}
	return e, true
}
