package tree

import (
	"math"
	"sort"

	"github.com/olops/olops/internal/learn/libm"
)

// suggestion is River's BranchFactory: a candidate split. Feature -1 is the
// null split (merit -Inf unless set).
type suggestion struct {
	merit     float64
	feature   int
	numeric   bool
	multiway  bool
	threshold float64  // numeric: x <= threshold goes to child 0
	cat       string   // nominal binary: x == cat goes to child 0
	cats      []string // nominal multiway: child i takes cats[i]
	children  []dist   // nil for a numeric split until kids() builds them
	spl       *splitter
}

// kids returns the class distributions of the suggestion's branches. A
// numeric suggestion computes them only when asked: a split attempt ranks
// many candidates but acts on at most one.
func (s *suggestion) kids() []dist {
	if s.children == nil && s.numeric && s.spl != nil {
		// Both sides' classes in one allocation per type.
		n := len(s.spl.Num)
		cls, ws := make([]int32, 2*n), make([]float64, 2*n)
		post := []dist{{Cls: cls[:0:n], W: ws[:0:n]}, {Cls: cls[n:n], W: ws[n:n]}}
		s.spl.binarySplit(s.threshold, post)
		s.children = post
	}
	return s.children
}

func nullSuggestion() suggestion { return suggestion{merit: math.Inf(-1), feature: -1} }

// splitter watches one feature in a classification leaf: River's
// GaussianSplitter for numbers (per class: a Gaussian, min and max), or
// NominalSplitterClassif for strings (per class: weight per value).
type splitter struct {
	Nominal bool

	// Gaussian splitter, per class in first-seen order.
	Num []numClass

	// Nominal splitter: Vals in first-seen order; per class (NCls order)
	// the value indices and weights in first-seen order.
	Vals  []string
	NCls  []int32
	NVal  [][]int32
	NW    [][]float64
	valIx map[string]int32
}

// numClass is one class's Gaussian, minimum and maximum in a numeric
// splitter (one slice of these, so a new class costs one allocation).
type numClass struct {
	Cls      int32
	G        Gauss
	Min, Max float64

	// G's densityParams, worked out on the first density after an update
	// (a leaf asks for each class's density per sample but updates one
	// class); fresh is false until then.
	neg2v, norm, lnNorm float64
	fresh               bool
}

func (s *splitter) classSlot(c int) int {
	for i := range s.Num {
		k := s.Num[i].Cls
		if int(k) == c {
			return i
		}
	}
	return -1
}

// updateNum adds a numeric value of class c.
func (s *splitter) updateNum(x float64, c int, w float64) {
	i := s.classSlot(c)
	if i < 0 {
		if s.Num == nil {
			s.Num = make([]numClass, 0, 2)
		}
		s.Num = append(s.Num, numClass{Cls: int32(c), Min: x, Max: x})
		i = len(s.Num) - 1
	} else {
		n := &s.Num[i]
		if x < n.Min {
			n.Min = x
		}
		if x > n.Max {
			n.Max = x
		}
	}
	s.Num[i].G.Update(x, w)
	s.Num[i].fresh = false
}

func (s *splitter) valIndex(v string) (int32, bool) {
	if s.valIx == nil {
		s.valIx = make(map[string]int32, len(s.Vals))
		for i, x := range s.Vals {
			s.valIx[x] = int32(i)
		}
	}
	i, ok := s.valIx[v]
	return i, ok
}

// updateCat adds a categorical value of class c.
func (s *splitter) updateCat(v string, c int, w float64) {
	vi, ok := s.valIndex(v)
	if !ok {
		vi = int32(len(s.Vals))
		s.Vals = append(s.Vals, v)
		s.valIx[v] = vi
	}
	ci := -1
	for i, k := range s.NCls {
		if int(k) == c {
			ci = i
			break
		}
	}
	if ci < 0 {
		s.NCls = append(s.NCls, int32(c))
		s.NVal = append(s.NVal, nil)
		s.NW = append(s.NW, nil)
		ci = len(s.NCls) - 1
	}
	for j, x := range s.NVal[ci] {
		if x == vi {
			s.NW[ci][j] += w
			return
		}
	}
	s.NVal[ci] = append(s.NVal[ci], vi)
	s.NW[ci] = append(s.NW[ci], w)
}

// logCondProbaNum is log P(x | c) under class c's Gaussian, worked out
// as (x-μ)²/(-2v) - ln sqrt(2πv): no exp and log. False where River's
// density is 0, which its naive Bayes leaves out: an unseen class, a
// zero variance, a density below the smallest double.
func (s *splitter) logCondProbaNum(x float64, c int) (float64, bool) {
	i := s.classSlot(c)
	if i < 0 {
		return 0, false
	}
	n := &s.Num[i]
	if !n.fresh {
		n.neg2v, n.norm, n.lnNorm = n.G.densityParams()
		n.fresh = true
	}
	if n.norm == 0 {
		return 0, false
	}
	d := x - n.G.Mean
	a := d * d / n.neg2v
	if lp := a - n.lnNorm; a >= -708 && lp >= -708 {
		return lp, true
	}
	// River's e^a or its density is subnormal or 0 here: the log of
	// River's own density (rare).
	p := libm.Exp(a) / n.norm
	return libm.Log(p), p > 0
}

// condProbaCat is the share of class c's weight with value v.
func (s *splitter) condProbaCat(v string, c int) float64 {
	for ci, k := range s.NCls {
		if int(k) != c {
			continue
		}
		vi, ok := s.valIndex(v)
		val, sum := 0.0, 0.0
		for j, x := range s.NVal[ci] {
			if ok && x == vi {
				val = s.NW[ci][j]
			}
			sum += s.NW[ci][j]
		}
		if sum == 0 {
			return 0
		}
		return val / sum
	}
	return 0
}

// best is River's best_evaluated_split_suggestion for this feature; post
// is scratch space for two distributions.
func (s *splitter) best(crit criterion, pre *dist, feature int, binaryOnly bool, post []dist) suggestion {
	if s.Nominal {
		return s.bestNominal(crit, pre, feature, binaryOnly)
	}
	best := nullSuggestion()
	if len(s.Num) == 0 {
		return best
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := range s.Num {
		if s.Num[i].Min < lo {
			lo = s.Num[i].Min
		}
		if s.Num[i].Max > hi {
			hi = s.Num[i].Max
		}
	}
	if !(lo < math.Inf(1)) {
		return best
	}
	binSize := (hi - lo) / (float64(crit.nSplits) + 1.0)
	if crit.kind == "info_gain" && crit.hasPre && len(s.Num) <= maxFastClasses {
		return s.bestInfoGain(crit, lo, binSize, hi, feature)
	}
	for k := 0; k < crit.nSplits; k++ {
		split := lo + binSize*float64(k+1)
		if !(lo < split && split < hi) {
			continue
		}
		s.binarySplit(split, post)
		m := crit.merit(pre, post)
		if m > best.merit {
			best = suggestion{merit: m, feature: feature, numeric: true, threshold: split, spl: s}
		}
	}
	return best
}

// maxFastClasses bounds the classes bestInfoGain keeps on the stack.
const maxFastClasses = 8

// bestInfoGain is best's loop for info_gain without building the
// candidates' distributions: the same float operations as binarySplit
// and criterion.merit (a class absent from a side counts as weight 0,
// which changes no sum and is skipped by entropy), in a fraction of the
// time; split attempts are most of a forest's work.
func (s *splitter) bestInfoGain(crit criterion, lo, binSize, hi float64, feature int) suggestion {
	best := nullSuggestion()
	var den [maxFastClasses]float64 // per class: sigma*sqrt(2), as Gauss.CDF
	for i := range s.Num {
		den[i] = math.Sqrt(s.Num[i].G.Var()) * math.Sqrt2
	}
	// A class wholly on one side weighs its n.G.N there: its log2 is
	// worked out once (NaN until needed), as are the logs of the rest.
	var logN [maxFastClasses]float64
	for i := range s.Num {
		logN[i] = math.NaN()
	}
	var lw, rw, ll, rl [maxFastClasses]float64
	for k := 0; k < crit.nSplits; k++ {
		split := lo + binSize*float64(k+1)
		if !(lo < split && split < hi) {
			continue
		}
		var ls, rs float64
		for i := range s.Num {
			n := &s.Num[i]
			switch {
			case split < n.Min:
				lw[i], rw[i] = 0, n.G.N
				ll[i], rl[i] = math.NaN(), s.wholeLog(logN[:], i)
			case split >= n.Max:
				lw[i], rw[i] = n.G.N, 0
				ll[i], rl[i] = s.wholeLog(logN[:], i), math.NaN()
			default:
				cdf := 0.0
				if den[i] != 0 {
					cdf = 0.5 * (1.0 + math.Erf((split-n.G.Mean)/den[i]))
				}
				lw[i] = cdf * n.G.N
				rw[i] = n.G.N - lw[i]
				ll[i], rl[i] = math.NaN(), math.NaN()
			}
			ls += lw[i]
			rs += rw[i]
		}
		// criterion.merit: subsetsGreaterThanFrac, then entropyList.
		total := ls + rs
		if !(total > 0 && ls/total > crit.minBranchFraction && rs/total > crit.minBranchFraction) {
			continue // merit -Inf never beats best
		}
		nc := len(s.Num)
		e := ls*entropyOf(lw[:nc], ll[:nc]) + rs*entropyOf(rw[:nc], rl[:nc])
		m := crit.preH - e/total
		if m > best.merit {
			best = suggestion{merit: m, feature: feature, numeric: true, threshold: split, spl: s}
		}
	}
	return best
}

// wholeLog is log2(s.Num[i].G.N), kept in logN.
func (s *splitter) wholeLog(logN []float64, i int) float64 {
	if math.IsNaN(logN[i]) {
		logN[i] = log2(s.Num[i].G.N)
	}
	return logN[i]
}

// entropyOf is entropy over bare weights; lg[i] is log2(ws[i]) when
// already known, else NaN. With one positive weight the sum is that
// weight, so its log is not taken twice.
func entropyOf(ws, lg []float64) float64 {
	e, sum := 0.0, 0.0
	n, last := 0, 0.0
	for i, w := range ws {
		if w > 0 {
			l := lg[i]
			if math.IsNaN(l) {
				l = log2(w)
			}
			e -= w * l
			sum += w
			n, last = n+1, l
		}
	}
	if sum > 0 {
		if n != 1 {
			last = log2(sum)
		}
		return (e + sum*last) / sum
	}
	return 0
}

// binarySplit fills post with the class weights estimated at or below
// split (post[0]) and above it (post[1]).
func (s *splitter) binarySplit(split float64, post []dist) {
	l, r := &post[0], &post[1]
	l.Cls, l.W, r.Cls, r.W = l.Cls[:0], l.W[:0], r.Cls[:0], r.W[:0]
	for i := range s.Num {
		n := &s.Num[i]
		c, g := n.Cls, &n.G
		switch {
		case split < n.Min:
			r.Cls, r.W = append(r.Cls, c), append(r.W, g.N)
		case split >= n.Max:
			l.Cls, l.W = append(l.Cls, c), append(l.W, g.N)
		default:
			lw := g.CDF(split) * g.N
			l.Cls, l.W = append(l.Cls, c), append(l.W, lw)
			r.Cls, r.W = append(r.Cls, c), append(r.W, g.N-lw)
		}
	}
}

func (s *splitter) bestNominal(crit criterion, pre *dist, feature int, binaryOnly bool) suggestion {
	best := nullSuggestion()
	if !binaryOnly {
		// One branch per value, values and classes sorted (River sorts both).
		order := make([]int, len(s.Vals))
		for i := range order {
			order[i] = i
		}
		sort.Slice(order, func(a, b int) bool { return s.Vals[order[a]] < s.Vals[order[b]] })
		pos := make([]int, len(s.Vals))
		for p, vi := range order {
			pos[vi] = p
		}
		post := make([]dist, len(s.Vals))
		cats := make([]string, len(s.Vals))
		for p, vi := range order {
			cats[p] = s.Vals[vi]
		}
		for ci, c := range s.NCls {
			for j, vi := range s.NVal[ci] {
				post[pos[vi]].add(int(c), s.NW[ci][j])
			}
		}
		for i := range post {
			sortDist(&post[i])
		}
		best = suggestion{merit: crit.merit(pre, post), feature: feature, multiway: true, cats: cats, children: post}
	}
	// Binary candidates in sorted value order (River iterates a set, whose
	// order for strings varies between runs).
	vals := append([]string(nil), s.Vals...)
	sort.Strings(vals)
	for _, v := range vals {
		vi, _ := s.valIndex(v)
		post := make([]dist, 2)
		for ci, c := range s.NCls {
			for j, x := range s.NVal[ci] {
				if x == vi {
					post[0].add(int(c), s.NW[ci][j])
				} else {
					post[1].add(int(c), s.NW[ci][j])
				}
			}
		}
		if m := crit.merit(pre, post); m > best.merit {
			best = suggestion{merit: m, feature: feature, cat: v, children: post}
		}
	}
	return best
}

func sortDist(d *dist) {
	idx := make([]int, len(d.Cls))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return d.Cls[idx[a]] < d.Cls[idx[b]] })
	c := make([]int32, len(idx))
	w := make([]float64, len(idx))
	for i, j := range idx {
		c[i], w[i] = d.Cls[j], d.W[j]
	}
	d.Cls, d.W = c, w
}
