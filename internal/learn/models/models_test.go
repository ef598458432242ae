package models_test

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/models"
)

func TestNamesAndTasks(t *testing.T) {
	names := models.Names()
	for _, n := range []string{"logreg", "perceptron", "pa", "gnb", "linreg", "pa-regressor"} {
		if !slices.Contains(names, n) {
			t.Errorf("Names() = %v lacks %s", names, n)
		}
	}
	if task, ok := models.TaskOf("linreg"); !ok || task != learn.Regression {
		t.Errorf("TaskOf(linreg) = %v %v", task, ok)
	}
	if task, ok := models.TaskOf("gnb"); !ok || task != learn.Binary {
		t.Errorf("TaskOf(gnb) = %v %v", task, ok)
	}
	if _, ok := models.TaskOf("svm"); ok {
		t.Error("TaskOf(svm) known")
	}
}

func TestNewErrors(t *testing.T) {
	cases := []struct {
		spec learn.Spec
		want string
	}{
		{learn.Spec{Model: "svm"}, `unknown model "svm"`},
		{learn.Spec{Model: "linreg", Task: learn.Binary}, "is a regressor"},
		{learn.Spec{Model: "gnb", Task: learn.Regression}, "is a classifier"},
		{learn.Spec{Model: "logreg", Params: map[string]any{"lrate": 1}}, `"lrate"`},
		{learn.Spec{Model: "logreg", Steps: []learn.Step{{Name: "pca"}}}, `unknown preprocessing step "pca"`},
		{learn.Spec{Model: "logreg", Task: "ranking"}, "unknown task"},
	}
	for _, c := range cases {
		if _, err := models.New(c.spec); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%+v) error %v, want %q", c.spec, err, c.want)
		}
	}
}

func TestDefaultPipelines(t *testing.T) {
	p, err := models.New(learn.Spec{Model: "logreg"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Spec.Task != learn.Binary || len(p.Steps) != 1 || p.Clf == nil {
		t.Errorf("logreg: task %s, %d steps", p.Spec.Task, len(p.Steps))
	}
	p, _ = models.New(learn.Spec{Model: "perceptron"})
	if len(p.Steps) != 0 {
		t.Errorf("perceptron has %d steps, River's has none", len(p.Steps))
	}
	p, _ = models.New(learn.Spec{Model: "logreg", Steps: []learn.Step{{Name: "OneHotEncoder"}, {Name: "StandardScaler"}}})
	if len(p.Steps) != 2 {
		t.Errorf("explicit steps: %d", len(p.Steps))
	}
}

type sample struct {
	f     map[string]any
	label string
	y     float64
}

func synthetic(n int, task learn.Task) []sample {
	out := make([]sample, n)
	colors := []string{"red", "green", "blue"}
	for i := range out {
		a, b := math.Sin(float64(i)*0.37), math.Cos(float64(i)*0.11)*3
		f := map[string]any{"a": a, "b": b, "color": colors[i%3]}
		if i%9 == 0 {
			delete(f, "b")
		}
		if i > n/2 {
			f["late"] = float64(i % 4) // a feature appearing mid-stream
		}
		s := sample{f: f, y: 2*a - b + 0.1*float64(i%3)}
		switch task {
		case learn.Binary:
			s.label = "0"
			if a+0.2*b > 0 {
				s.label = "1"
			}
		case learn.Multiclass:
			s.label = []string{"x", "y", "z"}[int(math.Abs(a*b*10))%3]
		}
		out[i] = s
	}
	return out
}

// step predicts then learns one sample and returns the prediction's bits.
func step(t *testing.T, p *learn.Pipeline, s sample, r *learn.Row) []uint64 {
	t.Helper()
	if err := p.Row(s.f, r); err != nil {
		t.Fatal(err)
	}
	pred := p.Predict(r)
	bits := []uint64{math.Float64bits(pred.Value), uint64(pred.Class)}
	for _, q := range pred.Proba {
		bits = append(bits, math.Float64bits(q))
	}
	if p.Spec.Task == learn.Regression {
		p.LearnValue(r, s.y)
	} else if err := p.LearnClass(r, s.label); err != nil {
		t.Fatal(err)
	}
	return bits
}

// TestRestoreBitIdentical: every model, snapshotted mid-stream and
// restored, predicts bit-identically to the original on the rest.
func TestRestoreBitIdentical(t *testing.T) {
	type tc struct {
		spec learn.Spec
	}
	var cases []tc
	for _, n := range models.Names() {
		task, _ := models.TaskOf(n)
		cases = append(cases, tc{learn.Spec{Model: n, Task: task}})
		if task == learn.Binary {
			cases = append(cases, tc{learn.Spec{Model: n, Task: learn.Multiclass}})
		}
	}
	cases = append(cases,
		tc{learn.Spec{Model: "logreg", Task: learn.Binary, Steps: []learn.Step{{Name: "one_hot"}, {Name: "standard_scaler"}}, Params: map[string]any{"optimizer": "adam"}}},
		tc{learn.Spec{Model: "linreg", Task: learn.Regression, Steps: []learn.Step{{Name: "feature_hasher", Params: map[string]any{"n_features": 32}}, {Name: "minmax_scaler"}}}},
	)
	for _, c := range cases {
		name := c.spec.Model + "/" + string(c.spec.Task)
		if len(c.spec.Steps) > 0 {
			name += "/steps"
		}
		t.Run(name, func(t *testing.T) {
			data := synthetic(400, c.spec.Task)
			p, err := models.New(c.spec)
			if err != nil {
				t.Fatal(err)
			}
			var r learn.Row
			for _, s := range data[:250] {
				step(t, p, s, &r)
			}
			snap, err := p.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			q, err := models.Restore(snap)
			if err != nil {
				t.Fatal(err)
			}
			var r2 learn.Row
			for i, s := range data[250:] {
				a, b := step(t, p, s, &r), step(t, q, s, &r2)
				if !slices.Equal(a, b) {
					t.Fatalf("row %d: restored predicts %v, original %v", 250+i, b, a)
				}
			}
		})
	}
}

func TestParamsAndPatch(t *testing.T) {
	p, err := models.New(learn.Spec{Model: "logreg", Task: learn.Multiclass, Params: map[string]any{"lr": 0.05}})
	if err != nil {
		t.Fatal(err)
	}
	if got := models.Params(p)["lr"]; got != 0.05 {
		t.Errorf("lr = %v", got)
	}
	if err := models.Patch(p, map[string]any{"lr": 0.2, "bogus": 1}); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("unknown param: %v", err)
	}
	if got := models.Params(p)["lr"]; got != 0.05 {
		t.Errorf("failed patch changed lr to %v", got)
	}
	if err := models.Patch(p, map[string]any{"lr": 0.2}); err != nil {
		t.Fatal(err)
	}
	var r learn.Row
	for _, s := range synthetic(50, learn.Multiclass) {
		step(t, p, s, &r)
	}
	snap, _ := p.MarshalBinary()
	q, err := models.Restore(snap)
	if err != nil {
		t.Fatal(err)
	}
	if got := models.Params(q)["lr"]; got != 0.2 {
		t.Errorf("restored lr = %v, want the patched 0.2", got)
	}
	g, _ := models.New(learn.Spec{Model: "gnb"})
	if err := models.Patch(g, map[string]any{"x": 1}); err == nil {
		t.Error("gnb patched")
	}
}

// TestPipelineNoAllocations: predict and learn allocate nothing per sample
// in the linear pipelines and naive Bayes once the schema is known.
func TestPipelineNoAllocations(t *testing.T) {
	for _, n := range []string{"logreg", "perceptron", "pa", "gnb", "linreg", "pa-regressor"} {
		task, _ := models.TaskOf(n)
		p, _ := models.New(learn.Spec{Model: n, Task: task})
		var r learn.Row
		p.Row(map[string]any{"a": 1.0, "b": 2.0, "c": 3.0}, &r)
		if task == learn.Regression {
			p.LearnValue(&r, 1)
		} else {
			p.LearnClass(&r, "1")
			p.LearnClass(&r, "0")
		}
		allocs := testing.AllocsPerRun(200, func() {
			p.Predict(&r)
			if task == learn.Regression {
				p.LearnValue(&r, 2)
			} else {
				p.LearnClass(&r, "1")
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocs per sample", n, allocs)
		}
	}
}

func TestMulticlassPipelineNoAllocations(t *testing.T) {
	for _, n := range []string{"logreg", "perceptron", "pa", "gnb"} {
		p, _ := models.New(learn.Spec{Model: n, Task: learn.Multiclass})
		var r learn.Row
		p.Row(map[string]any{"a": 1.0, "b": 2.0}, &r)
		for _, l := range []string{"x", "y", "z"} {
			p.LearnClass(&r, l)
		}
		allocs := testing.AllocsPerRun(200, func() {
			p.Predict(&r)
			p.LearnClass(&r, "y")
		})
		if allocs != 0 {
			t.Errorf("%s multiclass: %v allocs per sample", n, allocs)
		}
	}
}

func TestSupports(t *testing.T) {
	if !models.Supports("linreg", learn.Regression) || models.Supports("linreg", learn.Binary) {
		t.Error("linreg")
	}
	if !models.Supports("gnb", learn.Multiclass) || models.Supports("gnb", learn.Regression) {
		t.Error("gnb")
	}
	if slices.Contains(models.Names(), "hoeffding-regressor") && !models.Supports("hoeffding", learn.Regression) {
		t.Error("hoeffding on a regression task should mean hoeffding-regressor")
	}
	if models.Supports("svm", learn.Binary) {
		t.Error("svm")
	}
}
