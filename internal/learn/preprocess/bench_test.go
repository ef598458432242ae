package preprocess

import (
	"testing"

	"github.com/olops/olops/internal/learn"
)

// BenchmarkStandardScaler times one learn and two transforms of an
// 8-feature row: a scaler's work per progressive-validation step.
func BenchmarkStandardScaler(b *testing.B) {
	s := NewStandardScaler()
	rows := make([]learn.Row, 64)
	for i := range rows {
		rows[i].X = make([]float64, 8)
		for j := range rows[i].X {
			rows[i].X[j] = float64((i*7+j*3)%13) / 5
		}
	}
	var out learn.Row
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r := &rows[i&63]
		s.Transform(r, &out)
		s.Learn(r)
		s.Transform(r, &out)
	}
}
