// Package completion is `olops completion`: shell completion scripts.
package completion

import (
	"io"

	"github.com/olops/olops/internal/cli/cmdutil"
	"github.com/spf13/cobra"
)

// Shells lists the shells olops completes for.
var Shells = []string{"bash", "zsh", "fish", "powershell"}

// NewCmd returns `olops completion`.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print a shell completion script",
		Long: `Print the completion script for a shell. Load it in the current shell:

  bash:        source <(olops completion bash)
  zsh:         source <(olops completion zsh)
  fish:        olops completion fish | source
  powershell:  olops completion powershell | Out-String | Invoke-Expression

or install it once: bash into /etc/bash_completion.d/olops, zsh into a
directory of $fpath as _olops, fish into ~/.config/fish/completions/olops.fish.
Release archives ship these files in completions/.`,
		Args:                  cobra.ExactArgs(1),
		ValidArgs:             Shells,
		DisableFlagsInUseLine: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			err := Write(cmd.Root(), args[0], f.IO.Out)
			if err != nil {
				return cmdutil.Usage("%v", err)
			}
			return nil
		},
	}
	return cmd
}

// Write writes root's completion script for shell.
func Write(root *cobra.Command, shell string, w io.Writer) error {
	switch shell {
	case "bash":
		return root.GenBashCompletionV2(w, true)
	case "zsh":
		return root.GenZshCompletion(w)
	case "fish":
		return root.GenFishCompletion(w, true)
	case "powershell":
		return root.GenPowerShellCompletionWithDesc(w)
	}
	return &unknownShell{shell}
}

type unknownShell struct{ name string }

func (e *unknownShell) Error() string {
	return "unknown shell " + e.name + ": use bash, zsh, fish or powershell"
}
