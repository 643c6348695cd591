package doctor

import (
	"bufio"
	"strings"
)

// parseIptablesSave reads the filter table of iptables-save (or
// ip6tables-save) output, family "ip" or "ip6", into chains. Options it
// does not evaluate (matches of modules other than the protocol's) make a
// condition no probe knows, so rules behind them are only possible drops.
func parseIptablesSave(out, family string) []*fwChain {
	var chains []*fwChain
	byName := map[string]*fwChain{}
	table := ""
	hooks := map[string]string{"INPUT": "input", "OUTPUT": "output", "FORWARD": "forward", "PREROUTING": "prerouting", "POSTROUTING": "postrouting"}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "*"):
			table = line[1:]
			byName = map[string]*fwChain{}
		case table != "filter" && table != "raw" && table != "mangle":
		case strings.HasPrefix(line, ":"):
			f := strings.Fields(line[1:])
			if len(f) < 2 {
				continue
			}
			c := &fwChain{backend: "iptables", family: family, table: table, name: f[0]}
			if h, ok := hooks[f[0]]; ok {
				c.hook = h
				c.policy = strings.ToLower(f[1])
				// raw and mangle come before filter.
				c.prio = map[string]int{"raw": -300, "mangle": -150, "filter": 0}[table]
			}
			byName[f[0]] = c
			chains = append(chains, c)
		case strings.HasPrefix(line, "-A "):
			args := splitArgs(line)
			if len(args) < 2 {
				continue
			}
			c := byName[args[1]]
			if c == nil {
				continue
			}
			n++
			c.rules = append(c.rules, iptRule(args[2:], family, table, c.name, line[3:]))
		}
	}
	return chains
}

func iptRule(args []string, family, table, chain, text string) *fwRule {
	r := &fwRule{ref: RuleRef{Backend: "iptables", Family: family, Table: table, Chain: chain, Rule: text}}
	neg := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() string {
			if i+1 < len(args) {
				i++
				return args[i]
			}
			return ""
		}
		cond := func(field string) {
			v := next()
			var vals []fwValue
			for _, s := range strings.Split(v, ",") {
				vals = append(vals, wordValue(strings.TrimSuffix(s, "+")+map[bool]string{true: "*", false: ""}[strings.HasSuffix(s, "+")]))
			}
			if field == "saddr" || field == "daddr" {
				vals = nil
				for _, s := range strings.Split(v, ",") {
					vals = append(vals, wordValue(strings.TrimSuffix(s, "/32")))
				}
			}
			r.conds = append(r.conds, fwCond{field: field, neg: neg, values: vals, text: a + " " + v})
			neg = false
		}
		switch a {
		case "!":
			neg = true
		case "-s", "--source":
			cond("saddr")
		case "-d", "--destination":
			cond("daddr")
		case "-p", "--protocol":
			cond("l4proto")
		case "-i", "--in-interface":
			cond("iif")
		case "-o", "--out-interface":
			cond("oif")
		case "-j", "--jump", "-g", "--goto":
			t := next()
			switch strings.ToUpper(t) {
			case "DROP":
				r.verdict = "drop"
			case "REJECT":
				r.verdict = "reject"
			case "ACCEPT":
				r.verdict = "accept"
			case "RETURN":
				r.verdict = "return"
			case "LOG", "NFLOG", "MARK", "CONNMARK", "CT", "NOTRACK", "TRACE":
			default:
				r.verdict, r.target = "jump", t
				if a == "-g" || a == "--goto" {
					r.verdict = "goto"
				}
			}
		case "-m", "--match":
			m := next()
			if m == "state" || m == "conntrack" {
				// --state / --ctstate follow.
				continue
			}
			if m == "limit" || m == "hashlimit" || m == "statistic" || m == "quota" {
				r.maybe = true
			}
		case "--state", "--ctstate":
			v := next()
			var vals []fwValue
			for _, s := range strings.Split(v, ",") {
				vals = append(vals, fwValue{word: strings.ToLower(s)})
			}
			r.conds = append(r.conds, fwCond{field: "ctstate", neg: neg, values: vals, text: a + " " + v})
			neg = false
		case "-c":
			i += 2
		default:
			if strings.HasPrefix(a, "-") {
				// An option of a match module: consume its value, if any.
				r.conds = append(r.conds, fwCond{field: "other", text: a})
				if i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
					i++
				}
				neg = false
			}
		}
	}
	return r
}

// splitArgs splits an iptables-save line into words, keeping quoted
// strings whole.
func splitArgs(s string) []string {
	var out []string
	var cur strings.Builder
	inQuote := false
	for _, r := range s {
		switch {
		case r == '"':
			inQuote = !inQuote
		case r == ' ' && !inQuote:
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}
