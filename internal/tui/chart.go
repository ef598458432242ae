package tui

import (
	"fmt"
	"math"
	"strings"

	"charm.land/lipgloss/v2"
)

// cell kinds of the chart grid, each drawn in its own style.
const (
	cellEmpty = iota
	cellLine
	cellMarker
)

// chart draws vals (NaN = no value) as a line in width×height cells, left
// to right, with a y axis of labels on the left and a vertical dotted line
// in every column of marks. It returns height rows and an x axis row on
// which each mark shows as ▲, so a drift stays visible without colour.
func chart(st styles, vals []float64, marks []int, width, height int) []string {
	const gutter = 8 // "0.9123 ┤"
	w := width - gutter
	if w < 2 || height < 2 {
		return nil
	}
	if len(vals) > w {
		cut := len(vals) - w
		vals = vals[cut:]
		shifted := make([]int, 0, len(marks))
		for _, x := range marks {
			if x-cut >= 0 {
				shifted = append(shifted, x-cut)
			}
		}
		marks = shifted
	}

	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range vals {
		if !math.IsNaN(v) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	empty := math.IsInf(lo, 1)
	if empty {
		lo, hi = 0, 1
	}
	if hi-lo < 1e-9 {
		pad := math.Max(math.Abs(hi)*0.01, 0.01)
		lo, hi = lo-pad, hi+pad
	}
	row := func(v float64) int { // 0 is the bottom row
		return int(math.Round((v - lo) / (hi - lo) * float64(height-1)))
	}

	runes := make([][]rune, height)
	kinds := make([][]int, height)
	for y := range runes {
		runes[y] = []rune(strings.Repeat(" ", w))
		kinds[y] = make([]int, w)
	}
	set := func(x, r int, c rune) {
		y := height - 1 - r
		runes[y][x], kinds[y][x] = c, cellLine
	}
	prev := -1
	for x, v := range vals {
		if math.IsNaN(v) {
			prev = -1
			continue
		}
		r := row(v)
		switch {
		case prev < 0 || prev == r:
			set(x, r, '─')
		case r > prev:
			set(x, prev, '╯')
			for k := prev + 1; k < r; k++ {
				set(x, k, '│')
			}
			set(x, r, '╭')
		default:
			set(x, prev, '╮')
			for k := r + 1; k < prev; k++ {
				set(x, k, '│')
			}
			set(x, r, '╰')
		}
		prev = r
	}
	axis := []rune(strings.Repeat("─", w))
	marked := make([]bool, w)
	for _, x := range marks {
		if x < 0 || x >= w {
			continue
		}
		marked[x] = true
		axis[x] = '▲'
		for y := range runes {
			if kinds[y][x] == cellEmpty {
				runes[y][x], kinds[y][x] = '┊', cellMarker
			}
		}
	}

	// A label about every five rows, always on the top and bottom ones.
	labels := make([]string, height)
	if !empty {
		n := max(2, min(6, height/5+1))
		for i := range n {
			y := int(math.Round(float64(i*(height-1)) / float64(n-1)))
			labels[y] = formatAxis(hi - (hi-lo)*float64(y)/float64(height-1))
		}
	}
	out := make([]string, 0, height+1)
	for y := range runes {
		tick := "│"
		if labels[y] != "" {
			tick = "┤"
		}
		var b strings.Builder
		b.WriteString(st.label.Render(fmt.Sprintf("%*s %s", gutter-2, labels[y], tick)))
		b.WriteString(renderRuns(st, runes[y], kinds[y]))
		out = append(out, b.String())
	}
	var b strings.Builder
	b.WriteString(st.label.Render(strings.Repeat(" ", gutter-2) + " └"))
	for x, r := range axis {
		if marked[x] {
			b.WriteString(st.marker.Render(string(r)))
		} else {
			b.WriteString(st.label.Render(string(r)))
		}
	}
	out = append(out, b.String())
	return out
}

// renderRuns styles a row run by run, so each style is opened once.
func renderRuns(st styles, rs []rune, kinds []int) string {
	var b strings.Builder
	for i := 0; i < len(rs); {
		j := i
		for j < len(rs) && kinds[j] == kinds[i] {
			j++
		}
		s := string(rs[i:j])
		switch kinds[i] {
		case cellLine:
			s = st.line.Render(s)
		case cellMarker:
			s = st.marker.Render(s)
		}
		b.WriteString(s)
		i = j
	}
	return b.String()
}

// formatAxis fits a value in six cells.
func formatAxis(v float64) string {
	a := math.Abs(v)
	switch {
	case a < 10:
		return fmt.Sprintf("%.4f", v)
	case a < 1000:
		return fmt.Sprintf("%.1f", v)
	case a < 1e6:
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.0e", v)
}

// sparkline draws the last width values as bars scaled to their maximum.
func sparkline(vals []float64, width int) string {
	const bars = "▁▂▃▄▅▆▇█"
	levels := []rune(bars)
	if width <= 0 {
		return ""
	}
	if len(vals) > width {
		vals = vals[len(vals)-width:]
	}
	top := 0.0
	for _, v := range vals {
		top = math.Max(top, v)
	}
	var b strings.Builder
	for i := len(vals); i < width; i++ {
		b.WriteRune(' ')
	}
	for _, v := range vals {
		k := 0
		if top > 0 && v > 0 {
			k = int(math.Round(v / top * float64(len(levels)-1)))
		}
		b.WriteRune(levels[k])
	}
	return b.String()
}

// pad cuts or fills s (which may hold styles) to exactly w cells.
func pad(s string, w int) string {
	n := lipgloss.Width(s)
	if n > w {
		return truncate(s, w)
	}
	return s + strings.Repeat(" ", w-n)
}
