package forest

import (
	"fmt"
	"math"
	"slices"

	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/pyrand"
	"github.com/olops/olops/internal/learn/snap"
	"github.com/olops/olops/internal/learn/tree"
)

// ARFRegressor is River's ARFRegressor: the median (default) or the mean,
// optionally weighted by each member's MSE, of its Hoeffding tree
// regressors. The weighted mean is River's too: the predictions times
// weights that sum to 1, then averaged (so divided by n_models again). Each member's drift detectors watch its error normalised by
// a running variance, (e + 3 sd) / (6 sd), as River does.
type ARFRegressor struct {
	ensemble

	members []regMember
	preds   []float64 // scratch
	weights []float64
}

type regMember struct {
	trees[*tree.Regressor]
	// MSE of the member's own predictions (River's metric).
	sqErr, seen float64
	// Welford variance of the raw error y - pred (River's _drift_norm).
	nN, nMean, nS float64
}

// NewARFRegressor builds an ARFRegressor from River-named params: the
// forest's (n_models, max_features, aggregation_method, lambda_value,
// disable_weighted_vote, seed) and its trees' (grace_period 50 and delta
// 0.01 by default, the other HoeffdingTreeRegressor params as River's).
func NewARFRegressor(params map[string]any) (*ARFRegressor, error) {
	fp, tp, err := splitParams(params, true)
	if err != nil {
		return nil, fmt.Errorf("arf-regressor: %w", err)
	}
	o, err := tree.RegressorOptions(memberParams(tp))
	if err != nil {
		return nil, fmt.Errorf("arf-regressor: %w (forest params: %s)", err, knownParams(true))
	}
	f := &ARFRegressor{ensemble: ensemble{fp: fp, treeOpts: o}}
	f.seed()
	return f, nil
}

// start builds the members on the first sample.
func (f *ARFRegressor) start(x *learn.Row) {
	f.prepare(x)
	f.members = make([]regMember, f.fp.NModels)
	for i := range f.members {
		f.members[i] = regMember{trees: newTrees(f.newTree())}
	}
}

func (f *ARFRegressor) newTree() *tree.Regressor {
	t, err := tree.NewRegressorWith(f.treeOpts)
	if err != nil {
		panic(fmt.Sprintf("arf-regressor: member tree: %v", err))
	}
	return t
}

func memberPredict(t *tree.Regressor, x *learn.Row) float64 {
	v, ok := t.Predict(x)
	if !ok {
		return 0
	}
	return v
}

// Predict is River's predict_one. Before the first sample River answers
// 0.0 (and scores it); so does this, with ok true once the forest has
// seen a sample and false before.
func (f *ARFRegressor) Predict(x *learn.Row) (float64, bool) {
	if f.members == nil {
		f.start(x)
		return 0, true
	}
	n := len(f.members)
	f.preds = slices.Grow(f.preds[:0], n)[:n]
	for i := range f.members {
		f.preds[i] = memberPredict(f.members[i].tree, x)
	}
	if !f.fp.DisableWeightedVote && f.fp.Aggregation != "median" {
		f.weights = slices.Grow(f.weights[:0], n)[:n]
		var sum float64
		for i := range f.members {
			f.weights[i] = f.members[i].mse()
			sum += f.weights[i]
		}
		if sum != 0 {
			// The larger a member's error, the smaller its weight.
			var tot float64
			for i := range f.weights {
				f.weights[i] = sum - f.weights[i]
				tot += f.weights[i]
			}
			for i := range f.preds {
				f.preds[i] *= f.weights[i] / tot
			}
		}
	}
	if f.fp.Aggregation == "mean" {
		var s float64
		for _, p := range f.preds {
			s += p
		}
		return s / float64(n), true
	}
	slices.Sort(f.preds)
	if n%2 == 1 {
		return f.preds[n/2], true
	}
	return (f.preds[n/2-1] + f.preds[n/2]) / 2, true
}

func (m *regMember) mse() float64 {
	if m.seen == 0 {
		return 0
	}
	return m.sqErr / m.seen
}

// normErr is River's _drift_detector_input for regression.
func (m *regMember) normErr(y, pred float64) float64 {
	e := y - pred
	old := m.nMean
	m.nN++
	m.nMean += (e - m.nMean) / m.nN
	m.nS += (e - old) * (e - m.nMean)
	if m.nN == 1 {
		return 0.5
	}
	sd := math.Sqrt(m.nS / (m.nN - 1))
	if sd > 0 {
		return (e + 3*sd) / (6 * sd)
	}
	return 0.5
}

// Learn is River's learn_one.
func (f *ARFRegressor) Learn(x *learn.Row, y float64) {
	if f.members == nil {
		f.start(x)
	}
	for i := range f.members {
		m := &f.members[i]
		pred := memberPredict(m.tree, x)
		m.seen++
		m.sqErr += (y - pred) * (y - pred)
		k := f.rnd.py.Poisson(f.fp.LambdaValue)
		if k == 0 {
			continue
		}
		w := float64(k)
		if m.background != nil {
			m.background.LearnWeighted(x, y, w)
		}
		m.tree.LearnWeighted(x, y, w)
		in := m.normErr(y, pred)
		warned, drifted := m.watch(in, f.newTree)
		if warned {
			f.nWarn++
		}
		if drifted {
			m.sqErr, m.seen = 0, 0
			f.nDrift++
		}
	}
}

// Params returns the forest's hyperparameters under River's names.
func (f *ARFRegressor) Params() map[string]any { return forestParamsMap(f.fp, f.treeOpts, true) }

type regMemberState struct {
	Tree, Background    []byte
	Warn, Drift         []byte
	SqErr, Seen         float64
	NormN, NormM, NormS float64
}

type regState struct {
	Params               forestState
	NFeat, NDrift, NWarn int
	RNG                  pyrand.MT
	Members              []regMemberState
}

// MarshalBinary saves the forest's full state, its generator included.
func (f *ARFRegressor) MarshalBinary() ([]byte, error) {
	s := regState{Params: saveParams(f.fp, f.treeOpts), NFeat: f.nFeat, NDrift: f.nDrift, NWarn: f.nWarn}
	s.RNG = f.rnd.py.MT
	for i := range f.members {
		m := &f.members[i]
		ms := regMemberState{SqErr: m.sqErr, Seen: m.seen, NormN: m.nN, NormM: m.nMean, NormS: m.nS}
		if err := m.save(&ms.Tree, &ms.Background, &ms.Warn, &ms.Drift); err != nil {
			return nil, err
		}
		s.Members = append(s.Members, ms)
	}
	return snap.Encode(s)
}

// UnmarshalBinary restores a forest saved by MarshalBinary.
func (f *ARFRegressor) UnmarshalBinary(b []byte) error {
	var s regState
	if err := snap.Decode(b, &s, "arf-regressor"); err != nil {
		return err
	}
	e, err := f.restored(s.Params, true, s.RNG, s.NFeat, s.NDrift, s.NWarn)
	if err != nil {
		return err
	}
	g := &ARFRegressor{ensemble: e}
	if len(s.Members) > 0 {
		g.members = make([]regMember, len(s.Members))
	}
	for i, ms := range s.Members {
		m := &g.members[i]
		if err := m.restore("arf-regressor", i, g.newTree, ms.Tree, ms.Background, ms.Warn, ms.Drift); err != nil {
			return err
		}
		m.sqErr, m.seen = ms.SqErr, ms.Seen
		m.nN, m.nMean, m.nS = ms.NormN, ms.NormM, ms.NormS
	}
	*f = *g
	return nil
}

var _ learn.Regressor = (*ARFRegressor)(nil)
var _ learn.State = (*ARFRegressor)(nil)
