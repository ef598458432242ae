// Package drift holds River 0.21.1's drift detectors: ADWIN, Page-Hinkley,
// DDM and KSWIN, with River's defaults and parameter names. Each watches a
// stream of numbers (usually a model's 0/1 error) and reports a drift on
// the update where it finds one; like River's, each starts afresh on the
// update that follows a drift.
package drift

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/param"
)

// DefaultSeed seeds KSWIN when no seed is given (River draws one from the
// OS; olops stays repeatable).
const DefaultSeed = 42

// Names lists the detectors New knows.
func Names() []string { return []string{"adwin", "page_hinkley", "ddm", "kswin"} }

var known = map[string][]string{
	"adwin":        {"delta", "clock", "max_buckets", "min_window_length", "grace_period"},
	"page_hinkley": {"min_instances", "delta", "threshold", "alpha", "mode"},
	"ddm":          {"warm_start", "warning_threshold", "drift_threshold"},
	"kswin":        {"alpha", "window_size", "stat_size", "seed"},
}

// New builds a detector by name with River's defaults, overridden by
// params (River's parameter names).
func New(name string, params map[string]any) (learn.Detector, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "pagehinkley" || name == "page-hinkley" || name == "ph" {
		name = "page_hinkley"
	}
	names, ok := known[name]
	if !ok {
		return nil, fmt.Errorf("unknown drift detector %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	if bad := param.Unknown(params, func(k string) bool { return slices.Contains(names, k) }); len(bad) > 0 {
		return nil, fmt.Errorf("%s has no parameter %q (known: %s)", name, bad[0], strings.Join(names, ", "))
	}
	p := paramReader{name: name, params: params}
	switch name {
	case "adwin":
		a := NewADWIN(p.float("delta", 0.002))
		a.Clock = p.int("clock", 32)
		a.MaxBuckets = p.int("max_buckets", 5)
		a.MinWindowLength = p.int("min_window_length", 5)
		a.GracePeriod = p.int("grace_period", 10)
		p.check(a.Delta > 0 && a.Delta < 1, "delta must be in (0, 1)")
		p.check(a.Clock > 0 && a.MaxBuckets > 0 && a.MinWindowLength > 0 && a.GracePeriod >= 0,
			"clock, max_buckets and min_window_length must be positive, grace_period not negative")
		a.rows = nil
		a.Reset()
		return a, p.err
	case "page_hinkley":
		ph := NewPageHinkley()
		ph.MinInstances = p.int("min_instances", 30)
		ph.Delta = p.float("delta", 0.005)
		ph.Threshold = p.float("threshold", 50)
		ph.Alpha = p.float("alpha", 1-0.0001)
		ph.Mode = p.str("mode", "both")
		p.check(slices.Contains([]string{"up", "down", "both"}, ph.Mode), "mode must be up, down or both")
		p.check(ph.Threshold > 0 && ph.Alpha > 0 && ph.Alpha <= 1, "threshold must be positive and alpha in (0, 1]")
		return ph, p.err
	case "ddm":
		d := NewDDM()
		d.WarmStart = p.int("warm_start", 30)
		d.WarningThreshold = p.float("warning_threshold", 2)
		d.DriftThreshold = p.float("drift_threshold", 3)
		p.check(d.WarmStart >= 0 && d.WarningThreshold > 0 && d.DriftThreshold > 0, "thresholds must be positive")
		return d, p.err
	default:
		k := NewKSWIN(int64(p.int("seed", DefaultSeed)))
		k.Alpha = p.float("alpha", 0.005)
		k.WindowSize = p.int("window_size", 100)
		k.StatSize = p.int("stat_size", 30)
		p.check(k.Alpha > 0 && k.Alpha < 1, "alpha must be in (0, 1)")
		p.check(k.StatSize > 0 && k.StatSize < k.WindowSize, "stat_size must be positive and smaller than window_size")
		return k, p.err
	}
}

// Params returns a detector's current parameters under River's names.
func Params(d learn.Detector) map[string]any {
	switch t := d.(type) {
	case *ADWIN:
		return map[string]any{"delta": t.Delta, "clock": t.Clock, "max_buckets": t.MaxBuckets,
			"min_window_length": t.MinWindowLength, "grace_period": t.GracePeriod}
	case *PageHinkley:
		return map[string]any{"min_instances": t.MinInstances, "delta": t.Delta, "threshold": t.Threshold,
			"alpha": t.Alpha, "mode": t.Mode}
	case *DDM:
		return map[string]any{"warm_start": t.WarmStart, "warning_threshold": t.WarningThreshold,
			"drift_threshold": t.DriftThreshold}
	case *KSWIN:
		return map[string]any{"alpha": t.Alpha, "window_size": t.WindowSize, "stat_size": t.StatSize, "seed": t.Seed}
	}
	return nil
}

// NameOf returns the registry name of a detector built by New.
func NameOf(d learn.Detector) string {
	switch d.(type) {
	case *ADWIN:
		return "adwin"
	case *PageHinkley:
		return "page_hinkley"
	case *DDM:
		return "ddm"
	case *KSWIN:
		return "kswin"
	}
	return ""
}

type paramReader struct {
	name   string
	params map[string]any
	err    error
}

func (p *paramReader) fail(key string, v any, want string) {
	if p.err == nil {
		p.err = fmt.Errorf("%s: parameter %q = %v: want %s", p.name, key, v, want)
	}
}

func (p *paramReader) check(ok bool, msg string) {
	if !ok && p.err == nil {
		p.err = fmt.Errorf("%s: %s", p.name, msg)
	}
}

func (p *paramReader) float(key string, def float64) float64 {
	v, ok := p.params[key]
	if !ok || v == nil {
		return def
	}
	f, ok := param.Float(v)
	if s, isStr := v.(string); isStr {
		x, err := strconv.ParseFloat(s, 64)
		f, ok = x, err == nil
	}
	if !ok {
		p.fail(key, v, "a number")
		return def
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		p.fail(key, v, "a finite number")
		return def
	}
	return f
}

func (p *paramReader) int(key string, def int) int {
	if _, ok := p.params[key]; !ok {
		return def
	}
	f := p.float(key, float64(def))
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		p.fail(key, p.params[key], "an integer")
		return def
	}
	return int(f)
}

func (p *paramReader) str(key, def string) string {
	v, ok := p.params[key]
	if !ok || v == nil {
		return def
	}
	s, ok := v.(string)
	if !ok {
		p.fail(key, v, "a string")
		return def
	}
	return strings.ToLower(s)
}
