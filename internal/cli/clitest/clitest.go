// Package clitest runs olops commands in tests: captured streams, a fake
// environment, golden files, and a fake olops server with fixed answers.
package clitest

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/olops/olops/internal/cli/cmdutil"
	"github.com/spf13/cobra"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// Result is a finished command run.
type Result struct {
	Out, Err string
	Code     int
	Error    error
}

// Env is a test's environment; OLOPS_CONTEXT points into a temp dir so no
// real context file is read.
func Env(t *testing.T, kv ...string) map[string]string {
	t.Helper()
	env := map[string]string{"OLOPS_CONTEXT": filepath.Join(t.TempDir(), "contexts.json"), "HOME": t.TempDir()}
	for i := 0; i+1 < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
	}
	return env
}

// Factory returns a factory writing into buffers, not a terminal.
func Factory(env map[string]string, stdin string) (*cmdutil.Factory, *bytes.Buffer, *bytes.Buffer) {
	var out, errOut bytes.Buffer
	f := &cmdutil.Factory{
		IO:     &cmdutil.IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut},
		Build:  cmdutil.Build{Version: "test", Commit: "none", Date: "unknown"},
		Getenv: func(k string) string { return env[k] },
	}
	return f, &out, &errOut
}

// Run executes the command built by newCmd with args, the way main does.
func Run(t *testing.T, env map[string]string, newCmd func(*cmdutil.Factory) *cobra.Command, args ...string) Result {
	t.Helper()
	f, out, errOut := Factory(env, "")
	return RunWith(context.Background(), f, out, errOut, newCmd(f), args...)
}

// RunWith executes cmd with a prepared factory's buffers.
func RunWith(ctx context.Context, f *cmdutil.Factory, out, errOut *bytes.Buffer, cmd *cobra.Command, args ...string) Result {
	if args == nil {
		args = []string{} // nil makes cobra read os.Args
	}
	cmd.SetArgs(args)
	cmd.SetOut(out)
	cmd.SetErr(errOut)
	cmd.SilenceUsage = true
	cmd.SilenceErrors = true
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return cmdutil.Exit(cmdutil.ExitUsage, err) })
	err := cmd.ExecuteContext(ctx)
	return Result{Out: out.String(), Err: errOut.String(), Code: cmdutil.CodeOf(err), Error: err}
}

// Golden compares got with testdata/NAME, or rewrites it under -update.
func Golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v: run 'go test -update' to create it", err)
	}
	if string(want) != got {
		t.Errorf("output differs from %s (run 'go test -update' if the change is intended)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
