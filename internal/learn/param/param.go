// Package param holds what the engine's constructors share when they read
// River-named hyperparameters out of a map[string]any (as decoded from
// olops.yaml or a JSON body). Each caller keeps its own error texts and
// its own extra spellings (numeric strings, booleans); this package only
// knows the value kinds every decoder may produce and which names are
// unknown.
package param

import "sort"

// Float returns v as a float64 when it is a Go number of the kinds YAML
// and JSON decoders produce (float64, float32, int, int64) or a
// json.Number (anything with a Float64 method) that parses.
func Float(v any) (float64, bool) {
	switch t := v.(type) {
	case float64:
		return t, true
	case float32:
		return float64(t), true
	case int:
		return float64(t), true
	case int64:
		return float64(t), true
	case interface{ Float64() (float64, error) }:
		f, err := t.Float64()
		return f, err == nil
	}
	return 0, false
}

// Unknown returns, sorted, the names in params that known rejects.
func Unknown(params map[string]any, known func(name string) bool) []string {
	var bad []string
	for k := range params {
		if !known(k) {
			bad = append(bad, k)
		}
	}
	sort.Strings(bad)
	return bad
}
