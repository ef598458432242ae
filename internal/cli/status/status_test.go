package status

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/olops/olops/internal/api"
	"github.com/olops/olops/internal/cli/clitest"
	"github.com/olops/olops/internal/cli/cmdutil"
)

func TestStatusTable(t *testing.T) {
	fake := clitest.NewFake(t)
	env := clitest.Env(t, "OLOPS_MANAGEMENT_URL", fake.URL)
	r := clitest.Run(t, env, NewCmd)
	if r.Code != 0 {
		t.Fatalf("exit %d: %v", r.Code, r.Error)
	}
	clitest.Golden(t, "status.txt", strings.ReplaceAll(r.Out, fake.URL, "URL"))
}

func TestStatusJSON(t *testing.T) {
	fake := clitest.NewFake(t)
	r := clitest.Run(t, clitest.Env(t), NewCmd, "--url", fake.URL, "-o", "json")
	if r.Code != 0 {
		t.Fatalf("exit %d: %v", r.Code, r.Error)
	}
	var st Status
	if err := json.Unmarshal([]byte(r.Out), &st); err != nil {
		t.Fatal(err)
	}
	if st.Name != "churn" || st.Version != 2 || st.State != "learning" || !st.Ready || st.LastDrift == nil || st.LastDrift.Index != 10175 || st.Overall["accuracy"] != 0.8731 {
		t.Fatalf("status = %+v", st)
	}
}

func TestMetricsTableAndYAML(t *testing.T) {
	fake := clitest.NewFake(t)
	env := clitest.Env(t, "OLOPS_MANAGEMENT_URL", fake.URL)
	r := clitest.Run(t, env, NewCmdMetrics)
	if r.Code != 0 {
		t.Fatalf("exit %d: %v", r.Code, r.Error)
	}
	clitest.Golden(t, "metrics.txt", r.Out)
	r = clitest.Run(t, env, NewCmdMetrics, "-o", "yaml")
	if r.Code != 0 || !strings.Contains(r.Out, "accuracy: 0.8731") || !strings.Contains(r.Out, "predictions_per_second: 1520.5") {
		t.Fatalf("yaml: exit %d\n%s", r.Code, r.Out)
	}
}

func TestDrift(t *testing.T) {
	fake := clitest.NewFake(t)
	env := clitest.Env(t, "OLOPS_MANAGEMENT_URL", fake.URL)
	r := clitest.Run(t, env, NewCmdDrift)
	if r.Code != 0 {
		t.Fatalf("exit %d: %v", r.Code, r.Error)
	}
	clitest.Golden(t, "drift.txt", r.Out)
	r = clitest.Run(t, env, NewCmdDrift, "-o", "json")
	var d api.Drift
	if err := json.Unmarshal([]byte(r.Out), &d); err != nil || len(d.Events) != 1 || d.Events[0].Before != 0.9012 {
		t.Fatalf("json: %v %+v", err, d)
	}
}

func TestTokenRefusedExits4(t *testing.T) {
	fake := clitest.NewFake(t)
	fake.Token = "right"
	env := clitest.Env(t, "OLOPS_MANAGEMENT_URL", fake.URL, "OLOPS_MANAGEMENT_TOKEN", "wrong")
	r := clitest.Run(t, env, NewCmdMetrics)
	if r.Code != cmdutil.ExitAuth {
		t.Fatalf("exit %d, want 4: %v", r.Code, r.Error)
	}
	env["OLOPS_MANAGEMENT_TOKEN"] = "right"
	if r := clitest.Run(t, env, NewCmdMetrics); r.Code != 0 {
		t.Fatalf("right token: exit %d: %v", r.Code, r.Error)
	}
}

func TestBadOutputFormatIsUsage(t *testing.T) {
	fake := clitest.NewFake(t)
	r := clitest.Run(t, clitest.Env(t), NewCmdDrift, "--url", fake.URL, "-o", "xml")
	if r.Code != cmdutil.ExitUsage || len(fake.Seen()) != 0 {
		t.Fatalf("exit %d, requests %v", r.Code, fake.Seen())
	}
}

func TestNoServerSaysStartOne(t *testing.T) {
	r := clitest.Run(t, clitest.Env(t), NewCmd)
	if r.Code != cmdutil.ExitUsage || !strings.Contains(r.Error.Error(), "olops serve") {
		t.Fatalf("exit %d: %v", r.Code, r.Error)
	}
	r = clitest.Run(t, clitest.Env(t), NewCmd, "--url", "http://127.0.0.1:1")
	if r.Code != cmdutil.ExitError || !strings.Contains(r.Error.Error(), "cannot reach http://127.0.0.1:1 (connection refused)") {
		t.Fatalf("exit %d: %v", r.Code, r.Error)
	}
}

// Colour only when the streams allow it, never in pipes or with NO_COLOR.
func TestStatusColourOnlyOnColourTerminal(t *testing.T) {
	fake := clitest.NewFake(t)
	for _, color := range []bool{false, true} {
		f, out, errOut := clitest.Factory(clitest.Env(t, "OLOPS_MANAGEMENT_URL", fake.URL), "")
		f.IO.TTY, f.IO.Color = color, color
		r := clitest.RunWith(context.Background(), f, out, errOut, NewCmd(f))
		if r.Code != 0 {
			t.Fatal(r.Error)
		}
		if got := strings.Contains(r.Out, "\x1b["); got != color {
			t.Errorf("color=%v: escape codes present = %v\n%q", color, got, r.Out)
		}
	}
}
