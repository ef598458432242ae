// Package models builds pipelines by model name with River's defaults, and
// restores them from snapshots. It is the one place that knows every
// learner package.
package models

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/bayes"
	"github.com/olops/olops/internal/learn/linear"
	"github.com/olops/olops/internal/learn/param"
	"github.com/olops/olops/internal/learn/preprocess"
)

// factory builds one named model. The tree and forest packages are wired
// in by tree.go (treeFactories) and forest.go (forestFactories), each a map
// from model name to factory, e.g.
//
//	func treeFactories() map[string]factory {
//		return map[string]factory{
//			"hoeffding": {Task: learn.Binary, Build: func(s learn.Spec) (learn.Classifier, learn.Regressor, error) {
//				c, err := tree.NewHoeffdingTreeClassifier(s.Params)
//				return c, nil, err
//			}},
//			"hoeffding-regressor": {Task: learn.Regression, Build: ...},
//		}
//	}
//
// Task is learn.Regression for a regressor and learn.Binary for any
// classifier (binary or multiclass is decided by the data: Build sees it
// in spec.Task). Build returns a Classifier or a Regressor (the other nil)
// with spec.Params applied over River's defaults, and an error naming any
// unknown parameter. Steps are the default preprocessing (used when the
// spec names none). A learner may implement
//
//	Params() map[string]any             // current hyperparameters, for models.Params
//	Patch(params map[string]any) error  // run-time changes, for models.Patch (change nothing on error)
//
// and must implement learn.State.
type factory struct {
	Task  learn.Task
	Steps []learn.Step
	Build func(spec learn.Spec) (learn.Classifier, learn.Regressor, error)
}

var scaled = []learn.Step{{Name: "standard_scaler"}}

// order lists the models as Names reports them.
var order = []string{"logreg", "perceptron", "pa", "gnb", "hoeffding", "hat", "arf", "linreg", "pa-regressor", "hoeffding-regressor", "arf-regressor"}

func linearFactories() map[string]factory {
	return map[string]factory{
		"logreg": {Task: learn.Binary, Steps: scaled, Build: func(s learn.Spec) (learn.Classifier, learn.Regressor, error) {
			return oneVsRest(s, func() (learn.Classifier, error) { return linear.NewLogisticRegression(s.Params) })
		}},
		"perceptron": {Task: learn.Binary, Build: func(s learn.Spec) (learn.Classifier, learn.Regressor, error) {
			return oneVsRest(s, func() (learn.Classifier, error) { return linear.NewPerceptron(s.Params) })
		}},
		"pa": {Task: learn.Binary, Build: func(s learn.Spec) (learn.Classifier, learn.Regressor, error) {
			return oneVsRest(s, func() (learn.Classifier, error) { return linear.NewPAClassifier(s.Params) })
		}},
		"gnb": {Task: learn.Binary, Build: func(s learn.Spec) (learn.Classifier, learn.Regressor, error) {
			if len(s.Params) > 0 {
				return nil, nil, fmt.Errorf("gnb takes no parameters (got %s)", strings.Join(slices.Sorted(maps.Keys(s.Params)), ", "))
			}
			minClasses := 0
			if s.Task == learn.Binary {
				minClasses = 2
			}
			return bayes.New(minClasses), nil, nil
		}},
		"linreg": {Task: learn.Regression, Steps: scaled, Build: func(s learn.Spec) (learn.Classifier, learn.Regressor, error) {
			r, err := linear.NewLinearRegression(s.Params)
			return nil, r, err
		}},
		"pa-regressor": {Task: learn.Regression, Build: func(s learn.Spec) (learn.Classifier, learn.Regressor, error) {
			r, err := linear.NewPARegressor(s.Params)
			return nil, r, err
		}},
	}
}

// oneVsRest builds a binary linear model, wrapped in OneVsRest for a
// multiclass task (River's OneVsRestClassifier).
func oneVsRest(s learn.Spec, build func() (learn.Classifier, error)) (learn.Classifier, learn.Regressor, error) {
	c, err := build()
	if err != nil {
		return nil, nil, err
	}
	if s.Task != learn.Multiclass {
		return c, nil, nil
	}
	o, err := linear.NewOneVsRest(c)
	return o, nil, err
}

// registry merges every package's factories.
func registry() map[string]factory {
	r := linearFactories()
	maps.Copy(r, treeFactories())
	maps.Copy(r, forestFactories())
	return r
}

// Names returns the model names New knows, in a stable order.
func Names() []string {
	r := registry()
	var names []string
	for _, n := range order {
		if _, ok := r[n]; ok {
			names = append(names, n)
		}
	}
	for _, n := range slices.Sorted(maps.Keys(r)) {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return names
}

// resolve finds the factory for a spec: a classifier name asked for a
// regression task means its "-regressor" variant when there is one
// (hoeffding on a numeric target is HoeffdingTreeRegressor).
func resolve(r map[string]factory, name string, task learn.Task) (string, factory, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	f, ok := r[name]
	if !ok {
		return "", f, fmt.Errorf("unknown model %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	if task == learn.Regression && f.Task != learn.Regression {
		if g, ok := r[name+"-regressor"]; ok {
			return name + "-regressor", g, nil
		}
		return "", f, fmt.Errorf("model %q is a classifier, the task is regression (regressors: %s)", name, strings.Join(regressors(r), ", "))
	}
	if task != "" && task != learn.Regression && f.Task == learn.Regression {
		return "", f, fmt.Errorf("model %q is a regressor, the task is %s classification", name, task)
	}
	return name, f, nil
}

func regressors(r map[string]factory) []string {
	var out []string
	for _, n := range Names() {
		if r[n].Task == learn.Regression {
			out = append(out, n)
		}
	}
	return out
}

// TaskOf reports whether a model is a regressor (learn.Regression) or a
// classifier (learn.Binary, standing for binary or multiclass); false for
// an unknown name.
func TaskOf(model string) (learn.Task, bool) {
	f, ok := registry()[strings.ToLower(strings.TrimSpace(model))]
	if !ok {
		return "", false
	}
	return f.Task, true
}

// Supports reports whether New builds model for task: a classifier name on
// a regression task is accepted when its "-regressor" variant exists
// (hoeffding, arf, hat on a numeric target).
func Supports(model string, task learn.Task) bool {
	_, _, err := resolve(registry(), model, task)
	return err == nil
}

// New builds the pipeline spec asks for, with River's defaults for every
// parameter the spec leaves out. logreg and linreg get a StandardScaler in
// front unless spec.Steps names the preprocessing. An empty spec.Task is
// the model's (binary for a classifier).
func New(spec learn.Spec) (*learn.Pipeline, error) {
	r := registry()
	name, f, err := resolve(r, spec.Model, spec.Task)
	if err != nil {
		return nil, err
	}
	spec.Model = name
	if spec.Task == "" {
		spec.Task = f.Task
	}
	switch spec.Task {
	case learn.Binary, learn.Multiclass, learn.Regression:
	default:
		return nil, fmt.Errorf("unknown task %q (known: binary, multiclass, regression)", spec.Task)
	}
	spec.Params = maps.Clone(spec.Params)
	stepSpecs := spec.Steps
	if len(stepSpecs) == 0 {
		stepSpecs = f.Steps
	}
	steps := make([]learn.Transformer, 0, len(stepSpecs))
	for _, st := range stepSpecs {
		t, err := NewStep(st)
		if err != nil {
			return nil, err
		}
		steps = append(steps, t)
	}
	clf, reg, err := f.Build(spec)
	if err != nil {
		return nil, err
	}
	if clf == nil && reg == nil {
		return nil, fmt.Errorf("model %q built nothing", name)
	}
	p := learn.NewPipeline(spec, steps, clf, reg)
	useSchema(p)
	return p, nil
}

// StepNames are the preprocessing steps NewStep knows (River's class names
// are accepted too, e.g. StandardScaler).
var StepNames = []string{"standard_scaler", "minmax_scaler", "one_hot", "feature_hasher"}

// NewStep builds one preprocessing step.
func NewStep(st learn.Step) (learn.Transformer, error) {
	key := strings.NewReplacer("_", "", "-", "", " ", "").Replace(strings.ToLower(st.Name))
	known := func(names ...string) error {
		if bad := param.Unknown(st.Params, func(k string) bool { return slices.Contains(names, k) }); len(bad) > 0 {
			return fmt.Errorf("step %q has no parameter %q", st.Name, bad[0])
		}
		return nil
	}
	switch key {
	case "standardscaler", "scaler":
		return preprocess.NewStandardScaler(), known()
	case "minmaxscaler", "minmax":
		return preprocess.NewMinMaxScaler(), known()
	case "onehot", "onehotencoder":
		return preprocess.NewOneHotEncoder(), known()
	case "featurehasher", "hasher":
		if err := known("n_features", "seed"); err != nil {
			return nil, err
		}
		n, seed := 0.0, 0.0
		if v, ok := st.Params["n_features"]; ok {
			f, err := linear.Number("n_features", v)
			if err != nil || f < 1 || f > 1<<24 {
				return nil, fmt.Errorf("step %q: n_features must be a whole number from 1 to 16777216", st.Name)
			}
			n = f
		}
		if v, ok := st.Params["seed"]; ok {
			f, err := linear.Number("seed", v)
			if err != nil {
				return nil, fmt.Errorf("step %q: %w", st.Name, err)
			}
			seed = f
		}
		return preprocess.NewFeatureHasher(int(n), uint64(int64(seed))), nil
	}
	return nil, fmt.Errorf("unknown preprocessing step %q (known: %s)", st.Name, strings.Join(StepNames, ", "))
}

// Restore rebuilds a pipeline from a snapshot taken by its MarshalBinary.
func Restore(snapshot []byte) (*learn.Pipeline, error) {
	spec, err := learn.SnapshotSpec(snapshot)
	if err != nil {
		return nil, err
	}
	p, err := New(spec)
	if err != nil {
		return nil, fmt.Errorf("snapshot of %q: %w", spec.Model, err)
	}
	if err := p.UnmarshalBinary(snapshot); err != nil {
		return nil, err
	}
	return p, nil
}

func learner(p *learn.Pipeline) any {
	if p.Clf != nil {
		return p.Clf
	}
	return p.Reg
}

// Params returns the model's current hyperparameters (the spec's, then
// what the learner reports, which may include a summary of what it learned).
func Params(p *learn.Pipeline) map[string]any {
	out := maps.Clone(p.Spec.Params)
	if out == nil {
		out = map[string]any{}
	}
	if pr, ok := learner(p).(interface{ Params() map[string]any }); ok {
		maps.Copy(out, pr.Params())
	}
	return out
}

// Patch changes hyperparameters of a running model (for example "lr").
// It names any unknown or immutable parameter and changes nothing then.
// Accepted changes are recorded in the spec, so a snapshot restores them.
func Patch(p *learn.Pipeline, params map[string]any) error {
	if len(params) == 0 {
		return nil
	}
	pt, ok := learner(p).(interface{ Patch(map[string]any) error })
	if !ok {
		return fmt.Errorf("model %q has no parameters that can change at run time", p.Spec.Model)
	}
	if err := pt.Patch(params); err != nil {
		return err
	}
	if p.Spec.Params == nil {
		p.Spec.Params = map[string]any{}
	} else {
		p.Spec.Params = maps.Clone(p.Spec.Params)
	}
	maps.Copy(p.Spec.Params, params)
	return nil
}
