// Package eval runs progressive validation (River's
// evaluate.progressive_val_score): for each sample in order, predict, score
// the prediction, then learn the sample.
package eval

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/metrics"
	"github.com/olops/olops/internal/learn/stream"
)

// Options tune a run. The zero value scores the task's default metrics.
type Options struct {
	// Detector, when set, watches the model's error stream: 1/0 for a
	// wrong/right class, the absolute error for regression.
	Detector learn.Detector
	// Trace receives "i,y_true,y_pred,p_true" per row, the format of the
	// reference traces: class ids for binary tasks, labels for multiclass
	// (p_true is then the probability of the true class, P(True) otherwise), values for regression
	// (p_true empty); an empty prediction leaves y_pred and p_true empty.
	Trace   io.Writer
	Metrics []string // metric names; nil: metrics.Defaults(task)
	Window  int      // rolling window; 0: the metrics default
	Limit   int      // stop after this many rows; 0: all
	OnRow   func(i int, r RowResult)
}

// RowResult is what happened on one row, for OnRow.
type RowResult struct {
	Label      string           // the true label as read
	Prediction learn.Prediction // before learning the row (Proba is reused)
	Scored     bool             // the prediction was not empty
	Drift      bool             // the detector fired on this row
	Metrics    *metrics.Set     // the running metrics (read only)
}

// Result is a run's outcome.
type Result struct {
	Rows             int                `json:"rows" yaml:"rows"`
	Scored           int                `json:"scored" yaml:"scored"`
	Task             string             `json:"task" yaml:"task"`
	Model            string             `json:"model" yaml:"model"`
	Metrics          map[string]float64 `json:"metrics" yaml:"metrics"`
	Seconds          float64            `json:"seconds" yaml:"seconds"`
	SamplesPerSecond float64            `json:"samples_per_second" yaml:"samples_per_second"`
	Drifts           []int              `json:"drifts,omitempty" yaml:"drifts,omitempty"`
	Skipped          int                `json:"skipped,omitempty" yaml:"skipped,omitempty"`
}

// registerColumns numbers a fresh pipeline's features in a CSV file's
// column order, as River's dicts are ordered: sums over features then
// round exactly as River's do.
func registerColumns(p *learn.Pipeline, src stream.Source) {
	fc, ok := src.(interface{ FeatureColumns() []stream.Column })
	if !ok || p.Schema.Len() > 0 {
		return
	}
	for _, c := range fc.FeatureColumns() {
		kind := learn.Categorical
		if c.Numeric {
			kind = learn.Numeric
		}
		p.Schema.Add(c.Name, kind)
	}
}

// registerSorted numbers a fresh pipeline's features from the first
// sample in name order, so that a run over a source without columns (a
// synthetic stream) does not depend on map iteration order.
func registerSorted(p *learn.Pipeline, s *stream.Sample) {
	if p.Schema.Len() > 0 {
		return
	}
	names := make([]string, 0, len(s.Features))
	for k := range s.Features {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		if _, ok := s.Features[k].(string); ok {
			p.Schema.Add(k, learn.Categorical)
		} else {
			p.Schema.Add(k, learn.Numeric)
		}
	}
}

// lineErr is a sample's error with its line.
func lineErr(s *stream.Sample, i int, err error) error {
	line := s.Line
	if line == 0 {
		line = i + 1
	}
	return &stream.LineError{Line: line, Err: err}
}

// Run evaluates p on src. It stops at the end of src, at o.Limit rows, on
// the first error (a *stream.LineError names the row), or when ctx is done
// (returning ctx's error).
func Run(ctx context.Context, p *learn.Pipeline, src stream.Source, o Options) (*Result, error) {
	task := p.Spec.Task
	set, err := metrics.NewSet(task, o.Metrics, o.Window)
	if err != nil {
		return nil, err
	}
	var tw *bufio.Writer
	if o.Trace != nil {
		tw = bufio.NewWriter(o.Trace)
		tw.WriteString("i,y_true,y_pred,p_true\n")
	}
	res := &Result{Task: string(task), Model: p.Spec.Model}
	registerColumns(p, src)
	var row learn.Row
	var num []byte
	start := time.Now()
	for i := 0; o.Limit <= 0 || i < o.Limit; i++ {
		if i&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		s, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if i == 0 {
			registerSorted(p, s)
		}
		if err := p.Row(s.Features, &row); err != nil {
			return nil, lineErr(s, i, err)
		}
		pred := p.Predict(&row)
		rr := RowResult{Label: s.Label, Prediction: pred, Scored: !pred.Empty, Metrics: set}
		var errVal float64
		if task == learn.Regression {
			y, err := p.Target(s.Label)
			if err != nil {
				return nil, lineErr(s, i, err)
			}
			if !pred.Empty {
				set.UpdateValue(y, pred.Value)
				errVal = math.Abs(y - pred.Value)
			}
			if tw != nil {
				num = strconv.AppendInt(num[:0], int64(i), 10)
				num = append(num, ',')
				num = appendPy(num, y)
				num = append(num, ',')
				if !pred.Empty {
					num = appendPy(num, pred.Value)
				}
				num = append(num, ",\n"...)
				tw.Write(num)
			}
			p.LearnValue(&row, y)
		} else {
			id, _, err := p.ClassOf(s.Label)
			if err != nil {
				return nil, lineErr(s, i, err)
			}
			if !pred.Empty {
				set.UpdateClass(id, pred)
				if pred.Class != id {
					errVal = 1
				}
			}
			if tw != nil {
				writeClassTrace(tw, &num, i, task, id, s.Label, pred)
			}
			if err := p.LearnClass(&row, s.Label); err != nil {
				return nil, lineErr(s, i, err)
			}
		}
		res.Rows++
		if !pred.Empty {
			res.Scored++
			if o.Detector != nil && o.Detector.Update(errVal) {
				res.Drifts = append(res.Drifts, i)
				rr.Drift = true
			}
		}
		if o.OnRow != nil {
			o.OnRow(i, rr)
		}
	}
	res.Seconds = time.Since(start).Seconds()
	if res.Seconds > 0 {
		res.SamplesPerSecond = float64(res.Rows) / res.Seconds
	}
	res.Metrics = set.Overall()
	if sk, ok := src.(interface{ Skipped() int }); ok {
		res.Skipped = sk.Skipped()
	}
	if tw != nil {
		if err := tw.Flush(); err != nil {
			return nil, fmt.Errorf("write trace: %w", err)
		}
	}
	return res, nil
}

func writeClassTrace(w *bufio.Writer, buf *[]byte, i int, task learn.Task, id int, label string, pred learn.Prediction) {
	b := strconv.AppendInt((*buf)[:0], int64(i), 10)
	b = append(b, ',')
	binary := task == learn.Binary
	if binary {
		b = strconv.AppendInt(b, int64(id), 10)
	} else {
		b = append(b, csvField(label)...)
	}
	b = append(b, ',')
	if !pred.Empty {
		if binary {
			b = strconv.AppendInt(b, int64(pred.Class), 10)
		} else {
			b = append(b, csvField(pred.Label)...)
		}
		b = append(b, ',')
		k := id // multiclass: the true class
		if binary {
			k = 1 // River's P(True)
		}
		if k < len(pred.Proba) {
			b = appendPy(b, pred.Proba[k])
		} else {
			b = appendPy(b, 0)
		}
	} else {
		b = append(b, ',')
	}
	b = append(b, '\n')
	w.Write(b)
	*buf = b
}

func csvField(s string) string {
	if strings.ContainsAny(s, ",\"\n\r") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

// appendPy formats v as Python's repr does (shortest round-trip digits,
// "1.0" for whole numbers, exponents below 1e-4 and from 1e16), so traces
// compare textually with River's.
func appendPy(b []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(b, "nan"...)
	case math.IsInf(v, 1):
		return append(b, "inf"...)
	case math.IsInf(v, -1):
		return append(b, "-inf"...)
	}
	a := math.Abs(v)
	if a != 0 && (a < 1e-4 || a >= 1e16) {
		return strconv.AppendFloat(b, v, 'e', -1, 64)
	}
	n := len(b)
	b = strconv.AppendFloat(b, v, 'f', -1, 64)
	for _, c := range b[n:] {
		if c == '.' {
			return b
		}
	}
	return append(b, ".0"...)
}
