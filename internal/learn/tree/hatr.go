package tree

import (
	"fmt"
	"math"

	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/drift"
	"github.com/olops/olops/internal/learn/pyrand"
)

// normError is the error tracker of River 0.21.1's adaptive regression
// nodes: a stats.Var (Welford, ddof=1) over the raw absolute errors |y -
// ŷ|, the same values the node's ADWIN sees. (The name is kept for saved
// trees; older River versions normalised the errors first.)
type normError struct {
	V Gauss
}

// zTest is River's switch test between a node's errors and its
// alternate's: the two-tailed p-value of the difference of their means.
// With no variance on either side it is NaN, which never switches (River
// would raise ZeroDivisionError there).
func zTest(alt, cur *normError) float64 {
	z := (alt.V.Mean - cur.V.Mean) / math.Sqrt(alt.V.Var()/alt.V.N+cur.V.Var()/cur.V.N)
	return 2.0 * stdNormalCDF(-math.Abs(z))
}

// stdNormalCDF is Python's statistics.NormalDist().cdf.
func stdNormalCDF(x float64) float64 {
	return 0.5 * (1.0 + math.Erf(x/math.Sqrt2))
}

// hatrLeaf is River's AdaLeafRegressor.
type hatrLeaf struct {
	R    regLeaf
	Det  *drift.ADWIN
	Norm normError
}

// HATR is River's HoeffdingAdaptiveTreeRegressor: a HoeffdingTreeRegressor
// whose nodes watch their absolute error with ADWIN and grow alternate
// subtrees on a drift, swapped in when a z-test finds them better.
// Predictions average the leaf x reaches and the alternate subtrees'
// leaves on its way.
type HATR struct {
	t    Regressor
	h    HATOptions
	root *node[hatrLeaf]
	rng  *pyrand.Python

	leafBuf []*node[hatrLeaf]
}

// NewHATR builds a HoeffdingAdaptiveTreeRegressor from River-named params:
// the hoeffding-regressor ones plus bootstrap_sampling,
// drift_window_threshold, switch_significance, adwin_delta and seed
// (default 42).
func NewHATR(params map[string]any) (*HATR, error) {
	o := RegressorDefaults()
	h := HATDefaults()
	p := newParamSet(params)
	p.readRegressor(&o)
	p.readHAT(&h)
	if err := p.done("hat-regressor"); err != nil {
		return nil, err
	}
	if err := o.validate(true); err != nil {
		return nil, err
	}
	if h.DriftWindowThreshold < 0 || !(h.SwitchSignificance > 0 && h.SwitchSignificance < 1) || !(h.ADWINDelta > 0 && h.ADWINDelta < 1) {
		return nil, fmt.Errorf("hat-regressor: drift_window_threshold must be >= 0, switch_significance and adwin_delta in (0, 1)")
	}
	m := &HATR{t: Regressor{o: o}, h: h, rng: pyrand.NewPython(h.Seed)}
	m.t.maxDepth = o.maxDepth()
	return m, nil
}

// Params returns the hyperparameters under River's names.
func (m *HATR) Params() map[string]any {
	p := m.t.Params()
	m.h.addParams(p)
	return p
}

func hatrWeight(n *node[hatrLeaf]) float64 {
	return subtreeWeight(n, func(l *hatrLeaf) float64 { return l.R.Stats.N })
}

func (m *HATR) newLeaf(stats Gauss, parent *regLeaf, depth int) *node[hatrLeaf] {
	return &node[hatrLeaf]{Leaf: &hatrLeaf{R: *m.t.newLeaf(stats, parent, depth), Det: drift.NewADWIN(m.h.ADWINDelta)}}
}

// Predict is River's predict_one: 0 before the first sample, else the
// mean prediction of the leaves reached (alternates included).
func (m *HATR) Predict(x *learn.Row) (float64, bool) {
	if m.root == nil {
		return 0, true
	}
	sum, n := 0.0, 0
	m.collect(m.root, x, &sum, &n)
	return sum / float64(n), true
}

func (m *HATR) collect(n *node[hatrLeaf], x *learn.Row, sum *float64, cnt *int) {
	for n.Leaf == nil {
		if n.Ada.Alt != nil {
			m.collect(n.Ada.Alt, x, sum, cnt)
		}
		b := n.branchNo(x)
		if b < 0 {
			b = n.mostCommon(hatrWeight)
		}
		n = n.Children[b]
	}
	*sum += m.t.leafPredict(&n.Leaf.R, x)
	*cnt++
}

// Learn learns one sample.
func (m *HATR) Learn(x *learn.Row, y float64) { m.LearnWeighted(x, y, 1) }

// LearnWeighted learns one sample with weight w.
func (m *HATR) LearnWeighted(x *learn.Row, y, w float64) {
	if m.root == nil {
		m.root = m.newLeaf(Gauss{}, nil, 0)
	}
	m.learnNode(m.root, x, y, w, nil, -1)
}

func (m *HATR) learnNode(n *node[hatrLeaf], x *learn.Row, y, w float64, parent *node[hatrLeaf], pb int) {
	if n.Leaf != nil {
		m.learnLeaf(n, x, y, w, parent, pb)
	} else {
		m.learnBranch(n, x, y, w, parent, pb)
	}
}

// watch feeds |y - pred| to a node's ADWIN and error tracker; it reports
// a drift with a rising error (a falling one resets the tracker).
func watch(det *drift.ADWIN, e *normError, absErr float64) bool {
	old := e.V.Mean
	d := det.Update(absErr)
	e.V.Update(absErr, 1)
	if d && e.V.Mean < old {
		*e = normError{}
		return false
	}
	return d
}

func (m *HATR) learnLeaf(n *node[hatrLeaf], x *learn.Row, y, w float64, parent *node[hatrLeaf], pb int) {
	l := n.Leaf
	pred := m.t.leafPredict(&l.R, x)
	if m.h.BootstrapSampling {
		if k := m.rng.Poisson(1); k > 0 {
			w *= float64(k)
		}
	}
	watch(l.Det, &l.Norm, math.Abs(y-pred))
	m.t.leafLearn(&l.R, x, y, w)
	seen := l.R.Stats.N
	if seen-l.R.LastSplit >= float64(m.t.o.GracePeriod) {
		if float64(l.R.Depth) >= m.t.maxDepth {
			l.R.deactivate()
		} else if l.R.Active {
			m.attemptSplit(n, parent, pb)
			l.R.LastSplit = seen
		}
	}
}

func nodeNorm(n *node[hatrLeaf]) *normError {
	if n.Leaf != nil {
		return &n.Leaf.Norm
	}
	return &n.Ada.Norm
}

func (m *HATR) learnBranch(n *node[hatrLeaf], x *learn.Row, y, w float64, parent *node[hatrLeaf], pb int) {
	a := n.Ada
	leaf, _, _ := walk(n, x, true, hatrWeight)
	pred := m.t.leafPredict(&leaf.Leaf.R, x)
	// River 0.21.1 grows an alternate only when the branch has none; a
	// drift seen while one grows goes on to the switch test.
	if watch(a.Det, &a.Norm, math.Abs(y-pred)) && a.Alt == nil {
		a.Norm = normError{}
		a.Alt = m.newLeaf(Gauss{}, nil, n.Depth)
	} else if a.Alt != nil {
		alt := nodeNorm(a.Alt)
		thr := float64(m.h.DriftWindowThreshold)
		if alt.V.N > thr && a.Norm.V.N > thr && zTest(alt, &a.Norm) <= m.h.SwitchSignificance {
			if alt.V.Mean < a.Norm.V.Mean {
				if parent != nil {
					parent.Children[pb] = a.Alt
					a.Alt = nil
				} else {
					m.root = a.Alt
				}
			} else {
				a.Alt = nil
			}
		}
	}
	// As in River, the alternate learns with this branch's parent.
	if a.Alt != nil {
		m.learnNode(a.Alt, x, y, w, parent, pb)
	}
	if b := n.branchNo(x); b >= 0 {
		m.learnNode(n.Children[b], x, y, w, n, b)
		return
	}
	if n.Kind == nominalMultiway && present(x, n.Feature) {
		nl := m.newLeaf(Gauss{}, nil, n.Depth+1)
		n.Cats = append(n.Cats, catOf(x, n.Feature))
		n.Children = append(n.Children, nl)
		m.learnNode(nl, x, y, w, n, len(n.Children)-1)
		return
	}
	b := n.mostCommon(hatrWeight)
	m.learnNode(n.Children[b], x, y, w, n, b)
}

func (m *HATR) attemptSplit(n, parent *node[hatrLeaf], pb int) {
	l := &n.Leaf.R
	best, split := m.t.decide(l)
	if !split {
		return
	}
	defer m.reactivate()
	if best.feature < 0 {
		l.deactivate()
		return
	}
	br := newRegBranch[hatrLeaf](best, l)
	br.Ada = &adaBranch[hatrLeaf]{Det: drift.NewADWIN(m.h.ADWINDelta)}
	for _, st := range best.children {
		br.Children = append(br.Children, m.newLeaf(st, l, l.Depth+1))
	}
	if parent == nil {
		m.root = br
	} else {
		parent.Children[pb] = br
	}
}

func (m *HATR) reactivate() {
	m.leafBuf = adaLeaves(m.root, m.leafBuf[:0])
	for _, n := range m.leafBuf {
		if l := &n.Leaf.R; !l.Active && float64(l.Depth) < m.t.maxDepth {
			l.Active = true
		}
	}
}

type hatrState struct {
	H    HATOptions
	Root *node[hatrLeaf]
	RNG  *rngState
}

// MarshalBinary saves the tree, its detectors and its random state.
func (m *HATR) MarshalBinary() ([]byte, error) {
	return encodeState(m.t.o, hatrState{H: m.h, Root: m.root, RNG: saveRNG(m.rng)})
}

// UnmarshalBinary restores a tree saved by MarshalBinary.
func (m *HATR) UnmarshalBinary(b []byte) error {
	var s hatrState
	o := m.t.o
	if err := decodeState(b, &o, &s); err != nil {
		return err
	}
	if s.RNG == nil {
		return fmt.Errorf("hat-regressor snapshot has no random state")
	}
	m.t.o, m.h, m.root, m.rng = o, s.H, s.Root, s.RNG.restore()
	m.t.maxDepth = o.maxDepth()
	return nil
}
