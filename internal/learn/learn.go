// Package learn holds the online learning engine's core types: the dense
// sample (Row) over a growing feature Schema, the learner interfaces, and
// the Pipeline that joins preprocessing, a model and its label encoding.
// Concrete learners live in the subpackages; models.New builds a Pipeline
// by name.
package learn

import (
	"encoding"
	"math"
)

// Task is what a model predicts.
type Task string

const (
	Binary     Task = "binary"
	Multiclass Task = "multiclass"
	Regression Task = "regression"
)

// Kind says how a feature's values are read.
type Kind uint8

const (
	Numeric Kind = iota
	Categorical
)

// Row is one sample in dense form over a Schema. X[i] is numeric feature i,
// NaN when it is missing or categorical; C[i] is categorical feature i's
// value, "" when missing or numeric. C is nil while the schema has no
// categorical feature. A Row may be shorter than its schema: features past
// its end are missing.
type Row struct {
	X []float64
	C []string
}

// Missing reports whether feature i has no value in r.
func (r *Row) Missing(i int) bool {
	if i >= len(r.X) {
		return true
	}
	if !math.IsNaN(r.X[i]) {
		return false
	}
	return i >= len(r.C) || r.C[i] == ""
}

// Floats makes a float64 slice of length n and capacity at least c
// whose array fills whole 64-byte cache lines. The gc runtime starts an
// allocation of such a size on a cache-line boundary, so the engine's
// vector loads and stores over it never straddle two lines: a row or
// buffer that did ran a model's pass up to 70% slower, depending only on
// where earlier allocations had left it.
func Floats(n, c int) []float64 {
	return make([]float64, n, (max(n, c)+7)&^7)
}

// Reset empties r for reuse with n features, keeping its buffers.
func (r *Row) Reset(n int) {
	if cap(r.X) < n {
		r.X = Floats(n, n)
	}
	r.X = r.X[:n]
	for i := range r.X {
		r.X[i] = math.NaN()
	}
	if r.C != nil {
		if cap(r.C) < n {
			r.C = make([]string, n)
		}
		r.C = r.C[:n]
		clear(r.C)
	}
}

// Classifier learns class ids 0..n-1 one sample at a time. For binary tasks
// class 0 is the negative class (River's False) and 1 the positive (True).
type Classifier interface {
	// PredictProba writes P(class) for class ids 0..n-1 into dst and returns
	// it, n being the number of classes the model has seen (a binary model
	// returns both). It returns dst[:0] when the model cannot predict yet.
	PredictProba(x *Row, dst []float64) []float64
	Learn(x *Row, y int)
}

// Regressor learns a real-valued target one sample at a time.
type Regressor interface {
	// Predict returns the prediction, and false when there is none yet.
	Predict(x *Row) (float64, bool)
	Learn(x *Row, y float64)
}

// Transformer is a preprocessing step (River's learn_one/transform_one).
type Transformer interface {
	// Learn updates the step's statistics with x.
	Learn(x *Row)
	// Transform writes the transformed x into out, reusing its buffers.
	Transform(x *Row, out *Row)
}

// State is implemented by every learner, transformer and detector: its full
// state to bytes and back, exactly (a restored learner predicts
// bit-identically to the original).
type State interface {
	encoding.BinaryMarshaler
	encoding.BinaryUnmarshaler
}

// Detector watches a stream of numbers (usually the model's 0/1 error) and
// says when its distribution changed.
type Detector interface {
	// Update adds x and reports whether a drift was detected at this point.
	Update(x float64) bool
	// Warning reports whether the detector is in a warning zone (false for
	// detectors that have none).
	Warning() bool
	Reset()
	State
}
