package capture

import (
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcap"
	"github.com/vishvananda/netns"
)

// LiveOptions configures OpenLive. The zero value captures whole frames,
// not promiscuously, without a filter, in the current network namespace.
type LiveOptions struct {
	Snaplen    int    // bytes kept of each frame; 0 means MaxFrameSize
	Promisc    bool   // also frames not addressed to this host (VRRP multicast arrives anyway)
	Filter     string // tcpdump expression; "" keeps everything
	BufferSize int    // kernel capture buffer in bytes; 0 leaves libpcap's default
	Netns      string // named network namespace (/run/netns/NAME) to capture in; "" the current one
}

// readTimeout bounds how long Next waits in libpcap before it looks again
// whether the source was closed or the filter changed.
const readTimeout = 100 * time.Millisecond

// Live captures frames from a network interface through libpcap. Next, Stats,
// SetFilter and Close may be called from different goroutines.
type Live struct {
	name     string // the interface, and its namespace, as messages call it
	handle   *pcap.Handle
	linkType layers.LinkType

	// mu is held while the handle is used, by Next while it reads (at most
	// readTimeout at a time): SetFilter never races a read, and Close never
	// frees the handle under a caller.
	mu     sync.Mutex
	closed chan struct{}
	once   sync.Once
	buf    []byte // the frame last returned by Next
}

// OpenLive starts capturing on iface. With opt.Netns the capture socket is
// opened inside that network namespace and stays there. Errors are *Error
// (with Frame 0) and say what to do: no such interface (with the ones that
// exist), interface down, permission denied (needs CAP_NET_RAW), bad filter.
func OpenLive(iface string, opt LiveOptions) (*Live, error) {
	name := iface
	if opt.Netns != "" {
		name = fmt.Sprintf("%s (netns %s)", iface, opt.Netns)
	}
	var l *Live
	var err error
	if opt.Netns == "" {
		l, err = openLive(iface, name, opt)
	} else {
		l, err = inNetns(opt.Netns, func() (*Live, error) { return openLive(iface, name, opt) })
	}
	if err != nil {
		var ce *Error
		if !errors.As(err, &ce) {
			err = &Error{Path: name, Err: err}
		}
		return nil, err
	}
	return l, nil
}

// inNetns runs open on a thread of its own switched into the namespace.
// Sockets it creates stay in the namespace. If the thread cannot be switched
// back, it is left locked and so ends with the goroutine.
func inNetns(ns string, open func() (*Live, error)) (*Live, error) {
	type result struct {
		l   *Live
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			done <- result{nil, fmt.Errorf("network namespace of this thread: %v", err)}
			return
		}
		defer orig.Close()
		target, err := netns.GetFromName(ns)
		if err != nil {
			runtime.UnlockOSThread()
			done <- result{nil, fmt.Errorf("network namespace %q: %v", ns, bare(err))}
			return
		}
		defer target.Close()
		if err := netns.Set(target); err != nil {
			runtime.UnlockOSThread()
			done <- result{nil, fmt.Errorf("entering network namespace %q: %v", ns, err)}
			return
		}
		l, err := open()
		if netns.Set(orig) == nil {
			runtime.UnlockOSThread()
		}
		done <- result{l, err}
	}()
	r := <-done
	return r.l, r.err
}

func openLive(iface, name string, opt LiveOptions) (*Live, error) {
	fail := func(format string, args ...any) (*Live, error) {
		return nil, &Error{Path: name, Err: fmt.Errorf(format, args...)}
	}
	ifc, err := net.InterfaceByName(iface)
	if err != nil {
		return fail("no such interface (have: %s)", interfaceNames())
	}
	if ifc.Flags&net.FlagUp == 0 {
		return fail("interface is down (ip link set %s up)", iface)
	}
	snaplen := opt.Snaplen
	if snaplen <= 0 || snaplen > MaxFrameSize {
		snaplen = MaxFrameSize
	}
	in, err := pcap.NewInactiveHandle(iface)
	if err != nil {
		return fail("%v", err)
	}
	defer in.CleanUp()
	steps := []struct {
		what string
		err  error
	}{
		{"snaplen", in.SetSnapLen(snaplen)},
		{"promiscuous mode", in.SetPromisc(opt.Promisc)},
		{"timeout", in.SetTimeout(readTimeout)},
		{"immediate mode", in.SetImmediateMode(true)},
	}
	if opt.BufferSize > 0 {
		steps = append(steps, struct {
			what string
			err  error
		}{"buffer size", in.SetBufferSize(opt.BufferSize)})
	}
	for _, s := range steps {
		if s.err != nil {
			return fail("setting %s: %v", s.what, s.err)
		}
	}
	h, err := in.Activate()
	if err != nil {
		switch err.Error() {
		case "Permission Denied":
			return fail("permission denied: capturing needs root or CAP_NET_RAW")
		case "No Such Device":
			return fail("no such interface (have: %s)", interfaceNames())
		case "Interface Not Up":
			return fail("interface is down (ip link set %s up)", iface)
		}
		return fail("%v", err)
	}
	if opt.Filter != "" {
		if err := h.SetBPFFilter(opt.Filter); err != nil {
			h.Close()
			return fail("%w %q: %v", ErrBadFilter, opt.Filter, err)
		}
	}
	return &Live{name: name, handle: h, linkType: h.LinkType(), closed: make(chan struct{})}, nil
}

// interfaceNames lists the interfaces of the current network namespace.
func interfaceNames() string {
	ifs, err := net.Interfaces()
	if err != nil || len(ifs) == 0 {
		return "none"
	}
	names := make([]string, len(ifs))
	for i, ifc := range ifs {
		names[i] = ifc.Name
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// Next waits for the next frame. data is valid until the next call. After
// Close, including a Close while Next waits, it returns io.EOF.
func (l *Live) Next() (data []byte, ci gopacket.CaptureInfo, err error) {
	for {
		l.mu.Lock()
		select {
		case <-l.closed:
			l.mu.Unlock()
			return nil, ci, io.EOF
		default:
		}
		data, ci, err = l.handle.ZeroCopyReadPacketData()
		if err == nil {
			// libpcap's buffer is freed by Close, which may come from
			// another goroutine while the caller still reads the frame:
			// hand out our own copy, valid until the next call.
			l.buf = append(l.buf[:0], data...)
			data = l.buf
		}
		l.mu.Unlock()
		switch {
		case err == nil:
			return data, ci, nil
		case err == pcap.NextErrorTimeoutExpired:
			continue
		case err == io.EOF:
			return nil, ci, io.EOF
		}
		select {
		case <-l.closed:
			return nil, ci, io.EOF
		default:
		}
		return nil, ci, &Error{Path: l.name, Err: err}
	}
}

// SetFilter replaces the filter of the running capture; "" removes it. A
// frame Next returns after SetFilter returns has passed the new filter.
func (l *Live) SetFilter(expr string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.closed:
		return &Error{Path: l.name, Err: errors.New("capture closed")}
	default:
	}
	if err := l.handle.SetBPFFilter(expr); err != nil {
		return &Error{Path: l.name, Err: fmt.Errorf("%w %q: %v", ErrBadFilter, expr, err)}
	}
	return nil
}

// Stats returns how many frames the kernel passed the filter, and how many
// it dropped for lack of buffer space, since the capture started.
func (l *Live) Stats() (received, dropped uint64, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.closed:
		return 0, 0, &Error{Path: l.name, Err: errors.New("capture closed")}
	default:
	}
	s, err := l.handle.Stats()
	if err != nil {
		return 0, 0, &Error{Path: l.name, Err: err}
	}
	return uint64(s.PacketsReceived), uint64(s.PacketsDropped) + uint64(s.PacketsIfDropped), nil
}

// LinkType is the link-layer header type of the interface.
func (l *Live) LinkType() layers.LinkType { return l.linkType }

// Name is the interface (and namespace) as messages call it.
func (l *Live) Name() string { return l.name }

// Close stops the capture; a Next waiting for a frame returns io.EOF.
func (l *Live) Close() error {
	l.once.Do(func() {
		close(l.closed) // a waiting Next gives up at its next timeout
		l.mu.Lock()
		l.handle.Close()
		l.mu.Unlock()
	})
	return nil
}
