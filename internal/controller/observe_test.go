package controller

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/olops/olops/internal/runtime/docker"
)

// /readyz failures are counted in a row across passes, reset by a success,
// and only the threshold-th one makes the plan restart the model.
func TestReadinessFailuresAcrossPasses(t *testing.T) {
	var ready atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/readyz" && ready.Load() {
			w.Write([]byte(`{"status":"ready"}`))
			return
		}
		http.Error(w, `{"error":"loading"}`, http.StatusServiceUnavailable)
	}))
	defer srv.Close()

	c := New(nil, Options{ID: "me", FailureThreshold: 3}) // observe needs no Engine
	managed := map[string]string{docker.LabelModel: "a", LabelManagedBy: ManagedBy, LabelController: "me"}
	insts := []docker.Instance{
		{Model: "a", Container: "olops-a", State: "running", ConfigHash: "h1", PublicURL: srv.URL, Labels: managed},
		// Deployed by hand and unreachable: never probed, never counted.
		{Model: "x", Container: "olops-x", State: "running", ConfigHash: "h9", PublicURL: "http://127.0.0.1:1", Labels: map[string]string{docker.LabelModel: "x"}},
		// Another controller's (another folder): not ours either.
		{Model: "y", Container: "olops-y", State: "exited", ConfigHash: "h8", PublicURL: "http://127.0.0.1:1",
			Labels: map[string]string{docker.LabelModel: "y", LabelManagedBy: ManagedBy, LabelController: "other"}},
	}
	desired := []Desired{want("a", "h1")}
	pass := func() (Actual, string) {
		actual := c.observe(context.Background(), insts)
		if actual[1].ReadyFailures != 0 || actual[1].Managed || actual[2].Managed || actual[1].Owner != "" || actual[2].Owner != "other" {
			t.Fatalf("containers of others seen as ours: %+v", actual[1:])
		}
		return actual[0], summary(Plan(desired, nil, actual, c.o.FailureThreshold))
	}

	for i, want := range []string{"a:unchanged", "a:unchanged"} {
		if a, got := pass(); got != want || a.ReadyFailures != i+1 {
			t.Fatalf("failure %d: plan %q with %d failures", i+1, got, a.ReadyFailures)
		}
	}
	ready.Store(true)
	if a, got := pass(); got != "a:unchanged" || a.ReadyFailures != 0 {
		t.Fatalf("after a success: plan %q, %d failures; want the count reset", got, a.ReadyFailures)
	}
	ready.Store(false)
	pass()
	pass()
	if a, got := pass(); got != "a:restart" || a.ReadyFailures != 3 {
		t.Fatalf("after 3 failures in a row: plan %q, %d failures", got, a.ReadyFailures)
	}
	// A container that is gone is forgotten.
	insts = insts[1:]
	c.observe(context.Background(), insts)
	if _, ok := c.failures["olops-a"]; ok {
		t.Fatal("failures of a removed container are kept")
	}
}
