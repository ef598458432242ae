package tree

import (
	"testing"

	"github.com/olops/olops/internal/learn"
)

// benchClass times predict+learn per elec2 row (the loop River's
// us_per_sample measures) and reports River's time and the ratio.
func benchClass(b *testing.B, model string, build func() learn.Classifier) {
	d := loadCSV(b, "elec2.csv.gz", "class")
	ids := classIDs(d.Labels, learn.Binary, "UP")
	ref := reference(b, model, "elec2.csv.gz")
	m := build()
	var buf []float64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := i % len(d.Rows)
		if j == 0 && i > 0 {
			b.StopTimer()
			m = build() // a fresh model per pass, as River's run
			b.StartTimer()
		}
		buf = m.PredictProba(&d.Rows[j], buf[:0])
		m.Learn(&d.Rows[j], ids[j])
	}
	b.StopTimer()
	us := float64(b.Elapsed().Microseconds()) / float64(b.N)
	if us > 0 {
		b.ReportMetric(ref.UsPerSample, "river-us/op")
		b.ReportMetric(ref.UsPerSample/us, "x-river")
	}
}

func BenchmarkHoeffdingElec2(b *testing.B) {
	benchClass(b, "hoeffding", func() learn.Classifier {
		o := ClassifierDefaults()
		o.MinClasses = 2
		c, _ := NewClassifierWith(o)
		return c
	})
}

func BenchmarkHATElec2(b *testing.B) {
	benchClass(b, "hat", func() learn.Classifier {
		c, _ := NewHAT(nil)
		c.SetMinClasses(2)
		return c
	})
}

func BenchmarkHoeffdingRegressorChickWeights(b *testing.B) {
	d := loadCSV(b, "chick_weights.csv", "weight")
	ref := reference(b, "hoeffding", "chick_weights.csv")
	ys := d.Targets(b)
	r, _ := NewRegressor(nil)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := i % len(d.Rows)
		if j == 0 && i > 0 {
			b.StopTimer()
			r, _ = NewRegressor(nil)
			b.StartTimer()
		}
		r.Predict(&d.Rows[j])
		r.Learn(&d.Rows[j], ys[j])
	}
	b.StopTimer()
	us := float64(b.Elapsed().Microseconds()) / float64(b.N)
	if us > 0 {
		b.ReportMetric(ref.UsPerSample, "river-us/op")
		b.ReportMetric(ref.UsPerSample/us, "x-river")
	}
}
