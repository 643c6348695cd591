package vrrpd

import (
	"fmt"

	"github.com/vrrpctl/vrrpctl/kaconf"
)

// FromKeepalived turns the vrrp_instance blocks of a parsed keepalived.conf
// into router configurations with keepalived's meaning. Settings keepalived
// accepts but this speaker does not implement are refused with the file
// and line, so that a configuration never means something else here.
func FromKeepalived(c *kaconf.Config) ([]RouterConfig, error) {
	if len(c.Instances) == 0 {
		return nil, fmt.Errorf("%s: no vrrp_instance", c.File)
	}
	var out []RouterConfig
	for _, in := range c.Instances {
		at := func(kw string) string {
			if p, ok := in.Keywords[kw]; ok {
				return fmt.Sprintf("%s:%d: %s", p.File, p.Line, kw)
			}
			return fmt.Sprintf("%s:%d: vrrp_instance %s", in.File, in.Line, in.Name)
		}
		rc := RouterConfig{
			Name:             in.Name,
			Interface:        in.Interface,
			VRID:             uint8(in.VRID),
			Priority:         uint8(in.Priority),
			Version:          in.Version,
			AdvertInterval:   in.AdvertInt,
			NoPreempt:        in.NoPreempt,
			PreemptDelay:     in.PreemptDelay,
			Primary:          in.UnicastSrcIP,
			UnicastPeers:     in.UnicastPeers,
			SkipCheckAdvAddr: in.SkipCheckAdvAddr || c.Global.SkipCheckAdvAddr,
			UseVMAC:          in.UseVMAC,
			NotifyMaster:     in.Notify.Master,
			NotifyBackup:     in.Notify.Backup,
			NotifyFault:      in.Notify.Fault,
			GARP:             garpConfig(in.GARP),
		}
		if in.Family() == "ipv6" && in.GARP.NAInterval > 0 {
			rc.GARP.Interval = in.GARP.NAInterval
		}
		if in.VRID < 1 || in.VRID > 255 {
			return nil, fmt.Errorf("%s: %d is not 1-255", at("virtual_router_id"), in.VRID)
		}
		if in.Priority < 1 || in.Priority > 255 {
			return nil, fmt.Errorf("%s: %d is not 1-255", at("priority"), in.Priority)
		}
		switch in.Auth.Type {
		case "":
		case "PASS":
			rc.AuthPass = in.Auth.Pass
		default:
			return nil, fmt.Errorf("%s: auth_type %s is not supported (only PASS)", at("authentication"), in.Auth.Type)
		}
		for _, v := range in.VIPs {
			if v.Dev != "" && v.Dev != in.Interface {
				return nil, fmt.Errorf("%s:%d: virtual_ipaddress %s on %s: only addresses on the instance's interface %s are supported", v.File, v.Line, v.Prefix, v.Dev, in.Interface)
			}
			rc.VIPs = append(rc.VIPs, v.Prefix)
		}
		if err := rc.Validate(); err != nil {
			return nil, fmt.Errorf("%s: %w", at("vrrp_instance"), err)
		}
		out = append(out, rc)
	}
	return out, nil
}
