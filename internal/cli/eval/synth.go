package eval

import (
	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/stream"
	"github.com/olops/olops/internal/learn/synth"
)

// synthSource builds the --synth stream.
func synthSource(o *options) (stream.Source, learn.Task, error) {
	return synth.New(o.synth, synth.Options{
		Seed: o.seed, Rows: o.rows, DriftAt: o.driftAt, DriftWidth: o.driftWidth, Variant: o.variant,
	})
}
