// Package api holds the JSON bodies of the public and management APIs,
// shared by the server and the typed client so the two cannot disagree.
package api

import (
	"encoding/json"
	"time"
)

// Error is every error reply: what went wrong, and where when it is known.
type Error struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
	Line  int    `json:"line,omitempty"`
}

// Features are one sample's named raw values (number, string, bool, null).
type Features map[string]any

// PredictRequest is POST /v1/predict: one sample, or a batch in Instances.
type PredictRequest struct {
	ID        string     `json:"id,omitempty"`
	Features  Features   `json:"features,omitempty"`
	Instances []Features `json:"instances,omitempty"`
}

// Prediction is one answer of POST /v1/predict.
type Prediction struct {
	ID           string             `json:"id"`
	Prediction   any                `json:"prediction"` // label (string) or value (number); null when the model cannot predict yet
	Proba        map[string]float64 `json:"proba,omitempty"`
	ModelVersion int                `json:"model_version"`
}

// PredictBatch is the reply to a batch predict.
type PredictBatch struct {
	Predictions []Prediction `json:"predictions"`
}

// LearnRequest is POST /v1/learn: features and a label, or the id of an
// earlier prediction and its (late) label.
type LearnRequest struct {
	ID       string   `json:"id,omitempty"`
	Features Features `json:"features,omitempty"`
	Label    any      `json:"label"`
}

// LearnReply is the 202 answer once the event is durable.
type LearnReply struct {
	Seq          uint64 `json:"seq"`
	ModelVersion int    `json:"model_version"`
}

// StreamLine is one NDJSON line of POST /v1/stream. Without a label the
// line is only predicted.
type StreamLine struct {
	Features Features `json:"features"`
	Label    any      `json:"label,omitempty"`
}

// StreamResult is one NDJSON line back from /v1/stream.
type StreamResult struct {
	Line       int                `json:"line"`
	Prediction any                `json:"prediction"`
	Proba      map[string]float64 `json:"proba,omitempty"`
	Seq        uint64             `json:"seq,omitempty"`
	Drift      bool               `json:"drift,omitempty"`
	Error      string             `json:"error,omitempty"`
	Field      string             `json:"field,omitempty"` // with Error: the field at fault
}

// Counters are a model's event counts.
type Counters struct {
	Predictions uint64 `json:"predictions"`
	Learns      uint64 `json:"learns"`
	Rejected    uint64 `json:"rejected"` // the quarantine count
	Drifts      uint64 `json:"drifts"`
}

// Model is GET /v1/model.
type Model struct {
	Name       string          `json:"name"`
	Task       string          `json:"task"`
	Version    int             `json:"version"`
	Learning   bool            `json:"learning"` // false while paused
	StartedAt  time.Time       `json:"started_at"`
	Counters   Counters        `json:"counters"`
	Config     json.RawMessage `json:"config"` // the olops.yaml document as JSON
	Parameters map[string]any  `json:"parameters,omitempty"`
}

// Metrics is GET /v1/metrics.
type Metrics struct {
	Task      string             `json:"task"`
	Overall   map[string]float64 `json:"overall"` // a metric is absent until it has a value (nothing scored yet)
	Rolling   map[string]float64 `json:"rolling"`
	Window    int                `json:"window"`
	Counters  Counters           `json:"counters"`
	Rates     Rates              `json:"rates"`
	LatencyMs Latency            `json:"latency_ms"`
}

// Rates are events per second over the last few seconds.
type Rates struct {
	Predictions float64 `json:"predictions_per_second"`
	Learns      float64 `json:"learns_per_second"`
}

// Latency quantiles in milliseconds of predictions, learns and inference
// requests, and of each /v1/stream line (from when its chunk was read to
// when its result was written); 0 while nothing was measured.
type Latency struct {
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
}

// DriftEvent is one detected drift.
//
// Index is the seq (1-based, as in LearnReply and StreamResult) of the
// learn event that set the detector off; a client that numbers its input
// rows from 0 sees it at row Index-1 when the server started empty.
// Before is the rolling metric (over the configured window) when the
// drift was detected, so mostly the old concept. After is the same
// rolling metric one full window of learns later (AfterIndex is the seq
// at which it was taken), so it scores only events learned after the
// detection; After is 0 and AfterIndex absent until then. When After
// becomes known the server sends the event again on GET /v1/events
// (type "drift", same Index and Time).
type DriftEvent struct {
	Index      uint64    `json:"index"`
	Time       time.Time `json:"time"`
	Metric     string    `json:"metric"`
	Before     float64   `json:"before"`
	After      float64   `json:"after"`
	AfterIndex uint64    `json:"after_index,omitempty"`
}

// Drift is GET /v1/drift.
type Drift struct {
	Detector string       `json:"detector"`
	Watches  string       `json:"watches"`
	Warning  bool         `json:"warning"`
	Events   []DriftEvent `json:"events"`
}

// Version is one saved model version.
type Version struct {
	Version int       `json:"version"`
	Created time.Time `json:"created"`
	Note    string    `json:"note,omitempty"`
	Learns  uint64    `json:"learns"` // learn events in the state it holds
	Current bool      `json:"current"`
}

// SnapshotRequest is POST /v1/versions.
type SnapshotRequest struct {
	Note string `json:"note,omitempty"`
}

// Event is one server-sent event of GET /v1/events. Type is "metrics"
// (every second), "drift" or "version"; the SSE event name is Type too.
type Event struct {
	Type    string      `json:"type"`
	Time    time.Time   `json:"time"`
	Metrics *Metrics    `json:"metrics,omitempty"`
	Drift   *DriftEvent `json:"drift,omitempty"`
	Version *Version    `json:"version,omitempty"`
	Model   *Model      `json:"model,omitempty"` // on "version": the model after the change
}
