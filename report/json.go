package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/vrrpctl/vrrpctl/analyze"
)

// JSON writes a as one indented JSON document. Lists are never null, so
// consumers can iterate without checking; times are RFC 3339 with
// nanoseconds. a itself is not modified.
func JSON(w io.Writer, a *analyze.Analysis) error {
	if a == nil {
		return fmt.Errorf("report: no analysis")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(normalizeAnalysis(a)); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// orEmpty returns s, or an empty slice in place of nil.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// normalizeAnalysis returns a copy of a with the schema set and every nil
// list replaced by an empty one. Slices that change are copied first.
func normalizeAnalysis(a *analyze.Analysis) *analyze.Analysis {
	c := *a
	if c.Schema == "" {
		c.Schema = analyze.Schema
	}
	c.Groups = orEmpty(c.Groups)
	if len(c.Groups) > 0 {
		gs := make([]analyze.Group, len(c.Groups))
		for i, g := range c.Groups {
			gs[i] = normalizeGroup(g)
		}
		c.Groups = gs
	}
	c.Failovers = orEmpty(c.Failovers)
	if len(c.Failovers) > 0 {
		fs := make([]analyze.Failover, len(c.Failovers))
		for i, f := range c.Failovers {
			fs[i] = normalizeFailover(f)
		}
		c.Failovers = fs
	}
	c.Findings = orEmpty(c.Findings)
	if len(c.Findings) > 0 {
		fs := make([]analyze.Finding, len(c.Findings))
		for i, f := range c.Findings {
			fs[i] = normalizeFinding(f)
		}
		c.Findings = fs
	}
	c.Timeline = orEmpty(c.Timeline)
	c.Clients = orEmpty(c.Clients)
	if len(c.Clients) > 0 {
		cs := make([]analyze.Client, len(c.Clients))
		for i, cl := range c.Clients {
			cl.Resolutions = orEmpty(cl.Resolutions)
			cs[i] = cl
		}
		c.Clients = cs
	}
	c.Errors = orEmpty(c.Errors)
	c.Notes = orEmpty(c.Notes)
	return &c
}

func normalizeGroup(g analyze.Group) analyze.Group {
	g.VIPs = orEmpty(g.VIPs)
	g.Masterships = orEmpty(g.Masterships)
	g.Speakers = orEmpty(g.Speakers)
	if len(g.Speakers) > 0 {
		ss := make([]analyze.Speaker, len(g.Speakers))
		for i, s := range g.Speakers {
			s.VIPs = orEmpty(s.VIPs)
			ss[i] = s
		}
		g.Speakers = ss
	}
	return g
}

func normalizeFailover(f analyze.Failover) analyze.Failover {
	f.Clients = orEmpty(f.Clients)
	return f
}

func normalizeFinding(f analyze.Finding) analyze.Finding {
	f.Frames = orEmpty(f.Frames)
	return f
}
