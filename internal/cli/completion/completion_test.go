package completion_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/olops/olops/internal/cli/clitest"
	"github.com/olops/olops/internal/cli/completion"
	"github.com/olops/olops/internal/cli/root"
)

// TestCompletionsFresh regenerates every shell's script from the real
// command tree and compares it with completions/, which releases ship.
func TestCompletionsFresh(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "completions")
	for _, sh := range completion.Shells {
		f, _, _ := clitest.Factory(clitest.Env(t), "")
		var want bytes.Buffer
		if err := completion.Write(root.NewCmd(f), sh, &want); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(dir, "olops."+sh))
		if err != nil {
			t.Fatalf("%v: run 'make completions'", err)
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Errorf("completions/olops.%s is stale: run 'make completions'", sh)
		}
	}
}

func TestCompletionCommand(t *testing.T) {
	for _, sh := range completion.Shells {
		env := clitest.Env(t)
		r := clitest.Run(t, env, root.NewCmd, "completion", sh)
		if r.Code != 0 || !strings.Contains(r.Out, "olops") || len(r.Out) < 1000 {
			t.Errorf("%s: exit %d, %d bytes: %v", sh, r.Code, len(r.Out), r.Error)
		}
	}
	r := clitest.Run(t, clitest.Env(t), root.NewCmd, "completion", "tcsh")
	if r.Code != 2 || !strings.Contains(r.Error.Error(), "use bash, zsh, fish or powershell") {
		t.Errorf("unknown shell: exit %d: %v", r.Code, r.Error)
	}
}

// The dynamic completion lists the commands of the tree.
func TestCompleteCommands(t *testing.T) {
	r := clitest.Run(t, clitest.Env(t), root.NewCmd, "__complete", "re")
	for _, want := range []string{"replay", "resume"} {
		if !strings.Contains(r.Out, want) {
			t.Errorf("completing 're' lacks %s:\n%s", want, r.Out)
		}
	}
}
