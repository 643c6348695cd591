package watch

import (
	"encoding/binary"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The load generator of the load tests runs as a process of its own, the
// test binary started again with loadgenArg first, so that its CPU time is
// not counted as the watcher's. It sends pre-built UDP frames from a packet
// socket, paced to a rate, in batches of sendmmsg.

const loadgenArg = "-watch-loadgen"

func init() {
	if len(os.Args) > 1 && os.Args[1] == loadgenArg {
		os.Exit(loadgenMain(os.Args[2:]))
	}
}

// loadgenCommand is the argv that runs the generator: from eth1, to dstMAC
// and dstIP, rate frames per second for dur.
func loadgenCommand(dstMAC string, srcIP, dstIP netip.Addr, rate int, dur time.Duration, size int) ([]string, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return []string{exe, loadgenArg, "-i", "eth1", "-dst-mac", dstMAC, "-src-ip", srcIP.String(), "-dst-ip", dstIP.String(),
		"-rate", fmt.Sprint(rate), "-duration", dur.String(), "-size", fmt.Sprint(size)}, nil
}

func loadgenMain(args []string) int {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	iface := fs.String("i", "eth1", "interface")
	dstMAC := fs.String("dst-mac", "", "destination MAC")
	srcIP := fs.String("src-ip", "", "source IPv4")
	dstIP := fs.String("dst-ip", "", "destination IPv4")
	rate := fs.Float64("rate", 100000, "frames per second")
	dur := fs.Duration("duration", 10*time.Second, "how long")
	size := fs.Int("size", 128, "frame length without FCS (at least 60)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	sent, elapsed, err := loadgen(*iface, *dstMAC, *srcIP, *dstIP, *rate, *dur, *size)
	var ru unix.Rusage
	unix.Getrusage(unix.RUSAGE_SELF, &ru)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	// One line the tests parse.
	fmt.Printf("loadgen sent %d elapsed_ns %d cpu_ns %d\n", sent, elapsed.Nanoseconds(), cpu.Nanoseconds())
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		return 1
	}
	return 0
}

func loadgen(iface, dstMAC, srcIP, dstIP string, rate float64, dur time.Duration, size int) (uint64, time.Duration, error) {
	ifc, err := net.InterfaceByName(iface)
	if err != nil {
		return 0, 0, err
	}
	dst, err := net.ParseMAC(dstMAC)
	if err != nil {
		return 0, 0, err
	}
	sip, err := netip.ParseAddr(srcIP)
	if err != nil {
		return 0, 0, err
	}
	dip, err := netip.ParseAddr(dstIP)
	if err != nil {
		return 0, 0, err
	}
	// Protocol 0: the socket only sends, it is not a tap on the interface.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
	if err != nil {
		return 0, 0, err
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Ifindex: ifc.Index}); err != nil {
		return 0, 0, err
	}
	unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_QDISC_BYPASS, 1)
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 4<<20)

	const batch = 64
	frames := make([][]byte, batch)
	iovs := make([]unix.Iovec, batch)
	msgs := make([]unix.Mmsghdr, batch)
	for i := range frames {
		frames[i] = udpFrame(dst, ifc.HardwareAddr, sip, dip, uint16(40000+i), 9, size)
		iovs[i].Base = &frames[i][0]
		iovs[i].SetLen(len(frames[i]))
		msgs[i].Hdr.Iov = &iovs[i]
		msgs[i].Hdr.SetIovlen(1)
	}
	send := func(n int) (int, error) {
		r, _, e := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(fd), uintptr(unsafe.Pointer(&msgs[0])), uintptr(n), 0, 0, 0)
		runtime.KeepAlive(frames)
		runtime.KeepAlive(iovs)
		if e != 0 {
			return 0, e
		}
		return int(r), nil
	}

	// Pacing: every turn sends what is due by now, at most 10 ms worth at
	// once, so a turn that came late does not end in one long burst.
	maxBurst := uint64(rate / 100)
	if maxBurst < batch {
		maxBurst = batch
	}
	start := time.Now()
	deadline := start.Add(dur)
	var sent uint64
	for {
		now := time.Now()
		if !now.Before(deadline) {
			break
		}
		due := uint64(now.Sub(start).Seconds() * rate)
		if due <= sent {
			time.Sleep(200 * time.Microsecond)
			continue
		}
		n := min(due-sent, maxBurst)
		for n > 0 {
			k, err := send(int(min(n, batch)))
			if err == unix.ENOBUFS || err == unix.EAGAIN || err == unix.EINTR {
				break
			}
			if err != nil {
				return sent, time.Since(start), err
			}
			sent += uint64(k)
			n -= uint64(k)
		}
		time.Sleep(200 * time.Microsecond)
	}
	return sent, time.Since(start), nil
}

// udpFrame builds an Ethernet/IPv4/UDP frame of size bytes (without FCS).
func udpFrame(dst, src net.HardwareAddr, sip, dip netip.Addr, sport, dport uint16, size int) []byte {
	size = max(size, 60)
	f := make([]byte, size)
	copy(f[0:6], dst)
	copy(f[6:12], src)
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	ip := f[14:34]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(size-14))
	ip[8] = 64
	ip[9] = 17
	s4, d4 := sip.As4(), dip.As4()
	copy(ip[12:16], s4[:])
	copy(ip[16:20], d4[:])
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
	udp := f[34:]
	binary.BigEndian.PutUint16(udp[0:], sport)
	binary.BigEndian.PutUint16(udp[2:], dport)
	binary.BigEndian.PutUint16(udp[4:], uint16(size-34))
	// UDP checksum 0: none (allowed over IPv4).
	return f
}
