package ui

import (
	"strings"
	"testing"
)

func TestTablePlainColumns(t *testing.T) {
	var b strings.Builder
	if err := Table(&b, []string{"version", "note"}, [][]string{{"1", "first"}, {"12", "x"}}); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	t.Logf("\n%s", got)
	lines := strings.Split(strings.TrimRight(got, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 lines, got %q", got)
	}
	if !strings.HasPrefix(lines[0], "VERSION") || !strings.Contains(lines[0], "NOTE") {
		t.Errorf("header = %q", lines[0])
	}
	// Columns line up: NOTE starts where the notes start.
	col := strings.Index(lines[0], "NOTE")
	if strings.Index(lines[1], "first") != col || strings.Index(lines[2], "x") != col {
		t.Errorf("columns not aligned:\n%s", got)
	}
	if strings.ContainsAny(got, "│─┌+|") {
		t.Errorf("table has borders:\n%s", got)
	}
}

func TestNum(t *testing.T) {
	for v, want := range map[float64]string{0.87314: "0.8731", -1e-9: "0.0000", 2: "2.0000"} {
		if got := Num(v); got != want {
			t.Errorf("Num(%v) = %s, want %s", v, got, want)
		}
	}
	if Rate(0) != "0" || Rate(1520.4) != "1520" || Rate(2.25) != "2.2" {
		t.Errorf("Rate: %s %s %s", Rate(0), Rate(1520.4), Rate(2.25))
	}
}
