package tree

import "github.com/olops/olops/internal/learn/pyrand"

// rngState is how HAT snapshots have always stored their random.Random
// state (gob field names MT and Idx); it is kept so that saved models
// still restore now that the generator itself lives in package pyrand.
type rngState struct {
	MT  [624]uint32
	Idx int
}

func saveRNG(r *pyrand.Python) *rngState {
	return &rngState{MT: r.State, Idx: r.Pos}
}

func (s *rngState) restore() *pyrand.Python {
	r := &pyrand.Python{}
	r.State, r.Pos = s.MT, s.Idx
	return r
}
