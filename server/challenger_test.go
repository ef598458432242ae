package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/olops/olops/internal/api"
	"github.com/olops/olops/internal/client"
	"github.com/olops/olops/internal/config"
	"github.com/olops/olops/internal/learn"
)

// challengeRow is row i of a stream whose concept flips at flip: y is
// x > 0.4 before and x <= 0.4 after.
func challengeRow(i, flip int) (api.Features, string) {
	x := float64((i*7919)%1000) / 1000
	z := float64((i*104729)%997) / 997
	y := x > 0.4
	if i >= flip {
		y = !y
	}
	return api.Features{"x": x, "z": z}, fmt.Sprint(y)
}

type inproc struct {
	pub, mgmt *client.Client
	stop      func()
}

func startInProcess(t *testing.T, cfg *config.Config, dir string) inproc {
	t.Helper()
	urls := make(chan [2]string, 1)
	srv, err := New(context.Background(), cfg, Options{DataDir: dir, PublicAddr: "127.0.0.1:0", ManagementAddr: "127.0.0.1:0",
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), OnListen: func(p, m string) { urls <- [2]string{p, m} }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	u := <-urls
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
	t.Cleanup(stop)
	return inproc{pub: client.New(u[0], ""), mgmt: client.New(u[1], ""), stop: stop}
}

// stream learns rows [from, to) and returns each row's served prediction.
func stream(t *testing.T, c *client.Client, from, to, flip int) []api.StreamResult {
	t.Helper()
	var body bytes.Buffer
	for i := from; i < to; i++ {
		x, y := challengeRow(i, flip)
		b, _ := json.Marshal(api.StreamLine{Features: x, Label: y})
		body.Write(append(b, '\n'))
	}
	var out []api.StreamResult
	err := c.Stream(context.Background(), &body, func(r api.StreamResult) error {
		if r.Error != "" {
			return fmt.Errorf("line %d: %s", r.Line, r.Error)
		}
		out = append(out, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestChallengerLearnsInShadowAndPromotes: a challenger learns exactly
// the events after it started, is scored beside the champion on the same
// events, survives a restart, and once promoted serves bit-identically
// to a fresh model that learned those events.
func TestChallengerLearnsInShadowAndPromotes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := config.Default("logreg", "y", learn.Binary)
	cfg.Spec.Snapshots.Every = 70 // snapshots fall inside the challenge
	const flip, started = 300, 300
	s := startInProcess(t, cfg, dir)

	if _, err := s.mgmt.Challenger(ctx); !client.NotFound(err) {
		t.Fatalf("GET /v1/challenger before any: %v, want 404", err)
	}
	if _, err := s.mgmt.PromoteChallenger(ctx); !client.NotFound(err) {
		t.Fatalf("promote with no challenger: %v, want 404", err)
	}
	other := *cfg
	other.Spec.Target = "other"
	if _, err := s.mgmt.StartChallenger(ctx, []byte(mustMarshal(t, &other))); err == nil || !strings.Contains(err.Error(), "422") {
		t.Fatalf("a challenger with another target: %v, want 422", err)
	}

	stream(t, s.pub, 0, started, flip)
	c, err := s.mgmt.StartChallenger(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.StartSeq != started || c.Learns != 0 || c.Model != "logreg" {
		t.Fatalf("new challenger %+v: want start_seq %d, 0 learns", c, started)
	}

	// The champion's score over the challenge is its served predictions'.
	served := stream(t, s.pub, started, 500, flip)
	c, err = s.mgmt.Challenger(ctx)
	if err != nil {
		t.Fatal(err)
	}
	right := 0
	for i, r := range served {
		if _, y := challengeRow(started+i, flip); fmt.Sprint(r.Prediction) == y {
			right++
		}
	}
	if want := float64(right) / float64(len(served)); c.Learns != 200 || c.Metric != "accuracy" || c.Champion["accuracy"] != want {
		t.Fatalf("after 200 events: learns %d, %s, champion accuracy %v; want 200, accuracy, %v", c.Learns, c.Metric, c.Champion["accuracy"], want)
	}
	// A fresh model adapts to the flipped concept; the champion, trained
	// on the old one, lags.
	if !c.Better || c.Challenger["accuracy"] <= c.Champion["accuracy"] {
		t.Fatalf("challenger %v vs champion %v: want the challenger better", c.Challenger, c.Champion)
	}

	// A restart keeps the challenger exactly.
	s.stop()
	s = startInProcess(t, cfg, dir)
	c2, err := s.mgmt.Challenger(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c2.Learns != c.Learns || c2.StartSeq != c.StartSeq || fmt.Sprint(c2.Challenger) != fmt.Sprint(c.Challenger) || fmt.Sprint(c2.Champion) != fmt.Sprint(c.Champion) {
		t.Fatalf("after restart %+v, before %+v", c2, c)
	}
	stream(t, s.pub, 500, 600, flip)

	before, err := s.mgmt.Model(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.mgmt.PromoteChallenger(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m.Version <= before.Version {
		t.Fatalf("promotion made version %d, was %d", m.Version, before.Version)
	}
	if _, err := s.mgmt.Challenger(ctx); !client.NotFound(err) {
		t.Fatalf("GET /v1/challenger after promotion: %v, want 404", err)
	}

	// The served model is now a fresh one that learned rows 300..599.
	ref, err := newModel(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := started; i < 600; i++ {
		x, y := challengeRow(i, flip)
		xs, aerr := canonical(x, nil)
		if aerr != nil {
			t.Fatal(aerr.Error)
		}
		if err := ref.apply(&event{X: xs, Label: y}, uint64(i+1), nil); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20 {
		x, _ := challengeRow(1000+i, flip)
		got, err := s.pub.Predict(ctx, api.PredictRequest{Features: x})
		if err != nil {
			t.Fatal(err)
		}
		xs, _ := canonical(x, nil)
		var o outcome
		if aerr := ref.predict(xs, &learn.Row{}, &o); aerr != nil {
			t.Fatal(aerr.Error)
		}
		_, proba := ref.answer(&o)
		if fmt.Sprint(got.Proba) != fmt.Sprint(proba) {
			t.Fatalf("probe %d: served %v, a fresh model on the same events %v", i, got.Proba, proba)
		}
	}
	vs, err := s.mgmt.Versions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := vs[len(vs)-1].Note; !strings.Contains(n, "challenger promoted after 300 events") {
		t.Errorf("newest version's note %q", n)
	}
}

func TestChallengerDrop(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := config.Default("logreg", "y", learn.Binary)
	s := startInProcess(t, cfg, dir)
	hoeffding := *cfg
	hoeffding.Spec.Pipeline.Model = "hoeffding"
	c, err := s.mgmt.StartChallenger(ctx, []byte(mustMarshal(t, &hoeffding)))
	if err != nil {
		t.Fatal(err)
	}
	if c.Model != "hoeffding" {
		t.Fatalf("challenger model %q, want hoeffding", c.Model)
	}
	stream(t, s.pub, 0, 50, 1000)
	if err := s.mgmt.DropChallenger(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.mgmt.DropChallenger(ctx); !client.NotFound(err) {
		t.Fatalf("second drop: %v, want 404", err)
	}
	// Dropped durably: not back after a restart.
	s.stop()
	s = startInProcess(t, cfg, dir)
	if _, err := s.mgmt.Challenger(ctx); !client.NotFound(err) {
		t.Fatalf("after restart: %v, want 404", err)
	}
	m, err := s.mgmt.Model(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m.Counters.Learns != 50 {
		t.Fatalf("learns %d, want 50", m.Counters.Learns)
	}
	var e *client.Error
	if _, err := s.mgmt.StartChallenger(ctx, []byte("apiVersion: olops.dev/v1\nkind: Model\n")); !errors.As(err, &e) || e.Status != http.StatusUnprocessableEntity {
		t.Fatalf("an invalid config: %v, want 422", err)
	}
}

func mustMarshal(t *testing.T, cfg *config.Config) string {
	t.Helper()
	b, err := cfg.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
