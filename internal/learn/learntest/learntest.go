// Package learntest is what the engine's tests share: finding the shared/
// folder beside the repository, reading its datasets in column order and
// looking up River's reference scores. Only tests import it.
package learntest

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
)

// SharedDir is <repo root>/../shared; the test fails when it is missing
// (CI clones shared/ beside the repository).
func SharedDir(t testing.TB) string {
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

// Dataset is a CSV read in column order: the features keep the column
// order, as River's dicts do.
type Dataset struct {
	Cols    []string
	Numeric []bool // per feature
	Rows    []learn.Row
	Labels  []string
}

// Schema is the dataset's schema, its features in column order.
func (d *Dataset) Schema() func() *learn.Schema {
	s := learn.NewSchema()
	for i, n := range d.Cols {
		k := learn.Categorical
		if d.Numeric[i] {
			k = learn.Numeric
		}
		s.Add(n, k)
	}
	return func() *learn.Schema { return s }
}

// LoadCSV reads shared/datasets/name (gzip when it ends in .gz) with
// target as the label column. A column is numeric unless some non-empty
// value fails to parse; empty values are missing (NaN, or "" in C).
func LoadCSV(t testing.TB, name, target string) *Dataset {
	t.Helper()
	f, err := os.Open(filepath.Join(SharedDir(t), "datasets", name))
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
	d := &Dataset{}
	anyCat := false
	for _, i := range feat {
		num := true
		for _, rec := range recs[1:] {
			if rec[i] == "" {
				continue
			}
			if _, err := strconv.ParseFloat(rec[i], 64); err != nil {
				num = false
				break
			}
		}
		d.Cols = append(d.Cols, head[i])
		d.Numeric = append(d.Numeric, num)
		anyCat = anyCat || !num
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
			if d.Numeric[j] {
				row.X[j], _ = strconv.ParseFloat(rec[i], 64)
			} else {
				row.C[j] = rec[i]
			}
		}
		d.Rows = append(d.Rows, row)
		d.Labels = append(d.Labels, rec[ti])
	}
	return d
}

// Reference returns the line of shared/reference/river-0.21.1.jsonl for
// model on dataset, decoded; the test fails when there is none.
func Reference(t testing.TB, model, dataset string) map[string]any {
	t.Helper()
	f, err := os.Open(filepath.Join(SharedDir(t), "reference", "river-0.21.1.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		if m["model"] == model && m["dataset"] == dataset {
			return m
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	t.Fatalf("no reference for %s on %s", model, dataset)
	return nil
}

// Targets parses the labels of a regression dataset; the test fails on a
// label that is not a number.
func (d *Dataset) Targets(t testing.TB) []float64 {
	t.Helper()
	ys := make([]float64, len(d.Labels))
	for i, l := range d.Labels {
		y, err := strconv.ParseFloat(l, 64)
		if err != nil {
			t.Fatalf("target %q is not a number", l)
		}
		ys[i] = y
	}
	return ys
}
