// Package validate is `olops validate`: the same checks the server runs
// when it loads a config.
package validate

import (
	"errors"
	"fmt"
	"io"

	"github.com/olops/olops/internal/cli/cmdutil"
	"github.com/olops/olops/internal/config"
	"github.com/spf13/cobra"
)

// Problem is one error found in a file.
type Problem struct {
	File    string `json:"file" yaml:"file"`
	Line    int    `json:"line,omitempty" yaml:"line,omitempty"`
	Field   string `json:"field,omitempty" yaml:"field,omitempty"`
	Message string `json:"message" yaml:"message"`
}

// Result is one file's verdict.
type Result struct {
	File     string    `json:"file" yaml:"file"`
	Valid    bool      `json:"valid" yaml:"valid"`
	Name     string    `json:"name,omitempty" yaml:"name,omitempty"`
	Model    string    `json:"model,omitempty" yaml:"model,omitempty"`
	Task     string    `json:"task,omitempty" yaml:"task,omitempty"`
	Problems []Problem `json:"problems,omitempty" yaml:"problems,omitempty"`
}

// NewCmd returns the validate command.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "validate [FILE...]",
		Short: "Check olops.yaml files the way the server does",
		Long: `Check one or more olops.yaml files (without FILE: ./olops.yaml, the file
'olops init', 'serve' and 'deploy' use): syntax, unknown fields, models,
parameters, metrics, drift detectors, durability and guard settings.
Every problem is printed as FILE:LINE: FIELD: MESSAGE; the exit code is 1
when any file is invalid.`,
		Example: "  olops validate olops.yaml\n  olops validate models/*.yaml -o json",
		Args:    cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cmdutil.CheckFormat(output); err != nil {
				return err
			}
			if len(args) == 0 {
				args = []string{"olops.yaml"}
			}
			var results []Result
			var all []error
			for _, path := range args {
				r, err := check(path)
				results = append(results, r)
				if err != nil {
					all = append(all, err)
				}
			}
			var v any = results
			if len(results) == 1 {
				v = results[0]
			}
			err := cmdutil.Print(f.IO.Out, output, v, func(w io.Writer) error {
				for _, r := range results {
					if r.Valid {
						fmt.Fprintf(w, "%s: valid (model %s %q, %s)\n", r.File, r.Name, r.Model, r.Task)
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			if len(all) > 0 {
				return cmdutil.Exit(cmdutil.ExitError, errors.Join(all...))
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", cmdutil.Table, "output format: table, json or yaml")
	return cmd
}

func check(path string) (Result, error) {
	r := Result{File: path}
	c, err := config.Load(path)
	if err != nil {
		var errs []error
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			errs = j.Unwrap()
		} else {
			errs = []error{err}
		}
		for _, e := range errs {
			var ce *config.Error
			if errors.As(e, &ce) {
				r.Problems = append(r.Problems, Problem{File: path, Line: ce.Line, Field: ce.Field, Message: ce.Msg})
			} else {
				r.Problems = append(r.Problems, Problem{File: path, Message: e.Error()})
			}
		}
		return r, err
	}
	r.Valid = true
	r.Name, r.Model, r.Task = c.Metadata.Name, c.Spec.Pipeline.Model, string(c.Spec.Task)
	return r, nil
}
