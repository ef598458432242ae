package tui

import (
	"context"
	"errors"
	"math"
	"sync"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/olops/olops/internal/api"
)

// t0 is the fixed start of every fixture, so golden files do not move.
var t0 = time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)

// fakeSource records the actions the model asks for.
type fakeSource struct {
	mu         sync.Mutex
	calls      []string
	rollbacks  []int
	learning   bool
	versions   []api.Version
	challenger *api.Challenger // nil: none runs
}

func (f *fakeSource) record(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, s)
}

func (f *fakeSource) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeSource) Model(ctx context.Context) (*api.Model, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	md := testModel(3)
	md.Learning = f.learning
	return md, nil
}
func (f *fakeSource) Metrics(ctx context.Context) (*api.Metrics, error) {
	m := testMetrics(0.9, 5000)
	return &m, nil
}
func (f *fakeSource) Drift(ctx context.Context) (*api.Drift, error) { return &api.Drift{}, nil }
func (f *fakeSource) Versions(ctx context.Context) ([]api.Version, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]api.Version(nil), f.versions...), nil
}
func (f *fakeSource) Challenger(ctx context.Context) (*api.Challenger, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.challenger == nil {
		return nil, nil
	}
	c := *f.challenger
	return &c, nil
}
func (f *fakeSource) Events(ctx context.Context, fn func(api.Event)) error {
	<-ctx.Done()
	return ctx.Err()
}
func (f *fakeSource) Snapshot(ctx context.Context, note string) (*api.Version, error) {
	f.record("snapshot " + note)
	return &api.Version{Version: 4, Note: note}, nil
}
func (f *fakeSource) Rollback(ctx context.Context, v int) error {
	f.record("rollback")
	f.mu.Lock()
	f.rollbacks = append(f.rollbacks, v)
	f.mu.Unlock()
	return nil
}
func (f *fakeSource) Pause(ctx context.Context) error {
	f.record("pause")
	f.mu.Lock()
	f.learning = false
	f.mu.Unlock()
	return nil
}
func (f *fakeSource) Resume(ctx context.Context) error {
	f.record("resume")
	return errors.New("not now")
}

func testModel(version int) *api.Model {
	return &api.Model{
		Name: "sea", Task: "binary", Version: version, Learning: true,
		StartedAt: t0.Add(-90 * time.Second),
		Counters:  api.Counters{Learns: 0},
	}
}

func testVersions() []api.Version {
	return []api.Version{
		{Version: 1, Created: t0.Add(-time.Hour), Learns: 0, Note: "initial"},
		{Version: 2, Created: t0.Add(-30 * time.Minute), Learns: 8000, Note: "nightly"},
		{Version: 3, Created: t0.Add(-time.Minute), Learns: 12000, Current: true},
	}
}

// testChallenger is a logreg challenger after learns events, worse than
// the champion on accuracy by 0.0080.
func testChallenger(learns uint64) *api.Challenger {
	return &api.Challenger{
		Model: "logreg", Started: t0.Add(-time.Minute), StartSeq: 17000, Learns: learns, Metric: "accuracy",
		Challenger: map[string]float64{"accuracy": 0.8612, "f1": 0.8521, "logloss": 0.3716, "roc_auc": 0.9125},
		Champion:   map[string]float64{"accuracy": 0.8692, "f1": 0.8570, "logloss": 0.3525, "roc_auc": 0.9188},
	}
}

// testMetrics is a binary classifier's metrics with rolling accuracy acc
// after learns events.
func testMetrics(acc float64, learns uint64) api.Metrics {
	return api.Metrics{
		Task:    "binary",
		Overall: map[string]float64{"accuracy": 0.85, "f1": 0.8, "logloss": 0.41, "roc_auc": 0.9},
		Rolling: map[string]float64{"accuracy": acc, "f1": acc - 0.05, "logloss": 0.5 - acc/4, "roc_auc": acc + 0.02},
		Window:  1000,
		Counters: api.Counters{
			Predictions: learns, Learns: learns,
		},
		Rates:     api.Rates{Predictions: 900 + 100*math.Sin(float64(learns)/700), Learns: 850 + 120*math.Cos(float64(learns)/900)},
		LatencyMs: api.Latency{P50: 0.21, P99: 1.4},
	}
}

// tick is the n-th metrics event of a stream that learns 500 events a
// second, with accuracy falling after event 10,000 (a drift) and
// recovering.
func tick(target, n int) EventMsg {
	learns := uint64(500 * n)
	acc := 0.88 + 0.02*math.Sin(float64(n)/3)
	if learns > 10000 {
		k := float64(learns-10000) / 500
		acc = 0.62 + 0.25*(1-math.Exp(-k/6)) + 0.01*math.Sin(float64(n)/2)
	}
	m := testMetrics(acc, learns)
	return EventMsg{Target: target, Event: api.Event{Type: "metrics", Time: t0.Add(time.Duration(n) * time.Second), Metrics: &m}}
}

func driftEvent(target int, index uint64, at time.Time) EventMsg {
	return EventMsg{Target: target, Event: api.Event{Type: "drift", Time: at, Drift: &api.DriftEvent{
		Index: index, Time: at, Metric: "accuracy", Before: 0.89, After: 0.64,
	}}}
}

func connected(target int, src *fakeSource) []any {
	m := testMetrics(0.87, 0)
	m.Rolling = map[string]float64{}
	return []any{
		SnapshotMsg{Target: target, Time: t0, Model: testModel(3), Metrics: &m,
			Drift: &api.Drift{Detector: "adwin", Watches: "error"}, Versions: testVersions()},
		ConnMsg{Target: target, Time: t0, State: Live},
	}
}

func stripAll(rows []string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = ansi.Strip(r)
	}
	return out
}
