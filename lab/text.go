package lab

import (
	"fmt"
	"io"
	"strings"
)

// WriteText renders the report for a terminal.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	for i, res := range r.Results {
		if i > 0 {
			b.WriteString("\n")
		}
		res.writeText(&b)
	}
	verdict := "PASS"
	if !r.Pass {
		verdict = "FAIL"
	}
	fmt.Fprintf(&b, "\n%s: %d scenario(s) with %s, VRRPv%d\n", verdict, len(r.Results), r.Impl, r.Version)
	_, err := io.WriteString(w, b.String())
	return err
}

func fmtMS(p *float64) string {
	if p == nil {
		return "—"
	}
	return fmtDur(*p)
}

func fmtDur(ms float64) string {
	if ms >= 1000 || ms <= -1000 {
		return fmt.Sprintf("%.2f s", ms/1000)
	}
	return fmt.Sprintf("%.0f ms", ms)
}

func (res *Result) writeText(b *strings.Builder) {
	verdict := "PASS"
	if !res.Pass {
		verdict = "FAIL"
	}
	fmt.Fprintf(b, "== %s: %s  [%s]\n", res.Scenario, res.Description, verdict)
	for _, r := range res.Routers {
		fmt.Fprintf(b, "   %-5s %-15s %s  %-10s priority %d\n", r.Host, r.Addr, r.MAC, r.Impl, r.Priority)
	}
	fmt.Fprintf(b, "   advert_int %s, outage limit %s, %d echoes sent, %d lost (lab %s)\n",
		fmtDur(res.AdvertMS), fmtDur(res.MaxOutageMS), res.EchoesSent, res.EchoesLost, res.Lab)
	for _, g := range res.Failovers {
		fmt.Fprintf(b, "\n   at %+.2f s  %s: %s -> %s (%s)\n", g.AtMS/1000, g.Action, g.From, g.To, g.Cause)
		exp := ""
		if g.ExpectedMS > 0 {
			exp = fmt.Sprintf("   (RFC: %s)", fmtDur(g.ExpectedMS))
		}
		fmt.Fprintf(b, "     detection        %10s%s\n", fmtMS(g.DetectMS), exp)
		fmt.Fprintf(b, "     takeover         %10s   after the action\n", fmtMS(g.TakeoverMS))
		fmt.Fprintf(b, "     first GARP       %10s   after the new master's first advert\n", fmtMS(g.GarpMS))
		fmt.Fprintf(b, "     client switch    %10s   first echo to %s's MAC\n", fmtMS(g.SwitchMS), g.To)
		out := fmtDur(g.OutageMS)
		if !g.Recovered {
			out = "≥ " + out + ", not recovered"
		}
		fmt.Fprintf(b, "     outage           %10s   %d echoes lost\n", out, g.Lost)
		if !g.Moved {
			fmt.Fprintf(b, "     the VIP did not end up on %s alone\n", g.To)
		}
	}
	fmt.Fprintf(b, "\n   client ARP entry for %s:\n", VIP.Addr())
	for _, a := range res.ARP {
		owner := ""
		if a.Owner != "" {
			owner = " (" + a.Owner + ")"
		}
		fmt.Fprintf(b, "     %+8.2f s  %-10s %s%s\n", a.AtMS/1000, a.State, a.MAC, owner)
	}
	fmt.Fprintf(b, "   VIP:")
	for i, v := range res.VIP {
		verb := "gained"
		if !v.Held {
			verb = "lost"
		}
		sep := ","
		if i == 0 {
			sep = ""
		}
		fmt.Fprintf(b, "%s %s %s at %+.2f s", sep, v.Host, verb, v.AtMS/1000)
	}
	b.WriteString("\n")
	res.writeGARPs(b)
	if res.SplitBrainMS > 0 {
		fmt.Fprintf(b, "   both routers held the VIP for %s\n", fmtDur(res.SplitBrainMS))
	}
	res.writeCaptures(b)
	fmt.Fprintf(b, "   analyzer findings on the captures merged:\n")
	if res.AnalyzeError != "" {
		fmt.Fprintf(b, "     (not analyzed: %s)\n", res.AnalyzeError)
	}
	if len(res.Findings) == 0 && res.AnalyzeError == "" {
		fmt.Fprintf(b, "     none\n")
	}
	for _, f := range res.Findings {
		fmt.Fprintf(b, "     %-8s %-17s %s\n", f.Severity, f.Code, f.Summary)
	}
	if len(res.Expect) > 0 {
		seen := "reported"
		if !res.ExpectSeen {
			seen = "NOT reported: " + strings.Join(res.ExpectMissing, ", ")
		}
		fmt.Fprintf(b, "   this scenario provokes %s on purpose: %s\n", strings.Join(res.Expect, " and "), seen)
	}
	if res.Pcap != "" {
		fmt.Fprintf(b, "   client's capture: %s\n", res.Pcap)
	}
	if res.CaptureDir != "" {
		fmt.Fprintf(b, "   captures kept in %s\n", res.CaptureDir)
	}
	for _, r := range res.Reasons {
		fmt.Fprintf(b, "   FAIL: %s\n", r)
	}
}

// writeGARPs lists each router's GARPs with the gaps between them, the
// pattern the article found puzzling.
func (res *Result) writeGARPs(b *strings.Builder) {
	for _, host := range []string{Nat1, Nat2} {
		var at []float64
		for _, g := range res.GARPs {
			if g.Host == host {
				at = append(at, g.AtMS)
			}
		}
		if len(at) == 0 {
			continue
		}
		fmt.Fprintf(b, "   GARPs from %s (%d):", host, len(at))
		const show = 12
		for i, t := range at {
			if i == show {
				fmt.Fprintf(b, " …")
				break
			}
			fmt.Fprintf(b, " %+.2f", t/1000)
		}
		b.WriteString(" s")
		var gaps []string
		for i := 1; i < len(at) && i <= show; i++ {
			if d := at[i] - at[i-1]; d >= 50 {
				gaps = append(gaps, fmt.Sprintf("%.1f", d/1000))
			}
		}
		if len(gaps) > 0 {
			fmt.Fprintf(b, "; gaps between bursts %s s", strings.Join(gaps, ", "))
		}
		b.WriteString("\n")
	}
}

// writeCaptures lists the captures the analyzer merged: where each was
// taken, its frames, its clock against the client's and the adverts it saw.
func (res *Result) writeCaptures(b *strings.Builder) {
	if len(res.Captures) == 0 {
		return
	}
	fmt.Fprintf(b, "   captures (each host's eth1, both directions):\n")
	for _, v := range res.Captures {
		clock := "reference clock"
		switch {
		case !v.Aligned:
			clock = "not aligned"
		case !v.Reference:
			clock = fmt.Sprintf("clock %+.3f ms (± %.3f ms, %d frames matched)", v.OffsetMS, v.ErrorMS, v.Matched)
		}
		fmt.Fprintf(b, "     %-5s %-15s %5d frames  %4d adverts  %s\n", v.Name, v.Host, v.Frames, v.AdvertsSeen, clock)
	}
}
