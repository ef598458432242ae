package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	mclient "github.com/moby/moby/client"
	"github.com/olops/olops/internal/client"
	"github.com/olops/olops/internal/runtime/docker"
)

// LabelManagedBy marks the containers the controller started (through the
// image they run: see managedImage). Only those are updated, restarted or
// removed; containers deployed by hand are left alone.
const (
	LabelManagedBy = "dev.olops.managed-by"
	ManagedBy      = "controller"
)

// Options configure a Controller.
type Options struct {
	Dir string // the folder of olops.yaml files
	// Image is the olops image to run ("" = built from the running binary,
	// or the released image, as olops deploy does).
	Image string
	Build docker.BuildArgs
	// FailureThreshold is how many /readyz failures in a row restart a
	// container (0: DefaultFailureThreshold).
	FailureThreshold int
	// Wait bounds each deploy's wait for /readyz (0: 30s).
	Wait time.Duration
	// ContextPath, when set, is the context file the controller adds each
	// model it runs to (without changing the current one).
	ContextPath string
	Logger      *slog.Logger
}

// Controller reconciles one folder onto one Docker Engine. It keeps what
// it observed across passes (readiness failures, drift events handled),
// so call Pass from one goroutine.
type Controller struct {
	rt       *docker.Runtime
	o        Options
	log      *slog.Logger
	image    string            // the managed image, resolved on the first pass
	failures map[string]int    // container -> /readyz failures in a row
	seen     map[string]uint64 // model -> newest drift index handled
	alerts   map[string]int    // model -> drift alerts so far
	created  map[string]bool   // models this process created: their drifts are all new
}

// New returns a controller; it does not touch the runtime yet.
func New(rt *docker.Runtime, o Options) *Controller {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if o.FailureThreshold <= 0 {
		o.FailureThreshold = DefaultFailureThreshold
	}
	if o.Wait <= 0 {
		o.Wait = 30 * time.Second
	}
	return &Controller{rt: rt, o: o, log: log,
		failures: map[string]int{}, seen: map[string]uint64{}, alerts: map[string]int{}, created: map[string]bool{}}
}

// Result is one action of a pass and how it went.
type Result struct {
	Action
	Error string `json:"error,omitempty"`
}

// Report is what one pass saw and did.
type Report struct {
	Time    time.Time `json:"time"`
	Dir     string    `json:"dir"`
	Actions []Result  `json:"actions"`
	Invalid []Invalid `json:"invalid,omitempty"`
	Drifts  []Applied `json:"drifts,omitempty"`
	Errors  int       `json:"errors"`
}

// Run reconciles every interval until ctx ends. A pass that has started
// finishes even when ctx ends (a half-made deploy helps no one), and
// containers keep running after Run returns.
func (c *Controller) Run(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := c.Pass(context.WithoutCancel(ctx)); err != nil {
			c.log.Error("pass failed", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			c.log.Info("controller stopping; the containers keep running")
			return nil
		case <-t.C:
		}
	}
}

// Pass reads the folder and the runtime once, plans, and carries the plan
// out. An error means the pass could not even start (folder or Engine
// unreadable); failed actions are in the report.
func (c *Controller) Pass(ctx context.Context) (*Report, error) {
	rep := &Report{Time: time.Now().UTC(), Dir: c.o.Dir, Actions: []Result{}}
	desired, invalid, err := ReadDir(c.o.Dir)
	if err != nil {
		return nil, err
	}
	rep.Invalid = invalid
	for _, in := range invalid {
		c.log.Warn("invalid config: its model is left as it runs", "file", in.File, "model", in.Name, "error", in.Error)
	}
	insts, err := c.rt.List(ctx, "")
	if err != nil {
		return nil, err
	}
	actual := c.observe(ctx, insts)
	plan := Plan(desired, invalid, actual, c.o.FailureThreshold)
	for _, a := range plan {
		r := Result{Action: a}
		if a.Changes() {
			if err := c.apply(ctx, a, insts); err != nil {
				r.Error = err.Error()
				rep.Errors++
			}
		}
		c.logAction(r)
		rep.Actions = append(rep.Actions, r)
	}
	if err := c.policies(ctx, desired, rep); err != nil {
		rep.Errors++
		c.log.Error("drift policies", "error", err.Error())
	}
	c.log.Info("pass done", "models", len(desired), "invalid", len(invalid), "changes", countChanges(rep), "errors", rep.Errors)
	return rep, nil
}

func countChanges(rep *Report) int {
	n := 0
	for _, r := range rep.Actions {
		if r.Changes() {
			n++
		}
	}
	return n
}

func (c *Controller) logAction(r Result) {
	attrs := []any{"action", string(r.Kind), "model", r.Model}
	if r.File != "" {
		attrs = append(attrs, "file", r.File)
	}
	if r.Reason != "" {
		attrs = append(attrs, "reason", r.Reason)
	}
	switch {
	case r.Error != "":
		c.log.Error("action failed", append(attrs, "error", r.Error)...)
	case r.Kind == Unchanged:
		c.log.Debug("up to date", attrs...)
	case r.Kind == Hold || r.Kind == Conflict:
		c.log.Warn("left alone", attrs...)
	default:
		c.log.Info("reconciled", attrs...)
	}
}

// observe turns the runtime's containers into Actual, probing /readyz of
// the running containers the controller manages.
func (c *Controller) observe(ctx context.Context, insts []docker.Instance) []Actual {
	out := make([]Actual, 0, len(insts))
	live := map[string]bool{}
	for _, in := range insts {
		a := Actual{Model: in.Model, Container: in.Container, State: in.State, ConfigHash: in.ConfigHash,
			Managed: in.Labels[LabelManagedBy] == ManagedBy}
		live[in.Container] = true
		if a.Managed && a.State == "running" {
			if err := probe(ctx, in.PublicURL); err != nil {
				c.failures[in.Container]++
				c.log.Warn("readiness check failed", "model", in.Model, "container", in.Container,
					"failures_in_a_row", c.failures[in.Container], "error", err.Error())
			} else {
				c.failures[in.Container] = 0
			}
			a.ReadyFailures = c.failures[in.Container]
		}
		out = append(out, a)
	}
	for name := range c.failures {
		if !live[name] {
			delete(c.failures, name)
		}
	}
	return out
}

func probe(ctx context.Context, url string) error {
	if url == "" {
		return errors.New("no published public port")
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	return client.New(url, "", client.WithTimeout(3*time.Second)).Readyz(ctx)
}

// apply carries out one changing action.
func (c *Controller) apply(ctx context.Context, a Action, insts []docker.Instance) error {
	switch a.Kind {
	case Create, Update:
		img, err := c.managedImage(ctx)
		if err != nil {
			return err
		}
		d, err := c.rt.Deploy(ctx, docker.Spec{Name: a.Model, Config: a.Desire.Config, Image: img, Wait: c.o.Wait, Build: c.o.Build})
		c.forget(a.Model, insts)
		if err != nil {
			return err
		}
		if a.Kind == Create {
			c.created[a.Model] = true
		}
		return c.saveContext(a.Model, d)
	case Remove:
		_, err := c.rt.Undeploy(ctx, a.Model, true)
		c.forget(a.Model, insts)
		delete(c.seen, a.Model)
		delete(c.alerts, a.Model)
		return err
	case Restart:
		return c.restart(ctx, a.Model, insts)
	}
	return fmt.Errorf("unknown action %q", a.Kind)
}

func (c *Controller) forget(model string, insts []docker.Instance) {
	for _, in := range insts {
		if in.Model == model {
			delete(c.failures, in.Container)
		}
	}
}

// restart restarts a model's containers that are not running or not ready
// and waits for them. The volume and the container stay the same.
func (c *Controller) restart(ctx context.Context, model string, insts []docker.Instance) error {
	timeout := 10
	for _, in := range insts {
		if in.Model != model {
			continue
		}
		if in.State == "running" && c.failures[in.Container] < c.o.FailureThreshold {
			continue
		}
		if _, err := c.rt.Client().ContainerRestart(ctx, in.ID, mclient.ContainerRestartOptions{Timeout: &timeout}); err != nil {
			return fmt.Errorf("restarting %s: %w", in.Container, err)
		}
		delete(c.failures, in.Container)
	}
	// Ports published as "any free port" may change on restart: read
	// them again before waiting.
	fresh, err := c.rt.List(ctx, model)
	if err != nil {
		return err
	}
	for _, in := range fresh {
		if err := c.rt.WaitReady(ctx, in, c.o.Wait); err != nil {
			return err
		}
	}
	return c.saveContext(model, nil)
}

// managedImage is the image the controller runs: the olops image with the
// managed-by label added, so every container started from it carries the
// label (Deploy takes no labels; containers inherit their image's).
func (c *Controller) managedImage(ctx context.Context) (string, error) {
	if c.image != "" {
		return c.image, nil
	}
	base, err := c.rt.EnsureImage(ctx, c.o.Image, c.o.Build, nil)
	if err != nil {
		return "", err
	}
	info, err := c.rt.Client().ImageInspect(ctx, base)
	if err != nil {
		return "", fmt.Errorf("inspecting image %s: %w", base, err)
	}
	tag := "olops-controller:" + docker.Hash([]byte(info.ID))
	ok, err := c.rt.ImageExists(ctx, tag)
	if err != nil {
		return "", err
	}
	if !ok {
		c.log.Info("building the controller's image", "base", base, "image", tag)
		if err := c.rt.LabelImage(ctx, base, tag, map[string]string{LabelManagedBy: ManagedBy}); err != nil {
			return "", err
		}
	}
	c.image = tag
	return tag, nil
}

// tokens reads a container's bearer tokens from its environment (Deploy
// puts them there).
func (c *Controller) tokens(ctx context.Context, container string) (public, mgmt string, err error) {
	res, err := c.rt.Client().ContainerInspect(ctx, container, mclient.ContainerInspectOptions{})
	if err != nil {
		return "", "", fmt.Errorf("inspecting %s: %w", container, err)
	}
	if res.Container.Config == nil {
		return "", "", nil
	}
	for _, kv := range res.Container.Config.Env {
		if v, ok := strings.CutPrefix(kv, "OLOPS_PUBLIC_TOKEN="); ok {
			public = v
		}
		if v, ok := strings.CutPrefix(kv, "OLOPS_MANAGEMENT_TOKEN="); ok {
			mgmt = v
		}
	}
	return public, mgmt, nil
}

// saveContext registers the model's first replica in the context file.
func (c *Controller) saveContext(model string, d *docker.Deployment) error {
	if c.o.ContextPath == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	insts, err := c.rt.List(ctx, model)
	if err != nil || len(insts) == 0 {
		return err
	}
	in := insts[0]
	pub, mgmt, err := c.tokens(ctx, in.Container)
	if err != nil {
		return err
	}
	_, err = client.AddContext(c.o.ContextPath, client.Context{Name: model, PublicURL: in.PublicURL, ManagementURL: in.ManagementURL, PublicToken: pub, ManagementToken: mgmt})
	if err != nil {
		return fmt.Errorf("writing context %s to %s: %w", model, c.o.ContextPath, err)
	}
	return nil
}

// policies applies each running model's drift policy to the drift events
// it has not handled yet. The first time this process sees a model it did
// not create, the drifts already there are history: it only remembers
// the newest, so a restarted controller does not roll back twice.
func (c *Controller) policies(ctx context.Context, desired []Desired, rep *Report) error {
	insts, err := c.rt.List(ctx, "")
	if err != nil {
		return err
	}
	first := map[string]docker.Instance{}
	for _, in := range insts {
		if in.Labels[LabelManagedBy] == ManagedBy && in.State == "running" && in.Replica == 0 {
			first[in.Model] = in
		}
	}
	var errs []error
	for _, d := range desired {
		in, ok := first[d.Name]
		if !ok || in.ManagementURL == "" {
			continue
		}
		_, mgmt, err := c.tokens(ctx, in.Container)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		m := client.New(in.ManagementURL, mgmt, client.WithTimeout(10*time.Second))
		seen, known := c.seen[d.Name]
		if !known && !c.created[d.Name] {
			dr, err := m.Drift(ctx)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", d.Name, err))
				continue
			}
			for _, e := range dr.Events {
				seen = max(seen, e.Index)
			}
			c.seen[d.Name] = seen
			continue
		}
		applied, seen, err := ApplyPolicy(ctx, m, d.Name, d.Policy, d.Config, seen)
		c.seen[d.Name] = seen
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", d.Name, err))
			continue
		}
		for _, a := range applied {
			if a.Action == "alert" {
				c.alerts[d.Name]++
			}
			attrs := []any{"model", d.Name, "policy", d.Policy, "action", a.Action, "drift_index", a.Drift.Index,
				"metric", a.Drift.Metric, "before", a.Drift.Before, "after", a.Drift.After, "alerts", c.alerts[d.Name], "reason", a.Reason}
			if a.Version > 0 {
				attrs = append(attrs, "version", a.Version)
			}
			if a.Error != "" {
				rep.Errors++
				c.log.Error("drift policy failed", append(attrs, "error", a.Error)...)
			} else {
				c.log.Warn("drift", attrs...)
			}
		}
		rep.Drifts = append(rep.Drifts, applied...)
	}
	return errors.Join(errs...)
}

// Alerts returns the drift alerts counted per model since the controller
// started.
func (c *Controller) Alerts() map[string]int {
	out := make(map[string]int, len(c.alerts))
	for k, v := range c.alerts {
		out[k] = v
	}
	return out
}
