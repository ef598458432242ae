package tree

import (
	"math"
	"slices"
	"sort"
	"strconv"

	"github.com/olops/olops/internal/learn"
)

// addVar is River's Var.__iadd__ (Chan et al.'s parallel merge), with
// Python's order of float operations.
func (g *Gauss) addVar(o *Gauss) {
	d := g.Mean - o.Mean
	s := g.S + o.S + d*d*g.N*o.N/(g.N+o.N)
	oldN := g.N
	g.N += o.N
	g.Mean = (oldN*g.Mean + o.N*o.Mean) / g.N
	g.S = s
}

// subVar is River's Var.__isub__.
func (g *Gauss) subVar(o *Gauss) {
	oldN := g.N
	g.N -= o.N
	if g.N > 0 {
		g.Mean = (oldN*g.Mean - o.N*o.Mean) / g.N
	} else {
		g.N, g.Mean = 0, 0
	}
	d := g.Mean - o.Mean
	g.S = g.S - o.S - d*d*g.N*o.N/(g.N+o.N)
}

// varianceReduction is River's VarianceReductionSplitCriterion.
func varianceReduction(pre *Gauss, post []Gauss, minSamples int) float64 {
	for i := range post {
		if post[i].N < float64(minSamples) {
			return 0
		}
	}
	vr := pre.Var()
	for i := range post {
		vr -= post[i].N / pre.N * post[i].Var()
	}
	return vr
}

// pyRound is Python's round(x, digits): the exact binary value rounded
// half to even in decimal.
func pyRound(x float64, digits int) float64 {
	if x == math.Trunc(x) && math.Abs(x) < 1<<52 || math.IsInf(x, 0) || math.IsNaN(x) {
		return x
	}
	f, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'f', digits, 64), 64)
	return f
}

// ebstNode is a node of River's extended binary search tree (E-BST): the
// target statistics of the values <= Val that passed through it.
type ebstNode struct {
	Val         float64
	Est         Gauss
	Left, Right int32 // indices into regSplitter.Nodes, -1 = none
}

// regSplitter watches one feature in a regression leaf: River's
// TEBSTSplitter for numbers, NominalSplitterReg for strings.
type regSplitter struct {
	Nominal bool

	Nodes []ebstNode
	Root  int32

	Vals []string // nominal: values in first-seen order
	Est  []Gauss
}

func (s *regSplitter) updateNum(x, y, w float64, digits int) {
	x = pyRound(x, digits)
	if s.Root < 0 {
		s.Nodes = append(s.Nodes, ebstNode{Val: x, Left: -1, Right: -1})
		s.Root = int32(len(s.Nodes) - 1)
		s.Nodes[s.Root].Est.Update(y, w)
		return
	}
	cur, right := s.Root, false
	var prev int32
	for cur >= 0 {
		prev = cur
		n := &s.Nodes[cur]
		switch {
		case x == n.Val:
			n.Est.Update(y, w)
			return
		case x < n.Val:
			n.Est.Update(y, w)
			cur, right = n.Left, false
		default:
			cur, right = n.Right, true
		}
	}
	s.Nodes = append(s.Nodes, ebstNode{Val: x, Left: -1, Right: -1})
	i := int32(len(s.Nodes) - 1)
	s.Nodes[i].Est.Update(y, w)
	if right {
		s.Nodes[prev].Right = i
	} else {
		s.Nodes[prev].Left = i
	}
}

func (s *regSplitter) updateCat(v string, y, w float64) {
	for i, x := range s.Vals {
		if x == v {
			s.Est[i].Update(y, w)
			return
		}
	}
	s.Vals = append(s.Vals, v)
	s.Est = append(s.Est, Gauss{})
	s.Est[len(s.Est)-1].Update(y, w)
}

// regSuggestion is a regression split candidate.
type regSuggestion struct {
	merit     float64
	feature   int
	numeric   bool
	multiway  bool
	threshold float64
	cat       string
	cats      []string
	children  []Gauss
}

func nullReg() regSuggestion { return regSuggestion{merit: math.Inf(-1), feature: -1} }

type ebstSearch struct {
	s          *regSplitter
	pre        *Gauss
	aux        Gauss
	feature    int
	minSamples int
	// remove_bad_splits
	ratio, vr, e float64
}

func (e *ebstSearch) find(i int32, cand regSuggestion) regSuggestion {
	n := &e.s.Nodes[i]
	if n.Left >= 0 {
		cand = e.find(n.Left, cand)
	}
	left := n.Est
	left.addVar(&e.aux)
	right := *e.pre
	right.subVar(&left)
	post := []Gauss{left, right}
	if m := varianceReduction(e.pre, post, e.minSamples); m > cand.merit {
		cand = regSuggestion{merit: m, feature: e.feature, numeric: true, threshold: n.Val, children: post}
	}
	if n.Right >= 0 {
		e.aux.addVar(&n.Est)
		rc := e.find(n.Right, cand)
		if rc.merit > cand.merit {
			cand = rc
		}
		e.aux.subVar(&e.s.Nodes[i].Est)
	}
	return cand
}

// removeBad is River's _remove_bad_split_nodes: it prunes subtrees whose
// every split point is much worse than the best one.
func (e *ebstSearch) removeBad(i, parent int32, isLeft bool) bool {
	n := &e.s.Nodes[i]
	bad := true
	if n.Left >= 0 {
		bad = e.removeBad(n.Left, i, true)
	}
	if bad && n.Right >= 0 {
		e.aux.addVar(&n.Est)
		bad = e.removeBad(n.Right, i, false)
		e.aux.subVar(&n.Est)
	}
	if !bad {
		return false
	}
	left := n.Est
	left.addVar(&e.aux)
	right := *e.pre
	right.subVar(&left)
	m := varianceReduction(e.pre, []Gauss{left, right}, e.minSamples)
	if m/e.vr < e.ratio-2*e.e {
		n.Left, n.Right = -1, -1
		switch {
		case parent < 0:
			e.s.Root = -1
		case isLeft:
			e.s.Nodes[parent].Left = -1
		default:
			e.s.Nodes[parent].Right = -1
		}
		return true
	}
	return false
}

func (s *regSplitter) best(pre *Gauss, feature, minSamples int, binaryOnly bool) regSuggestion {
	if s.Nominal {
		return s.bestNominal(pre, feature, minSamples, binaryOnly)
	}
	if s.Root < 0 {
		return nullReg()
	}
	e := ebstSearch{s: s, pre: pre, feature: feature, minSamples: minSamples}
	return e.find(s.Root, nullReg())
}

func (s *regSplitter) bestNominal(pre *Gauss, feature, minSamples int, binaryOnly bool) regSuggestion {
	best := nullReg()
	order := make([]int, len(s.Vals))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return s.Vals[order[a]] < s.Vals[order[b]] })
	if !binaryOnly && len(s.Vals) > 2 {
		post := make([]Gauss, len(order))
		cats := make([]string, len(order))
		for p, i := range order {
			post[p], cats[p] = s.Est[i], s.Vals[i]
		}
		best = regSuggestion{merit: varianceReduction(pre, post, minSamples), feature: feature, multiway: true, cats: cats, children: post}
	}
	for _, i := range order {
		rest := *pre
		rest.subVar(&s.Est[i])
		post := []Gauss{s.Est[i], rest}
		if m := varianceReduction(pre, post, minSamples); m > best.merit {
			best = regSuggestion{merit: m, feature: feature, cat: s.Vals[i], children: post}
		}
	}
	return best
}

// linModel is River's LinearRegression with its defaults (SGD at LR,
// intercept rate 0.01, squared loss, no regularisation, gradient clip
// 1e12), weighted: the leaf model of a regression tree.
type linModel struct {
	W         []float64
	Intercept float64
}

func (m *linModel) predict(x *learn.Row) float64 {
	s := 0.0
	for i, xi := range x.X {
		if i >= len(m.W) {
			break
		}
		if !math.IsNaN(xi) {
			s += m.W[i] * xi
		}
	}
	return s + m.Intercept
}

func (m *linModel) learn(x *learn.Row, y, w, lr float64) {
	g := 2 * (m.predict(x) - y)
	g *= w
	g = max(-1e12, min(1e12, g))
	m.Intercept -= 0.01 * g
	for len(m.W) < len(x.X) {
		m.W = append(m.W, 0)
	}
	for i, xi := range x.X {
		if !math.IsNaN(xi) {
			m.W[i] -= lr * (g * xi)
		}
	}
}

func (m linModel) clone() linModel {
	return linModel{W: slices.Clone(m.W), Intercept: m.Intercept}
}

// regLeaf is a regression leaf (River's LeafMean, LeafModel, LeafAdaptive).
type regLeaf struct {
	Stats     Gauss
	Depth     int
	Active    bool
	LastSplit float64

	Feats []int32
	Spl   []regSplitter
	Slot  []int32
	Sub   []int32

	Model               linModel
	FMSEMean, FMSEModel float64
}

func (l *regLeaf) deactivate() {
	l.Active = false
	// River keeps a random leaf's feature subset (feature_indices) when
	// it deactivates, and reuses it if the leaf is re-activated.
	l.Feats, l.Spl, l.Slot = nil, nil, nil
}

func regWeight(n *node[regLeaf]) float64 {
	return subtreeWeight(n, func(l *regLeaf) float64 { return l.Stats.N })
}

// Regressor is River's HoeffdingTreeRegressor (and, with MaxFeatures, the
// member tree of an ARF regressor).
type Regressor struct {
	o        Options
	maxDepth float64
	root     *node[regLeaf]

	leafBuf []*node[regLeaf]
	featBuf []int32 // scratch: the features present in a row
	sugg    []regSuggestion
}

// NewRegressor builds a HoeffdingTreeRegressor from River-named params
// (grace_period, max_depth, delta, tau, leaf_prediction,
// model_selector_decay, min_samples_split, binary_split, merit_preprune,
// digits, leaf_lr). Unknown params are an error.
func NewRegressor(params map[string]any) (*Regressor, error) {
	o, err := RegressorOptions(params)
	if err != nil {
		return nil, err
	}
	return NewRegressorWith(o)
}

// NewRegressorWith builds a regressor from options.
func NewRegressorWith(o Options) (*Regressor, error) {
	if err := o.validate(true); err != nil {
		return nil, err
	}
	r := &Regressor{o: o}
	r.maxDepth = o.maxDepth()
	return r, nil
}

// Options returns the tree's hyperparameters.
func (r *Regressor) Options() Options { return r.o }

// Params returns the hyperparameters under River's names.
func (r *Regressor) Params() map[string]any {
	return map[string]any{
		"grace_period": r.o.GracePeriod, "max_depth": r.o.MaxDepth, "delta": r.o.Delta, "tau": r.o.Tau,
		"leaf_prediction": r.o.LeafPrediction, "model_selector_decay": r.o.ModelSelectorDecay,
		"min_samples_split": r.o.MinSamplesSplit, "binary_split": r.o.BinarySplit,
		"merit_preprune": r.o.MeritPreprune, "digits": r.o.Digits, "leaf_lr": r.o.LeafLR,
	}
}

// Summary counts the tree's nodes.
func (r *Regressor) Summary() (nodes, leafCount, depth int) { return summary(r.root) }

// Predict is River's predict_one: 0 before the first sample (River scores
// it), else the leaf's prediction.
func (r *Regressor) Predict(x *learn.Row) (float64, bool) {
	if r.root == nil {
		return 0, true
	}
	n, _, _ := walk(r.root, x, true, regWeight)
	return r.leafPredict(n.Leaf, x), true
}

func (r *Regressor) leafPredict(l *regLeaf, x *learn.Row) float64 {
	switch r.o.LeafPrediction {
	case "mean":
		return l.Stats.Mean
	case "model":
		return l.Model.predict(x)
	}
	if l.FMSEMean < l.FMSEModel {
		return l.Stats.Mean
	}
	return l.Model.predict(x)
}

// Learn learns one sample with weight 1.
func (r *Regressor) Learn(x *learn.Row, y float64) { r.LearnWeighted(x, y, 1) }

// LearnWeighted learns one sample with weight w.
func (r *Regressor) LearnWeighted(x *learn.Row, y, w float64) {
	if r.root == nil {
		r.root = &node[regLeaf]{Leaf: r.newLeaf(Gauss{}, nil, 0)}
	}
	n, parent, pb := walk(r.root, x, false, regWeight)
	if n.Leaf != nil {
		l := n.Leaf
		r.leafLearn(l, x, y, w)
		if l.Active {
			if float64(l.Depth) >= r.maxDepth {
				l.deactivate()
			} else if seen := l.Stats.N; seen-l.LastSplit >= float64(r.o.GracePeriod) {
				r.attemptSplit(n, parent, pb)
				l.LastSplit = seen
			}
		}
		return
	}
	for n.Leaf == nil {
		if n.Kind == nominalMultiway && present(x, n.Feature) {
			leaf := &node[regLeaf]{Leaf: r.newLeaf(Gauss{}, nil, n.Depth+1)}
			n.Cats = append(n.Cats, catOf(x, n.Feature))
			n.Children = append(n.Children, leaf)
			n = leaf
			break
		}
		n = n.Children[n.mostCommon(regWeight)]
		if n.Leaf == nil {
			n, _, _ = walk(n, x, false, regWeight)
		}
	}
	r.leafLearn(n.Leaf, x, y, w)
}

// newLeaf is River's _new_leaf: a child copies its parent leaf's linear
// model and error trackers; a leaf under a branch starts afresh.
func (r *Regressor) newLeaf(stats Gauss, parent *regLeaf, depth int) *regLeaf {
	l := &regLeaf{Stats: stats, Depth: depth, Active: true}
	l.LastSplit = stats.N
	if parent != nil {
		l.Model = parent.Model.clone()
		l.FMSEMean, l.FMSEModel = parent.FMSEMean, parent.FMSEModel
	}
	return l
}

func (r *Regressor) leafLearn(l *regLeaf, x *learn.Row, y, w float64) {
	if r.o.LeafPrediction == "adaptive" {
		dm := y - l.Stats.Mean
		dp := y - l.Model.predict(x)
		l.FMSEMean = r.o.ModelSelectorDecay*l.FMSEMean + dm*dm
		l.FMSEModel = r.o.ModelSelectorDecay*l.FMSEModel + dp*dp
	}
	l.Stats.Update(y, w)
	if l.Active {
		r.updateSplitters(l, x, y, w)
	}
	if r.o.LeafPrediction != "mean" {
		l.Model.learn(x, y, w, r.o.LeafLR)
	}
}

func (r *Regressor) updateSplitters(l *regLeaf, x *learn.Row, y, w float64) {
	if r.o.MaxFeatures > 0 {
		if l.Sub == nil {
			l.Sub = r.o.subset(x, &r.featBuf)
		}
		for _, f := range l.Sub {
			if present(x, int(f)) {
				r.updateSplitter(l, x, int(f), y, w)
			}
		}
		return
	}
	for f := range x.X {
		if present(x, f) {
			r.updateSplitter(l, x, f, y, w)
		}
	}
}

func (r *Regressor) updateSplitter(l *regLeaf, x *learn.Row, f int, y, w float64) {
	for len(l.Slot) <= f {
		l.Slot = append(l.Slot, -1)
	}
	i := l.Slot[f]
	isNum := !math.IsNaN(x.X[f])
	if i < 0 {
		i = int32(len(l.Spl))
		l.Slot[f] = i
		l.Feats = append(l.Feats, int32(f))
		l.Spl = append(l.Spl, regSplitter{Nominal: !isNum, Root: -1})
	}
	s := &l.Spl[i]
	if s.Nominal {
		s.updateCat(catOf(x, f), y, w)
	} else if isNum {
		s.updateNum(x.X[f], y, w, r.o.Digits)
	}
}

// attemptSplit is River's HoeffdingTreeRegressor._attempt_to_split.
func (r *Regressor) attemptSplit(n, parent *node[regLeaf], pb int) {
	l := n.Leaf
	best, split := r.decide(l)
	if !split {
		return
	}
	defer r.reactivate() // River's memory manager, see Classifier.attemptSplit
	if best.feature < 0 {
		l.deactivate()
		return
	}
	br := newRegBranch[regLeaf](best, l)
	for _, st := range best.children {
		br.Children = append(br.Children, &node[regLeaf]{Leaf: r.newLeaf(st, l, l.Depth+1)})
	}
	if parent == nil {
		r.root = br
	} else {
		parent.Children[pb] = br
	}
}

// decide ranks the leaf's split candidates; it returns the best and
// whether River acts on it. When it does not and the two best merits are
// positive, it prunes the E-BSTs of hopeless split points (River's
// manage_memory) as River does.
func (r *Regressor) decide(l *regLeaf) (regSuggestion, bool) {
	sugg := r.sugg[:0]
	if r.o.MeritPreprune {
		sugg = append(sugg, nullReg())
	}
	for i, f := range l.Feats {
		sugg = append(sugg, l.Spl[i].best(&l.Stats, int(f), r.o.MinSamplesSplit, r.o.BinarySplit))
	}
	r.sugg = sugg
	slices.SortStableFunc(sugg, func(a, b regSuggestion) int {
		switch {
		case a.merit < b.merit:
			return -1
		case a.merit > b.merit:
			return 1
		}
		return 0
	})
	split := false
	hb := 0.0
	if len(sugg) < 2 {
		split = len(sugg) > 0
	} else {
		hb = hoeffdingBound(1.0, r.o.Delta, l.Stats.N)
		best, second := sugg[len(sugg)-1], sugg[len(sugg)-2]
		if best.merit > 0 && (second.merit/best.merit < 1-hb || hb < r.o.Tau) {
			split = true
		}
	}
	if split {
		return sugg[len(sugg)-1], true
	}
	if len(sugg) >= 2 && sugg[len(sugg)-1].merit > 0 && sugg[len(sugg)-2].merit > 0 {
		best := sugg[len(sugg)-1]
		ratio := sugg[len(sugg)-2].merit / best.merit
		for i := range l.Spl {
			s := &l.Spl[i]
			if s.Nominal || s.Root < 0 {
				continue
			}
			e := ebstSearch{s: s, pre: &l.Stats, minSamples: r.o.MinSamplesSplit, ratio: ratio, vr: best.merit, e: hb}
			e.removeBad(s.Root, -1, true)
		}
	}
	return regSuggestion{}, false
}

func newRegBranch[L any](best regSuggestion, l *regLeaf) *node[L] {
	br := &node[L]{Feature: best.feature, Threshold: best.threshold, Cat: best.cat, Cats: best.cats, Depth: l.Depth}
	switch {
	case best.numeric:
		br.Kind = numericBinary
	case best.multiway:
		br.Kind = nominalMultiway
	default:
		br.Kind = nominalBinary
	}
	return br
}

func (r *Regressor) reactivate() {
	r.leafBuf = leaves(r.root, r.leafBuf[:0])
	for _, n := range r.leafBuf {
		if l := n.Leaf; !l.Active && float64(l.Depth) < r.maxDepth {
			l.Active = true
		}
	}
}

type regState struct{ Root *node[regLeaf] }

// MarshalBinary saves the tree exactly (not Options.Rand).
func (r *Regressor) MarshalBinary() ([]byte, error) {
	return encodeState(r.o, regState{Root: r.root})
}

// UnmarshalBinary restores a tree saved by MarshalBinary.
func (r *Regressor) UnmarshalBinary(b []byte) error {
	var s regState
	o := r.o
	if err := decodeState(b, &o, &s); err != nil {
		return err
	}
	r.o, r.root = o, s.Root
	r.maxDepth = o.maxDepth()
	return nil
}
