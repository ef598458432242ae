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

	// Scratch for sample: the features in name order (order, for the
	// names orderOf), the present ones (mark) and their sorted list.
	order   []int32
	orderOf []string
	mark    []bool
	sorted  []int32
}

func newRandomness(seed int64) *randomness {
	return &randomness{py: pyrand.NewPython(seed), placeholder: rand.New(rand.NewPCG(uint64(seed), 0))}
}

// sample is River's BaseRandomLeaf._sample_features:
// rng.sample(sorted(x.keys()), k) when x has at least k features, else
// sorted(x.keys()). Features are sorted by name when the forest knows the
// schema (UseSchema), by index otherwise. It returns a new slice and keeps
// nothing of present.
func (r *randomness) sample(present []int32, k int) []int32 {
	var names []string
	if r.schema != nil {
		if s := r.schema(); s != nil {
			names = s.Names
		}
	}
	r.sorted = r.byName(present, names, r.sorted[:0])
	sorted := r.sorted
	if len(sorted) < k {
		return slices.Clone(sorted)
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

// byName appends present (ascending feature indices) to dst sorted by
// (name, index).
func (r *randomness) byName(present []int32, names []string, dst []int32) []int32 {
	if len(names) == 0 {
		return append(dst, present...)
	}
	if len(present) > 0 && int(present[len(present)-1]) >= len(names) {
		// A feature without a name sorts as "": the general case, rare.
		dst = append(dst, present...)
		slices.SortStableFunc(dst, func(a, b int32) int {
			na, nb := nameOf(names, a), nameOf(names, b)
			switch {
			case na < nb:
				return -1
			case na > nb:
				return 1
			}
			return int(a - b)
		})
		return dst
	}
	// Every new leaf draws a subset: sort the names once, then keep the
	// present features in that order.
	if !slices.Equal(r.orderOf, names) {
		r.order = r.order[:0]
		for i := range names {
			r.order = append(r.order, int32(i))
		}
		slices.SortStableFunc(r.order, func(a, b int32) int {
			switch na, nb := names[a], names[b]; {
			case na < nb:
				return -1
			case na > nb:
				return 1
			}
			return int(a - b)
		})
		r.orderOf = append(r.orderOf[:0], names...)
	}
	r.mark = slices.Grow(r.mark[:0], len(names))[:len(names)]
	clear(r.mark)
	for _, f := range present {
		r.mark[f] = true
	}
	for _, f := range r.order {
		if r.mark[f] {
			dst = append(dst, f)
		}
	}
	return dst
}

func nameOf(names []string, f int32) string {
	if int(f) < len(names) {
		return names[f]
	}
	return ""
}
