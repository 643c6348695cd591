package kaconf

import (
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// keyword is one keyword that this package interprets: its handler and
// what the speaker does with it. A handler reports whether the keyword was
// given a valid value. Keywords of the top level and of authentication are
// read by the parser itself and have no handler here.
type keyword struct {
	status Status
	note   string // what the speaker does, where Status alone does not say it
	block  bool   // the keyword may be followed by a { } block
	global func(p *parser, g *Global, st statement) bool
	// instance handlers; r.in is the instance.
	instance  func(p *parser, r *rawInstance, st statement) bool
	group     func(p *parser, sg *SyncGroup, st statement) bool
	script    func(p *parser, s *Script, st statement) bool
	trackFile func(p *parser, f *TrackFile, st statement) bool
}

// interpreted holds the keywords this package reads, by section.
var interpreted map[string]map[string]keyword

func init() {
	interpreted = map[string]map[string]keyword{
		"top":             topKeywords,
		"global_defs":     globalKeywords,
		"vrrp_instance":   instanceKeywords,
		"authentication":  authKeywords,
		"vrrp_sync_group": syncGroupKeywords,
		"vrrp_script":     scriptKeywords,
		"track_file":      trackFileKeywords,
	}
}

// topKeywords are the blocks of the top level this package reads.
var topKeywords = map[string]keyword{
	"global_defs":     {status: Implemented, block: true},
	"vrrp_instance":   {status: Implemented, block: true},
	"vrrp_sync_group": {status: Implemented, block: true},
	"vrrp_script":     {status: Implemented, block: true},
	"track_file":      {status: Implemented, block: true},
	"vrrp_track_file": {status: Implemented, note: "the older name of track_file", block: true},
}

// authKeywords are the keywords of an instance's authentication block.
var authKeywords = map[string]keyword{
	"auth_type": {status: Implemented, note: "PASS; AH is refused"},
	"auth_pass": {status: Implemented},
}

// globalKeywords are the global_defs keywords this package reads.
var globalKeywords = map[string]keyword{
	"router_id":                       {status: Ignored, note: "names the host in keepalived's logs and emails", global: globalRouterID},
	"vrrp_version":                    {status: Implemented, global: globalVersion},
	"vrrp_skip_check_adv_addr":        {status: Implemented, global: globalBool(func(g *Global) *bool { return &g.SkipCheckAdvAddr })},
	"vrrp_check_unicast_src":          {status: Implemented, global: globalBool(func(g *Global) *bool { return &g.CheckUnicastSrc })},
	"vrrp_strict":                     {status: Refused, note: "strict mode (firewall rules, no authentication, checks) is not implemented", global: globalStrict},
	"vrrp_lower_prio_no_advert":       {status: Implemented, global: globalBool(func(g *Global) *bool { return &g.LowerPrioNoAdvert })},
	"vrrp_higher_prio_send_advert":    {status: Implemented, global: globalBool(func(g *Global) *bool { return &g.HigherPrioSendAdvert })},
	"vrrp_garp_master_delay":          {status: Implemented, global: globalGARP},
	"vrrp_garp_master_repeat":         {status: Implemented, global: globalGARP},
	"vrrp_garp_master_refresh":        {status: Implemented, global: globalGARP},
	"vrrp_garp_master_refresh_repeat": {status: Implemented, global: globalGARP},
	"vrrp_garp_lower_prio_delay":      {status: Implemented, global: globalGARP},
	"vrrp_garp_lower_prio_repeat":     {status: Implemented, global: globalGARP},
	"vrrp_garp_interval":              {status: Implemented, global: globalGARP},
	"vrrp_gna_interval":               {status: Implemented, global: globalGARP},
	"vrrp_mcast_group4":               {status: Implemented, global: globalGroup},
	"vrrp_mcast_group6":               {status: Implemented, global: globalGroup},
	"vrrp_iptables":                   {status: Ignored, note: noteFirewall, block: true, global: globalFirewall},
	"nftables":                        {status: Ignored, note: noteFirewall, global: globalFirewall},
	"script_user":                     {status: Implemented, note: "the default user of scripts", global: globalScriptUser},
}

// instanceKeywords are the vrrp_instance keywords this package reads.
var instanceKeywords = map[string]keyword{
	"state":                      {status: Implemented, note: "as keepalived 2.2.7: an instance starts as backup unless it owns the addresses; MASTER makes 255 the default priority", instance: instState},
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
	"virtual_ipaddress_excluded": {status: Implemented, note: "added and removed with the others, not advertised", block: true, instance: instVIPs},
	"unicast_src_ip":             {status: Implemented, note: "the adverts' source", instance: instSrcIP},
	"mcast_src_ip":               {status: Implemented, note: "the adverts' source", instance: instSrcIP},
	"mcast_dst_ip":               {status: Implemented, note: "the instance's multicast group, as vrrp_mcast_group4/6", instance: instMcastDst},
	"unicast_peer":               {status: Implemented, note: "with min_ttl and max_ttl", block: true, instance: instUnicastPeers},
	"unicast_ttl":                {status: Implemented, instance: instUnicastTTL},
	"check_unicast_src":          {status: Implemented, instance: instBool(func(in *Instance) *bool { return &in.CheckUnicastSrc })},
	"garp_master_delay":          {status: Implemented, instance: instGARP},
	"garp_master_repeat":         {status: Implemented, instance: instGARP},
	"garp_master_refresh":        {status: Implemented, instance: instGARP},
	"garp_master_refresh_repeat": {status: Implemented, instance: instGARP},
	"garp_lower_prio_delay":      {status: Implemented, instance: instGARP},
	"garp_lower_prio_repeat":     {status: Implemented, instance: instGARP},
	"lower_prio_no_advert":       {status: Implemented, instance: instBool(func(in *Instance) *bool { return &in.LowerPrioNoAdvert })},
	"higher_prio_send_advert":    {status: Implemented, instance: instBool(func(in *Instance) *bool { return &in.HigherPrioSendAdvert })},
	"use_vmac":                   {status: Implemented, note: "always named vrrp.VRID (vrrp6.VRID); a name given is ignored", instance: instUseVMAC},
	"vmac_xmit_base":             {status: Refused, note: "a virtual-MAC router's adverts leave from its macvlan", instance: instVMACXmitBase},
	"notify_master":              {status: Implemented, instance: instNotify},
	"notify_backup":              {status: Implemented, instance: instNotify},
	"notify_fault":               {status: Implemented, instance: instNotify},
	"notify_stop":                {status: Implemented, instance: instNotify},
	"notify":                     {status: Implemented, note: "run with INSTANCE NAME STATE PRIORITY", instance: instNotify},
	"notify_master_rx_lower_pri": {status: Implemented, instance: instNotify},
	"track_interface":            {status: Implemented, note: "with weight [reverse]", block: true, instance: instTrack},
	"track_script":               {status: Implemented, note: "with weight [reverse]", block: true, instance: instTrack},
	"track_file":                 {status: Implemented, note: "with weight [reverse]", block: true, instance: instTrack},
	"dont_track_primary":         {status: Implemented, instance: instDontTrackPrimary},
	"skip_check_adv_addr":        {status: Implemented, instance: instBool(func(in *Instance) *bool { return &in.SkipCheckAdvAddr })},
	"strict_mode":                {status: Refused, note: "strict mode (firewall rules, no authentication, checks) is not implemented", instance: instBool(func(in *Instance) *bool { return &in.Strict })},
	"accept":                     {status: Implemented, note: "the host accepts packets for the virtual addresses, as keepalived without strict mode", instance: instAccept(true)},
	"no_accept":                  {status: Refused, note: "the speaker installs no firewall rule to drop packets for the virtual addresses", instance: instAccept(false)},
	"native_ipv6":                {status: Implemented, note: "as the family it sets", instance: instNativeIPv6},
	"v3_checksum_as_v2":          {status: Implemented, note: "keepalived 2.3's keyword: VRRPv3 adverts sent with a checksum without the pseudo-header", instance: instBool(func(in *Instance) *bool { return &in.ChecksumAsV2 })},
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

// instSrcIP reads unicast_src_ip and mcast_src_ip: keepalived keeps both
// in one field, the adverts' source address.
func instSrcIP(p *parser, r *rawInstance, st statement) bool {
	in := r.in
	kw := st.keyword()
	s, ok := p.arg(st)
	if !ok {
		return false
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		p.warnf(st.pos(), "%s: %q is not an IP address; ignored", kw, s)
		return false
	}
	if r.familyKnown && a.Is6() != in.ipv6 {
		p.warnf(st.pos(), "%s: %s is not of the instance's family; ignored", kw, s)
		return false
	}
	in.UnicastSrcIP = a
	r.setFamily(a.Is6())
	return true
}

func instMcastDst(p *parser, r *rawInstance, st statement) bool {
	in := r.in
	s, ok := p.arg(st)
	if !ok {
		return false
	}
	a, err := netip.ParseAddr(s)
	switch {
	case err != nil || a.Zone() != "":
		p.warnf(st.pos(), "mcast_dst_ip: %q is not an IP address; ignored", s)
		return false
	case !a.IsMulticast():
		p.warnf(st.pos(), "mcast_dst_ip: %s is not multicast; ignored", s)
		return false
	case r.familyKnown && a.Is6() != in.ipv6:
		p.warnf(st.pos(), "mcast_dst_ip: %s is not of the instance's family; ignored", s)
		return false
	}
	in.McastDstIP = a
	r.setFamily(a.Is6())
	return true
}

func instUnicastTTL(p *parser, r *rawInstance, st statement) bool {
	n, ok := p.uintArg(st, 0, 255)
	if ok {
		r.in.UnicastTTL = n
	}
	return ok
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
		ttl := TTLRange{Min: 0, Max: 255}
		args := line.args()
		for i := 0; i < len(args); i++ {
			opt := args[i].text
			if (opt != "min_ttl" && opt != "max_ttl") || i+1 >= len(args) {
				p.warnf(line.pos(), "unicast_peer %s: unknown option %q ignored", s, opt)
				continue
			}
			i++
			n, err := strconv.ParseUint(args[i].text, 10, 8)
			if err != nil {
				p.warnf(line.pos(), "unicast_peer %s: %s %q is not 0-255; ignored", s, opt, args[i].text)
				continue
			}
			if opt == "min_ttl" {
				ttl.Min = int(n)
			} else {
				ttl.Max = int(n)
			}
		}
		if ttl.Min > ttl.Max {
			p.warnf(line.pos(), "unicast_peer %s: min_ttl %d > max_ttl %d - all packets will be discarded", s, ttl.Min, ttl.Max)
		}
		r.setFamily(a.Is6())
		in.UnicastPeers = append(in.UnicastPeers, a)
		in.PeerTTL = append(in.PeerTTL, ttl)
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
	case "notify_master_rx_lower_pri":
		n.MasterRxLowerPri = script
	default:
		n.Any = script
	}
	return true
}

// instTrack reads track_interface, track_script and track_file: one
// tracked object a line, "NAME [weight N [reverse|noreverse]]".
func instTrack(p *parser, r *rawInstance, st statement) bool {
	refs := p.trackRefs(st)
	switch st.keyword() {
	case "track_interface":
		r.in.TrackInterfaces = append(r.in.TrackInterfaces, refs...)
	case "track_script":
		r.in.TrackScripts = append(r.in.TrackScripts, refs...)
	default:
		r.in.TrackFiles = append(r.in.TrackFiles, refs...)
	}
	return true
}

// trackRefs reads the lines of a track_* block.
func (p *parser) trackRefs(st statement) []TrackRef {
	var out []TrackRef
	for _, line := range p.values(st) {
		ref := TrackRef{Name: line.keyword(), File: line.pos().File, Line: line.pos().Line}
		args := line.args()
		if len(args) > 0 {
			if args[0].text != "weight" || len(args) < 2 {
				p.warnf(line.pos(), "%s %s: unknown option %q ignored", st.keyword(), ref.Name, args[0].text)
			} else if w, ok := p.weight(line, args[1].text); ok {
				ref.Weight, ref.WeightSet = w, true
				if len(args) > 2 {
					switch args[2].text {
					case "reverse":
						ref.Reverse = true
					case "noreverse":
					default:
						p.warnf(line.pos(), "%s %s: unknown option %q ignored", st.keyword(), ref.Name, args[2].text)
					}
				}
			}
		}
		out = append(out, ref)
	}
	return out
}

// weight reads a tracking weight, -254 to 254.
func (p *parser) weight(st statement, s string) (int, bool) {
	n, err := strconv.Atoi(s)
	if err != nil || n < -254 || n > 254 {
		p.warnf(st.pos(), "%s: weight %q is not -254 to 254; ignored", st.keyword(), s)
		return 0, false
	}
	return n, true
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

func globalScriptUser(p *parser, g *Global, st statement) bool {
	args := st.args()
	if len(args) == 0 {
		p.warnf(st.pos(), "script_user: missing user")
		return false
	}
	g.ScriptUser = args[0].text
	if len(args) > 1 {
		g.ScriptGroup = args[1].text
	}
	return true
}

// --- vrrp_sync_group ---

// syncGroupKeywords are the vrrp_sync_group keywords this package reads.
var syncGroupKeywords = map[string]keyword{
	"group":                      {status: Implemented, block: true, group: groupMembers},
	"notify_master":              {status: Implemented, group: groupNotify},
	"notify_backup":              {status: Implemented, group: groupNotify},
	"notify_fault":               {status: Implemented, group: groupNotify},
	"notify_stop":                {status: Implemented, group: groupNotify},
	"notify":                     {status: Implemented, note: "run with GROUP NAME STATE PRIORITY", group: groupNotify},
	"track_interface":            {status: Implemented, note: "as tracked by every member", block: true, group: groupTrack},
	"track_script":               {status: Implemented, note: "as tracked by every member", block: true, group: groupTrack},
	"track_file":                 {status: Implemented, note: "as tracked by every member", block: true, group: groupTrack},
	"sync_group_tracking_weight": {status: Implemented, note: "the members' tracking weights change their priorities instead of putting the group in FAULT", group: groupTrackingWeight},
	"global_tracking":            {status: Implemented, note: "the older name of sync_group_tracking_weight", group: groupTrackingWeight},
}

func groupMembers(p *parser, sg *SyncGroup, st statement) bool {
	for _, line := range p.values(st) {
		for _, w := range line.words {
			sg.Members = append(sg.Members, w.text)
		}
	}
	return true
}

func groupNotify(p *parser, sg *SyncGroup, st statement) bool {
	if len(st.args()) == 0 {
		p.warnf(st.pos(), "%s: missing script", st.keyword())
		return false
	}
	script := joinWords(st.args())
	switch st.keyword() {
	case "notify_master":
		sg.Notify.Master = script
	case "notify_backup":
		sg.Notify.Backup = script
	case "notify_fault":
		sg.Notify.Fault = script
	case "notify_stop":
		sg.Notify.Stop = script
	default:
		sg.Notify.Any = script
	}
	return true
}

func groupTrack(p *parser, sg *SyncGroup, st statement) bool {
	refs := p.trackRefs(st)
	switch st.keyword() {
	case "track_interface":
		sg.TrackInterfaces = append(sg.TrackInterfaces, refs...)
	case "track_script":
		sg.TrackScripts = append(sg.TrackScripts, refs...)
	default:
		sg.TrackFiles = append(sg.TrackFiles, refs...)
	}
	return true
}

func groupTrackingWeight(p *parser, sg *SyncGroup, st statement) bool {
	sg.TrackingWeight = true
	return true
}

// --- vrrp_script ---

// scriptKeywords are the keywords of a vrrp_script block.
var scriptKeywords = map[string]keyword{
	"script":    {status: Implemented, note: "run without a shell, its output logged", script: scriptCommand},
	"interval":  {status: Implemented, script: scriptDuration},
	"timeout":   {status: Implemented, script: scriptDuration},
	"weight":    {status: Implemented, note: "-254 to 254 [reverse]", script: scriptWeight},
	"rise":      {status: Implemented, script: scriptCount},
	"fall":      {status: Implemented, script: scriptCount},
	"user":      {status: Implemented, note: "USER [GROUP]", script: scriptUser},
	"init_fail": {status: Implemented, script: scriptInitFail},
}

func scriptCommand(p *parser, s *Script, st statement) bool {
	if len(st.args()) == 0 {
		p.warnf(st.pos(), "script: missing command")
		return false
	}
	s.Command = joinWords(st.args())
	return true
}

func scriptDuration(p *parser, s *Script, st statement) bool {
	d, ok := p.seconds(st, time.Millisecond, 1000000*time.Second)
	if !ok {
		return false
	}
	if st.keyword() == "interval" {
		s.Interval = d
	} else {
		s.Timeout = d
	}
	return true
}

func scriptWeight(p *parser, s *Script, st statement) bool {
	v, ok := p.arg(st)
	if !ok {
		return false
	}
	w, ok := p.weight(st, v)
	if !ok {
		return false
	}
	s.Weight = w
	if len(st.args()) > 1 && st.args()[1].text == "reverse" {
		s.Reverse = true
	}
	return true
}

func scriptCount(p *parser, s *Script, st statement) bool {
	n, ok := p.uintArg(st, 1, math.MaxInt32)
	if !ok {
		return false
	}
	if st.keyword() == "rise" {
		s.Rise = n
	} else {
		s.Fall = n
	}
	return true
}

func scriptUser(p *parser, s *Script, st statement) bool {
	args := st.args()
	if len(args) == 0 {
		p.warnf(st.pos(), "user: missing user")
		return false
	}
	s.User = args[0].text
	if len(args) > 1 {
		s.Group = args[1].text
	}
	return true
}

func scriptInitFail(p *parser, s *Script, st statement) bool {
	s.InitFail = true
	return true
}

// --- track_file ---

// trackFileKeywords are the keywords of a track_file block.
var trackFileKeywords = map[string]keyword{
	"file":      {status: Implemented, trackFile: fileName},
	"weight":    {status: Implemented, note: "-254 to 254 [reverse]", trackFile: fileWeight},
	"init_file": {status: Implemented, note: "[VALUE] [overwrite]", trackFile: fileInit},
}

func fileName(p *parser, f *TrackFile, st statement) bool {
	v, ok := p.arg(st)
	if ok {
		f.Path = v
	}
	return ok
}

func fileWeight(p *parser, f *TrackFile, st statement) bool {
	v, ok := p.arg(st)
	if !ok {
		return false
	}
	w, ok := p.weight(st, v)
	if !ok {
		return false
	}
	f.Weight = w
	if len(st.args()) > 1 && st.args()[1].text == "reverse" {
		f.Reverse = true
	}
	return true
}

func fileInit(p *parser, f *TrackFile, st statement) bool {
	f.Init = true
	for _, a := range st.args() {
		if a.text == "overwrite" {
			f.InitOverwrite = true
			continue
		}
		n, err := strconv.Atoi(a.text)
		if err != nil {
			p.warnf(st.pos(), "init_file: %q is not a number; ignored", a.text)
			continue
		}
		f.InitValue = n
	}
	return true
}
