package validate

import (
	"os"
	"strings"
	"testing"

	"github.com/olops/olops/internal/cli/clitest"
	"github.com/olops/olops/internal/config"
	"github.com/olops/olops/internal/learn"
)

// Without an argument validate checks ./olops.yaml, like serve and deploy.
func TestNoArgumentChecksOlopsYAML(t *testing.T) {
	t.Chdir(t.TempDir())
	r := clitest.Run(t, clitest.Env(t), NewCmd)
	if r.Code != 1 || !strings.Contains(r.Error.Error(), "olops.yaml") {
		t.Fatalf("no olops.yaml: exit %d, %v; want exit 1 naming olops.yaml", r.Code, r.Error)
	}

	b, err := config.Default("logreg", "y", learn.Binary).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("olops.yaml", b, 0o644); err != nil {
		t.Fatal(err)
	}
	r = clitest.Run(t, clitest.Env(t), NewCmd)
	if r.Code != 0 || !strings.HasPrefix(r.Out, "olops.yaml: valid") {
		t.Fatalf("valid olops.yaml: exit %d, %v, out %q", r.Code, r.Error, r.Out)
	}
}
