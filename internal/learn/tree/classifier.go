package tree

import (
	"math"
	"slices"

	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/libm"
)

// clfLeaf is a classification leaf (River's LeafMajorityClass,
// LeafNaiveBayes, LeafNaiveBayesAdaptive and their ARF Random* variants).
type clfLeaf struct {
	Stats     dist
	Depth     int
	Active    bool
	LastSplit float64 // total weight at the last split attempt

	// Splitters in the order the leaf first saw each feature; Slot maps a
	// feature index to its splitter (-1 = none yet).
	Feats []int32
	Spl   []splitter
	Slot  []int32

	MCCorrect, NBCorrect float64 // nba: weight each strategy got right

	// ver changes whenever the leaf's statistics do (a tree-wide counter,
	// so a new leaf never reuses an old one's): it keys the naive Bayes
	// memo. Not saved: a restored tree starts with an empty memo.
	ver uint64

	// Sub is the random feature subset of an ARF member's leaf (nil until
	// drawn; unused when MaxFeatures is 0).
	Sub []int32

	// numPool is room for the numeric splitters' first two classes, taken
	// as they are made (not saved).
	numPool []numClass
}

func newClfLeaf(stats dist, depth int) *clfLeaf {
	l := &clfLeaf{Stats: stats, Depth: depth, Active: true}
	l.LastSplit = l.Stats.sum()
	return l
}

// newLeafNode is a node holding a new leaf, both in one allocation (a
// forest's trees make many).
func newLeafNode(stats dist, depth int) *node[clfLeaf] {
	nl := &struct {
		n node[clfLeaf]
		l clfLeaf
	}{l: clfLeaf{Stats: stats, Depth: depth, Active: true}}
	nl.l.LastSplit = nl.l.Stats.sum()
	nl.n.Leaf = &nl.l
	return &nl.n
}

func (l *clfLeaf) deactivate() {
	l.Active = false
	// River keeps a random leaf's feature subset (feature_indices) when
	// it deactivates, and reuses it if the leaf is re-activated.
	l.Feats, l.Spl, l.Slot, l.numPool = nil, nil, nil, nil
}

// subtreeWeight is River's total_weight: a leaf's weight, a branch's
// children's weights summed (live, not frozen at split time).
func subtreeWeight[L any](n *node[L], leaf func(*L) float64) float64 {
	if n.Leaf != nil {
		return leaf(n.Leaf)
	}
	s := 0.0
	for _, ch := range n.Children {
		s += subtreeWeight(ch, leaf)
	}
	return s
}

// clfWeight is a leaf's class weights summed.
func clfWeight(n *node[clfLeaf]) float64 {
	return subtreeWeight(n, func(l *clfLeaf) float64 { return l.Stats.sum() })
}

// Classifier is River's HoeffdingTreeClassifier (and, with MaxFeatures,
// the member tree of an adaptive random forest).
type Classifier struct {
	o        Options
	crit     criterion
	maxDepth float64
	root     *node[clfLeaf]
	nClasses int

	post []dist // scratch for the splitters' candidate splits
	// maybeInactive is false when no leaf can be inactive, so that
	// reactivate need not visit the leaves.
	maybeInactive bool
	votes         []float64 // scratch for naive Bayes
	memo          nbMemo
	ver           uint64 // last leaf version handed out
	sugg          []suggestion
	leafBuf       []*node[clfLeaf]
	featBuf       []int32 // scratch: the features present in a row
	last          lastWalk
}

// lastWalk is where PredictProba's walk ended, for LearnPredicted: valid
// while the tree's version is still ver (any learning changes it).
type lastWalk struct {
	n, parent *node[clfLeaf]
	pb        int
	ver       uint64
	ok        bool
}

// NewClassifier builds a HoeffdingTreeClassifier from River-named params
// (grace_period, max_depth, split_criterion, delta, tau, leaf_prediction,
// nb_threshold, n_splits, binary_split, min_branch_fraction,
// max_share_to_split, merit_preprune). Unknown params are an error.
func NewClassifier(params map[string]any) (*Classifier, error) {
	o, err := ClassifierOptions(params)
	if err != nil {
		return nil, err
	}
	return NewClassifierWith(o)
}

// NewClassifierWith builds a classifier from options (see Options for ARF
// members).
func NewClassifierWith(o Options) (*Classifier, error) {
	if err := o.validate(false); err != nil {
		return nil, err
	}
	c := &Classifier{o: o}
	c.init()
	return c, nil
}

func (c *Classifier) init() {
	c.crit = criterion{kind: c.o.SplitCriterion, minBranchFraction: c.o.MinBranchFraction, nSplits: c.o.NSplits}
	c.maxDepth = c.o.maxDepth()
}

// Options returns the tree's hyperparameters.
func (c *Classifier) Options() Options { return c.o }

// Params returns the hyperparameters under River's names.
func (c *Classifier) Params() map[string]any {
	return map[string]any{
		"grace_period": c.o.GracePeriod, "max_depth": c.o.MaxDepth, "split_criterion": c.o.SplitCriterion,
		"delta": c.o.Delta, "tau": c.o.Tau, "leaf_prediction": c.o.LeafPrediction,
		"nb_threshold": c.o.NBThreshold, "n_splits": c.o.NSplits, "binary_split": c.o.BinarySplit,
		"min_branch_fraction": c.o.MinBranchFraction, "max_share_to_split": c.o.MaxShareToSplit,
		"merit_preprune": c.o.MeritPreprune,
	}
}

// Summary counts the tree's nodes.
func (c *Classifier) Summary() (nodes, leafCount, depth int) { return summary(c.root) }

func summary[L any](n *node[L]) (nodes, leafCount, depth int) {
	if n == nil {
		return 0, 0, 0
	}
	if n.Leaf != nil {
		return 1, 1, 0
	}
	nodes = 1
	for _, ch := range n.Children {
		a, b, d := summary(ch)
		nodes += a
		leafCount += b
		depth = max(depth, d+1)
	}
	return nodes, leafCount, depth
}

// PredictProba writes P(class) for every class id seen (at least
// Options.MinClasses) and
// returns dst[:0] before the first sample.
func (c *Classifier) PredictProba(x *learn.Row, dst []float64) []float64 {
	if c.root == nil {
		return dst[:0]
	}
	n, parent, pb := walk(c.root, x, false, clfWeight)
	if n.Leaf != nil {
		c.last = lastWalk{n: n, parent: parent, pb: pb, ver: c.ver, ok: true}
	} else {
		// x cannot be routed at n: predict from the most common path,
		// which learning does not take.
		c.last = lastWalk{}
		n, _, _ = walk(n, x, true, clfWeight)
	}
	k := max(c.nClasses, c.o.MinClasses)
	dst = slices.Grow(dst[:0], k)[:k]
	clear(dst)
	c.leafPredict(n.Leaf, x, dst)
	return dst
}

// leafPredict writes the leaf's class probabilities into dst (zeros); false
// when naive Bayes returns River's empty dict.
func (c *Classifier) leafPredict(l *clfLeaf, x *learn.Row, dst []float64) bool {
	useNB := false
	switch c.o.LeafPrediction {
	case "nb":
		useNB = l.Active && l.Stats.sum() >= c.o.NBThreshold
	case "nba":
		useNB = l.Active && l.NBCorrect >= l.MCCorrect
	}
	if useNB {
		if !c.naiveBayes(l, x, true) {
			return false
		}
		for i, cl := range l.Stats.Cls {
			dst[cl] = c.votes[i]
		}
		return true
	}
	mcProba(&l.Stats, dst)
	return true
}

// mcProba is normalize_values_in_dict(stats): the raw weights when they sum
// to zero.
func mcProba(d *dist, dst []float64) {
	tot := d.sum()
	for i, cl := range d.Cls {
		if tot == 0 {
			dst[cl] = d.W[i]
		} else {
			dst[cl] = d.W[i] / tot
		}
	}
}

// nbMemo remembers the last naive Bayes answer: progressive validation
// predicts a row and then learns it, and the leaf scores it again before
// learning (nba bookkeeping), with the same statistics.
type nbMemo struct {
	leaf  *clfLeaf
	ver   uint64
	x     []float64
	c     []string
	ok    bool
	votes []float64
}

func (m *nbMemo) same(l *clfLeaf, x *learn.Row) bool {
	if m.leaf != l || m.ver != l.ver || len(m.x) != len(x.X) || len(m.c) != len(x.C) {
		return false
	}
	for i, v := range x.X {
		if math.Float64bits(v) != math.Float64bits(m.x[i]) {
			return false
		}
	}
	for i, v := range x.C {
		if v != m.c[i] {
			return false
		}
	}
	return true
}

// touch gives a leaf a new version after its statistics changed.
func (c *Classifier) touch(l *clfLeaf) {
	c.ver++
	l.ver = c.ver
}

// naiveBayes fills c.votes (in the leaf's class order) with River's
// do_naive_bayes_prediction; false when it returns {}. remember keeps the
// answer for the next call (pointless when the leaf learns right after).
func (c *Classifier) naiveBayes(l *clfLeaf, x *learn.Row, remember bool) bool {
	m := &c.memo
	if m.same(l, x) {
		c.votes = append(c.votes[:0], m.votes...)
		return m.ok
	}
	ok := c.computeNB(l, x)
	if !remember {
		return ok
	}
	m.leaf, m.ver, m.ok = l, l.ver, ok
	m.x = append(m.x[:0], x.X...)
	m.c = append(m.c[:0], x.C...)
	m.votes = append(m.votes[:0], c.votes...)
	return ok
}

func (c *Classifier) computeNB(l *clfLeaf, x *learn.Row) bool {
	if !c.logVotes(l, x) {
		return false
	}
	c.normalizeVotes()
	return true
}

// logVotes fills c.votes with each class's naive Bayes log-likelihood;
// false when River's prediction is {}.
func (c *Classifier) logVotes(l *clfLeaf, x *learn.Row) bool {
	tot := l.Stats.sum()
	if len(l.Stats.Cls) == 0 || tot == 0 {
		return false
	}
	c.votes = slices.Grow(c.votes[:0], len(l.Stats.Cls))[:len(l.Stats.Cls)]
	for i, cl := range l.Stats.Cls {
		w := l.Stats.W[i]
		if w <= 0 {
			c.votes[i] = 0
			continue
		}
		// River's Σ log p over the features, with a Gaussian's log p
		// worked out as a log: no exp and log per feature.
		v := libm.Log(w / tot)
		for j, f := range l.Feats {
			fi := int(f)
			if !present(x, fi) {
				continue
			}
			s := &l.Spl[j]
			if s.Nominal {
				if p := s.condProbaCat(catOf(x, fi), int(cl)); p > 0 {
					v += libm.Log(p)
				}
			} else if lp, ok := s.logCondProbaNum(x.X[fi], int(cl)); ok {
				v += lp
			}
		}
		c.votes[i] = v
	}
	return true
}

// normalizeVotes turns the log-likelihoods in c.votes into probabilities
// (River's log-sum-exp).
func (c *Classifier) normalizeVotes() {
	m := math.Inf(-1)
	for _, v := range c.votes {
		if v > m {
			m = v
		}
	}
	s := 0.0
	for _, v := range c.votes {
		s += libm.Exp(v - m)
	}
	lse := m + libm.Log(s)
	for i, v := range c.votes {
		c.votes[i] = libm.Exp(v - lse)
	}
}

// Learn learns one sample of class y with weight 1.
func (c *Classifier) Learn(x *learn.Row, y int) { c.LearnWeighted(x, y, 1) }

// LearnWeighted learns one sample of class y with weight w (ARF's Poisson
// weights).
func (c *Classifier) LearnWeighted(x *learn.Row, y int, w float64) {
	if y >= c.nClasses {
		c.nClasses = y + 1
	}
	if c.root == nil {
		c.root = newLeafNode(dist{}, 0)
	}
	n, parent, pb := walk(c.root, x, false, clfWeight)
	c.learnAt(n, parent, pb, x, y, w)
}

// LearnPredicted is LearnWeighted for a row holding the same values as
// the one PredictProba saw last: it starts from the leaf that walk found
// when the tree has not changed since (an ARF member predicts a row, then
// learns it).
func (c *Classifier) LearnPredicted(x *learn.Row, y int, w float64) {
	last := c.last
	c.last = lastWalk{}
	if !last.ok || last.ver != c.ver || c.root == nil {
		c.LearnWeighted(x, y, w)
		return
	}
	if y >= c.nClasses {
		c.nClasses = y + 1
	}
	c.learnAt(last.n, last.parent, last.pb, x, y, w)
}

// learnAt learns x at n, where walk from the root stopped (parent and pb
// as walk returns them).
func (c *Classifier) learnAt(n, parent *node[clfLeaf], pb int, x *learn.Row, y int, w float64) {
	if n.Leaf != nil {
		l := n.Leaf
		c.leafLearn(l, x, y, w)
		if l.Active {
			if float64(l.Depth) >= c.maxDepth {
				l.deactivate()
				c.maybeInactive = true
				c.touch(l)
			} else if seen := l.Stats.sum(); seen-l.LastSplit >= float64(c.o.GracePeriod) {
				c.attemptSplit(n, parent, pb)
				l.LastSplit = seen
			}
		}
		return
	}
	// x cannot be routed at branch n: a new category of a multiway split
	// gets its own leaf; a missing feature follows the most common path.
	for n.Leaf == nil {
		if n.Kind == nominalMultiway && present(x, n.Feature) {
			leaf := newLeafNode(dist{}, n.Depth+1)
			n.Cats = append(n.Cats, catOf(x, n.Feature))
			n.Children = append(n.Children, leaf)
			n = leaf
			break
		}
		n = n.Children[n.mostCommon(clfWeight)]
		if n.Leaf == nil {
			n, _, _ = walk(n, x, false, clfWeight)
		}
	}
	c.leafLearn(n.Leaf, x, y, w)
}

// leafLearn is the leaf's learn_one: nba bookkeeping, class counts, then
// the splitters.
func (c *Classifier) leafLearn(l *clfLeaf, x *learn.Row, y int, w float64) {
	if c.o.LeafPrediction == "nba" && l.Active {
		if len(l.Stats.Cls) == 0 || l.Stats.argmaxNorm() == y {
			l.MCCorrect += w
		}
		if i, ok := c.nbVote(l, x); ok && l.Stats.Cls[i] == int32(y) {
			l.NBCorrect += w
		}
	}
	l.Stats.add(y, w)
	if l.Active {
		c.updateSplitters(l, x, y, w)
	}
	c.touch(l)
}

// nbVote is argmaxFirst of naiveBayes's votes (an index in the leaf's
// class order); false when naive Bayes returns {}. Learning needs only
// the winner: when one log-likelihood clearly beats the others, its
// probability is the first largest, and the softmax is skipped.
func (c *Classifier) nbVote(l *clfLeaf, x *learn.Row) (int, bool) {
	if c.memo.same(l, x) {
		return argmaxFirst(c.memo.votes), c.memo.ok
	}
	if !c.logVotes(l, x) {
		return 0, false
	}
	if i, ok := clearWinner(c.votes); ok {
		return i, true
	}
	c.normalizeVotes()
	return argmaxFirst(c.votes), true
}

// clearWinner is the index of the largest of v when it exceeds every other
// by far more than the rounding of v[i]-lse and exp can close (so it also
// has the strictly largest probability); false when any two are too close
// to tell, or v holds a NaN.
func clearWinner(v []float64) (int, bool) {
	best, scale := 0, 2.0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
		scale = max(scale, 2+math.Abs(x))
	}
	margin := 1e-9 * scale
	for i, x := range v {
		if i != best && !(v[best]-x > margin) {
			return 0, false
		}
	}
	return best, len(v) > 0
}

func argmaxFirst(v []float64) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

func (c *Classifier) updateSplitters(l *clfLeaf, x *learn.Row, y int, w float64) {
	if c.o.MaxFeatures > 0 {
		if l.Sub == nil {
			l.Sub = c.o.subset(x, &c.featBuf)
		}
		for _, f := range l.Sub {
			if present(x, int(f)) {
				c.updateSplitter(l, x, int(f), y, w)
			}
		}
		return
	}
	for f := range x.X {
		if present(x, f) {
			c.updateSplitter(l, x, f, y, w)
		}
	}
}

func (c *Classifier) updateSplitter(l *clfLeaf, x *learn.Row, f, y int, w float64) {
	if l.Spl == nil && l.Slot == nil {
		c.initSplitters(l, x, f)
	}
	if len(l.Slot) <= f {
		// Size the index for the whole row at once.
		n := max(f+1, len(x.X))
		slot := make([]int32, n)
		copy(slot, l.Slot)
		for j := len(l.Slot); j < n; j++ {
			slot[j] = -1
		}
		l.Slot = slot
	}
	i := l.Slot[f]
	isNum := !math.IsNaN(x.X[f])
	if i < 0 {
		i = int32(len(l.Spl))
		l.Slot[f] = i
		l.Feats = append(l.Feats, int32(f))
		sp := splitter{Nominal: !isNum}
		if isNum && len(l.numPool) >= 2 {
			sp.Num, l.numPool = l.numPool[:0:2], l.numPool[2:]
		}
		l.Spl = append(l.Spl, sp)
	}
	s := &l.Spl[i]
	if s.Nominal {
		s.updateCat(catOf(x, f), y, w)
	} else if isNum {
		s.updateNum(x.X[f], y, w)
	}
}

// initSplitters sizes a leaf's splitter index for the first feature f it
// watches in row x: the index and the feature list share one allocation,
// and the numeric splitters' first two classes one more (a forest makes
// new leaves all the time).
func (c *Classifier) initSplitters(l *clfLeaf, x *learn.Row, f int) {
	k := len(x.X)
	if c.o.MaxFeatures > 0 && len(l.Sub) > 0 {
		k = len(l.Sub)
	}
	n := max(f+1, len(x.X))
	buf := make([]int32, n+k)
	l.Slot, l.Feats = buf[:n:n], buf[n:n:n+k]
	for j := range l.Slot {
		l.Slot[j] = -1
	}
	l.Spl = make([]splitter, 0, k)
	l.numPool = make([]numClass, 2*k)
}

// attemptSplit is River's _attempt_to_split.
func (c *Classifier) attemptSplit(n, parent *node[clfLeaf], pb int) {
	l := n.Leaf
	best, split := c.decide(l)
	if !split {
		return
	}
	// River then runs its memory manager (_enforce_size_limit). Below the
	// memory limit it deactivates nothing but re-activates every inactive
	// leaf above max_depth, with fresh splitters: a pre-pruned leaf only
	// stays inactive until the next split decision anywhere in the tree.
	defer c.reactivate()
	if best.feature < 0 {
		l.deactivate() // pre-pruning: the null split wins
		c.maybeInactive = true
		c.touch(l)
		return
	}
	br := newBranch[clfLeaf](best, l)
	for _, st := range best.kids() {
		br.Children = append(br.Children, newLeafNode(st, l.Depth+1))
	}
	if parent == nil {
		c.root = br
	} else {
		parent.Children[pb] = br
	}
}

// decide ranks the leaf's split candidates and applies the Hoeffding
// bound: it returns the best candidate and whether River acts on it (a
// split, or a pre-prune when the best is the null split).
func (c *Classifier) decide(l *clfLeaf) (suggestion, bool) {
	if l.Stats.pure() {
		return suggestion{}, false
	}
	sugg := c.suggestions(l)
	// Stable sort by merit: among equal merits the later feature wins.
	slices.SortStableFunc(sugg, func(a, b suggestion) int {
		switch {
		case a.merit < b.merit:
			return -1
		case a.merit > b.merit:
			return 1
		}
		return 0
	})
	split := false
	if len(sugg) < 2 {
		split = len(sugg) > 0
	} else {
		hb := hoeffdingBound(c.crit.rangeOfMerit(&l.Stats), c.o.Delta, l.Stats.sum())
		best, second := sugg[len(sugg)-1], sugg[len(sugg)-2]
		if best.merit-second.merit > hb || hb < c.o.Tau {
			split = true
		}
	}
	if !split {
		return suggestion{}, false
	}
	return sugg[len(sugg)-1], true
}

// newBranch makes the branch a split suggestion describes, without its
// children.
func newBranch[L any](best suggestion, l *clfLeaf) *node[L] {
	// The node and room for two children in one allocation: fewer
	// allocations, and walks find the children next to their branch.
	nb := &struct {
		ch [2]*node[L]
		n  node[L]
	}{}
	br := &nb.n
	*br = node[L]{Feature: best.feature, Threshold: best.threshold, Cat: best.cat,
		Cats: best.cats, Depth: l.Depth, Stats: l.Stats.clone(), Children: nb.ch[:0]}
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

// reactivate re-activates the inactive leaves above max_depth.
func (c *Classifier) reactivate() {
	if !c.maybeInactive {
		return
	}
	c.leafBuf = leaves(c.root, c.leafBuf[:0])
	c.maybeInactive = false
	for _, n := range c.leafBuf {
		if l := n.Leaf; !l.Active {
			if float64(l.Depth) < c.maxDepth {
				l.Active = true
			} else {
				c.maybeInactive = true
			}
		}
	}
}

// suggestions is the leaf's best_split_suggestions.
func (c *Classifier) suggestions(l *clfLeaf) []suggestion {
	s := c.sugg[:0]
	if m := l.Stats.maxW(); m != 0 && m/l.Stats.sum() > c.o.MaxShareToSplit {
		c.sugg = append(s, nullSuggestion())
		return c.sugg
	}
	if c.o.MeritPreprune {
		s = append(s, nullSuggestion())
	}
	crit := c.crit.withPre(&l.Stats)
	if c.post == nil {
		c.post = make([]dist, 2)
	}
	for i, f := range l.Feats {
		s = append(s, l.Spl[i].best(crit, &l.Stats, int(f), c.o.BinarySplit, c.post))
	}
	c.sugg = s
	return s
}

func hoeffdingBound(r, delta, n float64) float64 {
	return math.Sqrt(r * r * libm.Log(1.0/delta) / (2.0 * n))
}
