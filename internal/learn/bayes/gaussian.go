// Package bayes holds River's GaussianNB.
package bayes

import (
	"fmt"
	"math"

	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/libm"
	"github.com/olops/olops/internal/learn/param"
	"github.com/olops/olops/internal/learn/snap"
)

// GaussianNB is River's GaussianNB: one Gaussian per (class, feature),
// estimated with River's running mean and sample variance (ddof 1), class
// priors from counts. The joint log-likelihood of a class is
// log P(c) + Σ log(1e-9 + pdf(x_i)), over the sample's present features,
// a feature the class never saw having pdf 0; probabilities are the
// likelihoods normalised with log-sum-exp. Classes are ids 0..n-1; a class
// not learned yet gets probability 0.
type GaussianNB struct {
	// MinClasses is the shortest probability vector returned once the
	// model has learned (2 for binary tasks, so that P(True) is always
	// there).
	MinClasses int
	Counts     []float64   // class -> samples
	N          [][]float64 // class -> feature -> samples (River's Mean.n)
	Mean       [][]float64
	S          [][]float64 // sum of squared deviations (River's Var._S)

	// Per (class, feature), kept current by Learn: -2·variance and the
	// density's normaliser sqrt(2πv), so that a prediction computes one
	// exp per feature and no square root.
	neg2v, norms [][]float64
	jll          []float64
}

// WideLoops reports whether the AVX-512 path runs (see gaussian_simd.go),
// for the benchmarks to say.
func WideLoops() bool { return wide }

// New returns an empty model; minClasses as in GaussianNB.MinClasses.
func New(minClasses int) *GaussianNB { return &GaussianNB{MinClasses: minClasses} }

// Learn adds x to class y's Gaussians.
func (m *GaussianNB) Learn(x *learn.Row, y int) {
	for len(m.Counts) <= y {
		m.Counts = append(m.Counts, 0)
		m.N = append(m.N, nil)
		m.Mean = append(m.Mean, nil)
		m.S = append(m.S, nil)
		m.neg2v = append(m.neg2v, nil)
		m.norms = append(m.norms, nil)
	}
	m.Counts[y]++
	for len(m.N[y]) < len(x.X) {
		m.N[y] = append(m.N[y], 0)
		m.Mean[y] = append(m.Mean[y], 0)
		m.S[y] = append(m.S[y], 0)
		m.neg2v[y] = append(m.neg2v[y], 0)
		m.norms[y] = append(m.norms[y], 0)
	}
	xs := x.X
	n, mean, s, neg2v, norms := m.N[y], m.Mean[y], m.S[y], m.neg2v[y], m.norms[y]
	if wide { // 8 features at a time with AVX-512, the same bits
		i := 0
		for ; i+8 <= len(xs); i += 8 {
			learn8(at8(xs, i), at8(n, i), at8(mean, i), at8(s, i), at8(neg2v, i), at8(norms, i))
		}
		if i == len(xs) {
			return
		}
		xs, n, mean, s, neg2v, norms = xs[i:], n[i:], mean[i:], s[i:], neg2v[i:], norms[i:]
	}
	n, mean, s, neg2v, norms = n[:len(xs)], mean[:len(xs)], s[:len(xs)], neg2v[:len(xs)], norms[:len(xs)]
	for i, xi := range xs {
		if xi != xi {
			continue
		}
		// River's stats.Var over stats.Mean, weight 1.
		c := n[i] + 1
		n[i] = c
		old := mean[i]
		mu := old + (xi-old)/c
		mean[i] = mu
		si := s[i] + (xi-old)*(xi-mu)
		s[i] = si
		neg2v[i], norms[i] = variance(c, si)
	}
}

// at8 returns the 8 values of s from i on, for the wide path.
func at8(s []float64, i int) *[8]float64 { return (*[8]float64)(s[i : i+8]) }

// variance returns -2 times River's Var.get (ddof 1, 0 below two samples)
// and the Gaussian density's normaliser sqrt(2πv).
func variance(n, s float64) (neg2v, norm float64) {
	if n <= 1 {
		return 0, 0
	}
	v := s / (n - 1)
	return -2 * v, math.Sqrt(2 * math.Pi * v)
}

// pdf is River's proba.Gaussian density, exp((x-μ)²/(-2v))/sqrt(2πv),
// given -2v and the normaliser: 0 when the variance is 0.
func pdf(x, mean, neg2v, norm float64) float64 {
	if neg2v == 0 {
		return 0
	}
	d := x - mean
	return exp(d*d/neg2v) / norm
}

// PredictProba returns P(class) for each class id, or nothing before the
// first sample.
func (m *GaussianNB) PredictProba(x *learn.Row, dst []float64) []float64 {
	dst = dst[:0]
	if len(m.Counts) == 0 {
		return dst
	}
	total := 0.0
	for _, c := range m.Counts {
		total += c
	}
	// jll is m.jll's storage, kept across calls so as not to allocate.
	jll := m.jll[:0]
	top := math.Inf(-1)
	for c, cnt := range m.Counts {
		if cnt == 0 {
			jll = append(jll, math.Inf(-1))
			continue
		}
		k := min(len(x.X), len(m.neg2v[c]))
		ll := logLikelihood(x.X, cnt/total, m.Mean[c][:k], m.neg2v[c][:k], m.norms[c][:k])
		jll = append(jll, ll)
		top = max(top, ll)
	}
	m.jll = jll
	sum := 0.0
	for _, ll := range jll {
		// The top class adds exp(0), exactly 1: no call for it.
		if d := ll - top; d == 0 {
			sum++
		} else {
			sum += libm.Exp(d)
		}
	}
	lse := libm.Log(sum) + top
	for _, ll := range jll {
		dst = append(dst, libm.Exp(ll-lse))
	}
	for len(dst) < m.MinClasses {
		dst = append(dst, 0)
	}
	return dst
}

// logLikelihood is log(prior) + Σ log(1e-9 + pdf(x_i)) over the present
// features of xs for one class, given the class's prior, means,
// -2·variances and normalisers (features past their end the class never
// saw: pdf 0).
func logLikelihood(xs []float64, prior float64, mean, neg2v, norms []float64) float64 {
	k := len(mean)
	// The sum as the log of a product that starts at the prior, taken
	// whenever the product leaves [1e-140, 1e140] (each factor lies in
	// [1e-9, 1e162]): one log per class instead of one per feature.
	ll, prod := 0.0, prior
	if p, ok := densityProduct(xs[:k], prior, mean, neg2v, norms); ok {
		prod = p
	} else {
		for i, xi := range xs[:k] {
			if xi != xi {
				continue
			}
			prod *= 1e-9 + pdf(xi, mean[i], neg2v[i], norms[i])
			if prod < 1e-140 || prod > 1e140 {
				ll += libm.Log(prod)
				prod = 1
			}
		}
	}
	for i := k; i < len(xs); i++ { // usually none: cheaper than a range over xs[k:]
		if xs[i] != xs[i] {
			continue
		}
		prod *= 1e-9
		if prod < 1e-140 {
			ll += libm.Log(prod)
			prod = 1
		}
	}
	return ll + libm.Log(prod)
}

// densityProduct is logLikelihood's common case: prior times the factors
// 1e-9 + pdf(x_i) when the product stays within [1e-140, 1e140] and every
// exponent is within expIn's range; false otherwise, and the caller takes
// the general path. Without calls, its loop keeps its values in registers.
func densityProduct(xs []float64, prior float64, mean, neg2v, norms []float64) (float64, bool) {
	prod := prior
	if wide { // 8 features at a time with AVX-512, the same bits
		i := 0
		for ; i+8 <= len(xs); i += 8 {
			var ok bool
			if prod, ok = product8(prod, at8(xs, i), at8(mean, i), at8(neg2v, i), at8(norms, i)); !ok {
				return 0, false
			}
		}
		if i == len(xs) {
			return prod, true
		}
		xs, mean, neg2v, norms = xs[i:], mean[i:], neg2v[i:], norms[i:]
	}
	mean, neg2v, norms = mean[:len(xs)], neg2v[:len(xs)], norms[:len(xs)]
	for i, xi := range xs {
		if xi != xi {
			continue
		}
		f := 1e-9
		if v := neg2v[i]; v != 0 {
			d := xi - mean[i]
			a := d * d / v
			if !(a >= -708 && a <= 709) {
				return 0, false
			}
			f += expIn(a) / norms[i]
		}
		prod *= f
		if prod < 1e-140 || prod > 1e140 {
			return 0, false
		}
	}
	return prod, true
}

// Params reports the model's settings and class counts.
func (m *GaussianNB) Params() map[string]any {
	return map[string]any{"class_counts": append([]float64(nil), m.Counts...)}
}

// Patch refuses every parameter: GaussianNB has none.
func (m *GaussianNB) Patch(params map[string]any) error {
	if bad := param.Unknown(params, func(string) bool { return false }); len(bad) > 0 {
		return fmt.Errorf("gnb has no parameter %q to change", bad[0])
	}
	return nil
}

// MarshalBinary saves the full state.
func (m *GaussianNB) MarshalBinary() ([]byte, error) {
	type plain GaussianNB // no MarshalBinary: gob encodes the fields
	return snap.Encode((*plain)(m))
}

// UnmarshalBinary restores a state saved by MarshalBinary.
func (m *GaussianNB) UnmarshalBinary(b []byte) error {
	type plain GaussianNB
	*m = GaussianNB{}
	if err := snap.Decode(b, (*plain)(m), "gnb"); err != nil {
		return err
	}
	m.neg2v = make([][]float64, len(m.S))
	m.norms = make([][]float64, len(m.S))
	for c := range m.S {
		// In whole cache lines for the vector loop (see learn.Floats).
		m.Mean[c] = append(learn.Floats(0, len(m.Mean[c])), m.Mean[c]...)
		m.neg2v[c] = learn.Floats(len(m.S[c]), 0)
		m.norms[c] = learn.Floats(len(m.S[c]), 0)
		for i := range m.S[c] {
			m.neg2v[c][i], m.norms[c][i] = variance(m.N[c][i], m.S[c][i])
		}
	}
	return nil
}

// LearnedOrderTies: River's GaussianNB keeps classes in learning order,
// so a tie in probability predicts the class learned first.
func (m *GaussianNB) LearnedOrderTies() bool { return true }
