package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	mclient "github.com/moby/moby/client"
	"github.com/olops/olops/internal/client"
	"github.com/olops/olops/internal/config"
	"github.com/olops/olops/internal/runtime/docker"
)

// LabelManagedBy marks the containers a controller started (through the
// image they run: see managedImage), LabelController says which one. A
// controller updates, restarts or removes only the containers with its
// own ID; those deployed by hand or by another controller (another
// folder) are left alone.
const (
	LabelManagedBy  = "dev.olops.managed-by"
	ManagedBy       = "controller"
	LabelController = "dev.olops.controller"
)

// DefaultID is a controller's ID when none is given: derived from the
// folder's absolute path, so two controllers of two folders never take
// each other's models.
func DefaultID(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	return docker.Hash([]byte(abs))
}

// owns reports whether this controller started the container.
func (c *Controller) owns(in docker.Instance) bool {
	return in.Labels[LabelManagedBy] == ManagedBy && in.Labels[LabelController] == c.o.ID
}

// Options configure a Controller.
type Options struct {
	Dir string // the folder of olops.yaml files
	// ID names this controller on its containers ("" = DefaultID(Dir)).
	// Keep it when the folder moves, or the old containers become
	// another controller's.
	ID string
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
	broken   map[string]string // file -> error of the invalid files last pass
	noted    map[string]string // model -> the hold or conflict last logged
}

// New returns a controller; it does not touch the runtime yet.
func New(rt *docker.Runtime, o Options) *Controller {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if o.ID == "" {
		o.ID = DefaultID(o.Dir)
	}
	if o.FailureThreshold <= 0 {
		o.FailureThreshold = DefaultFailureThreshold
	}
	if o.Wait <= 0 {
		o.Wait = 30 * time.Second
	}
	return &Controller{rt: rt, o: o, log: log,
		failures: map[string]int{}, seen: map[string]uint64{}, alerts: map[string]int{}, noted: map[string]string{}}
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
	// Challengers: what the challenger policy did with running challengers.
	Challengers []Judged `json:"challengers,omitempty"`
	Errors      int      `json:"errors"`
}

// passTimeout bounds one pass, so a hung Engine call cannot stop the
// loop for good.
const passTimeout = 10 * time.Minute

// Run reconciles every interval until ctx ends. A pass that has started
// finishes even when ctx ends (a half-made deploy helps no one), and
// containers keep running after Run returns.
func (c *Controller) Run(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), passTimeout)
		if _, err := c.Pass(pctx); err != nil {
			c.log.Error("pass failed", "error", err.Error())
		}
		cancel()
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
	c.logInvalid(invalid)
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
	level := slog.LevelDebug // a quiet pass is not news
	if countChanges(rep) > 0 || rep.Errors > 0 || len(rep.Drifts) > 0 {
		level = slog.LevelInfo
	}
	c.log.Log(ctx, level, "pass done", "models", len(desired), "invalid", len(invalid), "changes", countChanges(rep), "errors", rep.Errors)
	return rep, nil
}

// logInvalid warns about a broken file when it breaks or its error
// changes, not on every pass, and says when it is fixed or gone.
func (c *Controller) logInvalid(invalid []Invalid) {
	now := map[string]string{}
	for _, in := range invalid {
		now[in.File] = in.Error
		if c.broken[in.File] != in.Error {
			c.log.Warn("invalid config: its model is left as it runs", "file", in.File, "model", in.Name, "error", in.Error)
		}
	}
	for f := range c.broken {
		if _, ok := now[f]; !ok {
			c.log.Info("config no longer invalid (fixed or removed)", "file", f)
		}
	}
	c.broken = now
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
	defer func() {
		if r.Kind == Hold || r.Kind == Conflict {
			c.noted[r.Model] = string(r.Kind) + " " + r.Reason
		} else {
			delete(c.noted, r.Model)
		}
	}()
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
		// Said once, not every pass, until the situation changes.
		key := string(r.Kind) + " " + r.Reason
		if c.noted[r.Model] == key {
			c.log.Debug("left alone", attrs...)
		} else {
			c.log.Warn("left alone", attrs...)
		}
	default:
		c.log.Info("reconciled", attrs...)
	}
}

// observe turns the runtime's containers into Actual, probing /readyz of
// the running containers the controller manages (in parallel: one slow
// model must not hold up the fleet).
func (c *Controller) observe(ctx context.Context, insts []docker.Instance) []Actual {
	out := make([]Actual, len(insts))
	probeErr := make([]error, len(insts))
	var wg sync.WaitGroup
	for i, in := range insts {
		out[i] = Actual{Model: in.Model, Container: in.Container, State: in.State, ConfigHash: in.ConfigHash,
			Managed: c.owns(in)}
		if !out[i].Managed && in.Labels[LabelManagedBy] == ManagedBy {
			out[i].Owner = in.Labels[LabelController]
		}
		if out[i].Managed && out[i].State == "running" {
			wg.Add(1)
			go func() {
				defer wg.Done()
				probeErr[i] = probe(ctx, in.PublicURL)
			}()
		}
	}
	wg.Wait()
	live := map[string]bool{}
	for i, in := range insts {
		live[in.Container] = true
		if !out[i].Managed || out[i].State != "running" {
			continue
		}
		if err := probeErr[i]; err != nil {
			c.failures[in.Container]++
			c.log.Warn("readiness check failed", "model", in.Model, "container", in.Container,
				"failures_in_a_row", c.failures[in.Container], "error", err.Error())
		} else {
			c.failures[in.Container] = 0
		}
		out[i].ReadyFailures = c.failures[in.Container]
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
		_, err = c.rt.Deploy(ctx, docker.Spec{Name: a.Model, Config: a.Desire.Config, Image: img, Wait: c.o.Wait, Build: c.o.Build})
		c.forget(a.Model, insts)
		if err != nil {
			return err
		}
		return c.saveContext(a.Model)
	case Remove:
		_, err := c.rt.Undeploy(ctx, a.Model, true)
		c.forget(a.Model, insts)
		delete(c.seen, a.Model)
		delete(c.alerts, a.Model)
		if err != nil {
			return err
		}
		return c.dropContext(a.Model, insts)
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
	return c.saveContext(model)
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
	tag := "olops-controller:" + docker.Hash([]byte(info.ID), []byte(c.o.ID))
	ok, err := c.rt.ImageExists(ctx, tag)
	if err != nil {
		return "", err
	}
	if !ok {
		c.log.Info("building the controller's image", "base", base, "image", tag, "controller", c.o.ID)
		if err := c.rt.LabelImage(ctx, base, tag, map[string]string{LabelManagedBy: ManagedBy, LabelController: c.o.ID}); err != nil {
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
func (c *Controller) saveContext(model string) error {
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

// dropContext removes the context of a removed model, if it still points
// at the container that was removed.
func (c *Controller) dropContext(model string, insts []docker.Instance) error {
	if c.o.ContextPath == "" {
		return nil
	}
	for _, in := range insts {
		if in.Model == model && in.Replica == 0 && in.ManagementURL != "" {
			if _, err := client.RemoveContext(c.o.ContextPath, model, in.ManagementURL); err != nil {
				return fmt.Errorf("removing context %s from %s: %w", model, c.o.ContextPath, err)
			}
		}
	}
	return nil
}

// policies applies each running model's drift policy to the drift events
// it has not handled yet. The first time this process sees a model, the
// drifts already there are history (a new model has none; a restarted
// controller or a recreated container finds old ones on the volume): it
// only remembers the newest, so nothing is rolled back twice.
func (c *Controller) policies(ctx context.Context, desired []Desired, rep *Report) error {
	insts, err := c.rt.List(ctx, "")
	if err != nil {
		return err
	}
	first := map[string]docker.Instance{}
	for _, in := range insts {
		if c.owns(in) && in.State == "running" && in.Replica == 0 {
			first[in.Model] = in
		}
	}
	var errs []error
	for _, d := range desired {
		in, ok := first[d.Name]
		if !ok || in.ManagementURL == "" {
			continue
		}
		pub, mgmt, err := c.tokens(ctx, in.Container)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		// Docker may have restarted a container on new ports: keep its
		// context current (an unchanged entry is not rewritten).
		if c.o.ContextPath != "" {
			if _, err := client.AddContext(c.o.ContextPath, client.Context{Name: d.Name, PublicURL: in.PublicURL,
				ManagementURL: in.ManagementURL, PublicToken: pub, ManagementToken: mgmt}); err != nil {
				errs = append(errs, fmt.Errorf("writing context %s: %w", d.Name, err))
			}
		}
		m := client.New(in.ManagementURL, mgmt, client.WithTimeout(10*time.Second))
		seen, known := c.seen[d.Name]
		if !known {
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
		if d.Policy != config.OnDriftChallenger {
			continue
		}
		j, err := JudgeChallenger(ctx, m, d.Name, d.Parsed.Spec.Policy.Challenger, d.Parsed.Spec.Window)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: challenger: %w", d.Name, err))
			continue
		}
		if j == nil {
			continue
		}
		attrs := []any{"model", d.Name, "action", j.Action, "learns", j.Challenger.Learns, "metric", j.Challenger.Metric,
			"challenger", j.Challenger.Challenger[j.Challenger.Metric], "champion", j.Challenger.Champion[j.Challenger.Metric], "reason", j.Reason}
		switch {
		case j.Error != "":
			rep.Errors++
			c.log.Error("challenger policy failed", append(attrs, "error", j.Error)...)
		case j.Action == "wait":
			c.log.Debug("challenger", attrs...)
		default:
			c.log.Info("challenger", attrs...)
		}
		rep.Challengers = append(rep.Challengers, *j)
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
