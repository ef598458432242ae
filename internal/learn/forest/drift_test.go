package forest

import (
	"errors"
	"io"
	"testing"

	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/metrics"
	"github.com/olops/olops/internal/learn/synth"
)

// On Agrawal with an abrupt change of loan function at row 6000, accuracy
// falls, the members' detectors fire after the change, and the forest
// adapts: its accuracy over the last 1000 rows is well above that over
// the 1000 rows just after the change.
func TestARFRecoversFromDrift(t *testing.T) {
	const rows, at = 12000, 6000
	src, task, err := synth.New("agrawal", synth.Options{Seed: 3, Rows: rows, DriftAt: at, DriftWidth: 1})
	if err != nil {
		t.Fatal(err)
	}
	f, err := NewARFClassifier(nil, 2)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"salary", "commission", "age", "elevel", "car", "zipcode", "hvalue", "hyears", "loan"}
	schema := learn.NewSchema()
	for _, n := range names {
		schema.Add(n, learn.Numeric)
	}
	f.UseSchema(func() *learn.Schema { return schema })
	set, _ := metrics.NewSet(task, []string{"accuracy"}, 1000)
	var proba []float64
	var before, justAfter float64
	drifts0 := 0
	x := learn.Row{X: make([]float64, len(names))}
	for i := 0; ; i++ {
		s, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for j, n := range names {
			x.X[j] = s.Features[n].(float64)
		}
		y := 0
		if s.Label == "1" {
			y = 1
		}
		proba = f.PredictProba(&x, proba[:0])
		if len(proba) > 0 {
			set.UpdateClass(y, learn.Prediction{Class: argmax(proba), Proba: proba})
		}
		f.Learn(&x, y)
		if i == at-1 {
			before = set.Rolling()["accuracy"]
			drifts0 = f.Drifts()
		}
		if i == at+999 {
			justAfter = set.Rolling()["accuracy"]
		}
	}
	after := set.Rolling()["accuracy"]
	t.Logf("rolling accuracy %.3f before the drift, %.3f just after, %.3f at the end; member drifts %d before, %d after",
		before, justAfter, after, drifts0, f.Drifts()-drifts0)
	if f.Drifts() == drifts0 {
		t.Error("no member detected the change")
	}
	if justAfter > before-0.05 {
		t.Errorf("accuracy %.3f before, %.3f just after the drift: no drop", before, justAfter)
	}
	if after < justAfter+0.05 {
		t.Errorf("accuracy %.3f just after the drift, %.3f at the end: the forest did not adapt", justAfter, after)
	}
}
