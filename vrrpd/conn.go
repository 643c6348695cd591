package vrrpd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"

	"github.com/vrrpctl/vrrpctl/internal/nsenter"
)

// The VRRP multicast groups (RFC 5798 section 5.1).
var (
	Group4 = netip.MustParseAddr("224.0.0.18")
	Group6 = netip.MustParseAddr("ff02::12")
)

// ProtocolVRRP is the IP protocol number of VRRP.
const ProtocolVRRP = 112

// rxInfo is what the IP layer says about a received message.
type rxInfo struct {
	Src, Dst netip.Addr
	TTL      int // TTL or hop limit; -1 when the kernel did not say
	IfIndex  int
}

// advertConn carries VRRP messages (the IP payload) on one interface for
// one address family.
type advertConn interface {
	ReadAdvert(b []byte) (int, rxInfo, error)
	// WriteAdvert sends b from src to dst; ttl is the TTL (hop limit) of
	// unicast adverts, multicast ones always leave with 255.
	WriteAdvert(b []byte, src, dst netip.Addr, ttl int) error
	// Join joins a multicast group on the interface, once.
	Join(group netip.Addr) error
	Close() error
}

// frameConn sends link-layer frames on one interface.
type frameConn interface {
	WriteFrame(b []byte) error
	Close() error
}

// permissionHint turns EPERM into an error that says what is missing.
func permissionHint(err error, what string) error {
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
		return fmt.Errorf("%s: %w: the speaker needs CAP_NET_RAW and CAP_NET_ADMIN (run it as root)", what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// nsHint adds permissionHint to a failure to enter the speaker's
// namespace, and returns other errors as they are.
func nsHint(err error) error {
	var e *nsenter.Error
	if errors.As(err, &e) && e.Op == "entering" {
		return permissionHint(e.Err, "entering network namespace "+e.Path)
	}
	return err
}

// bindControl binds a socket to ifname and, for IPv4, turns IP_MULTICAST_ALL
// off so that only groups joined on this socket are delivered.
func bindControl(ifname string, v6 bool) func(string, string, syscall.RawConn) error {
	return func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			if err := unix.SetsockoptString(int(fd), unix.SOL_SOCKET, unix.SO_BINDTODEVICE, ifname); err != nil {
				serr = fmt.Errorf("SO_BINDTODEVICE %s: %w", ifname, err)
				return
			}
			if !v6 {
				if err := unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_MULTICAST_ALL, 0); err != nil {
					serr = fmt.Errorf("IP_MULTICAST_ALL: %w", err)
				}
			} else {
				if err := unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_ALL, 0); err != nil {
					serr = fmt.Errorf("IPV6_MULTICAST_ALL: %w", err)
				}
			}
		})
		if err != nil {
			return err
		}
		return serr
	}
}

// ipv4Conn is a raw IPv4 socket for protocol 112 bound to one interface.
type ipv4Conn struct {
	c      net.PacketConn
	p      *ipv4.PacketConn
	ifi    *net.Interface
	ttl    int // the unicast TTL set on the socket
	joined map[netip.Addr]bool
}

// listenIPv4 opens the raw socket and sets TTL 255, TOS 0xC0 (network
// control) and the control messages needed on receive. It joins no group:
// see Join.
func listenIPv4(ifi *net.Interface) (*ipv4Conn, error) {
	where := fmt.Sprintf("raw IPv4 socket for VRRP on %s", ifi.Name)
	lc := net.ListenConfig{Control: bindControl(ifi.Name, false)}
	c, err := lc.ListenPacket(context.Background(), fmt.Sprintf("ip4:%d", ProtocolVRRP), "0.0.0.0")
	if err != nil {
		return nil, permissionHint(err, "opening "+where)
	}
	p := ipv4.NewPacketConn(c)
	steps := []struct {
		what string
		fn   func() error
	}{
		{"control messages", func() error {
			return p.SetControlMessage(ipv4.FlagTTL|ipv4.FlagDst|ipv4.FlagInterface, true)
		}},
		{"multicast interface", func() error { return p.SetMulticastInterface(ifi) }},
		{"multicast TTL 255", func() error { return p.SetMulticastTTL(255) }},
		{"TTL 255", func() error { return p.SetTTL(255) }},
		{"TOS 0xC0", func() error { return p.SetTOS(0xc0) }},
		{"multicast loopback off", func() error { return p.SetMulticastLoopback(false) }},
	}
	for _, s := range steps {
		if err := s.fn(); err != nil {
			c.Close()
			return nil, permissionHint(err, where+": "+s.what)
		}
	}
	return &ipv4Conn{c: c, p: p, ifi: ifi, ttl: 255, joined: map[netip.Addr]bool{}}, nil
}

func (c *ipv4Conn) Join(group netip.Addr) error {
	if c.joined[group] {
		return nil
	}
	if err := c.p.JoinGroup(c.ifi, &net.IPAddr{IP: group.AsSlice()}); err != nil {
		return permissionHint(err, fmt.Sprintf("joining %s on %s", group, c.ifi.Name))
	}
	c.joined[group] = true
	return nil
}

func (c *ipv4Conn) ReadAdvert(b []byte) (int, rxInfo, error) {
	n, cm, src, err := c.p.ReadFrom(b)
	if err != nil {
		return 0, rxInfo{}, err
	}
	info := rxInfo{TTL: -1}
	if ip, ok := src.(*net.IPAddr); ok {
		info.Src, _ = netip.AddrFromSlice(ip.IP.To4())
	}
	if cm != nil {
		info.TTL = cm.TTL
		info.Dst, _ = netip.AddrFromSlice(cm.Dst.To4())
		info.IfIndex = cm.IfIndex
	}
	return n, info, nil
}

func (c *ipv4Conn) WriteAdvert(b []byte, src, dst netip.Addr, ttl int) error {
	if !dst.IsMulticast() && ttl != c.ttl {
		if err := c.p.SetTTL(ttl); err != nil {
			return fmt.Errorf("setting TTL %d on %s: %w", ttl, c.ifi.Name, err)
		}
		c.ttl = ttl
	}
	cm := &ipv4.ControlMessage{Src: src.AsSlice(), IfIndex: c.ifi.Index}
	_, err := c.p.WriteTo(b, cm, &net.IPAddr{IP: dst.AsSlice()})
	if err != nil {
		return fmt.Errorf("sending VRRP to %s on %s: %w", dst, c.ifi.Name, err)
	}
	return nil
}

func (c *ipv4Conn) Close() error { return c.c.Close() }

// ipv6Conn is a raw IPv6 socket for protocol 112 bound to one interface.
type ipv6Conn struct {
	c      net.PacketConn
	p      *ipv6.PacketConn
	ifi    *net.Interface
	joined map[netip.Addr]bool
}

func listenIPv6(ifi *net.Interface) (*ipv6Conn, error) {
	where := fmt.Sprintf("raw IPv6 socket for VRRP on %s", ifi.Name)
	lc := net.ListenConfig{Control: bindControl(ifi.Name, true)}
	c, err := lc.ListenPacket(context.Background(), fmt.Sprintf("ip6:%d", ProtocolVRRP), "::")
	if err != nil {
		return nil, permissionHint(err, "opening "+where)
	}
	p := ipv6.NewPacketConn(c)
	steps := []struct {
		what string
		fn   func() error
	}{
		{"control messages", func() error {
			return p.SetControlMessage(ipv6.FlagHopLimit|ipv6.FlagDst|ipv6.FlagInterface, true)
		}},
		{"multicast interface", func() error { return p.SetMulticastInterface(ifi) }},
		{"multicast hop limit 255", func() error { return p.SetMulticastHopLimit(255) }},
		{"hop limit 255", func() error { return p.SetHopLimit(255) }},
		{"traffic class 0xC0", func() error { return p.SetTrafficClass(0xc0) }},
		{"multicast loopback off", func() error { return p.SetMulticastLoopback(false) }},
	}
	for _, s := range steps {
		if err := s.fn(); err != nil {
			c.Close()
			return nil, permissionHint(err, where+": "+s.what)
		}
	}
	return &ipv6Conn{c: c, p: p, ifi: ifi, joined: map[netip.Addr]bool{}}, nil
}

func (c *ipv6Conn) Join(group netip.Addr) error {
	if c.joined[group] {
		return nil
	}
	if err := c.p.JoinGroup(c.ifi, &net.IPAddr{IP: group.AsSlice()}); err != nil {
		return permissionHint(err, fmt.Sprintf("joining %s on %s", group, c.ifi.Name))
	}
	c.joined[group] = true
	return nil
}

func (c *ipv6Conn) ReadAdvert(b []byte) (int, rxInfo, error) {
	n, cm, src, err := c.p.ReadFrom(b)
	if err != nil {
		return 0, rxInfo{}, err
	}
	info := rxInfo{TTL: -1}
	if ip, ok := src.(*net.IPAddr); ok {
		a, _ := netip.AddrFromSlice(ip.IP)
		info.Src = a.WithZone("")
	}
	if cm != nil {
		info.TTL = cm.HopLimit
		info.Dst, _ = netip.AddrFromSlice(cm.Dst)
		info.IfIndex = cm.IfIndex
	}
	return n, info, nil
}

func (c *ipv6Conn) WriteAdvert(b []byte, src, dst netip.Addr, ttl int) error {
	cm := &ipv6.ControlMessage{Src: src.AsSlice(), IfIndex: c.ifi.Index, HopLimit: 255}
	if !dst.IsMulticast() {
		cm.HopLimit = ttl
	}
	_, err := c.p.WriteTo(b, cm, &net.IPAddr{IP: dst.AsSlice(), Zone: c.ifi.Name})
	if err != nil {
		return fmt.Errorf("sending VRRP to %s on %s: %w", dst, c.ifi.Name, err)
	}
	return nil
}

func (c *ipv6Conn) Close() error { return c.c.Close() }

// packetConn is an AF_PACKET socket that only sends (protocol 0: the kernel
// delivers nothing to it).
type packetConn struct {
	fd  int
	sll unix.SockaddrLinklayer
	ifi string
}

func openPacketConn(ifi *net.Interface) (*packetConn, error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, permissionHint(err, "opening packet socket for gratuitous ARP on "+ifi.Name)
	}
	sll := unix.SockaddrLinklayer{Ifindex: ifi.Index, Halen: 6}
	copy(sll.Addr[:], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Ifindex: ifi.Index}); err != nil {
		unix.Close(fd)
		return nil, permissionHint(err, "binding packet socket to "+ifi.Name)
	}
	return &packetConn{fd: fd, sll: sll, ifi: ifi.Name}, nil
}

func (c *packetConn) WriteFrame(b []byte) error {
	if err := unix.Sendto(c.fd, b, 0, &c.sll); err != nil {
		return fmt.Errorf("sending frame on %s: %w", c.ifi, err)
	}
	return nil
}

func (c *packetConn) Close() error { return unix.Close(c.fd) }
