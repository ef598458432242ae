package forest

import (
	"math"
	"testing"
	"time"

	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/learntest"
	"github.com/olops/olops/internal/learn/metrics"
)

func TestARFClassifierVsRiver(t *testing.T) {
	cases := []struct {
		file, ref, target, positive string
		task                        learn.Task
	}{
		{"phishing.csv.gz", "phishing.csv.gz", "is_phishing", "1", learn.Binary},
		{"bananas.csv", "bananas.csv", "label", "1", learn.Binary},
		{"image_segments.csv.gz", "image_segments.csv.gz", "category", "", learn.Multiclass},
		{"elec2.csv.gz", "elec2.csv.gz", "class", "UP", learn.Binary},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			d := loadCSV(t, c.file, c.target)
			min := 0
			if c.task == learn.Binary {
				min = 2
			}
			f, err := NewARFClassifier(nil, min)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			set, scored := classify(t, f, d, c.task, c.positive)
			el := time.Since(start)
			ref := learntest.Reference(t, "arf", c.ref)
			got := set.Overall()
			acc, racc := got["accuracy"], num(t, ref, "accuracy")
			t.Logf("%s: accuracy %.5f (River %.5f, diff %+.2f pp), %v over %d rows (%.1f us/row, River %.0f); drifts %d warnings %d; %v",
				c.file, acc, racc, 100*(acc-racc), el, len(d.Rows), float64(el.Microseconds())/float64(len(d.Rows)),
				num(t, ref, "us_per_sample"), f.Drifts(), f.Warnings(), got)
			if scored != int(num(t, ref, "scored")) {
				t.Errorf("scored %d rows, River %v", scored, ref["scored"])
			}
			if math.Abs(acc-racc) > 0.01 {
				t.Errorf("accuracy %.5f differs from River's %.5f by more than 1 pp", acc, racc)
			}
		})
	}
}

// regress runs River's progressive validation of a regressor.
func regress(t testing.TB, r learn.Regressor, d *dataset) *metrics.Set {
	t.Helper()
	if u, ok := r.(interface{ UseSchema(func() *learn.Schema) }); ok {
		u.UseSchema(d.Schema())
	}
	set, err := metrics.NewSet(learn.Regression, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	ys := d.Targets(t)
	for i := range d.Rows {
		if p, ok := r.Predict(&d.Rows[i]); ok {
			set.UpdateValue(ys[i], p)
		}
		r.Learn(&d.Rows[i], ys[i])
	}
	return set
}

// ARFRegressor(seed=42) makes River's random draws (Poisson weights and
// leaf feature subsets from Python's generator, over the sorted feature
// names), so on chick_weights it scores exactly River's MAE, RMSE and R2.
func TestARFRegressorChickWeights(t *testing.T) {
	d := loadCSV(t, "chick_weights.csv", "weight")
	f, err := NewARFRegressor(nil)
	if err != nil {
		t.Fatal(err)
	}
	got := regress(t, f, d).Overall()
	ref := learntest.Reference(t, "arf", "chick_weights.csv")
	t.Logf("chick_weights: MAE %.4f (River %.4f), RMSE %.4f (River %.4f), R2 %.4f (River %.4f); drifts %d warnings %d",
		got["mae"], num(t, ref, "mae"), got["rmse"], num(t, ref, "rmse"), got["r2"], num(t, ref, "r2"), f.Drifts(), f.Warnings())
	for _, k := range []string{"mae", "rmse", "r2"} {
		if math.Abs(got[k]-num(t, ref, k)) > 1e-6*math.Max(1, math.Abs(num(t, ref, k))) {
			t.Errorf("%s %.8f, River %.8f", k, got[k], num(t, ref, k))
		}
	}
}

func mustRegressor(t testing.TB, params map[string]any) *ARFRegressor {
	t.Helper()
	f, err := NewARFRegressor(params)
	if err != nil {
		t.Fatal(err)
	}
	return f
}
