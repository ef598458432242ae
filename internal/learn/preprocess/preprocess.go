// Package preprocess holds the pipeline's preprocessing steps: scalers,
// one-hot encoding and feature hashing. Each step learns running statistics
// one sample at a time (River's learn_one) and transforms a Row into
// another Row without allocating once its buffers have grown.
package preprocess

import (
	"math"

	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/snap"
)

// safeDiv divides a by b, giving 0 for a zero b (River's safe_div: a
// constant feature scales to 0 rather than to an infinity).
func safeDiv(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// grow extends s with v up to length n.
func grow(s []float64, n int, v float64) []float64 {
	for len(s) < n {
		s = append(s, v)
	}
	return s
}

// numericOut sizes out for a numeric-only copy of x's shape.
func numericOut(x, out *learn.Row) {
	n := len(x.X)
	if cap(out.X) < n {
		out.X = learn.Floats(n, n+n/2+1)
	}
	out.X = out.X[:n]
	out.C = x.C
}

// WideLoops reports whether the StandardScaler's vector loops run (see
// scale_simd.go), for the benchmarks to say.
func WideLoops() bool { return wide }

// StandardScaler scales each numeric feature to zero mean and unit
// variance with running (Welford) estimates, as River's StandardScaler
// does: the population variance, and 0 for a feature whose variance is 0.
// Missing features are neither learned nor output (they stay NaN);
// categorical values pass through untouched.
type StandardScaler struct {
	Counts []float64
	Means  []float64
	Vars   []float64

	stds []float64 // sqrt(Vars), kept current by Learn: Transform runs twice per learn
}

// NewStandardScaler returns an empty scaler.
func NewStandardScaler() *StandardScaler { return &StandardScaler{} }

// Learn updates the running mean and variance of every present feature.
func (s *StandardScaler) Learn(x *learn.Row) {
	n := len(x.X)
	if len(s.Counts) < n {
		s.Counts = grow(s.Counts, n, 0)
		s.Means = grow(s.Means, n, 0)
		s.Vars = grow(s.Vars, n, 0)
		s.stds = grow(s.stds, n, 0)
	}
	counts, means, vars, stds := s.Counts[:n], s.Means[:n], s.Vars[:n], s.stds[:n]
	for i, xi := range x.X {
		if xi != xi { // missing
			continue
		}
		counts[i]++
		old := means[i]
		means[i] += (xi - old) / counts[i]
		vars[i] += ((xi-old)*(xi-means[i]) - vars[i]) / counts[i]
		stds[i] = math.Sqrt(vars[i])
	}
}

// LearnTransform is Learn followed by Transform in one pass: each
// feature's statistics are updated and it is scaled with them right away,
// with the same operations (so the same bits) as the two calls.
func (s *StandardScaler) LearnTransform(x, out *learn.Row) {
	n := len(x.X)
	if len(s.Counts) < n {
		s.Counts = grow(s.Counts, n, 0)
		s.Means = grow(s.Means, n, 0)
		s.Vars = grow(s.Vars, n, 0)
		s.stds = grow(s.stds, n, 0)
	}
	numericOut(x, out)
	k := 0
	if wide {
		if k = learnTransformWide(s, x.X, out.X); k == n {
			return
		}
	}
	learnTransform(x.X[k:n], out.X[k:n], s.Counts[k:n], s.Means[k:n], s.Vars[k:n], s.stds[k:n])
}

// learnTransform is LearnTransform's loop over equal-length slices.
func learnTransform(xs, o, counts, means, vars, stds []float64) {
	o, counts, means, vars, stds = o[:len(xs)], counts[:len(xs)], means[:len(xs)], vars[:len(xs)], stds[:len(xs)]
	for i, xi := range xs {
		if xi != xi { // missing: not learned, stays missing
			o[i] = xi
			continue
		}
		c := counts[i] + 1
		counts[i] = c
		old := means[i]
		mean := old + (xi-old)/c
		means[i] = mean
		v := vars[i] + ((xi-old)*(xi-mean)-vars[i])/c
		vars[i] = v
		sd := math.Sqrt(v)
		stds[i] = sd
		if sd == 0 { // River's safe_div
			o[i] = 0
		} else {
			o[i] = (xi - mean) / sd
		}
	}
}

// Transform writes (x - mean) / std into out.
func (s *StandardScaler) Transform(x, out *learn.Row) {
	numericOut(x, out)
	n := min(len(x.X), len(s.Means))
	xs, o := x.X[:n], out.X[:n]
	means, stds := s.Means[:n], s.stds[:n]
	k := 0
	if wide {
		k = transformWide(s, xs, o)
	}
	for i := k; i < n; i++ {
		xi := xs[i]
		sd := stds[i]
		switch {
		case xi != xi: // missing stays missing
			o[i] = xi
		case sd == 0: // River's safe_div
			o[i] = 0
		default:
			o[i] = (xi - means[i]) / sd
		}
	}
	// Features never learned: River's defaultdicts give mean 0, var 0.
	for i := n; i < len(x.X); i++ {
		if xi := x.X[i]; xi != xi {
			out.X[i] = xi
		} else {
			out.X[i] = 0
		}
	}
}

// MarshalBinary saves the running statistics.
func (s *StandardScaler) MarshalBinary() ([]byte, error) {
	type plain StandardScaler // no MarshalBinary: gob encodes the fields
	return snap.Encode((*plain)(s))
}

// UnmarshalBinary restores statistics saved by MarshalBinary.
func (s *StandardScaler) UnmarshalBinary(b []byte) error {
	type plain StandardScaler
	*s = StandardScaler{}
	if err := snap.Decode(b, (*plain)(s), "preprocessing"); err != nil {
		return err
	}
	// Decoded slices are exactly as long as saved: the vector loops want
	// them in whole cache lines (learn.Floats).
	s.Counts = append(learn.Floats(0, len(s.Counts)), s.Counts...)
	s.Means = append(learn.Floats(0, len(s.Means)), s.Means...)
	s.Vars = append(learn.Floats(0, len(s.Vars)), s.Vars...)
	s.stds = learn.Floats(len(s.Vars), 0)
	for i, v := range s.Vars {
		s.stds[i] = math.Sqrt(v)
	}
	return nil
}

// MinMaxScaler scales each numeric feature to [0, 1] with its running
// minimum and maximum (River's MinMaxScaler); a feature whose range is 0
// scales to 0. Missing features stay NaN.
type MinMaxScaler struct {
	Min []float64
	Max []float64
}

// NewMinMaxScaler returns an empty scaler.
func NewMinMaxScaler() *MinMaxScaler { return &MinMaxScaler{} }

// Learn updates the running minimum and maximum of every present feature.
func (s *MinMaxScaler) Learn(x *learn.Row) {
	if n := len(x.X); len(s.Min) < n {
		s.Min = grow(s.Min, n, math.Inf(1))
		s.Max = grow(s.Max, n, math.Inf(-1))
	}
	for i, xi := range x.X {
		if math.IsNaN(xi) {
			continue
		}
		s.Min[i] = min(s.Min[i], xi)
		s.Max[i] = max(s.Max[i], xi)
	}
}

// Transform writes (x - min) / (max - min) into out.
func (s *MinMaxScaler) Transform(x, out *learn.Row) {
	numericOut(x, out)
	for i, xi := range x.X {
		switch {
		case math.IsNaN(xi):
			out.X[i] = xi
		case i >= len(s.Min) || math.IsInf(s.Min[i], 0):
			out.X[i] = 0
		default:
			out.X[i] = safeDiv(xi-s.Min[i], s.Max[i]-s.Min[i])
		}
	}
}

// MarshalBinary saves the running ranges.
func (s *MinMaxScaler) MarshalBinary() ([]byte, error) {
	type plain MinMaxScaler // no MarshalBinary: gob encodes the fields
	return snap.Encode((*plain)(s))
}

// UnmarshalBinary restores ranges saved by MarshalBinary.
func (s *MinMaxScaler) UnmarshalBinary(b []byte) error {
	type plain MinMaxScaler
	*s = MinMaxScaler{}
	return snap.Decode(b, (*plain)(s), "preprocessing")
}
