//go:build !(goexperiment.simd && amd64)

package preprocess

// Without GOEXPERIMENT=simd on amd64 the StandardScaler runs its scalar
// loops only (see scale_simd.go).
const wide = false

func learnTransformWide(xs, o, counts, means, vars, stds []float64) int { return 0 }

func transformWide(xs, o, means, stds []float64) int { return 0 }
