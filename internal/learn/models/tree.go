package models

import (
	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/tree"
)

// treeFactories wires the tree package's models: hoeffding
// (HoeffdingTreeClassifier), hat (HoeffdingAdaptiveTreeClassifier, seed
// 42 unless given), hoeffding-regressor (HoeffdingTreeRegressor) and
// hat-regressor (HoeffdingAdaptiveTreeRegressor, seed 42; not at River's
// score yet, see tree.HATR).
func treeFactories() map[string]factory {
	// A binary prediction always carries both classes; a multiclass one
	// only the classes seen (River's dict).
	minClasses := func(s learn.Spec) int {
		if s.Task == learn.Binary {
			return 2
		}
		return 0
	}
	return map[string]factory{
		"hoeffding": {Task: learn.Binary, Build: func(s learn.Spec) (learn.Classifier, learn.Regressor, error) {
			o, err := tree.ClassifierOptions(s.Params)
			if err != nil {
				return nil, nil, err
			}
			o.MinClasses = minClasses(s)
			c, err := tree.NewClassifierWith(o)
			if err != nil {
				return nil, nil, err
			}
			return c, nil, nil
		}},
		"hat": {Task: learn.Binary, Build: func(s learn.Spec) (learn.Classifier, learn.Regressor, error) {
			c, err := tree.NewHAT(s.Params)
			if err != nil {
				return nil, nil, err
			}
			c.SetMinClasses(minClasses(s))
			return c, nil, nil
		}},
		"hoeffding-regressor": {Task: learn.Regression, Build: func(s learn.Spec) (learn.Classifier, learn.Regressor, error) {
			r, err := tree.NewRegressor(s.Params)
			if err != nil {
				return nil, nil, err
			}
			return nil, r, nil
		}},
		"hat-regressor": {Task: learn.Regression, Build: func(s learn.Spec) (learn.Classifier, learn.Regressor, error) {
			r, err := tree.NewHATR(s.Params)
			if err != nil {
				return nil, nil, err
			}
			return nil, r, nil
		}},
	}
}
