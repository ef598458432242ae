package synth

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/pyrand"
	"github.com/olops/olops/internal/learn/stream"
)

// rows formats the first n rows of g as "x0 x1 ... y" with all digits.
func rows(g generator, nf, n int) []string {
	x := make([]float64, nf)
	var out []string
	for i := 0; i < n; i++ {
		y := g.next(x)
		var parts []string
		for _, v := range x {
			parts = append(parts, strconv.FormatFloat(v, 'f', -1, 64))
		}
		out = append(out, fmt.Sprintf("%s %d", strings.Join(parts, " "), y))
	}
	return out
}

// check compares rows with River's docstring output the way River's
// doctests do (pytest's NUMBER flag): each number must agree to the
// precision written in the docstring, labels exactly.
func check(t *testing.T, name string, got, want []string) {
	t.Helper()
	for i := range want {
		if i >= len(got) {
			t.Fatalf("%s: only %d rows", name, len(got))
		}
		g, w := strings.Fields(got[i]), strings.Fields(want[i])
		ok := len(g) == len(w)
		for j := 0; ok && j < len(w); j++ {
			wv, err1 := strconv.ParseFloat(w[j], 64)
			gv, err2 := strconv.ParseFloat(g[j], 64)
			if err1 != nil || err2 != nil {
				ok = false
				break
			}
			decimals := 0
			if k := strings.IndexByte(w[j], '.'); k >= 0 {
				decimals = len(w[j]) - k - 1
			}
			ok = math.Abs(gv-wv) <= math.Pow(10, -float64(decimals))
		}
		if !ok {
			t.Errorf("%s row %d: got %q, River %q", name, i, got[i], want[i])
		}
	}
}

// The rows River 0.21's docstrings print for the same seeds.
func TestRiverDocstrings(t *testing.T) {
	check(t, "SEA(variant=0, seed=42)", rows(newSEA(42, 0, 0), 3, 5), []string{
		"6.39426 0.25010 2.75029 0",
		"2.23210 7.36471 6.76699 1",
		"8.92179 0.86938 4.21921 1",
		"0.29797 2.18637 5.05355 0",
		"0.26535 1.98837 6.49884 0",
	})
	check(t, "Hyperplane(seed=42, n_features=2)", rows(newHyperplane(42, 2, 2, 0, 0.05, 0.1), 2, 5), []string{
		"0.2750 0.2232 0",
		"0.0869 0.4219 1",
		"0.0265 0.1988 0",
		"0.5892 0.8094 0",
		"0.3402 0.1554 0",
	})
	check(t, "STAGGER(classification_function=2, seed=112)", rows(newSTAGGER(112, 2, false), 3, 5), []string{
		"0 0 2 0",
		"1 0 1 1",
		"0 0 0 0",
		"1 2 0 1",
		"1 0 2 1",
	})
	check(t, "Agrawal(classification_function=0, seed=42)", rows(newAgrawal(42, 0, false, 0), 9, 5), []string{
		"68690.2154 81303.5729 62.0000 4.0000 6.0000 2.0000 419982.4410 11.0000 433088.0728 1",
		"98144.9515 0.0000 43.0000 2.0000 1.0000 7.0000 266488.5281 6.0000 389.3829 0",
		"148987.502 0.0000 52.0000 3.0000 11.0000 8.0000 79122.9140 27.0000 199930.4858 0",
		"26066.5362 83031.6639 34.0000 2.0000 11.0000 6.0000 444969.2657 25.0000 23225.2063 1",
		"98980.8307 0.0000 40.0000 0.0000 6.0000 1.0000 1159108.4298 28.0000 281644.1089 0",
	})
	check(t, "RandomRBF(42, 42, n_classes=4, n_features=4, n_centroids=20)", rows(newRBF(42, 42, 4, 4, 20), 4, 5), []string{
		"0.9518 0.5263 0.2509 0.4177 0",
		"0.3383 0.8072 0.8051 0.4140 3",
		"-0.2640 0.2275 0.6286 -0.0532 2",
		"0.9050 0.6443 0.1270 0.4520 2",
		"0.1874 0.4348 0.9819 -0.0459 2",
	})
	// ConceptDriftStream(SEA(seed=42, variant=0), SEA(seed=42, variant=1),
	// seed=1, position=5, width=2).
	s := &source{names: []string{"x0", "x1", "x2"}, first: newSEA(42, 0, 0), second: newSEA(42, 1, 0),
		mix: pyrand.NewNumPy(1), position: 5, width: 2, x: make([]float64, 3)}
	s.sample.Features = map[string]any{}
	var got []string
	for i := 0; i < 10; i++ {
		smp, err := s.Next()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%v %v %v %s", smp.Features["x0"], smp.Features["x1"], smp.Features["x2"], smp.Label))
	}
	check(t, "ConceptDriftStream", got, []string{
		"6.3942 0.2501 2.7502 0",
		"2.2321 7.3647 6.7669 1",
		"6.3942 0.2501 2.7502 0",
		"8.9217 0.8693 4.2192 1",
		"2.2321 7.3647 6.7669 1",
		"8.9217 0.8693 4.2192 1",
		"0.2979 2.1863 5.0535 0",
		"0.2653 1.9883 6.4988 0",
		"5.4494 2.2044 5.8926 0",
		"8.0943 0.0649 8.0581 0",
	})
}

func collect(t *testing.T, src stream.Source, limit int) []stream.Sample {
	t.Helper()
	var out []stream.Sample
	for i := 0; i < limit; i++ {
		s, err := src.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		c := *s
		c.Features = map[string]any{}
		for k, v := range s.Features {
			c.Features[k] = v
		}
		out = append(out, c)
	}
	return out
}

func TestRepeatableAndBalanced(t *testing.T) {
	for _, name := range Names() {
		for _, drift := range []int{0, 500} {
			o := Options{Seed: 7, Rows: 2000, DriftAt: drift, DriftWidth: 50}
			a, task, err := New(name, o)
			if err != nil {
				t.Fatal(err)
			}
			if task != learn.Binary {
				t.Errorf("%s task %s, want binary by default", name, task)
			}
			b, _, _ := New(name, o)
			ra, rb := collect(t, a, 5000), collect(t, b, 5000)
			if len(ra) != 2000 || len(rb) != 2000 {
				t.Fatalf("%s: %d rows, want 2000", name, len(ra))
			}
			pos := 0
			for i := range ra {
				if ra[i].Label != rb[i].Label || fmt.Sprint(ra[i].Features) != fmt.Sprint(rb[i].Features) {
					t.Fatalf("%s: row %d differs between two streams with the same seed", name, i)
				}
				if ra[i].Line != i+1 {
					t.Fatalf("%s: row %d has line %d", name, i, ra[i].Line)
				}
				if ra[i].Label == "1" {
					pos++
				} else if ra[i].Label != "0" {
					t.Fatalf("%s: label %q", name, ra[i].Label)
				}
			}
			share := float64(pos) / 2000
			// STAGGER's function 0 (small and red) is positive 1 time in 9.
			lo, hi := 0.2, 0.8
			if name == "stagger" {
				lo, hi = 0.05, 0.6
			}
			if share < lo || share > hi {
				t.Errorf("%s (drift %d): positive share %.3f outside [%.2f, %.2f]", name, drift, share, lo, hi)
			}
			c, _, _ := New(name, Options{Seed: 8, Rows: 50})
			rc := collect(t, c, 100)
			same := 0
			for i := range rc {
				if fmt.Sprint(rc[i].Features) == fmt.Sprint(ra[i].Features) {
					same++
				}
			}
			if same == len(rc) {
				t.Errorf("%s: seeds 7 and 8 give the same rows", name)
			}
		}
	}
}

func TestMulticlassRBF(t *testing.T) {
	src, task, err := New("rbf", Options{Seed: 3, Rows: 3000, Params: map[string]any{"n_classes": 4.0, "n_centroids": 20}})
	if err != nil {
		t.Fatal(err)
	}
	if task != learn.Multiclass {
		t.Fatalf("task %s", task)
	}
	counts := map[string]int{}
	for _, s := range collect(t, src, 5000) {
		counts[s.Label]++
		if len(s.Features) != 10 {
			t.Fatalf("%d features", len(s.Features))
		}
	}
	if len(counts) != 4 {
		t.Errorf("classes seen %v, want 4", counts)
	}
}

func TestErrors(t *testing.T) {
	bad := []struct {
		name string
		o    Options
	}{
		{"nope", Options{}},
		{"sea", Options{Variant: 4}},
		{"stagger", Options{Variant: -1}},
		{"hyperplane", Options{Variant: 1}},
		{"sea", Options{Params: map[string]any{"noise": 2.0}}},
		{"sea", Options{Params: map[string]any{"threshold": 2.0}}},
		{"agrawal", Options{Rows: -1}},
		{"rbf", Options{Params: map[string]any{"n_classes": 1}}},
		{"sea", Options{Seed: -3}},
	}
	for _, c := range bad {
		if _, _, err := New(c.name, c.o); err == nil {
			t.Errorf("New(%q, %+v) accepted", c.name, c.o)
		}
	}
}

// Accuracy of a learner that knows the first concept exactly falls after
// DriftAt: the stream really changes concept there.
func TestDriftChangesConcept(t *testing.T) {
	const rows, at = 4000, 2000
	for _, name := range []string{"sea", "stagger", "agrawal"} {
		src, _, err := New(name, Options{Seed: 11, Rows: rows, DriftAt: at, DriftWidth: 1})
		if err != nil {
			t.Fatal(err)
		}
		g, _, _ := build(name, 11, 0, &params{name: name})
		oracle := func(x []float64) int {
			switch t := g.(type) {
			case *sea:
				return b2i(x[0]+x[1] > t.threshold)
			case *stagger:
				return b2i(x[0] == 0 && x[1] == 0)
			default:
				return agrawalClass(0, x[0], x[1], x[2], x[3], x[6], x[7], x[8])
			}
		}
		names := agrawalNames
		switch name {
		case "sea":
			names = []string{"x0", "x1", "x2"}
		case "stagger":
			names = []string{"size", "color", "shape"}
		}
		var right [2]int
		x := make([]float64, len(names))
		for i, s := range collect(t, src, rows) {
			for j, n := range names {
				x[j] = s.Features[n].(float64)
			}
			if fmt.Sprint(oracle(x)) == s.Label {
				right[b2i(i >= at)]++
			}
		}
		before, after := float64(right[0])/at, float64(right[1])/(rows-at)
		t.Logf("%s: concept-0 oracle accuracy %.3f before, %.3f after the drift", name, before, after)
		if before < 0.99 || after > before-0.05 {
			t.Errorf("%s: accuracy %.3f before and %.3f after the drift: no concept change", name, before, after)
		}
	}
}

// A nearest-class-mean learner, trained progressively, scores worse just
// after DriftAt than just before on the seed-switching generators.
func TestDriftHurtsSimpleLearner(t *testing.T) {
	const rows, at, w = 6000, 4000, 500
	for _, name := range []string{"hyperplane", "rbf"} {
		src, _, err := New(name, Options{Seed: 5, Rows: rows, DriftAt: at, DriftWidth: 1})
		if err != nil {
			t.Fatal(err)
		}
		cols := src.(*source).Columns()
		var sums [2][]float64
		var counts [2]float64
		for c := range sums {
			sums[c] = make([]float64, len(cols))
		}
		var before, after int
		for i, s := range collect(t, src, rows) {
			y := 0
			if s.Label == "1" {
				y = 1
			}
			// predict: the class whose mean is nearest
			best, bestD := 0, math.Inf(1)
			for c := range sums {
				if counts[c] == 0 {
					continue
				}
				d := 0.0
				for j, n := range cols {
					v := s.Features[n].(float64) - sums[c][j]/counts[c]
					d += v * v
				}
				if d < bestD {
					best, bestD = c, d
				}
			}
			if best == y {
				if i >= at-w && i < at {
					before++
				} else if i >= at && i < at+w {
					after++
				}
			}
			for j, n := range cols {
				sums[y][j] += s.Features[n].(float64)
			}
			counts[y]++
		}
		b, a := float64(before)/w, float64(after)/w
		t.Logf("%s: nearest-mean accuracy %.3f in the %d rows before the drift, %.3f after", name, b, w, a)
		if a > b-0.05 {
			t.Errorf("%s: accuracy %.3f before, %.3f after the drift: no drop", name, b, a)
		}
	}
}
