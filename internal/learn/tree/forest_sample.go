package tree

import "github.com/olops/olops/internal/learn"

// This file was added by the forest's owner (ENGINE-C): the hook through
// which an adaptive random forest draws its members' feature subsets with
// River's generator.

// subset draws the feature subset of an ARF member's new leaf: with
// Options.Sample when set, else from Options.Rand. buf is scratch for the
// present features (Sample keeps none of it).
func (o *Options) subset(x *learn.Row, buf *[]int32) []int32 {
	if o.Sample == nil {
		return sampleFeatures(x, o.MaxFeatures, o.Rand)
	}
	feats := (*buf)[:0]
	for f := range x.X {
		if present(x, f) {
			feats = append(feats, int32(f))
		}
	}
	*buf = feats
	return o.Sample(feats, o.MaxFeatures)
}
