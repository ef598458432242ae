// Command olops runs online machine-learning models in production.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/olops/olops/internal/cli/cmdutil"
	"github.com/olops/olops/internal/cli/root"
)

// Set by -ldflags at build time.
var (
	version = "dev"
	commit  = "none"
	date    = "unknown"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	f := &cmdutil.Factory{
		IO:     cmdutil.System(),
		Build:  cmdutil.Build{Version: version, Commit: commit, Date: date},
		Getenv: os.Getenv,
	}
	cmd := root.NewCmd(f)
	err := cmd.ExecuteContext(ctx)
	stop()
	if err != nil {
		code := cmdutil.CodeOf(err)
		// cobra's own argument errors are usage errors.
		if code == cmdutil.ExitError && isUsage(err) {
			code = cmdutil.ExitUsage
		}
		fmt.Fprintf(os.Stderr, "olops: %v\n", err)
		if code == cmdutil.ExitUsage {
			fmt.Fprintln(os.Stderr, "run 'olops --help' for usage")
		}
		os.Exit(code)
	}
}

func isUsage(err error) bool {
	s := err.Error()
	return strings.HasPrefix(s, "unknown command") || strings.Contains(s, "arg(s)") || strings.HasPrefix(s, "unknown flag") || strings.HasPrefix(s, "required flag")
}
