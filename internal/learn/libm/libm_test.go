package libm

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// bigExp is e^x rounded correctly to a double: e^(x/2^20) by its Taylor
// series, squared 20 times, in 320 bits.
func bigExp(x float64) float64 {
	const s = 20
	y := new(big.Float).SetPrec(bigPrec).SetMantExp(bigf(x), -s)
	sum, term := bigf(1), bigf(1)
	for k := 1; term.Sign() != 0 && term.MantExp(nil) > -bigPrec-8; k++ {
		term.Mul(term, y)
		term.Quo(term, bigf(float64(k)))
		sum.Add(sum, term)
	}
	for range s {
		sum.Mul(sum, sum)
	}
	f, _ := sum.Float64()
	return f
}

// bigLogOf is ln x rounded correctly to a double, for x > 0 normal.
func bigLogOf(x float64) float64 {
	m, e := math.Frexp(x) // m in [0.5, 1)
	v := bigLog(bigf(m))
	v.Add(v, new(big.Float).SetPrec(bigPrec).Mul(bigLn2(), bigf(float64(e))))
	f, _ := v.Float64()
	return f
}

func ulps(a, b float64) int64 {
	d := int64(math.Float64bits(a)) - int64(math.Float64bits(b))
	if math.Signbit(a) != math.Signbit(b) {
		return math.MaxInt64
	}
	return max(d, -d)
}

// check holds f to the correctly rounded value: never more than 1 ulp
// off, and off at all on under 0.5% of arguments (a half-ulp method misses
// only where the exact value is within a hair of a rounding boundary).
func check(t *testing.T, name string, f, exact func(float64) float64, xs []float64) {
	t.Helper()
	off := 0
	for _, x := range xs {
		got, want := f(x), exact(x)
		if u := ulps(got, want); u > 1 {
			t.Fatalf("%s(%x) = %x, want %x (%d ulp)", name, x, got, want, u)
		} else if u == 1 {
			off++
		}
	}
	if float64(off) > 0.005*float64(len(xs)) {
		t.Errorf("%s is 1 ulp off on %d of %d arguments", name, off, len(xs))
	}
	t.Logf("%s: 1 ulp off on %d of %d arguments", name, off, len(xs))
}

func TestExpAgainstExact(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var xs []float64
	for range 4000 {
		xs = append(xs, r.Float64()*60-30, r.Float64()*2-1, r.Float64()*1400-700, -r.ExpFloat64()*10, r.NormFloat64()*1e-6)
	}
	check(t, "Exp", Exp, bigExp, xs)
}

func TestLogAgainstExact(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var xs []float64
	for range 4000 {
		xs = append(xs, r.Float64()*2, 1+r.NormFloat64()*1e-3, 0.5+r.Float64(), math.Exp(r.Float64()*1400-700), 1+r.NormFloat64()*1e-12)
	}
	check(t, "Log", Log, bigLogOf, xs)
}

func TestSpecialValues(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"Exp(0)", Exp(0), 1},
		{"Exp(-0)", Exp(math.Copysign(0, -1)), 1},
		{"Exp(1)", Exp(1), math.E},
		{"Exp(-Inf)", Exp(math.Inf(-1)), 0},
		{"Exp(+Inf)", Exp(math.Inf(1)), math.Inf(1)},
		{"Exp(710)", Exp(710), math.Inf(1)},
		{"Exp(-746)", Exp(-746), 0},
		{"Exp(-708.5)", Exp(-708.5), math.Exp(-708.5)},
		{"Log(1)", Log(1), 0},
		{"Log(e)", Log(math.E), 1},
		{"Log(2)", Log(2), math.Ln2},
		{"Log(0)", Log(0), math.Inf(-1)},
		{"Log(+Inf)", Log(math.Inf(1)), math.Inf(1)},
		{"Log(MaxFloat64)", Log(math.MaxFloat64), bigLogOf(math.MaxFloat64)},
		{"Log(5e-324)", Log(5e-324), math.Log(5e-324)},
	} {
		if c.got != c.want {
			t.Errorf("%s = %x, want %x", c.name, c.got, c.want)
		}
	}
	for _, v := range []float64{Exp(math.NaN()), Log(math.NaN()), Log(-1), Log(math.Inf(-1))} {
		if !math.IsNaN(v) {
			t.Errorf("got %v, want NaN", v)
		}
	}
}

var sink float64

// benchPair times ours and the math package's function over the same
// 1024 arguments in [lo, hi): compare within one run (the ns/op ratio),
// not across runs.
func benchPair(b *testing.B, lo, hi float64, ours, theirs func(float64) float64) {
	r := rand.New(rand.NewPCG(5, 6))
	xs := make([]float64, 1024)
	for i := range xs {
		xs[i] = lo + r.Float64()*(hi-lo)
	}
	for _, f := range []struct {
		name string
		f    func(float64) float64
	}{{"libm", ours}, {"math", theirs}} {
		b.Run(f.name, func(b *testing.B) {
			s := 0.0
			for i := 0; i < b.N; i++ {
				s += f.f(xs[i&1023])
			}
			sink = s
		})
	}
}

func BenchmarkExp(b *testing.B) { benchPair(b, -30, 30, Exp, math.Exp) }

func BenchmarkLog(b *testing.B) { benchPair(b, 1e-6, 10, Log, math.Log) }
