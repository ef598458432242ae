// Package tree holds River 0.21.1's Hoeffding trees in pure Go:
// HoeffdingTreeClassifier (Classifier), HoeffdingAdaptiveTreeClassifier
// (HAT), HoeffdingTreeRegressor (Regressor) and
// HoeffdingAdaptiveTreeRegressor (HATR), and the member trees of the
// adaptive random forests (Options.MaxFeatures).
//
// The classifier and the regressor reproduce River's float operations in
// River's order, so they score what River scores to the last digits. The
// adaptive trees draw their bootstrap weights from a port of Python's
// Mersenne Twister and match River exactly until a drift detector fires;
// after that they stay close but not identical (see the parity tests).
//
// Feature order matters for exact parity: River breaks ties between equally
// good splits by the order in which a leaf first saw each feature, and this
// package uses the schema's index order (the CSV column order when the
// schema is built in that order, as eval.Run does). Class ids are whatever
// the caller passes; ties between classes are broken by the order a leaf
// first saw them, as River does.
//
// Memory management (River's max_size, memory_estimate_period,
// stop_mem_management, remove_poor_attrs) is not implemented, except for
// its one effect below the memory limit: after every split decision River
// re-activates all inactive leaves, and so does this package.
package tree

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/olops/olops/internal/learn/param"
)

// Options are a tree's hyperparameters, named after River's. Build them
// with ClassifierDefaults or RegressorDefaults and change what you need.
//
// An adaptive random forest member (River's BaseTreeClassifier /
// BaseTreeRegressor) is a plain tree with MaxFeatures > 0 and Rand set:
//
//	o := tree.ClassifierDefaults()
//	o.GracePeriod, o.Delta = 50, 0.01
//	o.MaxFeatures = 3
//	o.Rand = forestRand // shared by all members, as River shares the forest's rng
//	member, err := tree.NewClassifierWith(o)
//
// Each new leaf then monitors a random subset of MaxFeatures of the
// features present in the first sample it learns (River's
// RandomLeaf*._iter_features).
type Options struct {
	GracePeriod int     // grace_period: weight a leaf sees between split attempts
	MaxDepth    int     // max_depth: 0 means unlimited (River's None)
	Delta       float64 // delta: 1 - confidence of a split decision
	Tau         float64 // tau: Hoeffding bound below which ties are broken

	// Classification only.
	SplitCriterion    string  // split_criterion: info_gain, gini or hellinger
	LeafPrediction    string  // leaf_prediction: nba, mc, nb (classifier); adaptive, model, mean (regressor)
	NBThreshold       float64 // nb_threshold: weight before a nb leaf uses naive Bayes
	NSplits           int     // n_splits of the Gaussian splitter
	MinBranchFraction float64 // min_branch_fraction
	MaxShareToSplit   float64 // max_share_to_split

	// Regression only.
	MinSamplesSplit    int     // min_samples_split
	ModelSelectorDecay float64 // model_selector_decay of adaptive leaves
	Digits             int     // digits of the TEBST splitter (rounding of split points)
	LeafLR             float64 // learning rate of the leaf LinearRegression (River: SGD 0.01)

	BinarySplit   bool // binary_split: nominal features split one value vs the rest
	MeritPreprune bool // merit_preprune: a null split competes with the real ones

	// MinClasses is how many classes PredictProba returns at least: 2 for
	// a binary task, so both sides are always there; 0 for multiclass,
	// where a class never seen must stay absent (River's dict has no key
	// for it, which decides its log loss).
	MinClasses int

	// MaxFeatures > 0 makes every leaf monitor a random subset of that many
	// features (ARF members). Rand must then be set.
	MaxFeatures int
	// Rand draws the feature subsets. The tree does not own it and does not
	// save it in MarshalBinary: whoever shares it (the forest) saves it.
	Rand *rand.Rand `json:"-"`
	// Sample, when set, draws a leaf's feature subset instead of Rand: the
	// forest replays River's rng.sample(sorted(x.keys()), k) with it (see
	// forest_sample.go). It must not keep present, a scratch buffer. Not
	// saved by MarshalBinary either.
	Sample func(present []int32, k int) []int32 `json:"-"`
}

// ClassifierDefaults are River's HoeffdingTreeClassifier defaults.
func ClassifierDefaults() Options {
	return Options{
		GracePeriod:       200,
		Delta:             1e-7,
		Tau:               0.05,
		SplitCriterion:    "info_gain",
		LeafPrediction:    "nba",
		NSplits:           10,
		MinBranchFraction: 0.01,
		MaxShareToSplit:   0.99,
		MeritPreprune:     true,
	}
}

// RegressorDefaults are River's HoeffdingTreeRegressor defaults.
func RegressorDefaults() Options {
	return Options{
		GracePeriod:        200,
		Delta:              1e-7,
		Tau:                0.05,
		LeafPrediction:     "adaptive",
		MinSamplesSplit:    5,
		ModelSelectorDecay: 0.95,
		Digits:             1,
		LeafLR:             0.01,
		MeritPreprune:      true,
	}
}

func (o Options) validate(regression bool) error {
	if o.GracePeriod < 1 {
		return fmt.Errorf("grace_period must be at least 1, got %d", o.GracePeriod)
	}
	if o.MaxDepth < 0 {
		return fmt.Errorf("max_depth must be >= 0 (0 or null = unlimited), got %d", o.MaxDepth)
	}
	if !(o.Delta > 0 && o.Delta < 1) {
		return fmt.Errorf("delta must be in (0, 1), got %v", o.Delta)
	}
	if !(o.Tau >= 0) {
		return fmt.Errorf("tau must be >= 0, got %v", o.Tau)
	}
	if o.MaxFeatures < 0 {
		return fmt.Errorf("max_features must be >= 0, got %d", o.MaxFeatures)
	}
	if o.MaxFeatures > 0 && o.Rand == nil && o.Sample == nil {
		return fmt.Errorf("max_features %d needs a random source (Options.Rand or Options.Sample)", o.MaxFeatures)
	}
	if regression {
		switch o.LeafPrediction {
		case "mean", "model", "adaptive":
		default:
			return fmt.Errorf("leaf_prediction %q: use mean, model or adaptive", o.LeafPrediction)
		}
		if o.MinSamplesSplit < 0 {
			return fmt.Errorf("min_samples_split must be >= 0, got %d", o.MinSamplesSplit)
		}
		if !(o.ModelSelectorDecay > 0 && o.ModelSelectorDecay <= 1) {
			return fmt.Errorf("model_selector_decay must be in (0, 1], got %v", o.ModelSelectorDecay)
		}
		return nil
	}
	switch o.SplitCriterion {
	case "info_gain", "gini", "hellinger":
	default:
		return fmt.Errorf("split_criterion %q: use info_gain, gini or hellinger", o.SplitCriterion)
	}
	switch o.LeafPrediction {
	case "nba", "mc", "nb":
	default:
		return fmt.Errorf("leaf_prediction %q: use nba, mc or nb", o.LeafPrediction)
	}
	if o.NSplits < 1 {
		return fmt.Errorf("n_splits must be at least 1, got %d", o.NSplits)
	}
	if !(o.MinBranchFraction >= 0 && o.MinBranchFraction < 1) {
		return fmt.Errorf("min_branch_fraction must be in [0, 1), got %v", o.MinBranchFraction)
	}
	if !(o.MaxShareToSplit > 0 && o.MaxShareToSplit <= 1) {
		return fmt.Errorf("max_share_to_split must be in (0, 1], got %v", o.MaxShareToSplit)
	}
	return nil
}

// maxDepth is River's max_depth with None as +Inf.
func (o Options) maxDepth() float64 {
	if o.MaxDepth == 0 {
		return math.Inf(1)
	}
	return float64(o.MaxDepth)
}

// paramSet reads River-named params out of a map, remembering which were
// used so that unknown names can be reported.
type paramSet struct {
	m    map[string]any
	used map[string]bool
	err  error
}

func newParamSet(m map[string]any) *paramSet {
	return &paramSet{m: m, used: map[string]bool{}}
}

func (p *paramSet) get(name string) (any, bool) {
	p.used[name] = true
	v, ok := p.m[name]
	return v, ok && v != nil
}

func (p *paramSet) fail(name string, v any, want string) {
	if p.err == nil {
		p.err = fmt.Errorf("param %s: %v (%T) is not %s", name, v, v, want)
	}
}

func (p *paramSet) float(name string, dst *float64) {
	v, ok := p.get(name)
	if !ok {
		return
	}
	f, isNum := param.Float(v)
	if !isNum {
		p.fail(name, v, "a number")
		return
	}
	*dst = f
}

func (p *paramSet) int(name string, dst *int) {
	v, ok := p.get(name)
	if !ok {
		return
	}
	switch t := v.(type) {
	case int:
		*dst = t
		return
	case int64:
		*dst = int(t)
		return
	}
	f, isNum := param.Float(v)
	if !isNum || f != math.Trunc(f) || math.Abs(f) > 1<<40 {
		p.fail(name, v, "an integer")
		return
	}
	*dst = int(f)
}

func (p *paramSet) str(name string, dst *string) {
	v, ok := p.get(name)
	if !ok {
		return
	}
	s, isStr := v.(string)
	if !isStr {
		p.fail(name, v, "a string")
		return
	}
	*dst = s
}

func (p *paramSet) bool(name string, dst *bool) {
	v, ok := p.get(name)
	if !ok {
		return
	}
	b, isBool := v.(bool)
	if !isBool {
		p.fail(name, v, "true or false")
		return
	}
	*dst = b
}

// done reports the first bad value or the unknown param names.
func (p *paramSet) done(model string) error {
	if p.err != nil {
		return p.err
	}
	unknown := param.Unknown(p.m, func(k string) bool { return p.used[k] })
	if len(unknown) == 0 {
		return nil
	}
	known := slices.Sorted(maps.Keys(p.used))
	return fmt.Errorf("%s: unknown param %s (known: %s)", model, strings.Join(unknown, ", "), strings.Join(known, ", "))
}

// readCommon reads the params every tree shares.
func (p *paramSet) readCommon(o *Options) {
	p.int("grace_period", &o.GracePeriod)
	p.int("max_depth", &o.MaxDepth)
	p.float("delta", &o.Delta)
	p.float("tau", &o.Tau)
	p.str("leaf_prediction", &o.LeafPrediction)
	p.bool("binary_split", &o.BinarySplit)
	p.bool("merit_preprune", &o.MeritPreprune)
}

// readClassifier reads HoeffdingTreeClassifier's params.
func (p *paramSet) readClassifier(o *Options) {
	p.readCommon(o)
	p.str("split_criterion", &o.SplitCriterion)
	p.float("nb_threshold", &o.NBThreshold)
	p.int("n_splits", &o.NSplits)
	p.float("min_branch_fraction", &o.MinBranchFraction)
	p.float("max_share_to_split", &o.MaxShareToSplit)
}

// readRegressor reads HoeffdingTreeRegressor's params.
func (p *paramSet) readRegressor(o *Options) {
	p.readCommon(o)
	p.int("min_samples_split", &o.MinSamplesSplit)
	p.float("model_selector_decay", &o.ModelSelectorDecay)
	p.int("digits", &o.Digits)
	p.float("leaf_lr", &o.LeafLR)
}

// readHAT reads the params the adaptive trees add.
func (p *paramSet) readHAT(h *HATOptions) {
	p.bool("bootstrap_sampling", &h.BootstrapSampling)
	p.int("drift_window_threshold", &h.DriftWindowThreshold)
	p.float("switch_significance", &h.SwitchSignificance)
	p.float("adwin_delta", &h.ADWINDelta)
	seed := int(h.Seed)
	p.int("seed", &seed)
	h.Seed = int64(seed)
}

// ClassifierOptions reads River-named params over ClassifierDefaults.
func ClassifierOptions(params map[string]any) (Options, error) {
	o := ClassifierDefaults()
	p := newParamSet(params)
	p.readClassifier(&o)
	if err := p.done("hoeffding"); err != nil {
		return o, err
	}
	return o, o.validate(false)
}

// RegressorOptions reads River-named params over RegressorDefaults.
func RegressorOptions(params map[string]any) (Options, error) {
	o := RegressorDefaults()
	p := newParamSet(params)
	p.readRegressor(&o)
	if err := p.done("hoeffding-regressor"); err != nil {
		return o, err
	}
	return o, o.validate(true)
}
