package models_test

import (
	"bufio"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/eval"
	"github.com/olops/olops/internal/learn/learntest"
	"github.com/olops/olops/internal/learn/models"
	"github.com/olops/olops/internal/learn/stream"
)

type reference struct {
	Model       string  `json:"model"`
	Dataset     string  `json:"dataset"`
	Target      string  `json:"target"`
	Task        string  `json:"task"`
	Positive    string  `json:"positive"`
	Rows        int     `json:"rows"`
	Scored      int     `json:"scored"`
	USPerSample float64 `json:"us_per_sample"`
	Metrics     map[string]float64
}

func references(t testing.TB) []reference {
	t.Helper()
	f, err := os.Open(filepath.Join(learntest.SharedDir(t), "reference", "river-0.21.1.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var refs []reference
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r reference
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		var all map[string]any
		json.Unmarshal(sc.Bytes(), &all)
		r.Metrics = map[string]float64{}
		for _, m := range []string{"accuracy", "f1", "macro_f1", "logloss", "mae", "rmse", "r2"} {
			if v, ok := all[m].(float64); ok {
				r.Metrics[m] = v
			}
		}
		refs = append(refs, r)
	}
	return refs
}

func runReference(t testing.TB, ref reference, trace *strings.Builder) *eval.Result {
	t.Helper()
	src, err := stream.OpenCSV(filepath.Join(learntest.SharedDir(t), "datasets", ref.Dataset), stream.CSVOptions{Target: ref.Target})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	p, err := models.New(learn.Spec{Task: learn.Task(ref.Task), Model: ref.Model, Positive: ref.Positive})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for m := range ref.Metrics {
		names = append(names, m)
	}
	o := eval.Options{Metrics: names}
	if trace != nil {
		o.Trace = trace
	}
	res, err := eval.Run(context.Background(), p, src, o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestRiverParity holds every deterministic score of the reference file
// that this package's linear and naive Bayes models cover: rows, scored
// and each metric equal to River's to 4 decimals.
func TestRiverParity(t *testing.T) {
	n := 0
	for _, ref := range references(t) {
		switch ref.Model {
		case "logreg", "perceptron", "gnb", "linreg":
		default:
			continue
		}
		n++
		t.Run(ref.Model+"/"+ref.Dataset, func(t *testing.T) {
			res := runReference(t, ref, nil)
			if res.Rows != ref.Rows || res.Scored != ref.Scored {
				t.Errorf("rows %d scored %d, River %d %d", res.Rows, res.Scored, ref.Rows, ref.Scored)
			}
			for m, want := range ref.Metrics {
				got, ok := res.Metrics[m]
				if !ok || math.Abs(got-want) > 5e-5 {
					t.Errorf("%s = %.6f, River %.6f", m, got, want)
				} else {
					t.Logf("%s = %.6f, River %.6f (diff %.1e)", m, got, want, got-want)
				}
			}
		})
	}
	if n < 10 {
		t.Fatalf("only %d reference entries for logreg/perceptron/gnb/linreg", n)
	}
}

// TestPhishingTraces matches River's per-row predictions on Phishing: the
// predicted class exactly and P(True) to 1e-9, for every row.
func TestPhishingTraces(t *testing.T) {
	for _, model := range []string{"logreg", "perceptron", "gnb"} {
		t.Run(model, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join(learntest.SharedDir(t), "reference", "phishing_trace_"+model+".csv"))
			if err != nil {
				t.Fatal(err)
			}
			var got strings.Builder
			runReference(t, reference{Model: model, Dataset: "phishing.csv.gz", Target: "is_phishing", Task: "binary",
				Metrics: map[string]float64{"accuracy": 0}}, &got)
			wl := strings.Split(strings.ReplaceAll(strings.TrimSpace(string(want)), "\r", ""), "\n")
			gl := strings.Split(strings.TrimSpace(got.String()), "\n")
			if len(wl) != len(gl) || len(wl) != 1251 {
				t.Fatalf("trace has %d lines, River's %d (want 1251)", len(gl), len(wl))
			}
			for i := range wl {
				w, g := strings.Split(wl[i], ","), strings.Split(gl[i], ",")
				if len(w) != 4 || len(g) != 4 {
					t.Fatalf("line %d: %q vs River %q", i+1, gl[i], wl[i])
				}
				if i == 0 {
					if gl[0] != wl[0] {
						t.Fatalf("header %q, River %q", gl[0], wl[0])
					}
					continue
				}
				if g[0] != w[0] || g[1] != w[1] || g[2] != w[2] {
					t.Fatalf("row %s: i,y_true,y_pred = %s,%s,%s, River %s,%s,%s", w[0], g[0], g[1], g[2], w[0], w[1], w[2])
				}
				if (w[3] == "") != (g[3] == "") {
					t.Fatalf("row %s: p_true %q, River %q", w[0], g[3], w[3])
				}
				if w[3] == "" {
					continue
				}
				wp, _ := strconv.ParseFloat(w[3], 64)
				gp, err := strconv.ParseFloat(g[3], 64)
				if err != nil || math.Abs(wp-gp) > 1e-9 {
					t.Fatalf("row %s: p_true %s, River %s", w[0], g[3], w[3])
				}
			}
		})
	}
}
