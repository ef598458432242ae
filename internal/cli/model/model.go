// Package model is `olops model get|set|patch`: read and change the served
// model's config and run-time hyperparameters.
package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/olops/olops/internal/api"
	"github.com/olops/olops/internal/cli/cmdutil"
	"github.com/olops/olops/internal/cli/remote"
	"github.com/olops/olops/internal/cli/ui"
	"github.com/olops/olops/internal/config"
	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"
)

// NewCmd returns `olops model` and its subcommands.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "model",
		Short: "Read or change the served model's config and hyperparameters",
	}
	cmd.AddCommand(newGet(f), newSet(f), newPatch(f))
	return cmd
}

func newGet(f *cmdutil.Factory) *cobra.Command {
	fl := &remote.Flags{Management: true}
	cmd := &cobra.Command{
		Use:   "get",
		Short: "Show the model: version, state, config and current hyperparameters",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := fl.Client(f)
			if err != nil {
				return err
			}
			m, err := c.Model(cmd.Context())
			if err != nil {
				return err
			}
			return cmdutil.Print(f.IO.Out, fl.Output, m, func(w io.Writer) error { return printModel(w, m) })
		},
	}
	fl.Add(cmd, true)
	return cmd
}

func printModel(w io.Writer, m *api.Model) error {
	state := "paused"
	if m.Learning {
		state = "learning"
	}
	err := ui.KV(w, [][2]string{
		{"model", m.Name},
		{"task", m.Task},
		{"version", strconv.Itoa(m.Version)},
		{"state", state},
		{"started", ui.Time(m.StartedAt)},
	})
	if err != nil {
		return err
	}
	if len(m.Parameters) > 0 {
		fmt.Fprintln(w)
		rows := make([][]string, 0, len(m.Parameters))
		for _, k := range ui.Keys(m.Parameters) {
			rows = append(rows, []string{k, valueString(m.Parameters[k])})
		}
		if err := ui.Table(w, []string{"parameter", "value"}, rows); err != nil {
			return err
		}
	}
	if len(m.Config) > 0 && string(m.Config) != "null" {
		var doc any
		if err := json.Unmarshal(m.Config, &doc); err == nil {
			var buf bytes.Buffer
			enc := yaml.NewEncoder(&buf)
			enc.SetIndent(2)
			if err := enc.Encode(wholeNumbers(doc)); err != nil {
				return err
			}
			b := buf.Bytes()
			fmt.Fprintln(w, "\nconfig:")
			for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
				fmt.Fprintln(w, "  "+line)
			}
		}
	}
	return nil
}

// wholeNumbers turns JSON numbers that are integers back into integers,
// so YAML shows 1048576 and not 1.048576e+06.
func wholeNumbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = wholeNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = wholeNumbers(e)
		}
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x)
		}
	}
	return v
}

// valueString shows a parameter compactly: numbers as Go prints them,
// composite values as JSON.
func valueString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case nil:
		return "null"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func newSet(f *cmdutil.Factory) *cobra.Command {
	fl := &remote.Flags{Management: true}
	cmd := &cobra.Command{
		Use:   "set FILE",
		Short: "Replace the model's config with FILE (an olops.yaml; - reads stdin)",
		Long: `Replace the served model's config with FILE, an olops.yaml ('-' reads
standard input). The file is validated here first, with the server's own
check. The server starts a new version; the old state stays a version to
roll back to.`,
		Example: `  olops model set olops.yaml`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var b []byte
			var err error
			name := args[0]
			if name == "-" {
				b, err = io.ReadAll(f.IO.In)
				name = "stdin"
			} else {
				b, err = os.ReadFile(name)
			}
			if err != nil {
				return err
			}
			if _, err := config.Parse(b, name); err != nil {
				return fmt.Errorf("%w\n(nothing was sent: fix the file and run again)", err)
			}
			c, err := fl.Client(f)
			if err != nil {
				return err
			}
			m, err := c.PutModel(cmd.Context(), b)
			if err != nil {
				return err
			}
			return cmdutil.Print(f.IO.Out, fl.Output, m, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "model %s replaced: now version %d\n", m.Name, m.Version)
				return err
			})
		},
	}
	fl.Add(cmd, true)
	return cmd
}

func newPatch(f *cmdutil.Factory) *cobra.Command {
	fl := &remote.Flags{Management: true}
	cmd := &cobra.Command{
		Use:   "patch KEY=VALUE...",
		Short: "Change run-time hyperparameters (e.g. lr=0.01) without restarting",
		Long: `Change hyperparameters that can change at run time, such as a learning
rate. VALUE is read as JSON when it parses (0.01, true, [1,2]) and as a
string otherwise. The server changes nothing when one of them is refused.`,
		Example: `  olops model patch lr=0.005
  olops model patch lr=0.01 l2=0.0001`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			params, err := ParseAssignments(args)
			if err != nil {
				return err
			}
			c, err := fl.Client(f)
			if err != nil {
				return err
			}
			m, err := c.PatchModel(cmd.Context(), params)
			if err != nil {
				return err
			}
			return cmdutil.Print(f.IO.Out, fl.Output, m, func(w io.Writer) error {
				rows := make([][]string, 0, len(params))
				for _, k := range ui.Keys(params) {
					v, ok := m.Parameters[k]
					if !ok {
						v = params[k]
					}
					rows = append(rows, []string{k, valueString(v)})
				}
				return ui.Table(w, []string{"parameter", "value"}, rows)
			})
		},
	}
	fl.Add(cmd, true)
	return cmd
}

// ParseAssignments reads KEY=VALUE arguments; VALUE is JSON when it parses.
func ParseAssignments(args []string) (map[string]any, error) {
	params := make(map[string]any, len(args))
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, cmdutil.Usage("%q is not KEY=VALUE (for example lr=0.01)", a)
		}
		if _, dup := params[k]; dup {
			return nil, cmdutil.Usage("%s is set twice", k)
		}
		var val any
		if err := json.Unmarshal([]byte(v), &val); err != nil {
			val = v
		}
		params[k] = val
	}
	return params, nil
}
