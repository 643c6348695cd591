package kaconf

import (
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Status says what vrrpctl's speaker (vrrpd.FromKeepalived) does with a
// keyword this package interprets. The analyzer reads every keyword.
type Status uint8

const (
	// Implemented: the speaker does what keepalived does with it.
	Implemented Status = iota + 1
	// Refused: the speaker refuses a configuration that uses it.
	Refused
	// Ignored: the speaker parses it and runs without it.
	Ignored
)

func (s Status) String() string {
	switch s {
	case Implemented:
		return "implemented"
	case Refused:
		return "refused"
	case Ignored:
		return "ignored"
	}
	return "status-" + strconv.Itoa(int(s))
}

// keyword is one keyword of global_defs or vrrp_instance that this package
// interprets: its handler and what the speaker does with it. A handler
// reports whether the keyword was given a valid value.
type keyword struct {
	status Status
	note   string // what the speaker does, where Status alone does not say it
	block  bool   // the keyword may be followed by a { } block
	global func(p *parser, g *Global, st statement) bool
	// instance handlers; r.in is the instance.
	instance func(p *parser, r *rawInstance, st statement) bool
}

// KeywordInfo describes one interpreted keyword, for documentation.
type KeywordInfo struct {
	Section string // "global_defs" or "vrrp_instance"
	Name    string
	Status  Status
	Note    string
}

// Keywords lists the keywords this package interprets, global_defs first,
// each section in alphabetical order, with what the speaker does with them.
func Keywords() []KeywordInfo {
	var out []KeywordInfo
	for _, sec := range []struct {
		name string
		kws  map[string]keyword
	}{{"global_defs", globalKeywords}, {"vrrp_instance", instanceKeywords}} {
		start := len(out)
		for name, k := range sec.kws {
			out = append(out, KeywordInfo{Section: sec.name, Name: name, Status: k.status, Note: k.note})
		}
		part := out[start:]
		sort.Slice(part, func(i, j int) bool { return part[i].Name < part[j].Name })
	}
	return out
}

// globalKeywords are the global_defs keywords of the VRRP part.
var globalKeywords = map[string]keyword{
	"router_id":                       {status: Ignored, note: "names the host in keepalived's logs and emails", global: globalRouterID},
	"vrrp_version":                    {status: Implemented, global: globalVersion},
	"vrrp_skip_check_adv_addr":        {status: Implemented, global: globalBool(func(g *Global) *bool { return &g.SkipCheckAdvAddr })},
	"vrrp_strict":                     {status: Ignored, global: globalStrict},
	"vrrp_lower_prio_no_advert":       {status: Ignored, global: globalBool(func(g *Global) *bool { return &g.LowerPrioNoAdvert })},
	"vrrp_higher_prio_send_advert":    {status: Ignored, global: globalBool(func(g *Global) *bool { return &g.HigherPrioSendAdvert })},
	"vrrp_garp_master_delay":          {status: Implemented, global: globalGARP},
	"vrrp_garp_master_repeat":         {status: Implemented, global: globalGARP},
	"vrrp_garp_master_refresh":        {status: Implemented, global: globalGARP},
	"vrrp_garp_master_refresh_repeat": {status: Implemented, global: globalGARP},
	"vrrp_garp_lower_prio_delay":      {status: Implemented, global: globalGARP},
	"vrrp_garp_lower_prio_repeat":     {status: Implemented, global: globalGARP},
	"vrrp_garp_interval":              {status: Implemented, global: globalGARP},
	"vrrp_gna_interval":               {status: Implemented, global: globalGARP},
	"vrrp_mcast_group4":               {status: Ignored, note: "the speaker always uses 224.0.0.18", global: globalGroup},
	"vrrp_mcast_group6":               {status: Ignored, note: "the speaker always uses ff02::12", global: globalGroup},
	"vrrp_iptables":                   {status: Ignored, note: "the speaker manages no firewall rules", block: true, global: globalFirewall},
	"nftables":                        {status: Ignored, note: "the speaker manages no firewall rules", global: globalFirewall},
}

// instanceKeywords are the vrrp_instance keywords.
var instanceKeywords = map[string]keyword{
	"state":                      {status: Ignored, note: "the speaker starts as backup, as RFC 5798 does below priority 255; state MASTER still sets the default priority to 255", instance: instState},
	"interface":                  {status: Implemented, instance: instInterface},
	"virtual_router_id":          {status: Implemented, instance: instVRID},
	"priority":                   {status: Implemented, instance: instPriority},
	"advert_int":                 {status: Implemented, instance: instAdvertInt},
	"version":                    {status: Implemented, instance: instVersion},
	"nopreempt":                  {status: Implemented, instance: instPreempt(true)},
	"preempt":                    {status: Implemented, instance: instPreempt(false)},
	"preempt_delay":              {status: Implemented, instance: instPreemptDelay},
	"authentication":             {status: Implemented, note: "auth_type PASS; AH is refused", block: true, instance: instAuth},
	"virtual_ipaddress":          {status: Implemented, note: "an address on another dev than the instance's interface is refused", block: true, instance: instVIPs},
	"virtual_ipaddress_excluded": {status: Ignored, block: true, instance: instVIPs},
	"unicast_src_ip":             {status: Implemented, instance: instUnicastSrc},
	"unicast_peer":               {status: Implemented, block: true, instance: instUnicastPeers},
	"garp_master_delay":          {status: Implemented, instance: instGARP},
	"garp_master_repeat":         {status: Implemented, instance: instGARP},
	"garp_master_refresh":        {status: Implemented, instance: instGARP},
	"garp_master_refresh_repeat": {status: Implemented, instance: instGARP},
	"garp_lower_prio_delay":      {status: Implemented, instance: instGARP},
	"garp_lower_prio_repeat":     {status: Implemented, instance: instGARP},
	"lower_prio_no_advert":       {status: Ignored, instance: instBool(func(in *Instance) *bool { return &in.LowerPrioNoAdvert })},
	"higher_prio_send_advert":    {status: Ignored, instance: instBool(func(in *Instance) *bool { return &in.HigherPrioSendAdvert })},
	"use_vmac":                   {status: Implemented, note: "always named vrrp.VRID (vrrp6.VRID); a name given is ignored", instance: instUseVMAC},
	"vmac_xmit_base":             {status: Ignored, instance: instVMACXmitBase},
	"notify_master":              {status: Implemented, instance: instNotify},
	"notify_backup":              {status: Implemented, instance: instNotify},
	"notify_fault":               {status: Implemented, instance: instNotify},
	"notify_stop":                {status: Ignored, instance: instNotify},
	"notify":                     {status: Ignored, instance: instNotify},
	"track_interface":            {status: Ignored, block: true, instance: instTrackInterface},
	"track_script":               {status: Ignored, block: true, instance: instTrackScript},
	"dont_track_primary":         {status: Ignored, instance: instDontTrackPrimary},
	"skip_check_adv_addr":        {status: Implemented, instance: instBool(func(in *Instance) *bool { return &in.SkipCheckAdvAddr })},
	"strict_mode":                {status: Ignored, instance: instBool(func(in *Instance) *bool { return &in.Strict })},
	"accept":                     {status: Ignored, instance: instAccept(true)},
	"no_accept":                  {status: Ignored, instance: instAccept(false)},
	"native_ipv6":                {status: Implemented, note: "as the family it sets", instance: instNativeIPv6},
}

// --- global_defs ---

func globalRouterID(p *parser, g *Global, st statement) bool {
	if v, ok := p.arg(st); ok {
		g.RouterID = v
	}
	return true
}

func globalVersion(p *parser, g *Global, st statement) bool {
	if v, ok := p.uintArg(st, 2, 3); ok {
		g.VRRPVersion = v
	}
	return true
}

func globalBool(field func(*Global) *bool) func(*parser, *Global, statement) bool {
	return func(p *parser, g *Global, st statement) bool {
		p.optBool(st, field(g))
		return true
	}
}

func globalStrict(p *parser, g *Global, st statement) bool {
	g.Strict = true
	return true
}

func globalGARP(p *parser, g *Global, st statement) bool {
	p.garp(st, strings.TrimPrefix(st.keyword(), "vrrp_"), &g.GARP)
	return true
}

func globalGroup(p *parser, g *Global, st statement) bool {
	kw := st.keyword()
	s, ok := p.arg(st)
	if !ok {
		return false
	}
	a, err := netip.ParseAddr(s)
	want4 := kw == "vrrp_mcast_group4"
	switch {
	case err != nil || a.Is4() != want4:
		p.warnf(st.pos(), "%s: %q is not an IPv%s address; ignored", kw, s, map[bool]string{true: "4", false: "6"}[want4])
	case !a.IsMulticast():
		p.warnf(st.pos(), "%s: %s is not multicast; ignored", kw, s)
	case want4:
		g.MulticastGroup4 = a
	default:
		g.MulticastGroup6 = a
	}
	return true
}

func globalFirewall(p *parser, g *Global, st statement) bool {
	if st.keyword() == "vrrp_iptables" {
		g.Firewall = "iptables"
		if st.block {
			p.skipBlock()
		}
	} else {
		g.Firewall = "nftables"
	}
	return true
}

// --- vrrp_instance ---

func instState(p *parser, r *rawInstance, st statement) bool {
	in := r.in
	v, ok := p.arg(st)
	switch {
	case !ok:
		return false
	case v == "BACKUP" && in.State == "MASTER" && r.set["state"]:
		p.warnf(st.pos(), "state: already MASTER; BACKUP ignored")
	case v == "MASTER" || v == "BACKUP":
		in.State = v
	default:
		p.warnf(st.pos(), "state: unknown state %q; using BACKUP", v)
		in.State = "BACKUP"
	}
	return true
}

func instInterface(p *parser, r *rawInstance, st statement) bool {
	var ok bool
	r.in.Interface, ok = p.arg(st)
	return ok
}

func instVRID(p *parser, r *rawInstance, st statement) bool {
	kw := st.keyword()
	s, ok := p.arg(st)
	if !ok {
		return false
	}
	n, err := strconv.ParseUint(s, 10, 32)
	switch {
	case err != nil && strings.HasPrefix(s, "-"), err == nil && (n < 1 || n > 255):
		p.errorf(st.pos(), kw, "%s is out of range 1-255", s)
		return false
	case err != nil:
		p.errorf(st.pos(), kw, "invalid number %q", s)
		return false
	}
	r.in.VRID = int(n)
	return true
}

func instPriority(p *parser, r *rawInstance, st statement) bool {
	n, ok := p.uintArg(st, 1, 255)
	if !ok {
		p.warnf(st.pos(), "priority: using %d", DefaultPriority)
		n = DefaultPriority
	}
	r.in.Priority = n
	return true
}

func instAdvertInt(p *parser, r *rawInstance, st statement) bool {
	d, ok := p.seconds(st, 10*time.Millisecond, 255*time.Second)
	if !ok {
		p.warnf(st.pos(), "advert_int: ignored; using %s", fmtSeconds(DefaultAdvertInt))
		return false
	}
	r.advert = d
	return true
}

func instVersion(p *parser, r *rawInstance, st statement) bool {
	n, ok := p.uintArg(st, 2, 3)
	if ok {
		r.in.Version = n
	}
	return ok
}

func instPreempt(no bool) func(*parser, *rawInstance, statement) bool {
	return func(p *parser, r *rawInstance, st statement) bool {
		r.in.NoPreempt = no
		return true
	}
}

func instPreemptDelay(p *parser, r *rawInstance, st statement) bool {
	d, ok := p.seconds(st, 0, maxPreemptDelay)
	if ok {
		r.in.PreemptDelay = d
	}
	return ok
}

func instAuth(p *parser, r *rawInstance, st statement) bool {
	p.auth(r, st)
	return true
}

func instVIPs(p *parser, r *rawInstance, st statement) bool {
	for _, line := range p.values(st) {
		if vip, ok := p.vip(line); ok {
			if st.keyword() == "virtual_ipaddress" {
				r.vidsPending = append(r.vidsPending, vip)
			} else {
				r.in.ExcludedVIPs = append(r.in.ExcludedVIPs, vip)
			}
		}
	}
	return true
}

func instUnicastSrc(p *parser, r *rawInstance, st statement) bool {
	in := r.in
	s, ok := p.arg(st)
	if !ok {
		return false
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		p.warnf(st.pos(), "unicast_src_ip: %q is not an IP address; ignored", s)
		return false
	}
	if r.familyKnown && a.Is6() != in.ipv6 {
		p.warnf(st.pos(), "unicast_src_ip: %s is not of the instance's family; ignored", s)
		return false
	}
	in.UnicastSrcIP = a
	r.setFamily(a.Is6())
	return true
}

func instUnicastPeers(p *parser, r *rawInstance, st statement) bool {
	in := r.in
	for _, line := range p.values(st) {
		s := line.keyword()
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			p.warnf(line.pos(), "unicast_peer: %q is not an IP address; ignored", s)
			continue
		}
		if r.familyKnown && a.Is6() != in.ipv6 {
			p.warnf(line.pos(), "unicast_peer: %s is not of the instance's family; ignored", s)
			continue
		}
		r.setFamily(a.Is6())
		in.UnicastPeers = append(in.UnicastPeers, a)
	}
	return true
}

func instGARP(p *parser, r *rawInstance, st statement) bool {
	return p.garp(st, st.keyword(), &r.in.GARP)
}

func instBool(field func(*Instance) *bool) func(*parser, *rawInstance, statement) bool {
	return func(p *parser, r *rawInstance, st statement) bool {
		p.optBool(st, field(r.in))
		return true
	}
}

func instUseVMAC(p *parser, r *rawInstance, st statement) bool {
	r.in.UseVMAC = true
	if len(st.args()) > 0 {
		r.in.VMACName = st.args()[0].text
	}
	return true
}

func instVMACXmitBase(p *parser, r *rawInstance, st statement) bool {
	r.in.VMACXmitBase = true
	return true
}

func instNotify(p *parser, r *rawInstance, st statement) bool {
	kw := st.keyword()
	if len(st.args()) == 0 {
		p.warnf(st.pos(), "%s: missing script", kw)
		return false
	}
	script := joinWords(st.args())
	n := &r.in.Notify
	switch kw {
	case "notify_master":
		n.Master = script
	case "notify_backup":
		n.Backup = script
	case "notify_fault":
		n.Fault = script
	case "notify_stop":
		n.Stop = script
	default:
		n.Any = script
	}
	return true
}

func instTrackInterface(p *parser, r *rawInstance, st statement) bool {
	for _, line := range p.values(st) {
		r.in.TrackInterfaces = append(r.in.TrackInterfaces, line.keyword())
	}
	return true
}

func instTrackScript(p *parser, r *rawInstance, st statement) bool {
	for _, line := range p.values(st) {
		r.in.TrackScripts = append(r.in.TrackScripts, line.keyword())
		r.in.Keywords["track_script "+line.keyword()] = line.pos()
	}
	return true
}

func instDontTrackPrimary(p *parser, r *rawInstance, st statement) bool {
	r.in.DontTrackPrimary = true
	return true
}

func instAccept(accept bool) func(*parser, *rawInstance, statement) bool {
	return func(p *parser, r *rawInstance, st statement) bool {
		r.in.Accept = accept
		return true
	}
}

func instNativeIPv6(p *parser, r *rawInstance, st statement) bool {
	if r.familyKnown && !r.in.ipv6 {
		p.warnf(st.pos(), "native_ipv6: the instance already has IPv4 addresses; ignored")
		return false
	}
	r.in.NativeIPv6 = true
	r.setFamily(true)
	return true
}
