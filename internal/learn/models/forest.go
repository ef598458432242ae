package models

import (
	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/forest"
)

// forestFactories wires the forest package's models: arf (ARFClassifier)
// and arf-regressor (ARFRegressor), seed 42 unless the params give one.
func forestFactories() map[string]factory {
	return map[string]factory{
		"arf": {Task: learn.Binary, Build: func(s learn.Spec) (learn.Classifier, learn.Regressor, error) {
			minClasses := 0
			if s.Task == learn.Binary {
				minClasses = 2 // both sides always present in a binary prediction
			}
			c, err := forest.NewARFClassifier(s.Params, minClasses)
			if err != nil {
				return nil, nil, err
			}
			return c, nil, nil
		}},
		"arf-regressor": {Task: learn.Regression, Build: func(s learn.Spec) (learn.Classifier, learn.Regressor, error) {
			r, err := forest.NewARFRegressor(s.Params)
			if err != nil {
				return nil, nil, err
			}
			return nil, r, nil
		}},
	}
}

// useSchema gives a learner that draws features by name (the forests:
// River samples each leaf's features from sorted(x.keys())) the
// pipeline's schema. It reads p.Schema at each call, so a restored
// pipeline's new schema is seen too.
func useSchema(p *learn.Pipeline) {
	l := any(p.Clf)
	if p.Clf == nil {
		l = p.Reg
	}
	if u, ok := l.(interface{ UseSchema(func() *learn.Schema) }); ok {
		u.UseSchema(func() *learn.Schema { return p.Schema })
	}
}
