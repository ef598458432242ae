package tree

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/olops/olops/internal/learn"
)

// log2 must give math.Log2's bits for every input: split merits, hence
// splits, depend on them.
func TestLog2IsMathLog2(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	vals := []float64{0, math.Copysign(0, -1), 1, 2, 0.5, 0.25, 3, 1e-300, 1e300, 5e-324, 2.2250738585072014e-308,
		math.MaxFloat64, -1, math.Inf(1), math.Inf(-1), math.NaN()}
	for i := 0; i < 200000; i++ {
		vals = append(vals, r.Float64()*math.Pow(2, float64(r.IntN(200)-100)), float64(r.IntN(1000000)),
			math.Float64frombits(r.Uint64()))
	}
	for _, v := range vals {
		got, want := log2(v), math.Log2(v)
		if math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Fatalf("log2(%v) = %v, math.Log2 %v", v, got, want)
		}
	}
}

// bestInfoGain must rank a numeric splitter's candidates exactly as the
// general path (binarySplit, then criterion.merit) does.
func TestBestInfoGainMatchesGeneralPath(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 300; trial++ {
		var s splitter
		var pre dist
		nc := 1 + r.IntN(4)
		for i := 0; i < 5+r.IntN(200); i++ {
			c := r.IntN(nc)
			x := r.NormFloat64()*float64(1+c) + float64(c)
			if r.IntN(7) == 0 {
				x = float64(r.IntN(3)) // ties and single values
			}
			w := float64(1 + r.IntN(3))
			s.updateNum(x, c, w)
			pre.add(c, w)
		}
		if r.IntN(4) == 0 {
			pre.add(nc, 2.5) // inherited weight the splitters never saw
		}
		crit := criterion{kind: "info_gain", minBranchFraction: 0.01, nSplits: 10}.withPre(&pre)
		got := s.best(crit, &pre, 3, false, make([]dist, 2))
		want := s.bestGeneral(crit, &pre, 3)
		if math.Float64bits(got.merit) != math.Float64bits(want.merit) || got.threshold != want.threshold || got.feature != want.feature {
			t.Fatalf("trial %d: fast path merit %v at %v, general %v at %v", trial, got.merit, got.threshold, want.merit, want.threshold)
		}
	}
}

// bestGeneral is best's general loop for a numeric splitter.
func (s *splitter) bestGeneral(crit criterion, pre *dist, feature int) suggestion {
	best := nullSuggestion()
	if len(s.Num) == 0 {
		return best
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := range s.Num {
		lo, hi = min(lo, s.Num[i].Min), max(hi, s.Num[i].Max)
	}
	post := make([]dist, 2)
	binSize := (hi - lo) / (float64(crit.nSplits) + 1.0)
	for k := 0; k < crit.nSplits; k++ {
		split := lo + binSize*float64(k+1)
		if !(lo < split && split < hi) {
			continue
		}
		s.binarySplit(split, post)
		if m := crit.merit(pre, post); m > best.merit {
			best = suggestion{merit: m, feature: feature, numeric: true, threshold: split, spl: s}
		}
	}
	return best
}

// clearWinner may only answer when the softmax would pick the same class.
func TestClearWinnerAgreesWithSoftmax(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	c := &Classifier{}
	for i := 0; i < 100000; i++ {
		n := 1 + r.IntN(4)
		v := make([]float64, n)
		for j := range v {
			v[j] = -r.Float64() * math.Pow(10, float64(r.IntN(4)))
			if j > 0 && r.IntN(5) == 0 {
				v[j] = v[j-1] + float64(r.IntN(3)-1)*1e-12 // near ties
			}
		}
		best, ok := clearWinner(v)
		c.votes = append(c.votes[:0], v...)
		c.normalizeVotes()
		if ok && best != argmaxFirst(c.votes) {
			t.Fatalf("%v: clearWinner %d, softmax argmax %d (%v)", v, best, argmaxFirst(c.votes), c.votes)
		}
	}
	if _, ok := clearWinner([]float64{-1, math.NaN()}); ok {
		t.Error("clearWinner answered for a NaN vote")
	}
}

// LearnPredicted after PredictProba must leave the tree exactly as
// LearnWeighted does.
func TestLearnPredictedIsLearnWeighted(t *testing.T) {
	d := loadCSV(t, "elec2.csv.gz", "class")
	ids := classIDs(d.Labels, learn.Binary, "UP")
	o := ClassifierDefaults()
	o.MinClasses, o.GracePeriod = 2, 20
	a, _ := NewClassifierWith(o)
	b, _ := NewClassifierWith(o)
	var pa, pb []float64
	for i := range d.Rows[:5000] {
		x := &d.Rows[i]
		pa = a.PredictProba(x, pa[:0])
		pb = b.PredictProba(x, pb[:0])
		for k := range pa {
			if math.Float64bits(pa[k]) != math.Float64bits(pb[k]) {
				t.Fatalf("row %d: probabilities %v and %v", i, pa, pb)
			}
		}
		w := float64(1 + i%3)
		a.LearnWeighted(x, ids[i], w)
		b.LearnPredicted(x, ids[i], w)
	}
	if na, _, _ := a.Summary(); na < 3 {
		t.Fatalf("the tree never split (%d nodes)", na)
	}
	sa, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	sb, err := b.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if string(sa) != string(sb) {
		t.Error("the trees' snapshots differ")
	}
}
