package linear

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/olops/olops/internal/learn/param"
)

// Number reads a hyperparameter value given as a number (float64, int,
// json.Number, or a numeric string, as YAML and JSON decoders produce).
func Number(name string, v any) (float64, error) {
	if f, ok := param.Float(v); ok {
		return f, nil
	}
	switch t := v.(type) {
	case uint64:
		return float64(t), nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
		if err == nil {
			return f, nil
		}
	case bool:
		if t {
			return 1, nil
		}
		return 0, nil
	}
	return 0, fmt.Errorf("parameter %q: %v is not a number", name, v)
}

// checkKnown refuses parameter names outside known.
func checkKnown(model string, params map[string]any, known []string) error {
	bad := param.Unknown(params, func(k string) bool { return slices.Contains(known, k) })
	if len(bad) > 0 {
		return fmt.Errorf("%s has no parameter %s (known: %s)", model, strings.Join(quote(bad), ", "), strings.Join(known, ", "))
	}
	return nil
}

func quote(s []string) []string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = strconv.Quote(v)
	}
	return q
}

// numParam sets *dst from params[name] when present.
func numParam(params map[string]any, name string, dst *float64) error {
	v, ok := params[name]
	if !ok {
		return nil
	}
	f, err := Number(name, v)
	if err != nil {
		return err
	}
	*dst = f
	return nil
}
