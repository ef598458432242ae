package eval

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/olops/olops/internal/cli/cmdutil"
	"github.com/olops/olops/internal/config"
	"github.com/olops/olops/internal/learn"
)

func shared(t *testing.T) string {
	t.Helper()
	dir, _ := os.Getwd()
	for i := 0; i < 20; i++ {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			s := filepath.Join(filepath.Dir(dir), "shared")
			if _, err := os.Stat(filepath.Join(s, "datasets")); err != nil {
				t.Fatalf("datasets not found at %s", s)
			}
			return s
		}
		dir = filepath.Dir(dir)
	}
	t.Fatal("no go.mod above the test")
	return ""
}

func runCmd(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	f := &cmdutil.Factory{IO: &cmdutil.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, Getenv: func(string) string { return "" }}
	cmd := NewCmd(f)
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	err := cmd.Execute()
	return out.String(), errOut.String(), err
}

type result struct {
	Rows    int                `json:"rows"`
	Scored  int                `json:"scored"`
	Task    string             `json:"task"`
	Model   string             `json:"model"`
	Metrics map[string]float64 `json:"metrics"`
	Drifts  []int              `json:"drifts"`
	Skipped int                `json:"skipped"`
}

func decode(t *testing.T, s string) result {
	t.Helper()
	var r result
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
	return r
}

func TestEvalPhishingJSON(t *testing.T) {
	out, _, err := runCmd(t, filepath.Join(shared(t), "datasets", "phishing.csv.gz"), "--target", "is_phishing", "--model", "logreg", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	r := decode(t, out)
	if r.Rows != 1250 || r.Scored != 1250 || r.Task != "binary" || r.Model != "logreg" {
		t.Errorf("result %+v", r)
	}
	if v := r.Metrics["accuracy"]; v < 0.89279 || v > 0.89281 {
		t.Errorf("accuracy %v, River 0.8928", v)
	}
	if _, ok := r.Metrics["f1"]; !ok {
		t.Errorf("default binary metrics missing: %v", r.Metrics)
	}
	if strings.Contains(out, "drifts") {
		t.Error("drifts printed without --drift")
	}
}

func TestEvalElec2PositiveAndTable(t *testing.T) {
	// elec2's labels are UP/DOWN: without --positive the first label (UP)
	// is taken, which is River's choice for this dataset.
	out, errOut, err := runCmd(t, filepath.Join(shared(t), "datasets", "elec2.csv.gz"), "--target", "class", "--model", "perceptron", "--limit", "5000")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut, `positive class: "UP"`) {
		t.Errorf("no note on the positive class: %q", errOut)
	}
	for _, want := range []string{"accuracy", "perceptron", "5000", "samples/s"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestEvalMulticlassAndRegressionInferred(t *testing.T) {
	out, _, err := runCmd(t, filepath.Join(shared(t), "datasets", "image_segments.csv.gz"), "--target", "category", "--model", "gnb", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	if r := decode(t, out); r.Task != "multiclass" || r.Scored != 2309 || r.Metrics["macro_f1"] == 0 {
		t.Errorf("image_segments: %+v", r)
	}
	out, _, err = runCmd(t, filepath.Join(shared(t), "datasets", "chick_weights.csv"), "--target", "weight", "--model", "linreg", "-o", "yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "task: regression") || !strings.Contains(out, "mae: 23.75") {
		t.Errorf("chick_weights yaml:\n%s", out)
	}
}

func TestEvalGateExitCode(t *testing.T) {
	data := filepath.Join(shared(t), "datasets", "phishing.csv.gz")
	_, _, err := runCmd(t, data, "--target", "is_phishing", "--model", "logreg", "--fail-under", "accuracy=0.95", "-o", "json")
	if cmdutil.CodeOf(err) != cmdutil.ExitGate || !strings.Contains(err.Error(), "accuracy 0.8928 < 0.95") {
		t.Fatalf("gate: code %d, %v", cmdutil.CodeOf(err), err)
	}
	_, _, err = runCmd(t, data, "--target", "is_phishing", "--model", "logreg", "--fail-under", "accuracy=0.85,logloss=0.4")
	if err != nil {
		t.Fatalf("passing gate: %v", err)
	}
	_, _, err = runCmd(t, data, "--target", "is_phishing", "--model", "logreg", "--fail-under", "logloss=0.3")
	if cmdutil.CodeOf(err) != cmdutil.ExitGate {
		t.Fatalf("logloss ceiling: %v", err)
	}
}

func TestEvalUsageErrors(t *testing.T) {
	data := filepath.Join(shared(t), "datasets", "phishing.csv.gz")
	for _, args := range [][]string{
		{data, "--target", "is_phishing"},
		{data, "--target", "is_phishing", "--model", "svm"},
		{"--model", "gnb"},
		{data, "--synth", "sea", "--model", "gnb"},
		{data, "--model", "gnb"},
		{data, "--target", "is_phishing", "--model", "gnb", "-o", "xml"},
		{data, "--target", "is_phishing", "--model", "gnb", "--fail-under", "accuracy"},
		{data, "--target", "is_phishing", "--model", "gnb", "--fail-under", "mae=1"}, // not computed for binary
	} {
		_, _, err := runCmd(t, args...)
		if cmdutil.CodeOf(err) != cmdutil.ExitUsage {
			t.Errorf("%v: code %d (%v), want 2", args, cmdutil.CodeOf(err), err)
		}
	}
}

func TestEvalBrokenRows(t *testing.T) {
	var b strings.Builder
	b.WriteString("x,y\n")
	for i := 0; i < 30; i++ {
		b.WriteString("1.5,1\n0.5,0\n")
	}
	b.WriteString("oops,1\n1,0,7\n")
	path := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(path, []byte(b.String()), 0o600)
	_, _, err := runCmd(t, path, "--target", "y", "--model", "gnb")
	if err == nil || !strings.Contains(err.Error(), "line 62") || !strings.Contains(err.Error(), "--skip-bad") {
		t.Fatalf("broken row: %v", err)
	}
	out, _, err := runCmd(t, path, "--target", "y", "--model", "gnb", "--skip-bad", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	if r := decode(t, out); r.Rows != 60 || r.Skipped != 2 {
		t.Errorf("skip-bad: %+v", r)
	}
}

func TestEvalTraceMatchesReference(t *testing.T) {
	trace := filepath.Join(t.TempDir(), "trace.csv")
	_, _, err := runCmd(t, filepath.Join(shared(t), "datasets", "phishing.csv.gz"), "--target", "is_phishing", "--model", "perceptron", "--trace", trace, "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(trace)
	want, _ := os.ReadFile(filepath.Join(shared(t), "reference", "phishing_trace_perceptron.csv"))
	g := strings.Split(string(got), "\n")
	w := strings.Split(strings.ReplaceAll(string(want), "\r", ""), "\n")
	if len(g) < 4 || g[0] != w[0] || g[1] != w[1] || g[2] != w[2] {
		t.Errorf("trace starts %q, River %q", g[:3], w[:3])
	}
}

func TestEvalSynthWithDrift(t *testing.T) {
	out, _, err := runCmd(t, "--synth", "sea", "--rows", "3000", "--seed", "7", "--drift-at", "1500", "--drift-width", "50", "--model", "gnb", "--drift", "adwin", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	r := decode(t, out)
	if r.Rows != 3000 || r.Task != "binary" || r.Drifts == nil || !strings.Contains(out, `"drifts"`) {
		t.Errorf("synth: %+v\n%s", r, out)
	}
}

func TestEvalConfig(t *testing.T) {
	cfg := config.Default("perceptron", "is_phishing", learn.Binary)
	b, err := cfg.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "olops.yaml")
	os.WriteFile(path, b, 0o600)
	out, _, err := runCmd(t, filepath.Join(shared(t), "datasets", "phishing.csv.gz"), "--config", path, "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	if r := decode(t, out); r.Model != "perceptron" || r.Metrics["accuracy"] < 0.8359 || r.Metrics["accuracy"] > 0.8361 {
		t.Errorf("config run: %+v", r)
	}
}
