// Package forest holds River 0.21.1's adaptive random forests,
// ARFClassifier and ARFRegressor: n_models Hoeffding trees (package tree)
// each trained on Poisson(lambda_value) weights and watching a random
// subset of max_features features at every leaf; per member an ADWIN(0.001)
// drift detector and an ADWIN(0.01) warning detector on its error, a
// background tree started at a warning that replaces the member at a
// drift; classification votes weighted by each member's accuracy.
//
// The forest's random numbers (Poisson weights and the members' feature
// subsets) come from one generator, Python's random.Random(seed), drawn in
// River's order; with the feature names (UseSchema) a forest makes River's
// draws for River's seed.
package forest

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"slices"

	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/drift"
	"github.com/olops/olops/internal/learn/synth/pyrand"
	"github.com/olops/olops/internal/learn/tree"
)

const (
	driftDelta   = 0.001
	warningDelta = 0.01
)

// ARFClassifier is River's ARFClassifier.
type ARFClassifier struct {
	fp       forestParams
	treeOpts tree.Options // MaxFeatures and Rand are set when the forest starts
	rnd      *randomness

	members []clfMember
	nFeat   int // features of the first sample (0 until then)

	proba  []float64 // scratch: one member's probabilities
	nDrift int
	nWarn  int

	// The members' labels for the last row PredictProba saw, reused by
	// Learn when it gets the same row before any learning (progressive
	// validation predicts, then learns, the same sample).
	cache rowCache
}

type clfMember struct {
	tree       *tree.Classifier
	background *tree.Classifier
	warn       *drift.ADWIN
	drift      *drift.ADWIN
	correct    float64 // accuracy of the member's own predictions
	seen       float64
	nDrift     int
	nWarn      int
}

// NewARFClassifier builds an ARFClassifier from River-named params: the
// forest's (n_models, max_features, lambda_value, disable_weighted_vote,
// seed) and its trees' (grace_period 50 and delta 0.01 by default, the
// other HoeffdingTreeClassifier params as River's). minClasses is the
// least number of classes a prediction has (2 for a binary task, 0 for
// multiclass).
func NewARFClassifier(params map[string]any, minClasses int) (*ARFClassifier, error) {
	fp, tp, err := splitParams(params, false)
	if err != nil {
		return nil, fmt.Errorf("arf: %w", err)
	}
	merged := map[string]any{"grace_period": 50, "delta": 0.01}
	for k, v := range tp {
		merged[k] = v
	}
	o, err := tree.ClassifierOptions(merged)
	if err != nil {
		return nil, fmt.Errorf("arf: %w (forest params: %s)", err, knownParams(false))
	}
	o.MinClasses = minClasses
	f := &ARFClassifier{fp: fp, treeOpts: o}
	f.seed()
	return f, nil
}

func (f *ARFClassifier) seed() {
	schema := func() *learn.Schema { return nil }
	if f.rnd != nil {
		schema = f.rnd.schema
	}
	f.rnd = newRandomness(f.fp.Seed)
	f.rnd.schema = schema
}

// UseSchema tells the forest where to find the feature names: River draws
// each leaf's features from sorted(x.keys()), so the names decide which
// features a draw picks.
func (f *ARFClassifier) UseSchema(schema func() *learn.Schema) { f.rnd.schema = schema }

// start builds the members once the number of features is known (River's
// _init_ensemble on the first sample).
func (f *ARFClassifier) start(x *learn.Row) {
	f.nFeat = countPresent(x)
	f.treeOpts.MaxFeatures = resolveMaxFeatures(f.fp.MaxFeatures, max(f.nFeat, 1))
	f.treeOpts.Rand = f.rnd.placeholder
	f.treeOpts.Sample = f.rnd.sample
	f.members = make([]clfMember, f.fp.NModels)
	for i := range f.members {
		f.members[i] = clfMember{tree: f.newTree(), warn: drift.NewADWIN(warningDelta), drift: drift.NewADWIN(driftDelta)}
	}
}

func (f *ARFClassifier) newTree() *tree.Classifier {
	t, err := tree.NewClassifierWith(f.treeOpts)
	if err != nil {
		// The options were validated in NewARFClassifier.
		panic(fmt.Sprintf("arf: member tree: %v", err))
	}
	return t
}

func countPresent(x *learn.Row) int {
	n := 0
	for i := range x.X {
		if !x.Missing(i) {
			n++
		}
	}
	return n
}

// PredictProba is River's predict_proba_one: the members' probabilities,
// each weighted by its accuracy when that is above 0, normalised. It
// returns dst[:0] until a member has learned.
func (f *ARFClassifier) PredictProba(x *learn.Row, dst []float64) []float64 {
	dst = dst[:0]
	if f.members == nil {
		f.start(x)
		return dst
	}
	any := false
	f.cache.store(x, len(f.members))
	for i := range f.members {
		m := &f.members[i]
		f.proba = m.tree.PredictProba(x, f.proba[:0])
		f.cache.labels[i] = argmax(f.proba)
		if len(f.proba) == 0 {
			continue
		}
		any = true
		for len(dst) < len(f.proba) {
			dst = append(dst, 0)
		}
		w := 1.0
		if acc := m.accuracy(); !f.fp.DisableWeightedVote && acc > 0 {
			w = acc
		}
		for c, p := range f.proba {
			dst[c] += p * w
		}
	}
	if !any {
		return dst[:0]
	}
	var total float64
	for _, p := range dst {
		total += p
	}
	if total > 0 {
		for c := range dst {
			dst[c] /= total
		}
	}
	return dst
}

func (m *clfMember) accuracy() float64 {
	if m.seen == 0 {
		return 0
	}
	return m.correct / m.seen
}

// argmax is a tree's predict_one over its probabilities: the first most
// probable class, -1 when it cannot predict yet.
func argmax(p []float64) int {
	if len(p) == 0 {
		return -1
	}
	best := 0
	for c, q := range p {
		if q > p[best] {
			best = c
		}
	}
	return best
}

// Learn is River's learn_one.
func (f *ARFClassifier) Learn(x *learn.Row, y int) {
	if f.members == nil {
		f.start(x)
	}
	cached := f.cache.matches(x, len(f.members))
	f.cache.valid = false
	for i := range f.members {
		m := &f.members[i]
		var pred int
		if cached {
			pred = f.cache.labels[i]
		} else {
			f.proba = m.tree.PredictProba(x, f.proba[:0])
			pred = argmax(f.proba)
		}
		m.seen++
		if pred == y {
			m.correct++
		}
		k := f.rnd.poisson(f.fp.LambdaValue)
		if k == 0 {
			continue
		}
		w := float64(k)
		if m.background != nil {
			m.background.LearnWeighted(x, y, w)
		}
		m.tree.LearnWeighted(x, y, w)
		errv := 0.0
		if pred != y {
			errv = 1
		}
		if m.warn.Update(errv) {
			m.background = f.newTree()
			m.warn = drift.NewADWIN(warningDelta)
			f.nWarn++
			m.nWarn++
		}
		if m.drift.Update(errv) {
			if m.background != nil {
				m.tree, m.background = m.background, nil
				m.warn = drift.NewADWIN(warningDelta)
			} else {
				m.tree = f.newTree()
			}
			m.drift = drift.NewADWIN(driftDelta)
			m.correct, m.seen = 0, 0
			f.nDrift++
			m.nDrift++
		}
	}
}

// MemberDetections returns member i's drift and warning counts (River's
// n_drifts_detected(i) and n_warnings_detected(i)).
func (f *ARFClassifier) MemberDetections(i int) (drifts, warnings int) {
	if i < 0 || i >= len(f.members) {
		return 0, 0
	}
	return f.members[i].nDrift, f.members[i].nWarn
}

// Drifts and Warnings count the members' drift and warning detections
// (River's n_drifts_detected and n_warnings_detected).
func (f *ARFClassifier) Drifts() int   { return f.nDrift }
func (f *ARFClassifier) Warnings() int { return f.nWarn }

// Params returns the forest's hyperparameters under River's names.
func (f *ARFClassifier) Params() map[string]any {
	return forestParamsMap(f.fp, f.treeOpts, false)
}

// Patch changes hyperparameters at run time, as River's mutable
// attributes: lambda_value and disable_weighted_vote at once, the tree
// params (grace_period, delta, tau) for the trees built from then on.
// Nothing changes on error.
func (f *ARFClassifier) Patch(params map[string]any) error {
	fp, o, err := patch(f.fp, f.treeOpts, params)
	if err != nil {
		return err
	}
	f.fp, f.treeOpts = fp, o
	return nil
}

type clfMemberState struct {
	Tree, Background []byte
	Warn, Drift      []byte
	Correct, Seen    float64
	NDrift, NWarn    int
}

type clfState struct {
	Params               forestState
	NFeat, NDrift, NWarn int
	RNG                  pyrand.MT
	Members              []clfMemberState
}

// MarshalBinary saves the forest's full state, its generator included.
func (f *ARFClassifier) MarshalBinary() ([]byte, error) {
	s := clfState{Params: saveParams(f.fp, f.treeOpts), NFeat: f.nFeat, NDrift: f.nDrift, NWarn: f.nWarn}
	var err error
	s.RNG = f.rnd.py.MT
	for i := range f.members {
		m := &f.members[i]
		var ms clfMemberState
		if ms.Tree, err = m.tree.MarshalBinary(); err != nil {
			return nil, err
		}
		if m.background != nil {
			if ms.Background, err = m.background.MarshalBinary(); err != nil {
				return nil, err
			}
		}
		if ms.Warn, err = m.warn.MarshalBinary(); err != nil {
			return nil, err
		}
		if ms.Drift, err = m.drift.MarshalBinary(); err != nil {
			return nil, err
		}
		ms.Correct, ms.Seen, ms.NDrift, ms.NWarn = m.correct, m.seen, m.nDrift, m.nWarn
		s.Members = append(s.Members, ms)
	}
	var buf bytes.Buffer
	err = gob.NewEncoder(&buf).Encode(s)
	return buf.Bytes(), err
}

// UnmarshalBinary restores a forest saved by MarshalBinary.
func (f *ARFClassifier) UnmarshalBinary(b []byte) error {
	var s clfState
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&s); err != nil {
		return fmt.Errorf("decode arf state: %w", err)
	}
	fp, o, err := loadParams(s.Params, false)
	if err != nil {
		return err
	}
	g := &ARFClassifier{fp: fp, treeOpts: o, nFeat: s.NFeat, nDrift: s.NDrift, nWarn: s.NWarn}
	g.rnd = &randomness{}
	if f.rnd != nil {
		g.rnd.schema = f.rnd.schema
	}
	g.seed()
	g.rnd.py.MT = s.RNG
	g.treeOpts.Rand = g.rnd.placeholder
	g.treeOpts.Sample = g.rnd.sample
	if len(s.Members) > 0 {
		g.members = make([]clfMember, len(s.Members))
	}
	for i, ms := range s.Members {
		m := &g.members[i]
		m.tree = g.newTree()
		if err := m.tree.UnmarshalBinary(ms.Tree); err != nil {
			return fmt.Errorf("restore arf member %d: %w", i, err)
		}
		if ms.Background != nil {
			m.background = g.newTree()
			if err := m.background.UnmarshalBinary(ms.Background); err != nil {
				return fmt.Errorf("restore arf background %d: %w", i, err)
			}
		}
		m.warn, m.drift = drift.NewADWIN(warningDelta), drift.NewADWIN(driftDelta)
		if err := m.warn.UnmarshalBinary(ms.Warn); err != nil {
			return err
		}
		if err := m.drift.UnmarshalBinary(ms.Drift); err != nil {
			return err
		}
		m.correct, m.seen, m.nDrift, m.nWarn = ms.Correct, ms.Seen, ms.NDrift, ms.NWarn
	}
	*f = *g
	return nil
}

var _ learn.Classifier = (*ARFClassifier)(nil)
var _ learn.State = (*ARFClassifier)(nil)

func sortedKeys(m map[string]any) []string {
	var k []string
	for key := range m {
		k = append(k, key)
	}
	slices.Sort(k)
	return k
}
