package snap

import (
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	type state struct {
		W []float64
		N int
	}
	b, err := Encode(state{W: []float64{1.5, -2}, N: 3})
	if err != nil {
		t.Fatal(err)
	}
	var got state
	if err := Decode(b, &got, "test"); err != nil {
		t.Fatal(err)
	}
	if got.N != 3 || len(got.W) != 2 || got.W[0] != 1.5 || got.W[1] != -2 {
		t.Fatalf("round trip gave %+v", got)
	}
	err = Decode([]byte("not gob"), &got, "adwin")
	if err == nil || !strings.HasPrefix(err.Error(), "decode adwin state: ") {
		t.Fatalf("a damaged state gave %v", err)
	}
}
