// Package root assembles the olops command tree.
package root

import (
	"github.com/olops/olops/internal/cli/challenger"
	"github.com/olops/olops/internal/cli/cmdutil"
	"github.com/olops/olops/internal/cli/completion"
	"github.com/olops/olops/internal/cli/controller"
	"github.com/olops/olops/internal/cli/deploy"
	evalcmd "github.com/olops/olops/internal/cli/eval"
	"github.com/olops/olops/internal/cli/initcmd"
	"github.com/olops/olops/internal/cli/model"
	"github.com/olops/olops/internal/cli/monitor"
	"github.com/olops/olops/internal/cli/predict"
	"github.com/olops/olops/internal/cli/replay"
	"github.com/olops/olops/internal/cli/serve"
	"github.com/olops/olops/internal/cli/status"
	"github.com/olops/olops/internal/cli/validate"
	"github.com/olops/olops/internal/cli/version"
	"github.com/olops/olops/internal/cli/versions"
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
		challenger.NewCmd(f),
		completion.NewCmd(f),
		controller.NewCmd(f),
		deploy.NewCmdDeploy(f), deploy.NewCmdLogs(f), deploy.NewCmdPrune(f), deploy.NewCmdPs(f), deploy.NewCmdStop(f), deploy.NewCmdUndeploy(f),
		evalcmd.NewCmd(f),
		initcmd.NewCmd(f),
		model.NewCmd(f),
		monitor.NewCmd(f),
		serve.NewCmd(f),
		validate.NewCmd(f),
		predict.NewCmd(f), predict.NewCmdLearn(f),
		replay.NewCmd(f),
		status.NewCmd(f), status.NewCmdMetrics(f), status.NewCmdDrift(f),
		version.NewCmd(f),
		versions.NewCmd(f), versions.NewCmdSnapshot(f), versions.NewCmdRollback(f), versions.NewCmdPause(f), versions.NewCmdResume(f),
	)
	return cmd
}
