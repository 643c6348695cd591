package lab

import "time"

// skewTime and masterDownInterval are the RFC timers: VRRPv2 (RFC 3768
// section 6.1) counts the skew in seconds, VRRPv3 (RFC 5798 section 6.1)
// scales it by the advertisement interval.
func skewTime(version, priority int, advert time.Duration) time.Duration {
	if version == 3 {
		return time.Duration(int64(256-priority) * int64(advert) / 256)
	}
	return time.Duration(int64(256-priority) * int64(time.Second) / 256)
}

func masterDownInterval(version, priority int, advert time.Duration) time.Duration {
	return 3*advert + skewTime(version, priority, advert)
}

func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
