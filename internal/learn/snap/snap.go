// Package snap encodes the engine's model states with encoding/gob, the
// format of every MarshalBinary under internal/learn.
package snap

import (
	"bytes"
	"encoding/gob"
	"fmt"
)

// Encode gobs v.
func Encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Decode ungobs b into v; the error names what was being restored
// ("decode <what> state: ...").
func Decode(b []byte, v any, what string) error {
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(v); err != nil {
		return fmt.Errorf("decode %s state: %w", what, err)
	}
	return nil
}
