// Package root assembles the olops command tree.
package root

import (
	"github.com/olops/olops/internal/cli/cmdutil"
	"github.com/olops/olops/internal/cli/version"
	"github.com/spf13/cobra"
)

// NewCmd returns the root command with every subcommand.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "olops",
		Short: "Run online machine-learning models in production",
		Long: `olops serves models that keep learning after they are deployed:
predict and learn over a public API, watch metrics and drift over a
management API, keep learned state durable, and run it all in containers.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	cmd.PersistentFlags().BoolVarP(&f.IO.Quiet, "quiet", "q", false, "print only data, no progress or messages")
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return cmdutil.Exit(cmdutil.ExitUsage, err)
	})

	// One line per command; keep them sorted.
	cmd.AddCommand(
		version.NewCmd(f),
	)
	return cmd
}
