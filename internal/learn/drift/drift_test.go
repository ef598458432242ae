package drift

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/pyrand"
)

// riverStream is the stream of River's detector docstrings:
// rng = random.Random(12345);
// rng.choices([0, 1], k=1000) + rng.choices(range(4, 8), k=1000).
func riverStream() []float64 {
	r := pyrand.NewPython(12345)
	out := make([]float64, 0, 2000)
	for i := 0; i < 1000; i++ {
		out = append(out, float64(int(r.Random()*2)))
	}
	for i := 0; i < 1000; i++ {
		out = append(out, float64(4+int(r.Random()*4)))
	}
	return out
}

func detections(d learn.Detector, xs []float64) []int {
	var at []int
	for i, x := range xs {
		if d.Update(x) {
			at = append(at, i)
		}
	}
	return at
}

func mustNew(t testing.TB, name string, params map[string]any) learn.Detector {
	t.Helper()
	d, err := New(name, params)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Detection indices printed by River 0.21's docstrings on the same stream.
func TestRiverDocstrings(t *testing.T) {
	xs := riverStream()
	cases := []struct {
		name   string
		params map[string]any
		want   []int
	}{
		{"adwin", nil, []int{1023}},
		{"page_hinkley", nil, []int{1006}},
		{"kswin", map[string]any{"alpha": 0.0001, "seed": 42}, []int{1016}},
	}
	for _, c := range cases {
		got := detections(mustNew(t, c.name, c.params), xs)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s detections at %v, River %v", c.name, got, c.want)
		}
	}
}

// River's DDM docstring: rng = random.Random(42); 1000 fair bits then 1000
// bits with P(1) = 0.7. Warning at 1084, change at 1334, warning at 1492.
func TestDDMDocstring(t *testing.T) {
	r := pyrand.NewPython(42)
	var xs []float64
	for i := 0; i < 1000; i++ {
		xs = append(xs, float64(int(r.Random()*2)))
	}
	for i := 0; i < 1000; i++ {
		x := 0.0
		if r.Random()*1.0 >= 0.3 { // bisect over cum_weights [0.3, 1.0]
			x = 1
		}
		xs = append(xs, x)
	}
	d := mustNew(t, "ddm", nil)
	var events []string
	printWarning := true
	for i, x := range xs {
		drift := d.Update(x)
		if d.Warning() && printWarning {
			events = append(events, "warning "+itoa(i))
			printWarning = false
		}
		if drift {
			events = append(events, "change "+itoa(i))
			printWarning = true
		}
	}
	want := []string{"warning 1084", "change 1334", "warning 1492"}
	if !slices.Equal(events, want) {
		t.Errorf("DDM events %v, River %v", events, want)
	}
}

func itoa(i int) string {
	b := []byte{}
	for {
		b = append([]byte{byte('0' + i%10)}, b...)
		i /= 10
		if i == 0 {
			return string(b)
		}
	}
}

// Small hand-checked sequences.
func TestHandMade(t *testing.T) {
	// Page-Hinkley: constant input never drifts; a jump of 10 after 30
	// zeros accumulates dev ~ 10 - mean per step and crosses 50 within a
	// few steps.
	ph := NewPageHinkley()
	for i := 0; i < 30; i++ {
		if ph.Update(0) {
			t.Fatal("page_hinkley fired on a constant stream")
		}
	}
	fired := -1
	for i := 0; i < 20 && fired < 0; i++ {
		if ph.Update(10) {
			fired = i
		}
	}
	// steps: mean after k tens = 10k/(30+k); sum_inc grows by 10-mean-0.005.
	// k=1: 9.677, k=2: 9.37 (19.05), k=3: 9.09 (28.1), k=4: 8.82 (36.9),
	// k=5: 8.57 (45.5), k=6: 8.33 (53.8) -> fires on the 6th (i=5).
	if fired != 5 {
		t.Errorf("page_hinkley fired after %d tens, want 6 (i=5)", fired)
	}
	if ph.Update(10) || ph.N != 1 {
		t.Errorf("page_hinkley did not start afresh after the drift (n=%v)", ph.N)
	}

	// DDM: no decision before warm_start; all-correct never drifts.
	d := NewDDM()
	for i := 0; i < 200; i++ {
		if d.Update(0) || d.Warning() {
			t.Fatal("ddm fired on an error-free stream")
		}
	}
	// p_min + s_min is 0 after 200 zeros, so the first error drifts.
	if !d.Update(1) {
		t.Error("ddm did not fire on the first error after a perfect run")
	}

	// ADWIN's exponential histogram after 64 zeros and 32 ones, max 5
	// buckets a row: 96 = 2x16 + 4x8 + 5x4 + 4x2 + 4x1, the ones in the
	// newest buckets.
	a := NewADWIN(0.002)
	for i := 0; i < 96; i++ {
		x := 0.0
		if i >= 64 {
			x = 1
		}
		a.insert(x)
	}
	wantRows := [][]float64{{1, 1, 1, 1}, {2, 2, 2, 2}, {4, 4, 4, 4, 4}, {0, 0, 0, 0}, {0, 0}}
	for i, w := range wantRows {
		if i >= len(a.rows) || !slices.Equal(a.rows[i].Total[:a.rows[i].N], w) {
			t.Fatalf("adwin row %d: %+v, want totals %v", i, a.rows, w)
		}
	}
	// It checks only every 32 updates, so a change is reported at a
	// multiple of 32; it then drops the old part and starts afresh on the
	// next update.
	a = NewADWIN(0.002)
	fired = -1
	for i := 0; i < 1000 && fired < 0; i++ {
		x := 0.0
		if i >= 64 {
			x = 1
		}
		if a.Update(x) {
			fired = i
		}
	}
	if fired < 64 || (fired+1)%32 != 0 || fired > 300 {
		t.Errorf("adwin fired at %d, want a clock tick soon after 64", fired)
	}
	if a.Width() >= float64(fired+1) {
		t.Errorf("adwin window %v after the drift, want the old part dropped", a.Width())
	}
	a.Update(1)
	if a.Width() != 1 {
		t.Errorf("adwin did not start afresh after a drift: width %v", a.Width())
	}

	// KSWIN needs a full window before testing.
	k := NewKSWIN(1)
	for i := 0; i < 99; i++ {
		if k.Update(float64(i % 2)) {
			t.Fatal("kswin fired before its window filled")
		}
	}
	// KS p-value, SciPy: ks_2samp([0]*30, [1]*30) -> D=1, p=2/C(60,30)
	k.a = make([]float64, 30)
	k.b = make([]float64, 30)
	for i := range k.b {
		k.b[i] = 1
	}
	st, p := k.ks2samp()
	if st != 1 || p > 1e-16 || p <= 0 {
		t.Errorf("ks2samp disjoint samples: D=%v p=%v", st, p)
	}
	// scipy.stats.ks_2samp(range(30), [x + 5 for x in range(30)]) gives
	// D=1/6, p=0.8079631540901426 (exact).
	for i := range k.a {
		k.a[i], k.b[i] = float64(i), float64(i+5)
	}
	st, p = k.ks2samp()
	if st != 5.0/30 || abs(p-0.8079631540901426) > 1e-12 {
		t.Errorf("ks2samp shifted ranges: D=%v p=%.16f", st, p)
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// errorStream draws 0/1 errors with rate p0 before change and p1 after.
func errorStream(seed uint64, n, change int, p0, p1 float64) []float64 {
	r := rand.New(rand.NewPCG(seed, 7))
	xs := make([]float64, n)
	for i := range xs {
		p := p0
		if i >= change {
			p = p1
		}
		if r.Float64() < p {
			xs[i] = 1
		}
	}
	return xs
}

// On seeded error streams whose rate jumps from 0.2 to 0.6 at 2000, each
// detector fires soon after the change, and rarely before it. The bounds
// sit a little above what these 100 seeds measure (see the log lines).
func TestDelayAndFalseAlarms(t *testing.T) {
	const seeds, n, change = 100, 4000, 2000
	cases := []struct {
		name      string
		within    int     // a detection counts when at most this late
		minDetect float64 // share of runs that detect the change in time
		maxMean   float64 // bound on the mean delay of those detections
		maxFalse  float64 // bound on false alarms per 1000 pre-change samples
	}{
		{"adwin", 400, 1, 200, 0.02},
		{"page_hinkley", 300, 1, 130, 0.02},
		{"ddm", 500, 0.9, 220, 0.3},
		// KSWIN compares the last 30 values with older ones of a 100-wide
		// window: it sees a change only while the window straddles it.
		{"kswin", 100, 0.75, 80, 0.05},
	}
	for _, c := range cases {
		var delays []int
		falseAlarms := 0
		for s := uint64(0); s < seeds; s++ {
			d := mustNew(t, c.name, nil)
			first := -1
			for i, x := range errorStream(s, n, change, 0.2, 0.6) {
				if !d.Update(x) {
					continue
				}
				if i < change {
					falseAlarms++
				} else if first < 0 {
					first = i - change
				}
			}
			if first >= 0 && first <= c.within {
				delays = append(delays, first)
			}
		}
		var sum, worst int
		for _, x := range delays {
			sum += x
			worst = max(worst, x)
		}
		mean := float64(sum) / float64(max(len(delays), 1))
		rate := float64(falseAlarms) / (seeds * change / 1000.0)
		t.Logf("%-12s detected within %d: %d/%d, mean delay %.1f, max %d; false alarms %d (%.3f per 1000 samples)",
			c.name, c.within, len(delays), seeds, mean, worst, falseAlarms, rate)
		if float64(len(delays)) < c.minDetect*seeds {
			t.Errorf("%s detected the change in time in %d/%d runs", c.name, len(delays), seeds)
		}
		if mean > c.maxMean {
			t.Errorf("%s mean delay %.1f, want <= %.0f", c.name, mean, c.maxMean)
		}
		if rate > c.maxFalse {
			t.Errorf("%s false alarm rate %.3f per 1000, want <= %.3f", c.name, rate, c.maxFalse)
		}
	}
}

// A restored detector continues exactly like the original.
func TestSnapshotRestore(t *testing.T) {
	xs := errorStream(3, 3000, 1500, 0.1, 0.5)
	for _, name := range Names() {
		a := mustNew(t, name, nil)
		for _, x := range xs[:1200] {
			a.Update(x)
		}
		b, err := a.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		c := mustNew(t, name, map[string]any(nil))
		if err := c.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		for i, x := range xs[1200:] {
			if a.Update(x) != c.Update(x) || a.Warning() != c.Warning() {
				t.Fatalf("%s: restored detector differs at %d", name, 1200+i)
			}
		}
		if err := c.UnmarshalBinary([]byte("nope")); err == nil {
			t.Errorf("%s accepted junk", name)
		}
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := New("cusum", nil); err == nil {
		t.Error("unknown detector accepted")
	}
	if _, err := New("adwin", map[string]any{"window": 3}); err == nil {
		t.Error("unknown parameter accepted")
	}
	if _, err := New("adwin", map[string]any{"delta": "x"}); err == nil {
		t.Error("bad delta accepted")
	}
	if _, err := New("kswin", map[string]any{"stat_size": 200}); err == nil {
		t.Error("stat_size > window_size accepted")
	}
	if _, err := New("page_hinkley", map[string]any{"mode": "sideways"}); err == nil {
		t.Error("bad mode accepted")
	}
	d := mustNew(t, "adwin", map[string]any{"delta": 0.01, "clock": 1.0})
	if p := Params(d); p["delta"] != 0.01 || p["clock"] != 1 || NameOf(d) != "adwin" {
		t.Errorf("params %v", p)
	}
}

func BenchmarkADWINUpdate(b *testing.B) {
	xs := errorStream(1, 1<<16, 1<<20, 0.2, 0.2)
	a := NewADWIN(0.002)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		a.Update(xs[i&(1<<16-1)])
	}
}

func BenchmarkKSWINUpdate(b *testing.B) {
	xs := errorStream(1, 1<<16, 1<<20, 0.2, 0.2)
	k := NewKSWIN(1)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		k.Update(xs[i&(1<<16-1)])
	}
}
