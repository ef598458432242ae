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
	"fmt"
	"slices"

	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/pyrand"
	"github.com/olops/olops/internal/learn/snap"
	"github.com/olops/olops/internal/learn/tree"
)

const (
	driftDelta   = 0.001
	warningDelta = 0.01
)

// ARFClassifier is River's ARFClassifier.
type ARFClassifier struct {
	ensemble

	members []clfMember
	proba   []float64 // scratch: one member's probabilities

	// The members' labels for the last row PredictProba saw, reused by
	// Learn when it gets the same row before any learning (progressive
	// validation predicts, then learns, the same sample).
	cache rowCache
}

type clfMember struct {
	trees[*tree.Classifier]
	correct float64 // accuracy of the member's own predictions
	seen    float64
	nDrift  int
	nWarn   int
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
	o, err := tree.ClassifierOptions(memberParams(tp))
	if err != nil {
		return nil, fmt.Errorf("arf: %w (forest params: %s)", err, knownParams(false))
	}
	o.MinClasses = minClasses
	f := &ARFClassifier{ensemble: ensemble{fp: fp, treeOpts: o}}
	f.seed()
	return f, nil
}

// start builds the members on the first sample.
func (f *ARFClassifier) start(x *learn.Row) {
	f.prepare(x)
	f.members = make([]clfMember, f.fp.NModels)
	for i := range f.members {
		f.members[i] = clfMember{trees: newTrees(f.newTree())}
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
		k := f.rnd.py.Poisson(f.fp.LambdaValue)
		if k == 0 {
			continue
		}
		w := float64(k)
		if m.background != nil {
			m.background.LearnWeighted(x, y, w)
		}
		if cached {
			m.tree.LearnPredicted(x, y, w)
		} else {
			m.tree.LearnWeighted(x, y, w)
		}
		errv := 0.0
		if pred != y {
			errv = 1
		}
		warned, drifted := m.watch(errv, f.newTree)
		if warned {
			f.nWarn++
			m.nWarn++
		}
		if drifted {
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

// Params returns the forest's hyperparameters under River's names.
func (f *ARFClassifier) Params() map[string]any {
	return forestParamsMap(f.fp, f.treeOpts, false)
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
	s.RNG = f.rnd.py.MT
	for i := range f.members {
		m := &f.members[i]
		var ms clfMemberState
		if err := m.save(&ms.Tree, &ms.Background, &ms.Warn, &ms.Drift); err != nil {
			return nil, err
		}
		ms.Correct, ms.Seen, ms.NDrift, ms.NWarn = m.correct, m.seen, m.nDrift, m.nWarn
		s.Members = append(s.Members, ms)
	}
	return snap.Encode(s)
}

// UnmarshalBinary restores a forest saved by MarshalBinary.
func (f *ARFClassifier) UnmarshalBinary(b []byte) error {
	var s clfState
	if err := snap.Decode(b, &s, "arf"); err != nil {
		return err
	}
	e, err := f.restored(s.Params, false, s.RNG, s.NFeat, s.NDrift, s.NWarn)
	if err != nil {
		return err
	}
	g := &ARFClassifier{ensemble: e}
	if len(s.Members) > 0 {
		g.members = make([]clfMember, len(s.Members))
	}
	for i, ms := range s.Members {
		m := &g.members[i]
		if err := m.restore("arf", i, g.newTree, ms.Tree, ms.Background, ms.Warn, ms.Drift); err != nil {
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
