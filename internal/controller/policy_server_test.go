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
