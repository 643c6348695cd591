package lab

import (
	"github.com/vrrpctl/vrrpctl/internal/mcbridge"
	"github.com/vrrpctl/vrrpctl/internal/nsenter"
)

// SetBridgeMulticast changes the multicast settings of the segment's
// bridge (snooping, its own querier, the snooping timers), as `ip link set
// br0 type bridge mcast_snooping 1 mcast_querier 0 ...` in the switch.
func (l *Lab) SetBridgeMulticast(s mcbridge.Settings) error {
	return nsenter.Run(l.sw.handle, func() error { return mcbridge.Set(bridgeName, s) })
}

// BridgeMulticast returns the segment's bridge as mcbridge reads it.
func (l *Lab) BridgeMulticast() (mcbridge.Bridge, error) {
	var out mcbridge.Bridge
	err := nsenter.Run(l.sw.handle, func() error {
		brs, err := mcbridge.List()
		if err != nil {
			return err
		}
		for _, b := range brs {
			if b.Name == bridgeName {
				out = b
			}
		}
		return nil
	})
	return out, err
}

// BridgeName is the name of the segment's bridge in the switch namespace.
func (l *Lab) BridgeName() string { return bridgeName }
