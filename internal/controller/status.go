package controller

import (
	"context"
	"sync"
	"time"

	"github.com/olops/olops/internal/client"
	"github.com/olops/olops/internal/runtime/docker"
)

// ModelStatus is one model of the fleet with its metrics.
type ModelStatus struct {
	Model         string             `json:"model"`
	Managed       bool               `json:"managed"`              // started by a controller
	Controller    string             `json:"controller,omitempty"` // its ID
	Container     string             `json:"container"`
	State         string             `json:"state"`
	ConfigHash    string             `json:"config_hash"`
	ManagementURL string             `json:"management_url,omitempty"`
	Task          string             `json:"task,omitempty"`
	Version       int                `json:"version,omitempty"`
	Learning      bool               `json:"learning"`
	Predictions   uint64             `json:"predictions"`
	Learns        uint64             `json:"learns"`
	Drifts        uint64             `json:"drifts"`
	Rejected      uint64             `json:"rejected"`
	Overall       map[string]float64 `json:"overall,omitempty"`
	Rolling       map[string]float64 `json:"rolling,omitempty"`
	Error         string             `json:"error,omitempty"` // why the metrics are missing
}

// Status reads every olops container (the first replica of each model)
// and the metrics of those running, in parallel.
func Status(ctx context.Context, rt *docker.Runtime) ([]ModelStatus, error) {
	insts, err := rt.List(ctx, "")
	if err != nil {
		return nil, err
	}
	c := New(rt, Options{})
	var out []ModelStatus
	for _, in := range insts {
		if in.Replica != 0 {
			continue
		}
		out = append(out, ModelStatus{Model: in.Model, Managed: in.Labels[LabelManagedBy] == ManagedBy, Controller: in.Labels[LabelController],
			Container: in.Container, State: in.State, ConfigHash: in.ConfigHash, ManagementURL: in.ManagementURL})
	}
	var wg sync.WaitGroup
	for i := range out {
		s := &out[i]
		if s.State != "running" || s.ManagementURL == "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fill(ctx, c, s); err != nil {
				s.Error = err.Error()
			}
		}()
	}
	wg.Wait()
	return out, nil
}

func fill(ctx context.Context, c *Controller, s *ModelStatus) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, mgmt, err := c.tokens(ctx, s.Container)
	if err != nil {
		return err
	}
	m := client.New(s.ManagementURL, mgmt, client.WithTimeout(5*time.Second))
	model, err := m.Model(ctx)
	if err != nil {
		return err
	}
	met, err := m.Metrics(ctx)
	if err != nil {
		return err
	}
	s.Task, s.Version, s.Learning = model.Task, model.Version, model.Learning
	s.Predictions, s.Learns, s.Drifts, s.Rejected = met.Counters.Predictions, met.Counters.Learns, met.Counters.Drifts, met.Counters.Rejected
	s.Overall, s.Rolling = met.Overall, met.Rolling
	return nil
}
