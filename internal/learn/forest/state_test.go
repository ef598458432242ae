package forest

import (
	"math"
	"testing"

	"github.com/olops/olops/internal/learn"
)

// A forest restored from a snapshot taken mid-stream predicts and learns
// exactly like the original for the rest of the stream (members,
// background trees, detectors, accuracies and the generator included).
func TestClassifierSnapshotRestore(t *testing.T) {
	d := loadCSV(t, "bananas.csv", "label")
	ys := make([]int, len(d.Labels))
	for i, l := range d.Labels {
		if l == "1" {
			ys[i] = 1
		}
	}
	a, err := NewARFClassifier(map[string]any{"seed": 7}, 2)
	if err != nil {
		t.Fatal(err)
	}
	a.UseSchema(d.Schema())
	var pa, pb []float64
	const cut = 2500
	for i := 0; i < cut; i++ {
		a.PredictProba(&d.Rows[i], nil)
		a.Learn(&d.Rows[i], ys[i])
	}
	if a.Warnings() == 0 {
		t.Fatal("no warning before the snapshot: background trees untested")
	}
	snap, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewARFClassifier(map[string]any{"seed": 7}, 2)
	b.UseSchema(d.Schema())
	if err := b.UnmarshalBinary(snap); err != nil {
		t.Fatal(err)
	}
	for i := cut; i < len(d.Rows); i++ {
		pa = a.PredictProba(&d.Rows[i], pa[:0])
		pb = b.PredictProba(&d.Rows[i], pb[:0])
		if len(pa) != len(pb) {
			t.Fatalf("row %d: %v vs %v", i, pa, pb)
		}
		for k := range pa {
			if pa[k] != pb[k] {
				t.Fatalf("row %d: restored forest predicts %v, original %v", i, pb, pa)
			}
		}
		a.Learn(&d.Rows[i], ys[i])
		b.Learn(&d.Rows[i], ys[i])
	}
	if a.Drifts() != b.Drifts() || a.Warnings() != b.Warnings() {
		t.Errorf("drifts %d/%d warnings %d/%d", a.Drifts(), b.Drifts(), a.Warnings(), b.Warnings())
	}
	if err := b.UnmarshalBinary([]byte("junk")); err == nil {
		t.Error("junk snapshot accepted")
	}
}

func TestRegressorSnapshotRestore(t *testing.T) {
	d := loadCSV(t, "chick_weights.csv", "weight")
	ys := d.Targets(t)
	a := mustRegressor(t, nil)
	a.UseSchema(d.Schema())
	const cut = 300
	for i := 0; i < cut; i++ {
		a.Predict(&d.Rows[i])
		a.Learn(&d.Rows[i], ys[i])
	}
	snap, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	b := mustRegressor(t, nil)
	b.UseSchema(d.Schema())
	if err := b.UnmarshalBinary(snap); err != nil {
		t.Fatal(err)
	}
	for i := cut; i < len(d.Rows); i++ {
		va, _ := a.Predict(&d.Rows[i])
		vb, _ := b.Predict(&d.Rows[i])
		if va != vb {
			t.Fatalf("row %d: restored %v, original %v", i, vb, va)
		}
		a.Learn(&d.Rows[i], ys[i])
		b.Learn(&d.Rows[i], ys[i])
	}
}

// An unfitted forest snapshots and restores too.
func TestEmptySnapshot(t *testing.T) {
	a, _ := NewARFClassifier(nil, 0)
	snap, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewARFClassifier(map[string]any{"n_models": 3}, 0)
	if err := b.UnmarshalBinary(snap); err != nil {
		t.Fatal(err)
	}
	if b.Params()["n_models"] != 10 {
		t.Errorf("restored params %v", b.Params())
	}
	x := &learn.Row{X: []float64{1, 2}}
	if p := b.PredictProba(x, nil); len(p) != 0 {
		t.Errorf("unfitted forest predicts %v", p)
	}
	b.Learn(x, 1)
	if p := b.PredictProba(x, nil); len(p) == 0 {
		t.Error("forest cannot predict after learning")
	}
}

func TestParams(t *testing.T) {
	if _, err := NewARFClassifier(map[string]any{"n_models": 0}, 2); err == nil {
		t.Error("n_models 0 accepted")
	}
	if _, err := NewARFClassifier(map[string]any{"max_features": "cube"}, 2); err == nil {
		t.Error("bad max_features accepted")
	}
	if _, err := NewARFClassifier(map[string]any{"grace_perid": 5}, 2); err == nil {
		t.Error("unknown tree param accepted")
	}
	if _, err := NewARFClassifier(map[string]any{"aggregation_method": "mean"}, 2); err == nil {
		t.Error("aggregation_method accepted by the classifier")
	}
	f, err := NewARFClassifier(map[string]any{"n_models": 3.0, "max_features": 0.5, "grace_period": 20, "seed": 1}, 2)
	if err != nil {
		t.Fatal(err)
	}
	p := f.Params()
	if p["n_models"] != 3 || p["grace_period"] != 20 || p["delta"] != 0.01 || p["seed"] != int64(1) || p["max_features"] != 0.5 {
		t.Errorf("params %v", p)
	}
	if err := f.Patch(map[string]any{"lambda_value": 2.0, "n_models": 4}); err == nil {
		t.Error("n_models patched at run time")
	}
	if f.Params()["lambda_value"] != 6.0 {
		t.Error("a failed patch changed lambda_value")
	}
	if err := f.Patch(map[string]any{"lambda_value": 2.0, "tau": 0.1}); err != nil {
		t.Fatal(err)
	}
	if f.Params()["lambda_value"] != 2.0 || f.Params()["tau"] != 0.1 {
		t.Errorf("patch not applied: %v", f.Params())
	}
	r := mustRegressor(t, map[string]any{"aggregation_method": "mean", "disable_weighted_vote": false})
	if r.Params()["aggregation_method"] != "mean" {
		t.Errorf("regressor params %v", r.Params())
	}
	if err := r.Patch(map[string]any{"aggregation_method": "mode"}); err == nil {
		t.Error("bad aggregation accepted")
	}
	for n, want := range map[int]int{1: 1, 2: 1, 8: 3, 9: 3, 18: 4} {
		if got := resolveMaxFeatures("sqrt", n); got != want {
			t.Errorf("sqrt of %d features: %d, want %d", n, got, want)
		}
	}
	if resolveMaxFeatures(nil, 7) != 7 || resolveMaxFeatures(-2, 7) != 5 || resolveMaxFeatures(0.5, 7) != 3 || resolveMaxFeatures(20, 7) != 7 {
		t.Error("max_features sanity rules differ from River's")
	}
}

// The unweighted mean learns chick_weights; the weighted mean is River's:
// member weights sum(mse) - mse_i normalised to 1, and then (as River
// does) the mean of the weighted predictions, i.e. divided by n again.
func TestRegressorAggregations(t *testing.T) {
	d := loadCSV(t, "chick_weights.csv", "weight")
	got := regress(t, mustRegressor(t, map[string]any{"aggregation_method": "mean"}), d).Overall()
	if got["mae"] > 60 {
		t.Errorf("mean aggregation: MAE %.3f", got["mae"])
	}
	f := mustRegressor(t, map[string]any{"aggregation_method": "mean", "disable_weighted_vote": false})
	ys := d.Targets(t)
	for i := 0; i < 200; i++ {
		f.Predict(&d.Rows[i])
		f.Learn(&d.Rows[i], ys[i])
	}
	x := &d.Rows[200]
	var sum, want float64
	for i := range f.members {
		sum += f.members[i].mse()
	}
	var norm float64
	for i := range f.members {
		norm += sum - f.members[i].mse()
	}
	for i := range f.members {
		want += memberPredict(f.members[i].tree, x) * (sum - f.members[i].mse()) / norm
	}
	want /= float64(len(f.members))
	if p, _ := f.Predict(x); math.Abs(p-want) > 1e-9*math.Abs(want) {
		t.Errorf("weighted mean %v, want %v", p, want)
	}
}
