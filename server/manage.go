package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/olops/olops/internal/api"
	"github.com/olops/olops/internal/config"
	"github.com/olops/olops/internal/learn/metrics"
)

func (s *Server) managementRoutes() []route {
	return []route{
		{method: "GET", path: "/v1/model", h: s.handleGetModel, summary: "The model: config, version, counters, learned parameters", reply: "Model", status: 200},
		{method: "PUT", path: "/v1/model", h: s.handlePutModel, summary: "Replace the config (YAML or JSON): a new version; the old state is kept as a version", body: "Config", reply: "Model", status: 200},
		{method: "PATCH", path: "/v1/model", h: s.handlePatchModel, summary: "Change run-time hyperparameters, e.g. {\"params\": {\"lr\": 0.05}}", body: "Patch", reply: "Model", status: 200},
		{method: "GET", path: "/v1/metrics", h: s.handleMetrics, summary: "Metrics overall and over the window, counters, rates, latency", reply: "Metrics", status: 200},
		{method: "GET", path: "/v1/challenger", h: s.handleGetChallenger, summary: "The challenger learning in shadow, scored beside the model on the same events (404: none)", reply: "Challenger", status: 200},
		{method: "PUT", path: "/v1/challenger", h: s.handlePutChallenger, summary: "Start a challenger: a fresh model of the given config (YAML or JSON), or of the served one when the body is empty", body: "Config", optionalBody: true, reply: "Challenger", status: 200},
		{method: "POST", path: "/v1/challenger/promote", h: s.handlePromoteChallenger, summary: "Make the challenger the model, a new version (the replaced state is kept as a version)", reply: "Model", status: 200},
		{method: "DELETE", path: "/v1/challenger", h: s.handleDeleteChallenger, summary: "Stop the challenger", status: 204},
		{method: "GET", path: "/v1/drift", h: s.handleDrift, summary: "Drift detector state and drift events", reply: "Drift", status: 200},
		{method: "GET", path: "/v1/versions", h: s.handleVersions, summary: "Saved versions", reply: "Versions", status: 200},
		{method: "POST", path: "/v1/versions", h: s.handleSnapshot, summary: "Save the current state as a new version, with a note", body: "SnapshotRequest", optionalBody: true, reply: "Version", status: 201},
		{method: "POST", path: "/v1/versions/{n}/rollback", h: s.handleRollback, summary: "Make saved version n live again (the replaced state is kept as a version)", reply: "Model", status: 200},
		{method: "POST", path: "/v1/learning/pause", h: s.handlePause(false), summary: "Pause learning (learns get 409)", reply: "Model", status: 200},
		{method: "POST", path: "/v1/learning/resume", h: s.handlePause(true), summary: "Resume learning", reply: "Model", status: 200},
		{method: "GET", path: "/v1/events", h: s.handleEvents, summary: "Server-sent events: metrics every second, drift, version", reply: "Event", status: 200},
		{method: "GET", path: "/metrics", h: s.handleProm, summary: "Prometheus exposition (olops_ prefix)", reply: "Text", status: 200},
		{method: "GET", path: "/healthz", h: s.handleHealthz, summary: "Alive", open: true, reply: "Object", status: 200},
		{method: "GET", path: "/readyz", h: s.handleReadyz, summary: "State loaded and store writable", open: true, reply: "Object", status: 200},
		{method: "GET", path: "/openapi.json", h: s.handleOpenAPI(true), summary: "This API's OpenAPI 3.1 document", reply: "Object", status: 200},
	}
}

func jsonConfig(c *config.Config) (json.RawMessage, error) {
	b, err := json.Marshal(c)
	return b, err
}

func (s *Server) info() api.Model {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.modelInfo()
}

func (s *Server) handleGetModel(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.info())
}

// cmdError maps a management command's error to a reply.
func (s *Server) cmdError(w http.ResponseWriter, err error) {
	var re *reqError
	switch {
	case errors.As(err, &re):
		writeErr(w, re.status, re.body)
	case errors.Is(err, errNoVersion):
		writeErr(w, http.StatusNotFound, api.Error{Error: err.Error() + ": list them with GET /v1/versions"})
	case errors.Is(err, context.Canceled):
	default:
		s.log.Error("management command failed", "err", err)
		writeErr(w, http.StatusInternalServerError, api.Error{Error: err.Error()})
	}
}

func (s *Server) handlePutModel(w http.ResponseWriter, r *http.Request) {
	b, release, rerr := s.readBody(w, r)
	if rerr != nil {
		s.refuse(w, rerr)
		return
	}
	body := bytes.Clone(b)
	release()
	cfg, ok := parseConfig(w, body)
	if !ok {
		return
	}
	if err := s.do(r.Context(), func() error { return s.replace(cfg, "before config change", "config change") }); err != nil {
		s.cmdError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s.info())
}

// parseConfig parses a config sent in a request, or answers 422 with the
// field and line at fault.
func parseConfig(w http.ResponseWriter, body []byte) (*config.Config, bool) {
	cfg, err := config.Parse(body, "request body")
	if err != nil {
		var ce *config.Error
		e := api.Error{Error: err.Error()}
		if errors.As(err, &ce) {
			e.Field, e.Line = ce.Field, ce.Line
		}
		writeErr(w, http.StatusUnprocessableEntity, e)
		return nil, false
	}
	return cfg, true
}

func (s *Server) handlePatchModel(w http.ResponseWriter, r *http.Request) {
	b, release, rerr := s.readBody(w, r)
	if rerr != nil {
		s.refuse(w, rerr)
		return
	}
	var params map[string]any
	rerr = decodeJSON(b, &params)
	release()
	if rerr != nil {
		writeErr(w, rerr.status, rerr.body)
		return
	}
	if inner, ok := params["params"].(map[string]any); ok && len(params) == 1 {
		params = inner
	}
	if len(params) == 0 {
		writeErr(w, http.StatusBadRequest, api.Error{Error: "nothing to change: send {\"params\": {\"name\": value}}", Field: "params"})
		return
	}
	err := s.do(r.Context(), func() error { return s.patch(params) })
	if err != nil {
		s.cmdError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s.info())
}

// metricValues are the metrics that have a value: none before anything
// was scored, no NaN or infinity, and 0 for -0.
func metricValues(set *metrics.Set, rolling bool) map[string]float64 {
	out := map[string]float64{}
	if set.Count() == 0 {
		return out
	}
	for _, k := range set.Names() {
		v, _ := set.Value(k, rolling)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		if v == 0 {
			v = 0 // not -0
		}
		out[k] = v
	}
	return out
}

func (s *Server) metricsNow() api.Metrics {
	s.mu.Lock()
	m := s.m
	out := api.Metrics{
		Task:     string(m.cfg.Spec.Task),
		Overall:  metricValues(m.set, false),
		Rolling:  metricValues(m.set, true),
		Window:   m.cfg.Spec.Window,
		Counters: s.countersLocked(),
	}
	s.mu.Unlock()
	out.Rates = s.rates.get()
	out.LatencyMs = s.lat.summary()
	return out
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.metricsNow())
}

func (s *Server) handleDrift(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	m := s.m
	d := api.Drift{Detector: m.cfg.Spec.Drift.Detector, Watches: m.cfg.Spec.Drift.Watches, Events: append([]api.DriftEvent{}, m.events...)}
	if m.det != nil {
		d.Warning = m.det.Warning()
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) versions() ([]api.Version, error) {
	vs, err := s.st.Versions()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	cur := s.version
	s.mu.Unlock()
	out := make([]api.Version, 0, len(vs))
	for _, v := range vs {
		out = append(out, api.Version{Version: v.N, Created: v.Created, Note: v.Note, Learns: v.Learns, Current: v.N == cur})
	}
	return out, nil
}

func (s *Server) handleVersions(w http.ResponseWriter, r *http.Request) {
	vs, err := s.versions()
	if err != nil {
		s.cmdError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, vs)
}

func (s *Server) handleSnapshot(w http.ResponseWriter, r *http.Request) {
	b, release, rerr := s.readBody(w, r)
	if rerr != nil {
		s.refuse(w, rerr)
		return
	}
	var req api.SnapshotRequest
	if len(bytes.TrimSpace(b)) > 0 {
		rerr = decodeJSON(b, &req)
	}
	release()
	if rerr != nil {
		writeErr(w, rerr.status, rerr.body)
		return
	}
	var n int
	err := s.do(r.Context(), func() error {
		if err := s.newVersion(req.Note); err != nil {
			return err
		}
		n = s.maxVersion
		return nil
	})
	if err != nil {
		s.cmdError(w, err)
		return
	}
	vs, err := s.versions()
	if err != nil {
		s.cmdError(w, err)
		return
	}
	for _, v := range vs {
		if v.Version == n {
			writeJSON(w, http.StatusCreated, v)
			return
		}
	}
	s.cmdError(w, fmt.Errorf("version %d was saved but cannot be read back", n))
}

func (s *Server) handleRollback(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 {
		writeErr(w, http.StatusBadRequest, api.Error{Error: fmt.Sprintf("%q is not a version number", r.PathValue("n")), Field: "n"})
		return
	}
	if err := s.do(r.Context(), func() error { return s.rollback(n, fmt.Sprintf("before rollback to version %d", n)) }); err != nil {
		s.cmdError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s.info())
}

func (s *Server) handlePause(on bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := s.do(r.Context(), func() error { return s.setLearning(on) }); err != nil {
			s.cmdError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, s.info())
	}
}

func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	c, ok := s.hub.subscribe()
	if !ok {
		writeErr(w, http.StatusServiceUnavailable, api.Error{Error: "the server is shutting down"})
		return
	}
	defer s.hub.unsubscribe(c)
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(e api.Event) bool {
		b, err := json.Marshal(e)
		if err != nil {
			return true
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.Type, b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	mt := s.metricsNow()
	if !send(api.Event{Type: "metrics", Time: time.Now().UTC(), Metrics: &mt}) {
		return
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case e, ok := <-c:
			if !ok || !send(e) {
				return
			}
		}
	}
}

// ticker samples rates and sends the metrics tick every second.
func (s *Server) ticker(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.rates.add(now, s.preds.Load(), s.learnsSeen.Load())
			if s.hub.count() > 0 {
				mt := s.metricsNow()
				s.hub.publish(api.Event{Type: "metrics", Time: now.UTC(), Metrics: &mt})
			}
		}
	}
}
