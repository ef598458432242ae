package eval

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/bayes"
	"github.com/olops/olops/internal/learn/linear"
	"github.com/olops/olops/internal/learn/stream"
)

type memSource struct {
	s []stream.Sample
	i int
}

func (m *memSource) Next() (*stream.Sample, error) {
	if m.i >= len(m.s) {
		return nil, io.EOF
	}
	m.i++
	return &m.s[m.i-1], nil
}

func binaryPipeline(t *testing.T) *learn.Pipeline {
	c, err := linear.NewPerceptron(nil)
	if err != nil {
		t.Fatal(err)
	}
	return learn.NewPipeline(learn.Spec{Task: learn.Binary, Model: "perceptron"}, nil, c, nil)
}

func samples(rows ...string) *memSource {
	m := &memSource{}
	for i, r := range rows {
		x, y, _ := strings.Cut(r, ":")
		f := map[string]any{}
		if x != "" {
			var v float64
			for _, c := range x {
				v = v*10 + float64(c-'0')
			}
			f["x"] = v
		}
		m.s = append(m.s, stream.Sample{Features: f, Label: y, Line: i + 2})
	}
	return m
}

// TestRunByHand: a perceptron on x=1,y=1 then x=1,y=0 then x=1,y=1.
// Row 0: raw 0, p 0.5, a tie predicts 0 (wrong); learn: w=1, b=1.
// Row 1: raw 2 predicts 1 (wrong); learn: w=0, b=0.
// Row 2: raw 0 predicts 0 (wrong). Accuracy 0.
func TestRunByHand(t *testing.T) {
	var trace strings.Builder
	res, err := Run(context.Background(), binaryPipeline(t), samples("1:1", "1:0", "1:1"), Options{Trace: &trace, Metrics: []string{"accuracy"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 3 || res.Scored != 3 || res.Metrics["accuracy"] != 0 || res.Task != "binary" || res.Model != "perceptron" {
		t.Errorf("result %+v", res)
	}
	want := "i,y_true,y_pred,p_true\n0,1,0,0.5\n1,0,1,0.8807970779778823\n2,1,0,0.5\n"
	if trace.String() != want {
		t.Errorf("trace\n%s\nwant\n%s", trace.String(), want)
	}
}

func TestRunEmptyPredictionsNotScored(t *testing.T) {
	p := learn.NewPipeline(learn.Spec{Task: learn.Binary, Model: "gnb"}, nil, bayes.New(2), nil)
	var trace strings.Builder
	res, err := Run(context.Background(), p, samples("1:1", "2:1", "3:0"), Options{Trace: &trace})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 3 || res.Scored != 2 {
		t.Errorf("rows %d scored %d, want 3 and 2", res.Rows, res.Scored)
	}
	if !strings.Contains(trace.String(), "\n0,1,,\n") {
		t.Errorf("empty prediction in trace:\n%s", trace.String())
	}
}

func TestRunLimitAndErrors(t *testing.T) {
	res, err := Run(context.Background(), binaryPipeline(t), samples("1:1", "1:0", "1:1"), Options{Limit: 2})
	if err != nil || res.Rows != 2 {
		t.Fatalf("limit: %v %+v", err, res)
	}
	_, err = Run(context.Background(), binaryPipeline(t), samples("1:1", "1:maybe"), Options{})
	var le *stream.LineError
	if !errors.As(err, &le) || le.Line != 3 || !strings.Contains(err.Error(), "not binary") {
		t.Fatalf("bad label: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, binaryPipeline(t), samples("1:1"), Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

type alwaysDrift struct{ n int }

func (d *alwaysDrift) Update(x float64) bool          { d.n++; return x == 1 }
func (d *alwaysDrift) Warning() bool                  { return false }
func (d *alwaysDrift) Reset()                         {}
func (d *alwaysDrift) MarshalBinary() ([]byte, error) { return nil, nil }
func (d *alwaysDrift) UnmarshalBinary([]byte) error   { return nil }

func TestRunDetectorSeesErrors(t *testing.T) {
	d := &alwaysDrift{}
	res, err := Run(context.Background(), binaryPipeline(t), samples("1:1", "1:0", "1:1"), Options{Detector: d})
	if err != nil {
		t.Fatal(err)
	}
	// Every row is wrong (see TestRunByHand): the fake fires on each error.
	if d.n != 3 || len(res.Drifts) != 3 || res.Drifts[2] != 2 {
		t.Errorf("detector updates %d, drifts %v", d.n, res.Drifts)
	}
}

func TestRunRegression(t *testing.T) {
	r, _ := linear.NewLinearRegression(nil)
	p := learn.NewPipeline(learn.Spec{Task: learn.Regression, Model: "linreg"}, nil, nil, r)
	var trace strings.Builder
	res, err := Run(context.Background(), p, samples("1:2", "1:2"), Options{Trace: &trace})
	if err != nil {
		t.Fatal(err)
	}
	// Row 0 predicts 0 (error 2); learn: b=0.04, w=0.04; row 1 predicts 0.08.
	if d := res.Metrics["mae"] - (2+1.92)/2; d > 1e-12 || d < -1e-12 {
		t.Errorf("mae %v", res.Metrics["mae"])
	}
	if !strings.Contains(trace.String(), "0,2.0,0.0,\n1,2.0,0.08,\n") {
		t.Errorf("trace:\n%s", trace.String())
	}
}

func TestGate(t *testing.T) {
	g, err := ParseGate("accuracy=0.85, mae=2")
	if err != nil || len(g) != 2 {
		t.Fatalf("%v %v", g, err)
	}
	if err := g.Check(map[string]float64{"accuracy": 0.9, "mae": 1.5}); err != nil {
		t.Errorf("passing gate: %v", err)
	}
	err = g.Check(map[string]float64{"accuracy": 0.8, "mae": 2.5})
	if err == nil || !strings.Contains(err.Error(), "accuracy 0.8000 < 0.85") || !strings.Contains(err.Error(), "mae 2.5000 > 2") {
		t.Errorf("failing gate: %v", err)
	}
	if err := g.Check(map[string]float64{"accuracy": 0.9}); err == nil || !strings.Contains(err.Error(), "mae was not computed") {
		t.Errorf("missing metric: %v", err)
	}
	for _, bad := range []string{"", "accuracy", "accuracy=x", "=1"} {
		if _, err := ParseGate(bad); err == nil {
			t.Errorf("ParseGate(%q) accepted", bad)
		}
	}
}

func TestAppendPy(t *testing.T) {
	for v, want := range map[float64]string{1: "1.0", 0.5: "0.5", 1e-5: "1e-05", 123456789: "123456789.0", 0: "0.0", -2.25: "-2.25", 1e16: "1e+16"} {
		if got := string(appendPy(nil, v)); got != want {
			t.Errorf("appendPy(%v) = %s, want %s", v, got, want)
		}
	}
}

// TestRunDeterministicSchema: without file columns, features are numbered
// in name order from the first sample, so two runs agree to the last bit
// whatever the map iteration order.
func TestRunDeterministicSchema(t *testing.T) {
	run := func() (map[string]float64, []string) {
		m := &memSource{}
		for i := 0; i < 300; i++ {
			f := map[string]any{}
			for k, name := range []string{"e", "b", "d", "a", "c", "f"} {
				f[name] = float64((i*(k+3))%17) / 7
			}
			y := "0"
			if i%3 == 0 {
				y = "1"
			}
			m.s = append(m.s, stream.Sample{Features: f, Label: y, Line: i + 1})
		}
		p := learn.NewPipeline(learn.Spec{Task: learn.Binary, Model: "gnb"}, nil, bayes.New(2), nil)
		res, err := Run(context.Background(), p, m, Options{})
		if err != nil {
			t.Fatal(err)
		}
		return res.Metrics, p.Schema.Names
	}
	m1, n1 := run()
	for k := 0; k < 5; k++ {
		m2, n2 := run()
		if strings.Join(n1, ",") != "a,b,c,d,e,f" || strings.Join(n2, ",") != strings.Join(n1, ",") {
			t.Fatalf("schema order %v, %v", n1, n2)
		}
		for name, v := range m1 {
			if m2[name] != v {
				t.Fatalf("%s: %v then %v", name, v, m2[name])
			}
		}
	}
}
