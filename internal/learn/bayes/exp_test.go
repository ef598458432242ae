package bayes

import (
	"math"
	"testing"
)

func TestExp(t *testing.T) {
	worst := 0.0
	for i := 0; i <= 1000000; i++ {
		x := -750 + 760*float64(i)/1000000
		want, got := math.Exp(x), exp(x)
		if want == 0 {
			if got != 0 {
				t.Fatalf("exp(%v) = %v, want 0", x, got)
			}
			continue
		}
		if d := math.Abs(got-want) / want; d > worst {
			worst = d
		}
	}
	if worst > 1e-15 {
		t.Errorf("worst relative error %g", worst)
	}
	for _, x := range []float64{0, math.Copysign(0, -1), -1, 1, math.Inf(-1), -745.2, 709.5} {
		if got, want := exp(x), math.Exp(x); math.Abs(got-want) > 1e-15*want {
			t.Errorf("exp(%v) = %v, want %v", x, got, want)
		}
	}
	if exp(0) != 1 {
		t.Errorf("exp(0) = %v", exp(0))
	}
}

func BenchmarkExp(b *testing.B) {
	s := 0.0
	for i := 0; i < b.N; i++ {
		s += exp(-float64(i&1023) * 0.01)
	}
	if s == 0 {
		b.Fatal(s)
	}
}

func BenchmarkMathExp(b *testing.B) {
	s := 0.0
	for i := 0; i < b.N; i++ {
		s += math.Exp(-float64(i&1023) * 0.01)
	}
	if s == 0 {
		b.Fatal(s)
	}
}
