package vrrp

import (
	"testing"
	"time"
)

// The constants are worked out by hand from keepalived 2.2.7's
// VRRP_TIMER_SKEW macro and checked against the reference captures of
// keepalived in testdata/: failover.pcap (VRRPv2, backup priority 10,
// resign: takeover 965 ms after the priority-0 advert), v3-100ms.pcap
// (VRRPv3 at 100 ms, backup priority 10: takeover 396 ms after the last
// advert) and every capture's start-up (priority 100 at 1 s: master 3.61 s
// after the join).
func TestTimers(t *testing.T) {
	us := time.Microsecond
	for _, c := range []struct {
		version, prio int
		interval      time.Duration
		skew, mdi     time.Duration
	}{
		{2, 10, time.Second, 960937 * us, 3960937 * us},
		{2, 100, time.Second, 609375 * us, 3609375 * us},
		{2, 255, time.Second, 3906 * us, 3003906 * us},
		{2, 100, 5 * time.Second, 609375 * us, 15609375 * us}, // VRRPv2 skew ignores the interval
		{2, 0, time.Second, 3906 * us, 3003906 * us},          // priority 0 counts as 255
		{3, 10, 100 * time.Millisecond, 96093 * us, 396093 * us},
		{3, 100, 100 * time.Millisecond, 60937 * us, 360937 * us},
		{3, 10, time.Second, 960937 * us, 3960937 * us},
		{3, 200, 40950 * time.Millisecond, 8957812 * us, 131807812 * us},
		{3, 10, 105 * time.Millisecond, 96093 * us, 396093 * us}, // whole centiseconds
	} {
		if got := SkewTime(c.version, c.prio, c.interval); got != c.skew {
			t.Errorf("SkewTime(v%d, %d, %v) = %v, want %v", c.version, c.prio, c.interval, got, c.skew)
		}
		if got := MasterDownInterval(c.version, c.prio, c.interval); got != c.mdi {
			t.Errorf("MasterDownInterval(v%d, %d, %v) = %v, want %v", c.version, c.prio, c.interval, got, c.mdi)
		}
	}
}

func TestVirtualMAC(t *testing.T) {
	if got := VirtualMAC(51, false); got != [6]byte{0, 0, 0x5e, 0, 1, 0x33} {
		t.Errorf("VirtualMAC(51, v4) = %x", got)
	}
	if got := VirtualMAC(255, true); got != [6]byte{0, 0, 0x5e, 0, 2, 0xff} {
		t.Errorf("VirtualMAC(255, v6) = %x", got)
	}
	for _, c := range []struct {
		mac  [6]byte
		vrid uint8
		v6   bool
		ok   bool
	}{
		{[6]byte{0, 0, 0x5e, 0, 1, 51}, 51, false, true},
		{[6]byte{0, 0, 0x5e, 0, 2, 1}, 1, true, true},
		{[6]byte{0, 0, 0x5e, 0, 3, 1}, 0, false, false},  // not VRRP
		{[6]byte{0, 0, 0x5e, 0, 1, 0}, 0, false, false},  // VRID 0 does not exist
		{[6]byte{1, 0, 0x5e, 0, 1, 51}, 0, false, false}, // multicast
		{[6]byte{0x42, 0x27, 0xce, 7, 0x10, 0xa3}, 0, false, false},
	} {
		vrid, v6, ok := ParseVirtualMAC(c.mac)
		if vrid != c.vrid || v6 != c.v6 || ok != c.ok {
			t.Errorf("ParseVirtualMAC(%x) = %d, %v, %v; want %d, %v, %v", c.mac, vrid, v6, ok, c.vrid, c.v6, c.ok)
		}
	}
}
