package vrrpd

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/vrrpctl/vrrpctl/kaconf"
)

// UnsupportedError lists the keywords of a configuration that change what
// goes on the wire or a failover decision and that the speaker does not
// implement (kaconf.Refused).
type UnsupportedError struct {
	Uses []kaconf.Use
}

func (e *UnsupportedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d keyword(s) the speaker does not implement would change the protocol or a failover decision (--allow-unsupported runs without them):", len(e.Uses))
	for _, u := range e.Uses {
		b.WriteString("\n  " + u.String())
	}
	return b.String()
}

// Unsupported returns the keywords of c that the speaker refuses and those
// it runs without, harmlessly.
func Unsupported(c *kaconf.Config) (refused, ignored []kaconf.Use) {
	for _, u := range c.Unimplemented {
		if u.Status == kaconf.Refused {
			refused = append(refused, u)
		} else {
			ignored = append(ignored, u)
		}
	}
	return refused, ignored
}

// FromKeepalived turns a parsed keepalived.conf into the speaker's options,
// with keepalived's meaning. A keyword the speaker does not implement and
// that would change the protocol or a failover decision makes it return an
// *UnsupportedError listing them all, unless allowUnsupported; settings it
// cannot honour at all (AH authentication, an address on another
// interface) are an error with the file and line. Logger, NetNS and
// NotifyTimeout are left to the caller.
func FromKeepalived(c *kaconf.Config, allowUnsupported bool) (Options, error) {
	var opts Options
	if refused, _ := Unsupported(c); len(refused) > 0 && !allowUnsupported {
		return opts, &UnsupportedError{Uses: refused}
	}
	if len(c.Instances) == 0 {
		return opts, fmt.Errorf("%s: no vrrp_instance", c.File)
	}
	groupOf := map[string]*kaconf.SyncGroup{}
	for i := range c.SyncGroups {
		sg := &c.SyncGroups[i]
		for _, m := range sg.Members {
			groupOf[m] = sg
		}
		opts.SyncGroups = append(opts.SyncGroups, SyncGroupConfig{Name: sg.Name, Members: sg.Members,
			NotifyMaster: sg.Notify.Master, NotifyBackup: sg.Notify.Backup, NotifyFault: sg.Notify.Fault,
			NotifyStop: sg.Notify.Stop, Notify: sg.Notify.Any})
	}
	for _, in := range c.Instances {
		rc, err := routerFromInstance(c, in, groupOf[in.Name])
		if err != nil {
			return opts, err
		}
		opts.Routers = append(opts.Routers, rc)
	}
	for _, s := range c.Scripts {
		sc := ScriptConfig{Name: s.Name, Command: s.Command, Interval: s.Interval, Timeout: s.Timeout,
			Weight: s.Weight, Reverse: s.Reverse, Rise: s.Rise, Fall: s.Fall, User: s.User, Group: s.Group, InitFail: s.InitFail}
		if sc.User == "" {
			sc.User, sc.Group = c.Global.ScriptUser, c.Global.ScriptGroup
		}
		opts.Scripts = append(opts.Scripts, sc)
	}
	for _, f := range c.TrackFiles {
		opts.TrackFiles = append(opts.TrackFiles, TrackFileConfig{Name: f.Name, Path: f.Path, Weight: f.Weight,
			Reverse: f.Reverse, Init: f.Init, InitValue: f.InitValue, InitOverwrite: f.InitOverwrite})
	}
	return opts, nil
}

// routerFromInstance is one vrrp_instance as a router, in its sync group sg
// (or none).
func routerFromInstance(c *kaconf.Config, in *kaconf.Instance, sg *kaconf.SyncGroup) (RouterConfig, error) {
	at := func(kw string) string {
		if p, ok := in.Keywords[kw]; ok {
			return fmt.Sprintf("%s:%d: %s", p.File, p.Line, kw)
		}
		return fmt.Sprintf("%s:%d: vrrp_instance %s", in.File, in.Line, in.Name)
	}
	rc := RouterConfig{
		Name:                   in.Name,
		Interface:              in.Interface,
		VRID:                   uint8(in.VRID),
		Priority:               uint8(in.Priority),
		Version:                in.Version,
		AdvertInterval:         in.AdvertInt,
		NoPreempt:              in.NoPreempt,
		PreemptDelay:           in.PreemptDelay,
		Primary:                in.UnicastSrcIP,
		UnicastPeers:           in.UnicastPeers,
		CheckUnicastSrc:        in.CheckUnicastSrc,
		ChecksumAsV2:           in.ChecksumAsV2,
		SkipCheckAdvAddr:       in.SkipCheckAdvAddr || c.Global.SkipCheckAdvAddr,
		LowerPrioNoAdvert:      in.LowerPrioNoAdvert,
		HigherPrioSendAdvert:   in.HigherPrioSendAdvert,
		UseVMAC:                in.UseVMAC,
		NotifyMaster:           in.Notify.Master,
		NotifyBackup:           in.Notify.Backup,
		NotifyFault:            in.Notify.Fault,
		NotifyStop:             in.Notify.Stop,
		Notify:                 in.Notify.Any,
		NotifyMasterRxLowerPri: in.Notify.MasterRxLowerPri,
		DontTrackPrimary:       in.DontTrackPrimary,
		GARP:                   garpConfig(in.GARP),
	}
	if in.Family() == "ipv6" && in.GARP.NAInterval > 0 {
		rc.GARP.Interval = in.GARP.NAInterval
	}
	if in.VRID < 1 || in.VRID > 255 {
		return rc, fmt.Errorf("%s: %d is not 1-255", at("virtual_router_id"), in.VRID)
	}
	if in.Priority < 1 || in.Priority > 255 {
		return rc, fmt.Errorf("%s: %d is not 1-255", at("priority"), in.Priority)
	}
	if in.Unicast() {
		rc.UnicastTTL = in.UnicastTTL
		for _, r := range in.PeerTTL {
			rc.PeerTTL = append(rc.PeerTTL, TTLRange{Min: uint8(r.Min), Max: uint8(r.Max)})
		}
	} else if g := in.McastDstIP; g.IsValid() && g != Group4 && g != Group6 {
		rc.Group = g
	}
	switch in.Auth.Type {
	case "":
	case "PASS":
		rc.AuthPass = in.Auth.Pass
	default:
		return rc, fmt.Errorf("%s: auth_type %s is not supported (only PASS)", at("authentication"), in.Auth.Type)
	}
	for _, list := range []struct {
		vips []kaconf.VIP
		dst  *[]netip.Prefix
		kw   string
	}{{in.VIPs, &rc.VIPs, "virtual_ipaddress"}, {in.ExcludedVIPs, &rc.ExcludedVIPs, "virtual_ipaddress_excluded"}} {
		for _, v := range list.vips {
			if v.Dev != "" && v.Dev != in.Interface {
				return rc, fmt.Errorf("%s:%d: %s %s on %s: only addresses on the instance's interface %s are supported", v.File, v.Line, list.kw, v.Prefix, v.Dev, in.Interface)
			}
			*list.dst = append(*list.dst, v.Prefix)
		}
	}
	// In a sync group without sync_group_tracking_weight, keepalived
	// ignores the members' tracking weights: any tracked failure is a
	// FAULT, of the whole group. The group's own tracking is every
	// member's.
	weights := sg == nil || sg.TrackingWeight
	track := func(refs []kaconf.TrackRef, dst *[]Track) {
		for _, t := range refs {
			tr := Track{Name: t.Name, Weight: t.Weight, WeightSet: t.WeightSet, Reverse: t.Reverse}
			if !weights {
				tr.Weight, tr.WeightSet, tr.Reverse = 0, true, false
			}
			*dst = append(*dst, tr)
		}
	}
	track(in.TrackInterfaces, &rc.TrackInterfaces)
	track(in.TrackScripts, &rc.TrackScripts)
	track(in.TrackFiles, &rc.TrackFiles)
	if sg != nil {
		rc.SyncGroup = sg.Name
		track(sg.TrackInterfaces, &rc.TrackInterfaces)
		track(sg.TrackScripts, &rc.TrackScripts)
		track(sg.TrackFiles, &rc.TrackFiles)
	}
	if err := rc.Validate(); err != nil {
		return rc, fmt.Errorf("%s: %w", at("vrrp_instance"), err)
	}
	return rc, nil
}
