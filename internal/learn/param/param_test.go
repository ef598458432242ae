package param

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestFloat(t *testing.T) {
	for _, c := range []struct {
		v    any
		want float64
		ok   bool
	}{
		{0.5, 0.5, true}, {float32(0.25), 0.25, true}, {3, 3, true}, {int64(-2), -2, true},
		{json.Number("1e-3"), 1e-3, true}, {json.Number("x"), 0, false},
		{"0.5", 0, false}, {true, 0, false}, {nil, 0, false},
	} {
		got, ok := Float(c.v)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("Float(%#v) = %v, %v; want %v, %v", c.v, got, ok, c.want, c.ok)
		}
	}
}

func TestUnknown(t *testing.T) {
	known := func(k string) bool { return k == "lr" }
	got := Unknown(map[string]any{"lr": 1, "zeta": 2, "alpha": 3}, known)
	if !slices.Equal(got, []string{"alpha", "zeta"}) {
		t.Errorf("Unknown = %v, want [alpha zeta]", got)
	}
	if got := Unknown(map[string]any{"lr": 1}, known); got != nil {
		t.Errorf("Unknown = %v, want none", got)
	}
}
