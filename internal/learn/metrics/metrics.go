// Package metrics scores a stream of predictions the way River 0.21.1 does,
// over the whole stream and over a rolling window.
//
// Definitions follow River's metrics module:
//   - accuracy: correct / scored.
//   - precision, recall, f1 (binary): of the positive class, id 1; 0 when a
//     denominator is 0.
//   - macro_precision, macro_recall, macro_f1: the per-class value averaged
//     over the classes seen in the confusion matrix (a class counts when its
//     row or column sum is non-zero, so the rolling versions forget classes
//     that left the window); a class whose value is undefined adds 0.
//   - logloss: binary, River's LogLoss on p(class 1) clamped to
//     [1e-15, 1-1e-15]; multiclass, River's CrossEntropy: -log of the clamped
//     probability of the true class, and 0 when the model gave no
//     probability for the true class (a class it has not seen yet).
//   - roc_auc: River's approximate ROCAUC with 10 thresholds (a confusion
//     matrix per threshold, trapezoidal area).
//   - mae, mse, rmse, r2 (regression); r2 is 0 before 2 samples.
//
// Rolling values use River's Rolling wrapper semantics: the oldest pair
// leaving the window is reverted. Every metric keeps revertible sums or
// counts, so an update costs O(1) (O(10) for roc_auc).
package metrics

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/libm"
	"github.com/olops/olops/internal/learn/snap"
)

// DefaultWindow is the rolling window used when NewSet is given 0.
const DefaultWindow = 1000

const nThresholds = 10

// thresholds are River's ROCAUC thresholds: i/(n-1), the ends pushed out
// by 1e-7 so that probabilities 0 and 1 fall inside.
var thresholds = func() [nThresholds]float64 {
	var t [nThresholds]float64
	for i := range t {
		t[i] = float64(i) / float64(nThresholds-1)
	}
	t[0] -= 1e-7
	t[nThresholds-1] += 1e-7
	return t
}()

var classNames = []string{"accuracy", "precision", "recall", "f1", "macro_precision", "macro_recall", "macro_f1", "logloss", "roc_auc"}
var binaryOnly = []string{"precision", "recall", "f1", "roc_auc"}
var regressionNames = []string{"mae", "mse", "rmse", "r2"}

// Defaults returns the metrics olops reports for a task when none are named.
func Defaults(task learn.Task) []string {
	switch task {
	case learn.Binary:
		return []string{"accuracy", "f1", "logloss", "roc_auc"}
	case learn.Multiclass:
		return []string{"accuracy", "macro_f1", "logloss"}
	case learn.Regression:
		return []string{"mae", "rmse", "r2"}
	}
	return nil
}

// Known returns the metric names valid for a task.
func Known(task learn.Task) []string {
	switch task {
	case learn.Binary:
		return slices.Clone(classNames)
	case learn.Multiclass:
		var out []string
		for _, n := range classNames {
			if !slices.Contains(binaryOnly, n) {
				out = append(out, n)
			}
		}
		return out
	case learn.Regression:
		return slices.Clone(regressionNames)
	}
	return nil
}

// LowerIsBetter reports whether smaller values of the metric are better
// (losses and errors).
func LowerIsBetter(name string) bool {
	switch name {
	case "logloss", "mae", "mse", "rmse":
		return true
	}
	return false
}

// Set accumulates a fixed list of metrics for one task, over the whole
// stream and over the last Window samples. It is not safe for concurrent
// use.
type Set struct {
	task   learn.Task
	names  []string
	window int
	all    acc
	roll   acc
	ring   []entry
	head   int // index of the oldest entry once the ring is full
}

// entry is one scored sample, kept to be reverted when it leaves the window.
type entry struct {
	Y, Pred int     // classes (classification)
	PTrue   float64 // P(class 1), binary
	Loss    float64 // log loss of this sample
	YV, PV  float64 // regression truth and prediction
}

// acc holds revertible sums. Classification: per-class diagonal, row (true)
// and column (predicted) sums; regression: error sums and a weighted
// Welford accumulator of y for r2.
type acc struct {
	N       float64
	Diag    []float64
	Row     []float64
	Col     []float64
	LossSum float64
	ROC     [nThresholds][4]float64 // tp, fp, tn, fn per threshold

	AbsSum, SqSum  float64
	YN, YMean, YM2 float64
}

// NewSet returns a Set for task with the given metric names (Defaults when
// names is empty) and rolling window (DefaultWindow when window is 0).
func NewSet(task learn.Task, names []string, window int) (*Set, error) {
	if task != learn.Binary && task != learn.Multiclass && task != learn.Regression {
		return nil, fmt.Errorf("unknown task %q: use binary, multiclass or regression", task)
	}
	if window < 0 {
		return nil, fmt.Errorf("rolling window %d is negative: use 0 for the default (%d) or a positive size", window, DefaultWindow)
	}
	if window == 0 {
		window = DefaultWindow
	}
	if len(names) == 0 {
		names = Defaults(task)
	}
	known := Known(task)
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		n = strings.ToLower(strings.TrimSpace(n))
		if seen[n] {
			continue
		}
		if !slices.Contains(known, n) {
			return nil, fmt.Errorf("metric %q does not apply to a %s task (known: %s)", n, task, strings.Join(known, ", "))
		}
		seen[n] = true
		out = append(out, n)
	}
	return &Set{task: task, names: out, window: window, ring: make([]entry, 0, min(window, 4096))}, nil
}

// Names returns the metric names in the order they were asked for.
func (s *Set) Names() []string { return slices.Clone(s.names) }

// Task returns the task the set scores.
func (s *Set) Task() learn.Task { return s.task }

// Window returns the rolling window size.
func (s *Set) Window() int { return s.window }

// Count returns the number of samples scored.
func (s *Set) Count() int { return int(s.all.N) }

// UpdateClass scores one classification sample: yTrue is the true class
// id, pred the model's prediction before learning it. An empty prediction
// is not scored (River skips it too).
func (s *Set) UpdateClass(yTrue int, pred learn.Prediction) {
	if pred.Empty || s.task == learn.Regression || yTrue < 0 {
		return
	}
	e := entry{Y: yTrue, Pred: pred.Class}
	if e.Pred < 0 {
		e.Pred = 0
	}
	if s.task == learn.Binary {
		if len(pred.Proba) > 1 {
			e.PTrue = pred.Proba[1]
		}
		p := clamp(e.PTrue)
		if yTrue == 1 {
			e.Loss = -libm.Log(p)
		} else {
			e.Loss = -libm.Log(1 - p)
		}
	} else if yTrue < len(pred.Proba) {
		e.Loss = -libm.Log(clamp(pred.Proba[yTrue]))
	}
	s.push(e)
}

// UpdateValue scores one regression sample.
func (s *Set) UpdateValue(yTrue, yPred float64) {
	if s.task != learn.Regression {
		return
	}
	s.push(entry{YV: yTrue, PV: yPred})
}

func (s *Set) push(e entry) {
	s.all.add(s.task, e, 1)
	if len(s.ring) == s.window {
		s.roll.add(s.task, s.ring[s.head], -1)
		s.ring[s.head] = e
		s.head = (s.head + 1) % s.window
	} else {
		s.ring = append(s.ring, e)
	}
	s.roll.add(s.task, e, 1)
}

func clamp(p float64) float64 {
	return min(max(p, 1e-15), 1-1e-15)
}

func grow(v []float64, n int) []float64 {
	for len(v) < n {
		v = append(v, 0)
	}
	return v
}

// add adds (w = 1) or reverts (w = -1) one entry.
func (a *acc) add(task learn.Task, e entry, w float64) {
	if task == learn.Regression {
		a.N += w
		d := e.YV - e.PV
		a.AbsSum += w * math.Abs(d)
		a.SqSum += w * d * d
		// Weighted Welford, as River's stats.Var; w = -1 undoes an update.
		a.YN += w
		if a.YN == 0 {
			a.YMean, a.YM2 = 0, 0
			return
		}
		old := a.YMean
		a.YMean += w / a.YN * (e.YV - old)
		a.YM2 += w * (e.YV - old) * (e.YV - a.YMean)
		return
	}
	a.N += w
	n := max(e.Y, e.Pred) + 1
	if len(a.Row) < n {
		a.Diag, a.Row, a.Col = grow(a.Diag, n), grow(a.Row, n), grow(a.Col, n)
	}
	a.Row[e.Y] += w
	a.Col[e.Pred] += w
	if e.Y == e.Pred {
		a.Diag[e.Y] += w
	}
	a.LossSum += w * e.Loss
	if task == learn.Binary {
		pos := e.Y == 1
		for i, t := range thresholds {
			predPos := e.PTrue > t
			switch {
			case pos && predPos:
				a.ROC[i][0] += w
			case !pos && predPos:
				a.ROC[i][1] += w
			case !pos && !predPos:
				a.ROC[i][2] += w
			default:
				a.ROC[i][3] += w
			}
		}
	}
}

func div(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func at(v []float64, i int) float64 {
	if i < len(v) {
		return v[i]
	}
	return 0
}

func (a *acc) value(name string) float64 {
	switch name {
	case "accuracy":
		var d float64
		for _, x := range a.Diag {
			d += x
		}
		return div(d, a.N)
	case "precision":
		return div(at(a.Diag, 1), at(a.Col, 1))
	case "recall":
		return div(at(a.Diag, 1), at(a.Row, 1))
	case "f1":
		p, r := div(at(a.Diag, 1), at(a.Col, 1)), div(at(a.Diag, 1), at(a.Row, 1))
		return div(2*p*r, p+r)
	case "macro_precision", "macro_recall", "macro_f1":
		var total float64
		var k int
		for c := range a.Row {
			if a.Row[c] == 0 && a.Col[c] == 0 {
				continue
			}
			k++
			p, r := div(a.Diag[c], a.Col[c]), div(a.Diag[c], a.Row[c])
			switch name {
			case "macro_precision":
				total += p
			case "macro_recall":
				total += r
			default:
				total += div(2*p*r, p+r)
			}
		}
		return div(total, float64(k))
	case "logloss":
		return div(a.LossSum, a.N)
	case "roc_auc":
		var tpr, fpr [nThresholds]float64
		for i, c := range a.ROC {
			tpr[i] = div(c[0], c[0]+c[3])
			fpr[i] = div(c[1], c[1]+c[2])
		}
		var area float64
		for i := 1; i < nThresholds; i++ {
			area += (fpr[i] - fpr[i-1]) * (tpr[i] + tpr[i-1]) / 2
		}
		return -area
	case "mae":
		return div(a.AbsSum, a.N)
	case "mse":
		return div(a.SqSum, a.N)
	case "rmse":
		return math.Sqrt(max(div(a.SqSum, a.N), 0))
	case "r2":
		if a.YN <= 1 || a.YM2 == 0 {
			return 0
		}
		return 1 - a.SqSum/a.YM2
	}
	return math.NaN()
}

func (s *Set) values(a *acc) map[string]float64 {
	m := make(map[string]float64, len(s.names))
	for _, n := range s.names {
		m[n] = a.value(n)
	}
	return m
}

// Overall returns each metric over every sample scored.
func (s *Set) Overall() map[string]float64 { return s.values(&s.all) }

// Rolling returns each metric over the last Window samples scored.
func (s *Set) Rolling() map[string]float64 { return s.values(&s.roll) }

// Value returns one metric, overall or rolling, and false for a name not in
// the set.
func (s *Set) Value(name string, rolling bool) (float64, bool) {
	if !slices.Contains(s.names, name) {
		return 0, false
	}
	if rolling {
		return s.roll.value(name), true
	}
	return s.all.value(name), true
}

type setState struct {
	Task   learn.Task
	Names  []string
	Window int
	All    acc
	Roll   acc
	Ring   []entry
	Head   int
}

// MarshalBinary saves the set's full state.
func (s *Set) MarshalBinary() ([]byte, error) {
	return snap.Encode(setState{s.task, s.names, s.window, s.all, s.roll, s.ring, s.head})
}

// UnmarshalBinary restores a state saved by MarshalBinary.
func (s *Set) UnmarshalBinary(b []byte) error {
	var st setState
	if err := snap.Decode(b, &st, "metrics"); err != nil {
		return err
	}
	if st.Window <= 0 || len(st.Ring) > st.Window || (len(st.Ring) > 0 && st.Head >= len(st.Ring)) {
		return fmt.Errorf("metrics state is inconsistent (window %d, %d entries): the snapshot is damaged", st.Window, len(st.Ring))
	}
	*s = Set{task: st.Task, names: st.Names, window: st.Window, all: st.All, roll: st.Roll, ring: st.Ring, head: st.Head}
	if s.ring == nil {
		s.ring = make([]entry, 0, min(s.window, 4096))
	}
	return nil
}
