package tree_test

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/eval"
	"github.com/olops/olops/internal/learn/learntest"
	"github.com/olops/olops/internal/learn/models"
	"github.com/olops/olops/internal/learn/stream"
)

// TestModelsThroughEval runs the registered tree models through
// models.New and eval.Run, as `olops eval` does, against River's scores:
// hoeffding to 4 decimals, hat within one point of accuracy.
func TestModelsThroughEval(t *testing.T) {
	dir := learntest.SharedDir(t)
	type want struct{ acc, f1, logloss float64 }
	cases := []struct {
		model, file, target, positive string
		task                          learn.Task
		want                          want
		exact                         bool
	}{
		{"hoeffding", "phishing.csv.gz", "is_phishing", "", learn.Binary, want{0.8799039231385108, 0.8605947955390334, 0.45354760643225445}, true},
		{"hoeffding", "elec2.csv.gz", "class", "UP", learn.Binary, want{0.7956346141113637, 0.7508341405661393, 0.7726964937986112}, true},
		{"hoeffding", "bananas.csv", "label", "", learn.Binary, want{0.6421966408756369, 0.5034049240440022, 0.6636392807538709}, true},
		{"hoeffding", "image_segments.csv.gz", "category", "", learn.Multiclass, want{0.776093546990039, 0.7631372452021826, 2.0835562520151822}, true},
		{"hat", "phishing.csv.gz", "is_phishing", "", learn.Binary, want{0.8742994395516414, 0, 0}, false},
		{"hat", "bananas.csv", "label", "", learn.Binary, want{0.6165314210228345, 0, 0}, false},
		{"hat", "image_segments.csv.gz", "category", "", learn.Multiclass, want{0.7743611953226505, 0, 0}, false},
	}
	for _, c := range cases {
		t.Run(c.model+"/"+c.file, func(t *testing.T) {
			p, err := models.New(learn.Spec{Task: c.task, Model: c.model, Positive: c.positive})
			if err != nil {
				t.Fatal(err)
			}
			src, err := stream.OpenCSV(filepath.Join(dir, "datasets", c.file), stream.CSVOptions{Target: c.target})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			res, err := eval.Run(context.Background(), p, src, eval.Options{})
			if err != nil {
				t.Fatal(err)
			}
			m := res.Metrics
			t.Logf("%s %s: %v", c.model, c.file, m)
			if math.Abs(m["accuracy"]-c.want.acc) > map[bool]float64{true: 5e-5, false: 0.01}[c.exact] {
				t.Errorf("accuracy %.6f, River %.6f", m["accuracy"], c.want.acc)
			}
			if !c.exact {
				return
			}
			f1 := m["f1"]
			if c.task == learn.Multiclass {
				f1 = m["macro_f1"]
			}
			if math.Abs(f1-c.want.f1) > 5e-5 || math.Abs(m["logloss"]-c.want.logloss) > 5e-5 {
				t.Errorf("f1 %.6f logloss %.6f, River %.6f %.6f", f1, m["logloss"], c.want.f1, c.want.logloss)
			}
		})
	}
	t.Run("hoeffding-regressor/chick_weights.csv", func(t *testing.T) {
		p, err := models.New(learn.Spec{Task: learn.Regression, Model: "hoeffding"})
		if err != nil {
			t.Fatal(err)
		}
		src, err := stream.OpenCSV(filepath.Join(dir, "datasets", "chick_weights.csv"), stream.CSVOptions{Target: "weight"})
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		res, err := eval.Run(context.Background(), p, src, eval.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Metrics["mae"]; math.Abs(got-42.65731772380487) > 5e-5 || res.Scored != 578 {
			t.Errorf("mae %.6f over %d rows, River 42.657318 over 578", got, res.Scored)
		}
	})
}
