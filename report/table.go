package report

import (
	"strings"
)

// column describes one table column.
type column struct {
	head  string // "\n" starts a second header line (a unit, say)
	right bool   // right-aligned (numbers)
	wrap  bool   // may wrap at spaces when the table is too wide
}

// cell is one table cell: plain text and how to paint it.
type cell struct {
	text  string
	paint paint
}

// table lays out rows in aligned columns that fit a width. When even the
// narrowest layout does not fit, each row becomes a block of "HEAD value"
// lines instead, so nothing runs off the screen.
type table struct {
	cols []column
	rows [][]cell
}

const colGap = 2

func (t *table) add(cells ...cell) { t.rows = append(t.rows, cells) }

// lines renders the table indented by indent, fitting width.
func (t *table) lines(st styles, indent, width int) []string {
	nat, minw := t.widths()
	ws, ok := t.fit(nat, minw, indent, width)
	if !ok {
		return t.stacked(st, indent, width)
	}
	pad := strings.Repeat(" ", indent)
	head := make([]cell, len(t.cols))
	for i, c := range t.cols {
		head[i] = cell{c.head, st.head}
	}
	out := t.rowLines(head, true, ws, pad)
	for _, row := range t.rows {
		out = append(out, t.rowLines(row, false, ws, pad)...)
	}
	return out
}

// widths returns each column's natural width (its widest cell or header
// line) and its least width (its widest word where it may wrap).
func (t *table) widths() (nat, minw []int) {
	n := len(t.cols)
	nat, minw = make([]int, n), make([]int, n)
	for i, c := range t.cols {
		for _, l := range strings.Split(c.head, "\n") {
			nat[i] = max(nat[i], textWidth(l))
		}
		minw[i] = nat[i]
	}
	for _, row := range t.rows {
		for i := 0; i < n && i < len(row); i++ {
			w := textWidth(row[i].text)
			nat[i] = max(nat[i], w)
			if !t.cols[i].wrap {
				minw[i] = max(minw[i], w)
				continue
			}
			for _, word := range strings.Split(row[i].text, " ") {
				minw[i] = max(minw[i], textWidth(word))
			}
		}
	}
	return nat, minw
}

// fit narrows wrappable columns from their natural widths until the table
// fits width, one column at a time, choosing the step that adds the fewest
// lines to the table and, among those, frees the most room. ok is false
// when no column can give more and the table still does not fit.
func (t *table) fit(nat, minw []int, indent, width int) (ws []int, ok bool) {
	ws = append([]int(nil), nat...)
	total := func() int {
		s := indent + colGap*(len(ws)-1)
		for _, w := range ws {
			s += w
		}
		return s
	}
	for total() > width {
		best, bestW, bestCost, bestGain := -1, 0, 0, 0
		for i := range ws {
			if !t.cols[i].wrap || ws[i] <= minw[i] {
				continue
			}
			w, cost := t.narrow(i, ws)
			if gain := ws[i] - w; best < 0 || cost < bestCost || cost == bestCost && gain > bestGain {
				best, bestW, bestCost, bestGain = i, w, cost, gain
			}
		}
		if best < 0 {
			return nil, false
		}
		ws[best] = bestW
	}
	return ws, true
}

// rowLines renders one row (the header when head is set: its text splits
// at newlines) in the column widths ws, wrapping the cells that may wrap.
func (t *table) rowLines(row []cell, head bool, ws []int, pad string) []string {
	n := len(t.cols)
	cols := make([][]string, n)
	height := 1
	for i := 0; i < n; i++ {
		text := ""
		if i < len(row) {
			text = row[i].text
		}
		switch {
		case head:
			cols[i] = strings.Split(text, "\n")
		case t.cols[i].wrap && textWidth(text) > ws[i]:
			cols[i] = wrap(text, ws[i])
		default:
			cols[i] = []string{strings.ReplaceAll(text, nbsp, " ")}
		}
		height = max(height, len(cols[i]))
	}
	out := make([]string, 0, height)
	for l := 0; l < height; l++ {
		var b strings.Builder
		b.WriteString(pad)
		for i := 0; i < n; i++ {
			text := ""
			if l < len(cols[i]) {
				text = cols[i][l]
			}
			p := noPaint
			if i < len(row) && row[i].paint != nil {
				p = row[i].paint
			}
			gap := max(ws[i]-textWidth(text), 0)
			if i > 0 {
				b.WriteString(strings.Repeat(" ", colGap))
			}
			switch {
			case t.cols[i].right:
				b.WriteString(strings.Repeat(" ", gap) + p(text))
			case i < n-1:
				b.WriteString(p(text) + strings.Repeat(" ", gap))
			default:
				b.WriteString(p(text))
			}
		}
		out = append(out, strings.TrimRight(b.String(), " "))
	}
	return out
}

// stacked renders each row as a block of "HEAD  value" lines.
func (t *table) stacked(st styles, indent, width int) []string {
	heads := make([]string, len(t.cols))
	hw := 0
	for i, c := range t.cols {
		heads[i] = strings.ReplaceAll(c.head, "\n", " ")
		hw = max(hw, textWidth(heads[i]))
	}
	pad := strings.Repeat(" ", indent)
	valueWidth := max(width-indent-hw-colGap, 10)
	var out []string
	for ri, row := range t.rows {
		if ri > 0 {
			out = append(out, "")
		}
		for i := range t.cols {
			if i >= len(row) || row[i].text == "" {
				continue
			}
			p := noPaint
			if row[i].paint != nil {
				p = row[i].paint
			}
			label := heads[i] + strings.Repeat(" ", hw-textWidth(heads[i])+colGap)
			for li, l := range wrap(row[i].text, valueWidth) {
				if li == 0 {
					out = append(out, pad+st.head(label)+p(l))
				} else {
					out = append(out, pad+strings.Repeat(" ", hw+colGap)+p(l))
				}
			}
		}
	}
	return out
}

// narrow returns the width column i takes when wrapped one cell narrower than
// now, and how many lines that adds to the table.
func (t *table) narrow(i int, ws []int) (int, int) {
	w := 0
	for _, l := range strings.Split(t.cols[i].head, "\n") {
		w = max(w, textWidth(l))
	}
	for _, row := range t.rows {
		if i < len(row) {
			for _, l := range wrap(row[i].text, ws[i]-1) {
				w = max(w, textWidth(l))
			}
		}
	}
	trial := append([]int(nil), ws...)
	trial[i] = w
	return w, t.height(trial) - t.height(ws)
}

// height is the number of lines the rows take at the column widths ws.
func (t *table) height(ws []int) int {
	h := 0
	for _, row := range t.rows {
		rh := 1
		for i, c := range row {
			if i < len(ws) && t.cols[i].wrap && textWidth(c.text) > ws[i] {
				rh = max(rh, len(wrap(c.text, ws[i])))
			}
		}
		h += rh
	}
	return h
}
