package tui

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/olops/olops/internal/api"
)

// render draws the screen: exactly m.height lines of m.width cells.
func (m Model) render() string {
	w, h := m.width, m.height
	if w <= 0 || h <= 0 {
		return ""
	}
	t := m.targets[m.active]

	// header, connection, chart title, chart axis, footer; the
	// challenger's line while one runs
	fixed := 5
	if t.challenger != nil {
		fixed++
	}
	rest := h - fixed
	const minChart = 3
	// The panes take the rows they need, up to 2/5 of the screen; the
	// chart gets the rest.
	bottomH := min(m.bottomNeeds(t), max(9, rest*2/5), rest-minChart)
	if bottomH < 3 {
		bottomH = 0
	}
	chartH := rest - bottomH

	lines := make([]string, 0, h)
	lines = append(lines, m.header(t), m.connLine(t), m.chartTitle(t))
	if t.challenger != nil {
		lines = append(lines, m.challengerLine(t, w))
	}
	if chartH >= 2 {
		vals := make([]float64, len(t.points))
		for i, p := range t.points {
			vals[i] = p.value
		}
		first := t.seq - len(t.points)
		marks := make([]int, 0, len(t.markers))
		for _, x := range t.markers {
			marks = append(marks, x-first)
		}
		lines = append(lines, chart(m.st, vals, marks, w, chartH)...)
	}
	if bottomH > 0 {
		lines = append(lines, m.bottom(t, w, bottomH)...)
	}
	for len(lines) < h-1 {
		lines = append(lines, "")
	}
	lines = append(lines[:h-1], m.footer(t))
	for i := range lines {
		lines[i] = pad(lines[i], w)
	}
	return strings.Join(lines, "\n")
}

func (m Model) header(t *target) string {
	st := m.st
	sep := st.label.Render(" · ")
	parts := []string{st.title.Render(t.title())}
	if md := t.model; md != nil {
		parts = append(parts, md.Task, st.value.Render("v"+strconv.Itoa(md.Version)))
	}
	parts = append(parts, m.status(t))
	if md := t.model; md != nil && !md.StartedAt.IsZero() && !t.now.IsZero() {
		parts = append(parts, "up "+duration(t.now.Sub(md.StartedAt)))
	}
	if t.metrics != nil {
		parts = append(parts, st.value.Render(thousands(t.metrics.Counters.Learns))+" learned")
	} else if t.model != nil {
		parts = append(parts, st.value.Render(thousands(t.model.Counters.Learns))+" learned")
	}
	s := strings.Join(parts, sep)
	if len(m.targets) > 1 {
		tag := st.label.Render(fmt.Sprintf("[%d/%d] ", m.active+1, len(m.targets)))
		s = tag + s
	}
	return s
}

// title names the target: the model's own name once it is known, with
// the context's name when that differs.
func (t *target) title() string {
	md := t.model
	switch {
	case md == nil || md.Name == "" || md.Name == t.Name:
		return t.Name
	case t.Name == t.URL || strings.Contains(t.Name, "://"):
		return md.Name
	}
	return t.Name + " (" + md.Name + ")"
}

// status is learning, paused or down.
func (m Model) status(t *target) string {
	switch {
	case t.conn == Lost:
		return m.st.bad.Render("✖ down")
	case t.conn == Connecting:
		return m.st.warn.Render("… connecting")
	case t.model == nil:
		return m.st.warn.Render("… waiting")
	case t.model.Learning:
		return m.st.good.Render("● learning")
	}
	return m.st.warn.Render("‖ paused")
}

func (m Model) connLine(t *target) string {
	st := m.st
	var s string
	switch t.conn {
	case Connecting:
		s = st.warn.Render("connecting to " + t.URL + "…")
	case Live:
		s = st.good.Render("live") + st.label.Render(" · events from "+t.URL)
	case Polling:
		s = st.warn.Render("polling") + st.label.Render(" · "+t.URL+" has no event stream")
	case Lost:
		s = st.bad.Render("connection lost") + " · " + st.warn.Render(fmt.Sprintf("reconnecting… (attempt %d, next in %s)", t.attempt, duration(t.retry)))
		if !t.lostAt.IsZero() && t.now.After(t.lostAt) {
			s += st.label.Render(" · down for " + duration(t.now.Sub(t.lostAt)))
		}
		if t.connErr != "" {
			s += st.label.Render(" · " + t.connErr)
		}
	}
	if t.recovers > 0 && t.conn != Lost {
		s += st.label.Render(fmt.Sprintf(" · reconnected %d×", t.recovers))
	}
	if m.flash != "" && (m.flashUntil.IsZero() || t.now.Before(m.flashUntil)) {
		f := st.good
		if m.flashBad {
			f = st.bad
		}
		s = f.Render(m.flash) + st.label.Render("  │  ") + s
	}
	return s
}

func (m Model) chartTitle(t *target) string {
	st := m.st
	name := t.metric
	if name == "" {
		name = "metric"
	}
	s := st.heading.Render("rolling " + name)
	if t.metrics == nil || t.metric == "" || t.metrics.Counters.Learns == 0 {
		return s + st.label.Render(" · waiting for learn events…")
	}
	if v, ok := t.metrics.Rolling[t.metric]; ok {
		s += " " + st.value.Render(number(v))
	}
	if v, ok := t.metrics.Overall[t.metric]; ok {
		s += st.label.Render(" · overall ") + st.value.Render(number(v))
	}
	if t.metrics.Window > 0 {
		s += st.label.Render(" · window " + thousands(uint64(t.metrics.Window)))
	}
	if n := len(t.markers); n > 0 {
		s += st.label.Render(" · ") + st.marker.Render(fmt.Sprintf("▲ %d drift", n)) + st.label.Render(plural(n)+" marked")
	}
	return s
}

// challengerLine is the running challenger beside the champion: events
// learned, and the metric the server compares them by, over those same
// events (not the champion's overall above), with the margin.
func (m Model) challengerLine(t *target, w int) string {
	st := m.st
	c := t.challenger
	s := st.heading.Render("challenger ") + st.value.Render(c.Model) + st.label.Render(" · ") +
		st.value.Render(thousands(c.Learns)) + st.label.Render(" events")
	mine, ok1 := c.Challenger[c.Metric]
	theirs, ok2 := c.Champion[c.Metric]
	if c.Metric == "" || !ok1 || !ok2 {
		return s + st.label.Render(" · waiting for learn events…")
	}
	margin := number(math.Abs(mine - theirs))
	verdict := st.warn.Render("worse by " + margin)
	switch {
	case mine == theirs:
		verdict = st.label.Render("even")
	case c.Better:
		verdict = st.good.Render("better by " + margin)
	}
	line := func(vs string) string {
		return s + st.label.Render(" · "+c.Metric+" ") + st.value.Render(number(mine)) +
			st.label.Render(vs) + st.value.Render(number(theirs)) + st.label.Render(" · ") + verdict
	}
	// Narrow screens drop the word champion rather than the margin.
	if full := line(" vs champion "); ansi.StringWidth(full) <= w {
		return full
	}
	return line(" vs ")
}

// bottomNeeds is how many rows the panes under the chart can fill.
func (m Model) bottomNeeds(t *target) int {
	if m.showHelp {
		return len(m.helpPane(t, m.width, 100))
	}
	if m.listing {
		return max(1+len(m.targets), 9)
	}
	left := 5 + 1
	if t.metrics != nil {
		left = 5 + len(metricNames(t.metrics, t.metric))
	}
	right := 2 + max(len(t.drifts), 1) + max(len(t.versions), 1)
	return max(left, right, 9)
}

// bottom is the two panes under the chart (or the help), h lines.
func (m Model) bottom(t *target, w, h int) []string {
	if m.showHelp {
		return m.helpPane(t, w, h)
	}
	if m.listing {
		return m.listPane(w, h)
	}
	lw := (w - 1) / 2
	rw := w - lw - 1
	left := m.leftPane(t, lw, h)
	var right []string
	if m.picking {
		right = m.pickerPane(t, rw, h)
	} else {
		right = m.rightPane(t, rw, h)
	}
	out := make([]string, h)
	for i := range out {
		var l, r string
		if i < len(left) {
			l = left[i]
		}
		if i < len(right) {
			r = right[i]
		}
		out[i] = pad(l, lw) + " " + pad(r, rw)
	}
	return out
}

func (m Model) leftPane(t *target, w, h int) []string {
	st := m.st
	const labelW, valueW = 10, 10
	sw := max(w-labelW-valueW-1, 1)
	out := []string{st.heading.Render("throughput")}
	var pr, lr float64
	if t.metrics != nil {
		pr, lr = t.metrics.Rates.Predictions, t.metrics.Rates.Learns
	}
	out = append(out,
		pad(st.label.Render("predict/s"), labelW)+st.spark.Render(sparkline(t.preds, sw))+" "+fmt.Sprintf("%*s", valueW, rate(pr)),
		pad(st.label.Render("learn/s"), labelW)+st.spark.Render(sparkline(t.learns, sw))+" "+fmt.Sprintf("%*s", valueW, rate(lr)),
	)
	lat := st.label.Render("—")
	// Both zero: the server has timed no request (a replay only streams).
	if t.metrics != nil && (t.metrics.LatencyMs.P50 > 0 || t.metrics.LatencyMs.P99 > 0) {
		l := t.metrics.LatencyMs
		lat = st.label.Render("p50 ") + st.value.Render(ms(l.P50)) + st.label.Render("  p99 ") + st.value.Render(ms(l.P99))
	}
	out = append(out, pad(st.label.Render("latency"), labelW)+lat)

	const colW = 10
	nameW := max(w-2*colW, 8)
	out = append(out, st.heading.Render(pad("metric", nameW)+fmt.Sprintf("%*s%*s", colW, "overall", colW, "rolling")))
	if t.metrics == nil {
		return append(out, st.label.Render("no metrics yet"))
	}
	for _, name := range metricNames(t.metrics, t.metric) {
		if len(out) >= h {
			break
		}
		row := pad(name, nameW) + fmt.Sprintf("%*s%*s", colW, cell(t.metrics.Overall, name), colW, cell(t.metrics.Rolling, name))
		if name == t.metric {
			row = st.value.Render(row)
		}
		out = append(out, row)
	}
	return out
}

func (m Model) rightPane(t *target, w, h int) []string {
	st := m.st
	head := fmt.Sprintf("drift events (%d)", len(t.drifts))
	out := []string{st.heading.Render(head) + st.label.Render(detectorNote(t))}
	// drifts get half of the rows, versions the rest
	nd := max((h-2)/2, 1)
	if len(t.drifts) == 0 {
		out = append(out, st.label.Render("none detected"))
	}
	for i := len(t.drifts) - 1; i >= 0 && len(out) < 1+nd; i-- {
		d := t.drifts[i]
		s := st.marker.Render(fmt.Sprintf("▲ #%d", i+1)) + " " + "event " + thousands(d.Index) + st.label.Render(" "+clock(d.Time))
		if d.Metric != "" {
			s += st.label.Render(" "+d.Metric+" ") + number(d.Before) + "→" + number(d.After)
		}
		out = append(out, s)
	}
	out = append(out, st.heading.Render(fmt.Sprintf("versions (%d)", len(t.versions))))
	if len(t.versions) == 0 {
		out = append(out, st.label.Render("none saved"))
	}
	for _, v := range t.versions {
		if len(out) >= h {
			break
		}
		out = append(out, m.versionRow(v))
	}
	return out
}

func detectorNote(t *target) string {
	switch {
	case t.detector != "" && t.watches != "":
		return " · " + t.detector + " on " + t.watches
	case t.detector != "":
		return " · " + t.detector
	}
	return ""
}

func (m Model) versionRow(v api.Version) string {
	st := m.st
	s := st.value.Render(fmt.Sprintf("v%-3d", v.Version))
	if v.Current {
		s += st.good.Render("current")
	} else {
		s += "       "
	}
	s += " " + thousands(v.Learns) + " learns" + st.label.Render(" "+clock(v.Created))
	if v.Note != "" {
		s += st.label.Render(" " + v.Note)
	}
	return s
}

func (m Model) pickerPane(t *target, w, h int) []string {
	st := m.st
	out := []string{st.prompt.Render("roll back " + t.title() + " to which version?")}
	// keep the picked row in view
	room := h - 1
	start := 0
	if m.pick >= room {
		start = m.pick - room + 1
	}
	for i := start; i < len(t.versions) && len(out) < h; i++ {
		v := t.versions[i]
		row := m.versionRow(v)
		if i == m.pick {
			row = st.selected.Render("› " + ansi.Strip(row))
		} else {
			row = "  " + row
		}
		out = append(out, row)
	}
	return out
}

// listPane is the list of models to pick from (l), full width.
func (m Model) listPane(w, h int) []string {
	st := m.st
	out := []string{st.prompt.Render(fmt.Sprintf("show which model? (%d)", len(m.targets)))}
	nameW := 8
	for _, t := range m.targets {
		nameW = max(nameW, ansi.StringWidth(t.title()))
	}
	nameW = min(nameW, max(w/3, 8))
	// keep the selected row in view
	room := h - 1
	start := 0
	if m.sel >= room {
		start = m.sel - room + 1
	}
	for i := start; i < len(m.targets) && len(out) < h; i++ {
		row := m.listRow(i, nameW)
		if i == m.sel {
			row = st.selected.Render("› " + ansi.Strip(row))
		} else {
			row = "  " + row
		}
		out = append(out, row)
	}
	return out
}

// listRow is one model of the list: number, name, status, version and
// rolling metric.
func (m Model) listRow(i, nameW int) string {
	st := m.st
	t := m.targets[i]
	var status string
	switch t.conn {
	case Live, Polling:
		status = st.good.Render(pad("● live", 14))
	case Lost:
		status = st.bad.Render(pad("✖ down", 14))
	default:
		status = st.warn.Render(pad("… connecting", 14))
	}
	version := "—"
	if t.model != nil {
		version = "v" + strconv.Itoa(t.model.Version)
	}
	metric := st.label.Render("no metric yet")
	if t.metrics != nil && t.metric != "" && t.metrics.Counters.Learns > 0 {
		if v, ok := t.metrics.Rolling[t.metric]; ok {
			metric = st.label.Render("rolling "+t.metric+" ") + st.value.Render(number(v))
		}
	}
	name := truncate(t.title(), nameW)
	if i == m.active {
		name = st.title.Render(name)
	}
	return st.label.Render(fmt.Sprintf("%2d ", i+1)) + pad(name, nameW) + "  " + status + st.value.Render(pad(version, 6)) + metric
}

func (m Model) helpPane(t *target, w, h int) []string {
	st := m.st
	out := []string{st.heading.Render("help") + st.label.Render(" · ? or esc closes")}
	out = append(out, strings.Split(m.help.FullHelpView(m.keys.FullHelp()), "\n")...)
	out = append(out, "",
		st.label.Render("chart: the rolling metric, one column per metrics tick (about 1 s);"),
		st.label.Render("▲ and ┊ mark a detected drift. Status: learning, paused or down."),
		st.label.Render("r opens a version list; nothing is rolled back until you press y."),
	)
	if len(out) > h {
		out = out[:h]
	}
	return out
}

func (m Model) footer(t *target) string {
	if m.picking && m.pick >= 0 && m.pick < len(t.versions) {
		q := fmt.Sprintf("roll back %s to v%d? ", t.title(), t.versions[m.pick].Version)
		return m.st.prompt.Render(q) + m.help.ShortHelpView(m.keys.pickerHelp())
	}
	if m.listing {
		return m.st.prompt.Render("show which model? ") + m.help.ShortHelpView(m.keys.listHelp())
	}
	if len(m.targets) > 1 {
		return m.help.ShortHelpView(m.keys.multiHelp())
	}
	return m.help.ShortHelpView(m.keys.ShortHelp())
}

// metricNames lists every metric, the charted one first, then by name.
func metricNames(mt *api.Metrics, first string) []string {
	seen := map[string]bool{}
	var names []string
	for _, set := range []map[string]float64{mt.Overall, mt.Rolling} {
		for n := range set {
			if !seen[n] && n != first {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	sort.Strings(names)
	if first != "" {
		names = append([]string{first}, names...)
	}
	return names
}

func cell(vals map[string]float64, name string) string {
	v, ok := vals[name]
	if !ok {
		return "—"
	}
	return number(v)
}

func number(v float64) string {
	switch {
	case math.IsNaN(v):
		return "—"
	case math.Abs(v) < 10:
		return fmt.Sprintf("%.4f", v)
	case math.Abs(v) < 1e5:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.3g", v)
}

func rate(v float64) string {
	if v >= 100 || v == 0 {
		return thousands(uint64(math.Round(v)))
	}
	return fmt.Sprintf("%.1f", v)
}

func ms(v float64) string {
	if v < 10 {
		return fmt.Sprintf("%.2f ms", v)
	}
	return fmt.Sprintf("%.0f ms", v)
}

func thousands(n uint64) string {
	s := strconv.FormatUint(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func clock(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format("15:04:05")
}

// duration is a short human duration: 42s, 4m02s, 3h07m, 2d05h.
func duration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d.Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	case s < 86400:
		return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
	}
	return fmt.Sprintf("%dd%02dh", s/86400, s%86400/3600)
}

func truncate(s string, w int) string { return ansi.Truncate(s, w, "") }
