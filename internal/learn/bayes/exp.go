package bayes

import "math"

// expTable[j] = 2^(j/64).
var expTable = func() (t [64]float64) {
	for j := range t {
		t[j] = math.Exp2(float64(j) / 64)
	}
	return t
}()

const (
	exp64OverLn2 = 64 / math.Ln2
	// ln2/64 split so that k·ln2Hi is exact for the k used here.
	ln2Over64Hi = 0x1.62e42fee00000p-7
	ln2Over64Lo = 0x1.a39ef35793c76p-39
	// Adding and subtracting 1.5·2^52 rounds a float64 to an integer.
	roundShift = 0x1.8p52
)

// exp is e^x for the density's exponent, x <= 0: e^x = 2^(k/64)·e^r with
// |r| <= ln2/128, e^r by its degree-5 Taylor polynomial. It is within
// about 2 ulp of math.Exp (TestExp holds 1e-15). It is a cheaper cousin
// of libm.Exp (one table of 64 doubles, no low parts) because it must
// inline into the density loop and has an AVX-512 twin (expIn8) that
// gives its bits; and the densities go into a product whose one log
// stands for River's log per feature, which already gives up the last
// bits, so libm's closer rounding would buy no parity here. Outside
// [-708, 709] it defers to math.Exp.
func exp(x float64) float64 {
	if !(x >= -708 && x <= 709) {
		return math.Exp(x)
	}
	return expIn(x)
}

// expIn is exp for x in [-708, 709], kept small enough for the compiler
// to inline into the naive Bayes loop, where it is most of a prediction's
// work (a call per feature would spill the loop's registers).
func expIn(x float64) float64 {
	kf := (x*exp64OverLn2 + roundShift) - roundShift
	r := (x - kf*ln2Over64Hi) - kf*ln2Over64Lo
	k := int64(kf)
	return expTable[k&63] * (1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720))))))) *
		math.Float64frombits(uint64(1023+(k>>6))<<52)
}
