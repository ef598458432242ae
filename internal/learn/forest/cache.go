package forest

import (
	"math"

	"github.com/olops/olops/internal/learn"
)

// rowCache remembers one row's values and the members' predictions for
// it, so that learning the row just predicted does not predict it again.
// Any learning invalidates it.
type rowCache struct {
	valid  bool
	x      []float64
	c      []string
	labels []int
}

func (r *rowCache) store(x *learn.Row, n int) {
	r.x = append(r.x[:0], x.X...)
	r.c = append(r.c[:0], x.C...)
	if cap(r.labels) < n {
		r.labels = make([]int, n)
	}
	r.labels = r.labels[:n]
	r.valid = true
}

func (r *rowCache) matches(x *learn.Row, n int) bool {
	if !r.valid || len(r.labels) != n || len(x.X) != len(r.x) || len(x.C) != len(r.c) {
		return false
	}
	for i, v := range x.X {
		if math.Float64bits(v) != math.Float64bits(r.x[i]) {
			return false
		}
	}
	for i, v := range x.C {
		if v != r.c[i] {
			return false
		}
	}
	return true
}
