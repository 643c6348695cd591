package analyze

import "time"

// The RFC timers, in one place. VRRPv2 (RFC 3768 section 6.1) counts in
// seconds; VRRPv3 (RFC 5798 section 6.1) scales Skew_Time by the master's
// advertisement interval.

// skewTime is how long a backup of the given priority waits beyond three
// missed intervals (or, after a priority-0 advert, at all) before taking over.
func skewTime(version int, priority int, masterInterval time.Duration) time.Duration {
	if priority <= 0 || priority > 255 {
		priority = 255
	}
	if version == 3 {
		return time.Duration(int64(256-priority) * int64(masterInterval) / 256)
	}
	return time.Duration(int64(256-priority) * int64(time.Second) / 256)
}

// masterDownInterval is how long a backup waits after the master's last
// advert before it declares the master down.
func masterDownInterval(version int, priority int, masterInterval time.Duration) time.Duration {
	return 3*masterInterval + skewTime(version, priority, masterInterval)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func msPtr(d time.Duration) *float64 {
	v := ms(d)
	return &v
}
