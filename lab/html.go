package lab

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vrrpctl/vrrpctl/analyze"
	"github.com/vrrpctl/vrrpctl/report"
)

// WriteHTML writes the HTML report of one scenario: the analyzer's report of
// the three captures merged (ladder, strips, findings, the analysis as JSON),
// with the lab's own measurements beside the analyzer's and its actions
// drawn across the ladder. generator names the program that writes it.
func (res *Result) WriteHTML(w io.Writer, generator string) error {
	a := res.analysis
	if a == nil {
		// Not analyzed: the lab's measurements alone.
		a = &analyze.Analysis{Schema: analyze.Schema, Source: analyze.Source{File: res.Pcap}}
	}
	verdict := "PASS"
	if !res.Pass {
		verdict = "FAIL"
	}
	opt := report.HTMLOptions{
		Title:     fmt.Sprintf("vrrpctl run-test-failover: %s [%s]", res.Scenario, verdict),
		Generator: generator,
	}
	for _, g := range res.Failovers {
		opt.Marks = append(opt.Marks, report.Mark{Time: res.at(g.AtMS), Label: "lab: " + g.Action})
	}
	opt.Sections = append(opt.Sections, res.stagedSection(verdict), res.measuresSection(a))
	if len(res.Captures) > 0 {
		opt.Sections = append(opt.Sections, res.capturesSection())
	}
	if len(res.ARP) > 0 || len(res.VIP) > 0 {
		opt.Sections = append(opt.Sections, res.entriesSection())
	}
	return report.HTML(w, a, opt)
}

// at is a time of the report (ms from the first action) on the clock.
func (res *Result) at(ms float64) time.Time {
	return res.start.Add(time.Duration(ms * float64(time.Millisecond)))
}

func (res *Result) stagedSection(verdict string) report.Section {
	s := report.Section{
		Title: fmt.Sprintf("Staged by the lab: %s [%s]", res.Scenario, verdict),
		Intro: fmt.Sprintf("%s. advert_int %s, outage limit %s, %d echoes sent, %d lost (lab %s); times below count from the first action.",
			res.Description, fmtDur(res.AdvertMS), fmtDur(res.MaxOutageMS), res.EchoesSent, res.EchoesLost, res.Lab),
		Head: []string{"router", "address", "MAC", "implementation", "priority"},
	}
	for _, r := range res.Routers {
		s.Rows = append(s.Rows, []string{r.Host, r.Addr, r.MAC, string(r.Impl), fmt.Sprint(r.Priority)})
	}
	if len(res.Expect) > 0 {
		seen := "the analyzer reported it"
		if len(res.Expect) > 1 {
			seen = "the analyzer reported them"
		}
		if !res.ExpectSeen {
			seen = "the analyzer did NOT report " + strings.Join(res.ExpectMissing, " and ")
		}
		s.Notes = append(s.Notes, fmt.Sprintf("This scenario provokes %s on purpose: %s.", strings.Join(res.Expect, " and "), seen))
	}
	if res.SplitBrainMS > 0 {
		s.Notes = append(s.Notes, "Both routers held the VIP for "+fmtDur(res.SplitBrainMS)+".")
	}
	for _, r := range res.Reasons {
		s.Notes = append(s.Notes, "FAIL: "+r)
	}
	if res.AnalyzeError != "" {
		s.Notes = append(s.Notes, "The capture could not be analyzed: "+res.AnalyzeError)
	}
	return s
}

// measuresSection sets the lab's measurements of each failover beside the
// analyzer's of the same failover: the first the analyzer saw to the
// router the lab expected, at or after the lab's action.
func (res *Result) measuresSection(a *analyze.Analysis) report.Section {
	s := report.Section{
		Title: "Measured by the lab, beside the analyzer",
		Intro: "The lab times the failover from what it did and from the client's capture; the analyzer from the capture alone.",
		Head:  []string{"", "lab", "analyzer"},
	}
	addr := map[string]string{}
	for _, r := range res.Routers {
		addr[r.Host] = r.Addr
	}
	ms := func(p *float64) string {
		if p == nil {
			return "—"
		}
		return fmt.Sprintf("%.1f ms", *p)
	}
	for i, g := range res.Failovers {
		act := res.at(g.AtMS)
		var fo *analyze.Failover
		for j := range a.Failovers {
			if f := &a.Failovers[j]; f.To.IP == addr[g.To] && !f.Time.Before(act) {
				fo = f
				break
			}
		}
		an := func(f func(*analyze.Failover) string) string {
			if fo == nil {
				return "not seen"
			}
			return f(fo)
		}
		rfc := "—"
		if g.ExpectedMS > 0 {
			rfc = fmt.Sprintf("%.1f ms", g.ExpectedMS)
		}
		s.Rows = append(s.Rows,
			[]string{fmt.Sprintf("%d. %s (at %+.2f s)", i+1, g.Action, g.AtMS/1000), fmt.Sprintf("%s → %s (%s)", g.From, g.To, g.Cause),
				an(func(f *analyze.Failover) string {
					return fmt.Sprintf("%s → %s (%s), frame %d", f.From.IP, f.To.IP, f.Cause, f.Frame)
				})},
			[]string{"detection", ms(g.DetectMS), an(func(f *analyze.Failover) string { return fmt.Sprintf("%.1f ms", f.DetectMS) })},
			[]string{"RFC time", rfc, an(func(f *analyze.Failover) string {
				if f.ExpectedMS <= 0 {
					return "—"
				}
				return fmt.Sprintf("%.1f ms", f.ExpectedMS)
			})},
			[]string{"takeover after the action", ms(g.TakeoverMS), ""},
			[]string{"first GARP after the first advert", ms(g.GarpMS), an(func(f *analyze.Failover) string { return ms(f.GarpMS) })},
			[]string{"client's switch", ms(g.SwitchMS), an(func(f *analyze.Failover) string {
				var out string
				for _, c := range f.Clients {
					out += fmt.Sprintf("%s %s; ", c.IP, ms(c.SwitchMS))
				}
				if out == "" {
					return "—"
				}
				return out[:len(out)-2]
			})},
			[]string{"outage (echoes lost)", fmt.Sprintf("%s (%d)", fmtDur(g.OutageMS), g.Lost), ""},
		)
	}
	return s
}

// capturesSection lists the captures the analyzer merged.
func (res *Result) capturesSection() report.Section {
	s := report.Section{
		Title: "The captures, merged",
		Intro: "The lab captures on the client's eth1 and on each router's, both directions; the analyzer aligns their clocks on the frames they share and analyzes them as one.",
		Head:  []string{"capture", "host", "frames", "clock", "adverts seen"},
	}
	for _, v := range res.Captures {
		clock := "reference"
		switch {
		case !v.Aligned:
			clock = "not aligned"
		case !v.Reference:
			clock = fmt.Sprintf("%+.3f ms (± %.3f ms, %d frames matched)", v.OffsetMS, v.ErrorMS, v.Matched)
		}
		s.Rows = append(s.Rows, []string{v.Name, v.Host, fmt.Sprint(v.Frames), clock, fmt.Sprint(v.AdvertsSeen)})
	}
	if res.CaptureDir != "" {
		s.Notes = append(s.Notes, "Kept in "+res.CaptureDir+".")
	}
	return s
}

func (res *Result) entriesSection() report.Section {
	s := report.Section{
		Title: "The client's ARP entry and the VIP, as the lab read them",
		Head:  []string{"at", "what"},
	}
	type row struct {
		at   float64
		what string
	}
	var rows []row
	for _, e := range res.ARP {
		what := "client's entry " + e.State
		if e.MAC != "" {
			what += " " + e.MAC
		}
		if e.Owner != "" {
			what += " (" + e.Owner + ")"
		}
		rows = append(rows, row{e.AtMS, what})
	}
	for _, v := range res.VIP {
		verb := "gained"
		if !v.Held {
			verb = "lost"
		}
		rows = append(rows, row{v.AtMS, v.Host + " " + verb + " the VIP"})
	}
	// In time order; the two lists are each in order already.
	for i := 1; i < len(rows); i++ {
		for j := i; j > 0 && rows[j].at < rows[j-1].at; j-- {
			rows[j], rows[j-1] = rows[j-1], rows[j]
		}
	}
	for _, r := range rows {
		s.Rows = append(s.Rows, []string{fmt.Sprintf("%+.2f s", r.at/1000), r.what})
	}
	return s
}
