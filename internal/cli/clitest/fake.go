package clitest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/olops/olops/internal/api"
)

// T0 is the fake server's clock: every time it reports.
var T0 = time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)

// Fake is an olops server with fixed, deterministic answers for command
// tests. It records the requests it gets.
type Fake struct {
	*httptest.Server
	Token string // required as a bearer token when set

	mu       sync.Mutex
	Requests []string // "METHOD /path body"
	Learning bool
	Version  int
	Versions []api.Version
	Params   map[string]any
}

// NewFake starts a fake server that stops when the test ends.
func NewFake(t *testing.T) *Fake {
	f := &Fake{Learning: true, Version: 2, Params: map[string]any{"lr": 0.01, "l2": 0.0}}
	f.Versions = []api.Version{
		{Version: 1, Created: T0, Note: "initial", Learns: 0},
		{Version: 2, Created: T0.Add(time.Hour), Note: "after replay", Learns: 20000, Current: true},
	}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

// Seen returns the recorded requests.
func (f *Fake) Seen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.Requests...)
}

func (f *Fake) model() api.Model {
	return api.Model{
		Name: "churn", Task: "binary", Version: f.Version, Learning: f.Learning, StartedAt: T0,
		Counters:   api.Counters{Predictions: 20500, Learns: 20000, Rejected: 3, Drifts: 1},
		Config:     json.RawMessage(`{"apiVersion":"olops.dev/v1","kind":"Model","metadata":{"name":"churn"},"spec":{"task":"binary","target":"y","pipeline":{"model":"logreg"}}}`),
		Parameters: f.Params,
	}
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Requests = append(f.Requests, strings.TrimSpace(r.Method+" "+r.URL.Path+" "+strings.TrimSpace(string(body))))
	if f.Token != "" && r.Header.Get("Authorization") != "Bearer "+f.Token && r.URL.Path != "/healthz" && r.URL.Path != "/readyz" {
		reply(w, http.StatusUnauthorized, api.Error{Error: "missing or wrong bearer token"})
		return
	}
	route := r.Method + " " + r.URL.Path
	switch {
	case route == "GET /healthz" || route == "GET /readyz":
		io.WriteString(w, "ok\n")
	case route == "GET /v1/model":
		reply(w, 200, f.model())
	case route == "PUT /v1/model":
		if !strings.Contains(string(body), "kind: Model") && !strings.Contains(string(body), `"kind"`) {
			reply(w, 400, api.Error{Error: "not an olops.yaml document", Field: "kind", Line: 1})
			return
		}
		f.Version++
		reply(w, 200, f.model())
	case route == "PATCH /v1/model":
		var p map[string]any
		if err := json.Unmarshal(body, &p); err != nil {
			reply(w, 400, api.Error{Error: err.Error()})
			return
		}
		for k, v := range p {
			if _, ok := f.Params[k]; !ok {
				reply(w, 422, api.Error{Error: "unknown parameter " + strconv.Quote(k) + " (known: l2, lr)", Field: k})
				return
			}
			f.Params[k] = v
		}
		reply(w, 200, f.model())
	case route == "GET /v1/metrics":
		reply(w, 200, api.Metrics{
			Task: "binary", Window: 1000,
			Overall:   map[string]float64{"accuracy": 0.8731, "f1": 0.8512, "logloss": 0.3012, "roc_auc": 0.9301},
			Rolling:   map[string]float64{"accuracy": 0.891, "f1": 0.88, "logloss": 0.28, "roc_auc": 0.94},
			Counters:  api.Counters{Predictions: 20500, Learns: 20000, Rejected: 3, Drifts: 1},
			Rates:     api.Rates{Predictions: 1520.5, Learns: 1500},
			LatencyMs: api.Latency{P50: 0.12, P99: 0.9},
		})
	case route == "GET /v1/drift":
		reply(w, 200, api.Drift{Detector: "adwin", Watches: "error", Events: []api.DriftEvent{
			{Index: 10175, Time: T0.Add(30 * time.Minute), Metric: "accuracy", Before: 0.9012, After: 0.7521},
		}})
	case route == "GET /v1/versions":
		reply(w, 200, f.Versions)
	case route == "POST /v1/versions":
		var req api.SnapshotRequest
		json.Unmarshal(body, &req)
		v := api.Version{Version: len(f.Versions) + 1, Created: T0.Add(2 * time.Hour), Note: req.Note, Learns: 20000, Current: true}
		for i := range f.Versions {
			f.Versions[i].Current = false
		}
		f.Versions = append(f.Versions, v)
		f.Version = v.Version
		reply(w, 201, v)
	case r.Method == "POST" && strings.HasPrefix(r.URL.Path, "/v1/versions/") && strings.HasSuffix(r.URL.Path, "/rollback"):
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/v1/versions/"), "/rollback"))
		if err != nil || n < 1 || n > len(f.Versions) {
			reply(w, 404, api.Error{Error: "no version " + strconv.Quote(strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/v1/versions/"), "/rollback")), Field: "version"})
			return
		}
		for i := range f.Versions {
			f.Versions[i].Current = f.Versions[i].Version == n
		}
		f.Version = n
		reply(w, 200, f.model())
	case route == "POST /v1/learning/pause":
		f.Learning = false
		reply(w, 200, f.model())
	case route == "POST /v1/learning/resume":
		f.Learning = true
		reply(w, 200, f.model())
	case route == "POST /v1/predict":
		var req api.PredictRequest
		if err := json.Unmarshal(body, &req); err != nil {
			reply(w, 400, api.Error{Error: "malformed JSON: " + err.Error()})
			return
		}
		if len(req.Instances) > 0 {
			var out api.PredictBatch
			for i := range req.Instances {
				out.Predictions = append(out.Predictions, api.Prediction{ID: "p" + strconv.Itoa(i+1), Prediction: "1", Proba: map[string]float64{"0": 0.3, "1": 0.7}, ModelVersion: f.Version})
			}
			reply(w, 200, out)
			return
		}
		reply(w, 200, api.Prediction{ID: "p1", Prediction: "1", Proba: map[string]float64{"0": 0.3, "1": 0.7}, ModelVersion: f.Version})
	case route == "POST /v1/learn":
		var req api.LearnRequest
		if err := json.Unmarshal(body, &req); err != nil {
			reply(w, 400, api.Error{Error: "malformed JSON: " + err.Error()})
			return
		}
		if s, ok := req.Label.(string); ok && s != "0" && s != "1" {
			reply(w, 422, api.Error{Error: "label " + strconv.Quote(s) + " is not allowed (allowed: 0, 1)", Field: "label"})
			return
		}
		reply(w, 202, api.LearnReply{Seq: 20001, ModelVersion: f.Version})
	default:
		reply(w, 404, api.Error{Error: "no route " + route})
	}
}
