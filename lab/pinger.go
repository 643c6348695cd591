package lab

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"

	"github.com/vrrpctl/vrrpctl/internal/nsenter"
)

// Echo is one ICMP echo request and its reply, if any.
type Echo struct {
	Seq  int
	Sent time.Time
	// Replied is zero when no reply came.
	Replied time.Time
}

// Pinger sends ICMP echo requests to one address at a steady rate from a
// host's namespace and records which were answered.
type Pinger struct {
	conn     *icmp.PacketConn
	dst      *net.IPAddr
	id       int
	interval time.Duration

	mu    sync.Mutex
	echos []Echo

	stop chan struct{}
	wg   sync.WaitGroup
}

// StartPinger begins pinging dst from host every interval.
func (l *Lab) StartPinger(host string, dst netip.Addr, interval time.Duration) (*Pinger, error) {
	h := l.hosts[host]
	if h == nil {
		return nil, fmt.Errorf("no host %q in the lab", host)
	}
	if interval <= 0 {
		return nil, fmt.Errorf("ping interval %v must be positive", interval)
	}
	var conn *icmp.PacketConn
	// The raw socket belongs to the namespace it was opened in.
	err := nsenter.Run(h.handle, func() (err error) {
		conn, err = icmp.ListenPacket("ip4:icmp", "0.0.0.0")
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("icmp socket in %s: %w", h.NS, err)
	}
	p := &Pinger{
		conn:     conn,
		dst:      &net.IPAddr{IP: dst.AsSlice()},
		id:       os.Getpid() & 0xffff,
		interval: interval,
		stop:     make(chan struct{}),
	}
	p.wg.Add(2)
	go p.receive()
	go p.send()
	return p, nil
}

func (p *Pinger) send() {
	defer p.wg.Done()
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for seq := 0; ; seq++ {
		msg := icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: p.id, Seq: seq & 0xffff, Data: []byte("vrrpctl-lab")}}
		b, _ := msg.Marshal(nil)
		p.mu.Lock()
		p.echos = append(p.echos, Echo{Seq: seq, Sent: time.Now()})
		p.mu.Unlock()
		// A send error (no ARP answer yet, link down) is just an unanswered echo.
		p.conn.WriteTo(b, p.dst)
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
	}
}

func (p *Pinger) receive() {
	defer p.wg.Done()
	buf := make([]byte, 1500)
	for {
		n, _, err := p.conn.ReadFrom(buf)
		if err != nil {
			select {
			case <-p.stop:
				return
			default:
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			return
		}
		now := time.Now()
		msg, err := icmp.ParseMessage(1, buf[:n])
		if err != nil || msg.Type != ipv4.ICMPTypeEchoReply {
			continue
		}
		echo, ok := msg.Body.(*icmp.Echo)
		if !ok || echo.ID != p.id {
			continue
		}
		p.mu.Lock()
		// Sequence numbers wrap at 16 bits: match the latest echo with it.
		for i := len(p.echos) - 1; i >= 0; i-- {
			if p.echos[i].Seq&0xffff == echo.Seq {
				if p.echos[i].Replied.IsZero() {
					p.echos[i].Replied = now
				}
				break
			}
		}
		p.mu.Unlock()
	}
}

// Echos returns a copy of what was sent so far.
func (p *Pinger) Echos() []Echo {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Echo(nil), p.echos...)
}

// Interval returns the echo interval.
func (p *Pinger) Interval() time.Duration { return p.interval }

// LastReply returns the time of the newest reply, zero if none.
func (p *Pinger) LastReply() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	var last time.Time
	for _, e := range p.echos {
		if e.Replied.After(last) {
			last = e.Replied
		}
	}
	return last
}

// Stop ends sending, waits linger for late replies, and closes the socket.
func (p *Pinger) Stop(linger time.Duration) []Echo {
	select {
	case <-p.stop:
		return p.Echos()
	default:
	}
	// Stop sending first, then give answers in flight time to arrive.
	close(p.stop)
	time.Sleep(linger)
	p.conn.SetReadDeadline(time.Now())
	p.conn.Close()
	p.wg.Wait()
	return p.Echos()
}
