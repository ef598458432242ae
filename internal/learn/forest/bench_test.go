package forest

import (
	"testing"

	"github.com/olops/olops/internal/learn"
)

// BenchmarkARFLearnPredict is one progressive-validation step (predict,
// then learn) of ARFClassifier on elec2, per row.
func BenchmarkARFLearnPredict(b *testing.B) {
	d := loadCSV(b, "elec2.csv.gz", "class")
	ys := make([]int, len(d.Labels))
	for i, l := range d.Labels {
		if l == "UP" {
			ys[i] = 1
		}
	}
	f, err := NewARFClassifier(nil, 2)
	if err != nil {
		b.Fatal(err)
	}
	f.UseSchema(d.Schema())
	var proba []float64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := i % len(d.Rows)
		proba = f.PredictProba(&d.Rows[j], proba[:0])
		f.Learn(&d.Rows[j], ys[j])
	}
}

// BenchmarkARFRegressorLearnPredict is the same for ARFRegressor on
// chick_weights.
func BenchmarkARFRegressorLearnPredict(b *testing.B) {
	d := loadCSV(b, "chick_weights.csv", "weight")
	f, err := NewARFRegressor(nil)
	if err != nil {
		b.Fatal(err)
	}
	ys := d.Targets(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := i % len(d.Rows)
		f.Predict(&d.Rows[j])
		f.Learn(&d.Rows[j], ys[j])
	}
}

var _ = learn.Binary
