package config

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/drift"
	"github.com/olops/olops/internal/learn/metrics"
	"github.com/olops/olops/internal/learn/models"
)

// Default returns a valid config for one model with every default set.
func Default(model, target string, task learn.Task) *Config {
	c := &Config{
		APIVersion: APIVersion,
		Kind:       KindModel,
		Metadata:   Metadata{Name: nameFrom(model)},
		Spec: Spec{
			Task:     task,
			Target:   target,
			Pipeline: Pipeline{Model: model},
		},
	}
	c.ApplyDefaults()
	return c
}

func nameFrom(s string) string {
	s = strings.ToLower(s)
	s = regexp.MustCompile(`[^a-z0-9-]+`).ReplaceAllString(s, "-")
	s = strings.Trim(s, "-")
	if s == "" {
		return "model"
	}
	return s
}

// ApplyDefaults fills every field left empty with its default. It is
// called by Load and Parse; call it again after changing a config by hand.
func (c *Config) ApplyDefaults() {
	s := &c.Spec
	if s.Task == "" && s.Pipeline.Model != "" {
		if t, ok := models.TaskOf(s.Pipeline.Model); ok {
			s.Task = t
			if t != learn.Regression {
				s.Task = learn.Binary
				if len(s.Guard.Labels) > 2 {
					s.Task = learn.Multiclass
				}
			}
		}
	}
	if s.Window == 0 {
		s.Window = DefaultWindow
	}
	if len(s.Metrics) == 0 && s.Task != "" {
		s.Metrics = metrics.Defaults(s.Task)
	}
	if s.Drift.Detector == "" {
		s.Drift.Detector = DefaultDriftDetector
	}
	if s.Drift.Watches == "" {
		s.Drift.Watches = DefaultDriftWatches
	}
	if s.Snapshots.Every == 0 {
		s.Snapshots.Every = DefaultSnapshotEvery
	}
	if s.Snapshots.Keep == 0 {
		s.Snapshots.Keep = DefaultSnapshotKeep
	}
	if s.Durability == "" {
		s.Durability = DefaultDurability
	}
	if s.Guard.MaxBodyBytes == 0 {
		s.Guard.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if s.Guard.LearnRate > 0 && s.Guard.LearnBurst == 0 {
		s.Guard.LearnBurst = max(1, int(s.Guard.LearnRate))
	}
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// Validate checks the whole config and returns every problem found, each
// an *Error with its field and (when parsed from a file) its line.
func (c *Config) Validate() error {
	v := &validator{c: c}
	v.check()
	if len(v.errs) == 0 {
		return nil
	}
	sort.SliceStable(v.errs, func(i, j int) bool { return v.errs[i].Line < v.errs[j].Line })
	if len(v.errs) == 1 {
		return v.errs[0]
	}
	errs := make([]error, len(v.errs))
	for i, e := range v.errs {
		errs[i] = e
	}
	return errors.Join(errs...)
}

type validator struct {
	c    *Config
	errs []*Error
}

func (v *validator) add(field, format string, a ...any) {
	v.errs = append(v.errs, &Error{File: v.c.file, Line: v.c.lineOf(field), Field: field, Msg: fmt.Sprintf(format, a...)})
}

func (v *validator) check() {
	c := v.c
	s := &c.Spec
	if c.APIVersion != APIVersion {
		v.add("apiVersion", "must be %q, not %q", APIVersion, c.APIVersion)
	}
	if c.Kind != KindModel {
		v.add("kind", "must be %q, not %q", KindModel, c.Kind)
	}
	switch {
	case c.Metadata.Name == "":
		v.add("metadata.name", "is required: name the model (lowercase letters, digits and '-')")
	case len(c.Metadata.Name) > 63 || !dnsLabel.MatchString(c.Metadata.Name):
		v.add("metadata.name", "%q is not a valid name: use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit", c.Metadata.Name)
	}
	if s.Target == "" {
		v.add("spec.target", "is required: name the column the model learns to predict")
	}

	known := models.Names()
	modelOK := false
	switch {
	case s.Pipeline.Model == "":
		v.add("spec.pipeline.model", "is required (known: %s)", strings.Join(known, ", "))
	case !slices.Contains(known, s.Pipeline.Model):
		v.add("spec.pipeline.model", "unknown model %q (known: %s)", s.Pipeline.Model, strings.Join(known, ", "))
	default:
		modelOK = true
	}

	taskOK := false
	switch s.Task {
	case learn.Binary, learn.Multiclass, learn.Regression:
		taskOK = true
		if modelOK {
			if mt, ok := models.TaskOf(s.Pipeline.Model); ok && (mt == learn.Regression) != (s.Task == learn.Regression) {
				v.add("spec.task", "model %q is a %s model and cannot do %s", s.Pipeline.Model, kindOf(mt), s.Task)
				taskOK = false
			}
		}
	case "":
		// With a known model the task comes from it; an unknown model is
		// already reported.
		if modelOK {
			v.add("spec.task", "is required: binary, multiclass or regression")
		}
	default:
		v.add("spec.task", "unknown task %q: use binary, multiclass or regression", s.Task)
	}

	seen := map[string]bool{}
	for i, f := range s.Features {
		field := fmt.Sprintf("spec.features[%d]", i)
		if f.Name == "" {
			v.add(field+".name", "is required")
		} else if seen[f.Name] {
			v.add(field+".name", "feature %q is listed twice", f.Name)
		}
		seen[f.Name] = true
		if f.Name != "" && f.Name == s.Target {
			v.add(field+".name", "%q is the target and cannot also be a feature", f.Name)
		}
		if f.Type != "numeric" && f.Type != "categorical" {
			v.add(field+".type", "unknown type %q: use numeric or categorical", f.Type)
		}
	}

	if modelOK && taskOK {
		if _, err := models.New(c.LearnSpec()); err != nil {
			field := "spec.pipeline.model"
			if len(s.Pipeline.Params) > 0 {
				field = "spec.pipeline.params"
			} else if len(s.Pipeline.Steps) > 0 {
				field = "spec.pipeline.steps"
			}
			v.add(field, "%v", err)
		}
	}

	if s.Window < 1 {
		v.add("spec.window", "must be at least 1, not %d", s.Window)
	}
	if taskOK {
		if _, err := metrics.NewSet(s.Task, s.Metrics, max(s.Window, 1)); err != nil {
			v.add("spec.metrics", "%v", err)
		}
	}

	if s.Drift.Detector != "none" {
		if !slices.Contains(drift.Names(), s.Drift.Detector) {
			v.add("spec.drift.detector", "unknown detector %q (known: %s, none)", s.Drift.Detector, strings.Join(drift.Names(), ", "))
		} else if _, err := drift.New(s.Drift.Detector, s.Drift.Params); err != nil {
			v.add("spec.drift.params", "%v", err)
		}
	}
	if s.Drift.Watches != "error" && s.Drift.Watches != "loss" {
		v.add("spec.drift.watches", "unknown value %q: use error or loss", s.Drift.Watches)
	}
	if s.Snapshots.Every < 1 {
		v.add("spec.snapshots.every", "must be at least 1, not %d", s.Snapshots.Every)
	}
	if s.Snapshots.Keep < 1 {
		v.add("spec.snapshots.keep", "must be at least 1, not %d", s.Snapshots.Keep)
	}
	switch s.Durability {
	case "fsync", "batch", "none":
	default:
		v.add("spec.durability", "unknown mode %q: use fsync, batch or none", s.Durability)
	}
	g := s.Guard
	if g.MaxBodyBytes < 1 {
		v.add("spec.guard.maxBodyBytes", "must be positive, not %d", g.MaxBodyBytes)
	}
	if g.LearnRate < 0 {
		v.add("spec.guard.learnRate", "must be 0 (no limit) or positive, not %v", g.LearnRate)
	}
	if g.LearnBurst < 0 {
		v.add("spec.guard.learnBurst", "must not be negative, not %d", g.LearnBurst)
	}
	v.checkLabels()
	v.checkPolicy()
}

func kindOf(t learn.Task) string {
	if t == learn.Regression {
		return "regression"
	}
	return "classification"
}

func (v *validator) checkLabels() {
	s := &v.c.Spec
	seen := map[string]bool{}
	for i, l := range s.Guard.Labels {
		field := fmt.Sprintf("spec.guard.labels[%d]", i)
		if seen[l] {
			v.add(field, "label %q is listed twice", l)
		}
		seen[l] = true
		switch s.Task {
		case learn.Regression:
			v.add("spec.guard.labels", "a regression model takes numbers: remove the label list")
			return
		case learn.Binary:
			if s.Positive == "" {
				if _, _, err := (&learn.Pipeline{Spec: learn.Spec{Task: learn.Binary}}).ClassOf(l); err != nil {
					v.add(field, "%v", err)
				}
			}
		}
	}
	if s.Task == learn.Binary && len(s.Guard.Labels) > 2 {
		v.add("spec.guard.labels", "a binary model has two labels, not %d: use task multiclass", len(s.Guard.Labels))
	}
	if s.Positive != "" {
		if s.Task != learn.Binary {
			v.add("spec.positive", "only a binary model has a positive label")
		} else if len(s.Guard.Labels) > 0 && !seen[s.Positive] {
			v.add("spec.positive", "%q is not one of spec.guard.labels", s.Positive)
		}
	}
}
