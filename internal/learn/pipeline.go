package learn

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Spec names a model the way a user asks for it: the engine's names and
// River's hyperparameter names, so the same spec gives the same model.
type Spec struct {
	Task     Task           `json:"task" yaml:"task"`
	Model    string         `json:"model" yaml:"model"`
	Params   map[string]any `json:"params,omitempty" yaml:"params,omitempty"`
	Steps    []Step         `json:"steps,omitempty" yaml:"steps,omitempty"`
	Positive string         `json:"positive,omitempty" yaml:"positive,omitempty"`
}

// Step is one preprocessing step of a pipeline.
type Step struct {
	Name   string         `json:"name" yaml:"name"`
	Params map[string]any `json:"params,omitempty" yaml:"params,omitempty"`
}

// Prediction is a pipeline's answer for one sample.
type Prediction struct {
	Empty bool      // the model cannot predict yet (River's empty dict)
	Class int       // predicted class id (classification)
	Label string    // predicted class label (classification)
	Proba []float64 // P(class id); valid until the pipeline's next call
	Value float64   // regression
}

// Pipeline runs preprocessing steps and then one model over a growing
// schema, and encodes class labels to ids. It is not safe for concurrent
// use: the server owns one per learner goroutine.
type Pipeline struct {
	Spec   Spec
	Schema *Schema
	Steps  []Transformer
	Clf    Classifier
	Reg    Regressor
	Labels []string // class id -> label

	bufs     [2]Row
	proba    []float64
	learners []LearnTransformer // Steps[i] as a LearnTransformer, or nil
	// tiesBySort: a multiclass tie goes to the label that sorts first
	// (River's dict over sorted classes), unless the classifier says
	// otherwise; decided once, not per prediction.
	tiesBySort bool
}

// NewPipeline joins steps and a classifier or a regressor (the other nil).
func NewPipeline(spec Spec, steps []Transformer, clf Classifier, reg Regressor) *Pipeline {
	p := &Pipeline{Spec: spec, Schema: NewSchema(), Steps: steps, Clf: clf, Reg: reg}
	p.tiesBySort = spec.Task == Multiclass
	if lo, ok := clf.(LearnedOrderTies); ok && lo.LearnedOrderTies() {
		p.tiesBySort = false
	}
	if spec.Task == Binary {
		// Each side is named by the first label learned for it.
		p.Labels = []string{"", spec.Positive}
	}
	return p
}

// Row builds a sample from named raw values (see Schema.Set).
func (p *Pipeline) Row(features map[string]any, r *Row) error {
	r.X, r.C = r.X[:0], r.C[:0]
	if len(r.C) == 0 && !p.Schema.HasCategorical() {
		r.C = nil
	}
	r.Reset(p.Schema.Len())
	for k, v := range features {
		if err := p.Schema.Set(r, k, v); err != nil {
			return err
		}
	}
	return nil
}

var truthy = map[string]bool{"1": true, "1.0": true, "true": true, "yes": true, "+1": true, "True": true}
var falsy = map[string]bool{"0": true, "0.0": true, "false": true, "no": true, "-1": true, "False": true}

// ClassOf returns the class id of a label without changing the pipeline;
// known is false for a class never seen (it would be added by Learn).
func (p *Pipeline) ClassOf(label string) (id int, known bool, err error) {
	switch p.Spec.Task {
	case Binary:
		if p.Spec.Positive != "" {
			if label == p.Spec.Positive {
				return 1, true, nil
			}
			return 0, true, nil
		}
		if truthy[label] || strings.EqualFold(label, "true") {
			return 1, true, nil
		}
		if falsy[label] || strings.EqualFold(label, "false") {
			return 0, true, nil
		}
		return 0, false, fmt.Errorf("label %q is not binary: use 1/0, true/false, yes/no or +1/-1, or name the positive class", label)
	case Multiclass:
		for i, l := range p.Labels {
			if l == label {
				return i, true, nil
			}
		}
		return len(p.Labels), false, nil
	}
	return 0, false, fmt.Errorf("a %s model has no classes", p.Spec.Task)
}

// Target parses a regression label.
func (p *Pipeline) Target(label string) (float64, error) {
	y, err := strconv.ParseFloat(strings.TrimSpace(label), 64)
	if err != nil || math.IsNaN(y) || math.IsInf(y, 0) {
		return 0, fmt.Errorf("label %q is not a finite number", label)
	}
	return y, nil
}

// transform runs the steps over x, learning each first when learn is set
// (River: a step learns, then transforms with its updated statistics).
func (p *Pipeline) transform(x *Row, learn bool) *Row {
	if len(p.Steps) == 0 {
		return x
	}
	return p.runSteps(x, learn)
}

func (p *Pipeline) runSteps(x *Row, learn bool) *Row {
	if len(p.learners) != len(p.Steps) {
		p.findLearners()
	}
	in := x
	for i, s := range p.Steps {
		out := &p.bufs[i&1]
		switch lt := p.learners[i]; {
		case !learn:
			s.Transform(in, out)
		case lt != nil:
			lt.LearnTransform(in, out)
		default:
			s.Learn(in)
			s.Transform(in, out)
		}
		in = out
	}
	return in
}

// findLearners decides once which steps learn and transform in one pass,
// rather than asserting each step's type per sample.
func (p *Pipeline) findLearners() {
	p.learners = make([]LearnTransformer, len(p.Steps))
	for i, s := range p.Steps {
		p.learners[i], _ = s.(LearnTransformer)
	}
}

// LearnTransformer is a step that can learn x and transform it in one
// pass, giving exactly what Learn then Transform would.
type LearnTransformer interface {
	LearnTransform(x *Row, out *Row)
}

// LearnedOrderTies is implemented by a classifier whose River counterpart
// returns its probabilities in the order the classes were learned, so that
// River's predict_one (the first maximum of that dict) breaks ties towards
// the class learned first rather than the label that sorts first.
type LearnedOrderTies interface{ LearnedOrderTies() bool }

// Predict predicts one sample without learning from it.
func (p *Pipeline) Predict(x *Row) Prediction {
	z := p.transform(x, false)
	if p.Reg != nil {
		v, ok := p.Reg.Predict(z)
		return Prediction{Empty: !ok, Value: v}
	}
	proba := p.Clf.PredictProba(z, p.proba[:0])
	p.proba = proba
	if len(proba) == 0 {
		return Prediction{Empty: true, Class: -1}
	}
	best := p.argmax(proba)
	pr := Prediction{Class: best, Proba: proba}
	if best < len(p.Labels) {
		pr.Label = p.Labels[best]
	}
	if pr.Label == "" {
		pr.Label = strconv.Itoa(best)
	}
	return pr
}

// argmax picks the predicted class. River's predict_one takes the first
// maximum of a dict over sorted(classes): a tie goes to the label that
// sorts first (for binary, False before True, i.e. id 0). Classifiers
// whose River dict follows the order classes were learned in
// (GaussianNB, OneVsRestClassifier) say so with LearnedOrderTies: there a
// tie goes to the class learned first, the lowest id.
func (p *Pipeline) argmax(proba []float64) int {
	sorted := p.tiesBySort
	if len(proba) == 2 && !sorted {
		// The common binary case, without a loop or a branch to mispredict.
		best := 0
		if proba[1] > proba[0] {
			best = 1
		}
		return best
	}
	best := 0
	for i, q := range proba {
		if q > proba[best] || (q == proba[best] && sorted &&
			i < len(p.Labels) && best < len(p.Labels) && p.Labels[i] < p.Labels[best]) {
			best = i
		}
	}
	return best
}

// LearnClass learns a classification sample; label becomes a class id,
// a new class when it was never seen.
func (p *Pipeline) LearnClass(x *Row, label string) error {
	id, known, err := p.ClassOf(label)
	if err != nil {
		return err
	}
	if p.Spec.Task == Binary && p.Labels[id] == "" {
		p.Labels[id] = label
	}
	if !known && p.Spec.Task == Multiclass {
		p.Labels = append(p.Labels, label)
	}
	p.Clf.Learn(p.transform(x, true), id)
	return nil
}

// LearnValue learns a regression sample.
func (p *Pipeline) LearnValue(x *Row, y float64) {
	p.Reg.Learn(p.transform(x, true), y)
}

type snapshot struct {
	Spec   []byte
	Names  []string
	Kinds  []Kind
	Labels []string
	Parts  [][]byte
}

func (p *Pipeline) parts() []any {
	var ps []any
	for _, s := range p.Steps {
		ps = append(ps, s)
	}
	if p.Clf != nil {
		ps = append(ps, p.Clf)
	} else {
		ps = append(ps, p.Reg)
	}
	return ps
}

// MarshalBinary encodes the pipeline's spec and full learned state.
func (p *Pipeline) MarshalBinary() ([]byte, error) {
	spec, err := json.Marshal(p.Spec)
	if err != nil {
		return nil, err
	}
	s := snapshot{Spec: spec, Names: p.Schema.Names, Kinds: p.Schema.Kinds, Labels: p.Labels}
	for _, part := range p.parts() {
		st, ok := part.(State)
		if !ok {
			return nil, fmt.Errorf("%T cannot save its state", part)
		}
		b, err := st.MarshalBinary()
		if err != nil {
			return nil, err
		}
		s.Parts = append(s.Parts, b)
	}
	var buf bytes.Buffer
	err = gob.NewEncoder(&buf).Encode(s)
	return buf.Bytes(), err
}

// UnmarshalBinary restores state saved by MarshalBinary into a pipeline
// built from the same spec (see SnapshotSpec).
func (p *Pipeline) UnmarshalBinary(b []byte) error {
	var s snapshot
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&s); err != nil {
		return fmt.Errorf("decode snapshot: %w", err)
	}
	parts := p.parts()
	if len(parts) != len(s.Parts) {
		return fmt.Errorf("snapshot has %d parts, pipeline %d: built from another spec", len(s.Parts), len(parts))
	}
	for i, part := range parts {
		if err := part.(State).UnmarshalBinary(s.Parts[i]); err != nil {
			return fmt.Errorf("restore %T: %w", part, err)
		}
	}
	p.Schema = NewSchema()
	for i, n := range s.Names {
		p.Schema.Add(n, s.Kinds[i])
	}
	p.Labels = s.Labels
	return nil
}

// SnapshotSpec reads the spec a snapshot was taken from.
func SnapshotSpec(b []byte) (Spec, error) {
	var s snapshot
	var spec Spec
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&s); err != nil {
		return spec, fmt.Errorf("decode snapshot: %w", err)
	}
	err := json.Unmarshal(s.Spec, &spec)
	return spec, err
}
