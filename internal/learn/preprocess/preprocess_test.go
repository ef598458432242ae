package preprocess

import (
	"math"
	"testing"

	"github.com/olops/olops/internal/learn"
)

var nan = math.NaN()

func row(x ...float64) *learn.Row { return &learn.Row{X: x} }

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 || (math.IsNaN(a) && math.IsNaN(b)) }

func TestStandardScalerByHand(t *testing.T) {
	s := NewStandardScaler()
	var out learn.Row
	// Feature 0: 1, 3, 5 -> means 1, 2, 3; population variances 0, 1, 8/3.
	// Feature 1 is constant (variance 0 -> 0); feature 2 missing on row 2.
	rows := []*learn.Row{row(1, 7, 10), row(3, 7, nan), row(5, 7, 20)}
	want := [][]float64{{0, 0, 0}, {1, 0, nan}, {2 / math.Sqrt(8.0/3), 0, 1}}
	for i, r := range rows {
		s.Learn(r)
		s.Transform(r, &out)
		for j := range want[i] {
			if !near(out.X[j], want[i][j]) {
				t.Errorf("row %d feature %d = %v, want %v", i, j, out.X[j], want[i][j])
			}
		}
	}
	if s.Counts[2] != 2 {
		t.Errorf("missing value was counted: %v", s.Counts)
	}
	// A feature never learned (a longer row) scales to 0, a NaN stays NaN.
	s.Transform(row(3, nan, 10, 99), &out)
	if !near(out.X[0], 0) || !math.IsNaN(out.X[1]) || out.X[3] != 0 {
		t.Errorf("transform = %v", out.X)
	}
}

func TestMinMaxScalerRiverExample(t *testing.T) {
	// River's docstring example for MinMaxScaler.
	xs := []float64{10.557707, 8.100043, 9.100117, 8.892842, 10.945884}
	want := []float64{0, 0, 0.406920, 0.322582, 1}
	s := NewMinMaxScaler()
	var out learn.Row
	for i, x := range xs {
		s.Learn(row(x, nan))
		s.Transform(row(x, nan), &out)
		if math.Abs(out.X[0]-want[i]) > 1e-6 || !math.IsNaN(out.X[1]) {
			t.Errorf("step %d: %v, want %v", i, out.X, want[i])
		}
	}
}

func TestOneHotEncoder(t *testing.T) {
	e := NewOneHotEncoder()
	var out learn.Row
	r1 := &learn.Row{X: []float64{2, nan}, C: []string{"", "red"}}
	e.Learn(r1)
	e.Transform(r1, &out)
	if len(out.X) != 2 || out.X[0] != 2 || out.X[1] != 1 || out.C != nil {
		t.Fatalf("first row -> %v %v", out.X, out.C)
	}
	r2 := &learn.Row{X: []float64{3, nan, 5}, C: []string{"", "blue", ""}}
	e.Learn(r2)
	e.Transform(r2, &out)
	// Slots: 0 num f0, 1 f1=red, then numeric before categorical within a
	// row: 2 num f2, 3 f1=blue.
	want := []float64{3, 0, 5, 1}
	for i := range want {
		if out.X[i] != want[i] {
			t.Fatalf("second row -> %v, want %v", out.X, want)
		}
	}
	// Categorical missing: its indicators are missing; unseen value dropped.
	e.Transform(&learn.Row{X: []float64{1, nan}, C: []string{"", ""}}, &out)
	if !math.IsNaN(out.X[1]) || !math.IsNaN(out.X[2]) || !math.IsNaN(out.X[3]) {
		t.Errorf("missing categorical -> %v", out.X)
	}
	e.Transform(&learn.Row{X: []float64{1, nan}, C: []string{"", "green"}}, &out)
	if out.X[1] != 0 || out.X[3] != 0 || len(out.X) != 4 {
		t.Errorf("unseen value -> %v", out.X)
	}
	// Restored mapping encodes identically.
	b, err := e.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	e2 := &OneHotEncoder{}
	if err := e2.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	var out2 learn.Row
	e.Transform(r2, &out)
	e2.Transform(r2, &out2)
	for i := range out.X {
		if math.Float64bits(out.X[i]) != math.Float64bits(out2.X[i]) {
			t.Fatalf("restored encoder -> %v, want %v", out2.X, out.X)
		}
	}
}

func TestFeatureHasher(t *testing.T) {
	h := NewFeatureHasher(64, 7)
	var a, b learn.Row
	r := &learn.Row{X: []float64{2, nan, 3}, C: []string{"", "red", ""}}
	h.Transform(r, &a)
	h.Transform(r, &b)
	sum, present := 0.0, 0
	for i := range a.X {
		if math.Float64bits(a.X[i]) != math.Float64bits(b.X[i]) {
			t.Fatal("hashing is not deterministic")
		}
		if !math.IsNaN(a.X[i]) {
			sum += a.X[i]
			present++
		}
	}
	if len(a.X) != 64 || sum != 6 || present < 1 || present > 3 {
		t.Errorf("buckets: %d long, sum %v over %d buckets; want 64, 6 (2+3+1)", len(a.X), sum, present)
	}
	if other := NewFeatureHasher(64, 8); func() bool {
		var c learn.Row
		other.Transform(r, &c)
		for i := range c.X {
			if math.Float64bits(c.X[i]) != math.Float64bits(a.X[i]) {
				return false
			}
		}
		return true
	}() {
		t.Log("seeds 7 and 8 hash to the same buckets (possible but unlikely)")
	}
}

func TestScalerSnapshots(t *testing.T) {
	for _, s := range []interface {
		learn.Transformer
		learn.State
	}{NewStandardScaler(), NewMinMaxScaler()} {
		for i := 0; i < 50; i++ {
			s.Learn(row(float64(i%7)*1.3, float64(i)/3, nan))
		}
		b, err := s.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var c interface {
			learn.Transformer
			learn.State
		}
		switch s.(type) {
		case *StandardScaler:
			c = &StandardScaler{}
		default:
			c = &MinMaxScaler{}
		}
		if err := c.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		var o1, o2 learn.Row
		for i := 0; i < 10; i++ {
			r := row(float64(i)*0.7, float64(i), 1)
			s.Learn(r)
			c.Learn(r)
			s.Transform(r, &o1)
			c.Transform(r, &o2)
			for j := range o1.X {
				if math.Float64bits(o1.X[j]) != math.Float64bits(o2.X[j]) {
					t.Fatalf("%T restored differs: %v vs %v", s, o2.X, o1.X)
				}
			}
		}
	}
}

func TestTransformDoesNotAllocate(t *testing.T) {
	s := NewStandardScaler()
	r := row(1, 2, 3, nan)
	var out learn.Row
	s.Learn(r)
	s.Transform(r, &out)
	if n := testing.AllocsPerRun(100, func() { s.Learn(r); s.Transform(r, &out) }); n != 0 {
		t.Errorf("StandardScaler: %v allocs per sample", n)
	}
	c := &learn.Row{X: []float64{1, nan, 3}, C: []string{"", "red", ""}}
	for _, st := range []learn.Transformer{NewMinMaxScaler(), NewOneHotEncoder(), NewFeatureHasher(32, 1)} {
		var o learn.Row
		st.Learn(c)
		st.Transform(c, &o)
		if n := testing.AllocsPerRun(100, func() { st.Learn(c); st.Transform(c, &o) }); n != 0 {
			t.Errorf("%T: %v allocs per sample", st, n)
		}
	}
}
