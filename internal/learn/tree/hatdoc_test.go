package tree

import (
	"math"
	"testing"

	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/pyrand"
)

// seaStream is River's synth.SEA (random.Random) for the HAT docstring.
type seaStream struct {
	rng       *pyrand.Python
	threshold float64
}

func (s *seaStream) next() ([]float64, int) {
	x := make([]float64, 3)
	for i := range x {
		x[i] = 0 + (10-0)*s.rng.Random()
	}
	y := 0
	if x[0]+x[1] > s.threshold {
		y = 1
	}
	return x, y
}

// River 0.21's HoeffdingAdaptiveTreeClassifier docstring: SEA variants 0
// then 1 mixed by ConceptDriftStream(seed=1, position=500, width=50),
// 1000 rows, HAT(grace_period=100, delta=1e-5, leaf_prediction='nb',
// nb_threshold=10, seed=0): Accuracy: 91.49%.
func TestHATDocstring(t *testing.T) {
	a := &seaStream{rng: pyrand.NewPython(42), threshold: 8}
	b := &seaStream{rng: pyrand.NewPython(42), threshold: 9}
	mix := pyrand.NewPython(1)
	m, err := NewHAT(map[string]any{"grace_period": 100, "delta": 1e-5, "leaf_prediction": "nb", "nb_threshold": 10, "seed": 0})
	if err != nil {
		t.Fatal(err)
	}
	m.SetMinClasses(2)
	correct, n := 0, 0
	var buf []float64
	for i := 1; i <= 1000; i++ {
		p := 1 / (1 + math.Exp(-4*float64(i-500)/50))
		var x []float64
		var y int
		if mix.Random() > p {
			x, y = a.next()
		} else {
			x, y = b.next()
		}
		row := learn.Row{X: x}
		buf = m.PredictProba(&row, buf[:0])
		if len(buf) > 0 {
			n++
			pred := 0
			if buf[1] > buf[0] {
				pred = 1
			}
			if pred == y {
				correct++
			}
		}
		m.Learn(&row, y)
	}
	acc := float64(correct) / float64(n)
	t.Logf("accuracy %.4f over %d", acc, n)
	if math.Abs(acc-0.9149) > 0.00005 {
		t.Errorf("accuracy %.4f, River's docstring 0.9149", acc)
	}
}
