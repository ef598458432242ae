package pyrand

import (
	"math"
	"testing"
)

// Values printed by CPython 3.11 and NumPy.
func TestKnownValues(t *testing.T) {
	p := NewPython(12345)
	for _, want := range []float64{0.41661987254534116, 0.010169169457068361} {
		if got := p.Random(); got != want {
			t.Fatalf("random.Random(12345).random() = %.17g, want %.17g", got, want)
		}
	}
	if got := NewPython(42).Random(); got != 0.6394267984578837 {
		t.Fatalf("random.Random(42).random() = %.17g", got)
	}
	// np.random.RandomState(42).rand() = 0.3745401188473625, then 0.9507143064099162
	np := NewNumPy(42)
	for _, want := range []float64{0.3745401188473625, 0.9507143064099162} {
		if got := np.Rand(); got != want {
			t.Fatalf("RandomState(42).rand() = %.17g, want %.17g", got, want)
		}
	}
	// np.random.RandomState(0).randint(10, size=5) = [5, 0, 3, 3, 7]
	np = NewNumPy(0)
	for _, want := range []int{5, 0, 3, 3, 7} {
		if got := np.Randint(10); got != want {
			t.Fatalf("RandomState(0).randint(10) = %d, want %d", got, want)
		}
	}
	// np.random.RandomState(0).normal() = 1.764052345967664, 0.4001572083672233
	np = NewNumPy(0)
	for _, want := range []float64{1.764052345967664, 0.4001572083672233} {
		if got := np.Normal(); math.Abs(got-want) > 1e-15 {
			t.Fatalf("RandomState(0).normal() = %.17g, want %.17g", got, want)
		}
	}
}

func TestSampleDistinct(t *testing.T) {
	p := NewPython(1)
	for _, c := range [][2]int{{70, 30}, {1000, 10}} {
		got := p.Sample(c[0], c[1], nil, nil)
		seen := map[int]bool{}
		for _, v := range got {
			if v < 0 || v >= c[0] || seen[v] {
				t.Fatalf("sample(%d, %d) = %v", c[0], c[1], got)
			}
			seen[v] = true
		}
		if len(got) != c[1] {
			t.Fatalf("sample size %d", len(got))
		}
	}
}

// River's utils.random.poisson(1, random.Random(42)), twelve times.
func TestPoisson(t *testing.T) {
	p := NewPython(42)
	want := []int{1, 0, 0, 3, 1, 0, 1, 0, 1, 0, 2, 2}
	for i, w := range want {
		if got := p.Poisson(1); got != w {
			t.Fatalf("poisson draw %d = %d, River %d", i, got, w)
		}
	}
}

// random.Random(2**40 + 7): a seed of two 32-bit words.
func TestTwoWordSeed(t *testing.T) {
	if v := NewPython(1<<40 + 7).Random(); v != 0.6137037779936511 {
		t.Errorf("a two-word seed draws %v, Python 0.6137037779936511", v)
	}
}
