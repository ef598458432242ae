package server

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/olops/olops/internal/api"
)

// value is one canonical feature value: a number, or a string when isStr.
type value struct {
	Num   float64
	Str   string
	IsStr bool
}

// kv is one named feature value.
type kv struct {
	Name string
	V    value
}

// sample is a request's features in canonical form: sorted by name, so that
// a new feature always enters the schema at the same index on replay.
type sample []kv

// event is one learn event as logged: its features, its label and when it
// was accepted.
type event struct {
	X      sample
	Label  string
	Time   int64   // unix nanoseconds
	Served *served // for a label joined by id: the prediction it scores
}

// served is the prediction a client was given, kept with its features so
// that a label arriving later scores what was served (and replay scores
// the same).
type served struct {
	Version int
	Empty   bool
	Class   int
	Proba   []float64
	Value   float64
}

// canonical turns raw JSON feature values into a sample, without the
// target and dropped columns. A wrong type names the feature.
func canonical(f api.Features, skip func(string) bool) (sample, *api.Error) {
	s := make(sample, 0, len(f))
	for k, v := range f {
		if skip != nil && skip(k) {
			continue
		}
		var val value
		switch t := v.(type) {
		case nil:
			continue
		case float64:
			if math.IsNaN(t) || math.IsInf(t, 0) {
				return nil, &api.Error{Error: "not a finite number", Field: "features." + k}
			}
			val.Num = t
		case bool:
			if t {
				val.Num = 1
			}
		case string:
			val.Str, val.IsStr = t, true
		default:
			return nil, &api.Error{Error: fmt.Sprintf("a feature value must be a number, string, boolean or null, not %s", jsonKind(v)), Field: "features." + k}
		}
		s = append(s, kv{Name: k, V: val})
	}
	slices.SortFunc(s, func(a, b kv) int { return strings.Compare(a.Name, b.Name) })
	return s, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return fmt.Sprintf("%T", v)
}

// labelString reads a JSON label: a string, a number or a boolean.
func labelString(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, t != ""
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(t), true
	}
	return "", false
}

// Encoding: uvarint count, then per feature uvarint name length, name,
// kind byte (0 number, 1 string), 8 bytes of float bits or uvarint length
// and the string; then the label and the time.
func (e *event) appendTo(b []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(e.X)))
	for _, f := range e.X {
		b = binary.AppendUvarint(b, uint64(len(f.Name)))
		b = append(b, f.Name...)
		if f.V.IsStr {
			b = append(b, 1)
			b = binary.AppendUvarint(b, uint64(len(f.V.Str)))
			b = append(b, f.V.Str...)
		} else {
			b = append(b, 0)
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(f.V.Num))
		}
	}
	b = binary.AppendUvarint(b, uint64(len(e.Label)))
	b = append(b, e.Label...)
	b = binary.AppendVarint(b, e.Time)
	if sv := e.Served; sv != nil {
		b = append(b, 1)
		b = binary.AppendUvarint(b, uint64(sv.Version))
		if sv.Empty {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
		b = binary.AppendVarint(b, int64(sv.Class))
		b = binary.AppendUvarint(b, uint64(len(sv.Proba)))
		for _, q := range sv.Proba {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(q))
		}
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(sv.Value))
	}
	return b
}

var errShort = errors.New("event record is truncated")

func decodeEvent(b []byte) (event, error) {
	var e event
	str := func() (string, error) {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			return "", errShort
		}
		s := string(b[k : k+int(n)])
		b = b[k+int(n):]
		return s, nil
	}
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return e, errShort
	}
	b = b[k:]
	e.X = make(sample, 0, n)
	for range n {
		name, err := str()
		if err != nil {
			return e, err
		}
		if len(b) < 1 {
			return e, errShort
		}
		kind := b[0]
		b = b[1:]
		f := kv{Name: name}
		switch kind {
		case 0:
			if len(b) < 8 {
				return e, errShort
			}
			f.V.Num = math.Float64frombits(binary.LittleEndian.Uint64(b))
			b = b[8:]
		case 1:
			if f.V.Str, err = str(); err != nil {
				return e, err
			}
			f.V.IsStr = true
		default:
			return e, fmt.Errorf("event record has an unknown value kind %d", kind)
		}
		e.X = append(e.X, f)
	}
	var err error
	if e.Label, err = str(); err != nil {
		return e, err
	}
	t, k := binary.Varint(b)
	if k <= 0 {
		return e, errShort
	}
	e.Time = t
	b = b[k:]
	if len(b) == 0 || b[0] != 1 {
		return e, nil
	}
	b = b[1:]
	sv := &served{}
	ver, k := binary.Uvarint(b)
	if k <= 0 || len(b) < k+1 {
		return e, errShort
	}
	sv.Version, sv.Empty = int(ver), b[k] == 1
	b = b[k+1:]
	class, k := binary.Varint(b)
	if k <= 0 {
		return e, errShort
	}
	sv.Class = int(class)
	b = b[k:]
	n, k = binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b))/8 {
		return e, errShort
	}
	b = b[k:]
	if uint64(len(b)) < 8*(n+1) {
		return e, errShort
	}
	if n > 0 {
		sv.Proba = make([]float64, n)
	}
	for i := range sv.Proba {
		sv.Proba[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	sv.Value = math.Float64frombits(binary.LittleEndian.Uint64(b[8*n:]))
	e.Served = sv
	return e, nil
}
