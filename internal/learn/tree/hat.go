package tree

import (
	"fmt"
	"math"
	"slices"

	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/drift"
	"github.com/olops/olops/internal/learn/libm"
	"github.com/olops/olops/internal/learn/pyrand"
)

// hatLeaf is River's AdaLeafClassifier: a naive-Bayes-adaptive leaf with
// its own ADWIN over its 0/1 errors and a running mean of them.
type hatLeaf struct {
	C      clfLeaf
	Det    *drift.ADWIN
	ErrN   float64
	ErrAvg float64
}

// adaBranch is what River's AdaBranchClassifier / AdaBranchRegressor add
// to a branch: ADWIN, the error it watches and an alternate subtree grown
// after a drift.
type adaBranch[L any] struct {
	Det    *drift.ADWIN
	ErrN   float64   // classifier: errors seen
	ErrAvg float64   // classifier: their mean
	Norm   normError // regressor: absolute errors
	Alt    *node[L]
}

// HATOptions are the HoeffdingAdaptiveTreeClassifier's own
// hyperparameters, on top of the tree Options.
type HATOptions struct {
	BootstrapSampling    bool    // bootstrap_sampling
	DriftWindowThreshold int     // drift_window_threshold
	SwitchSignificance   float64 // switch_significance
	ADWINDelta           float64 // delta of each node's ADWIN (River: ADWIN() = 0.002)
	Seed                 int64   // seed of the bootstrap draws (Python's random.Random(seed))
}

// addParams adds the options to p under River's names.
func (h HATOptions) addParams(p map[string]any) {
	p["bootstrap_sampling"] = h.BootstrapSampling
	p["drift_window_threshold"] = h.DriftWindowThreshold
	p["switch_significance"] = h.SwitchSignificance
	p["adwin_delta"] = h.ADWINDelta
	p["seed"] = h.Seed
}

// HATDefaults are River's defaults, with seed 42 (the reference's).
func HATDefaults() HATOptions {
	return HATOptions{BootstrapSampling: true, DriftWindowThreshold: 300, SwitchSignificance: 0.05, ADWINDelta: 0.002, Seed: 42}
}

// HAT is River's HoeffdingAdaptiveTreeClassifier: every node watches its
// error with ADWIN and grows an alternate subtree on a drift, swapped in
// when it is significantly better. Its bootstrap weights come from a port
// of Python's Mersenne Twister, so a seeded HAT draws what River draws.
type HAT struct {
	t        Classifier // leaf logic and options
	h        HATOptions
	root     *node[hatLeaf]
	rng      *pyrand.Python
	nClasses int

	proba   []float64
	leafBuf []*node[hatLeaf]
}

// NewHAT builds a HoeffdingAdaptiveTreeClassifier from River-named params:
// the hoeffding ones plus bootstrap_sampling, drift_window_threshold,
// switch_significance, adwin_delta and seed (default 42).
func NewHAT(params map[string]any) (*HAT, error) {
	o := ClassifierDefaults()
	h := HATDefaults()
	p := newParamSet(params)
	p.readClassifier(&o)
	p.readHAT(&h)
	if err := p.done("hat"); err != nil {
		return nil, err
	}
	return NewHATWith(o, h)
}

// NewHATWith builds a HAT from options.
func NewHATWith(o Options, h HATOptions) (*HAT, error) {
	if err := o.validate(false); err != nil {
		return nil, err
	}
	if o.MaxFeatures != 0 {
		return nil, fmt.Errorf("hat: max_features is not supported")
	}
	if h.DriftWindowThreshold < 0 {
		return nil, fmt.Errorf("drift_window_threshold must be >= 0, got %d", h.DriftWindowThreshold)
	}
	if !(h.SwitchSignificance > 0 && h.SwitchSignificance < 1) {
		return nil, fmt.Errorf("switch_significance must be in (0, 1), got %v", h.SwitchSignificance)
	}
	if !(h.ADWINDelta > 0 && h.ADWINDelta < 1) {
		return nil, fmt.Errorf("adwin_delta must be in (0, 1), got %v", h.ADWINDelta)
	}
	m := &HAT{t: Classifier{o: o}, h: h, rng: pyrand.NewPython(h.Seed)}
	m.t.init()
	return m, nil
}

// Params returns the hyperparameters under River's names.
func (m *HAT) Params() map[string]any {
	p := m.t.Params()
	m.h.addParams(p)
	return p
}

// Summary counts the main tree's nodes (alternate subtrees excluded).
func (m *HAT) Summary() (nodes, leafCount, depth int) { return summary(m.root) }

func hatWeight(n *node[hatLeaf]) float64 {
	return subtreeWeight(n, func(l *hatLeaf) float64 { return l.C.Stats.sum() })
}

func (m *HAT) newLeaf(stats dist, depth int) *node[hatLeaf] {
	return &node[hatLeaf]{Leaf: &hatLeaf{C: *newClfLeaf(stats, depth), Det: drift.NewADWIN(m.h.ADWINDelta)}}
}

// PredictProba sums the error-weighted predictions of the leaf x reaches
// and of the alternate subtrees on its way, normalised.
func (m *HAT) PredictProba(x *learn.Row, dst []float64) []float64 {
	if m.root == nil {
		return dst[:0]
	}
	k := max(m.nClasses, m.t.o.MinClasses)
	dst = slices.Grow(dst[:0], k)[:k]
	clear(dst)
	m.collect(m.root, x, dst)
	s := 0.0
	for _, p := range dst {
		s += p
	}
	if s != 0 {
		// River multiplies by the reciprocal (scale_values_in_dict(d, 1/s)).
		// Dividing can differ in the last bit, and for p within a few ulps
		// of 1 that bit moves -log(1-p) visibly.
		r := 1 / s
		for i := range dst {
			dst[i] *= r
		}
	}
	return dst
}

// collect adds the predictions of AdaBranchClassifier.traverse's leaves.
func (m *HAT) collect(n *node[hatLeaf], x *learn.Row, dst []float64) {
	for n.Leaf == nil {
		if n.Ada != nil && n.Ada.Alt != nil {
			m.collect(n.Ada.Alt, x, dst)
		}
		b := n.branchNo(x)
		if b < 0 {
			b = n.mostCommon(hatWeight)
		}
		n = n.Children[b]
	}
	m.addLeafProba(n.Leaf, x, dst)
}

// leafProba writes AdaLeafClassifier.prediction into m.proba (by class
// id); false when River returns None (no stats).
func (m *HAT) leafProba(l *hatLeaf, x *learn.Row) bool {
	if len(l.C.Stats.Cls) == 0 {
		return false
	}
	k := max(m.nClasses, 2)
	m.proba = slices.Grow(m.proba[:0], k)[:k]
	clear(m.proba)
	if !l.C.Active {
		mcProba(&l.C.Stats, m.proba)
	} else if !m.t.leafPredict(&l.C, x, m.proba) {
		return false
	}
	s := 0.0
	for _, c := range l.C.Stats.Cls {
		s += m.proba[c]
	}
	if f := s * l.ErrAvg * l.ErrAvg; f != 0 {
		r := 1 / f // as River: times the reciprocal, see PredictProba
		for _, c := range l.C.Stats.Cls {
			m.proba[c] *= r
		}
	}
	return true
}

func (m *HAT) addLeafProba(l *hatLeaf, x *learn.Row, dst []float64) {
	if m.leafProba(l, x) {
		for _, c := range l.C.Stats.Cls {
			dst[c] += m.proba[c]
		}
	}
}

// leafVote is max(prediction, key=get) in the leaf's class order, or -1
// (River's None) when the leaf predicts nothing.
func (m *HAT) leafVote(l *hatLeaf, x *learn.Row) int {
	if !m.leafProba(l, x) {
		return -1
	}
	best, bv := -1, math.Inf(-1)
	for _, c := range l.C.Stats.Cls {
		if v := m.proba[c]; v > bv {
			best, bv = int(c), v
		}
	}
	return best
}

// Learn learns one sample of class y.
func (m *HAT) Learn(x *learn.Row, y int) { m.LearnWeighted(x, y, 1) }

// LearnWeighted learns one sample of class y with weight w.
func (m *HAT) LearnWeighted(x *learn.Row, y int, w float64) {
	if y >= m.nClasses {
		m.nClasses = y + 1
	}
	if m.root == nil {
		m.root = m.newLeaf(dist{}, 0)
	}
	m.learnNode(m.root, x, y, w, nil, -1)
}

func (m *HAT) learnNode(n *node[hatLeaf], x *learn.Row, y int, w float64, parent *node[hatLeaf], pb int) {
	if n.Leaf != nil {
		m.learnLeaf(n, x, y, w, parent, pb)
	} else {
		m.learnBranch(n, x, y, w, parent, pb)
	}
}

// errUpdate feeds a node's 0/1 error to its ADWIN and error mean; it
// reports a drift with a rising error (a falling one resets the mean).
func errUpdate(det *drift.ADWIN, n, avg *float64, e float64) bool {
	old := *avg
	d := det.Update(e)
	*n++
	*avg += (1 / *n) * (e - *avg)
	if d && old > *avg {
		*n, *avg = 0, 0
		return false
	}
	return d
}

func (m *HAT) learnLeaf(n *node[hatLeaf], x *learn.Row, y int, w float64, parent *node[hatLeaf], pb int) {
	l := n.Leaf
	if m.h.BootstrapSampling {
		if k := m.rng.Poisson(1); k > 0 {
			w *= float64(k)
		}
	}
	e := 1.0
	if m.leafVote(l, x) == y {
		e = 0
	}
	errUpdate(l.Det, &l.ErrN, &l.ErrAvg, e)
	m.t.leafLearn(&l.C, x, y, w)
	seen := l.C.Stats.sum()
	if seen-l.C.LastSplit >= float64(m.t.o.GracePeriod) {
		if float64(l.C.Depth) >= m.t.maxDepth {
			l.C.deactivate()
			m.t.touch(&l.C)
		} else if l.C.Active {
			m.attemptSplit(n, parent, pb)
			l.C.LastSplit = seen
		}
	}
}

func (m *HAT) learnBranch(n *node[hatLeaf], x *learn.Row, y int, w float64, parent *node[hatLeaf], pb int) {
	a := n.Ada
	leaf, _, _ := walk(n, x, true, hatWeight)
	e := 1.0
	if m.leafVote(leaf.Leaf, x) == y {
		e = 0
	}
	// A rising error grows a new alternate subtree at this level, replacing
	// any alternate already growing (River's AdaBranchClassifier has no
	// `not self._alternate_tree` test; only the regressor does).
	if errUpdate(a.Det, &a.ErrN, &a.ErrAvg, e) {
		a.ErrN, a.ErrAvg = 0, 0
		a.Alt = m.newLeaf(dist{}, n.Depth)
	} else if a.Alt != nil {
		altN, altErr := nodeErr(a.Alt)
		if altN > float64(m.h.DriftWindowThreshold) && a.ErrN > float64(m.h.DriftWindowThreshold) {
			old := a.ErrAvg
			k := 1.0/altN + 1.0/a.ErrN
			bound := math.Sqrt(2.0 * old * (1.0 - old) * libm.Log(2.0/m.h.SwitchSignificance) * k)
			if bound < old-altErr {
				// River's kill_tree_children: the replaced subtree's
				// branches drop their alternates before this sample goes
				// on down it, so those draw no bootstrap weight.
				dropAlts(n)
				if parent != nil {
					parent.Children[pb] = a.Alt
					a.Alt = nil
				} else {
					m.root = a.Alt
				}
			} else if bound < altErr-old {
				a.Alt = nil
			}
		}
	}
	// River passes the alternate this branch's own parent: when the
	// alternate leaf splits, its new branch takes this branch's place.
	if a.Alt != nil {
		m.learnNode(a.Alt, x, y, w, parent, pb)
	}
	if b := n.branchNo(x); b >= 0 {
		m.learnNode(n.Children[b], x, y, w, n, b)
		return
	}
	if n.Kind == nominalMultiway && present(x, n.Feature) {
		leaf := m.newLeaf(dist{}, n.Depth+1)
		n.Cats = append(n.Cats, catOf(x, n.Feature))
		n.Children = append(n.Children, leaf)
		m.learnNode(leaf, x, y, w, n, len(n.Children)-1)
		return
	}
	b := n.mostCommon(hatWeight)
	m.learnNode(n.Children[b], x, y, w, n, b)
}

func nodeErr(n *node[hatLeaf]) (count, avg float64) {
	if n.Leaf != nil {
		return n.Leaf.ErrN, n.Leaf.ErrAvg
	}
	return n.Ada.ErrN, n.Ada.ErrAvg
}

func (m *HAT) attemptSplit(n, parent *node[hatLeaf], pb int) {
	l := &n.Leaf.C
	best, split := m.t.decide(l)
	if !split {
		return
	}
	defer m.reactivate()
	if best.feature < 0 {
		l.deactivate()
		m.t.touch(l)
		return
	}
	br := newBranch[hatLeaf](best, l)
	br.Ada = &adaBranch[hatLeaf]{Det: drift.NewADWIN(m.h.ADWINDelta)}
	for _, st := range best.kids() {
		br.Children = append(br.Children, m.newLeaf(st, l.Depth+1))
	}
	if parent == nil {
		m.root = br
	} else {
		parent.Children[pb] = br
	}
}

// adaLeaves lists the leaves of n, alternate subtrees included (River's
// AdaBranchClassifier.iter_leaves).
func adaLeaves[L any](n *node[L], out []*node[L]) []*node[L] {
	if n.Leaf != nil {
		return append(out, n)
	}
	for _, c := range n.Children {
		out = adaLeaves(c, out)
		if c.Ada != nil && c.Ada.Alt != nil {
			out = adaLeaves(c.Ada.Alt, out)
		}
	}
	return out
}

func (m *HAT) reactivate() {
	m.leafBuf = adaLeaves(m.root, m.leafBuf[:0])
	for _, n := range m.leafBuf {
		if l := &n.Leaf.C; !l.Active && float64(l.Depth) < m.t.maxDepth {
			l.Active = true
		}
	}
}

type hatState struct {
	H        HATOptions
	Root     *node[hatLeaf]
	RNG      *rngState
	NClasses int
}

// MarshalBinary saves the tree, its detectors and its random state.
func (m *HAT) MarshalBinary() ([]byte, error) {
	return encodeState(m.t.o, hatState{H: m.h, Root: m.root, RNG: saveRNG(m.rng), NClasses: m.nClasses})
}

// UnmarshalBinary restores a tree saved by MarshalBinary.
func (m *HAT) UnmarshalBinary(b []byte) error {
	var s hatState
	o := m.t.o
	if err := decodeState(b, &o, &s); err != nil {
		return err
	}
	if s.RNG == nil {
		return fmt.Errorf("hat snapshot has no random state")
	}
	m.t.o, m.h, m.root, m.rng, m.nClasses = o, s.H, s.Root, s.RNG.restore(), s.NClasses
	m.t.init()
	m.t.memo = nbMemo{}
	return nil
}

// SetMinClasses sets Options.MinClasses (2 for a binary task).
func (m *HAT) SetMinClasses(n int) { m.t.o.MinClasses = n }

// dropAlts removes the alternates of the branches below n (not n's own).
func dropAlts(n *node[hatLeaf]) {
	for _, c := range n.Children {
		if c.Leaf == nil {
			c.Ada.Alt = nil
			dropAlts(c)
		}
	}
}
