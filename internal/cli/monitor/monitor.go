// Package monitor is `olops monitor`: the live terminal dashboard of one
// model server, or of every model in the context file.
package monitor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"

	"github.com/olops/olops/internal/api"
	"github.com/olops/olops/internal/cli/cmdutil"
	"github.com/olops/olops/internal/client"
	"github.com/olops/olops/internal/tui"
)

// callTimeout bounds each ordinary call of the monitor, so that a server
// that hangs shows as down instead of freezing the dashboard.
const callTimeout = 5 * time.Second

// NewCmd returns `olops monitor`.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	var flagURL, flagToken string
	cmd := &cobra.Command{
		Use:   "monitor [NAME]",
		Short: "Watch models learn: live accuracy, drift, throughput and versions",
		Long: `monitor is a live terminal dashboard of a model server's management API:
the rolling metric over time with drift markers, throughput and latency,
every metric, the drift events and the saved versions, and a challenger
learning in shadow beside the champion while one runs. It follows the
server's event stream (or polls when there is none) and reconnects by
itself when the server restarts.

With --url it watches that management URL; with NAME, that model of the
context file written by 'olops serve' and 'olops deploy'; with neither,
OLOPS_MANAGEMENT_URL, or else every model of the context file: then it
starts on their list (pick one with enter), l opens it again and tab
switches to the next model.

Keys: tab next model, l list models, s snapshot, r roll back (pick a
version, confirm with y), p pause/resume learning, ? help, q quit.`,
		Example: `  olops monitor
  olops monitor --url http://127.0.0.1:9090
  olops monitor churn`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 && flagURL != "" {
				return cmdutil.Usage("give a model NAME or --url, not both")
			}
			targets, err := resolveTargets(f, flagURL, flagToken, args)
			if err != nil {
				return err
			}
			if !f.IO.TTY {
				return cmdutil.Usage("olops monitor draws a dashboard and needs a terminal: in scripts use 'olops status' or 'olops metrics -o json'")
			}
			return run(cmd.Context(), f, targets)
		},
	}
	cmd.Flags().StringVar(&flagURL, "url", "", "management URL of the server to watch (default: $OLOPS_MANAGEMENT_URL or the context file)")
	cmd.Flags().StringVar(&flagToken, "token", "", "management token (default: $OLOPS_MANAGEMENT_TOKEN or the context file)")
	return cmd
}

// target is one server to watch, before the TUI takes it.
type target struct {
	name, url, token string
}

// resolveTargets finds what to watch: --url, NAME, OLOPS_MANAGEMENT_URL,
// or every context of the context file, the current one first.
func resolveTargets(f *cmdutil.Factory, flagURL, flagToken string, args []string) ([]target, error) {
	getenv := f.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	if len(args) == 1 {
		path, err := client.ContextPath(getenv)
		if err != nil {
			return nil, err
		}
		cs, err := client.LoadContexts(path)
		if err != nil {
			return nil, err
		}
		c, ok := cs.Contexts[args[0]]
		if !ok {
			return nil, cmdutil.Usage("no model %q in the context file %s (known: %v): pass --url instead", args[0], path, names(cs))
		}
		if c.ManagementURL == "" {
			return nil, cmdutil.Usage("model %q in %s has no management URL: pass --url", args[0], path)
		}
		token := flagToken
		if token == "" {
			token = c.ManagementToken
		}
		return []target{{name: c.Name, url: c.ManagementURL, token: token}}, nil
	}
	if flagURL == "" && getenv("OLOPS_MANAGEMENT_URL") == "" {
		if path, err := client.ContextPath(getenv); err == nil {
			cs, err := client.LoadContexts(path)
			if err != nil {
				return nil, err
			}
			var out []target
			for _, n := range names(cs) {
				c := cs.Contexts[n]
				if c.ManagementURL == "" {
					continue
				}
				token := flagToken
				if token == "" {
					token = c.ManagementToken
				}
				name := c.Name
				if name == "" {
					name = n
				}
				out = append(out, target{name: name, url: c.ManagementURL, token: token})
			}
			if len(out) > 0 {
				return out, nil
			}
		}
	}
	u, token, err := client.Resolve(f, flagURL, flagToken, true)
	if err != nil {
		return nil, err
	}
	return []target{{name: u, url: u, token: token}}, nil
}

// names lists the contexts, the current one first, then by name.
func names(cs *client.Contexts) []string {
	out := make([]string, 0, len(cs.Contexts))
	for n := range cs.Contexts {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool {
		if (out[i] == cs.Current) != (out[j] == cs.Current) {
			return out[i] == cs.Current
		}
		return out[i] < out[j]
	})
	return out
}

func run(ctx context.Context, f *cmdutil.Factory, targets []target) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	tt := make([]tui.Target, len(targets))
	for i, t := range targets {
		tt[i] = tui.Target{Name: t.name, URL: t.url, Source: source{client.New(t.url, t.token, client.WithTimeout(callTimeout))}}
	}
	p := tea.NewProgram(tui.New(tt), tea.WithContext(ctx), tea.WithInput(f.IO.In), tea.WithOutput(f.IO.Out))
	for i, t := range tt {
		go tui.Watch(ctx, i, t.Source, p.Send, tui.WatchOptions{})
	}
	_, err := p.Run()
	switch {
	case errors.Is(err, tea.ErrInterrupted):
		return nil // Ctrl-C when the input is not a terminal: a normal way out
	case errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil:
		return nil // the command's context ended (a signal): a normal way out
	case err != nil:
		return fmt.Errorf("monitor: %w", err)
	}
	return nil
}

// source adapts the CLI's typed client to what the TUI needs.
type source struct{ *client.Client }

// Events maps "no such route" to tui.ErrNoEvents, so the TUI polls.
func (s source) Events(ctx context.Context, fn func(api.Event)) error {
	err := s.Client.Events(ctx, fn)
	switch client.StatusOf(err) {
	case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented, http.StatusNotAcceptable:
		return tui.ErrNoEvents
	}
	return err
}

// Challenger maps the server's 404 (none runs, or a server without
// challengers) to none.
func (s source) Challenger(ctx context.Context) (*api.Challenger, error) {
	c, err := s.Client.Challenger(ctx)
	if client.NotFound(err) {
		return nil, nil
	}
	return c, err
}

// Rollback drops the model the client returns: the TUI reads it again.
func (s source) Rollback(ctx context.Context, n int) error {
	_, err := s.Client.Rollback(ctx, n)
	return err
}
