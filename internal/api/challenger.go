package api

import (
	"encoding/json"
	"time"
)

// Challenger is GET /v1/challenger: a second model that learns in shadow
// from every event the served model (the champion) learns, scored on the
// same events, until it is promoted or dropped.
type Challenger struct {
	Model      string             `json:"model"`      // its pipeline's model name
	Started    time.Time          `json:"started"`    // when it started
	StartSeq   uint64             `json:"start_seq"`  // the learn seq it started after
	Learns     uint64             `json:"learns"`     // events it and the champion learned since
	Metric     string             `json:"metric"`     // the metric compared: the champion's first
	Challenger map[string]float64 `json:"challenger"` // its metrics over those events
	Champion   map[string]float64 `json:"champion"`   // the champion's over the same events
	// Better: the challenger's Metric beats the champion's (higher, or
	// lower for a loss or an error).
	Better bool            `json:"better"`
	Config json.RawMessage `json:"config"` // its olops.yaml document as JSON
}
