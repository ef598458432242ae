// Package status holds the commands that look at a running model:
// `olops status`, `olops metrics` and `olops drift`.
package status

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/olops/olops/internal/api"
	"github.com/olops/olops/internal/cli/cmdutil"
	"github.com/olops/olops/internal/cli/remote"
	"github.com/olops/olops/internal/cli/ui"
	"github.com/spf13/cobra"
)

// Status is what `olops status` reports.
type Status struct {
	URL       string             `json:"url"`
	Name      string             `json:"name"`
	Task      string             `json:"task"`
	Version   int                `json:"version"`
	State     string             `json:"state"` // learning | paused
	Ready     bool               `json:"ready"`
	StartedAt time.Time          `json:"started_at"`
	Counters  api.Counters       `json:"counters"`
	Overall   map[string]float64 `json:"overall"`
	Rolling   map[string]float64 `json:"rolling"`
	Rates     api.Rates          `json:"rates"`
	LastDrift *api.DriftEvent    `json:"last_drift,omitempty"`
}

// NewCmd returns `olops status`.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	fl := &remote.Flags{Management: true}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the served model: version, health, counters, metrics, last drift",
		Example: `  olops status
  olops status --url http://127.0.0.1:9090 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := fl.Client(f)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			m, err := c.Model(ctx)
			if err != nil {
				return err
			}
			met, err := c.Metrics(ctx)
			if err != nil {
				return err
			}
			dr, err := c.Drift(ctx)
			if err != nil {
				return err
			}
			st := Status{
				URL: c.URL(), Name: m.Name, Task: m.Task, Version: m.Version, State: "paused",
				Ready: c.Readyz(ctx) == nil, StartedAt: m.StartedAt, Counters: met.Counters,
				Overall: met.Overall, Rolling: met.Rolling, Rates: met.Rates,
			}
			if m.Learning {
				st.State = "learning"
			}
			if n := len(dr.Events); n > 0 {
				st.LastDrift = &dr.Events[n-1]
			}
			return cmdutil.Print(f.IO.Out, fl.Output, st, func(w io.Writer) error { return printStatus(w, st, ui.StylesFor(f.IO)) })
		},
	}
	fl.Add(cmd, true)
	return cmd
}

func printStatus(w io.Writer, st Status, sty ui.Styles) error {
	ready := sty.Good.Render("ready")
	if !st.Ready {
		ready = sty.Bad.Render("not ready")
	}
	state := sty.Good.Render(st.State)
	if st.State != "learning" {
		state = sty.Warn.Render(st.State)
	}
	last := "none"
	if d := st.LastDrift; d != nil {
		last = sty.Warn.Render(fmt.Sprintf("at event %d, %s (%s %s -> %s)", d.Index, ui.Time(d.Time), d.Metric, ui.Num(d.Before), ui.Num(d.After)))
	}
	c := st.Counters
	err := ui.KV(w, [][2]string{
		{"model", st.Name},
		{"task", st.Task},
		{"version", strconv.Itoa(st.Version)},
		{"state", state + ", " + ready},
		{"server", st.URL},
		{"started", ui.Time(st.StartedAt)},
		{"events", fmt.Sprintf("%d predictions, %d learns, %d rejected, %d drifts", c.Predictions, c.Learns, c.Rejected, c.Drifts)},
		{"throughput", fmt.Sprintf("%s predictions/s, %s learns/s", ui.Rate(st.Rates.Predictions), ui.Rate(st.Rates.Learns))},
		{"last drift", last},
	})
	// Before anything was scored the metrics are only zeros.
	if err != nil || len(st.Overall) == 0 || c.Learns+c.Predictions == 0 {
		return err
	}
	fmt.Fprintln(w)
	return metricTable(w, st.Overall, st.Rolling)
}

func metricTable(w io.Writer, overall, rolling map[string]float64) error {
	var rows [][]string
	names := ui.Keys(overall)
	for _, k := range ui.Keys(rolling) {
		if _, ok := overall[k]; !ok {
			names = append(names, k)
		}
	}
	for _, k := range names {
		o, ok := overall[k]
		os := "-"
		if ok {
			os = ui.Num(o)
		}
		r, ok := rolling[k]
		rs := "-"
		if ok {
			rs = ui.Num(r)
		}
		rows = append(rows, []string{k, os, rs})
	}
	return ui.Table(w, []string{"metric", "overall", "rolling"}, rows)
}

// NewCmdMetrics returns `olops metrics`.
func NewCmdMetrics(f *cmdutil.Factory) *cobra.Command {
	fl := &remote.Flags{Management: true}
	cmd := &cobra.Command{
		Use:   "metrics",
		Short: "Show the model's metrics overall and over the rolling window, counters, throughput and latency",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := fl.Client(f)
			if err != nil {
				return err
			}
			m, err := c.Metrics(cmd.Context())
			if err != nil {
				return err
			}
			return cmdutil.Print(f.IO.Out, fl.Output, m, func(w io.Writer) error { return printMetrics(w, m) })
		},
	}
	fl.Add(cmd, true)
	return cmd
}

func printMetrics(w io.Writer, m *api.Metrics) error {
	if err := metricTable(w, m.Overall, m.Rolling); err != nil {
		return err
	}
	fmt.Fprintln(w)
	c := m.Counters
	return ui.KV(w, [][2]string{
		{"task", m.Task},
		{"window", strconv.Itoa(m.Window)},
		{"predictions", strconv.FormatUint(c.Predictions, 10)},
		{"learns", strconv.FormatUint(c.Learns, 10)},
		{"rejected", strconv.FormatUint(c.Rejected, 10)},
		{"drifts", strconv.FormatUint(c.Drifts, 10)},
		{"throughput", fmt.Sprintf("%s predictions/s, %s learns/s", ui.Rate(m.Rates.Predictions), ui.Rate(m.Rates.Learns))},
		{"latency", fmt.Sprintf("p50 %s ms, p99 %s ms", ui.Num(m.LatencyMs.P50), ui.Num(m.LatencyMs.P99))},
	})
}

// NewCmdDrift returns `olops drift`.
func NewCmdDrift(f *cmdutil.Factory) *cobra.Command {
	fl := &remote.Flags{Management: true}
	cmd := &cobra.Command{
		Use:   "drift",
		Short: "Show the drift detector's state and the drifts it detected",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := fl.Client(f)
			if err != nil {
				return err
			}
			d, err := c.Drift(cmd.Context())
			if err != nil {
				return err
			}
			return cmdutil.Print(f.IO.Out, fl.Output, d, func(w io.Writer) error { return PrintDrift(w, d) })
		},
	}
	fl.Add(cmd, true)
	return cmd
}

// PrintDrift writes the drift state and events for people.
func PrintDrift(w io.Writer, d *api.Drift) error {
	warn := "no"
	if d.Warning {
		warn = "yes"
	}
	if err := ui.KV(w, [][2]string{{"detector", d.Detector}, {"watches", d.Watches}, {"warning", warn}, {"drifts", strconv.Itoa(len(d.Events))}}); err != nil {
		return err
	}
	if len(d.Events) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	rows := make([][]string, 0, len(d.Events))
	for _, e := range d.Events {
		rows = append(rows, []string{strconv.FormatUint(e.Index, 10), ui.Time(e.Time), e.Metric, ui.Num(e.Before), ui.Num(e.After)})
	}
	return ui.Table(w, []string{"event", "time", "metric", "before", "after"}, rows)
}
