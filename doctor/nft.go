package doctor

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// nftDoc is `nft -j list ruleset` (libnftables-json(5)).
type nftDoc struct {
	Nftables []map[string]json.RawMessage `json:"nftables"`
}

type nftChainJSON struct {
	Family, Table, Name, Type, Hook, Policy string
	Prio                                    int
}

type nftSetJSON struct {
	Family, Table, Name string
	Elem                []json.RawMessage
}

type nftRuleJSON struct {
	Family, Table, Chain string
	Handle               int
	Expr                 []map[string]json.RawMessage
}

// parseNftJSON reads nft's JSON output into a Firewall's chains.
func parseNftJSON(data []byte) ([]*fwChain, error) {
	var doc nftDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("nft JSON: %w", err)
	}
	type key struct{ family, table, name string }
	chains := map[key]*fwChain{}
	var order []*fwChain
	sets := map[key][]json.RawMessage{}
	var rules []nftRuleJSON
	for _, obj := range doc.Nftables {
		for kind, raw := range obj {
			switch kind {
			case "chain":
				var c nftChainJSON
				if err := json.Unmarshal(raw, &c); err != nil {
					return nil, fmt.Errorf("nft JSON chain: %w", err)
				}
				ch := &fwChain{backend: "nftables", family: c.Family, table: c.Table, name: c.Name, hook: c.Hook, prio: c.Prio, policy: c.Policy}
				if ch.hook != "" && ch.policy == "" {
					ch.policy = "accept"
				}
				chains[key{c.Family, c.Table, c.Name}] = ch
				order = append(order, ch)
			case "set":
				var s nftSetJSON
				if err := json.Unmarshal(raw, &s); err != nil {
					return nil, fmt.Errorf("nft JSON set: %w", err)
				}
				sets[key{s.Family, s.Table, s.Name}] = s.Elem
			case "rule":
				var r nftRuleJSON
				if err := json.Unmarshal(raw, &r); err != nil {
					return nil, fmt.Errorf("nft JSON rule: %w", err)
				}
				rules = append(rules, r)
			}
		}
	}
	for _, r := range rules {
		ch := chains[key{r.Family, r.Table, r.Chain}]
		if ch == nil {
			continue
		}
		rule := &fwRule{ref: RuleRef{Backend: "nftables", Family: r.Family, Table: r.Table, Chain: r.Chain, Handle: r.Handle}}
		var text []string
		lookup := func(name string) []json.RawMessage { return sets[key{r.Family, r.Table, name}] }
		for _, e := range r.Expr {
			for kind, raw := range e {
				switch kind {
				case "match":
					conds, s := nftMatch(raw, lookup)
					rule.conds = append(rule.conds, conds...)
					text = append(text, s)
				case "accept", "drop", "return", "continue":
					rule.verdict = kind
					text = append(text, kind)
				case "reject":
					rule.verdict = "reject"
					text = append(text, "reject")
				case "jump", "goto":
					var t struct{ Target string }
					json.Unmarshal(raw, &t)
					rule.verdict, rule.target = kind, t.Target
					text = append(text, kind+" "+t.Target)
				case "limit", "quota", "queue", "numgen", "vmap", "synproxy":
					rule.maybe = true
					text = append(text, kind+" …")
				case "counter":
					text = append(text, "counter")
				default:
					text = append(text, kind)
				}
			}
		}
		rule.ref.Rule = strings.Join(text, " ")
		ch.rules = append(ch.rules, rule)
	}
	return order, nil
}

// nftMatch reads one match expression into conditions and its text.
func nftMatch(raw json.RawMessage, lookup func(string) []json.RawMessage) ([]fwCond, string) {
	var m struct {
		Op    string
		Left  map[string]json.RawMessage
		Right json.RawMessage
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return []fwCond{{field: "other", text: "?"}}, "?"
	}
	field, implied, leftText := nftLeft(m.Left)
	values, rightText := nftValues(m.Right, lookup)
	op := m.Op
	text := leftText + " " + rightText
	if op != "==" && op != "in" {
		text = leftText + " " + op + " " + rightText
	}
	c := fwCond{field: field, values: values, neg: op == "!=", text: text}
	if op != "==" && op != "!=" && op != "in" {
		c.field = "other" // <, >, <=, >=: not evaluated
	}
	conds := append(implied, c)
	return conds, text
}

// nftLeft names the field a match looks at, with the conditions its
// protocol implies (a tcp port implies l4proto tcp, an ip field IPv4).
func nftLeft(left map[string]json.RawMessage) (field string, implied []fwCond, text string) {
	for kind, raw := range left {
		switch kind {
		case "payload":
			var p struct{ Protocol, Field string }
			json.Unmarshal(raw, &p)
			text = p.Protocol + " " + p.Field
			switch p.Protocol {
			case "ip", "ip6":
				fam := map[string]string{"ip": "ipv4", "ip6": "ipv6"}[p.Protocol]
				implied = append(implied, fwCond{field: "nfproto", values: []fwValue{{word: fam}}, text: "(" + p.Protocol + ")"})
				switch p.Field {
				case "saddr", "daddr":
					return p.Field, implied, text
				case "protocol", "nexthdr":
					return "l4proto", implied, text
				}
				return "other", implied, text
			case "arp":
				switch p.Field {
				case "saddr ip":
					return "arpsip", nil, text
				case "daddr ip":
					return "arptip", nil, text
				case "operation":
					return "arpop", nil, text
				}
				return "other", nil, text
			case "tcp", "udp", "icmp", "icmpv6", "sctp", "igmp", "esp", "ah":
				implied = append(implied, fwCond{field: "l4proto", values: []fwValue{{word: normWord(p.Protocol)}}, text: "(" + p.Protocol + ")"})
				return "other", implied, text
			}
			return "other", nil, text
		case "meta":
			var m struct{ Key string }
			json.Unmarshal(raw, &m)
			text = "meta " + m.Key
			switch m.Key {
			case "l4proto":
				return "l4proto", nil, text
			case "nfproto":
				return "nfproto", nil, text
			case "iifname", "oifname":
				return m.Key[:3], nil, text
			}
			return "other", nil, text
		case "ct":
			var c struct{ Key string }
			json.Unmarshal(raw, &c)
			text = "ct " + c.Key
			if c.Key == "state" {
				return "ctstate", nil, text
			}
			return "other", nil, text
		default:
			return "other", nil, kind
		}
	}
	return "other", nil, "?"
}

// nftValues reads the right side of a match: a literal, a named set, an
// anonymous set, a prefix or a range, or a list of flags.
func nftValues(raw json.RawMessage, lookup func(string) []json.RawMessage) ([]fwValue, string) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if strings.HasPrefix(s, "@") {
			var out []fwValue
			for _, e := range lookup(s[1:]) {
				vs, _ := nftValues(e, lookup)
				out = append(out, vs...)
			}
			return out, s
		}
		return []fwValue{wordValue(s)}, s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return []fwValue{{word: n.String()}}, n.String()
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) == nil {
		var out []fwValue
		var texts []string
		for _, e := range list {
			vs, t := nftValues(e, lookup)
			out = append(out, vs...)
			texts = append(texts, t)
		}
		return out, strings.Join(texts, ",")
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return nil, "?"
	}
	for kind, v := range obj {
		switch kind {
		case "set":
			vs, t := nftValues(v, lookup)
			return vs, "{ " + t + " }"
		case "prefix":
			var p struct {
				Addr string
				Len  int
			}
			json.Unmarshal(v, &p)
			t := p.Addr + "/" + strconv.Itoa(p.Len)
			return []fwValue{wordValue(t)}, t
		case "range":
			var r []string
			json.Unmarshal(v, &r)
			if len(r) == 2 {
				t := r[0] + "-" + r[1]
				return []fwValue{wordValue(t)}, t
			}
		case "elem":
			var e struct{ Val json.RawMessage }
			json.Unmarshal(v, &e)
			return nftValues(e.Val, lookup)
		}
	}
	return nil, "?"
}
