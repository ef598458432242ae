package eval

import (
	"errors"
	"io"
	"math"

	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/stream"
)

// Preloaded is a stream parsed once into rows over a pipeline's schema,
// for benchmarks that time the learner alone.
type Preloaded struct {
	Rows   []learn.Row
	Labels []string
}

// Preload reads src to the end (at most limit rows when limit > 0) into
// rows over p's schema, registering a CSV's feature columns in file order
// first, as Run does.
func Preload(p *learn.Pipeline, src stream.Source, limit int) (*Preloaded, error) {
	registerColumns(p, src)
	out := &Preloaded{}
	for i := 0; limit <= 0 || i < limit; i++ {
		s, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if i == 0 {
			registerSorted(p, s)
		}
		var r learn.Row
		if err := p.Row(s.Features, &r); err != nil {
			return nil, lineErr(s, i, err)
		}
		out.Rows = append(out.Rows, r)
		out.Labels = append(out.Labels, s.Label)
	}
	// Rows read early are shorter than the final schema: pad them so every
	// row has the same shape (missing = NaN, as Row.Reset does).
	n := p.Schema.Len()
	for i := range out.Rows {
		r := &out.Rows[i]
		for len(r.X) < n {
			r.X = append(r.X, math.NaN())
		}
		if r.C != nil {
			for len(r.C) < n {
				r.C = append(r.C, "")
			}
		}
	}
	return out, nil
}
