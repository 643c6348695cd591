package watch

import (
	"fmt"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"github.com/vrrpctl/vrrpctl/capture"
)

// Source is a live capture, as capture.OpenLive returns: Next blocks until a
// frame arrives and returns io.EOF once Close was called; every method may be
// called from any goroutine.
type Source interface {
	Next() (data []byte, ci gopacket.CaptureInfo, err error)
	LinkType() layers.LinkType
	SetFilter(expr string) error
	Stats() (received, dropped uint64, err error)
	Close() error
}

// Opener opens a live capture (capture.OpenLive by default).
type Opener func(iface string, opt capture.LiveOptions) (Source, error)

func openLive(iface string, opt capture.LiveOptions) (Source, error) {
	l, err := capture.OpenLive(iface, opt)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// StartError is why watch could not start: the capture could not be opened
// (no such interface, interface down, no permission, bad filter), or the -w
// file or the metrics address could not be used.
type StartError struct {
	What string // "-w out.pcap", "--metrics-addr 127.0.0.1:9000"; "" when Err says it all
	Err  error
}

func (e *StartError) Error() string {
	if e.What == "" {
		return e.Err.Error()
	}
	return e.What + ": " + e.Err.Error()
}

func (e *StartError) Unwrap() error { return e.Err }

// linkIndex returns the interface's index in the namespace nsName ("" for
// the current one), for the neighbour table.
func linkIndex(iface, nsName string) (int, error) {
	h := &netlink.Handle{}
	if nsName != "" {
		ns, err := netns.GetFromName(nsName)
		if err != nil {
			return 0, fmt.Errorf("network namespace %s: %w", nsName, err)
		}
		defer ns.Close()
		h, err = netlink.NewHandleAt(ns)
		if err != nil {
			return 0, fmt.Errorf("netlink in network namespace %s: %w", nsName, err)
		}
		defer h.Close()
	}
	link, err := h.LinkByName(iface)
	if err != nil {
		return 0, fmt.Errorf("interface %s: %w", iface, err)
	}
	return link.Attrs().Index, nil
}
