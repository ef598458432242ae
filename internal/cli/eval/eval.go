// Package eval is `olops eval`: progressive validation of a model on a CSV
// file or a synthetic stream, in-process.
package eval

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/cobra"

	"github.com/olops/olops/internal/cli/cmdutil"
	"github.com/olops/olops/internal/config"
	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/drift"
	leval "github.com/olops/olops/internal/learn/eval"
	"github.com/olops/olops/internal/learn/metrics"
	"github.com/olops/olops/internal/learn/models"
	"github.com/olops/olops/internal/learn/stream"
	"github.com/olops/olops/internal/learn/synth"
)

type options struct {
	target, model, configPath, positive, task string
	drop                                      []string
	driftName, trace, failUnder, output       string
	metrics                                   []string
	window, limit                             int
	skipBad                                   bool
	synth                                     string
	rows, driftAt, driftWidth, variant        int
	seed                                      int64
}

// NewCmd returns `olops eval`.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	o := &options{}
	cmd := &cobra.Command{
		Use:   "eval [DATA.csv[.gz]]",
		Short: "Score a model on a stream by progressive validation (predict, score, then learn each row)",
		Long: `Reads a CSV file (plain or gzip) or a synthetic stream in order and, for
each row, predicts (class probabilities for classifiers), scores the
prediction, then learns the row: River's progressive_val_score, in-process.

Models (River's defaults; logreg and linreg have a StandardScaler in front):
` + wrap(models.Names(), "  ", 72) + `

The task is inferred from the target column: a numeric column with many
distinct values is regression, two labels binary, more multiclass; --task
overrides. Columns whose non-empty values are all numbers are numeric
features; other columns are categorical (used by the trees only); empty
cells are missing.

--fail-under sets a quality gate, e.g. --fail-under accuracy=0.85,f1=0.8:
olops exits with code 3 when a metric is below its value. For metrics where
lower is better (mae, rmse, logloss) the value is a ceiling instead: the
gate fails when the metric is above it.`,
		Example: `  olops eval phishing.csv.gz --target is_phishing --model logreg
  olops eval elec2.csv.gz --target class --positive UP --model gnb --drift adwin -o json
  olops eval --synth sea --rows 20000 --seed 42 --drift-at 10000 --drift-width 500 --model hoeffding
  olops eval data.csv --config olops.yaml --fail-under accuracy=0.85`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd.Context(), f, o, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.target, "target", "", "the label column")
	fl.StringVar(&o.model, "model", "", "model name (see above)")
	fl.StringVar(&o.configPath, "config", "", "take the model, target and settings from an olops.yaml")
	fl.StringVar(&o.positive, "positive", "", "binary: the label of the positive class")
	fl.StringVar(&o.task, "task", "", "binary, multiclass or regression (default: inferred from the target)")
	fl.StringSliceVar(&o.drop, "drop", nil, "columns not to use as features")
	fl.StringVar(&o.driftName, "drift", "", "watch the error stream with a drift detector: "+strings.Join(drift.Names(), "|"))
	fl.StringVar(&o.trace, "trace", "", "write i,y_true,y_pred,p_true per row to this file")
	fl.StringVar(&o.failUnder, "fail-under", "", "quality gate metric=value[,...]: exit 3 when missed (a ceiling for mae, rmse, logloss)")
	fl.StringSliceVar(&o.metrics, "metrics", nil, "metrics to compute (default: the task's)")
	fl.IntVar(&o.window, "window", 0, "rolling metrics window (default 1000)")
	fl.IntVar(&o.limit, "limit", 0, "stop after this many rows (0: all)")
	fl.BoolVar(&o.skipBad, "skip-bad", false, "skip and count broken rows instead of stopping at the first")
	fl.StringVar(&o.synth, "synth", "", "use a synthetic stream instead of a file: "+strings.Join(synth.Names(), "|"))
	fl.IntVar(&o.rows, "rows", 10000, "synthetic stream: number of rows")
	fl.Int64Var(&o.seed, "seed", 42, "synthetic stream: random seed")
	fl.IntVar(&o.driftAt, "drift-at", 0, "synthetic stream: position of a concept drift (0: none)")
	fl.IntVar(&o.driftWidth, "drift-width", 1, "synthetic stream: width of the concept drift")
	fl.IntVar(&o.variant, "variant", 0, "synthetic stream: concept variant (the drift moves to the next one)")
	fl.StringVarP(&o.output, "output", "o", cmdutil.Table, "output format: table, json or yaml")
	complete := func(flag string, values func() []string) {
		_ = cmd.RegisterFlagCompletionFunc(flag, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return values(), cobra.ShellCompDirectiveNoFileComp
		})
	}
	complete("model", models.Names)
	complete("drift", drift.Names)
	complete("synth", synth.Names)
	complete("task", func() []string { return []string{"binary", "multiclass", "regression"} })
	complete("output", func() []string { return []string{cmdutil.Table, cmdutil.JSON, cmdutil.YAML} })
	return cmd
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
	var gate leval.Gate
	if o.failUnder != "" {
		g, err := leval.ParseGate(o.failUnder)
		if err != nil {
			return cmdutil.Usage("--fail-under: %v", err)
		}
		gate = g
	}
	spec := learn.Spec{Task: learn.Task(o.task), Model: o.model, Positive: o.positive}
	var detector string
	var detectorParams map[string]any
	mnames, window := o.metrics, o.window
	drop := o.drop
	target := o.target
	if o.configPath != "" {
		cfg, err := config.Load(o.configPath)
		if err != nil {
			return err
		}
		spec = cfg.LearnSpec()
		if o.model != "" {
			spec.Model = o.model
		}
		if o.task != "" {
			spec.Task = learn.Task(o.task)
		}
		if o.positive != "" {
			spec.Positive = o.positive
		}
		if target == "" {
			target = cfg.Spec.Target
		}
		drop = append(slices.Clone(cfg.Spec.Drop), drop...)
		if mnames == nil {
			mnames = cfg.Spec.Metrics
		}
		if window == 0 {
			window = cfg.Spec.Window
		}
		if d := cfg.Spec.Drift.Detector; d != "" && d != "none" {
			detector, detectorParams = d, cfg.Spec.Drift.Params
		}
	}
	if o.driftName != "" {
		detector, detectorParams = o.driftName, nil
	}
	if spec.Model == "" {
		return cmdutil.Usage("name a model with --model (%s) or give --config olops.yaml", strings.Join(models.Names(), ", "))
	}
	modelTask, ok := models.TaskOf(spec.Model)
	if !ok {
		return cmdutil.Usage("unknown model %q (known: %s)", spec.Model, strings.Join(models.Names(), ", "))
	}
	switch spec.Task {
	case "", learn.Binary, learn.Multiclass, learn.Regression:
	default:
		return cmdutil.Usage("--task %q: use binary, multiclass or regression", spec.Task)
	}

	var src stream.Source
	if o.synth != "" {
		s, task, err := synthSource(o)
		if err != nil {
			return cmdutil.Usage("--synth: %v", err)
		}
		src = s
		if spec.Task == "" {
			spec.Task = task
		}
	} else {
		if target == "" {
			return cmdutil.Usage("name the label column with --target")
		}
		c, err := stream.OpenCSV(args[0], stream.CSVOptions{Target: target, Drop: drop, SkipBad: o.skipBad})
		if err != nil {
			return err
		}
		defer c.Close()
		src = c
		if spec.Task == "" {
			spec.Task = inferTask(c.Target(), modelTask)
		}
		if spec.Task == learn.Binary && spec.Positive == "" {
			spec.Positive = positiveOf(f, c.Target().Labels)
		}
	}

	p, err := models.New(spec)
	if err != nil {
		return cmdutil.Usage("%v", err)
	}
	eo := leval.Options{Metrics: mnames, Window: window, Limit: o.limit}
	set, err := metrics.NewSet(spec.Task, mnames, window)
	if err != nil {
		return cmdutil.Usage("%v", err)
	}
	// A gate on a metric that is not computed can only fail: say so
	// before scoring the whole stream, as a usage error.
	for _, b := range gate {
		if !slices.Contains(set.Names(), b.Metric) {
			return cmdutil.Usage("--fail-under: %s is not computed for this %s model (computed: %s; choose others with --metrics)", b.Metric, spec.Task, strings.Join(set.Names(), ", "))
		}
	}
	if detector != "" {
		d, err := drift.New(detector, detectorParams)
		if err != nil {
			return cmdutil.Usage("--drift: %v", err)
		}
		eo.Detector = d
	}
	if o.trace != "" {
		tf, err := os.Create(o.trace)
		if err != nil {
			return err
		}
		defer tf.Close()
		eo.Trace = tf
	}
	res, err := leval.Run(ctx, p, src, eo)
	if err != nil {
		var le *stream.LineError
		if errors.As(err, &le) && !o.skipBad && len(args) > 0 {
			return fmt.Errorf("%s: %w (use --skip-bad to skip broken rows)", args[0], err)
		}
		if len(args) > 0 {
			return fmt.Errorf("%s: %w", args[0], err)
		}
		return err
	}
	var v any = res
	if detector != "" {
		// With --drift, "drifts" is always printed, [] when none fired.
		d := res.Drifts
		if d == nil {
			d = []int{}
		}
		v = struct {
			*leval.Result
			Drifts []int `json:"drifts"`
		}{res, d}
	}
	if err := cmdutil.Print(f.IO.Out, o.output, v, func(w io.Writer) error { return table(w, res, detector != "") }); err != nil {
		return err
	}
	if gate != nil {
		if err := gate.Check(res.Metrics); err != nil {
			return cmdutil.Exit(cmdutil.ExitGate, err)
		}
	}
	return nil
}

// inferTask reads the task from the target column.
func inferTask(t stream.TargetInfo, model learn.Task) learn.Task {
	switch {
	case model == learn.Regression:
		return learn.Regression
	case t.Numeric && t.Distinct > 20:
		return learn.Regression
	case t.Distinct <= 2:
		return learn.Binary
	}
	return learn.Multiclass
}

// positiveOf picks the positive label of a binary target whose labels are
// not 1/0, true/false, yes/no or +1/-1: the first label in the file.
func positiveOf(f *cmdutil.Factory, labels []string) string {
	probe := learn.NewPipeline(learn.Spec{Task: learn.Binary}, nil, nil, nil)
	for _, l := range labels {
		if _, _, err := probe.ClassOf(l); err != nil {
			f.IO.Printf("positive class: %q (the first label; set --positive to choose)\n", labels[0])
			return labels[0]
		}
	}
	return ""
}

func table(w io.Writer, r *leval.Result, withDrift bool) error {
	t := tablewriter.NewTable(w,
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithHeaderAutoFormat(tw.Off),
	)
	t.Header([]string{"field", "value"})
	rows := [][]string{
		{"model", r.Model}, {"task", r.Task},
		{"rows", strconv.Itoa(r.Rows)}, {"scored", strconv.Itoa(r.Scored)},
	}
	names := make([]string, 0, len(r.Metrics))
	for k := range r.Metrics {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		rows = append(rows, []string{k, strconv.FormatFloat(r.Metrics[k], 'f', 4, 64)})
	}
	rows = append(rows,
		[]string{"seconds", strconv.FormatFloat(r.Seconds, 'f', 3, 64)},
		[]string{"samples/s", strconv.FormatFloat(r.SamplesPerSecond, 'f', 0, 64)})
	if withDrift {
		// The count, then the first few rows where a drift fired (-o json
		// lists them all).
		d := []string{strconv.Itoa(len(r.Drifts))}
		for i, v := range r.Drifts {
			if i == 8 {
				d = append(d, "…")
				break
			}
			if i == 0 {
				d[0] += " at"
			}
			d = append(d, strconv.Itoa(v))
		}
		rows = append(rows, []string{"drifts", strings.Join(d, " ")})
	}
	if r.Skipped > 0 {
		rows = append(rows, []string{"skipped", strconv.Itoa(r.Skipped)})
	}
	if err := t.Bulk(rows); err != nil {
		return err
	}
	return t.Render()
}

// wrap joins names with ", " into indented lines of at most width runes.
func wrap(names []string, indent string, width int) string {
	var b strings.Builder
	line := indent
	for i, n := range names {
		item := n
		if i < len(names)-1 {
			item += ","
		}
		if len(line) > len(indent) && len(line)+1+len(item) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += item
	}
	b.WriteString(line)
	return b.String()
}
