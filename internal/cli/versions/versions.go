// Package versions holds the commands that steer a model's state:
// `olops versions`, `olops snapshot`, `olops rollback`, `olops pause` and
// `olops resume`.
package versions

import (
	"fmt"
	"io"
	"strconv"

	"github.com/olops/olops/internal/api"
	"github.com/olops/olops/internal/cli/cmdutil"
	"github.com/olops/olops/internal/cli/remote"
	"github.com/olops/olops/internal/cli/ui"
	"github.com/spf13/cobra"
)

// NewCmd returns `olops versions`.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	fl := &remote.Flags{Management: true}
	cmd := &cobra.Command{
		Use:   "versions",
		Short: "List the model's saved versions (snapshots to roll back to)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := fl.Client(f)
			if err != nil {
				return err
			}
			vs, err := c.Versions(cmd.Context())
			if err != nil {
				return err
			}
			return cmdutil.Print(f.IO.Out, fl.Output, vs, func(w io.Writer) error { return printVersions(w, vs) })
		},
	}
	fl.Add(cmd, true)
	return cmd
}

func printVersions(w io.Writer, vs []api.Version) error {
	rows := make([][]string, 0, len(vs))
	for _, v := range vs {
		cur := ""
		if v.Current {
			cur = "*"
		}
		rows = append(rows, []string{strconv.Itoa(v.Version), cur, ui.Time(v.Created), strconv.FormatUint(v.Learns, 10), v.Note})
	}
	return ui.Table(w, []string{"version", "current", "created", "learns", "note"}, rows)
}

// NewCmdSnapshot returns `olops snapshot`.
func NewCmdSnapshot(f *cmdutil.Factory) *cobra.Command {
	fl := &remote.Flags{Management: true}
	var note string
	cmd := &cobra.Command{
		Use:     "snapshot",
		Short:   "Save the model's current learned state as a new version",
		Example: `  olops snapshot -m "before the holiday traffic"`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := fl.Client(f)
			if err != nil {
				return err
			}
			v, err := c.Snapshot(cmd.Context(), note)
			if err != nil {
				return err
			}
			return cmdutil.Print(f.IO.Out, fl.Output, v, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "saved version %d (%d learns)\n", v.Version, v.Learns)
				return err
			})
		},
	}
	cmd.Flags().StringVarP(&note, "message", "m", "", "a note stored with the version")
	fl.Add(cmd, true)
	return cmd
}

// NewCmdRollback returns `olops rollback`.
func NewCmdRollback(f *cmdutil.Factory) *cobra.Command {
	fl := &remote.Flags{Management: true}
	cmd := &cobra.Command{
		Use:   "rollback VERSION",
		Short: "Make a saved version the served model again",
		Long: `Make a saved version the served model again. The model continues
learning from that version's state; list versions with 'olops versions'.`,
		Example: `  olops rollback 3`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := strconv.Atoi(args[0])
			if err != nil || n < 1 {
				return cmdutil.Usage("VERSION must be a version number (see 'olops versions'), not %q", args[0])
			}
			c, err := fl.Client(f)
			if err != nil {
				return err
			}
			m, err := c.Rollback(cmd.Context(), n)
			if err != nil {
				return err
			}
			return cmdutil.Print(f.IO.Out, fl.Output, m, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "rolled back to version %d\n", n)
				return err
			})
		},
	}
	fl.Add(cmd, true)
	return cmd
}

// NewCmdPause returns `olops pause`.
func NewCmdPause(f *cmdutil.Factory) *cobra.Command {
	return learningCmd(f, "pause", "Stop learning; the model keeps predicting", "paused: learn events are refused until 'olops resume'")
}

// NewCmdResume returns `olops resume`.
func NewCmdResume(f *cmdutil.Factory) *cobra.Command {
	return learningCmd(f, "resume", "Start learning again after 'olops pause'", "learning again")
}

func learningCmd(f *cmdutil.Factory, verb, short, done string) *cobra.Command {
	fl := &remote.Flags{Management: true}
	cmd := &cobra.Command{
		Use:   verb,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := fl.Client(f)
			if err != nil {
				return err
			}
			call := c.Pause
			if verb == "resume" {
				call = c.Resume
			}
			if err := call(cmd.Context()); err != nil {
				return err
			}
			f.IO.Printf("%s\n", done)
			return nil
		},
	}
	fl.Add(cmd, false)
	return cmd
}
