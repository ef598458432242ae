package forest

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/metrics"
)

// sharedDir is <repo root>/../shared.
func sharedDir(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Dir(file)
	for i := 0; i < 10; i++ {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			s := filepath.Join(dir, "..", "shared")
			if _, err := os.Stat(filepath.Join(s, "reference")); err != nil {
				t.Fatalf("reference data missing: %v (clone shared/ beside the repo)", err)
			}
			return s
		}
		dir = filepath.Dir(dir)
	}
	t.Fatal("repo root (go.mod) not found")
	return ""
}

// dataset is a numeric CSV in column order (features in the schema's
// order, as River's dicts are).
type dataset struct {
	names  []string
	rows   []learn.Row
	labels []string
}

// schema is the dataset's schema, its features in column order.
func (d *dataset) schema() func() *learn.Schema {
	s := learn.NewSchema()
	for _, n := range d.names {
		s.Add(n, learn.Numeric)
	}
	return func() *learn.Schema { return s }
}

func loadCSV(t testing.TB, name, target string) *dataset {
	t.Helper()
	f, err := os.Open(filepath.Join(sharedDir(t), "datasets", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = bufio.NewReader(f)
	if strings.HasSuffix(name, ".gz") {
		if r, err = gzip.NewReader(r); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := csv.NewReader(r).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	ti := -1
	for i, h := range recs[0] {
		if h == target {
			ti = i
		}
	}
	if ti < 0 {
		t.Fatalf("%s has no column %q", name, target)
	}
	d := &dataset{}
	for i, h := range recs[0] {
		if i != ti {
			d.names = append(d.names, h)
		}
	}
	for _, rec := range recs[1:] {
		var row learn.Row
		for i, v := range rec {
			if i == ti {
				continue
			}
			x, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %q is not a number", name, v)
			}
			row.X = append(row.X, x)
		}
		d.rows = append(d.rows, row)
		d.labels = append(d.labels, rec[ti])
	}
	return d
}

// reference returns River's scores for a model on a dataset.
func reference(t testing.TB, dataset, model string) map[string]any {
	t.Helper()
	f, err := os.Open(filepath.Join(sharedDir(t), "reference", "river-0.21.1.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		if m["dataset"] == dataset && m["model"] == model {
			return m
		}
	}
	t.Fatalf("no reference for %s on %s", model, dataset)
	return nil
}

// classify runs River's progressive validation of a classifier: predict
// (empty predictions are not scored), score, learn.
func classify(t testing.TB, c learn.Classifier, d *dataset, task learn.Task, positive string) (*metrics.Set, int) {
	t.Helper()
	set, err := metrics.NewSet(task, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if u, ok := c.(interface{ UseSchema(func() *learn.Schema) }); ok {
		u.UseSchema(d.schema())
	}
	ids := map[string]int{}
	var proba []float64
	scored := 0
	for i := range d.rows {
		x := &d.rows[i]
		var y int
		if task == learn.Binary {
			if d.labels[i] == positive {
				y = 1
			}
		} else {
			id, ok := ids[d.labels[i]]
			if !ok {
				id = len(ids)
				ids[d.labels[i]] = id
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

func targets(t testing.TB, d *dataset) []float64 {
	t.Helper()
	ys := make([]float64, len(d.labels))
	for i, l := range d.labels {
		y, err := strconv.ParseFloat(l, 64)
		if err != nil {
			t.Fatalf("target %q is not a number", l)
		}
		ys[i] = y
	}
	return ys
}
