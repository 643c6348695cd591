package vrrp

import "time"

// The timers are computed as keepalived 2.2.7 computes them, in whole
// microseconds, which is also what the RFCs' formulas give when read with
// real numbers and truncated to the microsecond:
//
//	VRRPv2: Skew_Time = (256 - Priority) * 1 s / 256
//	VRRPv3: Skew_Time = (256 - Priority) * Master_Adver_Interval / 256,
//	        Master_Adver_Interval in whole centiseconds
//	Master_Down_Interval = 3 * Master_Adver_Interval + Skew_Time
//
// keepalived reduces the VRRPv3 product by 625/16 (= 10000 µs / 256) to
// stay within 32 bits; the result is the same. RFC 5798's text counts
// Skew_Time in centiseconds, which would truncate 96.09 ms to 90 ms for
// priority 10 at 100 ms; keepalived, FRR and the analyzer's measurements
// of them use the exact value, and so does everything here.

// SkewTime is how long a backup of the given priority waits after a
// priority-0 advert, and beyond three missed adverts, before it takes over.
// masterInterval is the master's advertisement interval; VRRPv2 ignores it.
// A priority outside 1..255 counts as 255.
func SkewTime(version, priority int, masterInterval time.Duration) time.Duration {
	if priority < 1 || priority > 255 {
		priority = 255
	}
	if version == 3 {
		cs := int64(masterInterval / (10 * time.Millisecond))
		return time.Duration(int64(256-priority)*cs*625/16) * time.Microsecond
	}
	return time.Duration(int64(256-priority)*1_000_000/256) * time.Microsecond
}

// MasterDownInterval is how long a backup of the given priority waits after
// the master's last advert before it declares the master down. For VRRPv3,
// masterInterval is truncated to whole centiseconds as on the wire.
func MasterDownInterval(version, priority int, masterInterval time.Duration) time.Duration {
	if version == 3 {
		masterInterval = masterInterval.Truncate(10 * time.Millisecond)
	}
	return 3*masterInterval + SkewTime(version, priority, masterInterval)
}
