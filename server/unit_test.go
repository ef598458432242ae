package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/olops/olops/internal/api"
	"github.com/olops/olops/internal/config"
	"github.com/olops/olops/internal/learn"
)

func bufioReader(s string, size int) *bufio.Reader {
	return bufio.NewReaderSize(strings.NewReader(s), size)
}

func TestIDCacheBoundsAndExpiry(t *testing.T) {
	c := newIDCache(3, time.Minute)
	now := time.Now()
	for i, id := range []string{"a", "b", "c", "d"} {
		c.put(id, sample{{Name: id}}, nil, now.Add(time.Duration(i)*time.Second))
	}
	if _, _, ok := c.get("a", now); ok {
		t.Error("the oldest entry survived past the size bound")
	}
	if x, _, ok := c.get("d", now.Add(4*time.Second)); !ok || x[0].Name != "d" {
		t.Error("the newest entry is missing")
	}
	if _, _, ok := c.get("b", now.Add(2*time.Minute)); ok {
		t.Error("an expired entry was returned")
	}
	c.remove("c")
	if _, _, ok := c.get("c", now); ok {
		t.Error("a removed entry was returned")
	}
	// Expired entries are dropped on insert.
	c.put("e", nil, nil, now.Add(time.Hour))
	if n := c.len(); n != 1 {
		t.Errorf("%d entries kept after expiry, want 1", n)
	}
}

func TestBucket(t *testing.T) {
	b := newBucket(1000, 5)
	n := 0
	for range 10 {
		if b.allow() {
			n++
		}
	}
	if n != 5 {
		t.Errorf("burst 5 allowed %d", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.wait(ctx, 20); err != nil {
		t.Fatalf("wait for 20 tokens at 1000/s: %v", err)
	}
	slow := newBucket(0.001, 1)
	slow.allow()
	ctx2, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	if err := slow.wait(ctx2, 1); err == nil {
		t.Error("wait returned without a token")
	}
}

func TestHistogramQuantiles(t *testing.T) {
	var h histogram
	for i := range 100 {
		h.observe(time.Duration(i+1) * 10 * time.Microsecond)
	}
	p50, p99 := h.quantile(0.5), h.quantile(0.99)
	if p50 < 0.45 || p50 > 0.65 || p99 < 0.95 || p99 > 1.25 {
		t.Errorf("p50 %.3f ms, p99 %.3f ms: want about 0.5 and 1", p50, p99)
	}
}

func TestEventRoundTrip(t *testing.T) {
	e := event{X: sample{{Name: "a", V: value{Num: -0.1}}, {Name: "b", V: value{Str: "ü", IsStr: true}}}, Label: "yes", Time: -5}
	got, err := decodeEvent(e.appendTo(nil))
	if err != nil || got.Label != e.Label || got.Time != e.Time || got.X[0] != e.X[0] || got.X[1] != e.X[1] {
		t.Fatalf("%+v, %v", got, err)
	}
	if _, err := decodeEvent(e.appendTo(nil)[:5]); err == nil {
		t.Fatal("a truncated event decoded")
	}
}

func TestFastResultMatchesEncodingJSON(t *testing.T) {
	for _, task := range []learn.Task{learn.Binary, learn.Multiclass, learn.Regression} {
		name := "logreg"
		if task == learn.Regression {
			name = "linreg"
		}
		m, err := newModel(config.Default(name, "y", task))
		if err != nil {
			t.Fatal(err)
		}
		m.p.Labels = []string{"no", "yes", "maybe"}[:max(2, len(m.p.Labels))]
		if task == learn.Multiclass {
			m.p.Labels = []string{"b", "a", "c"}
		}
		for _, o := range []outcome{
			{empty: true},
			{label: "yes", value: 3.25, proba: []float64{0.25, 0.75}},
			{label: "a", value: -1e-9, proba: []float64{1e-7, 0.5, 1 - 1e-7 - 0.5}, drift: true},
			{label: "no", value: 1e22, proba: []float64{0, 1}},
			{label: "yes", value: 0, proba: []float64{2.5e-300, 1}},
		} {
			it := streamItem{line: 7, seq: 42, out: o}
			got, ok := appendFastResult(nil, m, &it)
			if !ok {
				t.Fatalf("%s %+v: fast path refused", task, o)
			}
			res := api.StreamResult{Line: 7, Seq: 42, Drift: o.drift}
			res.Prediction, res.Proba = m.answer(&o)
			want, _ := json.Marshal(res)
			if string(got) != string(want)+"\n" {
				t.Errorf("%s:\nfast %s\njson %s", task, got, want)
			}
			got, ok = appendFastPrediction(nil, m, &o, "p-1", 3)
			if !ok {
				t.Fatalf("%s %+v: fast prediction refused", task, o)
			}
			pr := api.Prediction{ID: "p-1", ModelVersion: 3}
			pr.Prediction, pr.Proba = m.answer(&o)
			want, _ = json.Marshal(pr)
			if string(got) != string(want)+"\n" {
				t.Errorf("%s:\nfast %s\njson %s", task, got, want)
			}
		}
	}
	if _, ok := appendJSONString(nil, `a"b`); ok {
		t.Error("a quote was not escaped")
	}
}

func TestLateLabelScoresTheServedPrediction(t *testing.T) {
	m, err := newModel(config.Default("logreg", "y", learn.Binary))
	if err != nil {
		t.Fatal(err)
	}
	x := sample{{Name: "a", V: value{Num: 1}}}
	// Served "1" with certainty, label 1: a hit, whatever the model says now.
	if err := m.apply(&event{X: x, Label: "1", Served: &served{Class: 1, Proba: []float64{0, 1}}}, 1, nil); err != nil {
		t.Fatal(err)
	}
	// Served "0", label 1: a miss.
	if err := m.apply(&event{X: x, Label: "1", Served: &served{Class: 0, Proba: []float64{1, 0}}}, 2, nil); err != nil {
		t.Fatal(err)
	}
	if acc := m.set.Overall()["accuracy"]; acc != 0.5 {
		t.Fatalf("accuracy %v, want 0.5 from the two served predictions", acc)
	}
	// The served prediction survives the log encoding.
	e := event{X: x, Label: "1", Time: 3, Served: &served{Version: 4, Class: 1, Proba: []float64{0.25, 0.75}, Value: 2}}
	got, err := decodeEvent(e.appendTo(nil))
	if err != nil || got.Served == nil || got.Served.Version != 4 || got.Served.Proba[1] != 0.75 || got.Served.Value != 2 || got.Served.Class != 1 {
		t.Fatalf("%+v %v", got.Served, err)
	}
}

// TestIDCacheMatchesMap drives the cache with random puts, removes and
// reused ids and checks it against a map with the same size bound.
func TestIDCacheMatchesMap(t *testing.T) {
	const max = 50
	c := newIDCache(max, time.Hour)
	type ref struct {
		name string
		gen  int
	}
	want := map[string]ref{}
	var order []string // ids by put, oldest first (a reused id moves to the end)
	now := time.Now()
	rng := uint64(1)
	next := func(n uint64) uint64 { rng = rng*6364136223846793005 + 1442695040888963407; return (rng >> 33) % n }
	for step := range 20000 {
		id := fmt.Sprint(next(120))
		switch next(4) {
		case 0:
			c.remove(id)
			delete(want, id)
		default:
			name := fmt.Sprint("f", step)
			c.put(id, sample{{Name: name}}, nil, now)
			want[id] = ref{name: name, gen: step}
			order = slices.DeleteFunc(order, func(s string) bool { return s == id })
			order = append(order, id)
			// The ring holds max slots, removed ones included: an id
			// survives while fewer than max puts came after it.
		}
		if step%97 == 0 {
			for id := range want {
				if _, _, ok := c.get(id, now); !ok {
					// Evicted by the size bound: only the oldest may be.
					delete(want, id)
				}
			}
			for id, r := range want {
				x, _, ok := c.get(id, now)
				if !ok || len(x) != 1 || x[0].Name != r.name {
					t.Fatalf("step %d: id %s: got %v %v, want %s", step, id, x, ok, r.name)
				}
			}
			if c.len() != len(want) {
				t.Fatalf("step %d: %d kept, want %d", step, c.len(), len(want))
			}
			if c.len() > max {
				t.Fatalf("step %d: %d kept, over %d", step, c.len(), max)
			}
		}
	}
	// The newest max/2 puts are all still there.
	for _, id := range order[len(order)-max/2:] {
		if r, ok := want[id]; ok {
			if x, _, ok := c.get(id, now); !ok || x[0].Name != r.name {
				t.Fatalf("recent id %s lost", id)
			}
		}
	}
}
