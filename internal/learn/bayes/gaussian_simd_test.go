//go:build goexperiment.simd && amd64

package bayes

import (
	"math"
	"math/rand"
	"simd/archsimd"
	"testing"

	"github.com/olops/olops/internal/learn"
)

// scalar runs f with the AVX-512 path switched off: the reference.
func scalar(f func()) {
	defer func(w bool) { wide = w }(wide)
	wide = false
	f()
}

func needAVX512(t *testing.T) {
	t.Helper()
	if !archsimd.X86.AVX512() {
		t.Skip("this CPU has no AVX-512: the wide path cannot run")
	}
}

// TestExpIn8 holds the vector exp to the scalar expIn bit for bit over
// its whole range.
func TestExpIn8(t *testing.T) {
	needAVX512(t)
	r := rand.New(rand.NewSource(1))
	var xs, got [8]float64
	for trial := 0; trial < 200000; trial++ {
		for j := range xs {
			switch r.Intn(4) {
			case 0:
				xs[j] = -708 + 1417*r.Float64()
			case 1:
				xs[j] = -r.ExpFloat64()
			case 2:
				xs[j] = float64(r.Intn(1418)-708) * math.Ln2 / 64
			default:
				xs[j] = -1e-3 * r.Float64()
			}
		}
		xs[0], xs[1] = -708, 709
		expIn8(archsimd.LoadFloat64x8(&xs)).Store(&got)
		for j, x := range xs {
			if want := expIn(x); math.Float64bits(got[j]) != math.Float64bits(want) {
				t.Fatalf("exp(%v): lane %v, scalar %v", x, got[j], want)
			}
		}
	}
}

// randomClass returns a class's statistics for k features, some of zero
// variance; wild ones have variances from 1e-16 to 1e7, so that exponents
// leave exp's range and products leave [1e-140, 1e140], tame ones from
// 0.1 to 10, so that the product mostly stays within.
func randomClass(r *rand.Rand, k int, wild bool) (mean, neg2v, norms []float64) {
	mean, neg2v, norms = make([]float64, k), make([]float64, k), make([]float64, k)
	for i := range mean {
		mean[i] = r.NormFloat64()
		s := math.Pow(10, float64(r.Intn(24)-16))
		if !wild {
			s = math.Pow(10, 2*r.Float64()-1)
		}
		if r.Intn(10) == 0 {
			s = 0
		}
		neg2v[i], norms[i] = variance(3, s)
	}
	return mean, neg2v, norms
}

func randomRow(r *rand.Rand, n int, nan int) []float64 {
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = r.NormFloat64() * math.Pow(10, float64(r.Intn(4)-2))
		if r.Intn(nan) == 0 {
			xs[i] = math.NaN()
		}
	}
	return xs
}

// TestDensityProductWide holds densityProduct's wide path to the scalar
// one bit for bit, on 1 to 40 features, both when the fast path holds and
// when it gives up.
func TestDensityProductWide(t *testing.T) {
	needAVX512(t)
	r := rand.New(rand.NewSource(3))
	held, wideHeld := 0, 0
	for trial := 0; trial < 40000; trial++ {
		n := 1 + r.Intn(40)
		xs := randomRow(r, n, 2+r.Intn(8))
		mean, neg2v, norms := randomClass(r, n, r.Intn(2) == 0)
		prior := math.Pow(10, -140*r.Float64())
		if r.Intn(4) == 0 {
			// At the means, narrow Gaussians give factors near 1e7:
			// products above 1e140.
			prior = 1
			for i := range xs {
				neg2v[i], norms[i] = variance(3, math.Pow(10, -16+2*r.Float64()))
				if xs[i] == xs[i] {
					xs[i] = mean[i]
				}
			}
		}
		var want, got float64
		var wantOK, gotOK bool
		scalar(func() { want, wantOK = densityProduct(xs, prior, mean, neg2v, norms) })
		got, gotOK = densityProduct(xs, prior, mean, neg2v, norms)
		if gotOK != wantOK || math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("trial %d: %v %v, scalar %v %v", trial, got, gotOK, want, wantOK)
		}
		// The general path too, features past k never seen.
		k := r.Intn(n + 1)
		var wl float64
		scalar(func() { wl = logLikelihood(xs, prior, mean[:k], neg2v[:k], norms[:k]) })
		if gl := logLikelihood(xs, prior, mean[:k], neg2v[:k], norms[:k]); math.Float64bits(gl) != math.Float64bits(wl) {
			t.Fatalf("trial %d: log-likelihood %v, scalar %v", trial, gl, wl)
		}
		if wantOK {
			held++
			if n >= 8 {
				wideHeld++
			}
		}
	}
	if held < 4000 || wideHeld < 2000 || held > 36000 {
		t.Errorf("fast path held %d times (%d on 8 features or more) of 40000: both outcomes should be exercised", held, wideHeld)
	}
}

// TestGaussianNBWide runs two models, one per path, on the same stream of
// rows of 1 to 40 features with missing values and repeated values (zero
// variances), and holds their state and predictions equal bit for bit.
func TestGaussianNBWide(t *testing.T) {
	needAVX512(t)
	r := rand.New(rand.NewSource(5))
	same := func(what string, a, b []float64) {
		t.Helper()
		if len(a) != len(b) {
			t.Fatalf("%s: lengths %d and %d", what, len(a), len(b))
		}
		for i := range a {
			if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
				t.Fatalf("%s[%d]: %v, scalar %v", what, i, a[i], b[i])
			}
		}
	}
	for run := 0; run < 40; run++ {
		w, s := New(2), New(2)
		n := 1 + r.Intn(40)
		var pw, ps []float64
		for i := 0; i < 300; i++ {
			xs := randomRow(r, 1+r.Intn(n), 2+r.Intn(8))
			if i%3 == 0 {
				for j := range xs {
					xs[j] = float64(j % 2) // the same value again: variance 0
				}
			}
			y := r.Intn(3)
			pw = w.PredictProba(&learn.Row{X: xs}, pw)
			scalar(func() { ps = s.PredictProba(&learn.Row{X: xs}, ps) })
			same("proba", pw, ps)
			w.Learn(&learn.Row{X: xs}, y)
			scalar(func() { s.Learn(&learn.Row{X: xs}, y) })
		}
		for c := range s.Counts {
			same("N", w.N[c], s.N[c])
			same("Mean", w.Mean[c], s.Mean[c])
			same("S", w.S[c], s.S[c])
			same("neg2v", w.neg2v[c], s.neg2v[c])
			same("norms", w.norms[c], s.norms[c])
		}
	}
}
