//go:build goexperiment.simd && amd64

package preprocess

import "simd/archsimd"

// wide is set where the StandardScaler's loops take 4 features per AVX2
// instruction. The wide loops do the scalar loops' operations in the same
// order, without fused multiply-adds, so they give the same bits; the
// tests switch wide off to hold them to that. (AVX2 rather than AVX-512:
// the loops are bound by the divider's latency, so 8 lanes gain nothing
// over 4 here, and valgrind, which the engine's instruction counts come
// from, has no AVX-512.)
var wide = archsimd.X86.AVX2()

// learnTransformWide runs LearnTransform's loop over the leading multiple
// of 4 features of xs (s's statistics cover them) and returns how many it
// did. It takes the scaler rather than its four slices: fewer arguments
// than registers.
func learnTransformWide(s *StandardScaler, xs, o []float64) int {
	n := len(xs) &^ 3
	xs, o = xs[:n], o[:n]
	counts, means, vars, stds := s.Counts[:n], s.Means[:n], s.Vars[:n], s.stds[:n]
	one, zero := archsimd.BroadcastFloat64x4(1), archsimd.BroadcastFloat64x4(0)
	for i := 0; i+4 <= n; i += 4 {
		x := archsimd.LoadFloat64x4((*[4]float64)(xs[i : i+4]))
		here := x.Equal(x) // not missing
		c0 := archsimd.LoadFloat64x4((*[4]float64)(counts[i : i+4]))
		old := archsimd.LoadFloat64x4((*[4]float64)(means[i : i+4]))
		v0 := archsimd.LoadFloat64x4((*[4]float64)(vars[i : i+4]))
		sd0 := archsimd.LoadFloat64x4((*[4]float64)(stds[i : i+4]))
		c := c0.Add(one)
		d := x.Sub(old)
		mean := old.Add(d.Div(c))
		dev := x.Sub(mean)
		v := v0.Add(d.Mul(dev).Sub(v0).Div(c))
		sd := v.Sqrt()
		c.Merge(c0, here).Store((*[4]float64)(counts[i : i+4]))
		mean.Merge(old, here).Store((*[4]float64)(means[i : i+4]))
		v.Merge(v0, here).Store((*[4]float64)(vars[i : i+4]))
		sd.Merge(sd0, here).Store((*[4]float64)(stds[i : i+4]))
		dev.Div(sd).Merge(zero, sd.NotEqual(zero)).Merge(x, here).Store((*[4]float64)(o[i : i+4]))
	}
	archsimd.ClearAVXUpperBits() // the scalar (SSE) code after it runs without a false dependency
	return n
}

// transformWide runs Transform's loop over the leading multiple of 4
// features of xs (s's statistics cover them) and returns how many it did.
func transformWide(s *StandardScaler, xs, o []float64) int {
	n := len(xs) &^ 3
	xs, o = xs[:n], o[:n]
	means, stds := s.Means[:n], s.stds[:n]
	zero := archsimd.BroadcastFloat64x4(0)
	for i := 0; i+4 <= n; i += 4 {
		x := archsimd.LoadFloat64x4((*[4]float64)(xs[i : i+4]))
		sd := archsimd.LoadFloat64x4((*[4]float64)(stds[i : i+4]))
		q := x.Sub(archsimd.LoadFloat64x4((*[4]float64)(means[i : i+4]))).Div(sd)
		q.Merge(zero, sd.NotEqual(zero)).Merge(x, x.Equal(x)).Store((*[4]float64)(o[i : i+4]))
	}
	archsimd.ClearAVXUpperBits()
	return n
}
