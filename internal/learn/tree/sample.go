package tree

import (
	"math/rand/v2"

	"github.com/olops/olops/internal/learn"
)

// sampleFeatures draws k distinct features among those present in x, for
// an ARF member's new leaf (River samples with the forest's rng; the draw
// cannot be bit-identical to Python's Mersenne Twister).
func sampleFeatures(x *learn.Row, k int, r *rand.Rand) []int32 {
	var feats []int32
	for f := range x.X {
		if present(x, f) {
			feats = append(feats, int32(f))
		}
	}
	if k >= len(feats) {
		return feats
	}
	for i := 0; i < k; i++ {
		j := i + r.IntN(len(feats)-i)
		feats[i], feats[j] = feats[j], feats[i]
	}
	return feats[:k]
}
