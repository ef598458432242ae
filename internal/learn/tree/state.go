package tree

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"fmt"
)

// encodeState gobs a tree's options (as JSON, so the shared Rand is left
// out) and its learned state.
func encodeState(o Options, state any) ([]byte, error) {
	ob, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := gob.NewEncoder(&buf)
	if err := enc.Encode(ob); err != nil {
		return nil, err
	}
	if err := enc.Encode(state); err != nil {
		return nil, fmt.Errorf("encode tree: %w", err)
	}
	return buf.Bytes(), nil
}

// decodeState reverses encodeState; o keeps its Rand and Sample.
func decodeState(b []byte, o *Options, state any) error {
	dec := gob.NewDecoder(bytes.NewReader(b))
	var ob []byte
	if err := dec.Decode(&ob); err != nil {
		return fmt.Errorf("decode tree options: %w", err)
	}
	r, hook := o.Rand, o.Sample
	if err := json.Unmarshal(ob, o); err != nil {
		return fmt.Errorf("decode tree options: %w", err)
	}
	o.Rand, o.Sample = r, hook
	if err := dec.Decode(state); err != nil {
		return fmt.Errorf("decode tree: %w", err)
	}
	return nil
}

type clfState struct {
	Root     *node[clfLeaf]
	NClasses int
}

// MarshalBinary saves the tree exactly (not Options.Rand, which its owner
// saves).
func (c *Classifier) MarshalBinary() ([]byte, error) {
	return encodeState(c.o, clfState{Root: c.root, NClasses: c.nClasses})
}

// UnmarshalBinary restores a tree saved by MarshalBinary.
func (c *Classifier) UnmarshalBinary(b []byte) error {
	var s clfState
	o := c.o
	if err := decodeState(b, &o, &s); err != nil {
		return err
	}
	c.o, c.root, c.nClasses = o, s.Root, s.NClasses
	c.init()
	c.memo = nbMemo{}
	c.last = lastWalk{}
	c.maybeInactive = true // the saved tree may hold inactive leaves
	return nil
}
