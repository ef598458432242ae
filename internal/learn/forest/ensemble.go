package forest

import (
	"fmt"

	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/drift"
	"github.com/olops/olops/internal/learn/pyrand"
	"github.com/olops/olops/internal/learn/tree"
)

// ensemble is what ARFClassifier and ARFRegressor hold besides their
// members: the forest's params, the options its trees are built with, the
// one generator they all draw from and the detection counts.
type ensemble struct {
	fp       forestParams
	treeOpts tree.Options // MaxFeatures and Rand are set when the forest starts
	rnd      *randomness

	nFeat  int // features of the first sample (0 until then)
	nDrift int
	nWarn  int
}

// seed starts the generator afresh from fp.Seed, keeping where the
// feature names come from.
func (e *ensemble) seed() {
	schema := func() *learn.Schema { return nil }
	if e.rnd != nil {
		schema = e.rnd.schema
	}
	e.rnd = newRandomness(e.fp.Seed)
	e.rnd.schema = schema
}

// UseSchema tells the forest where to find the feature names: River draws
// each leaf's features from sorted(x.keys()), so the names decide which
// features a draw picks.
func (e *ensemble) UseSchema(schema func() *learn.Schema) { e.rnd.schema = schema }

// prepare sets the member trees' options once the number of features is
// known (River's _init_ensemble on the first sample).
func (e *ensemble) prepare(x *learn.Row) {
	e.nFeat = countPresent(x)
	e.treeOpts.MaxFeatures = resolveMaxFeatures(e.fp.MaxFeatures, max(e.nFeat, 1))
	e.treeOpts.Rand = e.rnd.placeholder
	e.treeOpts.Sample = e.rnd.sample
}

// Drifts and Warnings count the members' drift and warning detections
// (River's n_drifts_detected and n_warnings_detected).
func (e *ensemble) Drifts() int   { return e.nDrift }
func (e *ensemble) Warnings() int { return e.nWarn }

// Patch changes hyperparameters at run time, as River's mutable
// attributes: lambda_value and disable_weighted_vote at once, the tree
// params (grace_period, delta, tau) for the trees built from then on;
// aggregation_method too for the regressor. Nothing changes on error.
func (e *ensemble) Patch(params map[string]any) error {
	fp, o, err := patch(e.fp, e.treeOpts, params)
	if err != nil {
		return err
	}
	e.fp, e.treeOpts = fp, o
	return nil
}

// restored is the ensemble a snapshot describes, its generator at the
// saved state; it keeps e's source of feature names.
func (e *ensemble) restored(p forestState, regression bool, rng pyrand.MT, nFeat, nDrift, nWarn int) (ensemble, error) {
	fp, o, err := loadParams(p, regression)
	if err != nil {
		return ensemble{}, err
	}
	g := ensemble{fp: fp, treeOpts: o, nFeat: nFeat, nDrift: nDrift, nWarn: nWarn}
	g.rnd = &randomness{}
	if e.rnd != nil {
		g.rnd.schema = e.rnd.schema
	}
	g.seed()
	g.rnd.py.MT = rng
	g.treeOpts.Rand = g.rnd.placeholder
	g.treeOpts.Sample = g.rnd.sample
	return g, nil
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

// memberTree is a forest member's tree type: *tree.Classifier or
// *tree.Regressor.
type memberTree interface {
	comparable
	MarshalBinary() ([]byte, error)
	UnmarshalBinary([]byte) error
}

// trees is what every member holds: its tree, the background tree grown
// since its last warning (none before) and its two detectors.
type trees[T memberTree] struct {
	tree       T
	background T
	warn       *drift.ADWIN
	drift      *drift.ADWIN
}

func newTrees[T memberTree](t T) trees[T] {
	return trees[T]{tree: t, warn: drift.NewADWIN(warningDelta), drift: drift.NewADWIN(driftDelta)}
}

// watch feeds the member's error to its detectors, as River's forests do:
// a warning starts a background tree; a drift swaps it in (or a new tree
// when there is none) and restarts the detectors.
func (m *trees[T]) watch(in float64, newTree func() T) (warned, drifted bool) {
	var none T
	if m.warn.Update(in) {
		m.background = newTree()
		m.warn = drift.NewADWIN(warningDelta)
		warned = true
	}
	if m.drift.Update(in) {
		if m.background != none {
			m.tree, m.background = m.background, none
			m.warn = drift.NewADWIN(warningDelta)
		} else {
			m.tree = newTree()
		}
		m.drift = drift.NewADWIN(driftDelta)
		drifted = true
	}
	return warned, drifted
}

// save encodes the trees and detectors into a member's snapshot fields
// (bg stays nil when there is no background tree).
func (m *trees[T]) save(tr, bg, warn, drift *[]byte) error {
	var none T
	var err error
	if *tr, err = m.tree.MarshalBinary(); err != nil {
		return err
	}
	if m.background != none {
		if *bg, err = m.background.MarshalBinary(); err != nil {
			return err
		}
	}
	if *warn, err = m.warn.MarshalBinary(); err != nil {
		return err
	}
	*drift, err = m.drift.MarshalBinary()
	return err
}

// restore reverses save for member i of the forest named model.
func (m *trees[T]) restore(model string, i int, newTree func() T, tr, bg, warn, drft []byte) error {
	m.tree = newTree()
	if err := m.tree.UnmarshalBinary(tr); err != nil {
		return fmt.Errorf("restore %s member %d: %w", model, i, err)
	}
	if bg != nil {
		m.background = newTree()
		if err := m.background.UnmarshalBinary(bg); err != nil {
			return fmt.Errorf("restore %s background %d: %w", model, i, err)
		}
	}
	m.warn, m.drift = drift.NewADWIN(warningDelta), drift.NewADWIN(driftDelta)
	if err := m.warn.UnmarshalBinary(warn); err != nil {
		return err
	}
	return m.drift.UnmarshalBinary(drft)
}
