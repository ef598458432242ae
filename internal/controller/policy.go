package controller

import (
	"context"
	"fmt"

	"github.com/olops/olops/internal/api"
	"github.com/olops/olops/internal/config"
)

// Decision is what a drift policy does about one drift event.
type Decision struct {
	Action  string `json:"action"`            // alert, reset or rollback
	Version int    `json:"version,omitempty"` // rollback: the version to make current
	Reason  string `json:"reason"`
}

// Decide applies policy to a drift event, given the model's versions
// (oldest first, as the server lists them). Rollback picks the newest
// version created before the drift; with none it only alerts.
func Decide(policy string, ev api.DriftEvent, versions []api.Version) Decision {
	what := fmt.Sprintf("drift at learn event %d on %s (%.4g -> %.4g)", ev.Index, ev.Metric, ev.Before, ev.After)
	switch policy {
	case config.OnDriftReset:
		return Decision{Action: config.OnDriftReset, Reason: what + ": policy reset starts a fresh model from the same config"}
	case config.OnDriftRollback:
		best := -1
		for i, v := range versions {
			if v.Created.Before(ev.Time) && (best < 0 || v.Created.After(versions[best].Created)) {
				best = i
			}
		}
		if best < 0 {
			return Decision{Action: config.OnDriftAlert, Reason: what + ": policy rollback found no version saved before the drift, so it only alerts"}
		}
		v := versions[best]
		return Decision{Action: config.OnDriftRollback, Version: v.Version,
			Reason: fmt.Sprintf("%s: policy rollback returns to version %d (saved %s, %d learn events)", what, v.Version, v.Created.UTC().Format("2006-01-02T15:04:05Z"), v.Learns)}
	default:
		return Decision{Action: config.OnDriftAlert, Reason: what + ": policy alert"}
	}
}

// NewDrifts returns the events after index seen, oldest first.
func NewDrifts(events []api.DriftEvent, seen uint64) []api.DriftEvent {
	var out []api.DriftEvent
	for _, e := range events {
		if e.Index > seen {
			out = append(out, e)
		}
	}
	return out
}

// ModelAPI is the part of the management client a policy needs
// (*client.Client has it).
type ModelAPI interface {
	Drift(ctx context.Context) (*api.Drift, error)
	Versions(ctx context.Context) ([]api.Version, error)
	Rollback(ctx context.Context, n int) (*api.Model, error)
	PutModel(ctx context.Context, doc []byte) (*api.Model, error)
}

// Applied is a decision carried out (or not: Error).
type Applied struct {
	Model string         `json:"model"`
	Drift api.DriftEvent `json:"drift"`
	Decision
	Error string `json:"error,omitempty"`
}

// ApplyPolicy handles the drift events of one model after index seen. It
// returns what it did and the index to remember. One corrective action
// per pass is enough: after a reset or a rollback the remaining events
// describe a model that is no longer running, so they are only alerted.
func ApplyPolicy(ctx context.Context, m ModelAPI, model, policy string, doc []byte, seen uint64) ([]Applied, uint64, error) {
	d, err := m.Drift(ctx)
	if err != nil {
		return nil, seen, err
	}
	events := NewDrifts(d.Events, seen)
	if len(events) == 0 {
		return nil, seen, nil
	}
	var versions []api.Version
	if policy == config.OnDriftRollback {
		if versions, err = m.Versions(ctx); err != nil {
			return nil, seen, err
		}
	}
	var out []Applied
	acted := false
	for _, ev := range events {
		dec := Decide(policy, ev, versions)
		if acted && dec.Action != "alert" {
			dec = Decide("alert", ev, nil)
			done := "reset"
			if policy == config.OnDriftRollback {
				done = "rolled back"
			}
			dec.Reason += " only: the model was already " + done + " for an earlier drift in this pass"
		}
		a := Applied{Model: model, Drift: ev, Decision: dec}
		switch dec.Action {
		case "rollback":
			_, err = m.Rollback(ctx, dec.Version)
			acted = true
		case "reset":
			_, err = m.PutModel(ctx, doc)
			acted = true
		}
		if err != nil {
			a.Error = err.Error()
			err = nil
		}
		out = append(out, a)
		seen = max(seen, ev.Index)
	}
	return out, seen, nil
}
