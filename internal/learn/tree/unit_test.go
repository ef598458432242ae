package tree

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/olops/olops/internal/learn"
)

func approx(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// River's docstring: Gaussian().update(6).update(7) is N(6.5, 0.707),
// pdf(6.5) = 0.564189.
func TestGaussByHand(t *testing.T) {
	var g Gauss
	if _, norm, _ := g.densityParams(); norm != 0 || g.CDF(1) != 0 {
		t.Fatalf("an empty Gaussian has normaliser %v and cdf %v, want 0 and 0 (River's ZeroDivisionError branch)", norm, g.CDF(1))
	}
	g.Update(6, 1)
	g.Update(7, 1)
	if g.N != 2 || g.Mean != 6.5 || g.Var() != 0.5 {
		t.Fatalf("n %v mean %v var %v, want 2 6.5 0.5", g.N, g.Mean, g.Var())
	}
	// pdf(6.5), at the mean, is 1/norm.
	if neg2v, norm, lnNorm := g.densityParams(); neg2v != -1 || !approx(1/norm, 0.5641895835477563, 1e-15) || !approx(lnNorm, math.Log(norm), 1e-15) {
		t.Errorf("densityParams = %v, %v, %v, want -1 and a pdf(6.5) of 0.5641895835477563", neg2v, norm, lnNorm)
	}
	if g.CDF(6.5) != 0.5 || !approx(g.CDF(7), 0.7602499389065233, 1e-15) {
		t.Errorf("cdf(6.5), cdf(7) = %v, %v, want 0.5, 0.76025", g.CDF(6.5), g.CDF(7))
	}
	// weights: one sample of weight 2 is two samples
	var h Gauss
	h.Update(6, 1)
	h.Update(7, 2)
	if h.N != 3 || !approx(h.Mean, 20.0/3, 1e-15) || !approx(h.Var(), (2.0/3*2.0/3+2*(1.0/3)*(1.0/3))/2, 1e-15) {
		t.Errorf("weighted: n %v mean %v var %v", h.N, h.Mean, h.Var())
	}
}

func TestVarMergeMatchesUpdates(t *testing.T) {
	var a, b, all Gauss
	for i, x := range []float64{3, 1, 4, 1, 5, 9, 2, 6} {
		all.Update(x, 1)
		if i < 3 {
			a.Update(x, 1)
		} else {
			b.Update(x, 1)
		}
	}
	m := a
	m.addVar(&b)
	if !approx(m.Mean, all.Mean, 1e-12) || !approx(m.Var(), all.Var(), 1e-12) || m.N != all.N {
		t.Errorf("a+b = %+v, all = %+v", m, all)
	}
	m.subVar(&b)
	if !approx(m.Mean, a.Mean, 1e-12) || !approx(m.Var(), a.Var(), 1e-12) || m.N != a.N {
		t.Errorf("(a+b)-b = %+v, a = %+v", m, a)
	}
}

func d(pairs ...float64) dist {
	var out dist
	for i := 0; i < len(pairs); i += 2 {
		out.add(int(pairs[i]), pairs[i+1])
	}
	return out
}

func TestCriteriaByHand(t *testing.T) {
	ig := criterion{kind: "info_gain", minBranchFraction: 0.01}
	pre := d(0, 4, 1, 4)
	if e := entropy(&pre); e != 1 {
		t.Errorf("entropy of 4/4 = %v, want 1 bit", e)
	}
	if m := ig.merit(&pre, []dist{d(0, 4), d(1, 4)}); m != 1 {
		t.Errorf("info gain of a perfect split = %v, want 1", m)
	}
	if m := ig.merit(&pre, []dist{d(0, 2, 1, 2), d(0, 2, 1, 2)}); m != 0 {
		t.Errorf("info gain of a useless split = %v, want 0", m)
	}
	// one branch holds everything: fewer than two branches above 1%
	if m := ig.merit(&pre, []dist{d(0, 4, 1, 4), d(0, 0.01)}); !math.IsInf(m, -1) {
		t.Errorf("merit with an empty branch = %v, want -Inf", m)
	}
	if r := ig.rangeOfMerit(&pre); r != 1 {
		t.Errorf("range for 2 classes = %v, want 1", r)
	}
	three := d(0, 1, 1, 1, 2, 1)
	if r := ig.rangeOfMerit(&three); !approx(r, math.Log2(3), 1e-15) {
		t.Errorf("range for 3 classes = %v, want log2(3)", r)
	}
	g := criterion{kind: "gini", minBranchFraction: 0.01}
	if m := g.merit(&pre, []dist{d(0, 4), d(1, 4)}); m != 1 {
		t.Errorf("gini merit of a perfect split = %v, want 1", m)
	}
	if m := g.merit(&pre, []dist{d(0, 2, 1, 2), d(0, 2, 1, 2)}); m != 0.5 {
		t.Errorf("gini merit of a useless split = %v, want 0.5", m)
	}
	h := criterion{kind: "hellinger", minBranchFraction: 0.01}
	if m := h.merit(&pre, []dist{d(0, 4, 1, 0), d(0, 0, 1, 4)}); !approx(m, math.Sqrt2, 1e-15) {
		t.Errorf("hellinger of a perfect split = %v, want sqrt(2)", m)
	}
	if b := hoeffdingBound(1, 1e-7, 200); !approx(b, 0.20073674085078647, 1e-15) {
		t.Errorf("hoeffding bound = %v", b)
	}
}

// A two-feature stream where x0 separates the classes and x1 is noise:
// after grace_period samples the root splits on x0 at the first Gaussian
// split point, min + (max-min)/(n_splits+1), which already separates them.
func TestSplitDecisionByHand(t *testing.T) {
	o := ClassifierDefaults()
	o.GracePeriod = 20
	o.MinClasses = 2
	c, err := NewClassifierWith(o)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20; i++ {
		y := i % 2
		x := learn.Row{X: []float64{float64(y)*10 + float64(i/2)/10, r.Float64()}}
		c.Learn(&x, y)
		if i < 19 && c.root.Leaf == nil {
			t.Fatalf("split after %d samples, before the grace period", i+1)
		}
	}
	root := c.root
	if root.Leaf != nil {
		t.Fatal("no split after the grace period")
	}
	if root.Kind != numericBinary || root.Feature != 0 || !approx(root.Threshold, 10.9/11, 1e-12) {
		t.Fatalf("split on feature %d at %v (kind %d), want feature 0 at %v", root.Feature, root.Threshold, root.Kind, 10.9/11)
	}
	for y, x0 := range []float64{0.5, 10.5} {
		p := c.PredictProba(&learn.Row{X: []float64{x0, 0.5}}, nil)
		if len(p) != 2 || p[y] != 1 {
			t.Errorf("P(class | x0=%v) = %v, want class %d certain", x0, p, y)
		}
	}
	// a missing split feature follows the heavier (here: left, on a tie) branch
	if p := c.PredictProba(&learn.Row{X: []float64{math.NaN(), 0.5}}, nil); p[0] != 1 {
		t.Errorf("missing feature: %v, want the left leaf's answer", p)
	}
}

func TestNominalSplit(t *testing.T) {
	o := ClassifierDefaults()
	o.GracePeriod = 30
	c, _ := NewClassifierWith(o)
	colors := []string{"red", "green", "blue"}
	for i := 0; i < 30; i++ {
		x := learn.Row{X: []float64{math.NaN()}, C: []string{colors[i%3]}}
		c.Learn(&x, i%3)
	}
	if c.root.Leaf != nil || c.root.Kind != nominalMultiway {
		t.Fatalf("want a multiway split on the color, got %+v", c.root)
	}
	if strings.Join(c.root.Cats, ",") != "blue,green,red" {
		t.Errorf("branches %v, want sorted values", c.root.Cats)
	}
	p := c.PredictProba(&learn.Row{X: []float64{math.NaN()}, C: []string{"green"}}, nil)
	if len(p) != 3 || p[1] != 1 {
		t.Errorf("P(. | green) = %v, want class 1", p)
	}
	// a new value gets its own branch when learned
	c.Learn(&learn.Row{X: []float64{math.NaN()}, C: []string{"pink"}}, 0)
	if len(c.root.Children) != 4 || c.root.Cats[3] != "pink" {
		t.Errorf("branches %v after a new value", c.root.Cats)
	}
}

func TestPyRound(t *testing.T) {
	for _, c := range [][3]float64{{2.675, 2, 2.67}, {0.25, 1, 0.2}, {0.35, 1, 0.3}, {-1.45, 1, -1.4}, {1234.5678, 1, 1234.6}, {7, 1, 7}} {
		if got := pyRound(c[0], int(c[1])); got != c[2] {
			t.Errorf("round(%v, %v) = %v, Python %v", c[0], c[1], got, c[2])
		}
	}
}

func TestParams(t *testing.T) {
	if _, err := NewClassifier(map[string]any{"grace_perod": 10}); err == nil || !strings.Contains(err.Error(), "grace_perod") {
		t.Errorf("unknown param: %v, want an error naming it", err)
	}
	if _, err := NewClassifier(map[string]any{"split_criterion": "entropy"}); err == nil || !strings.Contains(err.Error(), "entropy") {
		t.Errorf("bad criterion: %v", err)
	}
	if _, err := NewClassifier(map[string]any{"grace_period": 2.5}); err == nil {
		t.Error("grace_period 2.5 accepted")
	}
	c, err := NewClassifier(map[string]any{"grace_period": 50.0, "delta": 0.01, "leaf_prediction": "mc", "max_depth": nil})
	if err != nil || c.o.GracePeriod != 50 || c.o.Delta != 0.01 || c.o.LeafPrediction != "mc" || c.o.MaxDepth != 0 {
		t.Errorf("params not applied: %+v %v", c.o, err)
	}
	if err := c.Patch(map[string]any{"tau": 0.1, "split_criterion": "gini"}); err == nil || c.o.Tau != 0.05 {
		t.Errorf("patch of an immutable param: %v (tau now %v, want unchanged)", err, c.o.Tau)
	}
	if err := c.Patch(map[string]any{"tau": 0.1}); err != nil || c.o.Tau != 0.1 {
		t.Errorf("patch tau: %v, tau %v", err, c.o.Tau)
	}
	if _, err := NewRegressor(map[string]any{"leaf_prediction": "nba"}); err == nil {
		t.Error("regressor accepted leaf_prediction nba")
	}
	if _, err := NewHAT(map[string]any{"seed": 1, "bogus": true}); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("hat unknown param: %v", err)
	}
	if _, err := NewClassifierWith(Options{GracePeriod: 10, Delta: 0.1, SplitCriterion: "gini", LeafPrediction: "nba", NSplits: 10, MaxShareToSplit: 1, MaxFeatures: 2}); err == nil {
		t.Error("max_features without a random source accepted")
	}
}

// An ARF member (random feature subsets) only ever splits on features of
// its leaves' subsets and keeps working.
func TestMaxFeatures(t *testing.T) {
	o := ClassifierDefaults()
	o.GracePeriod, o.Delta, o.MaxFeatures = 50, 0.01, 1
	o.Rand = rand.New(rand.NewPCG(3, 4))
	c, err := NewClassifierWith(o)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 2000; i++ {
		x := learn.Row{X: []float64{r.Float64(), r.Float64(), r.Float64()}}
		y := 0
		if x.X[0]+x.X[1] > 1 {
			y = 1
		}
		c.LearnWeighted(&x, y, float64(1+i%3))
	}
	for _, n := range leaves(c.root, nil) {
		if l := n.Leaf; l.Active && len(l.Spl) > 1 {
			t.Fatalf("a leaf watches %d features, max_features is 1", len(l.Spl))
		}
	}
	if nodes, _, _ := c.Summary(); nodes < 3 {
		t.Errorf("the member never split (%d nodes)", nodes)
	}
}
