// Package replay is `olops replay`: stream a CSV file or a synthetic
// stream into a running server's /v1/stream (predict, score, learn each
// row) and report progressive-validation scores like `olops eval`.
package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/olops/olops/internal/api"
	"github.com/olops/olops/internal/cli/cmdutil"
	"github.com/olops/olops/internal/client"
	"github.com/olops/olops/internal/config"
	"github.com/olops/olops/internal/learn"
	leval "github.com/olops/olops/internal/learn/eval"
	"github.com/olops/olops/internal/learn/stream"
	"github.com/olops/olops/internal/learn/synth"
	"github.com/spf13/cobra"
)

type options struct {
	url, token, mgmtURL, mgmtToken string
	target, positive, task         string
	drop, metrics                  []string
	window, batch, limit           int
	rate                           float64
	skipBad                        bool
	failUnder, output              string
	synth                          string
	rows, driftAt, driftWidth      int
	variant                        int
	seed                           int64
	progressEvery                  time.Duration
}

// Result is replay's outcome: `olops eval`'s result, plus what only a
// server run has.
type Result struct {
	leval.Result
	// Drifts shadows the embedded field to print [] when there is none:
	// the rows (0-based) where the server's detector fired.
	Drifts []int `json:"drifts" yaml:"drifts"`
	// DriftSeqs are the same drifts as the server numbers them: the
	// learn event's seq (1-based), the index of GET /v1/drift.
	DriftSeqs   []uint64           `json:"drift_seqs,omitempty" yaml:"drift_seqs,omitempty"`
	Rejected    int                `json:"rejected" yaml:"rejected"`
	DriftEvents []api.DriftEvent   `json:"drift_events,omitempty" yaml:"drift_events,omitempty"`
	Rolling     map[string]float64 `json:"rolling,omitempty" yaml:"rolling,omitempty"`
	URL         string             `json:"url" yaml:"url"`
	Interrupted bool               `json:"interrupted,omitempty" yaml:"interrupted,omitempty"`
}

// NewCmd returns `olops replay`.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	o := &options{progressEvery: 2 * time.Second}
	cmd := &cobra.Command{
		Use:   "replay [DATA.csv[.gz]]",
		Short: "Stream a dataset into a running model (predict, score, learn each row) and report its scores",
		Long: `Stream rows into a running server's /v1/stream: for each row the server
predicts, scores and then learns it (progressive validation), and replay
scores the predictions exactly as 'olops eval' does. The rows come from a
CSV file (plain or gzip) or a built-in synthetic stream (--synth).

On a terminal a progress bar shows rows/s and the running accuracy; in
other places a progress line is printed every few seconds (nothing with -q).
At the end a table shows the metrics, the drifts the server detected and
the throughput; -o json prints an object like 'olops eval -o json'.
Ctrl-C stops after the batch in flight and still prints the summary.

--fail-under sets a quality gate, e.g. --fail-under accuracy=0.85,f1=0.8:
replay exits with code 3 when a metric ends below its value. For metrics
where lower is better (mae, rmse, logloss) the value is a ceiling instead.

The task, positive class and metrics come from the server's config when
its management API is reachable (--management-url, OLOPS_MANAGEMENT_URL or
the current context), else from the flags and the data.`,
		Example: `  olops replay data.csv --target churned
  olops replay --synth sea --rows 20000 --drift-at 10000 --drift-width 500 --seed 42
  olops replay elec2.csv.gz --target class --rate 2000 --fail-under accuracy=0.8 -o json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd.Context(), f, o, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.url, "url", "", "the server's public API URL (default $OLOPS_URL, then the current context)")
	fl.StringVar(&o.token, "token", "", "the public bearer token (default $OLOPS_PUBLIC_TOKEN, then the current context)")
	fl.StringVar(&o.mgmtURL, "management-url", "", "the management API, to read the model's task and metrics (default $OLOPS_MANAGEMENT_URL, then the current context)")
	fl.StringVar(&o.mgmtToken, "management-token", "", "the management bearer token (default $OLOPS_MANAGEMENT_TOKEN, then the current context)")
	fl.StringVar(&o.target, "target", "", "CSV: the label column (default: the server's spec.target)")
	fl.StringVar(&o.positive, "positive", "", "binary: the positive class's label (default: the server's)")
	fl.StringVar(&o.task, "task", "", "binary, multiclass or regression (default: the server's, or inferred)")
	fl.StringSliceVar(&o.drop, "drop", nil, "CSV columns not to send")
	fl.StringSliceVar(&o.metrics, "metrics", nil, "metrics to compute (default: the server's, or the task's)")
	fl.IntVar(&o.window, "window", 0, "rolling metrics window (default: the server's, or 1000)")
	fl.IntVar(&o.batch, "batch", 500, "rows per /v1/stream request")
	fl.Float64Var(&o.rate, "rate", 0, "send at most this many rows per second (0: as fast as the server goes)")
	fl.IntVar(&o.limit, "limit", 0, "stop after this many rows (0: all)")
	fl.BoolVar(&o.skipBad, "skip-bad", false, "CSV: skip and count broken rows instead of stopping at the first")
	fl.StringVar(&o.failUnder, "fail-under", "", "quality gate metric=value[,...]: exit 3 when missed (a ceiling for mae, rmse, logloss)")
	fl.StringVarP(&o.output, "output", "o", cmdutil.Table, "output format: table, json or yaml")
	fl.StringVar(&o.synth, "synth", "", "replay a synthetic stream instead of a file: "+strings.Join(synth.Names(), "|"))
	fl.IntVar(&o.rows, "rows", 10000, "synthetic stream: number of rows")
	fl.Int64Var(&o.seed, "seed", 42, "synthetic stream: random seed")
	fl.IntVar(&o.driftAt, "drift-at", 0, "synthetic stream: position of a concept drift (0: none)")
	fl.IntVar(&o.driftWidth, "drift-width", 1, "synthetic stream: width of the concept drift")
	fl.IntVar(&o.variant, "variant", 0, "synthetic stream: concept variant (the drift moves to the next one)")
	return cmd
}

// serverSpec is what replay learns of the model from the management API.
type serverSpec struct {
	name, model, target, positive string
	task                          learn.Task
	metrics                       []string
	window                        int
	drop                          []string
}

// fetchSpec reads the served model's config, when the management API is
// known; explicit --url without a management URL does not guess one.
func fetchSpec(ctx context.Context, f *cmdutil.Factory, o *options) (*serverSpec, *client.Client) {
	getenv := f.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	if o.mgmtURL == "" && getenv("OLOPS_MANAGEMENT_URL") == "" && (o.url != "" || getenv("OLOPS_URL") != "") {
		return nil, nil
	}
	u, tok, err := client.Resolve(f, o.mgmtURL, o.mgmtToken, true)
	if err != nil {
		return nil, nil
	}
	c := client.New(u, tok, client.WithTimeout(5*time.Second))
	m, err := c.Model(ctx)
	if err != nil {
		f.IO.Printf("note: cannot read the model from %s (%v); using flags and data\n", u, err)
		return nil, nil
	}
	s := &serverSpec{name: m.Name, task: learn.Task(m.Task)}
	var cfg config.Config
	if len(m.Config) > 0 && json.Unmarshal(m.Config, &cfg) == nil {
		s.model, s.target, s.positive = cfg.Spec.Pipeline.Model, cfg.Spec.Target, cfg.Spec.Positive
		s.metrics, s.window, s.drop = cfg.Spec.Metrics, cfg.Spec.Window, cfg.Spec.Drop
		if s.task == "" {
			s.task = cfg.Spec.Task
		}
	}
	return s, c
}

// source opens the rows to replay and says what it knows of their task.
func source(o *options, args []string, target string, drop []string) (stream.Source, learn.Task, *stream.CSV, error) {
	if o.synth != "" {
		src, task, err := synth.New(o.synth, synth.Options{Seed: o.seed, Rows: o.rows, DriftAt: o.driftAt, DriftWidth: o.driftWidth, Variant: o.variant})
		if err != nil {
			return nil, "", nil, cmdutil.Usage("--synth: %v", err)
		}
		return src, task, nil, nil
	}
	if target == "" {
		return nil, "", nil, cmdutil.Usage("name the label column with --target (or make the management API reachable so replay reads the server's)")
	}
	c, err := stream.OpenCSV(args[0], stream.CSVOptions{Target: target, Drop: drop, SkipBad: o.skipBad})
	if err != nil {
		return nil, "", nil, fmt.Errorf("%s: %w", args[0], err)
	}
	return c, inferTask(c.Target()), c, nil
}

// inferTask reads the task from the target column, as olops eval does.
func inferTask(t stream.TargetInfo) learn.Task {
	switch {
	case t.Numeric && t.Distinct > 20:
		return learn.Regression
	case t.Distinct <= 2:
		return learn.Binary
	}
	return learn.Multiclass
}

// positiveOf picks the positive label of a binary target whose labels are
// not boolean-like: the first label in the file (olops eval's rule).
func positiveOf(labels []string) string {
	probe := learn.NewPipeline(learn.Spec{Task: learn.Binary}, nil, nil, nil)
	for _, l := range labels {
		if _, _, err := probe.ClassOf(l); err != nil {
			return labels[0]
		}
	}
	return ""
}

func run(ctx context.Context, f *cmdutil.Factory, o *options, args []string) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := cmdutil.CheckFormat(o.output); err != nil {
		return err
	}
	if (len(args) == 0) == (o.synth == "") {
		return cmdutil.Usage("give a CSV file or --synth NAME (one of the two)")
	}
	if o.batch < 1 {
		return cmdutil.Usage("--batch must be at least 1")
	}
	if o.rate < 0 {
		return cmdutil.Usage("--rate must not be negative")
	}
	var gate leval.Gate
	if o.failUnder != "" {
		g, err := leval.ParseGate(o.failUnder)
		if err != nil {
			return cmdutil.Usage("--fail-under: %v", err)
		}
		gate = g
	}
	u, tok, err := client.Resolve(f, o.url, o.token, false)
	if err != nil {
		return err
	}
	pub := client.New(u, tok)

	spec, mgmt := fetchSpec(ctx, f, o)
	if spec == nil {
		spec = &serverSpec{}
	}
	target := o.target
	if target == "" {
		target = spec.target
	}
	drop := append(slices.Clone(spec.drop), o.drop...)
	src, dataTask, csv, err := source(o, args, target, drop)
	if err != nil {
		return err
	}
	if csv != nil {
		defer csv.Close()
	}
	task := learn.Task(o.task)
	if task == "" {
		task = spec.task
	}
	if task == "" {
		task = dataTask
	}
	switch task {
	case learn.Binary, learn.Multiclass, learn.Regression:
	default:
		return cmdutil.Usage("--task %q: use binary, multiclass or regression", task)
	}
	positive := o.positive
	if positive == "" {
		positive = spec.positive
	}
	if positive == "" && task == learn.Binary && csv != nil {
		positive = positiveOf(csv.Target().Labels)
	}
	names, window := o.metrics, o.window
	if names == nil {
		names = spec.metrics
	}
	if window == 0 {
		window = spec.window
	}
	sc, err := newScorer(task, positive, names, window)
	if err != nil {
		return cmdutil.Usage("%v", err)
	}
	// A gate on a metric that is not computed can only fail, and only
	// after every row was sent (and learned): refuse it up front.
	for _, b := range gate {
		if !slices.Contains(sc.set.Names(), b.Metric) {
			return cmdutil.Usage("--fail-under: %s is not computed for this %s model (computed: %s; choose others with --metrics)", b.Metric, task, strings.Join(sc.set.Names(), ", "))
		}
	}

	res := &Result{URL: u}
	res.Task, res.Model = string(task), spec.model
	if res.Model == "" {
		res.Model = spec.name
	}
	prog := newProgress(f, o)
	err = stream1(ctx, pub, src, sc, o, res, prog)
	prog.done()
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		res.Interrupted, err = true, nil
	}
	res.Metrics = sc.set.Overall()
	res.Rolling = sc.set.Rolling()
	if res.Seconds > 0 {
		res.SamplesPerSecond = float64(res.Rows) / res.Seconds
	}
	if csv != nil {
		res.Skipped = csv.Skipped()
	}
	if mgmt != nil && len(res.Drifts) > 0 {
		// The server's drift events give the metric before and after.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		if d, derr := mgmt.Drift(dctx); derr == nil {
			n := min(len(res.Drifts), len(d.Events))
			res.DriftEvents = d.Events[len(d.Events)-n:]
		}
		cancel()
	}
	if err != nil {
		if res.Rows > 0 {
			printResult(f, o, res) // what was done before the error
		}
		var le *stream.LineError
		if errors.As(err, &le) && len(args) > 0 && !o.skipBad {
			return fmt.Errorf("%s: %w (use --skip-bad to skip broken rows)", args[0], err)
		}
		return err
	}
	if perr := printResult(f, o, res); perr != nil {
		return perr
	}
	if res.Interrupted {
		return cmdutil.Exit(cmdutil.ExitError, fmt.Errorf("interrupted after %d rows", res.Rows))
	}
	if res.Rejected > 0 && res.Rows == 0 {
		return fmt.Errorf("the server rejected every row (%d): check --target and the model's features", res.Rejected)
	}
	if gate != nil {
		if err := gate.Check(res.Metrics); err != nil {
			return cmdutil.Exit(cmdutil.ExitGate, err)
		}
	}
	return nil
}

// stream1 sends src in batches and scores the results. Cancelling ctx
// stops it after the batch in flight, so every row the server learned is
// counted.
func stream1(ctx context.Context, c *client.Client, src stream.Source, sc *scorer, o *options, res *Result, prog *progress) error {
	batch := o.batch
	if o.rate > 0 {
		// Small batches keep a slow rate smooth.
		batch = max(1, min(batch, int(o.rate/10)))
	}
	var body bytes.Buffer
	labels := make([]string, 0, batch)
	line := api.StreamLine{}
	start := time.Now()
	defer func() { res.Seconds = time.Since(start).Seconds() }()
	sent := 0
	var firstErr string
	for eof := false; !eof; {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		body.Reset()
		labels = labels[:0]
		for len(labels) < batch && (o.limit <= 0 || sent < o.limit) {
			s, err := src.Next()
			if errors.Is(err, io.EOF) {
				eof = true
				break
			}
			if err != nil {
				return err
			}
			line.Features, line.Label = s.Features, s.Label
			b, err := json.Marshal(line)
			if err != nil {
				return fmt.Errorf("row %d: %w", s.Line, err)
			}
			body.Write(b)
			body.WriteByte('\n')
			labels = append(labels, s.Label)
			sent++
		}
		if o.limit > 0 && sent >= o.limit {
			eof = true
		}
		if len(labels) == 0 {
			break
		}
		if o.rate > 0 {
			// Wait until sending this batch keeps within the rate.
			due := start.Add(time.Duration(float64(sent-len(labels)) / o.rate * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				select {
				case <-time.After(d):
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}
		i := 0
		// The batch is not cancelled by ctx: rows the server learns must be
		// counted, and a batch is short.
		err := c.Stream(context.WithoutCancel(ctx), bytes.NewReader(body.Bytes()), func(r api.StreamResult) error {
			if i >= len(labels) {
				return fmt.Errorf("the server answered more lines than were sent (%d)", len(labels))
			}
			label := labels[i]
			i++
			if r.Error != "" {
				res.Rejected++
				if firstErr == "" {
					firstErr = r.Error
					msg := r.Error
					if r.Field != "" {
						msg += " (field " + r.Field + ")"
					}
					prog.note("the server rejected row %d: %s", res.Rows+res.Rejected-1, msg)
				}
				return nil
			}
			scored, err := sc.score(label, r)
			if err != nil {
				return err
			}
			if scored {
				res.Scored++
				if r.Drift {
					res.Drifts = append(res.Drifts, res.Rows)
					res.DriftSeqs = append(res.DriftSeqs, r.Seq)
				}
			}
			res.Rows++
			prog.update(res, sc)
			return nil
		})
		if err != nil {
			return err
		}
		if i != len(labels) {
			return fmt.Errorf("the server answered %d of %d lines: it may have stopped; see its log", i, len(labels))
		}
	}
	return nil
}

// finite drops NaN and infinite values, which JSON cannot hold.
func finite(m map[string]float64) map[string]float64 {
	out := make(map[string]float64, len(m))
	for k, v := range m {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			out[k] = v
		}
	}
	return out
}

func printResult(f *cmdutil.Factory, o *options, res *Result) error {
	if o.output == cmdutil.Table {
		return cmdutil.Print(f.IO.Out, o.output, res, func(w io.Writer) error { return table(w, res) })
	}
	out := *res
	if out.Drifts == nil {
		out.Drifts = []int{}
	}
	out.Metrics, out.Rolling = finite(out.Metrics), finite(out.Rolling)
	return cmdutil.Print(f.IO.Out, o.output, out, nil)
}
