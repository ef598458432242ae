package linear

import (
	"fmt"

	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/snap"
)

// binary is a two-class learner OneVsRest can copy.
type binary interface {
	learn.Classifier
	learn.State
	clone() binary
}

// OneVsRest is River's OneVsRestClassifier: one binary model per class,
// copied from a fresh template when the class is first learned; each class
// model learns every sample (its class as True, the others as False). The
// probabilities are each model's P(True), divided by their sum when the sum
// is not 0.
type OneVsRest struct {
	template binary
	Models   []binary

	buf [2]float64
}

// NewOneVsRest wraps a fresh binary model (a *Classifier or *PAClassifier).
func NewOneVsRest(template learn.Classifier) (*OneVsRest, error) {
	b, ok := template.(binary)
	if !ok {
		return nil, fmt.Errorf("one-vs-rest cannot wrap %T", template)
	}
	return &OneVsRest{template: b.clone()}, nil
}

// PredictProba returns one normalised probability per class seen, or
// nothing before the first sample.
func (o *OneVsRest) PredictProba(x *learn.Row, dst []float64) []float64 {
	dst = dst[:0]
	total := 0.0
	for _, m := range o.Models {
		p := m.PredictProba(x, o.buf[:0])[1]
		dst = append(dst, p)
		total += p
	}
	if total != 0 {
		for i := range dst {
			dst[i] /= total
		}
	}
	return dst
}

// Learn trains every class model on (x, y == class).
func (o *OneVsRest) Learn(x *learn.Row, y int) {
	for len(o.Models) <= y {
		o.Models = append(o.Models, o.template.clone())
	}
	for k, m := range o.Models {
		if k == y {
			m.Learn(x, 1)
		} else {
			m.Learn(x, 0)
		}
	}
}

// Params reports the template's hyperparameters and the class count.
func (o *OneVsRest) Params() map[string]any {
	p := map[string]any{}
	if pm, ok := o.template.(interface{ Params() map[string]any }); ok {
		p = pm.Params()
	}
	delete(p, "intercept")
	delete(p, "n_weights")
	p["n_classes"] = len(o.Models)
	return p
}

// Patch applies params to the template and every class model; on error
// nothing changes.
func (o *OneVsRest) Patch(params map[string]any) error {
	type patcher interface{ Patch(map[string]any) error }
	t := o.template.clone()
	tp, ok := t.(patcher)
	if !ok {
		return fmt.Errorf("%T cannot change parameters", o.template)
	}
	if err := tp.Patch(params); err != nil {
		return err
	}
	o.template = t
	for _, m := range o.Models {
		_ = m.(patcher).Patch(params) // validated on the template above
	}
	return nil
}

type ovrState struct{ Models [][]byte }

// MarshalBinary saves every class model.
func (o *OneVsRest) MarshalBinary() ([]byte, error) {
	var s ovrState
	for _, m := range o.Models {
		b, err := m.MarshalBinary()
		if err != nil {
			return nil, err
		}
		s.Models = append(s.Models, b)
	}
	return snap.Encode(s)
}

// UnmarshalBinary restores class models saved by MarshalBinary into a
// OneVsRest built with the same template.
func (o *OneVsRest) UnmarshalBinary(b []byte) error {
	var s ovrState
	if err := snap.Decode(b, &s, "linear model"); err != nil {
		return err
	}
	models := make([]binary, len(s.Models))
	for i, mb := range s.Models {
		m := o.template.clone()
		if err := m.UnmarshalBinary(mb); err != nil {
			return fmt.Errorf("class %d: %w", i, err)
		}
		models[i] = m
	}
	o.Models = models
	return nil
}

// LearnedOrderTies: River's OneVsRestClassifier keeps classes in learning
// order, so a tie in probability predicts the class learned first.
func (o *OneVsRest) LearnedOrderTies() bool { return true }
