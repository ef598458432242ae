package linear

import (
	"math"
	"strings"
	"testing"

	"github.com/olops/olops/internal/learn"
)

var nan = math.NaN()

func row(x ...float64) *learn.Row { return &learn.Row{X: x} }

func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-12*max(1, math.Abs(want)) {
		t.Errorf("%s = %.15g, want %.15g", what, got, want)
	}
}

func TestLogisticRegressionFirstSteps(t *testing.T) {
	m, err := NewLogisticRegression(nil)
	if err != nil {
		t.Fatal(err)
	}
	p := m.PredictProba(row(1, 2), nil)
	if p[0] != 0.5 || p[1] != 0.5 {
		t.Fatalf("untrained proba %v", p)
	}
	// Log-loss gradient at 0 for y=1 is -1/(e^0+1) = -0.5; rate 0.01.
	m.Learn(row(1, 2, nan), 1)
	near(t, "intercept", m.Intercept, 0.005)
	near(t, "w0", m.W[0], 0.005)
	near(t, "w1", m.W[1], 0.01)
	if m.W[2] != 0 {
		t.Errorf("missing feature got a gradient: %v", m.W[2])
	}
	p = m.PredictProba(row(1, 2), p)
	near(t, "p", p[1], 1/(1+math.Exp(-0.03)))
	near(t, "1-p", p[0], 1-p[1])
}

func TestSigmoidClamp(t *testing.T) {
	if sigmoid(31) != 1 || sigmoid(-31) != 0 || sigmoid(0) != 0.5 {
		t.Errorf("sigmoid clamp: %v %v %v", sigmoid(31), sigmoid(-31), sigmoid(0))
	}
}

func TestPerceptronByHand(t *testing.T) {
	m, _ := NewPerceptron(nil)
	m.Learn(row(1, 2), 1) // pred 0 <= threshold 0: gradient -1, rate 1
	near(t, "b", m.Intercept, 1)
	near(t, "w0", m.W[0], 1)
	near(t, "w1", m.W[1], 2)
	m.Learn(row(1, 1), 0) // pred 4, y -1: -4 <= 0, gradient +1
	near(t, "b", m.Intercept, 0)
	near(t, "w0", m.W[0], 0)
	near(t, "w1", m.W[1], 1)
	m.Learn(row(0, 5), 1) // pred 5 > 0: no update
	near(t, "w1", m.W[1], 1)
}

// TestPerceptronZeroGradientInfinity: a right answer skips the step only
// when that leaves the same bits. An infinite feature makes River's step
// w - 1·(0·inf) = NaN even at a zero gradient, and so it does here.
func TestPerceptronZeroGradientInfinity(t *testing.T) {
	m, _ := NewPerceptron(nil)
	m.Learn(row(1, 2), 1) // w = (1, 2), b = 1
	m.Learn(row(math.Inf(1), 1), 1)
	if !math.IsNaN(m.W[0]) || m.W[1] != 2 {
		t.Errorf("after an infinite feature at a zero gradient w = %v, want [NaN 2] as River's step gives", m.W)
	}
}

func TestLinearRegressionByHand(t *testing.T) {
	m, _ := NewLinearRegression(nil)
	if v, ok := m.Predict(row(1)); !ok || v != 0 {
		t.Fatalf("untrained predict %v %v", v, ok)
	}
	m.Learn(row(1, 3), 2) // squared-loss gradient 2(0-2) = -4
	near(t, "b", m.Intercept, 0.04)
	near(t, "w0", m.W[0], 0.04)
	near(t, "w1", m.W[1], 0.12)
	v, _ := m.Predict(row(1, 3))
	near(t, "pred", v, 0.04+0.04+0.36)
}

func TestL1AndL2(t *testing.T) {
	m, _ := NewLogisticRegression(map[string]any{"l1": 0.1})
	m.Learn(row(1), 1) // w 0.005, then cumulative penalty 0.1*0.01
	near(t, "w l1", m.W[0], 0.004)
	near(t, "cum", m.CumL1[0], -0.001)
	m2, _ := NewLogisticRegression(map[string]any{"l2": 1.0})
	m2.Learn(row(1), 1)
	m2.Learn(row(1), 1)
	// step 2: raw 0.01, gradient -1/(e^0.01+1), plus l2*w = 0.005.
	g := -1/(math.Exp(0.01)+1)*1 + 0.005
	near(t, "w l2", m2.W[0], 0.005-0.01*g)
	if _, err := NewLogisticRegression(map[string]any{"l1": 0.1, "l2": 0.1}); err == nil {
		t.Error("l1 and l2 together accepted")
	}
}

func TestOptimizersFirstStep(t *testing.T) {
	// One sample x=1, y=1 from zero weights: loss gradient -0.5.
	cases := []struct {
		opt  string
		want float64
	}{
		{"adam", 0.1 * math.Sqrt(1-0.999) / (1 - 0.9) * 0.05 / (math.Sqrt(0.001*0.25) + 1e-8)},
		{"adagrad", 0.1 / math.Sqrt(0.25+1e-8) * 0.5},
		{"ftrl", 0}, // FTRL sets the weight from z=0 first: unchanged
	}
	for _, c := range cases {
		m, err := NewLogisticRegression(map[string]any{"optimizer": c.opt})
		if err != nil {
			t.Fatal(err)
		}
		m.Learn(row(1), 1)
		near(t, c.opt, m.W[0], c.want)
	}
	// FTRL second step: w = -(beta+sqrt(n))/alpha+l2)^-1 * z, z=-0.5, n=0.25.
	m, _ := NewLogisticRegression(map[string]any{"optimizer": "ftrl"})
	m.Learn(row(1), 1)
	m.Learn(row(1), 1)
	near(t, "ftrl step 2", m.W[0], 0.5/((1+0.5)/0.05+1))
	if _, err := NewLogisticRegression(map[string]any{"optimizer": "rmsprop"}); err == nil || !strings.Contains(err.Error(), "unknown optimizer") {
		t.Errorf("unknown optimizer: %v", err)
	}
}

func TestPAByHand(t *testing.T) {
	c, _ := NewPAClassifier(nil)
	c.Learn(row(1, 1), 1) // hinge loss 1, |x|²=2, tau=min(1, 0.5)
	near(t, "w0", c.W[0], 0.5)
	near(t, "b", c.Intercept, 0.5)
	r, _ := NewPARegressor(nil)
	r.Learn(row(1), 3) // River's loss: |0-(2*3-1)|-0.1 = 4.9, tau=min(1,4.9)=1
	near(t, "reg w0", r.W[0], 1)
	near(t, "reg b", r.Intercept, 1)
}

func TestOneVsRest(t *testing.T) {
	lr, _ := NewLogisticRegression(nil)
	o, err := NewOneVsRest(lr)
	if err != nil {
		t.Fatal(err)
	}
	if p := o.PredictProba(row(1), nil); len(p) != 0 {
		t.Fatalf("untrained OvR predicted %v", p)
	}
	o.Learn(row(1, 0), 0)
	if p := o.PredictProba(row(1, 0), nil); len(p) != 1 || p[0] != 1 {
		t.Fatalf("one class: %v", p)
	}
	o.Learn(row(0, 1), 2) // creates classes 1 and 2
	p := o.PredictProba(row(0, 1), nil)
	if len(p) != 3 {
		t.Fatalf("%d probabilities, want 3", len(p))
	}
	// By hand: each class model's P(True) divided by their sum.
	var raw [3]float64
	for k, m := range o.Models {
		raw[k] = m.PredictProba(row(0, 1), nil)[1]
	}
	s := raw[0] + raw[1] + raw[2]
	for k := range p {
		near(t, "p", p[k], raw[k]/s)
	}
	if p[2] <= p[0] {
		t.Errorf("class 2 not favoured after learning it: %v", p)
	}
	b, _ := o.MarshalBinary()
	o2, _ := NewOneVsRest(lr)
	if err := o2.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	p2 := o2.PredictProba(row(0, 1), nil)
	for k := range p {
		if math.Float64bits(p[k]) != math.Float64bits(p2[k]) {
			t.Fatalf("restored OvR: %v vs %v", p2, p)
		}
	}
}

func TestParamsAndPatch(t *testing.T) {
	if _, err := NewLogisticRegression(map[string]any{"learning_rate": 1}); err == nil || !strings.Contains(err.Error(), `"learning_rate"`) {
		t.Errorf("unknown param: %v", err)
	}
	m, _ := NewLogisticRegression(map[string]any{"lr": 0.1})
	if m.Params()["lr"] != 0.1 {
		t.Errorf("params %v", m.Params())
	}
	if err := m.Patch(map[string]any{"lr": 0.5, "optimizer": "adam"}); err == nil || !strings.Contains(err.Error(), "optimizer") {
		t.Errorf("immutable param: %v", err)
	}
	if m.Opt.LR != 0.1 {
		t.Errorf("failed patch changed lr to %v", m.Opt.LR)
	}
	if err := m.Patch(map[string]any{"lr": -1}); err == nil || m.Opt.LR != 0.1 {
		t.Errorf("negative lr: %v, lr %v", err, m.Opt.LR)
	}
	if err := m.Patch(map[string]any{"lr": 0.5, "l2": 0.01}); err != nil || m.Opt.LR != 0.5 || m.L2 != 0.01 {
		t.Errorf("patch: %v, lr %v l2 %v", err, m.Opt.LR, m.L2)
	}
}

// TestSnapshotsBitIdentical: each learner, restored from its snapshot,
// keeps predicting exactly as the original while both go on learning.
func TestSnapshotsBitIdentical(t *testing.T) {
	builders := map[string]func() (learn.State, func(learn.State, *learn.Row, float64) float64){}
	clf := func(c learn.Classifier) func(learn.State, *learn.Row, float64) float64 {
		return func(s learn.State, x *learn.Row, y float64) float64 {
			m := s.(learn.Classifier)
			p := m.PredictProba(x, nil)
			m.Learn(x, int(y))
			if len(p) == 0 {
				return -1
			}
			return p[len(p)-1]
		}
	}
	reg := func(s learn.State, x *learn.Row, y float64) float64 {
		m := s.(learn.Regressor)
		v, _ := m.Predict(x)
		m.Learn(x, y)
		return v
	}
	for _, opt := range []string{"sgd", "adam", "adagrad", "ftrl"} {
		builders["logreg-"+opt] = func() (learn.State, func(learn.State, *learn.Row, float64) float64) {
			m, _ := NewLogisticRegression(map[string]any{"optimizer": opt, "l2": 0.01})
			return m, clf(m)
		}
	}
	builders["logreg-l1"] = func() (learn.State, func(learn.State, *learn.Row, float64) float64) {
		m, _ := NewLogisticRegression(map[string]any{"l1": 0.01})
		return m, clf(m)
	}
	builders["perceptron"] = func() (learn.State, func(learn.State, *learn.Row, float64) float64) {
		m, _ := NewPerceptron(nil)
		return m, clf(m)
	}
	builders["pa"] = func() (learn.State, func(learn.State, *learn.Row, float64) float64) {
		m, _ := NewPAClassifier(nil)
		return m, clf(m)
	}
	builders["ovr"] = func() (learn.State, func(learn.State, *learn.Row, float64) float64) {
		lr, _ := NewLogisticRegression(nil)
		m, _ := NewOneVsRest(lr)
		return m, clf(m)
	}
	builders["linreg"] = func() (learn.State, func(learn.State, *learn.Row, float64) float64) {
		m, _ := NewLinearRegression(nil)
		return m, reg
	}
	builders["pa-regressor"] = func() (learn.State, func(learn.State, *learn.Row, float64) float64) {
		m, _ := NewPARegressor(nil)
		return m, reg
	}
	sample := func(i int) (*learn.Row, float64) {
		x := row(math.Sin(float64(i)), math.Cos(float64(i)*0.7), float64(i%5)-2)
		if i%7 == 0 {
			x.X[1] = nan
		}
		y := 0.0
		if x.X[0]+0.3*x.X[2] > 0 {
			y = 1
		}
		if i%11 == 0 {
			y = 2
		}
		return x, y
	}
	for name, build := range builders {
		t.Run(name, func(t *testing.T) {
			a, step := build()
			binaryOnly := name != "ovr"
			for i := 0; i < 200; i++ {
				x, y := sample(i)
				if binaryOnly && !strings.Contains(name, "reg") {
					y = min(y, 1)
				}
				step(a, x, y)
			}
			snap, err := a.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			b, _ := build()
			if err := b.UnmarshalBinary(snap); err != nil {
				t.Fatal(err)
			}
			for i := 200; i < 300; i++ {
				x, y := sample(i)
				if binaryOnly && !strings.Contains(name, "reg") {
					y = min(y, 1)
				}
				pa, pb := step(a, x, y), step(b, x, y)
				if math.Float64bits(pa) != math.Float64bits(pb) {
					t.Fatalf("row %d: restored predicts %v, original %v", i, pb, pa)
				}
			}
		})
	}
}

func TestNoAllocations(t *testing.T) {
	x := row(1, 2, nan, 4)
	dst := make([]float64, 0, 4)
	lr, _ := NewLogisticRegression(nil)
	lr.Learn(x, 1)
	for _, opt := range []string{"sgd", "adam", "adagrad", "ftrl"} {
		m, _ := NewLogisticRegression(map[string]any{"optimizer": opt})
		m.Learn(x, 1)
		if n := testing.AllocsPerRun(100, func() { dst = m.PredictProba(x, dst); m.Learn(x, 0) }); n != 0 {
			t.Errorf("%s: %v allocs per sample", opt, n)
		}
	}
	base, _ := NewLogisticRegression(nil)
	o, _ := NewOneVsRest(base)
	o.Learn(x, 2)
	if n := testing.AllocsPerRun(100, func() { dst = o.PredictProba(x, dst); o.Learn(x, 1) }); n != 0 {
		t.Errorf("ovr: %v allocs per sample", n)
	}
}
