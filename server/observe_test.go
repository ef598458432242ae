package server

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
	"unsafe"

	"github.com/olops/olops/internal/api"
	"github.com/olops/olops/internal/config"
	"github.com/olops/olops/internal/learn"
)

// fireAt is a drift detector that fires on its n-th update.
type fireAt struct {
	n, seen int
}

func (d *fireAt) Update(float64) bool              { d.seen++; return d.seen == d.n }
func (d *fireAt) Warning() bool                    { return false }
func (d *fireAt) Reset()                           { d.seen = 0 }
func (d *fireAt) MarshalBinary() ([]byte, error)   { return []byte{byte(d.seen)}, nil }
func (d *fireAt) UnmarshalBinary(b []byte) error   { d.seen = int(b[0]); return nil }
func (d *fireAt) Clone() learn.Detector            { c := *d; return &c }
func testSample(i int) sample                      { return sample{{Name: "a", V: value{Num: float64(i % 5)}}} }
func testLabel(i int) string                       { return []string{"0", "1"}[i%3%2] }
func newTestModel(t *testing.T, window int) *model { return mustModel(t, window) }

func mustModel(t *testing.T, window int) *model {
	t.Helper()
	cfg := config.Default("logreg", "y", learn.Binary)
	cfg.Spec.Window = window
	cfg.Spec.Drift.Detector = "none" // the tests set their own
	m, err := newModel(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestDriftBeforeAndAfter: Before is the rolling metric at detection;
// After stays unknown (0, no AfterIndex) until a full window of learns
// later, then is the rolling metric at that seq, and survives a restore.
func TestDriftBeforeAndAfter(t *testing.T) {
	const window, fire = 10, 25
	m := newTestModel(t, window)
	m.det = &fireAt{n: fire}
	seq := uint64(100) // the server's seq need not start at 1
	learnN := func(n int) {
		for range n {
			seq++
			if err := m.apply(&event{X: testSample(int(seq)), Label: testLabel(int(seq))}, seq, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	learnN(fire + 3)
	if len(m.events) != 1 || len(m.due) != 1 {
		t.Fatalf("events %+v due %v", m.events, m.due)
	}
	ev := m.events[0]
	if ev.Index != 100+fire || ev.AfterIndex != 0 || ev.After != 0 {
		t.Fatalf("at detection: %+v", ev)
	}
	if ev.Before <= 0 || ev.Before > 1 {
		t.Fatalf("before %v is not a rolling accuracy", ev.Before)
	}
	st, err := m.state()
	if err != nil {
		t.Fatal(err)
	}
	// Restored before the window passed: still pending, settled alike.
	r, err := restoreModel(m.cfg, st)
	if err != nil {
		t.Fatal(err)
	}
	r.det = &fireAt{n: fire, seen: 1 << 20}
	m.det = &fireAt{n: fire, seen: 1 << 20}
	for _, mm := range []*model{m, r} {
		for s := seq + 1; s <= seq+uint64(window); s++ {
			if err := mm.apply(&event{X: testSample(int(s)), Label: testLabel(int(s))}, s, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	want, _ := m.set.Value("accuracy", true)
	for name, mm := range map[string]*model{"live": m, "restored": r} {
		got := mm.events[0]
		// Due a window of learns later, counting the detecting one.
		if got.AfterIndex != ev.Index+window-1 || got.After != want || len(mm.due) != 0 || mm.settled != 1 {
			t.Errorf("%s: after %+v (want after %v at %d), due %v", name, got, want, ev.Index+window-1, mm.due)
		}
	}
}

// TestMetricsAbsentUntilScored: no metric before anything was scored,
// never NaN or -0.
func TestMetricsAbsentUntilScored(t *testing.T) {
	m := newTestModel(t, 10)
	for _, rolling := range []bool{false, true} {
		if v := metricValues(m.set, rolling); len(v) != 0 {
			t.Errorf("rolling=%v before learning: %v", rolling, v)
		}
	}
	for i := range 5 {
		if err := m.apply(&event{X: testSample(i), Label: testLabel(i)}, uint64(i+1), nil); err != nil {
			t.Fatal(err)
		}
	}
	v := metricValues(m.set, true)
	if _, ok := v["accuracy"]; !ok {
		t.Errorf("no rolling accuracy after 5 learns: %v", v)
	}
	for k, x := range v {
		if math.IsNaN(x) || math.Signbit(x) && x == 0 {
			t.Errorf("%s = %v", k, x)
		}
	}
	if finite(math.Copysign(0, -1)) != 0 || math.Signbit(finite(math.Copysign(0, -1))) {
		t.Error("finite keeps -0")
	}
}

// TestLatencySummary: 0 before anything; stream lines count.
func TestLatencySummary(t *testing.T) {
	var l latencies
	if s := l.summary(); s.P50 != 0 || s.P99 != 0 {
		t.Fatalf("empty: %+v", s)
	}
	l.stream.observe(10 * time.Second) // a whole stream request: not counted
	l.streamLine.observeN(100*time.Microsecond, 1000)
	s := l.summary()
	if s.P50 < 0.1 || s.P50 > 0.13 || s.P99 != s.P50 {
		t.Fatalf("stream lines only: %+v", s)
	}
	l.predict.observeN(5*time.Millisecond, 100)
	if s := l.summary(); s.P99 < 5 || s.P50 > 0.13 {
		t.Fatalf("with predictions: %+v", s)
	}
}

// TestDriftUpdateIsPublished: the learner sends the drift event when it
// is detected and again once After is known.
func TestDriftUpdateIsPublished(t *testing.T) {
	cfg := config.Default("logreg", "y", learn.Binary)
	cfg.Spec.Window = 4
	s, err := New(context.Background(), cfg, Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.st.Close()
	s.m.det = &fireAt{n: 3}
	c, _ := s.hub.subscribe()
	items := make([]streamItem, 12)
	for i := range items {
		items[i] = streamItem{line: i + 1, label: true, ev: event{X: testSample(i), Label: testLabel(i)}}
	}
	j := &job{kind: jobStream, items: items, done: make(chan struct{})}
	s.runLearns([]*job{j})
	var got []api.DriftEvent
	for len(c) > 0 {
		if e := <-c; e.Type == "drift" {
			got = append(got, *e.Drift)
		}
	}
	if len(got) != 2 || got[0].Index != 3 || got[0].AfterIndex != 0 || got[1].Index != 3 || got[1].AfterIndex != 6 {
		t.Fatalf("drift events sent: %+v", got)
	}
	if !items[2].out.drift || items[2].seq != 3 {
		t.Errorf("line 3: %+v", items[2])
	}
}

// TestSimpleFloatMatchesParseFloat: the fast number path (numScan.exact) gives the
// same bits as strconv.ParseFloat, or declines.
func TestSimpleFloatMatchesParseFloat(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []string{"0", "-0", "1", "0.1", "0.3", "123456789012345", "1234567890123456", "0.000000000000001", "-3.14159", "9007199254740993", "9007199254740992", "0.9007199254740993", "12345678901234567890", "1.7976931348623157", "0.00000000000000000000001", "5e3", "1.", "."}
	for range 20000 {
		ip := rng.Uint64N(1 << uint(rng.IntN(50)+1))
		fr := rng.Uint64N(1_000_000_000)
		cases = append(cases, fmt.Sprintf("%d.%0*d", ip, rng.IntN(10)+1, fr%1000000), fmt.Sprintf("-%d", ip), fmt.Sprintf("0.%09d", fr),
			strconv.FormatFloat(rng.Float64(), 'f', -1, 64), strconv.FormatFloat(rng.Float64()*1e6, 'f', -1, 64), fmt.Sprintf("%g", float64(rng.IntN(997))/997))
	}
	fast := 0
	for _, c := range cases {
		n, ok := scanNumber([]byte(c), 0)
		if !ok || n.end != len(c) {
			continue
		}
		f, ok := n.exact()
		if !ok {
			continue
		}
		fast++
		want, err := strconv.ParseFloat(c, 64)
		if err != nil || math.Float64bits(f) != math.Float64bits(want) {
			t.Fatalf("%s: fast %v (%x), ParseFloat %v (%x) %v", c, f, math.Float64bits(f), want, math.Float64bits(want), err)
		}
	}
	if fast < len(cases)/2 {
		t.Errorf("only %d of %d numbers took the fast path", fast, len(cases))
	}
}

// TestStreamBufReusesStrings: a second line with the same names gets
// the same strings, and samples cut from the slab do not overlap.
func TestStreamBufReusesStrings(t *testing.T) {
	var buf fastBuf
	var xs []sample
	for i := range 3 {
		r, ok := parseFast(fmt.Appendf(nil, `{"features":{"b":%d,"a":"x%d"},"label":"1"}`, i, i), false, true, &buf)
		if !ok {
			t.Fatal("fast path declined")
		}
		x, ok := r.sampleOf(nil)
		if !ok {
			t.Fatal("sample")
		}
		xs = append(xs, x)
	}
	for i, x := range xs {
		if len(x) != 2 || x[0].Name != "a" || x[0].V.Str != fmt.Sprintf("x%d", i) || x[1].V.Num != float64(i) {
			t.Errorf("line %d: %+v", i, x)
		}
	}
	if unsafe.StringData(xs[0][0].Name) != unsafe.StringData(xs[2][0].Name) {
		t.Error("the name was allocated again")
	}
}

// runLearns applies and commits one batch of learn and stream jobs, as
// the learner goroutine does.
func (s *Server) runLearns(batch []*job) { s.commitBatch(s.applyBatch(batch)) }
