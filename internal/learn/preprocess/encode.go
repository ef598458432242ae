package preprocess

import (
	"math"

	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/snap"
)

// OneHotEncoder turns categorical (string) features into numeric 0/1
// indicators. Its output row holds the numeric features first, then one
// indicator per (feature, value) pair, each in a slot given when the
// feature or pair is first learned; slots never move, so a downstream
// model's weights stay attached to the same inputs while the mapping grows.
// A value never learned has no slot and is dropped; the indicators of a
// categorical feature that is missing are missing (NaN), those of a present
// feature are 0 except the one of its value.
type OneHotEncoder struct {
	NumSlot []int       // input feature -> output slot for numeric features, -1 none
	Slots   []slotOwner // output slot -> what it encodes

	pairs map[pairKey]int
}

type slotOwner struct {
	F     int    // input feature index
	Value string // "" for a numeric slot
}

type pairKey struct {
	f int
	v string
}

// NewOneHotEncoder returns an empty encoder.
func NewOneHotEncoder() *OneHotEncoder { return &OneHotEncoder{pairs: map[pairKey]int{}} }

func (e *OneHotEncoder) addSlot(o slotOwner) int {
	e.Slots = append(e.Slots, o)
	return len(e.Slots) - 1
}

// Learn gives slots to the numeric features and (feature, value) pairs of x
// that have none yet.
func (e *OneHotEncoder) Learn(x *learn.Row) {
	if e.pairs == nil {
		e.pairs = map[pairKey]int{}
	}
	for len(e.NumSlot) < len(x.X) {
		e.NumSlot = append(e.NumSlot, -1)
	}
	for i, xi := range x.X {
		if !math.IsNaN(xi) && e.NumSlot[i] < 0 {
			e.NumSlot[i] = e.addSlot(slotOwner{F: i})
		}
	}
	for i, c := range x.C {
		if c == "" {
			continue
		}
		k := pairKey{i, c}
		if _, ok := e.pairs[k]; !ok {
			e.pairs[k] = e.addSlot(slotOwner{F: i, Value: c})
		}
	}
}

// Transform writes the numeric features and the indicators into out.
func (e *OneHotEncoder) Transform(x, out *learn.Row) {
	n := len(e.Slots)
	if cap(out.X) < n {
		out.X = learn.Floats(n, n+n/2+1)
	}
	out.X = out.X[:n]
	out.C = nil
	for s, o := range e.Slots {
		switch {
		case o.Value != "":
			if o.F < len(x.C) && x.C[o.F] != "" {
				out.X[s] = 0
			} else {
				out.X[s] = math.NaN()
			}
		case o.F < len(x.X):
			out.X[s] = x.X[o.F]
		default:
			out.X[s] = math.NaN()
		}
	}
	for i, c := range x.C {
		if c == "" {
			continue
		}
		if s, ok := e.pairs[pairKey{i, c}]; ok {
			out.X[s] = 1
		}
	}
}

// MarshalBinary saves the slot mapping.
func (e *OneHotEncoder) MarshalBinary() ([]byte, error) {
	type plain OneHotEncoder // no MarshalBinary: gob encodes the fields
	return snap.Encode((*plain)(e))
}

// UnmarshalBinary restores a mapping saved by MarshalBinary.
func (e *OneHotEncoder) UnmarshalBinary(b []byte) error {
	type plain OneHotEncoder
	*e = OneHotEncoder{}
	if err := snap.Decode(b, (*plain)(e), "preprocessing"); err != nil {
		return err
	}
	e.pairs = map[pairKey]int{}
	for s, o := range e.Slots {
		if o.Value != "" {
			e.pairs[pairKey{o.F, o.Value}] = s
		}
	}
	return nil
}

// FeatureHasher projects features into a fixed number of buckets by
// hashing: a numeric feature adds its value to the bucket of its index, a
// categorical one adds 1 to the bucket of (index, value). Buckets no
// feature fell into are missing (NaN), as in River's sparse output. It
// learns nothing; hashing the schema index rather than the name is stable
// because a pipeline's schema never renumbers.
type FeatureHasher struct {
	N    int    // number of buckets
	Seed uint64 // mixes into every hash
}

// DefaultHashBuckets is FeatureHasher's default bucket count. It is far
// smaller than River's 2^20 because the engine's rows are dense.
const DefaultHashBuckets = 1024

// NewFeatureHasher returns a hasher into n buckets (n <= 0: the default).
func NewFeatureHasher(n int, seed uint64) *FeatureHasher {
	if n <= 0 {
		n = DefaultHashBuckets
	}
	return &FeatureHasher{N: n, Seed: seed}
}

// Learn does nothing: hashing is stateless.
func (h *FeatureHasher) Learn(*learn.Row) {}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func (h *FeatureHasher) hashIndex(i int) uint64 {
	v := uint64(fnvOffset) ^ h.Seed
	u := uint64(i)
	for k := 0; k < 8; k++ {
		v ^= u & 0xff
		v *= fnvPrime
		u >>= 8
	}
	return v
}

func (h *FeatureHasher) bucket(v uint64) int { return int(v % uint64(h.N)) }

// Transform writes the hashed buckets into out.
func (h *FeatureHasher) Transform(x, out *learn.Row) {
	n := h.N
	if cap(out.X) < n {
		out.X = learn.Floats(n, n)
	}
	out.X = out.X[:n]
	out.C = nil
	for i := range out.X {
		out.X[i] = math.NaN()
	}
	add := func(b int, v float64) {
		if math.IsNaN(out.X[b]) {
			out.X[b] = v
		} else {
			out.X[b] += v
		}
	}
	for i, xi := range x.X {
		if !math.IsNaN(xi) {
			add(h.bucket(h.hashIndex(i)), xi)
		}
	}
	for i, c := range x.C {
		if c == "" {
			continue
		}
		v := h.hashIndex(i) ^ '='
		for k := 0; k < len(c); k++ {
			v ^= uint64(c[k])
			v *= fnvPrime
		}
		add(h.bucket(v), 1)
	}
}

// MarshalBinary saves the hasher's settings.
func (h *FeatureHasher) MarshalBinary() ([]byte, error) {
	type plain FeatureHasher // no MarshalBinary: gob encodes the fields
	return snap.Encode((*plain)(h))
}

// UnmarshalBinary restores settings saved by MarshalBinary.
func (h *FeatureHasher) UnmarshalBinary(b []byte) error {
	type plain FeatureHasher
	*h = FeatureHasher{}
	return snap.Decode(b, (*plain)(h), "preprocessing")
}
