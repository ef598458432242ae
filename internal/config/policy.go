package config

// Policy says what `olops controller` does about the model; the server
// itself ignores it.
type Policy struct {
	// OnDrift is what a drift event triggers: alert (log and count it,
	// the default), reset (a fresh model from the same config; the old
	// state stays as a version), rollback (back to the newest version
	// saved before the drift) or challenger (a fresh model learns in
	// shadow and replaces the served one once it scores better).
	OnDrift    string           `yaml:"onDrift,omitempty" json:"onDrift,omitempty"`
	Challenger ChallengerPolicy `yaml:"challenger,omitempty" json:"challenger,omitzero"`
}

// ChallengerPolicy tunes the challenger policy.
type ChallengerPolicy struct {
	// MinEvents: the challenger is judged only after learning this many
	// events (0: the metrics window).
	MinEvents int `yaml:"minEvents,omitempty" json:"minEvents,omitempty"`
	// MaxEvents: a challenger still not better after this many is dropped
	// (0: ten times MinEvents).
	MaxEvents int `yaml:"maxEvents,omitempty" json:"maxEvents,omitempty"`
	// Margin: how much better its metric must be than the champion's.
	Margin float64 `yaml:"margin,omitempty" json:"margin,omitempty"`
}

// Drift policies of Policy.OnDrift.
const (
	OnDriftAlert      = "alert"
	OnDriftReset      = "reset"
	OnDriftRollback   = "rollback"
	OnDriftChallenger = "challenger"
)

// Bounds returns MinEvents and MaxEvents with their defaults for a
// metrics window.
func (p ChallengerPolicy) Bounds(window int) (minEvents, maxEvents int) {
	minEvents, maxEvents = p.MinEvents, p.MaxEvents
	if minEvents <= 0 {
		minEvents = max(window, 1)
	}
	if maxEvents <= 0 {
		maxEvents = 10 * minEvents
	}
	return minEvents, maxEvents
}

func (v *validator) checkPolicy() {
	p := v.c.Spec.Policy
	switch p.OnDrift {
	case "", OnDriftAlert, OnDriftReset, OnDriftRollback, OnDriftChallenger:
	default:
		v.add("spec.policy.onDrift", "unknown policy %q: use alert, reset, rollback or challenger", p.OnDrift)
	}
	c := p.Challenger
	if c.MinEvents < 0 {
		v.add("spec.policy.challenger.minEvents", "must be 0 (the metrics window) or more, not %d", c.MinEvents)
	}
	if c.MaxEvents < 0 {
		v.add("spec.policy.challenger.maxEvents", "must be 0 (ten times minEvents) or more, not %d", c.MaxEvents)
	}
	if c.MinEvents > 0 && c.MaxEvents > 0 && c.MaxEvents < c.MinEvents {
		v.add("spec.policy.challenger.maxEvents", "%d is less than minEvents (%d)", c.MaxEvents, c.MinEvents)
	}
	if c.Margin < 0 {
		v.add("spec.policy.challenger.margin", "must be 0 or more, not %g", c.Margin)
	}
}
