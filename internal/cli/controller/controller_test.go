package controller

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/olops/olops/internal/cli/clitest"
	"github.com/olops/olops/internal/cli/cmdutil"
	ctl "github.com/olops/olops/internal/controller"
)

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--dir", "x", "-o", "xml"},
		{"--dir", "x", "--interval", "0s"},
		{"--dir", "x", "extra"},
		{"--dir", "x", "-o", "json"},
	} {
		r := clitest.Run(t, clitest.Env(t), NewCmd, args...)
		if r.Code != cmdutil.ExitUsage {
			t.Errorf("olops controller %s: exit %d (%v), want %d", strings.Join(args, " "), r.Code, r.Error, cmdutil.ExitUsage)
		}
	}
}

// One pass over a folder with only a broken file: the report names it
// with its file:line and nothing is deployed. Needs the Docker Engine (to
// list what runs), like the controller's end-to-end test.
func TestOnceReportsInvalidFile(t *testing.T) {
	dir := t.TempDir()
	bad := "apiVersion: olops.dev/v1\nkind: Model\nmetadata:\n  name: zz-broken\nspec:\n  task: binary\n  target: y\n  pipeline:\n    model: nope\n"
	if err := os.WriteFile(filepath.Join(dir, "broken.yaml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	env := clitest.Env(t, "OLOPS_CONTEXT", filepath.Join(dir, "contexts.json"))
	r := clitest.Run(t, env, NewCmd, "--dir", dir, "--once", "-o", "json")
	if r.Code != 0 {
		if strings.Contains(r.Err+r.Error.Error(), "Docker Engine") {
			t.Fatalf("this test needs a running Docker Engine: %v", r.Error)
		}
		t.Fatalf("exit %d: %v\n%s", r.Code, r.Error, r.Err)
	}
	var rep ctl.Report
	if err := json.Unmarshal([]byte(r.Out), &rep); err != nil {
		t.Fatalf("stdout is not the JSON report (%v):\n%s", err, r.Out)
	}
	if len(rep.Invalid) != 1 || rep.Invalid[0].Name != "zz-broken" || !strings.Contains(rep.Invalid[0].Error, "broken.yaml:9: spec.pipeline.model") {
		t.Fatalf("invalid = %+v", rep.Invalid)
	}
	for _, a := range rep.Actions {
		if a.Model == "zz-broken" {
			t.Errorf("the broken file's model got an action: %+v", a)
		}
	}
	// The logs went to stderr, as JSON lines.
	if !strings.Contains(r.Err, `"msg":"invalid config: its model is left as it runs"`) {
		t.Errorf("stderr has no JSON log of the invalid file:\n%s", r.Err)
	}
}

func TestReportTable(t *testing.T) {
	rep := &ctl.Report{
		Actions: []ctl.Result{
			{Action: ctl.Action{Kind: ctl.Create, Model: "a", File: "m/a.yaml", Reason: "new file"}},
			{Action: ctl.Action{Kind: ctl.Update, Model: "b", File: "m/b.yaml", Reason: "config changed"}, Error: "boom\nmore"},
		},
		Invalid: []ctl.Invalid{{File: "m/c.yaml", Name: "c", Error: "m/c.yaml:3: bad"}},
		Drifts:  []ctl.Applied{{Model: "a", Decision: ctl.Decision{Action: "rollback", Version: 2, Reason: "drift"}}},
	}
	var buf bytes.Buffer
	if err := reportTable(&buf, rep); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, s := range []string{"MODEL", "create", "m/a.yaml", "FAILED: boom more", "invalid", "m/c.yaml:3: bad", "drift:rollback"} {
		if !strings.Contains(out, s) {
			t.Errorf("table lacks %q:\n%s", s, out)
		}
	}
}

func TestStatusTable(t *testing.T) {
	st := []ctl.ModelStatus{
		{Model: "a", Managed: true, State: "running", Version: 3, Learns: 1200, Predictions: 1300, Drifts: 1, Rolling: map[string]float64{"f1": 0.5, "accuracy": 0.75}},
		{Model: "h", State: "exited"},
		{Model: "e", Managed: true, State: "running", Error: "refused"},
	}
	var buf bytes.Buffer
	if err := statusTable(&buf, st); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("want a header and 3 rows:\n%s", buf.String())
	}
	if !strings.Contains(lines[1], "controller") || !strings.Contains(lines[1], "1200") || strings.Index(lines[1], "accuracy=") > strings.Index(lines[1], "f1=") {
		t.Errorf("row a: %q (metrics sorted by name)", lines[1])
	}
	if !strings.Contains(lines[2], "hand") || !strings.Contains(lines[3], "(refused)") {
		t.Errorf("rows:\n%s", buf.String())
	}
}
