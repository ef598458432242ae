package tree

import (
	"bytes"
	"encoding/gob"
	"math"
	"testing"

	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/pyrand"
)

// snapshotRoundTrip learns half of d, restores a copy from the snapshot,
// and checks that both then predict bit-identically while learning the
// rest.
func snapshotRoundTrip(t *testing.T, d *dataset, ids []int, a, b learn.Classifier) {
	t.Helper()
	half := len(d.Rows) / 2
	for i := 0; i < half; i++ {
		a.Learn(&d.Rows[i], ids[i])
	}
	snap, err := a.(learn.State).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if err := b.(learn.State).UnmarshalBinary(snap); err != nil {
		t.Fatal(err)
	}
	var pa, pb []float64
	for i := half; i < len(d.Rows); i++ {
		pa = a.PredictProba(&d.Rows[i], pa[:0])
		pb = b.PredictProba(&d.Rows[i], pb[:0])
		if len(pa) != len(pb) {
			t.Fatalf("row %d: %d vs %d classes after restore", i, len(pa), len(pb))
		}
		for k := range pa {
			if math.Float64bits(pa[k]) != math.Float64bits(pb[k]) {
				t.Fatalf("row %d class %d: %v vs %v after restore", i, k, pa[k], pb[k])
			}
		}
		a.Learn(&d.Rows[i], ids[i])
		b.Learn(&d.Rows[i], ids[i])
	}
	again, _ := b.(learn.State).MarshalBinary()
	final, _ := a.(learn.State).MarshalBinary()
	if string(again) != string(final) {
		t.Error("snapshots differ after learning the same rows")
	}
}

func TestSnapshotClassifier(t *testing.T) {
	d := loadCSV(t, "elec2.csv.gz", "class")
	d.Rows, d.Labels = d.Rows[:8000], d.Labels[:8000]
	ids := classIDs(d.Labels, learn.Binary, "UP")
	o := ClassifierDefaults()
	o.MinClasses = 2
	a, _ := NewClassifierWith(o)
	b, _ := NewClassifierWith(ClassifierDefaults())
	snapshotRoundTrip(t, d, ids, a, b)
}

func TestSnapshotHAT(t *testing.T) {
	d := loadCSV(t, "elec2.csv.gz", "class")
	d.Rows, d.Labels = d.Rows[:8000], d.Labels[:8000]
	ids := classIDs(d.Labels, learn.Binary, "UP")
	a, _ := NewHAT(nil)
	b, _ := NewHAT(map[string]any{"seed": 7})
	snapshotRoundTrip(t, d, ids, a, b)
}

func TestSnapshotRegressor(t *testing.T) {
	d := loadCSV(t, "chick_weights.csv", "weight")
	a, _ := NewRegressor(nil)
	b, _ := NewRegressor(map[string]any{"grace_period": 7})
	ys := d.Targets(t)
	half := len(ys) / 2
	for i := 0; i < half; i++ {
		a.Learn(&d.Rows[i], ys[i])
	}
	snap, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if err := b.UnmarshalBinary(snap); err != nil {
		t.Fatal(err)
	}
	if b.o.GracePeriod != 200 {
		t.Errorf("restored grace_period %d, want the snapshot's 200", b.o.GracePeriod)
	}
	for i := half; i < len(ys); i++ {
		pa, _ := a.Predict(&d.Rows[i])
		pb, _ := b.Predict(&d.Rows[i])
		if math.Float64bits(pa) != math.Float64bits(pb) {
			t.Fatalf("row %d: %v vs %v after restore", i, pa, pb)
		}
		a.Learn(&d.Rows[i], ys[i])
		b.Learn(&d.Rows[i], ys[i])
	}
	if err := b.UnmarshalBinary([]byte("junk")); err == nil {
		t.Error("junk snapshot accepted")
	}
}

func TestSnapshotHATR(t *testing.T) {
	d := loadCSV(t, "chick_weights.csv", "weight")
	a, _ := NewHATR(nil)
	b, _ := NewHATR(map[string]any{"seed": 3})
	for i := range d.Rows {
		y, _ := parseF(d.Labels[i])
		if i == len(d.Rows)/2 {
			snap, err := a.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if err := b.UnmarshalBinary(snap); err != nil {
				t.Fatal(err)
			}
		}
		if i >= len(d.Rows)/2 {
			pa, _ := a.Predict(&d.Rows[i])
			pb, _ := b.Predict(&d.Rows[i])
			if math.Float64bits(pa) != math.Float64bits(pb) {
				t.Fatalf("row %d: %v vs %v after restore", i, pa, pb)
			}
			b.Learn(&d.Rows[i], y)
		}
		a.Learn(&d.Rows[i], y)
	}
}

// HAT snapshots written before the generator moved to package pyrand held
// a struct pyRandom{MT [624]uint32; Idx int}; they must still restore.
func TestHATRandomStateFormat(t *testing.T) {
	type pyRandom struct {
		MT  [624]uint32
		Idx int
	}
	r := pyrand.NewPython(7)
	r.Random()
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(pyRandom{MT: r.State, Idx: r.Pos}); err != nil {
		t.Fatal(err)
	}
	var s rngState
	if err := gob.NewDecoder(&buf).Decode(&s); err != nil {
		t.Fatal(err)
	}
	got, want := s.restore().Random(), r.Random()
	if got != want {
		t.Fatalf("restored generator draws %v, the saved one %v", got, want)
	}
}
