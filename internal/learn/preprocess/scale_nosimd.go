//go:build !(goexperiment.simd && amd64)

package preprocess

// Without GOEXPERIMENT=simd on amd64 the StandardScaler runs its scalar
// loops only (see scale_simd.go).
const wide = false

func learnTransformWide(s *StandardScaler, xs, o []float64) int { return 0 }

func transformWide(s *StandardScaler, xs, o []float64) int { return 0 }
