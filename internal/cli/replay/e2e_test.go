package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/olops/olops/internal/client"
)

// The end-to-end tests run the real binary: `olops serve` on loopback,
// `olops replay` into it, and `olops eval` on the same data in-process.
var olopsBin string

func TestMain(m *testing.M) {
	code := func() int {
		dir, err := os.MkdirTemp("", "olops-replay-e2e")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		olopsBin = filepath.Join(dir, "olops")
		cmd := exec.Command("go", "build", "-o", olopsBin, "./cmd/olops")
		cmd.Dir = repoRoot()
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "building olops for the end-to-end tests: %v\n%s", err, out)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

func sharedDir(t *testing.T) string {
	t.Helper()
	d := filepath.Join(repoRoot(), "..", "shared")
	if _, err := os.Stat(filepath.Join(d, "datasets")); err != nil {
		t.Fatalf("the shared data (%s) is missing: clone the repository beside shared/: %v", d, err)
	}
	return d
}

// olops runs the binary with env and returns stdout, stderr and the exit code.
func olops(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, olopsBin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("olops %v: %v", args, err)
	}
	return out.String(), errOut.String(), code
}

// serve starts `olops serve args...` on free loopback ports and returns the
// environment that points the other commands at it. The server is stopped
// (SIGTERM, then waited for) when the test ends.
func serve(t *testing.T, args ...string) []string {
	t.Helper()
	dir := t.TempDir()
	ctxFile := filepath.Join(dir, "contexts.json")
	env := []string{"OLOPS_CONTEXT=" + ctxFile, "OLOPS_URL=", "OLOPS_MANAGEMENT_URL=", "OLOPS_PUBLIC_TOKEN=", "OLOPS_MANAGEMENT_TOKEN="}
	args = append([]string{"serve", "--data-dir", filepath.Join(dir, "data"), "--public-addr", "127.0.0.1:0", "--management-addr", "127.0.0.1:0"}, args...)
	cmd := exec.Command(olopsBin, args...)
	cmd.Env = append(os.Environ(), env...)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("server log:\n%s", log.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-done:
			t.Fatalf("olops serve exited: %v\n%s", err, log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("olops serve not ready after 30s\n%s", log.String())
		}
		if cs, err := client.LoadContexts(ctxFile); err == nil {
			if c, ok := cs.Get(""); ok && c.PublicURL != "" {
				rctx, cancel := context.WithTimeout(context.Background(), time.Second)
				err := client.New(c.PublicURL, "").Readyz(rctx)
				cancel()
				if err == nil {
					return env
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type evalJSON struct {
	Rows    int                `json:"rows"`
	Scored  int                `json:"scored"`
	Task    string             `json:"task"`
	Metrics map[string]float64 `json:"metrics"`
	Drifts  []int              `json:"drifts"`
}

func sameResult(t *testing.T, replayOut, evalOut string) {
	t.Helper()
	var r, e evalJSON
	if err := json.Unmarshal([]byte(replayOut), &r); err != nil {
		t.Fatalf("replay -o json: %v\n%s", err, replayOut)
	}
	if err := json.Unmarshal([]byte(evalOut), &e); err != nil {
		t.Fatalf("eval -o json: %v\n%s", err, evalOut)
	}
	if r.Rows != e.Rows || r.Scored != e.Scored || r.Task != e.Task {
		t.Errorf("replay rows/scored/task %d/%d/%s, eval %d/%d/%s", r.Rows, r.Scored, r.Task, e.Rows, e.Scored, e.Task)
	}
	if len(r.Metrics) != len(e.Metrics) || len(e.Metrics) == 0 {
		t.Errorf("metrics differ: replay %v, eval %v", r.Metrics, e.Metrics)
	}
	for k, ev := range e.Metrics {
		rv, ok := r.Metrics[k]
		if !ok || math.Abs(rv-ev) > 1e-9 {
			t.Errorf("%s: replay %v, eval %v", k, rv, ev)
		}
	}
	if e.Drifts != nil && fmt.Sprint(r.Drifts) != fmt.Sprint(e.Drifts) {
		t.Errorf("drifts: replay %v, eval %v", r.Drifts, e.Drifts)
	}
}

// TestReplayEqualsEvalCSV: a config scaffolded by olops init, served; the
// phishing data replayed into it scores what olops eval scores.
func TestReplayEqualsEvalCSV(t *testing.T) {
	data := filepath.Join(sharedDir(t), "datasets", "phishing.csv.gz")
	dir := t.TempDir()
	if out, errOut, code := olops(t, nil, "init", "phish", "--dir", dir, "--target", "is_phishing", "--model", "logreg"); code != 0 {
		t.Fatalf("init: exit %d\n%s%s", code, out, errOut)
	}
	cfg := filepath.Join(dir, "olops.yaml")
	env := serve(t, "--config", cfg)
	rOut, rErr, code := olops(t, env, "replay", data, "--batch", "100", "-o", "json")
	if code != 0 {
		t.Fatalf("replay: exit %d\n%s", code, rErr)
	}
	eOut, eErr, code := olops(t, env, "eval", data, "--config", cfg, "-o", "json")
	if code != 0 {
		t.Fatalf("eval: exit %d\n%s", code, eErr)
	}
	sameResult(t, rOut, eOut)

	// The server counted what replay sent.
	mOut, _, code := olops(t, env, "metrics", "-o", "json")
	var m struct {
		Counters struct{ Learns int } `json:"counters"`
	}
	if code != 0 || json.Unmarshal([]byte(mOut), &m) != nil || m.Counters.Learns != 1250 {
		t.Errorf("server learns after replay: %s (exit %d)", mOut, code)
	}
}

// TestReplayEqualsEvalSynthDrift: the demo's drifting SEA stream gives the
// same scores and drift rows as olops eval with the server's detector.
func TestReplayEqualsEvalSynthDrift(t *testing.T) {
	env := serve(t, "--model", "logreg", "--target", "y", "--task", "binary")
	synth := []string{"--synth", "sea", "--rows", "6000", "--drift-at", "3000", "--drift-width", "200", "--seed", "7"}
	rOut, rErr, code := olops(t, env, append([]string{"replay", "-o", "json"}, synth...)...)
	if code != 0 {
		t.Fatalf("replay: exit %d\n%s", code, rErr)
	}
	eOut, eErr, code := olops(t, env, append([]string{"eval", "--model", "logreg", "--drift", "adwin", "-o", "json"}, synth...)...)
	if code != 0 {
		t.Fatalf("eval: exit %d\n%s", code, eErr)
	}
	sameResult(t, rOut, eOut)
}

// TestReplayGateAndTable: a gate the model cannot reach exits 3 after the
// summary table; the server's drift events are in the table.
func TestReplayGateAndTable(t *testing.T) {
	env := serve(t, "--model", "logreg", "--target", "y", "--task", "binary")
	out, errOut, code := olops(t, env, "replay", "--synth", "sea", "--rows", "3000", "--seed", "1", "--fail-under", "accuracy=0.999")
	if code != 3 {
		t.Fatalf("exit %d, want 3\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"METRIC", "accuracy", "rows:", "3000", "rows/s:"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "quality gate failed: accuracy") {
		t.Errorf("stderr: %s", errOut)
	}
	if strings.Contains(errOut, "\x1b[") {
		t.Errorf("escape codes when not on a terminal: %q", errOut)
	}
	_, _, code = olops(t, env, "replay", "--synth", "sea", "--rows", "500", "--fail-under", "accuracy=0.5", "-q")
	if code != 0 {
		t.Fatalf("reachable gate: exit %d", code)
	}
}
