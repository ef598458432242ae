package models_test

import (
	"path/filepath"
	"testing"

	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/eval"
	"github.com/olops/olops/internal/learn/learntest"
	"github.com/olops/olops/internal/learn/models"
	"github.com/olops/olops/internal/learn/stream"
)

// elec2 parses elec2 once into rows over a fresh pipeline of model.
func elec2(b *testing.B, model string) (*learn.Pipeline, *eval.Preloaded) {
	b.Helper()
	src, err := stream.OpenCSV(filepath.Join(learntest.SharedDir(b), "datasets", "elec2.csv.gz"), stream.CSVOptions{Target: "class"})
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	p, err := models.New(learn.Spec{Task: learn.Binary, Model: model, Positive: "UP"})
	if err != nil {
		b.Fatal(err)
	}
	data, err := eval.Preload(p, src, 0)
	if err != nil {
		b.Fatal(err)
	}
	return p, data
}

var benchModels = []string{"logreg", "perceptron", "pa", "gnb"}

// BenchmarkLearn times one pipeline learn (scaler update and transform,
// then the model's step) per op, over elec2's rows in order.
func BenchmarkLearn(b *testing.B) {
	for _, m := range benchModels {
		b.Run(m, func(b *testing.B) {
			p, d := elec2(b, m)
			for i := range d.Rows { // warm: weights and buffers at full size
				p.LearnClass(&d.Rows[i], d.Labels[i])
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				k := i % len(d.Rows)
				if err := p.LearnClass(&d.Rows[k], d.Labels[k]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPredict times one pipeline prediction per op.
func BenchmarkPredict(b *testing.B) {
	for _, m := range benchModels {
		b.Run(m, func(b *testing.B) {
			p, d := elec2(b, m)
			for i := range d.Rows {
				p.LearnClass(&d.Rows[i], d.Labels[i])
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p.Predict(&d.Rows[i%len(d.Rows)])
			}
		})
	}
}

// BenchmarkRegressors times predict+learn of the linear regressors
// (StandardScaler | LinearRegression, PARegressor) on trump_approval.
func BenchmarkRegressors(b *testing.B) {
	for _, m := range []string{"linreg", "pa-regressor"} {
		b.Run(m, func(b *testing.B) {
			src, err := stream.OpenCSV(filepath.Join(learntest.SharedDir(b), "datasets", "trump_approval.csv.gz"), stream.CSVOptions{Target: "five_thirty_eight"})
			if err != nil {
				b.Fatal(err)
			}
			defer src.Close()
			p, _ := models.New(learn.Spec{Task: learn.Regression, Model: m})
			d, err := eval.Preload(p, src, 0)
			if err != nil {
				b.Fatal(err)
			}
			ys := make([]float64, len(d.Labels))
			for i, l := range d.Labels {
				ys[i], _ = p.Target(l)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				k := i % len(d.Rows)
				p.Predict(&d.Rows[k])
				p.LearnValue(&d.Rows[k], ys[k])
			}
		})
	}
}

// BenchmarkPredictLearn times the progressive-validation step (predict,
// then learn) per op: what `make bench` compares with River.
func BenchmarkPredictLearn(b *testing.B) {
	for _, m := range benchModels {
		b.Run(m, func(b *testing.B) {
			p, d := elec2(b, m)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				k := i % len(d.Rows)
				p.Predict(&d.Rows[k])
				if err := p.LearnClass(&d.Rows[k], d.Labels[k]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
