package merge

import (
	"fmt"
	"strings"
	"time"
)

// plan is how every capture's clock is brought onto the reference's.
type plan struct {
	ref     int
	aligned []bool
	models  []model // onto the reference clock, anchored at the capture's first frame
	matched []int
	errNS   []float64
	via     []int    // the capture it was aligned through, -1 when directly (or the reference)
	reasons []string // why not aligned
}

// makePlan aligns every pair of captures, takes as reference the one that
// aligns with the most others (the first given among equals: the most
// frames matched decides first), and brings every capture onto its clock,
// directly or through a capture already aligned.
func makePlan(scans []*scan, names []string, maxOffset time.Duration) plan {
	n := len(scans)
	p := plan{
		aligned: make([]bool, n),
		models:  make([]model, n),
		matched: make([]int, n),
		errNS:   make([]float64, n),
		via:     make([]int, n),
		reasons: make([]string, n),
	}
	// edge[i][j] maps i onto j.
	edge := make([][]alignment, n)
	for i := range edge {
		edge[i] = make([]alignment, n)
	}
	for i := range n {
		for j := i + 1; j < n; j++ {
			a := align(scans[i], scans[j], maxOffset)
			edge[i][j] = a
			if a.ok {
				back := a
				back.m = a.m.inverse().reanchor(scans[j].first)
				edge[j][i] = back
			} else {
				edge[j][i] = alignment{common: a.common, reason: a.reason}
			}
		}
	}
	bestDeg, bestMatched := -1, -1
	for i := range n {
		deg, matched := 0, 0
		for j := range n {
			if edge[i][j].ok {
				deg++
				matched += edge[i][j].matched
			}
		}
		if deg > bestDeg || deg == bestDeg && matched > bestMatched {
			p.ref, bestDeg, bestMatched = i, deg, matched
		}
	}
	for i := range n {
		p.via[i] = -1
	}
	p.aligned[p.ref] = true
	p.models[p.ref] = model{anchor: scans[p.ref].first}
	queue := []int{p.ref}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		for v := range n {
			e := edge[v][u]
			if p.aligned[v] || !e.ok {
				continue
			}
			p.aligned[v] = true
			p.models[v] = e.m.then(p.models[u]).reanchor(scans[v].first)
			p.matched[v], p.errNS[v] = e.matched, e.errNS
			if u != p.ref {
				p.via[v] = u
				p.matched[v] = min(e.matched, p.matched[u])
				p.errNS[v] = e.errNS + p.errNS[u]
			}
			queue = append(queue, v)
		}
	}
	for v := range n {
		if p.aligned[v] {
			continue
		}
		e := edge[v][p.ref]
		p.reasons[v] = strings.ReplaceAll(e.reason, "{ref}", names[p.ref])
		for j := range n {
			if j != v && edge[v][j].ok {
				p.reasons[v] += fmt.Sprintf("; it aligns with %s, which does not align with %s either", names[j], names[p.ref])
				break
			}
		}
	}
	return p
}
