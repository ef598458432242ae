package tree

import (
	"fmt"
	"sort"
	"strings"
)

// patchCommon applies River's mutable tree attributes (grace_period,
// delta, tau) to a copy of o; any other name is an error and nothing
// changes.
func patchCommon(model string, o Options, params map[string]any, extra ...string) (Options, error) {
	mutable := append([]string{"grace_period", "delta", "tau"}, extra...)
	var bad []string
	for k := range params {
		ok := false
		for _, m := range mutable {
			ok = ok || k == m
		}
		if !ok {
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return o, fmt.Errorf("%s: cannot change %s at run time (mutable: %s)", model, strings.Join(bad, ", "), strings.Join(mutable, ", "))
	}
	p := newParamSet(params)
	p.int("grace_period", &o.GracePeriod)
	p.float("delta", &o.Delta)
	p.float("tau", &o.Tau)
	return o, p.err
}

// Patch changes grace_period, delta or tau of a running tree (River's
// mutable attributes); it changes nothing on error.
func (c *Classifier) Patch(params map[string]any) error {
	o, err := patchCommon("hoeffding", c.o, params)
	if err != nil {
		return err
	}
	if err := o.validate(false); err != nil {
		return err
	}
	c.o = o
	c.init()
	return nil
}

// Patch changes grace_period, delta or tau of a running tree; it changes
// nothing on error.
func (r *Regressor) Patch(params map[string]any) error {
	o, err := patchCommon("hoeffding-regressor", r.o, params)
	if err != nil {
		return err
	}
	if err := o.validate(true); err != nil {
		return err
	}
	r.o = o
	r.maxDepth = o.maxDepth()
	return nil
}

// patchAdaptive reads a patch of an adaptive tree: the common params and
// its own mutable ones, drift_window_threshold and switch_significance.
func patchAdaptive(model string, o Options, h HATOptions, params map[string]any) (Options, HATOptions, error) {
	o, err := patchCommon(model, o, params, "drift_window_threshold", "switch_significance")
	if err != nil {
		return o, h, err
	}
	p := newParamSet(params)
	p.int("drift_window_threshold", &h.DriftWindowThreshold)
	p.float("switch_significance", &h.SwitchSignificance)
	return o, h, p.err
}

// Patch changes grace_period, delta, tau, drift_window_threshold or
// switch_significance (River's mutable attributes); nothing on error.
func (m *HAT) Patch(params map[string]any) error {
	o, h, err := patchAdaptive("hat", m.t.o, m.h, params)
	if err != nil {
		return err
	}
	if _, err := NewHATWith(o, h); err != nil {
		return err
	}
	m.t.o, m.h = o, h
	m.t.init()
	return nil
}

// Patch changes grace_period, delta, tau, drift_window_threshold or
// switch_significance; nothing on error.
func (m *HATR) Patch(params map[string]any) error {
	o, h, err := patchAdaptive("hat-regressor", m.t.o, m.h, params)
	if err != nil {
		return err
	}
	if err := o.validate(true); err != nil {
		return err
	}
	if h.DriftWindowThreshold < 0 || !(h.SwitchSignificance > 0 && h.SwitchSignificance < 1) {
		return fmt.Errorf("hat-regressor: drift_window_threshold must be >= 0 and switch_significance in (0, 1)")
	}
	m.t.o, m.h = o, h
	m.t.maxDepth = o.maxDepth()
	return nil
}
