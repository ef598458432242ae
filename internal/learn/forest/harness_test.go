package forest

import (
	"testing"

	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/learntest"
	"github.com/olops/olops/internal/learn/metrics"
)

// dataset is a CSV read in column order (see learntest.LoadCSV).
type dataset = learntest.Dataset

func loadCSV(t testing.TB, name, target string) *dataset { return learntest.LoadCSV(t, name, target) }

// classify runs River's progressive validation of a classifier: predict
// (empty predictions are not scored), score, learn.
func classify(t testing.TB, c learn.Classifier, d *dataset, task learn.Task, positive string) (*metrics.Set, int) {
	t.Helper()
	set, err := metrics.NewSet(task, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if u, ok := c.(interface{ UseSchema(func() *learn.Schema) }); ok {
		u.UseSchema(d.Schema())
	}
	ids := map[string]int{}
	var proba []float64
	scored := 0
	for i := range d.Rows {
		x := &d.Rows[i]
		var y int
		if task == learn.Binary {
			if d.Labels[i] == positive {
				y = 1
			}
		} else {
			id, ok := ids[d.Labels[i]]
			if !ok {
				id = len(ids)
				ids[d.Labels[i]] = id
			}
			y = id
		}
		proba = c.PredictProba(x, proba[:0])
		if len(proba) > 0 {
			best := 0
			for k, p := range proba {
				if p > proba[best] {
					best = k
				}
			}
			set.UpdateClass(y, learn.Prediction{Class: best, Proba: proba})
			scored++
		}
		c.Learn(x, y)
	}
	return set, scored
}

func num(t testing.TB, m map[string]any, k string) float64 {
	t.Helper()
	v, ok := m[k].(float64)
	if !ok {
		t.Fatalf("reference has no number %q", k)
	}
	return v
}
