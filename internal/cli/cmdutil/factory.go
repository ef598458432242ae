// Package cmdutil is what every command shares: the I/O streams, the
// output format flag, build information and the exit-code errors.
package cmdutil

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/mattn/go-isatty"
	"go.yaml.in/yaml/v3"
)

// Exit codes of olops.
const (
	ExitOK    = 0
	ExitError = 1
	ExitUsage = 2
	ExitGate  = 3 // a quality gate (--fail-under) failed
	ExitAuth  = 4 // a server refused the token
)

// CodeError carries an exit code with the error to print.
type CodeError struct {
	Code int
	Err  error
}

func (e *CodeError) Error() string { return e.Err.Error() }
func (e *CodeError) Unwrap() error { return e.Err }

// Exit wraps err with an exit code.
func Exit(code int, err error) error { return &CodeError{Code: code, Err: err} }

// Usage marks err as a usage error (exit 2).
func Usage(format string, a ...any) error { return Exit(ExitUsage, fmt.Errorf(format, a...)) }

// CodeOf returns the exit code err asks for.
func CodeOf(err error) int {
	if err == nil {
		return ExitOK
	}
	var e *CodeError
	if errors.As(err, &e) {
		return e.Code
	}
	return ExitError
}

// IOStreams are a command's input and outputs: data to Out, messages to
// ErrOut. Colour is on only for a terminal without NO_COLOR.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	TTY    bool // Out is a terminal
	Color  bool
	Quiet  bool
}

// System returns the process's streams.
func System() *IOStreams {
	tty := isatty.IsTerminal(os.Stdout.Fd())
	_, noColor := os.LookupEnv("NO_COLOR")
	return &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, TTY: tty, Color: tty && !noColor}
}

// Printf writes a message to ErrOut unless quiet.
func (s *IOStreams) Printf(format string, a ...any) {
	if !s.Quiet {
		fmt.Fprintf(s.ErrOut, format, a...)
	}
}

// Build is what the binary knows of its own build (set by -ldflags).
type Build struct {
	Version string `json:"version" yaml:"version"`
	Commit  string `json:"commit" yaml:"commit"`
	Date    string `json:"date" yaml:"date"`
}

// Factory is handed to every command's constructor.
type Factory struct {
	IO     *IOStreams
	Build  Build
	Getenv func(string) string
}

// Output formats of -o.
const (
	Table = "table"
	JSON  = "json"
	YAML  = "yaml"
)

// CheckFormat refuses an unknown -o value.
func CheckFormat(f string) error {
	switch f {
	case Table, JSON, YAML:
		return nil
	}
	return Usage("unknown output format %q: use table, json or yaml", f)
}

// Print writes v as JSON or YAML, or calls table for the human form.
func Print(w io.Writer, format string, v any, table func(io.Writer) error) error {
	switch format {
	case JSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case YAML:
		// Through JSON so that json tags name the fields.
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		var generic any
		if err := yaml.Unmarshal(b, &generic); err != nil {
			return err
		}
		enc := yaml.NewEncoder(w)
		enc.SetIndent(2)
		defer enc.Close()
		return enc.Encode(generic)
	case Table, "":
		return table(w)
	}
	return CheckFormat(format)
}
