package replay

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/olops/olops/internal/api"
	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/metrics"
)

// scorer rebuilds, from the server's stream results, the predictions the
// model made, and scores them exactly as progressive validation does
// (olops eval): the same class ids, probabilities and metric updates.
type scorer struct {
	task   learn.Task
	set    *metrics.Set
	probe  *learn.Pipeline // binary: the label -> class id rule
	ids    map[string]int  // multiclass: label -> class id, in order seen
	labels []string
	proba  []float64
}

func newScorer(task learn.Task, positive string, names []string, window int) (*scorer, error) {
	set, err := metrics.NewSet(task, names, window)
	if err != nil {
		return nil, err
	}
	return &scorer{
		task:  task,
		set:   set,
		probe: learn.NewPipeline(learn.Spec{Task: task, Positive: positive}, nil, nil, nil),
		ids:   map[string]int{},
	}, nil
}

// classID is a label's class id; multiclass labels get the next id when
// first seen (the pipeline's rule).
func (s *scorer) classID(label string) (int, error) {
	if s.task == learn.Binary {
		id, _, err := s.probe.ClassOf(label)
		return id, err
	}
	id, ok := s.ids[label]
	if !ok {
		id = len(s.labels)
		s.ids[label] = id
		s.labels = append(s.labels, label)
	}
	return id, nil
}

// score adds one result whose true label is label. It returns whether the
// prediction was scored (not empty), and its 0/1 error.
func (s *scorer) score(label string, r api.StreamResult) (bool, error) {
	if r.Prediction == nil {
		// Still learn the label's class id, as the model learned it.
		if s.task != learn.Regression {
			if _, err := s.classID(label); err != nil {
				return false, err
			}
		}
		return false, nil
	}
	if s.task == learn.Regression {
		y, err := strconv.ParseFloat(strings.TrimSpace(label), 64)
		if err != nil || math.IsNaN(y) || math.IsInf(y, 0) {
			return false, fmt.Errorf("label %q is not a finite number", label)
		}
		v, ok := r.Prediction.(float64)
		if !ok {
			return false, fmt.Errorf("the server predicted %v for a regression model: is --task right?", r.Prediction)
		}
		s.set.UpdateValue(y, v)
		return true, nil
	}
	pred, err := s.prediction(r)
	if err != nil {
		return false, err
	}
	// The true label's id is taken after the prediction: a class first
	// seen on this row is not among the prediction's classes.
	id, err := s.classID(label)
	if err != nil {
		return false, err
	}
	s.set.UpdateClass(id, pred)
	return true, nil
}

// prediction turns a result's probabilities, keyed by label, back into the
// pipeline's probabilities by class id.
func (s *scorer) prediction(r api.StreamResult) (learn.Prediction, error) {
	n := 2
	if s.task == learn.Multiclass {
		for _, k := range sortedKeys(r.Proba) { // deterministic ids for unseen classes
			if _, err := s.classID(k); err != nil {
				return learn.Prediction{}, err
			}
		}
		n = len(s.labels)
	}
	s.proba = s.proba[:0]
	for range n {
		s.proba = append(s.proba, 0)
	}
	for k, q := range r.Proba {
		id, err := s.classID(k)
		if err != nil {
			return learn.Prediction{}, fmt.Errorf("the server's class %q: %w", k, err)
		}
		if id < len(s.proba) {
			s.proba[id] = q
		}
	}
	best := -1
	if label, ok := r.Prediction.(string); ok {
		if id, err := s.classID(label); err == nil {
			best = id
		}
	}
	if len(r.Proba) > 0 {
		// The pipeline's rule: the first class of highest probability.
		best = 0
		for i, q := range s.proba {
			if q > s.proba[best] {
				best = i
			}
		}
	}
	if best < 0 {
		return learn.Prediction{}, fmt.Errorf("the server predicted %v, not a class label", r.Prediction)
	}
	return learn.Prediction{Class: best, Proba: s.proba}, nil
}

func sortedKeys(m map[string]float64) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	// Insertion sort: these maps hold a handful of classes.
	for i := 1; i < len(ks); i++ {
		for j := i; j > 0 && ks[j] < ks[j-1]; j-- {
			ks[j], ks[j-1] = ks[j-1], ks[j]
		}
	}
	return ks
}
