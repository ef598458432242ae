package forest

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/olops/olops/internal/learn/param"
)

// DefaultSeed is the seed of a forest built without one (the reference
// scores use ARFClassifier(seed=42) and ARFRegressor(seed=42)).
const DefaultSeed = 42

// forestParams are the ensemble's own hyperparameters, named as River's.
type forestParams struct {
	NModels             int
	MaxFeatures         any // "sqrt", "log2", an int, a float share, or nil (all)
	LambdaValue         float64
	DisableWeightedVote bool
	Aggregation         string // regressor: median or mean
	Seed                int64
}

// splitParams separates the forest's params from the member trees'.
func splitParams(params map[string]any, regression bool) (forestParams, map[string]any, error) {
	fp := forestParams{NModels: 10, MaxFeatures: "sqrt", LambdaValue: 6, Seed: DefaultSeed}
	if regression {
		fp.DisableWeightedVote, fp.Aggregation = true, "median"
	}
	tp := map[string]any{}
	var keys []string
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := params[k]
		var err error
		switch k {
		case "n_models":
			fp.NModels, err = toInt(k, v)
			if err == nil && (fp.NModels < 1 || fp.NModels > 1000) {
				err = fmt.Errorf("n_models must be between 1 and 1000, got %d", fp.NModels)
			}
		case "max_features":
			fp.MaxFeatures, err = checkMaxFeatures(v)
		case "lambda_value":
			fp.LambdaValue, err = toFloat(k, v)
			if err == nil && !(fp.LambdaValue > 0 && fp.LambdaValue <= 100) {
				err = fmt.Errorf("lambda_value must be in (0, 100], got %v", fp.LambdaValue)
			}
		case "disable_weighted_vote":
			b, ok := v.(bool)
			if !ok {
				err = fmt.Errorf("disable_weighted_vote must be true or false, got %v", v)
			}
			fp.DisableWeightedVote = b
		case "aggregation_method":
			s, _ := v.(string)
			if !regression || (s != "median" && s != "mean") {
				err = fmt.Errorf("aggregation_method %v: use median or mean (regressor only)", v)
			}
			fp.Aggregation = s
		case "seed":
			var s int
			s, err = toInt(k, v)
			fp.Seed = int64(s)
		default:
			tp[k] = v
		}
		if err != nil {
			return fp, nil, err
		}
	}
	return fp, tp, nil
}

// memberParams are the member trees' params: River's ARF defaults for
// them (grace_period 50, delta 0.01) under the ones given.
func memberParams(tp map[string]any) map[string]any {
	merged := map[string]any{"grace_period": 50, "delta": 0.01}
	maps.Copy(merged, tp)
	return merged
}

func toFloat(name string, v any) (float64, error) {
	if f, ok := param.Float(v); ok {
		return f, nil
	}
	return 0, fmt.Errorf("%s must be a number, got %v (%T)", name, v, v)
}

func toInt(name string, v any) (int, error) {
	f, err := toFloat(name, v)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("%s must be an integer, got %v", name, v)
	}
	return int(f), nil
}

func checkMaxFeatures(v any) (any, error) {
	switch t := v.(type) {
	case nil:
		return nil, nil
	case string:
		if t == "sqrt" || t == "log2" {
			return t, nil
		}
	case int, int64:
		n, _ := toInt("max_features", t)
		return n, nil
	case float64, float32:
		f, _ := toFloat("max_features", t)
		// JSON has no integers: a whole number is a count, as in River's
		// int branch; a fraction is a share of the features.
		if f == math.Trunc(f) && f >= 1 {
			return int(f), nil
		}
		if f > 0 && f < 1 {
			return f, nil
		}
	case interface{ Float64() (float64, error) }:
		f, err := t.Float64()
		if err == nil {
			return checkMaxFeatures(f)
		}
	}
	return nil, fmt.Errorf(`max_features %v: use "sqrt", "log2", a count, a share in (0, 1) or null (all)`, v)
}

// resolveMaxFeatures is River's _set_max_features for n features.
func resolveMaxFeatures(spec any, n int) int {
	var m int
	switch t := spec.(type) {
	case string:
		if t == "log2" {
			m = int(math.RoundToEven(math.Log2(float64(n))))
		} else {
			m = int(math.RoundToEven(math.Sqrt(float64(n))))
		}
	case int:
		m = t
	case float64:
		m = int(t * float64(n))
	default:
		m = n
	}
	if m < 0 {
		m += n
	}
	if m <= 0 {
		m = 1
	}
	if m > n {
		m = n
	}
	return m
}

func knownParams(regression bool) string {
	k := []string{"n_models", "max_features", "lambda_value", "disable_weighted_vote", "seed"}
	if regression {
		k = append(k, "aggregation_method")
	}
	slices.Sort(k)
	return strings.Join(k, ", ")
}
