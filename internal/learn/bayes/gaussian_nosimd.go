//go:build !(goexperiment.simd && amd64)

package bayes

// Without GOEXPERIMENT=simd on amd64 there is no AVX-512 path: wide is
// constant false, so the compiler drops the calls below.
const wide = false

func learn8(xs, n, mean, s, neg2v, norms *[8]float64) { panic("bayes: no AVX-512 path in this build") }

func product8(prod float64, xs, mean, neg2v, norms *[8]float64) (float64, bool) {
	panic("bayes: no AVX-512 path in this build")
}
