//go:build goexperiment.simd && amd64

package preprocess

import (
	"math"
	"math/rand"
	"testing"

	"github.com/olops/olops/internal/learn"
)

// TestStandardScalerWide holds the AVX2 loops to the scalar ones bit
// for bit: rows of 1 to 40 features (full chunks of 4 and tails), missing
// values, constant features, and values far apart in magnitude.
func TestStandardScalerWide(t *testing.T) {
	if !wide {
		t.Skip("this CPU has no AVX2: only the scalar loops run")
	}
	defer func() { wide = true }()
	r := rand.New(rand.NewSource(3))
	same := func(a, b []float64) bool {
		for i := range a {
			if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
				return false
			}
		}
		return len(a) == len(b)
	}
	for n := 1; n <= 40; n++ {
		narrow, broad := NewStandardScaler(), NewStandardScaler()
		var outN, outW learn.Row
		for step := 0; step < 300; step++ {
			x := make([]float64, n)
			for i := range x {
				x[i] = r.NormFloat64() * math.Pow(10, float64(r.Intn(12)-6))
				switch {
				case i%5 == 2:
					x[i] = 7 // constant: variance 0
				case r.Intn(6) == 0:
					x[i] = math.NaN()
				}
			}
			learnT := step%3 != 0
			for _, side := range []struct {
				wide bool
				s    *StandardScaler
				out  *learn.Row
			}{{false, narrow, &outN}, {true, broad, &outW}} {
				wide = side.wide
				if learnT {
					side.s.LearnTransform(&learn.Row{X: x}, side.out)
				} else {
					side.s.Transform(&learn.Row{X: x}, side.out)
				}
			}
			if !same(outN.X, outW.X) || !same(narrow.Means, broad.Means) || !same(narrow.Vars, broad.Vars) ||
				!same(narrow.Counts, broad.Counts) || !same(narrow.stds, broad.stds) {
				t.Fatalf("n=%d step %d (learn %v): wide and scalar loops differ:\nscalar %v\nwide   %v", n, step, learnT, outN.X, outW.X)
			}
		}
	}
}
