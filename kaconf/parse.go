package kaconf

import (
	"fmt"
	"math"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Defaults of keepalived 2.2.7 (keepalived/core/global_data.c, vrrp_data.c;
// confirmed with keepalived -d).
const (
	DefaultPriority  = 100
	OwnerPriority    = 255 // implied by state MASTER without priority
	DefaultAdvertInt = time.Second
	DefaultVersion   = 2
	maxAdvertIntV3   = 4095 * 10 * time.Millisecond // 12 bits of centiseconds
	maxPreemptDelay  = 1000 * time.Second
)

// keepalived 2.2.7's gratuitous ARP (and unsolicited NA) defaults, the
// values of the global_defs keywords named beside them when they are not
// set. The speaker, the lab and the analyzer take them from here.
const (
	DefaultGARPDelay         = 5 * time.Second // vrrp_garp_master_delay
	DefaultGARPRepeat        = 5               // vrrp_garp_master_repeat
	DefaultGARPRefresh       = 0               // vrrp_garp_master_refresh: off
	DefaultGARPRefreshRepeat = 1               // vrrp_garp_master_refresh_repeat
	DefaultGARPInterval      = 0               // vrrp_garp_interval: back to back
	DefaultGNAInterval       = 0               // vrrp_gna_interval: back to back
	// The lower-priority burst defaults to the master's delay and repeat,
	// also when those are set (see resolve).
	DefaultLowerPrioDelay  = DefaultGARPDelay  // vrrp_garp_lower_prio_delay
	DefaultLowerPrioRepeat = DefaultGARPRepeat // vrrp_garp_lower_prio_repeat
)

// DefaultGARP is the GARP schedule of an instance when neither global_defs
// nor the instance sets any of it.
func DefaultGARP() GARP {
	return GARP{
		MasterDelay:         DefaultGARPDelay,
		MasterRepeat:        DefaultGARPRepeat,
		MasterRefresh:       DefaultGARPRefresh,
		MasterRefreshRepeat: DefaultGARPRefreshRepeat,
		Interval:            DefaultGARPInterval,
		NAInterval:          DefaultGNAInterval,
		LowerPrioDelay:      DefaultLowerPrioDelay,
		LowerPrioRepeat:     DefaultLowerPrioRepeat,
	}
}

var (
	defaultGroup4 = netip.MustParseAddr("224.0.0.18")
	defaultGroup6 = netip.MustParseAddr("ff02::12")
)

// statement is one keyword with its arguments, and whether a block follows.
type statement struct {
	words []token
	block bool
}

func (s statement) keyword() string { return s.words[0].text }
func (s statement) pos() Position   { return s.words[0].pos }
func (s statement) args() []token   { return s.words[1:] }

// parser walks the token stream of a configuration.
type parser struct {
	toks []token
	i    int
	cfg  *Config
	errs ErrorList

	globalSet map[string]bool
	raws      []*rawInstance
}

// rawInstance is an instance as written, before defaults are resolved.
type rawInstance struct {
	in          *Instance
	set         map[string]bool // keywords given a valid value
	advert      time.Duration   // as written, before rounding for the version
	familyKnown bool
	authPos     Position
	authSet     bool
	vidsPending []VIP // addresses of either family before the family is known
}

func parse(name string, data []byte, isFile bool) (*Config, error) {
	cfg := &Config{File: name}
	p := &parser{cfg: cfg, globalSet: map[string]bool{}}
	dir := "."
	if isFile {
		dir = filepath.Dir(name)
	}
	lx := &lexer{defs: map[string]string{}, warn: p.addWarning}
	lx.file(name, dir, data)
	p.toks = lx.toks
	cfg.Global = Global{
		VRRPVersion:     DefaultVersion,
		MulticastGroup4: defaultGroup4,
		MulticastGroup6: defaultGroup6,
		GARP:            DefaultGARP(),
	}
	p.top()
	p.resolve()
	if len(p.errs) == 0 {
		return cfg, nil
	}
	if len(p.errs) == 1 {
		return cfg, p.errs[0]
	}
	return cfg, p.errs
}

func (p *parser) addWarning(w Warning) { p.cfg.Warnings = append(p.cfg.Warnings, w) }

func (p *parser) warnf(pos Position, format string, args ...any) {
	p.addWarning(Warning{File: pos.File, Line: pos.Line, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) errorf(pos Position, keyword, format string, args ...any) {
	p.errs = append(p.errs, &Error{File: pos.File, Line: pos.Line, Keyword: keyword, Msg: fmt.Sprintf(format, args...)})
}

// next returns the next statement; end is true at a closing brace and ok
// false at the end of the input.
func (p *parser) next() (st statement, end, ok bool) {
	for p.i < len(p.toks) && p.toks[p.i].eol {
		p.i++
	}
	if p.i >= len(p.toks) {
		return statement{}, false, false
	}
	t := p.toks[p.i]
	if t.isClose() {
		p.i++
		return statement{}, true, true
	}
	if t.isOpen() {
		// A block nobody opened: keepalived reports it and reads on.
		p.warnf(t.pos, "unexpected \"{\"")
		p.i++
		p.skipBlock()
		return p.next()
	}
	for p.i < len(p.toks) {
		t := p.toks[p.i]
		if t.eol || t.isOpen() || t.isClose() {
			break
		}
		st.words = append(st.words, t)
		p.i++
	}
	// The brace may open the block on the same line or on one of its own.
	j := p.i
	for j < len(p.toks) && p.toks[j].eol {
		j++
	}
	if j < len(p.toks) && p.toks[j].isOpen() {
		p.i = j + 1
		st.block = true
	}
	return st, false, true
}

// skipBlock consumes up to and including the brace closing the current block.
func (p *parser) skipBlock() {
	depth := 1
	for ; p.i < len(p.toks); p.i++ {
		switch t := p.toks[p.i]; {
		case t.isOpen():
			depth++
		case t.isClose():
			depth--
			if depth == 0 {
				p.i++
				return
			}
		}
	}
}

// body calls fn for each statement of a block until its closing brace.
func (p *parser) body(open Position, what string, fn func(st statement)) {
	for {
		st, end, ok := p.next()
		if !ok {
			p.warnf(open, "%s: missing closing \"}\"", what)
			return
		}
		if end {
			return
		}
		fn(st)
	}
}

// values returns the lines of a block of values, such as
// virtual_ipaddress, one statement per line.
func (p *parser) values(st statement) []statement {
	if !st.block {
		p.warnf(st.pos(), "%s: expected a \"{\" block", st.keyword())
		return nil
	}
	var lines []statement
	p.body(st.pos(), st.keyword(), func(v statement) {
		if v.block {
			p.warnf(v.pos(), "%s: unexpected block after %q", st.keyword(), v.keyword())
			p.skipBlock()
		}
		lines = append(lines, v)
	})
	return lines
}

// ignore skips a keyword this package does not read, with its block. A
// keyword keepalived knows in section is recorded with what the speaker
// does with it (Config.Unimplemented); any other is unknown to keepalived
// as well, and a warning.
func (p *parser) ignore(st statement, section string) {
	kw := st.keyword()
	if st.block {
		p.skipBlock()
	}
	if k, ok := statusOf(section, kw); ok {
		if _, read := interpreted[section][kw]; read {
			// A keyword read here, written with a block it does not take.
			p.warnf(st.pos(), "%s: unexpected block; ignored", kw)
			return
		}
		p.record(section, st, k)
		return
	}
	w := Warning{File: st.pos().File, Line: st.pos().Line, Msg: fmt.Sprintf("unknown keyword %q ignored", kw)}
	if st.block {
		w.Msg += " with its block"
	}
	p.addWarning(w)
}

// record notes a keyword keepalived knows in section whose status is not
// Implemented.
func (p *parser) record(section string, st statement, k known) {
	if k.status == Implemented {
		return
	}
	p.cfg.Unimplemented = append(p.cfg.Unimplemented, Use{File: st.pos().File, Line: st.pos().Line,
		Section: section, Keyword: st.keyword(), Status: k.status, Note: k.note})
}

// used records an interpreted keyword of section, when the speaker does
// not implement it.
func (p *parser) used(section string, st statement) {
	if k, ok := interpreted[section][st.keyword()]; ok {
		p.record(section, st, known{k.status, k.note})
	}
}

func (p *parser) top() {
	for {
		st, end, ok := p.next()
		if !ok {
			return
		}
		if end {
			p.warnf(p.toks[p.i-1].pos, "unexpected \"}\"")
			continue
		}
		switch st.keyword() {
		case "global_defs":
			if !st.block {
				p.warnf(st.pos(), "global_defs: expected a \"{\" block")
				continue
			}
			p.body(st.pos(), "global_defs", p.global)
		case "vrrp_instance":
			p.instance(st)
		case "vrrp_sync_group":
			p.syncGroup(st)
		case "vrrp_script":
			p.script(st)
		case "track_file", "vrrp_track_file":
			p.trackFile(st)
		default:
			p.ignore(st, "top")
		}
	}
}

// arg returns the first argument, reporting its absence.
func (p *parser) arg(st statement) (string, bool) {
	if len(st.args()) == 0 {
		p.warnf(st.pos(), "%s: missing value", st.keyword())
		return "", false
	}
	return st.args()[0].text, true
}

// optBool reads an optional true/false argument; without one the keyword
// means true.
func (p *parser) optBool(st statement, dst *bool) {
	if len(st.args()) == 0 {
		*dst = true
		return
	}
	switch strings.ToLower(st.args()[0].text) {
	case "true", "on", "yes":
		*dst = true
	case "false", "off", "no":
		*dst = false
	default:
		p.warnf(st.pos(), "%s: %q is not true or false; ignored", st.keyword(), st.args()[0].text)
	}
}

// uintArg reads an unsigned integer in [lo, hi], as keepalived's
// read_unsigned_strvec does.
func (p *parser) uintArg(st statement, lo, hi int) (int, bool) {
	s, ok := p.arg(st)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		if strings.HasPrefix(s, "-") {
			p.warnf(st.pos(), "%s: negative number %q", st.keyword(), s)
		} else if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			p.warnf(st.pos(), "%s: %s is out of range %d-%d", st.keyword(), s, lo, hi)
		} else {
			p.warnf(st.pos(), "%s: invalid number %q", st.keyword(), s)
		}
		return 0, false
	}
	if int64(n) < int64(lo) || int64(n) > int64(hi) {
		p.warnf(st.pos(), "%s: %s is out of range %d-%d", st.keyword(), s, lo, hi)
		return 0, false
	}
	return int(n), true
}

// seconds reads a non-negative decimal number of seconds, to the
// microsecond, in [lo, hi].
func (p *parser) seconds(st statement, lo, hi time.Duration) (time.Duration, bool) {
	s, ok := p.arg(st)
	if !ok {
		return 0, false
	}
	d, err := parseSeconds(s)
	if err != nil {
		p.warnf(st.pos(), "%s: %v", st.keyword(), err)
		return 0, false
	}
	if d < lo || d > hi {
		p.warnf(st.pos(), "%s: %s is out of range %s-%s", st.keyword(), s, fmtSeconds(lo), fmtSeconds(hi))
		return 0, false
	}
	return d, true
}

// parseSeconds reads "1", "0.5" or "0.001" as a duration rounded to the
// microsecond.
func parseSeconds(s string) (time.Duration, error) {
	if strings.HasPrefix(s, "-") {
		return 0, fmt.Errorf("negative number %q", s)
	}
	digits, dot := 0, 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '.':
			dot++
		default:
			return 0, fmt.Errorf("invalid number %q", s)
		}
	}
	if digits == 0 || dot > 1 {
		return 0, fmt.Errorf("invalid number %q", s)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f > 1e9 {
		return 0, fmt.Errorf("invalid number %q", s)
	}
	return time.Duration(math.Round(f*1e6)) * time.Microsecond, nil
}

func fmtSeconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

func (p *parser) global(st statement) {
	kw := st.keyword()
	k, ok := globalKeywords[kw]
	if !ok || (st.block && !k.block) {
		p.ignore(st, "global_defs")
		return
	}
	p.used("global_defs", st)
	if k.global(p, &p.cfg.Global, st) {
		p.globalSet[kw] = true
	}
}

// garp reads one GARP timer; kw is the instance keyword without "vrrp_".
func (p *parser) garp(st statement, kw string, g *GARP) bool {
	var ok bool
	switch kw {
	case "garp_master_delay":
		var n int
		if n, ok = p.uintArg(st, 0, math.MaxInt32); ok {
			g.MasterDelay = time.Duration(n) * time.Second
		}
	case "garp_master_refresh":
		var n int
		if n, ok = p.uintArg(st, 0, math.MaxInt32); ok {
			g.MasterRefresh = time.Duration(n) * time.Second
		}
	case "garp_lower_prio_delay":
		var n int
		if n, ok = p.uintArg(st, 0, math.MaxInt32); ok {
			g.LowerPrioDelay = time.Duration(n) * time.Second
		}
	case "garp_master_repeat", "garp_master_refresh_repeat":
		var n int
		if n, ok = p.uintArg(st, 0, math.MaxInt32); ok {
			if n == 0 {
				p.warnf(st.pos(), "%s: must be greater than 0; using 1", st.keyword())
				n = 1
			}
			if kw == "garp_master_repeat" {
				g.MasterRepeat = n
			} else {
				g.MasterRefreshRepeat = n
			}
		}
	case "garp_lower_prio_repeat":
		var n int
		if n, ok = p.uintArg(st, 0, math.MaxInt32); ok {
			g.LowerPrioRepeat = n
		}
	case "garp_interval":
		var d time.Duration
		if d, ok = p.seconds(st, 0, time.Duration(math.MaxInt32)*time.Microsecond); ok {
			g.Interval = d
		}
	case "gna_interval":
		var d time.Duration
		if d, ok = p.seconds(st, 0, time.Duration(math.MaxInt32)*time.Microsecond); ok {
			g.NAInterval = d
		}
	}
	return ok
}

func (p *parser) instance(st statement) {
	if len(st.args()) != 1 {
		p.warnf(st.pos(), "vrrp_instance must have one name; block skipped")
		if st.block {
			p.skipBlock()
		}
		return
	}
	name := st.args()[0].text
	if !st.block {
		p.warnf(st.pos(), "vrrp_instance %s: expected a \"{\" block", name)
		return
	}
	for _, r := range p.raws {
		if r.in.Name == name {
			p.warnf(st.pos(), "vrrp_instance %s already defined at %s:%d; block skipped", name, r.in.File, r.in.Line)
			p.skipBlock()
			return
		}
	}
	r := &rawInstance{
		in:  &Instance{Name: name, File: st.pos().File, Line: st.pos().Line, State: "BACKUP", Keywords: map[string]Position{}},
		set: map[string]bool{},
	}
	p.raws = append(p.raws, r)
	p.body(st.pos(), "vrrp_instance "+name, func(s statement) { p.instanceKeyword(r, s) })
}

func (p *parser) instanceKeyword(r *rawInstance, st statement) {
	in := r.in
	kw := st.keyword()
	k, ok := instanceKeywords[kw]
	if !ok || (st.block && !k.block) {
		p.ignore(st, "vrrp_instance")
		return
	}
	in.Keywords[kw] = st.pos()
	if k.instance(p, r, st) {
		r.set[kw] = true
	}
	if kw != "strict_mode" || in.Strict {
		// "strict_mode false" asks for what the speaker does.
		p.used("vrrp_instance", st)
	}
	if kw == "virtual_ipaddress" {
		// The family is that of the first address; later ones must match.
		for _, v := range r.vidsPending {
			is6 := v.Prefix.Addr().Is6()
			if r.familyKnown && is6 != in.ipv6 {
				p.warnf(Position{v.File, v.Line}, "virtual_ipaddress: %s is not of the instance's family; ignored", v.Prefix)
				continue
			}
			r.setFamily(is6)
			in.VIPs = append(in.VIPs, v)
		}
		r.vidsPending = nil
	}
}

func (r *rawInstance) setFamily(ipv6 bool) {
	if !r.familyKnown {
		r.familyKnown = true
		r.in.ipv6 = ipv6
	}
}

// joinWords rebuilds a script command line: one quoted word stays whole.
func joinWords(ws []token) string {
	parts := make([]string, len(ws))
	for i, w := range ws {
		parts[i] = w.text
	}
	return strings.Join(parts, " ")
}

func (p *parser) auth(r *rawInstance, st statement) {
	if !st.block {
		p.warnf(st.pos(), "authentication: expected a \"{\" block")
		return
	}
	r.authSet = true
	r.authPos = st.pos()
	p.body(st.pos(), "authentication", func(s statement) {
		if s.block {
			p.ignore(s, "authentication")
			return
		}
		switch s.keyword() {
		case "auth_type":
			v, ok := p.arg(s)
			if !ok {
				return
			}
			switch v {
			case "PASS", "AH":
				r.in.Auth.Type = v
			default:
				p.warnf(s.pos(), "auth_type: unknown authentication type %q", v)
			}
		case "auth_pass":
			v, ok := p.arg(s)
			if !ok {
				return
			}
			if len(v) > 8 {
				p.warnf(s.pos(), "auth_pass: password truncated to 8 characters")
				v = v[:8]
			}
			r.in.Auth.Pass = v
		default:
			p.ignore(s, "authentication")
		}
	})
}

// vip reads "ADDR[/LEN] [brd X] [dev IF] [label L] [scope S] ...".
func (p *parser) vip(st statement) (VIP, bool) {
	pos := st.pos()
	v := VIP{File: pos.File, Line: pos.Line}
	s := st.keyword()
	var err error
	if strings.Contains(s, "/") {
		v.Prefix, err = netip.ParsePrefix(s)
	} else {
		var a netip.Addr
		a, err = netip.ParseAddr(s)
		if err == nil {
			v.Prefix = netip.PrefixFrom(a, a.BitLen())
		}
	}
	if err != nil || v.Prefix.Addr().Zone() != "" {
		p.warnf(pos, "virtual address %q is not an address; ignored", s)
		return VIP{}, false
	}
	args := st.args()
	for i := 0; i < len(args); i++ {
		opt := args[i].text
		if _, flag := vipFlags[opt]; flag {
			p.vipOption(st, opt)
			continue
		}
		_, valued := vipValued[opt]
		if !valued {
			p.warnf(pos, "virtual address %s: unknown option %q ignored", s, opt)
			continue
		}
		if i+1 >= len(args) {
			p.warnf(pos, "virtual address %s: %s needs a value", s, opt)
			break
		}
		i++
		val := args[i].text
		if opt != "dev" {
			p.vipOption(st, opt)
		}
		switch opt {
		case "dev":
			v.Dev = val
		case "label":
			v.Label = val
		case "scope":
			v.Scope = val
		case "brd", "broadcast":
			if a, err := netip.ParseAddr(val); err == nil {
				v.Broadcast = a
			} else {
				p.warnf(pos, "virtual address %s: broadcast %q is not an address; ignored", s, val)
			}
		}
	}
	return v, true
}

// vipOption records an option of a virtual address other than dev: the
// speaker adds the address with its prefix length alone.
func (p *parser) vipOption(st statement, opt string) {
	note := "the speaker adds the address with its prefix length alone, labelled IFNAME:vrrpVRID"
	switch opt {
	case "no_track", "track_group":
		note = "the speaker does not track its virtual addresses (one deleted by hand is no fault)"
	}
	p.cfg.Unimplemented = append(p.cfg.Unimplemented, Use{File: st.pos().File, Line: st.pos().Line,
		Section: "virtual_ipaddress", Keyword: opt, Status: Ignored, Note: note})
}

// Options of a virtual address keepalived accepts (vrrp_ipaddress.c).
var (
	vipValued = map[string]struct{}{"dev": {}, "label": {}, "scope": {}, "brd": {}, "broadcast": {},
		"peer": {}, "track_group": {}, "preferred_lft": {}, "metric": {}}
	vipFlags = map[string]struct{}{"no_track": {}, "home": {}, "-home": {}, "nodad": {}, "-nodad": {},
		"noprefixroute": {}, "-noprefixroute": {}, "autojoin": {}, "-autojoin": {}, "mngtmpaddr": {}}
)

func (p *parser) syncGroup(st statement) {
	if len(st.args()) != 1 {
		p.warnf(st.pos(), "vrrp_sync_group must have one name; block skipped")
		if st.block {
			p.skipBlock()
		}
		return
	}
	if !st.block {
		p.warnf(st.pos(), "vrrp_sync_group %s: expected a \"{\" block", st.args()[0].text)
		return
	}
	sg := SyncGroup{Name: st.args()[0].text, File: st.pos().File, Line: st.pos().Line}
	for _, g := range p.cfg.SyncGroups {
		if g.Name == sg.Name {
			p.warnf(st.pos(), "vrrp_sync_group %s already defined; block skipped", sg.Name)
			p.skipBlock()
			return
		}
	}
	p.body(st.pos(), "vrrp_sync_group "+sg.Name, func(s statement) {
		k, ok := syncGroupKeywords[s.keyword()]
		if !ok || (s.block && !k.block) {
			p.ignore(s, "vrrp_sync_group")
			return
		}
		p.used("vrrp_sync_group", s)
		k.group(p, &sg, s)
	})
	p.cfg.SyncGroups = append(p.cfg.SyncGroups, sg)
}

// named returns the name of a block such as vrrp_script NAME { }, or false
// (with a warning, the block skipped) when it has none.
func (p *parser) named(st statement) (string, bool) {
	if len(st.args()) != 1 {
		p.warnf(st.pos(), "%s must have one name; block skipped", st.keyword())
		if st.block {
			p.skipBlock()
		}
		return "", false
	}
	if !st.block {
		p.warnf(st.pos(), "%s %s: expected a \"{\" block", st.keyword(), st.args()[0].text)
		return "", false
	}
	return st.args()[0].text, true
}

// script reads a vrrp_script block. keepalived's defaults: interval 1 s,
// timeout the interval, rise and fall 1, weight 0.
func (p *parser) script(st statement) {
	name, ok := p.named(st)
	if !ok {
		return
	}
	s := &Script{Name: name, File: st.pos().File, Line: st.pos().Line, Interval: time.Second, Rise: 1, Fall: 1}
	timeoutSet := false
	p.body(st.pos(), "vrrp_script "+name, func(b statement) {
		k, ok := scriptKeywords[b.keyword()]
		if !ok || b.block {
			p.ignore(b, "vrrp_script")
			return
		}
		if k.script(p, s, b) && b.keyword() == "timeout" {
			timeoutSet = true
		}
	})
	if !timeoutSet {
		s.Timeout = s.Interval
	}
	if s.Command == "" {
		p.warnf(st.pos(), "vrrp_script %s has no script; ignored", name)
		return
	}
	for _, o := range p.cfg.Scripts {
		if o.Name == name {
			p.warnf(st.pos(), "vrrp_script %s already defined at %s:%d; ignored", name, o.File, o.Line)
			return
		}
	}
	p.cfg.Scripts = append(p.cfg.Scripts, s)
}

// trackFile reads a track_file (or vrrp_track_file) block; weight defaults
// to 1.
func (p *parser) trackFile(st statement) {
	name, ok := p.named(st)
	if !ok {
		return
	}
	f := &TrackFile{Name: name, File: st.pos().File, Line: st.pos().Line, Weight: 1}
	p.body(st.pos(), st.keyword()+" "+name, func(b statement) {
		k, ok := trackFileKeywords[b.keyword()]
		if !ok || b.block {
			p.ignore(b, "track_file")
			return
		}
		k.trackFile(p, f, b)
	})
	if f.Path == "" {
		p.warnf(st.pos(), "%s %s has no file; ignored", st.keyword(), name)
		return
	}
	for _, o := range p.cfg.TrackFiles {
		if o.Name == name {
			p.warnf(st.pos(), "track_file %s already defined at %s:%d; ignored", name, o.File, o.Line)
			return
		}
	}
	p.cfg.TrackFiles = append(p.cfg.TrackFiles, f)
}
