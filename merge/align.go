package merge

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"time"
)

// Alignment settings.
const (
	// minMatched is how many frames an alignment must rest on: one or two
	// frames in common may be a coincidence.
	minMatched = 3
	// maxCombos: a key seen nx times in one capture and nr in the other
	// votes for the offset with all its nx·nr pairings while there are at
	// most this many; a key repeated more (an identical advert every
	// second) only refines an offset found otherwise.
	maxCombos = 16
	// coarseWindow is the width of the first search for the offset, widened
	// by maxDriftPPM over the captures' span so that clocks that run at
	// different rates still agree in one window.
	coarseWindow = 20 * time.Millisecond
	maxDriftPPM  = 300
	// A drift is estimated when the matched frames span minDriftSpan and it
	// moves the clock by minDriftEffect over them.
	minDriftSpan   = 10 * time.Second
	minDriftPoints = 8
	minDriftEffect = 100 * time.Microsecond
	// minTolerance bounds from below how far a frame may be from where the
	// estimate puts it and still count as the same frame.
	minTolerance = 200 * time.Microsecond
	// lineFitPoints bounds the points of the robust line fit (quadratic).
	lineFitPoints = 400
	// minLinedUp: of one capture's broadcasts and multicasts within the
	// other's span, at least this share must have their copy where the
	// estimate puts them, or the frames in common are coincidences (the
	// same adverts on another day).
	minLinedUp = 0.6
	// maxFitDriftPPM: a fit that makes a clock run faster or slower than
	// this rests on frames that are not the same.
	maxFitDriftPPM = 500
)

// model maps a capture's clock onto the reference clock:
// t + offset + drift·(t − anchor), in nanoseconds.
type model struct {
	anchor int64
	offset float64 // nanoseconds
	drift  float64 // a ratio: 1e-6 is 1 ppm
}

func (m model) apply(t int64) int64 {
	return t + int64(math.Round(m.offset+m.drift*float64(t-m.anchor)))
}

// then composes: m first, n on its result.
func (m model) then(n model) model {
	n = n.reanchor(m.apply(m.anchor))
	return model{anchor: m.anchor, offset: m.offset + n.offset, drift: m.drift + n.drift + m.drift*n.drift}
}

// inverse maps the reference clock back, anchored at the image of m's anchor.
func (m model) inverse() model {
	return model{anchor: m.apply(m.anchor), offset: -m.offset, drift: -m.drift / (1 + m.drift)}
}

// reanchor expresses the same mapping with its offset at time a.
func (m model) reanchor(a int64) model {
	return model{anchor: a, offset: m.offset + m.drift*float64(a-m.anchor), drift: m.drift}
}

// pair is a frame seen in two captures: at x on one's clock, r on the
// other's.
type pair struct {
	x, r int64
	w    float64 // its vote
}

func (p pair) d() int64 { return p.r - p.x }

// keyRun is every kept occurrence of one key in each of two captures.
type keyRun struct {
	class  int
	xs, rs []occurrence
}

// alignment is the outcome of aligning one capture onto another.
type alignment struct {
	ok      bool
	m       model
	matched int
	errNS   float64 // 95th percentile of the matched frames' absolute residuals
	common  int     // distinct frames the two captures share (in their samples)
	reason  string  // why not, when not ok; {ref} stands for the other capture's name
}

// align estimates the model that maps x's clock onto r's from the frames
// they share, matched by their bytes alone. An offset beyond maxOffset is
// refused: the frames in common are the same broadcasts on another day.
func align(x, r *scan, maxOffset time.Duration) alignment {
	runs, votes := commonRuns(x, r)
	out := alignment{common: len(runs)}
	if len(runs) == 0 {
		out.reason = "shares no frame with {ref}: another segment, or another time"
		return out
	}
	span := max(x.last-x.first, r.last-r.first)
	width := int64(coarseWindow) + int64(float64(span)*maxDriftPPM*1e-6)
	slices.SortFunc(votes, func(a, b pair) int { return cmpInt(a.d(), b.d()) })
	lo, hi, best, second := densest(votes, width)
	if best < minMatched-0.5 {
		out.reason = fmt.Sprintf("has %d frame(s) in common with {ref}, too few agreeing on one clock offset", len(runs))
		return out
	}
	if second >= best/2 {
		out.reason = fmt.Sprintf("has %d frame(s) in common with {ref} that agree on several clock offsets (%s or %s)",
			len(runs), fmtOffset(votes[lo].d()), fmtOffset(secondAt(votes, lo, hi, width)))
		return out
	}
	m, sigma := estimate(votes[lo:hi], x.first)
	tol := width
	var ps []pair
	for range 3 {
		tol = clampTol(5*sigma, tol)
		ps = matchRuns(runs, m, tol)
		if len(ps) < minMatched {
			break
		}
		m, sigma = estimate(ps, x.first)
	}
	lim := max(3*sigma, float64(minTolerance))
	inliers := within(ps, m, lim)
	if len(inliers) < minMatched {
		out.reason = fmt.Sprintf("has %d frame(s) in common with {ref}, too few agreeing on one clock offset", len(runs))
		return out
	}
	if fx, fr := linedUp(runs, m, int64(lim), x, r); fx < minLinedUp && fr < minLinedUp {
		out.reason = fmt.Sprintf("has %d frame(s) in common with {ref}, but only %.0f%% of its broadcasts and multicasts "+
			"have their copy where those frames would put its clock (%s off): the same frames on another day, or in another incident",
			len(runs), 100*max(fx, fr), fmtDuration(math.Abs(m.offset)))
		return out
	}
	if math.Abs(m.drift) > maxFitDriftPPM*1e-6 {
		out.reason = fmt.Sprintf("has %d frame(s) in common with {ref}, but they would make its clock run %.0f ppm off: they are not the same frames",
			len(runs), math.Abs(m.drift)*1e6)
		return out
	}
	if math.Abs(m.offset) > float64(maxOffset) {
		out.reason = fmt.Sprintf("has %d frame(s) in common with {ref}, but they would put its clock %s off: "+
			"the same frames on another day (a clock that far off needs a larger --max-offset)", len(runs), fmtDuration(math.Abs(m.offset)))
		return out
	}
	out.ok, out.m, out.matched = true, m, len(inliers)
	out.errNS = percentile(absResiduals(inliers, m), 0.95)
	return out
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func clampTol(t float64, upper int64) int64 {
	return min(max(int64(t), int64(minTolerance)), max(upper, int64(minTolerance)))
}

// commonRuns joins two captures' samples on their keys: the runs of every
// key both kept, and the pairings that vote for the offset (those of keys
// seen few enough times, every occurrence kept).
func commonRuns(x, r *scan) (runs []keyRun, votes []pair) {
	for c := preferred; c < numClasses; c++ {
		sx, sr := x.samples[c], r.samples[c]
		level := max(sx.level, sr.level)
		a, b := sx.occ, sr.occ
		for i, j := 0, 0; i < len(a) && j < len(b); {
			ka, kb := a[i].key, b[j].key
			if ka < kb {
				i++
				continue
			}
			if kb < ka {
				j++
				continue
			}
			ie, je := i+1, j+1
			for ie < len(a) && a[ie].key == ka {
				ie++
			}
			for je < len(b) && b[je].key == ka {
				je++
			}
			if keptAt(ka, level) {
				xs, rs := a[i:ie], b[j:je]
				runs = append(runs, keyRun{c, xs, rs})
				if len(xs)*len(rs) <= maxCombos && sx.complete(ka, len(xs)) && sr.complete(ka, len(rs)) {
					w := 1 / float64(max(len(xs), len(rs)))
					for _, ox := range xs {
						for _, or := range rs {
							votes = append(votes, pair{ox.t, or.t, w})
						}
					}
				}
			}
			i, j = ie, je
		}
	}
	return runs, votes
}

// densest finds the window of the given width over the sorted votes that
// holds the most weight, [lo, hi), and the weight of the best window
// clear of it.
func densest(v []pair, width int64) (lo, hi int, best, second float64) {
	n := len(v)
	sum := make([]float64, n+1)
	for i, p := range v {
		sum[i+1] = sum[i] + p.w
	}
	ends := make([]int, n)
	for i, j := 0, 0; i < n; i++ {
		for j < n && v[j].d()-v[i].d() <= width {
			j++
		}
		ends[i] = j
		if w := sum[j] - sum[i]; w > best {
			lo, hi, best = i, j, w
		}
	}
	if n == 0 {
		return 0, 0, 0, 0
	}
	from, to := v[lo].d()-width, v[hi-1].d()+width
	for i := range n {
		if v[ends[i]-1].d() < from || v[i].d() > to {
			second = max(second, sum[ends[i]]-sum[i])
		}
	}
	return lo, hi, best, second
}

// secondAt is the offset of the best window clear of [lo, hi).
func secondAt(v []pair, lo, hi int, width int64) int64 {
	from, to := v[lo].d()-width, v[hi-1].d()+width
	var at int64
	best := -1.0
	for i := range v {
		j := i
		var w float64
		for j < len(v) && v[j].d()-v[i].d() <= width {
			w += v[j].w
			j++
		}
		if (v[j-1].d() < from || v[i].d() > to) && w > best {
			best, at = w, v[i].d()
		}
	}
	return at
}

// fmtDuration says a long duration for people: "5.6 days", "3.2 h".
func fmtDuration(ns float64) string {
	d := time.Duration(ns)
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%.1f days", d.Hours()/24)
	case d >= 2*time.Hour:
		return fmt.Sprintf("%.1f h", d.Hours())
	}
	return d.Round(time.Millisecond).String()
}

func fmtOffset(ns int64) string {
	return fmt.Sprintf("%+.3f s", float64(ns)/1e9)
}

// matchRuns pairs each occurrence with the other capture's occurrence of
// the same key where the model puts it, within tol, when no other
// occurrence of the key is near enough to be confused with it.
func matchRuns(runs []keyRun, m model, tol int64) []pair {
	var ps []pair
	for _, run := range runs {
		xs, rs := run.xs, run.rs
		for i, o := range xs {
			if i > 0 && o.t-xs[i-1].t <= 2*tol || i+1 < len(xs) && xs[i+1].t-o.t <= 2*tol {
				continue // a burst of identical frames: which is which is a guess
			}
			p := m.apply(o.t)
			k := sort.Search(len(rs), func(i int) bool { return rs[i].t >= p })
			near, nearD, secondD := -1, int64(math.MaxInt64), int64(math.MaxInt64)
			for _, c := range []int{k - 2, k - 1, k, k + 1} {
				if c < 0 || c >= len(rs) {
					continue
				}
				d := abs(rs[c].t - p)
				switch {
				case d < nearD:
					secondD, near, nearD = nearD, c, d
				case d < secondD:
					secondD = d
				}
			}
			if near >= 0 && nearD <= tol && secondD > 2*tol {
				ps = append(ps, pair{o.t, rs[near].t, 1})
			}
		}
	}
	return ps
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// linedUp says what share of one capture's frames seen all over a segment
// (multicast and broadcast), among those the estimate puts within the
// other capture's span, the other has a copy of within tol: from x's side
// and from r's. Each distinct frame counts once (a key repeated counts the
// share of its occurrences that line up), so that a burst the network lost
// weighs as one frame. Captures of one segment at one time share most of
// them (the one that sees less, at least, finds its frames in the other);
// an alignment on a few coincidences (the same adverts, restarted with the
// same identification, on another day) leaves most alone.
func linedUp(runs []keyRun, m model, tol int64, x, r *scan) (fx, fr float64) {
	inv := m.inverse()
	var lx, lr float64 // distinct frames lined up
	for _, run := range runs {
		if run.class == unicast {
			continue
		}
		lx += lineShare(run.xs, run.rs, m, tol, r)
		lr += lineShare(run.rs, run.xs, inv, tol, x)
	}
	nx, nr := distinctWithin(x, r, m, tol), distinctWithin(r, x, inv, tol)
	if nx == 0 && nr == 0 {
		return 1, 1 // nothing to judge by: unicast frames alone
	}
	share := func(l float64, n int) float64 {
		if n == 0 {
			return 0
		}
		return l / float64(n)
	}
	return share(lx, nx), share(lr, nr)
}

// lineShare is the share of a key's occurrences in a, among those m puts
// within b's span, that have a copy in bs within tol.
func lineShare(as, bs []occurrence, m model, tol int64, b *scan) float64 {
	var n, l int
	for _, o := range as {
		if p := m.apply(o.t); p >= b.first-tol && p <= b.last+tol {
			n++
			if nearest(bs, p) <= tol {
				l++
			}
		}
	}
	if n == 0 {
		return 0
	}
	return float64(l) / float64(n)
}

// distinctWithin counts a's distinct multicast and broadcast frames (kept
// at both samples' levels) that m puts within b's span.
func distinctWithin(a, b *scan, m model, tol int64) int {
	n := 0
	for c := preferred; c < unicast; c++ {
		level := max(a.samples[c].level, b.samples[c].level)
		occ := a.samples[c].occ
		for i := 0; i < len(occ); {
			j, in := i, false
			for ; j < len(occ) && occ[j].key == occ[i].key; j++ {
				if p := m.apply(occ[j].t); p >= b.first-tol && p <= b.last+tol {
					in = true
				}
			}
			if in && keptAt(occ[i].key, level) {
				n++
			}
			i = j
		}
	}
	return n
}

// nearest is the distance from t to the closest of the sorted occurrences.
func nearest(occ []occurrence, t int64) int64 {
	k := sort.Search(len(occ), func(i int) bool { return occ[i].t >= t })
	d := int64(math.MaxInt64)
	if k < len(occ) {
		d = occ[k].t - t
	}
	if k > 0 {
		d = min(d, t-occ[k-1].t)
	}
	return d
}

// estimate fits the model to matched frames: a robust offset (median), and
// a drift (a robust line, then least squares over the frames near it) when
// they span long enough and the drift moves the clock measurably over
// them. sigma is the robust spread of the residuals (1.4826 × MAD), in
// nanoseconds.
func estimate(ps []pair, anchor int64) (model, float64) {
	m := model{anchor: anchor, offset: median(diffs(ps, model{anchor: anchor}))}
	sigma := madSigma(ps, m)
	m.offset = mean(within(ps, m, max(3*sigma, float64(minTolerance)/4)), m)
	if len(ps) < minDriftPoints {
		return m, madSigma(ps, m)
	}
	first, last := ps[0].x, ps[0].x
	for _, p := range ps {
		first, last = min(first, p.x), max(last, p.x)
	}
	if last-first < int64(minDriftSpan) {
		return m, madSigma(ps, m)
	}
	line := theilSen(ps, anchor)
	ls, se, ok := leastSquares(within(ps, line, max(3*madSigma(ps, line), float64(minTolerance)/4)), anchor)
	if !ok {
		return m, madSigma(ps, m)
	}
	effect := math.Abs(ls.drift) * float64(last-first)
	if effect < float64(minDriftEffect) || math.Abs(ls.drift) < 4*se {
		return m, madSigma(ps, m)
	}
	return ls, madSigma(ps, ls)
}

// diffs are the residuals of the pairs under m.
func diffs(ps []pair, m model) []float64 {
	out := make([]float64, len(ps))
	for i, p := range ps {
		out[i] = float64(p.r - m.apply(p.x))
	}
	return out
}

func absResiduals(ps []pair, m model) []float64 {
	out := diffs(ps, m)
	for i := range out {
		out[i] = math.Abs(out[i])
	}
	return out
}

// within keeps the pairs whose residual under m is at most lim.
func within(ps []pair, m model, lim float64) []pair {
	var out []pair
	for _, p := range ps {
		if math.Abs(float64(p.r-m.apply(p.x))) <= lim {
			out = append(out, p)
		}
	}
	return out
}

// mean moves m's offset by the mean residual of ps.
func mean(ps []pair, m model) float64 {
	if len(ps) == 0 {
		return m.offset
	}
	var s float64
	for _, v := range diffs(ps, m) {
		s += v
	}
	return m.offset + s/float64(len(ps))
}

func madSigma(ps []pair, m model) float64 {
	res := absResiduals(ps, m)
	med := median(diffs(ps, m))
	for i, p := range ps {
		res[i] = math.Abs(float64(p.r-m.apply(p.x)) - med)
	}
	return 1.4826 * median(res)
}

func median(v []float64) float64 {
	return percentile(v, 0.5)
}

// percentile of v (reordered), by the nearest rank.
func percentile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	if q == 0.5 && len(v)%2 == 0 {
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	i := int(math.Ceil(q*float64(len(v)))) - 1
	return v[min(max(i, 0), len(v)-1)]
}

// theilSen fits d = offset + drift·(x − anchor) by the median of the
// slopes between pairs of points (at most lineFitPoints of them, spread
// over time), robust to a good share of wrong matches.
func theilSen(ps []pair, anchor int64) model {
	pts := slices.Clone(ps)
	slices.SortFunc(pts, func(a, b pair) int { return cmpInt(a.x, b.x) })
	if n := len(pts); n > lineFitPoints {
		thin := make([]pair, lineFitPoints)
		for i := range thin {
			thin[i] = pts[i*(n-1)/(lineFitPoints-1)]
		}
		pts = thin
	}
	var slopes []float64
	for i := range pts {
		for j := i + 1; j < len(pts); j++ {
			if dx := pts[j].x - pts[i].x; dx > int64(time.Second) {
				slopes = append(slopes, float64(pts[j].d()-pts[i].d())/float64(dx))
			}
		}
	}
	m := model{anchor: anchor}
	if len(slopes) > 0 {
		m.drift = median(slopes)
	}
	m.offset = median(diffs(ps, m))
	return m
}

// leastSquares fits d = offset + drift·(x − anchor) and gives the drift's
// standard error.
func leastSquares(ps []pair, anchor int64) (m model, se float64, ok bool) {
	n := float64(len(ps))
	if len(ps) < minDriftPoints {
		return m, 0, false
	}
	var sx, sy float64
	for _, p := range ps {
		sx += float64(p.x - anchor)
		sy += float64(p.d())
	}
	mx, my := sx/n, sy/n
	var sxx, sxy float64
	for _, p := range ps {
		dx, dy := float64(p.x-anchor)-mx, float64(p.d())-my
		sxx += dx * dx
		sxy += dx * dy
	}
	if sxx == 0 {
		return m, 0, false
	}
	b := sxy / sxx
	m = model{anchor: anchor, drift: b, offset: my - b*mx}
	var ss float64
	for _, v := range diffs(ps, m) {
		ss += v * v
	}
	se = math.Sqrt(ss/math.Max(n-2, 1)) / math.Sqrt(sxx)
	return m, se, true
}
