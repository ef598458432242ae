// Package controller is `olops controller`: GitOps for a fleet of models.
package controller

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/olops/olops/internal/cli/cmdutil"
	"github.com/olops/olops/internal/cli/ui"
	"github.com/olops/olops/internal/client"
	ctl "github.com/olops/olops/internal/controller"
	"github.com/olops/olops/internal/runtime/docker"
	"github.com/spf13/cobra"
)

type options struct {
	dir       string
	id        string
	interval  time.Duration
	once      bool
	output    string
	image     string
	threshold int
	wait      time.Duration
	contexts  bool
	debug     bool
}

// NewCmd returns `olops controller` and its `status` subcommand.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	o := &options{}
	cmd := &cobra.Command{
		Use:   "controller --dir DIR",
		Short: "Reconcile a folder of olops.yaml files onto Docker (GitOps)",
		Long: `Controller keeps the Docker Engine running exactly the models of a folder
of olops.yaml files (one model per file, e.g. a git checkout):

  - a new file creates the model's container;
  - a changed file replaces the container and keeps its volume, so the
    model continues from what it learned;
  - a deleted file removes the container (the volume and its learned
    state stay: 'olops undeploy NAME' deletes them);
  - a container that exited, or whose /readyz failed --failures times in a
    row, is restarted;
  - a file that does not load is reported with its file:line and its
    model is left running as it is;
  - containers deployed by hand with 'olops deploy' are never touched:
    the controller only manages containers labelled
    dev.olops.managed-by=controller and its own dev.olops.controller ID
    (--id; by default derived from the folder's absolute path, so two
    controllers of two folders never take each other's models).

Each model's drift policy (spec.policy.onDrift: alert, reset or rollback)
is applied to the drift events it reports after the controller first saw
it. Every model it runs is added to the context file (not made current),
so 'olops monitor' with no argument cycles over the fleet.

Logs are JSON lines (slog) on stdout. SIGTERM or Ctrl-C ends the current
pass and stops; the containers keep running.`,
		Example: `  olops controller --dir models/                 # reconcile every 10s
  olops controller --dir models/ --once -o json  # one pass, a JSON report
  olops controller status -o table               # the fleet and its metrics`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return cmdutil.Usage("unexpected argument %q: the folder goes in --dir (subcommands: status)", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cmdutil.CheckFormat(o.output); err != nil {
				return err
			}
			if o.dir == "" {
				return cmdutil.Usage("--dir is required: the folder of olops.yaml files to reconcile")
			}
			if !o.once && o.output != cmdutil.Table {
				return cmdutil.Usage("-o %s needs --once: the looping controller writes JSON logs, not reports", o.output)
			}
			if o.interval <= 0 {
				return cmdutil.Usage("--interval must be positive, not %s", o.interval)
			}
			return run(cmd.Context(), f, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.dir, "dir", "", "the folder of olops.yaml files (one model per file)")
	fl.DurationVar(&o.interval, "interval", 10*time.Second, "time between passes")
	fl.BoolVar(&o.once, "once", false, "make one pass, print its report and exit (1 if an action failed)")
	fl.StringVarP(&o.output, "output", "o", cmdutil.Table, "with --once: the report as table, json or yaml")
	fl.StringVar(&o.id, "id", "", "this controller's ID on its containers (default: derived from the folder's absolute path)")
	fl.StringVar(&o.image, "image", "", "the olops image to run (default: built from this binary, or the released image)")
	fl.IntVar(&o.threshold, "failures", ctl.DefaultFailureThreshold, "/readyz failures in a row that restart a container")
	fl.DurationVar(&o.wait, "wait", 30*time.Second, "how long each deploy waits for /readyz")
	fl.BoolVar(&o.contexts, "contexts", true, "add each model to the context file (without making it current)")
	fl.BoolVar(&o.debug, "debug", false, "log unchanged models too")
	cmd.AddCommand(newCmdStatus(f))
	return cmd
}

func run(ctx context.Context, f *cmdutil.Factory, o *options) error {
	// Logs go to stdout, unless stdout carries the --once report.
	logOut := f.IO.Out
	if o.once {
		logOut = f.IO.ErrOut
	}
	level := slog.LevelInfo
	if o.debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	rt, err := docker.New(ctx)
	if err != nil {
		return err
	}
	defer rt.Close()
	opts := ctl.Options{Dir: o.dir, ID: o.id, Image: o.image, FailureThreshold: o.threshold, Wait: o.wait, Logger: log,
		Build: docker.BuildArgs{Version: f.Build.Version, Revision: f.Build.Commit}}
	if o.contexts {
		if opts.ContextPath, err = client.ContextPath(f.Getenv); err != nil {
			return err
		}
	}
	c := ctl.New(rt, opts)
	if !o.once {
		log.Info("controller starting", "dir", o.dir, "interval", o.interval.String())
		return c.Run(ctx, o.interval)
	}
	// The pass finishes even on SIGTERM (a half-made deploy helps no
	// one), within a bound.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Minute)
	defer cancel()
	rep, err := c.Pass(pctx)
	if err != nil {
		return err
	}
	if err := cmdutil.Print(f.IO.Out, o.output, rep, func(w io.Writer) error { return reportTable(w, rep) }); err != nil {
		return err
	}
	if rep.Errors > 0 {
		return cmdutil.Exit(cmdutil.ExitError, fmt.Errorf("%d action(s) failed: see the report", rep.Errors))
	}
	return nil
}

func reportTable(w io.Writer, rep *ctl.Report) error {
	rows := [][]string{}
	for _, r := range rep.Actions {
		note := r.Reason
		if r.Error != "" {
			note = "FAILED: " + r.Error
		}
		rows = append(rows, []string{r.Model, string(r.Kind), r.File, oneLine(note)})
	}
	for _, in := range rep.Invalid {
		rows = append(rows, []string{in.Name, "invalid", in.File, oneLine(in.Error)})
	}
	for _, d := range rep.Drifts {
		note := d.Reason
		if d.Error != "" {
			note = "FAILED: " + d.Error
		}
		rows = append(rows, []string{d.Model, "drift:" + d.Action, "", oneLine(note)})
	}
	for _, j := range rep.Challengers {
		note := j.Reason
		if j.Error != "" {
			note = "FAILED: " + j.Error
		}
		rows = append(rows, []string{j.Model, "challenger:" + j.Action, "", oneLine(note)})
	}
	return ui.Table(w, []string{"MODEL", "ACTION", "FILE", "DETAIL"}, rows)
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}

func newCmdStatus(f *cmdutil.Factory) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Every olops model on the Docker Engine with its metrics",
		Long: `Status lists every model olops runs on the Docker Engine (managed by the
controller or deployed by hand), with its counters and rolling metrics
read from its management API.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cmdutil.CheckFormat(output); err != nil {
				return err
			}
			rt, err := docker.New(cmd.Context())
			if err != nil {
				return err
			}
			defer rt.Close()
			st, err := ctl.Status(cmd.Context(), rt)
			if err != nil {
				return err
			}
			if st == nil {
				st = []ctl.ModelStatus{}
			}
			return cmdutil.Print(f.IO.Out, output, st, func(w io.Writer) error { return statusTable(w, st) })
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", cmdutil.Table, "output format: table, json or yaml")
	return cmd
}

func statusTable(w io.Writer, st []ctl.ModelStatus) error {
	rows := [][]string{}
	for _, s := range st {
		by := "hand"
		if s.Managed {
			by = "controller"
		}
		var ms []string
		keys := make([]string, 0, len(s.Rolling))
		for k := range s.Rolling {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ms = append(ms, k+"="+ui.Num(s.Rolling[k]))
		}
		metrics := strings.Join(ms, " ")
		if s.Error != "" {
			metrics = "(" + oneLine(s.Error) + ")"
		}
		version := ""
		if s.Version > 0 {
			version = fmt.Sprint(s.Version)
		}
		rows = append(rows, []string{s.Model, by, s.State, version, fmt.Sprint(s.Learns), fmt.Sprint(s.Predictions), fmt.Sprint(s.Drifts), metrics})
	}
	return ui.Table(w, []string{"MODEL", "MANAGED BY", "STATE", "VERSION", "LEARNS", "PREDICTIONS", "DRIFTS", "ROLLING METRICS"}, rows)
}
