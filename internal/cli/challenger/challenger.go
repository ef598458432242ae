// Package challenger is `olops challenger`: start a model that learns in
// shadow beside the served one, compare them, promote or drop it.
package challenger

import (
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/olops/olops/internal/api"
	"github.com/olops/olops/internal/cli/cmdutil"
	"github.com/olops/olops/internal/cli/remote"
	"github.com/olops/olops/internal/cli/ui"
	"github.com/olops/olops/internal/config"
	"github.com/spf13/cobra"
)

// NewCmd returns `olops challenger` and its subcommands.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "challenger",
		Short: "Run a challenger model in shadow, compare it with the served one, promote or drop it",
		Long: `A challenger is a second model inside the server that learns from every
event the served model (the champion) learns, from the moment it starts,
and is scored on the same events. It is part of the learned state: it
survives restarts and is promoted as a new version (the champion is kept
to roll back to). The controller's drift policy "challenger" runs this
loop by itself.`,
	}
	cmd.AddCommand(newStart(f), newStatus(f), newPromote(f), newDrop(f))
	return cmd
}

func newStart(f *cmdutil.Factory) *cobra.Command {
	fl := &remote.Flags{Management: true}
	var file string
	cmd := &cobra.Command{
		Use:   "start [-f FILE]",
		Short: "Start a challenger: a fresh model of the served config, or of FILE",
		Long: `Start a challenger, replacing any running one. Without -f it is a fresh
model of the served config (what a reset would give, without giving up
the champion); with -f FILE (an olops.yaml, '-' reads stdin) it is that
model, which must have the served model's task and target.`,
		Example: `  olops challenger start
  olops challenger start -f hoeffding.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var doc []byte
			if file != "" {
				var err error
				name := file
				if file == "-" {
					doc, err = io.ReadAll(f.IO.In)
					name = "stdin"
				} else {
					doc, err = os.ReadFile(file)
				}
				if err != nil {
					return err
				}
				if _, err := config.Parse(doc, name); err != nil {
					return fmt.Errorf("%w\n(nothing was sent: fix the file and run again)", err)
				}
			}
			c, err := fl.Client(f)
			if err != nil {
				return err
			}
			ch, err := c.StartChallenger(cmd.Context(), doc)
			if err != nil {
				return err
			}
			return cmdutil.Print(f.IO.Out, fl.Output, ch, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "challenger %s started after learn event %d: it learns in shadow from now on ('olops challenger status' compares)\n", ch.Model, ch.StartSeq)
				return err
			})
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "the challenger's olops.yaml (default: the served config)")
	fl.Add(cmd, true)
	return cmd
}

func newStatus(f *cmdutil.Factory) *cobra.Command {
	fl := &remote.Flags{Management: true}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Compare the challenger with the served model over the events both learned",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := fl.Client(f)
			if err != nil {
				return err
			}
			ch, err := c.Challenger(cmd.Context())
			if err != nil {
				return err
			}
			return cmdutil.Print(f.IO.Out, fl.Output, ch, func(w io.Writer) error { return printStatus(w, ch) })
		},
	}
	fl.Add(cmd, true)
	return cmd
}

func printStatus(w io.Writer, ch *api.Challenger) error {
	verdict := "no"
	if ch.Better {
		verdict = "yes"
	}
	if err := ui.KV(w, [][2]string{
		{"challenger", ch.Model},
		{"started", ui.Time(ch.Started) + " (after learn event " + strconv.FormatUint(ch.StartSeq, 10) + ")"},
		{"events since", strconv.FormatUint(ch.Learns, 10)},
		{"better on " + ch.Metric, verdict},
	}); err != nil {
		return err
	}
	fmt.Fprintln(w)
	rows := [][]string{}
	for _, k := range ui.Keys(ch.Challenger) {
		champ := "-"
		if v, ok := ch.Champion[k]; ok {
			champ = ui.Num(v)
		}
		rows = append(rows, []string{k, ui.Num(ch.Challenger[k]), champ})
	}
	return ui.Table(w, []string{"metric", "challenger", "champion"}, rows)
}

func newPromote(f *cmdutil.Factory) *cobra.Command {
	fl := &remote.Flags{Management: true}
	cmd := &cobra.Command{
		Use:   "promote",
		Short: "Serve the challenger: a new version (the champion is kept to roll back to)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := fl.Client(f)
			if err != nil {
				return err
			}
			m, err := c.PromoteChallenger(cmd.Context())
			if err != nil {
				return err
			}
			return cmdutil.Print(f.IO.Out, fl.Output, m, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "challenger promoted: model %s is now version %d ('olops rollback' returns to the champion)\n", m.Name, m.Version)
				return err
			})
		},
	}
	fl.Add(cmd, true)
	return cmd
}

func newDrop(f *cmdutil.Factory) *cobra.Command {
	fl := &remote.Flags{Management: true}
	cmd := &cobra.Command{
		Use:   "drop",
		Short: "Stop the challenger",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := fl.Client(f)
			if err != nil {
				return err
			}
			if err := c.DropChallenger(cmd.Context()); err != nil {
				return err
			}
			f.IO.Printf("challenger dropped\n")
			return nil
		},
	}
	fl.Add(cmd, false)
	return cmd
}
