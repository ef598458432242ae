package tree

import (
	"strconv"
	"testing"

	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/learntest"
	"github.com/olops/olops/internal/learn/metrics"
)

// dataset is a CSV read in column order (see learntest.LoadCSV).
type dataset = learntest.Dataset

func loadCSV(t testing.TB, name, target string) *dataset { return learntest.LoadCSV(t, name, target) }

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
	m := learntest.Reference(t, model, dataset)
	num := func(k string) float64 { f, _ := m[k].(float64); return f }
	str := func(k string) string { s, _ := m[k].(string); return s }
	return refRow{Model: model, Dataset: dataset, Task: str("task"), Positive: str("positive"),
		Rows: int(num("rows")), Scored: int(num("scored")), Accuracy: num("accuracy"), F1: num("f1"),
		MacroF1: num("macro_f1"), LogLoss: num("logloss"), MAE: num("mae"), RMSE: num("rmse"),
		R2: num("r2"), UsPerSample: num("us_per_sample")}
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
		label[id] = d.Labels[i]
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
	for i := range d.Rows {
		x := &d.Rows[i]
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
