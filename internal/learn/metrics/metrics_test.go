package metrics

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/olops/olops/internal/learn"
)

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.6f, want %.6f", what, got, want)
	}
}

func mustSet(t *testing.T, task learn.Task, names []string, window int) *Set {
	t.Helper()
	s, err := NewSet(task, names, window)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// binPred builds a binary prediction from p(class 1), argmax with a tie
// going to class 0 as River does.
func binPred(p float64) learn.Prediction {
	c := 0
	if p > 0.5 {
		c = 1
	}
	return learn.Prediction{Class: c, Proba: []float64{1 - p, p}}
}

func labelPred(c, n int) learn.Prediction {
	pr := make([]float64, n)
	pr[c] = 1
	return learn.Prediction{Class: c, Proba: pr}
}

// River's LogLoss docstring: 0.105360, 0.105360, 0.144621, 0.216161.
func TestLogLossBinary(t *testing.T) {
	s := mustSet(t, learn.Binary, []string{"logloss"}, 0)
	ys := []int{1, 0, 0, 1}
	ps := []float64{0.9, 0.1, 0.2, 0.65}
	want := []float64{0.105360, 0.105360, 0.144621, 0.216161}
	for i := range ys {
		s.UpdateClass(ys[i], binPred(ps[i]))
		near(t, "logloss", s.Overall()["logloss"], want[i], 1e-6)
	}
	// A certain wrong answer costs -log(1e-15), River's clamp.
	s = mustSet(t, learn.Binary, []string{"logloss"}, 0)
	s.UpdateClass(1, binPred(0))
	near(t, "clamped logloss", s.Overall()["logloss"], -math.Log(1e-15), 1e-9)
	// A one-sided proba (only class 0 known) gives p(true) = 0.
	s = mustSet(t, learn.Binary, []string{"logloss"}, 0)
	s.UpdateClass(1, learn.Prediction{Class: 0, Proba: []float64{1}})
	near(t, "one-sided logloss", s.Overall()["logloss"], -math.Log(1e-15), 1e-9)
}

// River's CrossEntropy docstring: 1.222454, 1.169691, 1.258864, 1.321597.
func TestCrossEntropy(t *testing.T) {
	s := mustSet(t, learn.Multiclass, []string{"logloss"}, 0)
	ys := []int{0, 1, 2, 2}
	ps := [][]float64{
		{0.29450637, 0.34216758, 0.36332605},
		{0.21290077, 0.32728332, 0.45981591},
		{0.42860913, 0.33380113, 0.23758974},
		{0.44941979, 0.32962558, 0.22095463},
	}
	want := []float64{1.222454, 1.169691, 1.258864, 1.321597}
	for i := range ys {
		s.UpdateClass(ys[i], learn.Prediction{Proba: ps[i]})
		near(t, "cross entropy", s.Overall()["logloss"], want[i], 2e-6)
	}
	// A true class the model has not seen costs 0 (absent from River's dict).
	s.UpdateClass(3, learn.Prediction{Proba: ps[0]})
	near(t, "cross entropy after unseen class", s.Overall()["logloss"], 1.321597*4/5, 2e-6)
}

// River's ROCAUC docstring: 0.875 with 10 thresholds.
func TestROCAUC(t *testing.T) {
	s := mustSet(t, learn.Binary, []string{"roc_auc"}, 0)
	for i, p := range []float64{.1, .4, .35, .8} {
		s.UpdateClass([]int{0, 0, 1, 1}[i], binPred(p))
	}
	near(t, "roc_auc", s.Overall()["roc_auc"], 0.875, 1e-12)
	// Perfect separation scores 1.
	s = mustSet(t, learn.Binary, []string{"roc_auc"}, 0)
	s.UpdateClass(0, binPred(0.05))
	s.UpdateClass(1, binPred(0.95))
	near(t, "perfect roc_auc", s.Overall()["roc_auc"], 1, 1e-12)
}

// River's F1 docstring (0.40) and Precision docstring.
func TestBinaryLabelMetrics(t *testing.T) {
	s := mustSet(t, learn.Binary, []string{"accuracy", "precision", "recall", "f1"}, 0)
	yt := []int{0, 0, 0, 1, 1, 1}
	yp := []int{0, 0, 1, 1, 0, 0}
	for i := range yt {
		s.UpdateClass(yt[i], labelPred(yp[i], 2))
	}
	m := s.Overall()
	near(t, "f1", m["f1"], 0.4, 1e-12)
	near(t, "precision", m["precision"], 0.5, 1e-12)
	near(t, "recall", m["recall"], 1.0/3, 1e-12)
	near(t, "accuracy", m["accuracy"], 0.5, 1e-12)

	s = mustSet(t, learn.Binary, []string{"precision"}, 0)
	want := []float64{1, 0.5, 0.5, 2.0 / 3, 0.75}
	yt = []int{1, 0, 1, 1, 1}
	yp = []int{1, 1, 0, 1, 1}
	for i := range yt {
		s.UpdateClass(yt[i], labelPred(yp[i], 2))
		near(t, "precision", s.Overall()["precision"], want[i], 1e-12)
	}
	// No positive prediction yet: precision and f1 are 0, not NaN.
	s = mustSet(t, learn.Binary, []string{"precision", "f1"}, 0)
	s.UpdateClass(1, labelPred(0, 2))
	if m := s.Overall(); m["precision"] != 0 || m["f1"] != 0 {
		t.Errorf("no positive predictions: %v, want zeros", m)
	}
}

// River's MacroF1 and MacroPrecision docstrings.
func TestMacro(t *testing.T) {
	s := mustSet(t, learn.Multiclass, []string{"macro_f1", "macro_precision", "macro_recall", "accuracy"}, 0)
	yt := []int{0, 1, 2, 2, 2}
	yp := []int{0, 0, 2, 2, 1}
	f1 := []float64{1, 1.0 / 3, 5.0 / 9, 5.0 / 9, 0.488889}
	prec := []float64{1, 0.25, 0.5, 0.5, 0.5}
	for i := range yt {
		s.UpdateClass(yt[i], labelPred(yp[i], 3))
		m := s.Overall()
		near(t, "macro_f1", m["macro_f1"], f1[i], 1e-6)
		near(t, "macro_precision", m["macro_precision"], prec[i], 1e-12)
	}
	// recall per class: 0 -> 1, 1 -> 0, 2 -> 2/3
	near(t, "macro_recall", s.Overall()["macro_recall"], (1+0+2.0/3)/3, 1e-12)
	near(t, "accuracy", s.Overall()["accuracy"], 0.6, 1e-12)
}

// River's R2 docstring and Rolling(MSE, 2) docstring.
func TestRegression(t *testing.T) {
	s := mustSet(t, learn.Regression, []string{"r2", "mae", "rmse", "mse"}, 2)
	yt := []float64{3, -0.5, 2, 7}
	yp := []float64{2.5, 0.0, 2, 8}
	r2 := []float64{0, 0.9183, 0.9230, 0.9486}
	rollMSE := []float64{0.25, 0.25, 0.125, 0.5}
	for i := range yt {
		s.UpdateValue(yt[i], yp[i])
		near(t, "r2", s.Overall()["r2"], r2[i], 1e-4)
		near(t, "rolling mse", s.Rolling()["mse"], rollMSE[i], 1e-12)
	}
	m := s.Overall()
	near(t, "mae", m["mae"], (0.5+0.5+0+1)/4, 1e-12)
	near(t, "rmse", m["rmse"], math.Sqrt((0.25+0.25+0+1)/4), 1e-12)
	// rolling r2 over the last two: y = 2, 7 (SS 12.5), residuals 0, 1.
	near(t, "rolling r2", s.Rolling()["r2"], 1-1/12.5, 1e-12)
}

// Rolling values equal a fresh set fed only the window's samples.
func TestRollingMatchesFreshWindow(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, task := range []learn.Task{learn.Binary, learn.Multiclass, learn.Regression} {
		const w = 50
		s := mustSet(t, task, Known(task), w)
		type sample struct {
			y    int
			pred learn.Prediction
			yv   float64
			pv   float64
		}
		var hist []sample
		for i := 0; i < 437; i++ {
			var sm sample
			switch task {
			case learn.Binary:
				sm.y = r.IntN(2)
				sm.pred = binPred(r.Float64())
			case learn.Multiclass:
				k := 2 + i/100 // classes appear over time
				sm.y = r.IntN(k)
				p := make([]float64, k)
				var sum float64
				for j := range p {
					p[j] = r.Float64()
					sum += p[j]
				}
				best := 0
				for j := range p {
					p[j] /= sum
					if p[j] > p[best] {
						best = j
					}
				}
				sm.pred = learn.Prediction{Class: best, Proba: p}
			default:
				sm.yv = r.NormFloat64() * 10
				sm.pv = sm.yv + r.NormFloat64()
			}
			hist = append(hist, sm)
			if task == learn.Regression {
				s.UpdateValue(sm.yv, sm.pv)
			} else {
				s.UpdateClass(sm.y, sm.pred)
			}
		}
		fresh := mustSet(t, task, Known(task), w)
		for _, sm := range hist[len(hist)-w:] {
			if task == learn.Regression {
				fresh.UpdateValue(sm.yv, sm.pv)
			} else {
				fresh.UpdateClass(sm.y, sm.pred)
			}
		}
		got, want := s.Rolling(), fresh.Overall()
		for _, n := range s.Names() {
			near(t, string(task)+" rolling "+n, got[n], want[n], 1e-9)
		}
	}
}

func TestEmptyPredictionNotScored(t *testing.T) {
	s := mustSet(t, learn.Binary, nil, 0)
	s.UpdateClass(1, learn.Prediction{Empty: true, Class: -1})
	if s.Count() != 0 {
		t.Fatalf("empty prediction was scored")
	}
	s.UpdateClass(1, binPred(0.9))
	if s.Count() != 1 || s.Overall()["accuracy"] != 1 {
		t.Fatalf("count %d accuracy %v", s.Count(), s.Overall()["accuracy"])
	}
}

func TestNamesAndErrors(t *testing.T) {
	for task, want := range map[learn.Task][]string{
		learn.Binary:     {"accuracy", "f1", "logloss", "roc_auc"},
		learn.Multiclass: {"accuracy", "macro_f1", "logloss"},
		learn.Regression: {"mae", "rmse", "r2"},
	} {
		s := mustSet(t, task, nil, 0)
		if !slices.Equal(s.Names(), want) || !slices.Equal(Defaults(task), want) {
			t.Errorf("%s names %v, want %v", task, s.Names(), want)
		}
		if s.Window() != DefaultWindow {
			t.Errorf("window %d", s.Window())
		}
	}
	if _, err := NewSet(learn.Multiclass, []string{"roc_auc"}, 0); err == nil {
		t.Error("roc_auc accepted for multiclass")
	}
	if _, err := NewSet(learn.Regression, []string{"accuracy"}, 0); err == nil {
		t.Error("accuracy accepted for regression")
	}
	if _, err := NewSet(learn.Binary, nil, -1); err == nil {
		t.Error("negative window accepted")
	}
	for _, n := range []string{"logloss", "mae", "rmse", "mse"} {
		if !LowerIsBetter(n) {
			t.Errorf("%s should be lower-is-better", n)
		}
	}
	for _, n := range []string{"accuracy", "f1", "roc_auc", "r2", "macro_f1"} {
		if LowerIsBetter(n) {
			t.Errorf("%s should be higher-is-better", n)
		}
	}
}

func TestSnapshotRestore(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	s := mustSet(t, learn.Binary, Known(learn.Binary), 7)
	for i := 0; i < 20; i++ {
		s.UpdateClass(r.IntN(2), binPred(r.Float64()))
	}
	b, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var c Set
	if err := c.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 15; i++ {
		y, p := r.IntN(2), r.Float64()
		s.UpdateClass(y, binPred(p))
		c.UpdateClass(y, binPred(p))
	}
	a1, a2 := s.Overall(), c.Overall()
	r1, r2 := s.Rolling(), c.Rolling()
	for _, n := range s.Names() {
		if a1[n] != a2[n] || r1[n] != r2[n] {
			t.Errorf("%s differs after restore: %v/%v vs %v/%v", n, a1[n], r1[n], a2[n], r2[n])
		}
	}
	if err := c.UnmarshalBinary([]byte("junk")); err == nil {
		t.Error("junk accepted")
	}
}

func BenchmarkUpdateClassBinary(b *testing.B) {
	s, _ := NewSet(learn.Binary, nil, 0)
	p := binPred(0.7)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.UpdateClass(i&1, p)
	}
}
