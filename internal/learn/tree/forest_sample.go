package tree

import "github.com/olops/olops/internal/learn"

// This file was added by the forest's owner (ENGINE-C): the hook through
// which an adaptive random forest draws its members' feature subsets with
// River's generator.

// subset draws the feature subset of an ARF member's new leaf: with
// Options.Sample when set, else from Options.Rand.
func (o *Options) subset(x *learn.Row) []int32 {
	if o.Sample == nil {
		return sampleFeatures(x, o.MaxFeatures, o.Rand)
	}
	var feats []int32
	for f := range x.X {
		if present(x, f) {
			feats = append(feats, int32(f))
		}
	}
	return o.Sample(feats, o.MaxFeatures)
}
