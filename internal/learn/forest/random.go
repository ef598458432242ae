package forest

import (
	"math/rand/v2"
	"slices"

	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/pyrand"
)

// randomness is the forest's one generator, Python's random.Random(seed)
// as River's forests use: Poisson weights for every member and sample,
// and the feature subset of every new leaf, drawn in River's order so that
// a forest with River's seed makes River's draws.
type randomness struct {
	py     *pyrand.Python
	schema func() *learn.Schema
	// placeholder satisfies tree.Options' check that a member has a random
	// source; the trees draw through sample instead.
	placeholder *rand.Rand
	idx, pool   []int
}

func newRandomness(seed int64) *randomness {
	return &randomness{py: pyrand.NewPython(seed), placeholder: rand.New(rand.NewPCG(uint64(seed), 0))}
}

// sample is River's BaseRandomLeaf._sample_features:
// rng.sample(sorted(x.keys()), k) when x has at least k features, else
// sorted(x.keys()). Features are sorted by name when the forest knows the
// schema (UseSchema), by index otherwise.
func (r *randomness) sample(present []int32, k int) []int32 {
	sorted := slices.Clone(present)
	var names []string
	if r.schema != nil {
		if s := r.schema(); s != nil {
			names = s.Names
		}
	}
	if len(names) > 0 {
		slices.SortStableFunc(sorted, func(a, b int32) int {
			na, nb := nameOf(names, a), nameOf(names, b)
			switch {
			case na < nb:
				return -1
			case na > nb:
				return 1
			}
			return int(a - b)
		})
	}
	if len(sorted) < k {
		return sorted
	}
	if cap(r.pool) < len(sorted) {
		r.pool = make([]int, 0, len(sorted))
	}
	r.idx = r.py.Sample(len(sorted), k, r.idx, r.pool)
	out := make([]int32, k)
	for i, j := range r.idx {
		out[i] = sorted[j]
	}
	return out
}

func nameOf(names []string, f int32) string {
	if int(f) < len(names) {
		return names[f]
	}
	return ""
}
