package learn

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// Schema gives each feature name a dense index, in order of first
// appearance. It grows when a new name appears later in a stream; lookups
// of known names do not allocate.
type Schema struct {
	Names []string
	Kinds []Kind
	index map[string]int
}

// NewSchema returns an empty schema.
func NewSchema() *Schema { return &Schema{index: map[string]int{}} }

// Len is the number of features seen.
func (s *Schema) Len() int { return len(s.Names) }

// Index returns the index of a feature and whether it is known.
func (s *Schema) Index(name string) (int, bool) {
	i, ok := s.index[name]
	return i, ok
}

// Add returns the index of name, adding it with kind k when it is new.
func (s *Schema) Add(name string, k Kind) int {
	if i, ok := s.index[name]; ok {
		return i
	}
	if s.index == nil {
		s.index = map[string]int{}
	}
	s.index[name] = len(s.Names)
	s.Names = append(s.Names, name)
	s.Kinds = append(s.Kinds, k)
	return len(s.Names) - 1
}

// HasCategorical reports whether any feature is categorical.
func (s *Schema) HasCategorical() bool {
	for _, k := range s.Kinds {
		if k == Categorical {
			return true
		}
	}
	return false
}

// Set puts one raw value into r under name, growing the schema and r as
// needed. v is a float64, json.Number, bool, string or nil (missing). A
// string goes to a categorical feature; on a numeric feature a string that
// parses as a number is taken as that number.
func (s *Schema) Set(r *Row, name string, v any) error {
	var num float64
	var str string
	isStr := false
	switch t := v.(type) {
	case nil:
		return nil
	case float64:
		num = t
	case float32:
		num = float64(t)
	case int:
		num = float64(t)
	case int64:
		num = float64(t)
	case json.Number:
		f, err := t.Float64()
		if err != nil {
			return fmt.Errorf("feature %q: %q is not a number", name, t)
		}
		num = f
	case bool:
		if t {
			num = 1
		}
	case string:
		if i, ok := s.index[name]; ok && s.Kinds[i] == Numeric {
			if t == "" {
				return nil
			}
			f, err := strconv.ParseFloat(t, 64)
			if err != nil {
				return fmt.Errorf("feature %q is numeric: %q is not a number", name, t)
			}
			num = f
		} else {
			str, isStr = t, true
		}
	default:
		return fmt.Errorf("feature %q: a value must be a number, string, boolean or null, not %T", name, v)
	}
	if !isStr && (math.IsNaN(num) || math.IsInf(num, 0)) {
		return fmt.Errorf("feature %q: %v is not a finite number", name, num)
	}
	kind := Numeric
	if isStr {
		kind = Categorical
	}
	i := s.Add(name, kind)
	if s.Kinds[i] == Numeric && isStr {
		return fmt.Errorf("feature %q is numeric: %q is not a number", name, str)
	}
	if s.Kinds[i] == Categorical && !isStr {
		return fmt.Errorf("feature %q is categorical: give it a string, not %v", name, num)
	}
	grow(r, s, i)
	if isStr {
		if str != "" {
			r.C[i] = str
		}
		return nil
	}
	r.X[i] = num
	return nil
}

func grow(r *Row, s *Schema, i int) {
	for len(r.X) <= i {
		r.X = append(r.X, math.NaN())
	}
	if s.Kinds[i] == Categorical || r.C != nil {
		for len(r.C) < len(r.X) {
			r.C = append(r.C, "")
		}
	}
}

// Clone returns a deep copy of s.
func (s *Schema) Clone() *Schema {
	c := NewSchema()
	for i, n := range s.Names {
		c.Add(n, s.Kinds[i])
	}
	return c
}
