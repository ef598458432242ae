// Package remote is what the commands that call a running server share:
// the --url, --token and -o flags and building the client from them.
package remote

import (
	"github.com/olops/olops/internal/cli/cmdutil"
	"github.com/olops/olops/internal/client"
	"github.com/spf13/cobra"
)

// Flags are a remote command's connection and output flags.
type Flags struct {
	URL    string
	Token  string
	Output string
	// Management says which API the command calls.
	Management bool
}

// Add registers --url, --token and (when output is set) -o on cmd.
func (fl *Flags) Add(cmd *cobra.Command, output bool) {
	which, env := "public", "OLOPS_URL"
	tokenEnv := "OLOPS_PUBLIC_TOKEN"
	if fl.Management {
		which, env, tokenEnv = "management", "OLOPS_MANAGEMENT_URL", "OLOPS_MANAGEMENT_TOKEN"
	}
	cmd.Flags().StringVar(&fl.URL, "url", "", "the server's "+which+" API URL (default $"+env+", then the current context)")
	cmd.Flags().StringVar(&fl.Token, "token", "", "the "+which+" bearer token (default $"+tokenEnv+", then the current context)")
	if output {
		cmd.Flags().StringVarP(&fl.Output, "output", "o", cmdutil.Table, "output format: table, json or yaml")
	}
}

// Client checks the output format and resolves the URL and token.
func (fl *Flags) Client(f *cmdutil.Factory) (*client.Client, error) {
	if fl.Output != "" {
		if err := cmdutil.CheckFormat(fl.Output); err != nil {
			return nil, err
		}
	}
	u, tok, err := client.Resolve(f, fl.URL, fl.Token, fl.Management)
	if err != nil {
		return nil, err
	}
	return client.New(u, tok), nil
}
