//go:build goexperiment.simd && amd64

package bayes

import (
	"math"
	"simd/archsimd"
)

// wide says whether Learn and densityProduct take 8 features at a time
// with AVX-512. The lanes repeat the scalar code's operations in the
// same order (no fused multiply-add), so every result is bit for bit the
// scalar one; tests switch wide off to get the scalar reference.
var wide = archsimd.X86.AVX512()

// learn8 is Learn's per-feature update for 8 features; features whose
// x is NaN are left as they are.
func learn8(xs, n, mean, s, neg2v, norms *[8]float64) {
	one := load(&ones)
	x := archsimd.LoadFloat64x8(xs)
	here := x.Equal(x) // not NaN
	c := archsimd.LoadFloat64x8(n).Add(one)
	old := archsimd.LoadFloat64x8(mean)
	mu := old.Add(x.Sub(old).Div(c))
	si := archsimd.LoadFloat64x8(s).Add(x.Sub(old).Mul(x.Sub(mu)))
	// variance: 0, 0 up to one sample.
	v := si.Div(c.Sub(one))
	two := c.Greater(one)
	nv := load(&minusTwo).Mul(v).Masked(two)
	nr := load(&twoPi).Mul(v).Sqrt().Masked(two)
	c.StoreMasked(n, here)
	mu.StoreMasked(mean, here)
	si.StoreMasked(s, here)
	nv.StoreMasked(neg2v, here)
	nr.StoreMasked(norms, here)
	archsimd.ClearAVXUpperBits() // as in product8
}

// product8 is densityProduct's loop over 8 features: prod times their
// factors 1e-9 + pdf(x_i), NaN x left out, and false when an exponent is
// outside expIn's range or a partial product outside [1e-140, 1e140].
// The factors are computed 8 at a time; the product stays scalar, in
// the scalar loop's order, for the same bits. A NaN x's factor 1 repeats
// the check of the product before it, which the scalar loop has made
// too, except for prod on entry: densityProduct's prior, a class's share
// of the samples, is well within the range.
func product8(prod float64, xs, mean, neg2v, norms *[8]float64) (float64, bool) {
	x := archsimd.LoadFloat64x8(xs)
	v := archsimd.LoadFloat64x8(neg2v)
	here := x.Equal(x)
	nz := v.NotEqual(archsimd.Float64x8{})
	d := x.Sub(archsimd.LoadFloat64x8(mean))
	a := d.Mul(d).Div(v)
	in := a.GreaterEqual(load(&minExp)).ToBits() & a.LessEqual(load(&maxExp)).ToBits()
	if here.ToBits()&nz.ToBits()&^in != 0 {
		archsimd.ClearAVXUpperBits()
		return 0, false
	}
	// A NaN x gets the factor 1: multiplying by 1 keeps the product.
	g := load(&tiny).Add(expIn8(a).Div(archsimd.LoadFloat64x8(norms)))
	var p [8]float64
	g.Merge(load(&tiny), nz).Merge(load(&ones), here).Store(&p)
	// Dirty upper halves of the vector registers slow down the scalar
	// (SSE) code that follows, the scalar log and exp among it.
	archsimd.ClearAVXUpperBits()
	for j := range p {
		prod *= p[j]
		p[j] = prod
	}
	// The range checks on all 8 partial products at once.
	q := archsimd.LoadFloat64x8(&p)
	out := q.Less(load(&minProd)).ToBits() | q.Greater(load(&maxProd)).ToBits()
	archsimd.ClearAVXUpperBits()
	return prod, out == 0
}

// Constants as vectors in memory: the compiler folds the loads into the
// arithmetic, where a broadcast would cost two instructions per use.
var (
	minExp, maxExp   = splat(-708), splat(709)
	minProd, maxProd = splat(1e-140), splat(1e140)
	tiny, ones       = splat(1e-9), splat(1)
	minusTwo, twoPi  = splat(-2), splat(2 * math.Pi)
	expK             = [...][8]float64{
		splat(exp64OverLn2), splat(roundShift), splat(ln2Over64Hi), splat(ln2Over64Lo),
		splat(1.0 / 720), splat(1.0 / 120), splat(1.0 / 24), splat(1.0 / 6), splat(1.0 / 2),
	}
)

// The index bits that pick expTable's quarter, and the exponent bias.
var bit4, bit5, bias = splatInt(16), splatInt(32), splatInt(1023)

func splat(v float64) [8]float64 { return [8]float64{v, v, v, v, v, v, v, v} }

func splatInt(v int64) [8]int64 { return [8]int64{v, v, v, v, v, v, v, v} }

func load(c *[8]float64) archsimd.Float64x8 { return archsimd.LoadFloat64x8(c) }

// expIn8 is expIn on each lane, its operations in the same order.
func expIn8(x archsimd.Float64x8) archsimd.Float64x8 {
	k64, shift := load(&expK[0]), load(&expK[1])
	kf := x.Mul(k64).Add(shift).Sub(shift)
	r := x.Sub(kf.Mul(load(&expK[2]))).Sub(kf.Mul(load(&expK[3])))
	k := kf.ConvertToInt64() // exact: kf is an integer
	p := r.Mul(load(&expK[4])).Add(load(&expK[5]))
	p = r.Mul(p).Add(load(&expK[6]))
	p = r.Mul(p).Add(load(&expK[7]))
	p = r.Mul(p).Add(load(&expK[8]))
	p = r.Mul(p).Add(load(&ones))
	p = r.Mul(p).Add(load(&ones))
	// expTable[k&63]: VPERMI2PD looks up 16 entries of a register pair
	// by the index's low 4 bits; bits 4 and 5 pick among the four pairs.
	j := k.AsUint64x8()
	t := func(i int) archsimd.Float64x8 { return archsimd.LoadFloat64x8((*[8]float64)(expTable[8*i:])) }
	q0 := t(0).ConcatPermute(t(1), j)
	q1 := t(2).ConcatPermute(t(3), j)
	q2 := t(4).ConcatPermute(t(5), j)
	q3 := t(6).ConcatPermute(t(7), j)
	b4 := k.And(archsimd.LoadInt64x8(&bit4)).NotEqual(archsimd.Int64x8{})
	b5 := k.And(archsimd.LoadInt64x8(&bit5)).NotEqual(archsimd.Int64x8{})
	tab := q3.Merge(q2, b4).Merge(q1.Merge(q0, b4), b5)
	// 2^(k>>6) built in the exponent field, as expIn does.
	scale := k.ShiftAllRight(6).Add(archsimd.LoadInt64x8(&bias)).ShiftAllLeft(52).AsFloat64x8()
	return tab.Mul(p).Mul(scale)
}
