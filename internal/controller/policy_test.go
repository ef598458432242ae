package controller

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/olops/olops/internal/api"
	"github.com/olops/olops/internal/client"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func versionsAt(mins ...int) []api.Version {
	var vs []api.Version
	for i, m := range mins {
		vs = append(vs, api.Version{Version: i + 1, Created: t0.Add(time.Duration(m) * time.Minute), Learns: uint64(100 * (i + 1))})
	}
	return vs
}

func TestDecide(t *testing.T) {
	ev := api.DriftEvent{Index: 500, Time: t0.Add(30 * time.Minute), Metric: "accuracy", Before: 0.9, After: 0.6}
	tests := []struct {
		name     string
		policy   string
		versions []api.Version
		action   string
		version  int
	}{
		{"alert", "alert", versionsAt(0, 10), "alert", 0},
		{"empty policy alerts", "", nil, "alert", 0},
		{"unknown policy alerts", "whatever", nil, "alert", 0},
		{"reset", "reset", versionsAt(0), "reset", 0},
		{"rollback: newest before the drift", "rollback", versionsAt(0, 10, 20, 40), "rollback", 3},
		{"rollback: order of the list does not matter", "rollback", []api.Version{
			{Version: 7, Created: t0.Add(25 * time.Minute)}, {Version: 2, Created: t0}, {Version: 9, Created: t0.Add(31 * time.Minute)}}, "rollback", 7},
		{"rollback: only versions after the drift", "rollback", versionsAt(31, 45), "alert", 0},
		{"rollback: no versions", "rollback", nil, "alert", 0},
		{"rollback: a version at the drift's instant is not before it", "rollback", versionsAt(30), "alert", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(tt.policy, ev, tt.versions)
			if d.Action != tt.action || d.Version != tt.version {
				t.Fatalf("Decide = %+v, want %s version %d", d, tt.action, tt.version)
			}
			if d.Reason == "" {
				t.Error("no reason to log")
			}
		})
	}
}

func TestNewDrifts(t *testing.T) {
	evs := []api.DriftEvent{{Index: 10}, {Index: 20}, {Index: 30}}
	if got := NewDrifts(evs, 0); len(got) != 3 {
		t.Errorf("from 0: %d events, want 3", len(got))
	}
	if got := NewDrifts(evs, 20); len(got) != 1 || got[0].Index != 30 {
		t.Errorf("after 20: %+v, want only 30", got)
	}
	if got := NewDrifts(evs, 30); len(got) != 0 {
		t.Errorf("after 30: %+v, want none", got)
	}
}

// fakeModel records what a policy asked of the management API.
type fakeModel struct {
	drift     api.Drift
	versions  []api.Version
	rollbacks []int
	puts      [][]byte
	failPut   bool
}

func (f *fakeModel) Drift(context.Context) (*api.Drift, error)       { return &f.drift, nil }
func (f *fakeModel) Versions(context.Context) ([]api.Version, error) { return f.versions, nil }
func (f *fakeModel) Rollback(_ context.Context, n int) (*api.Model, error) {
	f.rollbacks = append(f.rollbacks, n)
	return &api.Model{Version: n}, nil
}

// The policies these unit tests cover never start a challenger; the
// challenger policy is tested against a real server.
func (f *fakeModel) Challenger(context.Context) (*api.Challenger, error) {
	return nil, &client.Error{Status: http.StatusNotFound}
}
func (f *fakeModel) StartChallenger(context.Context, []byte) (*api.Challenger, error) {
	return nil, errors.New("not expected")
}
func (f *fakeModel) PromoteChallenger(context.Context) (*api.Model, error) {
	return nil, errors.New("not expected")
}
func (f *fakeModel) DropChallenger(context.Context) error { return errors.New("not expected") }
func (f *fakeModel) PutModel(_ context.Context, doc []byte) (*api.Model, error) {
	if f.failPut {
		return nil, errors.New("refused")
	}
	f.puts = append(f.puts, doc)
	return &api.Model{}, nil
}

func TestApplyPolicy(t *testing.T) {
	ctx := context.Background()
	drifts := []api.DriftEvent{
		{Index: 100, Time: t0.Add(5 * time.Minute), Metric: "accuracy"},
		{Index: 200, Time: t0.Add(15 * time.Minute), Metric: "accuracy"},
		{Index: 300, Time: t0.Add(25 * time.Minute), Metric: "accuracy"},
	}
	cfg := []byte("the config")

	t.Run("alert touches nothing and remembers the newest", func(t *testing.T) {
		f := &fakeModel{drift: api.Drift{Events: drifts}}
		got, seen, err := ApplyPolicy(ctx, f, "m", "alert", cfg, 0)
		if err != nil || len(got) != 3 || seen != 300 || len(f.rollbacks)+len(f.puts) != 0 {
			t.Fatalf("applied %+v seen %d err %v; rollbacks %v puts %d", got, seen, err, f.rollbacks, len(f.puts))
		}
	})
	t.Run("handled events are not handled again", func(t *testing.T) {
		f := &fakeModel{drift: api.Drift{Events: drifts}}
		got, seen, err := ApplyPolicy(ctx, f, "m", "reset", cfg, 300)
		if err != nil || len(got) != 0 || seen != 300 || len(f.puts) != 0 {
			t.Fatalf("applied %+v seen %d err %v puts %d", got, seen, err, len(f.puts))
		}
	})
	t.Run("reset puts the same config once", func(t *testing.T) {
		f := &fakeModel{drift: api.Drift{Events: drifts}}
		got, seen, err := ApplyPolicy(ctx, f, "m", "reset", cfg, 100)
		if err != nil || seen != 300 || len(f.puts) != 1 || string(f.puts[0]) != "the config" {
			t.Fatalf("seen %d err %v puts %q", seen, err, f.puts)
		}
		if len(got) != 2 || got[0].Action != "reset" || got[1].Action != "alert" {
			t.Fatalf("applied %+v: want a reset for 200, then only an alert for 300", got)
		}
	})
	t.Run("rollback goes before the first new drift", func(t *testing.T) {
		f := &fakeModel{drift: api.Drift{Events: drifts}, versions: versionsAt(0, 10, 20, 30)}
		got, _, err := ApplyPolicy(ctx, f, "m", "rollback", cfg, 100)
		if err != nil || len(f.rollbacks) != 1 || f.rollbacks[0] != 2 {
			t.Fatalf("rollbacks %v err %v applied %+v: want one, to version 2 (10 min, before the drift at 15)", f.rollbacks, err, got)
		}
	})
	t.Run("a failed reset is reported, not fatal", func(t *testing.T) {
		f := &fakeModel{drift: api.Drift{Events: drifts[:1]}, failPut: true}
		got, seen, err := ApplyPolicy(ctx, f, "m", "reset", cfg, 0)
		if err != nil || len(got) != 1 || got[0].Error == "" || seen != 100 {
			t.Fatalf("applied %+v seen %d err %v: want the failure in the result", got, seen, err)
		}
	})
}
