package config

// Policy says what `olops controller` does about the model; the server
// itself ignores it.
type Policy struct {
	// OnDrift is what a drift event triggers: alert (log and count it,
	// the default), reset (a fresh model from the same config; the old
	// state stays as a version) or rollback (back to the newest version
	// saved before the drift).
	OnDrift string `yaml:"onDrift,omitempty" json:"onDrift,omitempty"`
}

// Drift policies of Policy.OnDrift.
const (
	OnDriftAlert    = "alert"
	OnDriftReset    = "reset"
	OnDriftRollback = "rollback"
)

func (v *validator) checkPolicy() {
	switch v.c.Spec.Policy.OnDrift {
	case "", OnDriftAlert, OnDriftReset, OnDriftRollback:
	default:
		v.add("spec.policy.onDrift", "unknown policy %q: use alert, reset or rollback", v.c.Spec.Policy.OnDrift)
	}
}
