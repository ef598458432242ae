package controller

import (
	"context"
	"fmt"

	"github.com/olops/olops/internal/api"
	"github.com/olops/olops/internal/client"
	"github.com/olops/olops/internal/config"
	"github.com/olops/olops/internal/learn/metrics"
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
	case config.OnDriftChallenger:
		return Decision{Action: config.OnDriftChallenger, Reason: what + ": policy challenger starts a fresh model in shadow, promoted when it scores better"}
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
	StartChallenger(ctx context.Context, doc []byte) (*api.Challenger, error)
	Challenger(ctx context.Context) (*api.Challenger, error)
	PromoteChallenger(ctx context.Context) (*api.Model, error)
	DropChallenger(ctx context.Context) error
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
			done := map[string]string{config.OnDriftReset: "reset", config.OnDriftRollback: "rolled back",
				config.OnDriftChallenger: "challenged"}[policy]
			dec.Reason += " only: the model was already " + done + " for an earlier drift in this pass"
		}
		if dec.Action == config.OnDriftChallenger {
			// One challenger at a time: a running one keeps its lead
			// rather than start over at every drift.
			if _, err := m.Challenger(ctx); err == nil {
				dec = Decide("alert", ev, nil)
				dec.Reason += " only: a challenger is already learning in shadow"
			} else if !client.NotFound(err) {
				return out, seen, err
			}
		}
		a := Applied{Model: model, Drift: ev, Decision: dec}
		switch dec.Action {
		case "rollback":
			_, err = m.Rollback(ctx, dec.Version)
			acted = true
		case "reset":
			_, err = m.PutModel(ctx, doc)
			acted = true
		case config.OnDriftChallenger:
			_, err = m.StartChallenger(ctx, nil)
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

// Judged is what the challenger policy did with a running challenger.
type Judged struct {
	Model      string         `json:"model"`
	Action     string         `json:"action"` // wait, promote or drop
	Reason     string         `json:"reason"`
	Challenger api.Challenger `json:"challenger"`
	Error      string         `json:"error,omitempty"`
}

// Judge decides about a challenger: promote it once it has learned
// minEvents and beats the champion by the margin, drop it when it has not
// after maxEvents, otherwise wait.
func Judge(c api.Challenger, p config.ChallengerPolicy, window int) Judged {
	minEvents, maxEvents := p.Bounds(window)
	j := Judged{Action: "wait", Challenger: c}
	mine, okMine := c.Challenger[c.Metric]
	theirs, okTheirs := c.Champion[c.Metric]
	score := fmt.Sprintf("%s %.4g against the champion's %.4g over %d events", c.Metric, mine, theirs, c.Learns)
	switch {
	case c.Learns < uint64(minEvents) || !okMine || !okTheirs:
		j.Reason = fmt.Sprintf("%d of %d events learned before judging", c.Learns, minEvents)
	case beats(c.Metric, mine, theirs, p.Margin):
		j.Action, j.Reason = "promote", "the challenger scores "+score
	case c.Learns >= uint64(maxEvents):
		j.Action, j.Reason = "drop", fmt.Sprintf("still not better after %d events: %s", maxEvents, score)
	default:
		j.Reason = "not better yet: " + score
	}
	return j
}

// beats reports whether a is better than b by margin for the metric.
func beats(metric string, a, b, margin float64) bool {
	if metrics.LowerIsBetter(metric) {
		return a < b-margin
	}
	return a > b+margin
}

// JudgeChallenger looks at the model's challenger, if any, and promotes or
// drops it as Judge says. It returns nil when there is no challenger.
func JudgeChallenger(ctx context.Context, m ModelAPI, model string, p config.ChallengerPolicy, window int) (*Judged, error) {
	c, err := m.Challenger(ctx)
	if client.NotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	j := Judge(*c, p, window)
	j.Model = model
	switch j.Action {
	case "promote":
		_, err = m.PromoteChallenger(ctx)
	case "drop":
		err = m.DropChallenger(ctx)
	}
	if err != nil {
		j.Error = err.Error()
	}
	return &j, nil
}
