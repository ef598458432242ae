package forest

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// byName must order the present features as sorting them by (name,
// index) does, whatever the names and however often they change.
func TestByNameIsSortByName(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	rnd := &randomness{}
	letters := []string{"a", "b", "c", "", "ab", "ba"}
	for trial := 0; trial < 2000; trial++ {
		names := make([]string, 1+r.IntN(9))
		for i := range names {
			names[i] = letters[r.IntN(len(letters))] + strings.Repeat("x", r.IntN(2))
		}
		var present []int32
		for f := 0; f < len(names)+2; f++ {
			if r.IntN(3) > 0 && (f < len(names) || r.IntN(4) == 0) {
				present = append(present, int32(f))
			}
		}
		want := slices.Clone(present)
		slices.SortStableFunc(want, func(a, b int32) int {
			if c := strings.Compare(nameOf(names, a), nameOf(names, b)); c != 0 {
				return c
			}
			return int(a - b)
		})
		got := rnd.byName(present, names, nil)
		if !slices.Equal(got, want) {
			t.Fatalf("names %q present %v: got %v, want %v", names, present, got, want)
		}
	}
}
