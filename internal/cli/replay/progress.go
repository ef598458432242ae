package replay

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/olops/olops/internal/cli/cmdutil"
	"github.com/olops/olops/internal/cli/ui"
	"github.com/olops/olops/internal/learn"
)

// progress reports a replay as it goes: a bar redrawn in place on a
// terminal, a plain line every few seconds elsewhere, nothing when quiet.
type progress struct {
	w      io.Writer
	tty    bool
	quiet  bool
	total  int // rows expected, 0 when unknown
	every  time.Duration
	styles ui.Styles
	start  time.Time
	last   time.Time
	drawn  bool
}

func newProgress(f *cmdutil.Factory, o *options) *progress {
	p := &progress{w: f.IO.ErrOut, tty: f.IO.TTY, quiet: f.IO.Quiet, every: o.progressEvery, styles: ui.StylesFor(f.IO), start: time.Now()}
	if o.synth != "" {
		p.total = o.rows
	}
	if o.limit > 0 && (p.total == 0 || o.limit < p.total) {
		p.total = o.limit
	}
	if p.tty {
		p.every = min(p.every, 100*time.Millisecond) // a bar redraws often
	}
	p.last = p.start
	return p
}

// update is called after each row; it draws at most every p.every.
func (p *progress) update(res *Result, sc *scorer) {
	if p.quiet || res.Rows&15 != 0 {
		return
	}
	now := time.Now()
	if now.Sub(p.last) < p.every {
		return
	}
	p.last = now
	p.draw(res, sc, now)
}

func (p *progress) draw(res *Result, sc *scorer, now time.Time) {
	secs := now.Sub(p.start).Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(res.Rows) / secs
	}
	metric, value := runningMetric(sc)
	stats := fmt.Sprintf("%d rows  %s rows/s  %s %s  drifts %d", res.Rows, ui.Rate(rate), metric, value, len(res.Drifts))
	if !p.tty {
		fmt.Fprintf(p.w, "replay: %s\n", stats)
		return
	}
	line := stats
	if p.total > 0 {
		frac := min(1, float64(res.Rows)/float64(p.total))
		const width = 30
		full := int(frac * width)
		bar := p.styles.Bar.Render(strings.Repeat("█", full)) + p.styles.BarRest.Render(strings.Repeat("░", width-full))
		line = fmt.Sprintf("%s %3d%%  %s", bar, int(frac*100), stats)
	}
	// \r and erase-line redraw the bar in place.
	fmt.Fprintf(p.w, "\r\x1b[2K%s", line)
	p.drawn = true
}

// note prints a message without breaking the bar.
func (p *progress) note(format string, a ...any) {
	if p.quiet {
		return
	}
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[2K")
	}
	fmt.Fprintf(p.w, "replay: "+format+"\n", a...)
}

// done clears the bar.
func (p *progress) done() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[2K")
		p.drawn = false
	}
}

// runningMetric is the headline metric: accuracy, or R² for regression.
func runningMetric(sc *scorer) (string, string) {
	name := "accuracy"
	if sc.task == learn.Regression {
		name = "r2"
	}
	v, ok := sc.set.Value(name, false)
	if !ok {
		names := sc.set.Names()
		if len(names) == 0 {
			return "", ""
		}
		name = names[0]
		v, _ = sc.set.Value(name, false)
	}
	return name, ui.Num(v)
}

// table is the human summary: metrics, drifts and throughput.
func table(w io.Writer, res *Result) error {
	rows := make([][]string, 0, len(res.Metrics))
	for _, k := range ui.Keys(res.Metrics) {
		roll := "-"
		if v, ok := res.Rolling[k]; ok {
			roll = ui.Num(v)
		}
		rows = append(rows, []string{k, ui.Num(res.Metrics[k]), roll})
	}
	if err := ui.Table(w, []string{"metric", "overall", "rolling"}, rows); err != nil {
		return err
	}
	fmt.Fprintln(w)
	kv := [][2]string{
		{"server", res.URL},
		{"model", res.Model},
		{"task", res.Task},
		{"rows", strconv.Itoa(res.Rows)},
		{"scored", strconv.Itoa(res.Scored)},
		{"rejected", strconv.Itoa(res.Rejected)},
		{"seconds", strconv.FormatFloat(res.Seconds, 'f', 3, 64)},
		{"rows/s", ui.Rate(res.SamplesPerSecond)},
		{"drifts", strconv.Itoa(len(res.Drifts))},
	}
	if res.Skipped > 0 {
		kv = append(kv, [2]string{"skipped", strconv.Itoa(res.Skipped)})
	}
	if res.Interrupted {
		kv = append(kv, [2]string{"interrupted", "yes (Ctrl-C)"})
	}
	if res.Model == "" {
		kv = slices.Delete(kv, 1, 2)
	}
	if err := ui.KV(w, kv); err != nil {
		return err
	}
	if len(res.Drifts) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	drows := make([][]string, 0, len(res.Drifts))
	for i, at := range res.Drifts {
		// seq is the server's (1-based, as GET /v1/drift reports it); row
		// counts the input rows from 0.
		row := []string{"-", strconv.Itoa(at), "-", "-", "-"}
		if i < len(res.DriftSeqs) && res.DriftSeqs[i] != 0 {
			row[0] = strconv.FormatUint(res.DriftSeqs[i], 10)
		}
		// The server's events, when read, are in the same order.
		if off := len(res.Drifts) - len(res.DriftEvents); i >= off && len(res.DriftEvents) > 0 {
			e := res.DriftEvents[i-off]
			after := "-" // not known until a window of learns later
			if e.AfterIndex != 0 {
				after = ui.Num(e.After)
			}
			row = []string{strconv.FormatUint(e.Index, 10), strconv.Itoa(at), e.Metric, ui.Num(e.Before), after}
		}
		drows = append(drows, row)
	}
	return ui.Table(w, []string{"drift at seq", "input row", "metric", "before", "after"}, drows)
}
