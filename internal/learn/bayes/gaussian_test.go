package bayes

import (
	"math"
	"math/rand"
	"testing"

	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/libm"
)

func row(x ...float64) *learn.Row { return &learn.Row{X: x} }

func TestGaussianNBByHand(t *testing.T) {
	m := New(2)
	if p := m.PredictProba(row(1), nil); len(p) != 0 {
		t.Fatalf("untrained model predicted %v", p)
	}
	m.Learn(row(1), 0)
	// One class seen: it takes all the probability; class 1 gets 0.
	if p := m.PredictProba(row(5), nil); len(p) != 2 || p[0] != 1 || p[1] != 0 {
		t.Fatalf("one class: %v", p)
	}
	m.Learn(row(3), 0)
	m.Learn(row(10), 1)
	// Class 0: mean 2, sample variance 2; class 1: one sample, variance 0
	// (pdf 0). Priors 2/3 and 1/3.
	pdf0 := 1 / math.Sqrt(2*math.Pi*2)
	j0 := math.Log(2.0/3) + math.Log(1e-9+pdf0)
	j1 := math.Log(1.0/3) + math.Log(1e-9)
	want1 := math.Exp(j1) / (math.Exp(j0) + math.Exp(j1))
	p := m.PredictProba(row(2), nil)
	if math.Abs(p[1]-want1) > 1e-15 || math.Abs(p[0]+p[1]-1) > 1e-15 {
		t.Errorf("proba %v, want [%v %v]", p, 1-want1, want1)
	}
	// A missing feature is left out of the likelihood.
	q := m.PredictProba(&learn.Row{X: []float64{2, math.NaN()}}, nil)
	if q[1] != p[1] {
		t.Errorf("missing feature changed the prediction: %v vs %v", q, p)
	}
}

func TestGaussianNBMulticlassAndSnapshot(t *testing.T) {
	m := New(0)
	for i := 0; i < 300; i++ {
		c := i % 3
		m.Learn(row(float64(c)*3+math.Sin(float64(i)), float64(i%7)), c)
	}
	p := m.PredictProba(row(6, 3), nil)
	if len(p) != 3 || p[2] < 0.9 {
		t.Fatalf("proba %v, want class 2 favoured", p)
	}
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	r := New(0)
	if err := r.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		x := row(float64(i%9)*0.8, float64(i%4))
		a, c := m.PredictProba(x, nil), r.PredictProba(x, nil)
		for k := range a {
			if math.Float64bits(a[k]) != math.Float64bits(c[k]) {
				t.Fatalf("restored: %v vs %v", c, a)
			}
		}
		m.Learn(x, i%3)
		r.Learn(x, i%3)
	}
	if err := m.Patch(map[string]any{"var_smoothing": 1}); err == nil {
		t.Error("gnb accepted a parameter")
	}
}

func TestGaussianNBNoAllocations(t *testing.T) {
	m := New(2)
	x := row(1, 2, 3)
	m.Learn(x, 0)
	m.Learn(row(2, 2, 1), 1)
	dst := m.PredictProba(x, nil)
	if n := testing.AllocsPerRun(100, func() { dst = m.PredictProba(x, dst); m.Learn(x, 1) }); n != 0 {
		t.Errorf("%v allocs per sample", n)
	}
}

// TestLogLikelihoodPaths holds the fast path (densityProduct) to the
// general one bit for bit, on classes whose products leave [1e-140, 1e140]
// and whose exponents leave exp's range, with missing features and
// features the class never saw.
func TestLogLikelihoodPaths(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	general := func(xs []float64, prior float64, mean, neg2v, norms []float64) float64 {
		ll, prod := 0.0, prior
		for i, xi := range xs {
			if xi != xi {
				continue
			}
			f := 1e-9
			if i < len(mean) {
				f += pdf(xi, mean[i], neg2v[i], norms[i])
			}
			prod *= f
			if prod < 1e-140 || (i < len(mean) && prod > 1e140) {
				ll += libm.Log(prod)
				prod = 1
			}
		}
		return ll + libm.Log(prod)
	}
	fast := 0
	for trial := 0; trial < 20000; trial++ {
		n := 1 + r.Intn(40)
		k := r.Intn(n + 1)
		xs := make([]float64, n)
		mean, neg2v, norms := make([]float64, k), make([]float64, k), make([]float64, k)
		for i := range xs {
			xs[i] = r.NormFloat64() * math.Pow(10, float64(r.Intn(6)))
			if r.Intn(8) == 0 {
				xs[i] = math.NaN()
			}
		}
		for i := range mean {
			mean[i] = r.NormFloat64()
			s := math.Pow(10, float64(r.Intn(24)-16))
			if r.Intn(10) == 0 {
				s = 0
			}
			neg2v[i], norms[i] = variance(3, s)
		}
		prior := 1 / float64(1+r.Intn(1000))
		want := general(xs, prior, mean, neg2v, norms)
		got := logLikelihood(xs, prior, mean, neg2v, norms)
		if math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("trial %d: %v, general path %v", trial, got, want)
		}
		if _, ok := densityProduct(xs[:k], prior, mean, neg2v, norms); ok {
			fast++
		}
	}
	if fast < 2000 || fast > 18000 {
		t.Errorf("fast path taken %d times of 20000: both paths should be exercised", fast)
	}
}
