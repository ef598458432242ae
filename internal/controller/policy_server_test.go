package controller

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/olops/olops/internal/api"
	"github.com/olops/olops/internal/client"
	"github.com/olops/olops/internal/config"
	"github.com/olops/olops/server"
)

// startServer runs a real model server in-process on free ports.
func startServer(t *testing.T, doc string) (pub, mgmt *client.Client) {
	t.Helper()
	cfg, err := config.Parse([]byte(doc), "olops.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	urls := make(chan string, 1)
	srv, err := server.New(ctx, cfg, server.Options{DataDir: t.TempDir(), PublicAddr: "127.0.0.1:0", ManagementAddr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler),
		OnListen: func(pub, mgmt string) { urls <- pub + " " + mgmt }})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	})
	var both string
	select {
	case both = <-urls:
	case err := <-done:
		t.Fatalf("server stopped: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("server did not listen within 20s")
	}
	p, m, _ := strings.Cut(both, " ")
	return client.New(p, ""), client.New(m, "")
}

// driftStream is n samples where label = x > 0.5, then n where it is
// flipped: an abrupt concept drift any detector sees.
func driftStream(n int) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for i := 0; i < 2*n; i++ {
		x := float64((i*7919)%1000) / 1000
		pos := x > 0.5
		if i >= n {
			pos = !pos
		}
		label := "0"
		if pos {
			label = "1"
		}
		enc.Encode(api.StreamLine{Features: api.Features{"x": x}, Label: label})
	}
	return buf.Bytes()
}

// The policies against a real server: a drift, then rollback returns to
// the version saved before it, and reset starts a fresh version.
func TestPolicyOnRealServer(t *testing.T) {
	for _, policy := range []string{"rollback", "reset"} {
		t.Run(policy, func(t *testing.T) {
			ctx := context.Background()
			doc := modelYAML("drifty", "logreg", "  policy:\n    onDrift: "+policy+"\n")
			pub, m := startServer(t, doc)
			// Half a stream learned, then a version: the good state.
			pre := driftStream(1500)
			half := bytes.SplitAfterN(pre, []byte("\n"), 1001)
			first := bytes.Join(half[:1000], nil)
			if err := pub.Stream(ctx, bytes.NewReader(first), func(api.StreamResult) error { return nil }); err != nil {
				t.Fatal(err)
			}
			good, err := m.Snapshot(ctx, "before the drift")
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(10 * time.Millisecond) // drift events must be strictly after the version
			if err := pub.Stream(ctx, bytes.NewReader(half[1000]), func(api.StreamResult) error { return nil }); err != nil {
				t.Fatal(err)
			}
			d, err := m.Drift(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Events) == 0 {
				t.Fatal("the flipped stream raised no drift event: the policy has nothing to act on")
			}
			before, err := m.Model(ctx)
			if err != nil {
				t.Fatal(err)
			}
			applied, seen, err := ApplyPolicy(ctx, m, "drifty", policy, []byte(doc), 0)
			if err != nil {
				t.Fatal(err)
			}
			if seen != d.Events[len(d.Events)-1].Index || len(applied) != len(d.Events) {
				t.Fatalf("seen %d, applied %d of %d events", seen, len(applied), len(d.Events))
			}
			if applied[0].Action != policy || applied[0].Error != "" {
				t.Fatalf("first decision %+v, want %s done", applied[0], policy)
			}
			after, err := m.Model(ctx)
			if err != nil {
				t.Fatal(err)
			}
			switch policy {
			case "rollback":
				if applied[0].Version != good.Version {
					t.Fatalf("rolled back to version %d, want %d (saved before the drift)", applied[0].Version, good.Version)
				}
				if after.Version != good.Version {
					t.Fatalf("model is at version %d after rollback, want %d", after.Version, good.Version)
				}
			case "reset":
				if after.Version <= before.Version {
					t.Fatalf("version %d after reset, was %d: want a new version", after.Version, before.Version)
				}
			}
			// Nothing new: nothing more happens.
			again, _, err := ApplyPolicy(ctx, m, "drifty", policy, []byte(doc), seen)
			if err != nil || len(again) != 0 {
				t.Fatalf("second application: %+v %v", again, err)
			}
		})
	}
}

// The challenger policy against a real server: a drift starts a fresh
// model in shadow; it is promoted once it has learned enough events and
// scores better than the champion on them.
func TestChallengerPolicyOnRealServer(t *testing.T) {
	ctx := context.Background()
	doc := modelYAML("drifty", "logreg", "  policy:\n    onDrift: challenger\n    challenger:\n      minEvents: 300\n")
	pol := config.ChallengerPolicy{MinEvents: 300}
	pub, m := startServer(t, doc)
	stream := driftStream(1500)
	lines := bytes.SplitAfter(stream, []byte("\n"))
	send := func(from, to int) {
		t.Helper()
		if err := pub.Stream(ctx, bytes.NewReader(bytes.Join(lines[from:to], nil)), func(api.StreamResult) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	send(0, 1700)
	d, err := m.Drift(ctx)
	if err != nil || len(d.Events) == 0 {
		t.Fatalf("no drift to act on: %v %v", d, err)
	}
	if j, err := JudgeChallenger(ctx, m, "drifty", pol, 1000); err != nil || j != nil {
		t.Fatalf("judged %+v (%v) before any challenger", j, err)
	}
	applied, seen, err := ApplyPolicy(ctx, m, "drifty", config.OnDriftChallenger, []byte(doc), 0)
	if err != nil {
		t.Fatal(err)
	}
	if applied[0].Action != config.OnDriftChallenger || applied[0].Error != "" {
		t.Fatalf("first decision %+v, want a challenger started", applied[0])
	}
	for _, a := range applied[1:] {
		if a.Action != "alert" {
			t.Fatalf("later decision %+v, want alert", a)
		}
	}
	c, err := m.Challenger(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.StartSeq != 1700 {
		t.Fatalf("challenger starts after seq %d, want 1700", c.StartSeq)
	}

	// Too few events: wait.
	send(1700, 1800)
	j, err := JudgeChallenger(ctx, m, "drifty", pol, 1000)
	if err != nil || j == nil || j.Action != "wait" {
		t.Fatalf("after 100 events: %+v %v, want wait", j, err)
	}
	// A new drift while it runs only alerts.
	before, _ := m.Model(ctx)
	send(1800, 2000)
	again, _, err := ApplyPolicy(ctx, m, "drifty", config.OnDriftChallenger, []byte(doc), seen)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range again {
		if a.Action != "alert" || !strings.Contains(a.Reason, "already learning in shadow") {
			t.Fatalf("drift during the challenge: %+v, want alert", a)
		}
	}
	j, err = JudgeChallenger(ctx, m, "drifty", pol, 1000)
	if err != nil || j == nil {
		t.Fatal(j, err)
	}
	if j.Action != "promote" || j.Error != "" {
		t.Fatalf("after 300 events: %+v, want promote (the fresh model fits the new concept)", j)
	}
	after, err := m.Model(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.Version <= before.Version {
		t.Fatalf("version %d after promotion, was %d", after.Version, before.Version)
	}
	if _, err := m.Challenger(ctx); !client.NotFound(err) {
		t.Fatalf("a challenger after promotion: %v", err)
	}
}

func TestJudge(t *testing.T) {
	c := func(learns uint64, metric string, mine, theirs float64) api.Challenger {
		return api.Challenger{Learns: learns, Metric: metric, Challenger: map[string]float64{metric: mine}, Champion: map[string]float64{metric: theirs}}
	}
	p := config.ChallengerPolicy{MinEvents: 100, Margin: 0.01}
	for _, tc := range []struct {
		c    api.Challenger
		want string
	}{
		{c(99, "accuracy", 0.9, 0.5), "wait"},
		{c(100, "accuracy", 0.9, 0.5), "promote"},
		{c(100, "accuracy", 0.505, 0.5), "wait"}, // within the margin
		{c(999, "accuracy", 0.4, 0.5), "wait"},
		{c(1000, "accuracy", 0.4, 0.5), "drop"}, // ten times minEvents
		{c(100, "logloss", 0.3, 0.5), "promote"},
		{c(100, "logloss", 0.6, 0.5), "wait"},
		{c(100, "mae", 1.0, 1.5), "promote"},
		{api.Challenger{Learns: 500, Metric: "accuracy"}, "wait"}, // nothing scored
	} {
		if got := Judge(tc.c, p, 1000); got.Action != tc.want {
			t.Errorf("%+v: %s (%s), want %s", tc.c, got.Action, got.Reason, tc.want)
		}
	}
}
