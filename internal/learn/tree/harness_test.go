package tree

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"io"
	"math"
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

// dataset is a CSV read in column order: the schema is the column order,
// as River's dicts are.
type dataset struct {
	cols   []string
	rows   []learn.Row
	labels []string
}

func loadCSV(t testing.TB, name, target string) *dataset {
	t.Helper()
	path := filepath.Join(sharedDir(t), "datasets", name)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = bufio.NewReader(f)
	if strings.HasSuffix(name, ".gz") {
		gz, err := gzip.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		r = gz
	}
	recs, err := csv.NewReader(r).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	head := recs[0]
	ti := -1
	var feat []int
	for i, h := range head {
		if h == target {
			ti = i
		} else {
			feat = append(feat, i)
		}
	}
	if ti < 0 {
		t.Fatalf("%s: no column %q", name, target)
	}
	// numeric unless some non-empty value does not parse
	numeric := make([]bool, len(head))
	for _, i := range feat {
		numeric[i] = true
		for _, rec := range recs[1:] {
			if rec[i] == "" {
				continue
			}
			if _, err := strconv.ParseFloat(rec[i], 64); err != nil {
				numeric[i] = false
				break
			}
		}
	}
	d := &dataset{}
	anyCat := false
	for _, i := range feat {
		d.cols = append(d.cols, head[i])
		anyCat = anyCat || !numeric[i]
	}
	for _, rec := range recs[1:] {
		row := learn.Row{X: make([]float64, len(feat))}
		if anyCat {
			row.C = make([]string, len(feat))
		}
		for j, i := range feat {
			row.X[j] = math.NaN()
			if rec[i] == "" {
				continue
			}
			if numeric[i] {
				row.X[j], _ = strconv.ParseFloat(rec[i], 64)
			} else {
				row.C[j] = rec[i]
			}
		}
		d.rows = append(d.rows, row)
		d.labels = append(d.labels, rec[ti])
	}
	return d
}

// classIDs maps labels to ids: binary with positive -> 1, else first seen.
func classIDs(labels []string, task learn.Task, positive string) []int {
	ids := make([]int, len(labels))
	seen := map[string]int{}
	for i, l := range labels {
		if task == learn.Binary {
			if l == positive {
				ids[i] = 1
			}
			continue
		}
		id, ok := seen[l]
		if !ok {
			id = len(seen)
			seen[l] = id
		}
		ids[i] = id
	}
	return ids
}

// refRow is one line of river-0.21.1.jsonl.
type refRow struct {
	Model, Dataset, Task, Positive string
	Rows, Scored                   int
	Accuracy, F1, MacroF1, LogLoss float64
	MAE, RMSE, R2                  float64
	UsPerSample                    float64
}

func reference(t testing.TB, model, dataset string) refRow {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sharedDir(t), "reference", "river-0.21.1.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		if m["model"] != model || m["dataset"] != dataset {
			continue
		}
		num := func(k string) float64 { f, _ := m[k].(float64); return f }
		str := func(k string) string { s, _ := m[k].(string); return s }
		return refRow{Model: model, Dataset: dataset, Task: str("task"), Positive: str("positive"),
			Rows: int(num("rows")), Scored: int(num("scored")), Accuracy: num("accuracy"), F1: num("f1"),
			MacroF1: num("macro_f1"), LogLoss: num("logloss"), MAE: num("mae"), RMSE: num("rmse"),
			R2: num("r2"), UsPerSample: num("us_per_sample")}
	}
	t.Fatalf("no reference for %s on %s", model, dataset)
	return refRow{}
}

// progressiveClass runs predict, score, learn over d; onRow sees each
// prediction (proba nil when empty).
//
// Ties go to the class whose label sorts first, as River's
// predict_one takes the first maximum of a dict built over sorted(classes).
func progressiveClass(t testing.TB, clf learn.Classifier, d *dataset, task learn.Task, ids []int,
	onRow func(i int, proba []float64)) (map[string]float64, int) {
	t.Helper()
	label := make(map[int]string)
	for i, id := range ids {
		label[id] = d.labels[i]
	}
	if task == learn.Binary {
		label[0], label[1] = "0", "1"
	}
	set, err := metrics.NewSet(task, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var buf []float64
	scored := 0
	for i := range d.rows {
		x := &d.rows[i]
		buf = clf.PredictProba(x, buf[:0])
		pred := learn.Prediction{Empty: len(buf) == 0}
		if !pred.Empty {
			best := 0
			for k, p := range buf {
				if p > buf[best] || (p == buf[best] && label[k] < label[best]) {
					best = k
				}
			}
			pred.Class, pred.Proba = best, buf
			scored++
		}
		if onRow != nil {
			if pred.Empty {
				onRow(i, nil)
			} else {
				onRow(i, buf)
			}
		}
		set.UpdateClass(ids[i], pred)
		clf.Learn(x, ids[i])
	}
	return set.Overall(), scored
}

func parseF(s string) (float64, error) { return strconv.ParseFloat(s, 64) }
