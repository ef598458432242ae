// Package version is `olops version`.
package version

import (
	"fmt"
	"io"
	"runtime"

	"github.com/olops/olops/internal/cli/cmdutil"
	"github.com/spf13/cobra"
)

// NewCmd returns the version command.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and build date",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cmdutil.CheckFormat(output); err != nil {
				return err
			}
			info := struct {
				cmdutil.Build
				Go string `json:"go" yaml:"go"`
			}{f.Build, runtime.Version()}
			return cmdutil.Print(f.IO.Out, output, info, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "olops %s (commit %s, built %s, %s)\n", info.Version, info.Commit, info.Date, info.Go)
				return err
			})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", cmdutil.Table, "output format: table, json or yaml")
	return cmd
}
