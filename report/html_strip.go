package report

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// The mastership strips: per virtual router, who was master when over the
// whole capture, a row per router, split-brain overlaps in red on the
// contender's row, each failover numbered, and the clients' stale periods
// and unanswered requests on a row of their own. A click on a strip shows
// that moment in the ladder; a click on a failover's number, its close-up.

const (
	stripW     = 1000.0
	stripRight = 990.0
	stripRowH  = 20.0
)

// stripLabel is where the bars start, right of the routers' names.
func (p *page) stripLabel() float64 {
	n := len("clients")
	for _, g := range p.a.Groups {
		for _, s := range g.Speakers {
			n = max(n, len([]rune(s.IP)))
		}
	}
	return math.Min(math.Max(float64(n)*7.4+16, 120), 320)
}

func (p *page) glance() {
	l := p.l
	if len(p.a.Groups) == 0 || l.start.IsZero() || !l.end.After(l.start) {
		return
	}
	p.raw("<section id=\"glance\">\n<h2>Who was master when</h2>\n")
	for gi, g := range p.a.Groups {
		p.strip(gi, g.VRID, g.VLAN)
	}
	p.raw("</section>\n")
}

func (p *page) stripX(t time.Time) float64 {
	l := p.l
	span := l.end.Sub(l.start)
	if span <= 0 {
		return p.stripLabel()
	}
	f := float64(t.Sub(l.start)) / float64(span)
	f = math.Min(math.Max(f, 0), 1)
	x0 := p.stripLabel()
	return x0 + f*(stripRight-x0)
}

func (p *page) strip(gi, vrid, vlan int) {
	l := p.l
	g := p.a.Groups[gi]
	// Rows: the routers of this virtual router, then its clients when any
	// lagged.
	type row struct {
		lane  int
		label string
	}
	var rows []row
	for _, s := range g.Speakers {
		if ln, ok := l.index[s.IP]; ok {
			rows = append(rows, row{ln, s.IP})
		}
	}
	var lag []*item
	for i := range l.items {
		it := &l.items[i]
		if (it.kind == itStale || it.kind == itOutage) && it.vrid == vrid && it.vlan == vlan {
			lag = append(lag, it)
		}
	}
	h := float64(len(rows))*stripRowH + 34
	if len(lag) > 0 {
		h += stripRowH
	}
	head := "VRID " + groupLabel(g.VRID, g.VLAN, g.Family)
	if len(g.VIPs) > 0 {
		head += " · VIP " + g.VIPs[0]
		if len(g.VIPs) > 1 {
			head += fmt.Sprintf(" +%d", len(g.VIPs)-1)
		}
	}
	if g.VirtualMAC != "" {
		head += " · virtual MAC " + g.VirtualMAC
	}
	p.f("<figure class=\"strip-fig\">\n<figcaption>%s</figcaption>\n", esc(head))
	p.f("<svg class=\"strip\" viewBox=\"0 0 %s %s\" preserveAspectRatio=\"xMinYMin meet\" data-x0=\"%s\" data-x1=\"%s\" data-span=\"%s\" role=\"img\" aria-label=\"%s\">\n",
		px(stripW), px(h), px(p.stripLabel()), px(stripRight), strconv.FormatFloat(ms(l.end.Sub(l.start)), 'f', 3, 64), esc("who was master when, "+head))
	p.raw("<defs><pattern id=\"strip-hatch-" + strconv.Itoa(gi) + "\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" class=\"hatch-split\"/></pattern></defs>\n")
	p.f("<rect class=\"strip-bg\" x=\"%s\" y=\"16\" width=\"%s\" height=\"%s\"/>\n", px(p.stripLabel()), px(stripRight-p.stripLabel()), px(h-34))
	// Split brains behind the rows.
	for _, it := range l.items {
		if it.kind == itSplit && it.vrid == vrid && it.vlan == vlan {
			x0, x1 := p.stripX(it.t0), p.stripX(it.t1)
			p.f("<rect class=\"strip-split\" x=\"%s\" y=\"16\" width=\"%s\" height=\"%s\"><title>%s</title></rect>\n", px(x0), px(math.Max(x1-x0, 2)), px(h-34), esc(it.text))
		}
	}
	for ri, r := range rows {
		y := 16 + float64(ri)*stripRowH
		ln := l.lanes[r.lane]
		p.f("<text class=\"strip-name\" x=\"%s\" y=\"%s\">%s</text>\n", px(p.stripLabel()-8), px(y+14), esc(ln.title))
		for _, it := range l.items {
			if it.from != r.lane || it.vrid != vrid || it.vlan != vlan {
				continue
			}
			x0, x1 := p.stripX(it.t0), p.stripX(it.t1)
			w := math.Max(x1-x0, 2)
			switch it.kind {
			case itMaster:
				p.f("<g class=\"strip-m r%d\"><title>%s master %s .. %s</title><rect x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" rx=\"2\"/>",
					p.routerIndex(r.lane), esc(r.label), esc(p.rel(it.t0)), esc(p.rel(it.t1)), px(x0), px(y+3), px(w), px(stripRowH-6))
				if w > 56 {
					p.f("<text class=\"strip-in\" x=\"%s\" y=\"%s\">master</text>", px(x0+4), px(y+14))
				}
				p.raw("</g>\n")
			case itContender:
				p.f("<g class=\"strip-c\"><title>%s</title><rect x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" rx=\"2\" fill=\"url(#strip-hatch-%d)\"/>",
					esc(it.text), px(x0), px(y+3), px(w), px(stripRowH-6), gi)
				if w > 80 {
					p.f("<text class=\"strip-in split-text\" x=\"%s\" y=\"%s\">‼ also master</text>", px(x0+4), px(y+14))
				}
				p.raw("</g>\n")
			}
		}
	}
	if len(lag) > 0 {
		y := 16 + float64(len(rows))*stripRowH
		p.f("<text class=\"strip-name\" x=\"%s\" y=\"%s\">clients</text>\n", px(p.stripLabel()-8), px(y+14))
		for _, it := range lag {
			x0, x1 := p.stripX(it.t0), p.stripX(it.t1)
			cls, sign := "strip-stale", "⚠ stale"
			if it.kind == itOutage {
				cls, sign = "strip-outage", "⊘"
			}
			w := math.Max(x1-x0, 3)
			p.f("<g class=\"%s\"><title>%s</title><rect x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\"/>", cls, esc(it.text), px(x0), px(y+4), px(w), px(stripRowH-8))
			p.f("<text class=\"strip-lag\" x=\"%s\" y=\"%s\">%s</text></g>\n", px(x0+w+3), px(y+14), sign)
		}
	}
	// Failovers, numbered: a way into each close-up.
	for _, it := range l.items {
		if it.kind != itTakeover || it.vrid != vrid || it.vlan != vlan {
			continue
		}
		x := p.stripX(it.t1)
		attrs := ""
		if it.fo < maxCloseUps {
			attrs = fmt.Sprintf(" data-view=\"%s\" tabindex=\"0\" role=\"button\"", foViewID(it.fo))
		}
		p.f("<g class=\"fo-tick\" data-fo=\"%d\"%s><title>%s</title><line x1=\"%s\" x2=\"%s\" y1=\"10\" y2=\"%s\"/><circle cx=\"%s\" cy=\"8\" r=\"7\"/><text x=\"%s\" y=\"11.5\">%d</text></g>\n",
			it.fo, attrs, esc("failover "+strconv.Itoa(it.fo+1)+": "+it.text+" (close-up)"), px(x), px(x), px(h-18), px(x), px(x), it.fo+1)
	}
	// The time axis.
	pps := (stripRight - p.stripLabel()) / math.Max(l.end.Sub(l.start).Seconds(), 1e-9)
	step := niceStep(pps, 70)
	for k := int64(0); ; k++ {
		t := l.start.Add(time.Duration(k) * step)
		if t.After(l.end) {
			break
		}
		x := p.stripX(t)
		p.f("<line class=\"strip-tick\" x1=\"%s\" x2=\"%s\" y1=\"%s\" y2=\"%s\"/><text class=\"strip-axis\" x=\"%s\" y=\"%s\">%s</text>\n",
			px(x), px(x), px(h-18), px(h-14), px(x), px(h-3), esc(fmtTick(t.Sub(l.start), step)))
	}
	p.raw("</svg>\n</figure>\n")
}
