package forest

import (
	"encoding/json"
	"fmt"

	"github.com/olops/olops/internal/learn/tree"
)

// forestState carries the hyperparameters in a snapshot (as JSON: the
// max_features spec may be a string or a number).
type forestState struct {
	Forest []byte
	Tree   []byte
}

type fpJSON struct {
	NModels             int
	MaxFeatures         any
	LambdaValue         float64
	DisableWeightedVote bool
	Aggregation         string
	Seed                int64
}

func saveParams(fp forestParams, o tree.Options) forestState {
	a, _ := json.Marshal(fpJSON(fp))
	b, _ := json.Marshal(o)
	return forestState{Forest: a, Tree: b}
}

func loadParams(s forestState, regression bool) (forestParams, tree.Options, error) {
	var fj fpJSON
	var o tree.Options
	if err := json.Unmarshal(s.Forest, &fj); err != nil {
		return forestParams{}, o, fmt.Errorf("restore forest params: %w", err)
	}
	if err := json.Unmarshal(s.Tree, &o); err != nil {
		return forestParams{}, o, fmt.Errorf("restore tree params: %w", err)
	}
	fp := forestParams(fj)
	mf, err := checkMaxFeatures(fp.MaxFeatures)
	if err != nil {
		return fp, o, err
	}
	fp.MaxFeatures = mf
	if fp.NModels < 1 {
		return fp, o, fmt.Errorf("snapshot has %d models: it is damaged", fp.NModels)
	}
	return fp, o, nil
}

func forestParamsMap(fp forestParams, o tree.Options, regression bool) map[string]any {
	m := map[string]any{
		"n_models": fp.NModels, "max_features": fp.MaxFeatures, "lambda_value": fp.LambdaValue,
		"disable_weighted_vote": fp.DisableWeightedVote, "seed": fp.Seed,
		"grace_period": o.GracePeriod, "max_depth": o.MaxDepth, "delta": o.Delta, "tau": o.Tau,
		"leaf_prediction": o.LeafPrediction, "binary_split": o.BinarySplit, "merit_preprune": o.MeritPreprune,
	}
	if o.MaxFeatures > 0 {
		m["max_features_resolved"] = o.MaxFeatures
	}
	if regression {
		m["aggregation_method"] = fp.Aggregation
		m["min_samples_split"] = o.MinSamplesSplit
		m["model_selector_decay"] = o.ModelSelectorDecay
	} else {
		m["split_criterion"] = o.SplitCriterion
		m["nb_threshold"] = o.NBThreshold
		m["min_branch_fraction"] = o.MinBranchFraction
		m["max_share_to_split"] = o.MaxShareToSplit
	}
	return m
}

// patch applies run-time changes: River's mutable attributes.
func patch(fp forestParams, o tree.Options, params map[string]any) (forestParams, tree.Options, error) {
	for _, k := range sortedKeys(params) {
		v := params[k]
		switch k {
		case "lambda_value":
			f, err := toFloat(k, v)
			if err != nil || !(f > 0 && f <= 100) {
				return fp, o, fmt.Errorf("lambda_value must be a number in (0, 100], got %v", v)
			}
			fp.LambdaValue = f
		case "disable_weighted_vote":
			b, ok := v.(bool)
			if !ok {
				return fp, o, fmt.Errorf("disable_weighted_vote must be true or false, got %v", v)
			}
			fp.DisableWeightedVote = b
		case "aggregation_method":
			s, _ := v.(string)
			if fp.Aggregation == "" || (s != "median" && s != "mean") {
				return fp, o, fmt.Errorf("aggregation_method %v: use median or mean (regressor only)", v)
			}
			fp.Aggregation = s
		case "grace_period":
			n, err := toInt(k, v)
			if err != nil || n < 1 {
				return fp, o, fmt.Errorf("grace_period must be an integer >= 1, got %v", v)
			}
			o.GracePeriod = n
		case "delta":
			f, err := toFloat(k, v)
			if err != nil || !(f > 0 && f < 1) {
				return fp, o, fmt.Errorf("delta must be in (0, 1), got %v", v)
			}
			o.Delta = f
		case "tau":
			f, err := toFloat(k, v)
			if err != nil || !(f >= 0) {
				return fp, o, fmt.Errorf("tau must be >= 0, got %v", v)
			}
			o.Tau = f
		default:
			return fp, o, fmt.Errorf("%q cannot be changed at run time (mutable: lambda_value, disable_weighted_vote, aggregation_method, grace_period, delta, tau)", k)
		}
	}
	return fp, o, nil
}
