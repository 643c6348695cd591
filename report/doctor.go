package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/vrrpctl/vrrpctl/doctor"
)

// DoctorJSON writes a doctor report as one indented JSON document (schema
// vrrpctl.doctor/v1). Lists are never null.
func DoctorJSON(w io.Writer, r *doctor.Report) error {
	if r == nil {
		return fmt.Errorf("report: no doctor report")
	}
	c := *r
	if c.Schema == "" {
		c.Schema = doctor.Schema
	}
	c.Configs = normalized(c.Configs, func(s doctor.ConfigSummary) doctor.ConfigSummary {
		s.Instances, s.Warnings = orEmpty(s.Instances), orEmpty(s.Warnings)
		return s
	})
	c.Checks = normalized(c.Checks, func(k doctor.Check) doctor.Check {
		k.Saw = orEmpty(k.Saw)
		return k
	})
	c.Findings = orEmpty(c.Findings)
	c.Schedules = normalized(c.Schedules, func(s doctor.Schedule) doctor.Schedule {
		s.GARPs, s.GapsMS, s.Why = orEmpty(s.GARPs), orEmpty(s.GapsMS), orEmpty(s.Why)
		return s
	})
	c.Errors = orEmpty(c.Errors)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(&c); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// DoctorText writes a doctor report as a checklist: a line per check with
// its status, and for each that did not pass what it saw, what was found,
// why it matters and the fix. Verbose adds what every check saw and the
// GARP schedules in full.
func DoctorText(w io.Writer, r *doctor.Report, opt Options) error {
	if r == nil {
		return fmt.Errorf("report: no doctor report")
	}
	t := &textReport{st: newStyles(opt.Color), width: opt.width(), opt: opt}
	where := "this host"
	if r.Host == nil {
		where = "configurations only"
	} else if r.Host.Netns != "" {
		where = "network namespace " + clean(r.Host.Netns)
	}
	t.line(t.st.title("vrrpctl doctor") + "  " + where)
	if r.Host != nil {
		role := "not a VRRP router"
		if r.Host.Router {
			role = "a VRRP router"
			if len(r.Host.Speakers) > 0 {
				role += ": " + strings.Join(r.Host.Speakers, ", ")
			}
		}
		t.field("host", role, noPaint)
		if len(r.Host.Interfaces) > 0 {
			t.field("links", strings.Join(r.Host.Interfaces, ", "), noPaint)
		}
	}
	var confs []string
	for _, c := range r.Configs {
		s := clean(c.File)
		if c.RouterID != "" {
			s += " (" + clean(c.RouterID) + ")"
		}
		if c.Found != "given" {
			s += " [" + c.Found + "]"
		}
		confs = append(confs, s)
	}
	if len(confs) == 0 {
		confs = []string{"none"}
	}
	t.field("configs", strings.Join(confs, ", "), noPaint)
	t.field("verdict", doctorVerdict(r), t.st.bold)

	t.section("CHECKS")
	codeWidth := 0
	for _, c := range r.Checks {
		codeWidth = max(codeWidth, len(c.Code))
	}
	for _, c := range r.Checks {
		tag, p := statusTag(c.Status, t.st)
		t.line(fmt.Sprintf("  %s  %-*s  %s", p(tag), codeWidth, c.Code, c.Title))
		indent := 12
		label := func(l string) string { return strings.Repeat(" ", 8) + fmt.Sprintf("%-4s", l) }
		detail := c.Status == doctor.Warn || c.Status == doctor.Fail || opt.Verbose
		saw := c.Saw
		if !detail {
			if c.Status == doctor.Skip && len(saw) > 0 {
				t.para(label(""), indent, clean(saw[0]), t.st.dim)
			}
			continue
		}
		if !opt.Verbose && len(saw) > 4 {
			saw = append(saw[:4:4], fmt.Sprintf("… %d more (-v)", len(c.Saw)-4))
		}
		for _, s := range saw {
			t.para(label("saw"), indent, clean(s), t.st.dim)
		}
		for _, f := range r.FindingsOf(c.Code) {
			sign, fp := "!", t.st.warning
			switch f.Severity {
			case doctor.Critical:
				sign, fp = "✗", t.st.critical
			case doctor.Info:
				sign, fp = "i", t.st.info
			}
			t.para(label(sign), indent, clean(f.Summary), fp)
			if f.Hint != "" && f.Hint != doctor.Codes[c.Code].Fix {
				t.para(label("do"), indent, clean(f.Hint), noPaint)
			}
		}
		if c.Why != "" {
			t.para(label("why"), indent, c.Why, noPaint)
		}
		if c.Fix != "" {
			t.para(label("fix"), indent, c.Fix, noPaint)
		}
	}
	schedules := r.Schedules
	var shown []doctor.Schedule
	for _, s := range schedules {
		if s.Irregular || opt.Verbose {
			shown = append(shown, s)
		}
	}
	if len(shown) > 0 {
		t.section("GARP SCHEDULES")
		for _, s := range shown {
			t.line(fmt.Sprintf("  %s (%s), VRID %d, keepalived %s: advert_int %s, repeat %d, delay %s, refresh %s, interval %s",
				clean(s.Instance), clean(s.File), s.VRID, s.Keepalived, secs(s.AdvertIntMS), s.Repeat, secs(s.DelayMS), secs(s.RefreshMS), secs(s.IntervalMS)))
			tb := &table{cols: []column{{head: "AT", right: true}, {head: "VIP"}, {head: "ASKED BY"}, {head: "WAITED", right: true}}}
			n := 0
			for _, g := range s.GARPs {
				if n == 16 && !opt.Verbose {
					tb.add(cell{text: "…"}, cell{text: fmt.Sprintf("%d more (-v)", len(s.GARPs)-16)}, cell{}, cell{})
					break
				}
				waited := ""
				if g.QueuedMS >= 1 {
					waited = secs(g.QueuedMS)
				}
				tb.add(cell{text: "+" + secs(g.OffsetMS)}, cell{text: g.VIP}, cell{text: g.Cause}, cell{text: waited})
				n++
			}
			t.out = append(t.out, tb.lines(t.st, 4, t.width)...)
			for _, why := range s.Why {
				t.para("    why ", 8, why, noPaint)
			}
		}
	}
	if len(r.Errors) > 0 {
		t.section("NOT READ")
		for _, e := range r.Errors {
			t.para("", 2, clean(e), t.st.warning)
		}
	}
	_, err := io.WriteString(w, strings.Join(t.out, "\n")+"\n")
	return err
}

func secs(msv float64) string {
	s := fmt.Sprintf("%.3f", msv/1000)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s + " s"
}

func statusTag(s doctor.Status, st styles) (string, paint) {
	switch s {
	case doctor.Pass:
		return "PASS", st.good
	case doctor.Warn:
		return "WARN", st.warning
	case doctor.Fail:
		return "FAIL", st.critical
	}
	return "SKIP", st.dim
}

func doctorVerdict(r *doctor.Report) string {
	n := map[doctor.Status]int{}
	for _, c := range r.Checks {
		n[c.Status]++
	}
	var parts []string
	for _, s := range []doctor.Status{doctor.Fail, doctor.Warn, doctor.Pass, doctor.Skip} {
		if n[s] > 0 {
			tag, _ := statusTag(s, newStyles(false))
			parts = append(parts, fmt.Sprintf("%d %s", n[s], tag))
		}
	}
	return strings.Join(parts, ", ")
}
