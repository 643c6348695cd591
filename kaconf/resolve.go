package kaconf

import "time"

// resolve applies defaults and inherited global settings to the instances
// and checks what keepalived checks once the whole file is read
// (vrrp_complete_instance in keepalived/vrrp/vrrp.c).
func (p *parser) resolve() {
	p.resolveGlobalGARP()
	seen := map[vrKey]*Instance{}
	for _, r := range p.raws {
		if p.resolveInstance(r) && p.uniqueVRID(seen, r.in) {
			p.cfg.Instances = append(p.cfg.Instances, r.in)
		}
	}
	p.resolveSyncGroups()
}

// resolveGlobalGARP: the lower-priority GARP burst defaults to the master's
// delay and repeat (keepalived.conf(5); keepalived 2.2.7 -d shows it).
func (p *parser) resolveGlobalGARP() {
	g := &p.cfg.Global.GARP
	if !p.globalSet["vrrp_garp_lower_prio_delay"] {
		g.LowerPrioDelay = g.MasterDelay
	}
	if !p.globalSet["vrrp_garp_lower_prio_repeat"] {
		g.LowerPrioRepeat = g.MasterRepeat
	}
}

// resolveInstance completes one instance and reports whether keepalived
// would run it (it has its virtual_router_id and interface).
func (p *parser) resolveInstance(r *rawInstance) bool {
	valid := p.checkRequired(r)
	p.applyDefaults(r)
	p.inheritGlobal(r)
	p.resolveAuth(r)
	p.checkAddresses(r)
	p.resolveTrackScripts(r)
	return valid
}

// checkRequired reports an instance without virtual_router_id or interface.
func (p *parser) checkRequired(r *rawInstance) bool {
	in := r.in
	hdr := Position{in.File, in.Line}
	valid := true
	if !r.set["virtual_router_id"] {
		if _, written := in.Keywords["virtual_router_id"]; !written {
			p.errorf(hdr, "virtual_router_id", "missing in vrrp_instance %s", in.Name)
		}
		valid = false
	}
	if !r.set["interface"] {
		p.errorf(hdr, "interface", "missing in vrrp_instance %s", in.Name)
		valid = false
	}
	return valid
}

// applyDefaults sets version, priority and advert_int where the instance
// does not, and clears the preemption settings keepalived clears.
func (p *parser) applyDefaults(r *rawInstance) {
	in := r.in
	if !r.set["version"] {
		in.Version = p.cfg.Global.VRRPVersion
	}
	if !r.set["priority"] {
		in.Priority = DefaultPriority
		if in.State == "MASTER" {
			in.Priority = OwnerPriority
		}
	}
	in.AdvertInt = DefaultAdvertInt
	if r.set["advert_int"] {
		in.AdvertInt = p.advertInt(in, r.advert)
	}
	if in.PreemptDelay > 0 && in.State == "MASTER" {
		p.warnf(in.Keywords["preempt_delay"], "preempt_delay: has no effect with state MASTER; cleared")
		in.PreemptDelay = 0
	}
	if in.NoPreempt && in.Priority == OwnerPriority {
		p.warnf(in.Keywords["nopreempt"], "nopreempt: has no effect with priority 255; cleared")
		in.NoPreempt = false
	}
}

// inheritGlobal gives the instance the global GARP timers and flags it
// does not set itself.
func (p *parser) inheritGlobal(r *rawInstance) {
	in, g := r.in, p.cfg.Global
	garp := g.GARP
	if r.set["garp_master_delay"] {
		garp.MasterDelay = in.GARP.MasterDelay
	}
	if r.set["garp_master_repeat"] {
		garp.MasterRepeat = in.GARP.MasterRepeat
	}
	if r.set["garp_master_refresh"] {
		garp.MasterRefresh = in.GARP.MasterRefresh
	}
	if r.set["garp_master_refresh_repeat"] {
		garp.MasterRefreshRepeat = in.GARP.MasterRefreshRepeat
	}
	if r.set["garp_lower_prio_delay"] {
		garp.LowerPrioDelay = in.GARP.LowerPrioDelay
	}
	if r.set["garp_lower_prio_repeat"] {
		garp.LowerPrioRepeat = in.GARP.LowerPrioRepeat
	}
	in.GARP = garp
	for _, f := range []struct {
		kw       string
		dst      *bool
		fallback bool
	}{
		{"lower_prio_no_advert", &in.LowerPrioNoAdvert, g.LowerPrioNoAdvert},
		{"higher_prio_send_advert", &in.HigherPrioSendAdvert, g.HigherPrioSendAdvert},
		{"skip_check_adv_addr", &in.SkipCheckAdvAddr, g.SkipCheckAdvAddr},
		{"check_unicast_src", &in.CheckUnicastSrc, g.CheckUnicastSrc},
		{"strict_mode", &in.Strict, g.Strict},
	} {
		if !r.set[f.kw] {
			*f.dst = f.fallback
		}
	}
	if !in.McastDstIP.IsValid() {
		in.McastDstIP = g.MulticastGroup4
		if in.ipv6 {
			in.McastDstIP = g.MulticastGroup6
		}
	}
	if !r.set["accept"] && !r.set["no_accept"] {
		// keepalived accepts packets for the VIPs unless strict.
		in.Accept = !in.Strict
	}
}

// checkAddresses gives the addresses the instance's interface where they
// name none, and warns of what keepalived warns about them.
func (p *parser) checkAddresses(r *rawInstance) {
	in := r.in
	if in.ipv6 && len(in.VIPs) > 0 && !in.VIPs[0].Prefix.Addr().IsLinkLocalUnicast() {
		// RFC 5798 5.2.9: the first address of an IPv6 virtual router is
		// its link-local address. keepalived says so, and refuses
		// otherwise in strict mode.
		verb := "should"
		if in.Strict {
			verb = "must"
		}
		p.warnf(Position{in.VIPs[0].File, in.VIPs[0].Line}, "virtual_ipaddress: the first IPv6 address %s be link-local", verb)
	}
	if len(in.VIPs) == 0 {
		p.warnf(Position{in.File, in.Line}, "vrrp_instance %s has no virtual_ipaddress", in.Name)
	}
	for _, vips := range [][]VIP{in.VIPs, in.ExcludedVIPs} {
		for i := range vips {
			if vips[i].Dev == "" {
				vips[i].Dev = in.Interface
			}
		}
	}
	if _, ok := in.Keywords["unicast_src_ip"]; ok && in.UnicastSrcIP.IsValid() && len(in.UnicastPeers) == 0 {
		p.warnf(in.Keywords["unicast_src_ip"], "unicast_src_ip: no unicast_peer given; the instance uses multicast")
	}
	if r.set["unicast_ttl"] && len(in.UnicastPeers) == 0 {
		p.warnf(in.Keywords["unicast_ttl"], "unicast_ttl: cannot be used without unicast peers; reset")
		r.set["unicast_ttl"] = false
	}
	if !r.set["unicast_ttl"] {
		in.UnicastTTL = 255
	}
	if in.VMACXmitBase && !in.UseVMAC {
		p.warnf(in.Keywords["vmac_xmit_base"], "vmac_xmit_base: has no effect without use_vmac")
	}
}

// resolveTrackScripts drops the track_script and track_file entries that
// name no vrrp_script or track_file block, as keepalived does.
func (p *parser) resolveTrackScripts(r *rawInstance) {
	in := r.in
	in.TrackScripts = p.knownRefs("track_script", "vrrp_script", in.TrackScripts)
	in.TrackFiles = p.knownRefs("track_file", "track_file", in.TrackFiles)
}

func (p *parser) knownRefs(kw, block string, refs []TrackRef) []TrackRef {
	var out []TrackRef
	for _, ref := range refs {
		found := false
		if block == "vrrp_script" {
			for _, s := range p.cfg.Scripts {
				found = found || s.Name == ref.Name
			}
		} else {
			for _, f := range p.cfg.TrackFiles {
				found = found || f.Name == ref.Name
			}
		}
		if !found {
			p.warnf(Position{ref.File, ref.Line}, "%s: no %s %s; ignored", kw, block, ref.Name)
			continue
		}
		out = append(out, ref)
	}
	return out
}

// vrKey identifies a virtual router: keepalived refuses one VRID twice on
// an interface for one address family.
type vrKey struct {
	iface string
	ipv6  bool
	vrid  int
}

// uniqueVRID records in under its key, or reports the instance that has it.
func (p *parser) uniqueVRID(seen map[vrKey]*Instance, in *Instance) bool {
	k := vrKey{in.Interface, in.ipv6, in.VRID}
	if other, dup := seen[k]; dup {
		p.errorf(in.Keywords["virtual_router_id"], "virtual_router_id",
			"%d on %s (%s) is already used by vrrp_instance %s at %s:%d",
			in.VRID, in.Interface, in.Family(), other.Name, other.File, other.Line)
		return false
	}
	seen[k] = in
	return true
}

// resolveSyncGroups drops the members that are no instance.
func (p *parser) resolveSyncGroups() {
	inGroup := map[string]string{}
	for i := range p.cfg.SyncGroups {
		sg := &p.cfg.SyncGroups[i]
		pos := Position{sg.File, sg.Line}
		var members []string
		for _, m := range sg.Members {
			if !p.hasInstance(m) {
				p.warnf(pos, "vrrp_sync_group %s: no vrrp_instance %s; ignored", sg.Name, m)
				continue
			}
			if other, ok := inGroup[m]; ok {
				p.warnf(pos, "vrrp_sync_group %s: vrrp_instance %s is already in vrrp_sync_group %s; ignored", sg.Name, m, other)
				continue
			}
			inGroup[m] = sg.Name
			members = append(members, m)
		}
		sg.Members = members
		sg.TrackScripts = p.knownRefs("track_script", "vrrp_script", sg.TrackScripts)
		sg.TrackFiles = p.knownRefs("track_file", "track_file", sg.TrackFiles)
		if len(members) < 2 {
			p.warnf(pos, "vrrp_sync_group %s has %d instances; a group needs two to be of use", sg.Name, len(members))
		}
	}
}

// hasInstance reports whether an instance of that name is in the
// configuration (keepalived would run it).
func (p *parser) hasInstance(name string) bool {
	for _, in := range p.cfg.Instances {
		if in.Name == name {
			return true
		}
	}
	return false
}

// advertInt fits the advert interval to the instance's version: VRRPv2
// carries whole seconds, VRRPv3 centiseconds below 40.96 s. keepalived
// rounds to the nearest and says so.
func (p *parser) advertInt(in *Instance, d time.Duration) time.Duration {
	pos := in.Keywords["advert_int"]
	if in.Version == 2 {
		r := (d + time.Second/2) / time.Second * time.Second
		if r == 0 {
			r = time.Second
		}
		if r != d {
			p.warnf(pos, "advert_int: VRRPv2 needs whole seconds; %s rounded to %s", fmtSeconds(d), fmtSeconds(r))
		}
		return r
	}
	const cs = 10 * time.Millisecond
	r := (d + cs/2) / cs * cs
	if r != d {
		p.warnf(pos, "advert_int: VRRPv3 needs units of 10ms; %s rounded to %s", fmtSeconds(d), fmtSeconds(r))
	}
	if r > maxAdvertIntV3 {
		p.warnf(pos, "advert_int: VRRPv3 allows at most %s; %s lowered", fmtSeconds(maxAdvertIntV3), fmtSeconds(r))
		r = maxAdvertIntV3
	}
	return r
}

func (p *parser) resolveAuth(r *rawInstance) {
	in := r.in
	if !r.authSet {
		return
	}
	a := in.Auth
	in.Auth = Auth{}
	switch {
	case a.Type == "":
		// A password without a type authenticates nothing, silently.
	case a.Pass == "":
		p.warnf(r.authPos, "authentication: auth_type %s without auth_pass; authentication ignored", a.Type)
	case in.Version == 3:
		p.warnf(r.authPos, "authentication: VRRPv3 has no authentication; ignored")
	case in.Strict:
		p.warnf(r.authPos, "authentication: not allowed in strict mode; ignored")
	default:
		in.Auth = a
	}
}
