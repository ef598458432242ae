package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/olops/olops/internal/learn"
)

const good = `apiVersion: olops.dev/v1
kind: Model
metadata:
  name: phishing
spec:
  target: is_phishing
  pipeline:
    model: logreg
`

func TestParseAppliesDefaults(t *testing.T) {
	c, err := Parse([]byte(good), "olops.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := c.Spec
	if s.Task != learn.Binary {
		t.Errorf("task = %q, want binary (from the model)", s.Task)
	}
	if s.Window != 1000 || s.Drift.Detector != "adwin" || s.Drift.Watches != "error" {
		t.Errorf("window/drift defaults: %d %q %q", s.Window, s.Drift.Detector, s.Drift.Watches)
	}
	if s.Snapshots.Every != 10000 || s.Snapshots.Keep != 5 {
		t.Errorf("snapshot defaults: %+v", s.Snapshots)
	}
	if s.Durability != "batch" || s.Guard.MaxBodyBytes != 1<<20 {
		t.Errorf("durability %q maxBody %d", s.Durability, s.Guard.MaxBodyBytes)
	}
	if len(s.Metrics) == 0 {
		t.Error("no default metrics")
	}
}

func TestRegressionTaskFromModel(t *testing.T) {
	c, err := Parse([]byte(strings.Replace(good, "logreg", "linreg", 1)), "olops.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Spec.Task != learn.Regression {
		t.Errorf("task = %q, want regression", c.Spec.Task)
	}
}

func TestErrorsNameLineAndField(t *testing.T) {
	cases := []struct {
		name, yaml, want string
	}{
		{"unknown model", strings.Replace(good, "logreg", "foo", 1),
			`olops.yaml:8: spec.pipeline.model: unknown model "foo" (known: `},
		{"unknown field", good + "  colour: red\n", `olops.yaml:9: unknown field "colour"`},
		{"wrong type", good + "  window: lots\n", `olops.yaml:9: `},
		{"bad durability", good + "  durability: sometimes\n", `olops.yaml:9: spec.durability: unknown mode "sometimes"`},
		{"bad task", good + "  task: clustering\n", `olops.yaml:9: spec.task: unknown task "clustering"`},
		{"task vs model", good + "  task: regression\n", `olops.yaml:9: spec.task: model "logreg" is a classification model`},
		{"no target", strings.Replace(good, "  target: is_phishing\n", "", 1), `spec.target: is required`},
		{"bad version", strings.Replace(good, "olops.dev/v1", "v2", 1), `olops.yaml:1: apiVersion: must be "olops.dev/v1"`},
		{"bad name", strings.Replace(good, "phishing", "Bad_Name", 1), `olops.yaml:4: metadata.name:`},
		{"bad drift", good + "  drift:\n    detector: magic\n", `olops.yaml:10: spec.drift.detector: unknown detector "magic"`},
		{"bad feature type", good + "  features:\n  - name: a\n    type: text\n", `olops.yaml:11: spec.features[0].type: unknown type "text"`},
		{"bad label", good + "  guard:\n    labels: [cat, dog]\n", `olops.yaml:10: spec.guard.labels[0]: label "cat" is not binary`},
		{"snapshots", good + "  snapshots:\n    every: -3\n", `olops.yaml:10: spec.snapshots.every: must be at least 1`},
		{"bad policy", good + "  policy:\n    onDrift: retrain\n", `olops.yaml:10: spec.policy.onDrift: unknown policy "retrain"`},
		{"challenger bounds", good + "  policy:\n    onDrift: challenger\n    challenger:\n      minEvents: 500\n      maxEvents: 100\n",
			`olops.yaml:13: spec.policy.challenger.maxEvents: 100 is less than minEvents (500)`},
		{"challenger margin", good + "  policy:\n    challenger:\n      margin: -0.1\n", `olops.yaml:11: spec.policy.challenger.margin: must be 0 or more`},
		{"syntax", good + "  : [\n", `olops.yaml:`},
		{"empty", "", `olops.yaml:1: the file is empty`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), "olops.yaml")
			if err == nil {
				t.Fatalf("no error for\n%s", tc.yaml)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q\ndoes not contain %q", err, tc.want)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %T is not a *config.Error", err)
			}
		})
	}
}

func TestSeveralErrorsAllReported(t *testing.T) {
	y := strings.Replace(good, "logreg", "foo", 1) + "  durability: x\n"
	_, err := Parse([]byte(y), "m.yaml")
	if err == nil || !strings.Contains(err.Error(), "spec.pipeline.model") || !strings.Contains(err.Error(), "spec.durability") {
		t.Fatalf("want both errors, got %v", err)
	}
}

func TestLoadAndRoundTrip(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "olops.yaml")
	if err := os.WriteFile(p, []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	c2, err := Parse(b, "again")
	if err != nil {
		t.Fatalf("marshalled config does not parse: %v\n%s", err, b)
	}
	if c2.Spec.Pipeline.Model != "logreg" || c2.Spec.Window != c.Spec.Window {
		t.Fatalf("round trip changed the config: %+v", c2.Spec)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Fatal("no error for a missing file")
	}
}

func TestJSONIsAccepted(t *testing.T) {
	j := `{"apiVersion":"olops.dev/v1","kind":"Model","metadata":{"name":"m"},"spec":{"target":"y","pipeline":{"model":"logreg","params":{"l2":0.1}}}}`
	if _, err := Parse([]byte(j), "body"); err != nil {
		t.Fatal(err)
	}
}

func TestDefaultIsValid(t *testing.T) {
	c := Default("logreg", "y", learn.Binary)
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Metadata.Name != "logreg" || c.Spec.Durability != "batch" {
		t.Fatalf("%+v", c)
	}
	if err := Default("nope", "y", learn.Binary).Validate(); err == nil {
		t.Fatal("unknown model passed")
	}
}

func TestChallengerBounds(t *testing.T) {
	for _, tc := range []struct {
		p              ChallengerPolicy
		window, lo, hi int
	}{
		{ChallengerPolicy{}, 1000, 1000, 10000},
		{ChallengerPolicy{MinEvents: 200}, 1000, 200, 2000},
		{ChallengerPolicy{MinEvents: 200, MaxEvents: 300}, 1000, 200, 300},
		{ChallengerPolicy{}, 0, 1, 10},
	} {
		if lo, hi := tc.p.Bounds(tc.window); lo != tc.lo || hi != tc.hi {
			t.Errorf("%+v window %d: %d..%d, want %d..%d", tc.p, tc.window, lo, hi, tc.lo, tc.hi)
		}
	}
}
