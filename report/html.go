package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"html"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/vrrpctl/vrrpctl/analyze"
)

// The HTML report: one self-contained file (inline CSS, JavaScript and SVG;
// nothing is fetched, no font, no CDN) that opens offline from a mail or a
// ticket. It holds the mastership strips, the failovers, the ladder diagram
// of the whole capture and a close-up of each failover and split brain, the
// findings as cards (selecting one highlights its frames in the diagram),
// and the analysis itself as JSON, byte for byte what JSON writes, in
// <script type="application/json" id="vrrpctl-analysis">.

//go:embed html.css
var htmlCSS string

//go:embed html.js
var htmlJS string

// HTMLOptions adds to the HTML report what the analysis does not hold.
type HTMLOptions struct {
	// Title replaces the page's title ("vrrpctl: FILE").
	Title string
	// Generator names the program and version that wrote the report.
	Generator string
	// Sections are tables from elsewhere, shown after the failovers: the
	// lab's own measurements of a staged failover, say.
	Sections []Section
	// Marks are moments drawn across the ladder: the lab's actions.
	Marks []Mark
}

// Section is a titled table of the HTML report.
type Section struct {
	Title string
	Intro string
	Head  []string
	Rows  [][]string
	// Notes are lines shown below the table.
	Notes []string
}

// Limits that keep the report of a huge capture small.
const (
	// maxCloseUps is how many failovers and split brains get a close-up.
	maxCloseUps = 50
	// shownEvidence is how many evidence frames a finding card lists.
	shownEvidence = 12
)

// HTML writes the HTML report of a.
func HTML(w io.Writer, a *analyze.Analysis, opt HTMLOptions) error {
	if a == nil {
		return fmt.Errorf("report: no analysis")
	}
	var doc bytes.Buffer
	if err := JSON(&doc, a); err != nil {
		return err
	}
	p := &page{a: a, opt: opt, l: newLadder(a, opt.Marks)}
	p.write(doc.Bytes())
	_, err := io.WriteString(w, p.b.String())
	return err
}

// scriptJSON makes a JSON document safe inside a <script> element without
// changing what it means: "</" becomes "<\/" and "<!--" becomes
// "\u003c!--", both escapes inside a JSON string (the only place "<" can
// be). A document holding neither is left byte for byte as it is.
func scriptJSON(doc []byte) []byte {
	doc = bytes.ReplaceAll(doc, []byte("<!--"), []byte(`\u003c!--`))
	return bytes.ReplaceAll(doc, []byte("</"), []byte(`<\/`))
}

// page writes the HTML document.
type page struct {
	a   *analyze.Analysis
	opt HTMLOptions
	l   *ladder
	b   strings.Builder
}

// esc makes text from the capture safe in HTML text and attributes.
func esc(s string) string { return html.EscapeString(clean(s)) }

func (p *page) raw(s string) { p.b.WriteString(s) }

func (p *page) f(format string, args ...any) { fmt.Fprintf(&p.b, format, args...) }

// rel is t as seconds from the capture's start, for the page's times.
func (p *page) rel(t time.Time) string { return relTime(t, p.a.Source.Start) }

// offMS is t in milliseconds from the capture's start, for the script.
func (p *page) offMS(t time.Time) string {
	if t.IsZero() || p.l.start.IsZero() {
		return "0"
	}
	return strconv.FormatFloat(ms(t.Sub(p.l.start)), 'f', 3, 64)
}

func (p *page) write(doc []byte) {
	a := p.a
	title := p.opt.Title
	if title == "" {
		title = "vrrpctl: " + clean(a.Source.File)
		if a.Source.File == "" {
			title = "vrrpctl: live capture"
		}
	}
	p.raw("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
	p.raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
	p.raw("<meta name=\"color-scheme\" content=\"light dark\">\n")
	gen := p.opt.Generator
	if gen == "" {
		gen = "vrrpctl"
	}
	p.f("<meta name=\"generator\" content=\"%s\">\n", esc(gen))
	p.f("<title>%s</title>\n<style>\n%s</style>\n</head>\n<body>\n", esc(title), htmlCSS)
	p.svgDefs()
	p.header(title)
	p.glance()
	p.failoverCards()
	p.splitCards()
	p.raw("<div class=\"layout\">\n")
	p.diagram()
	p.findings()
	p.raw("</div>\n")
	for _, s := range p.opt.Sections {
		p.section(s)
	}
	p.notes()
	p.f("<footer><p>Written by %s. The analysis is embedded in this file as JSON (schema %s), as <code>vrrpctl analyze --json</code> prints it: <code>document.getElementById(\"vrrpctl-analysis\").textContent</code>.</p></footer>\n",
		esc(gen), esc(analyze.Schema))
	p.raw("<script type=\"application/json\" id=\"vrrpctl-analysis\">")
	p.b.Write(scriptJSON(doc))
	p.raw("</script>\n<script>\n")
	p.raw(htmlJS)
	p.raw("</script>\n</body>\n</html>\n")
}

func (p *page) header(title string) {
	a := p.a
	src := a.Source
	name := clean(src.File)
	if name == "" {
		name = "(live capture)"
	}
	p.f("<header class=\"top\">\n<h1><span class=\"tool\">vrrpctl</span> %s</h1>\n", esc(name))
	if p.opt.Title != "" {
		p.f("<p class=\"subtitle\">%s</p>\n", esc(title))
	}
	p.raw("<dl class=\"facts\">\n")
	fact := func(k, v string) { p.f("<div><dt>%s</dt><dd>%s</dd></div>\n", k, v) }
	if src.LinkType != "" {
		fact("link type", esc(src.LinkType))
	}
	if !src.Start.IsZero() {
		span := src.Start.Format("2006-01-02 15:04:05.000 MST")
		if !src.End.IsZero() {
			span += " .. " + src.End.In(src.Start.Location()).Format("15:04:05.000")
		}
		fact("span", esc(span)+" ("+esc(fmtSpan(src.SpanMS))+")")
	}
	frames := strconv.FormatUint(src.Frames, 10)
	if src.DecodeErrors > 0 {
		frames += ", " + plural(src.DecodeErrors, "decode error", "decode errors")
	}
	fact("frames", esc(frames))
	if src.Received != nil {
		fact("libpcap received", strconv.FormatUint(*src.Received, 10))
	}
	if src.Dropped != nil {
		fact("libpcap dropped", strconv.FormatUint(*src.Dropped, 10))
	}
	p.raw("</dl>\n<p class=\"verdict\">")
	var crit, warn, info int
	for _, f := range a.Findings {
		switch f.Severity {
		case analyze.Critical:
			crit++
		case analyze.Warning:
			warn++
		default:
			info++
		}
	}
	p.f("<span class=\"count\">%s</span> <span class=\"count\">%s</span> ",
		esc(plural(len(a.Groups), "virtual router", "virtual routers")), esc(plural(len(a.Failovers), "failover", "failovers")))
	if len(a.SplitBrains) > 0 {
		p.f("<span class=\"badge sev-critical\">%s %s</span> ", sevIcon(analyze.Critical), esc(plural(len(a.SplitBrains), "split brain", "split brains")))
	}
	if crit > 0 {
		p.f("<span class=\"badge sev-critical\">%s %d critical</span> ", sevIcon(analyze.Critical), crit)
	}
	if warn > 0 {
		p.f("<span class=\"badge sev-warning\">%s %s</span> ", sevIcon(analyze.Warning), plural(warn, "warning", "warnings"))
	}
	if info > 0 {
		p.f("<span class=\"badge sev-info\">%s %d info</span> ", sevIcon(analyze.Info), info)
	}
	if crit+warn+info == 0 {
		p.raw("<span class=\"badge good\">✓ no findings</span>")
	}
	p.raw("</p>\n")
	if src.Damaged || src.ReadError != "" {
		msg := "The capture is damaged: reading stopped early"
		if src.ReadError != "" {
			msg += " (" + src.ReadError + ")"
		}
		p.f("<p class=\"alert sev-warning\">%s %s; what follows covers only the frames before the damage.</p>\n", sevIcon(analyze.Warning), esc(msg))
	}
	if !src.HasDstMAC && src.Frames > 0 {
		p.f("<p class=\"alert sev-warning\">%s The capture has no destination MACs (Linux cooked capture): stale ARP caches and client switch times could not be determined.</p>\n", sevIcon(analyze.Warning))
	}
	p.raw("</header>\n")
}

// sevIcon is the sign that goes with a severity's word: colour is never
// the only carrier.
func sevIcon(s analyze.Severity) string {
	switch s {
	case analyze.Critical:
		return "<span class=\"icon\" aria-hidden=\"true\">‼</span>"
	case analyze.Warning:
		return "<span class=\"icon\" aria-hidden=\"true\">⚠</span>"
	}
	return "<span class=\"icon\" aria-hidden=\"true\">ℹ</span>"
}

// viewID names the diagram's views: the whole capture, each close-up.
func foViewID(i int) string { return "view-failover-" + strconv.Itoa(i+1) }
func sbViewID(i int) string { return "view-split-" + strconv.Itoa(i+1) }

func (p *page) failoverCards() {
	a := p.a
	if len(a.Failovers) == 0 {
		return
	}
	p.raw("<section id=\"failovers\">\n<h2>Failovers</h2>\n<div class=\"cards\">\n")
	for i, fo := range a.Failovers {
		cls := "card failover-card"
		cs := clientStatsOf(fo)
		bad := cs.bad(fo)
		slow := fo.ExpectedMS > 0 && fo.DetectMS > fo.ExpectedMS*1.25+100
		if bad || slow {
			cls += " attention"
		}
		p.f("<article class=\"%s\" id=\"failover-%d\" data-fo=\"%d\">\n", cls, i+1, i)
		p.f("<h3><span class=\"num\">%d</span> %s → %s <span class=\"cause\">%s</span></h3>\n", i+1, esc(endpoint(fo.From)), esc(endpoint(fo.To)), esc(fo.Cause))
		p.f("<p class=\"when\">%s · frame %d · VRID %s</p>\n", esc(p.rel(fo.Time)), fo.Frame, esc(groupLabel(fo.VRID, fo.VLAN, fo.Family)))
		if fo.Reason != "" {
			p.f("<p class=\"reason\">%s</p>\n", esc(fo.Reason))
		}
		p.raw("<dl class=\"measures\">\n")
		m := func(k, v, cls string) { p.f("<div class=\"%s\"><dt>%s</dt><dd>%s</dd></div>\n", cls, k, v) }
		tookCls := ""
		if slow {
			tookCls = "sev-warning"
		}
		m("took", esc(fmtMS(fo.DetectMS)), tookCls)
		if fo.ExpectedMS > 0 {
			m("RFC "+esc(rfcName(fo)), esc(fmtMS(fo.ExpectedMS))+" <span class=\"diff\">("+esc(fmtDiffMS(fo.DetectMS-fo.ExpectedMS))+")</span>", "")
		} else {
			m("RFC", "none for this cause", "")
		}
		if fo.GarpMS != nil {
			m("first GARP", esc(fmtDiffMS(*fo.GarpMS))+" after its first advert", "")
		} else {
			m("first GARP", sevIcon(analyze.Warning)+" none", "sev-warning")
		}
		if c, badc := clientSummary(fo, a.Source.HasDstMAC); c != "" {
			cls := ""
			if badc {
				cls = "sev-critical"
				c = "⚠ " + c
			}
			m("clients", esc(c), cls)
		}
		p.raw("</dl>\n")
		if i < maxCloseUps {
			p.f("<button type=\"button\" class=\"goto\" data-view=\"%s\">Close-up ▸</button>\n", foViewID(i))
		}
		p.raw("</article>\n")
	}
	p.raw("</div>\n</section>\n")
}

func (p *page) splitCards() {
	if len(p.a.SplitBrains) == 0 {
		return
	}
	p.raw("<section id=\"split-brains\">\n<h2>Split brains</h2>\n<div class=\"cards\">\n")
	for i, sb := range p.a.SplitBrains {
		p.f("<article class=\"card split-card attention\" id=\"split-%d\" data-sb=\"%d\">\n", i+1, i)
		var sides []string
		ended := "the capture ended first"
		for _, r := range sb.Routers {
			sides = append(sides, fmt.Sprintf("%s (%s)", clean(r.IP), plural(r.Claims, "claim", "claims")))
			if r.GaveUp {
				ended = clean(r.IP) + " gave up"
			}
		}
		p.f("<h3><span class=\"num sev-critical\">‼ %d</span> %s</h3>\n", i+1, esc(strings.Join(sides, " + ")))
		p.f("<p class=\"when\">%s · frames %d–%d · VRID %s</p>\n", esc(p.rel(sb.Start)), sb.StartFrame, sb.EndFrame, esc(groupLabel(sb.VRID, sb.VLAN, sb.Family)))
		p.f("<dl class=\"measures\"><div class=\"sev-critical\"><dt>both held the VIP</dt><dd>%s</dd></div><div><dt>ended</dt><dd>%s</dd></div></dl>\n",
			esc(fmtSpan(sb.DurationMS)), esc(ended))
		for _, c := range sb.Clients {
			p.f("<p>client %s (%s) moved to %s's MAC, frames %s</p>\n", esc(c.IP), esc(c.MAC), esc(sb.Routers[len(sb.Routers)-1].IP), esc(fmtFrames(c.Frames, false)))
		}
		if sb.Cause != "" {
			p.f("<p class=\"reason\">%s</p>\n", esc(sb.Cause))
		}
		if len(p.a.Failovers)+i < maxCloseUps {
			p.f("<button type=\"button\" class=\"goto\" data-view=\"%s\">Close-up ▸</button>\n", sbViewID(i))
		}
		p.raw("</article>\n")
	}
	p.raw("</div>\n</section>\n")
}

func (p *page) findings() {
	p.raw("<aside id=\"findings\">\n<h2>Findings</h2>\n")
	if len(p.a.Findings) == 0 {
		p.raw("<p class=\"none\">✓ none</p>\n</aside>\n")
		return
	}
	p.raw("<p class=\"hint\">Select a finding to mark its frames in the diagram.</p>\n")
	for i, f := range sortedFindings(p.a.Findings) {
		sev := string(f.Severity)
		if sev == "" {
			sev = "unknown"
		}
		frames := make([]string, len(f.Frames))
		for j, fr := range f.Frames {
			frames[j] = strconv.FormatUint(fr, 10)
		}
		t := ""
		if !f.Time.IsZero() {
			t = p.offMS(f.Time)
		}
		p.f("<article class=\"card finding sev-%s\" id=\"finding-%d\" tabindex=\"0\" role=\"button\" aria-pressed=\"false\" data-frames=\"%s\" data-t=\"%s\" data-vrid=\"%d\" data-vlan=\"%d\" data-code=\"%s\">\n",
			esc(sev), i+1, strings.Join(frames, ","), t, f.VRID, f.VLAN, esc(f.Code))
		p.f("<h3><span class=\"sev\">%s %s</span> <code>%s</code>", sevIcon(f.Severity), esc(severityWord(f.Severity)), esc(f.Code))
		if f.VRID != 0 {
			p.f(" <span class=\"vrid\">VRID %s</span>", esc(groupLabel(f.VRID, f.VLAN, "")))
		}
		if !f.Time.IsZero() {
			p.f(" <span class=\"when\">%s</span>", esc(p.rel(f.Time)))
		}
		p.raw("</h3>\n")
		if f.Summary != "" {
			p.f("<p class=\"summary\">%s</p>\n", esc(f.Summary))
		}
		if f.Detail != "" {
			p.f("<details><summary>why</summary><p>%s</p></details>\n", esc(f.Detail))
		}
		if f.Hint != "" {
			p.f("<p class=\"fix\"><span class=\"label\">fix</span> %s</p>\n", esc(f.Hint))
		}
		if len(f.Frames) > 0 {
			p.raw("<p class=\"evidence\"><span class=\"label\">evidence</span> ")
			for j, fr := range f.Frames {
				if j == shownEvidence {
					p.f("<span class=\"more\">+%d more</span>", len(f.Frames)-shownEvidence)
					break
				}
				p.f("<button type=\"button\" class=\"frame\" data-frame=\"%d\">#%d</button> ", fr, fr)
			}
			p.raw("</p>\n")
		}
		p.raw("</article>\n")
	}
	p.raw("</aside>\n")
}

func (p *page) section(s Section) {
	p.f("<section class=\"extra\">\n<h2>%s</h2>\n", esc(s.Title))
	if s.Intro != "" {
		p.f("<p>%s</p>\n", esc(s.Intro))
	}
	if len(s.Head) > 0 || len(s.Rows) > 0 {
		p.raw("<div class=\"table\"><table>\n")
		if len(s.Head) > 0 {
			p.raw("<thead><tr>")
			for _, h := range s.Head {
				p.f("<th>%s</th>", esc(h))
			}
			p.raw("</tr></thead>\n")
		}
		p.raw("<tbody>\n")
		for _, r := range s.Rows {
			p.raw("<tr>")
			for i, c := range r {
				if i == 0 {
					p.f("<th scope=\"row\">%s</th>", esc(c))
					continue
				}
				p.f("<td>%s</td>", esc(c))
			}
			p.raw("</tr>\n")
		}
		p.raw("</tbody></table></div>\n")
	}
	for _, n := range s.Notes {
		p.f("<p class=\"note\">%s</p>\n", esc(n))
	}
	p.raw("</section>\n")
}

func (p *page) notes() {
	a := p.a
	if len(a.Notes) == 0 && len(a.Errors) == 0 {
		return
	}
	p.raw("<section id=\"notes\">\n")
	if len(a.Notes) > 0 {
		p.raw("<h2>Notes</h2>\n<ul>\n")
		for _, n := range a.Notes {
			p.f("<li>%s</li>\n", esc(n))
		}
		p.raw("</ul>\n")
	}
	if len(a.Errors) > 0 {
		p.f("<h2>Decode errors (%d)</h2>\n<ul class=\"errors\">\n", len(a.Errors))
		for i, e := range a.Errors {
			if i == 100 {
				p.f("<li>… and %d more (in the JSON below)</li>\n", len(a.Errors)-100)
				break
			}
			p.f("<li><span class=\"frame\">#%d</span> %s</li>\n", e.Frame, esc(e.Error))
		}
		p.raw("</ul>\n")
	}
	p.raw("</section>\n")
}
