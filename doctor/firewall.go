package doctor

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// The firewall is read into one small form, whatever it came from (nft's
// JSON, iptables-save): base chains on hooks with their policy, rules as
// conditions on a packet's fields and a verdict. A probe (a VRRP advert
// arriving, a client's packet to a VIP) walks the chains as the kernel
// would. A condition on a field the probe does not know (a port, a source
// address) is neither true nor false: a drop behind it is a drop that may
// happen, and an accept behind it makes later drops uncertain.

// Firewall is a host's packet filter.
type Firewall struct {
	Chains []*fwChain
	// Backends lists what was read ("nftables", "iptables").
	Backends []string
}

type fwChain struct {
	backend, family, table, name string
	// hook is "input", "output", ... for a base chain, "" otherwise.
	hook   string
	prio   int
	policy string // "accept" or "drop" (base chains)
	rules  []*fwRule
}

type fwRule struct {
	ref   RuleRef
	conds []fwCond
	// verdict is accept, drop, reject, jump, goto, return, or "" (the rule
	// only counts or logs).
	verdict string
	target  string
	// maybe marks a rule whose verdict depends on something no probe knows
	// (a rate limit, a quota).
	maybe bool
}

// fwCond is one condition of a rule: field compared with values.
type fwCond struct {
	field  string // saddr, daddr, l4proto, nfproto, iif, oif, ctstate, arpop, arpsip, arptip, or other
	neg    bool
	values []fwValue
	text   string
}

// fwValue is one value a field is compared with.
type fwValue struct {
	addr   netip.Addr
	prefix netip.Prefix
	lo, hi netip.Addr
	word   string // a name or number, normalised
}

func (v fwValue) matches(s string) bool {
	if a, err := netip.ParseAddr(s); err == nil {
		switch {
		case v.addr.IsValid():
			return v.addr == a
		case v.prefix.IsValid():
			return v.prefix.Contains(a)
		case v.lo.IsValid():
			return v.lo.Compare(a) <= 0 && a.Compare(v.hi) <= 0
		}
		return false
	}
	if strings.HasSuffix(v.word, "*") {
		return strings.HasPrefix(s, strings.TrimSuffix(v.word, "*"))
	}
	return v.word == normWord(s)
}

// tri is a three-valued truth.
type tri int

const (
	no tri = iota
	maybe
	yes
)

// probe is a packet: field values, "" where unknown.
type probe struct {
	family string // ip, ip6 or arp
	hook   string
	fields map[string]string
}

func (c fwCond) eval(p probe) tri {
	if c.field == "nfproto" {
		// Answered from the probe's family, always known.
		want := map[string]string{"ip": "ipv4", "ip6": "ipv6", "arp": "arp"}[p.family]
		return c.result(anyMatch(c.values, want))
	}
	v, ok := p.fields[c.field]
	if !ok || v == "" {
		return maybe
	}
	return c.result(anyMatch(c.values, v))
}

func (c fwCond) result(m bool) tri {
	if m != c.neg {
		return yes
	}
	return no
}

func anyMatch(vs []fwValue, s string) bool {
	for _, v := range vs {
		if v.matches(s) {
			return true
		}
	}
	return false
}

// familySees reports whether a chain of a table family sees a probe.
func familySees(tableFamily, probeFamily string) bool {
	switch tableFamily {
	case probeFamily:
		return true
	case "inet":
		return probeFamily == "ip" || probeFamily == "ip6"
	}
	return false
}

// fwOutcome is what a probe met.
type fwOutcome struct {
	verdict string // accept or drop
	certain bool   // no unknown condition could have changed it
	rule    *fwRule
	chain   *fwChain // the chain whose policy decided, when rule is nil
}

// Evaluate walks probe p through every base chain of its hook, in priority
// order. It returns the first drop (with whether it is certain) or the
// accept.
func (fw *Firewall) evaluate(p probe) fwOutcome {
	var bases []*fwChain
	for _, c := range fw.Chains {
		if c.hook == p.hook && familySees(c.family, p.family) {
			bases = append(bases, c)
		}
	}
	sort.SliceStable(bases, func(i, j int) bool { return bases[i].prio < bases[j].prio })
	certain := true
	var possible *fwOutcome
	for _, c := range bases {
		out := fw.walk(c, p, 0)
		if out.verdict == "return" || out.verdict == "" {
			out.verdict, out.rule, out.chain = c.policy, nil, c
		}
		if !out.certain {
			certain = false
		}
		if out.verdict == "drop" {
			out.certain = certain
			return out.fwOutcome
		}
		if out.possible != nil && possible == nil {
			possible = out.possible
		}
	}
	if possible != nil {
		return *possible
	}
	return fwOutcome{verdict: "accept", certain: certain}
}

// walkResult is a chain's verdict for a probe, with the first drop that
// could have happened on the way (behind an unknown condition).
type walkResult struct {
	fwOutcome
	possible *fwOutcome
}

func (fw *Firewall) walk(c *fwChain, p probe, depth int) walkResult {
	res := walkResult{fwOutcome: fwOutcome{certain: true}}
	if depth > 16 {
		return res
	}
	note := func(o fwOutcome) {
		if res.possible == nil {
			o.certain = false
			res.possible = &o
		}
	}
	for _, r := range c.rules {
		t := yes
		for _, cond := range r.conds {
			switch cond.eval(p) {
			case no:
				t = no
			case maybe:
				if t == yes {
					t = maybe
				}
			}
			if t == no {
				break
			}
		}
		if r.maybe && t == yes {
			t = maybe
		}
		if t == no {
			continue
		}
		switch r.verdict {
		case "drop", "reject":
			o := fwOutcome{verdict: "drop", certain: res.certain, rule: r}
			if t == yes {
				res.fwOutcome = o
				return res
			}
			note(o)
		case "accept":
			if t == yes {
				res.verdict, res.rule = "accept", r
				return res
			}
			res.certain = false
		case "return":
			if t == yes {
				res.verdict = "return"
				return res
			}
			res.certain = false
		case "jump", "goto":
			sub := fw.chain(c, r.target)
			if sub == nil {
				continue
			}
			out := fw.walk(sub, p, depth+1)
			if out.possible != nil {
				note(*out.possible)
			}
			if t == maybe {
				if out.verdict == "drop" {
					note(out.fwOutcome)
				}
				res.certain = false
				continue
			}
			if !out.certain {
				res.certain = false
			}
			if out.verdict == "drop" || out.verdict == "accept" {
				out.certain = res.certain
				res.fwOutcome = out.fwOutcome
				return res
			}
			if r.verdict == "goto" {
				res.verdict = "return"
				return res
			}
		}
	}
	return res
}

func (fw *Firewall) chain(from *fwChain, name string) *fwChain {
	for _, c := range fw.Chains {
		if c.backend == from.backend && c.family == from.family && c.table == from.table && c.name == name {
			return c
		}
	}
	return nil
}

// rulesMatching returns the drop and reject rules reached by p whose every
// condition holds and one of which is on field: a rule that targets what
// the probe carries (a VIP), not a policy.
func (fw *Firewall) rulesMatching(p probe, field string) []fwOutcome {
	var out []fwOutcome
	for _, c := range fw.Chains {
		if !familySees(c.family, p.family) {
			continue
		}
		for _, r := range c.rules {
			if r.verdict != "drop" && r.verdict != "reject" {
				continue
			}
			on, all := false, yes
			for _, cond := range r.conds {
				v := cond.eval(p)
				if v != yes {
					all = v
					break
				}
				if cond.field == field {
					on = true
				}
			}
			if !on || all != yes || !fw.reaches(c, p) {
				continue
			}
			out = append(out, fwOutcome{verdict: "drop", certain: !r.maybe, rule: r, chain: c})
		}
	}
	return out
}

// reaches reports whether a chain is on p's path: a base chain of its hook,
// or a chain some rule of such a chain jumps to.
func (fw *Firewall) reaches(c *fwChain, p probe) bool {
	seen := map[*fwChain]bool{}
	var from func(b *fwChain) bool
	from = func(b *fwChain) bool {
		if b == c {
			return true
		}
		if seen[b] {
			return false
		}
		seen[b] = true
		for _, r := range b.rules {
			if r.verdict == "jump" || r.verdict == "goto" {
				if sub := fw.chain(b, r.target); sub != nil && from(sub) {
					return true
				}
			}
		}
		return false
	}
	for _, b := range fw.Chains {
		if b.hook == p.hook && familySees(b.family, p.family) && from(b) {
			return true
		}
	}
	return false
}

// describe says which rule or policy an outcome came from.
func (o fwOutcome) describe() string {
	if o.rule != nil {
		r := o.rule.ref
		s := fmt.Sprintf("%s %s table %s chain %s", r.Backend, r.Family, r.Table, r.Chain)
		if r.Handle > 0 {
			s += fmt.Sprintf(" handle %d", r.Handle)
		}
		return s + ": " + r.Rule
	}
	if o.chain != nil {
		return fmt.Sprintf("%s %s table %s chain %s: policy %s", o.chain.backend, o.chain.family, o.chain.table, o.chain.name, o.chain.policy)
	}
	return "no rule"
}

func (o fwOutcome) ref() *RuleRef {
	if o.rule != nil {
		r := o.rule.ref
		return &r
	}
	if o.chain != nil {
		return &RuleRef{Backend: o.chain.backend, Family: o.chain.family, Table: o.chain.table, Chain: o.chain.name, Rule: "policy " + o.chain.policy}
	}
	return nil
}

// protocolNumbers normalises protocol names to numbers.
var protocolNumbers = map[string]string{
	"icmp": "1", "igmp": "2", "tcp": "6", "udp": "17", "gre": "47", "esp": "50", "ah": "51",
	"icmpv6": "58", "ipv6-icmp": "58", "sctp": "132", "vrrp": "112", "carp": "112", "112": "112",
}

func normWord(s string) string {
	s = strings.ToLower(strings.Trim(s, `"`))
	if n, ok := protocolNumbers[s]; ok {
		return n
	}
	return s
}

func wordValue(s string) fwValue {
	if a, err := netip.ParseAddr(s); err == nil {
		return fwValue{addr: a.Unmap()}
	}
	if p, err := netip.ParsePrefix(s); err == nil {
		return fwValue{prefix: p.Masked()}
	}
	if lo, hi, ok := strings.Cut(s, "-"); ok {
		l, err1 := netip.ParseAddr(lo)
		h, err2 := netip.ParseAddr(hi)
		if err1 == nil && err2 == nil {
			return fwValue{lo: l, hi: h}
		}
	}
	if _, err := strconv.Atoi(s); err == nil {
		return fwValue{word: s}
	}
	return fwValue{word: normWord(s)}
}
