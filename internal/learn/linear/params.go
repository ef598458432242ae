package linear

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Number reads a hyperparameter value given as a number (float64, int,
// json.Number, or a numeric string, as YAML and JSON decoders produce).
func Number(name string, v any) (float64, error) {
	switch t := v.(type) {
	case float64:
		return t, nil
	case float32:
		return float64(t), nil
	case int:
		return float64(t), nil
	case int64:
		return float64(t), nil
	case uint64:
		return float64(t), nil
	case json.Number:
		f, err := t.Float64()
		if err == nil {
			return f, nil
		}
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
	var bad []string
	for k := range params {
		found := false
		for _, n := range known {
			if k == n {
				found = true
				break
			}
		}
		if !found {
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
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

func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func decode(b []byte, v any) error {
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(v); err != nil {
		return fmt.Errorf("decode linear model state: %w", err)
	}
	return nil
}
