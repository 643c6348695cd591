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

// normalized returns a new slice holding norm of each element of s (empty
// in place of nil): the caller's slice is never written to.
func normalized[T any](s []T, norm func(T) T) []T {
	out := make([]T, len(s))
	for i, v := range s {
		out[i] = norm(v)
	}
	return out
}

// normalizeAnalysis returns a copy of a with the schema set and every nil
// list replaced by an empty one. Slices that change are copied first.
func normalizeAnalysis(a *analyze.Analysis) *analyze.Analysis {
	c := *a
	if c.Schema == "" {
		c.Schema = analyze.Schema
	}
	c.Groups = normalized(c.Groups, normalizeGroup)
	c.Failovers = normalized(c.Failovers, normalizeFailover)
	c.SplitBrains = normalized(c.SplitBrains, func(sb analyze.SplitBrain) analyze.SplitBrain {
		sb.Routers = normalized(sb.Routers, func(s analyze.SplitSide) analyze.SplitSide {
			s.Frames = orEmpty(s.Frames)
			return s
		})
		sb.Clients = normalized(sb.Clients, func(m analyze.ClientMove) analyze.ClientMove {
			m.Frames = orEmpty(m.Frames)
			return m
		})
		return sb
	})
	c.Findings = normalized(c.Findings, normalizeFinding)
	c.Timeline = orEmpty(c.Timeline)
	c.Clients = normalized(c.Clients, func(cl analyze.Client) analyze.Client {
		cl.Resolutions = orEmpty(cl.Resolutions)
		return cl
	})
	c.Errors = orEmpty(c.Errors)
	c.Notes = orEmpty(c.Notes)
	c.Evictions = orEmpty(c.Evictions)
	c.Unaligned = normalized(c.Unaligned, func(u analyze.Analysis) analyze.Analysis { return *normalizeAnalysis(&u) })
	return &c
}

func normalizeGroup(g analyze.Group) analyze.Group {
	g.VIPs = orEmpty(g.VIPs)
	g.Masterships = orEmpty(g.Masterships)
	g.Speakers = normalized(g.Speakers, func(s analyze.Speaker) analyze.Speaker {
		s.VIPs = orEmpty(s.VIPs)
		return s
	})
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
