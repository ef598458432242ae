// Package config is olops.yaml: its types, defaults and validation.
package config

import (
	"github.com/olops/olops/internal/learn"
	"go.yaml.in/yaml/v3"
)

// APIVersion and Kind of a model config.
const (
	APIVersion = "olops.dev/v1"
	KindModel  = "Model"
)

// Config is one olops.yaml document.
type Config struct {
	APIVersion string   `yaml:"apiVersion" json:"apiVersion"`
	Kind       string   `yaml:"kind" json:"kind"`
	Metadata   Metadata `yaml:"metadata" json:"metadata"`
	Spec       Spec     `yaml:"spec" json:"spec"`

	file string     // where it was parsed from, for errors
	node *yaml.Node // the parsed document, for line numbers
}

// Metadata names the model.
type Metadata struct {
	Name   string            `yaml:"name" json:"name"`
	Labels map[string]string `yaml:"labels,omitempty" json:"labels,omitempty"`
}

// Spec is what the model is and how it is served.
type Spec struct {
	Task       learn.Task `yaml:"task" json:"task"`
	Target     string     `yaml:"target" json:"target"`
	Positive   string     `yaml:"positive,omitempty" json:"positive,omitempty"` // binary: the positive label
	Features   []Feature  `yaml:"features,omitempty" json:"features,omitempty"` // optional fixed schema
	Drop       []string   `yaml:"drop,omitempty" json:"drop,omitempty"`         // columns never used as features
	Pipeline   Pipeline   `yaml:"pipeline" json:"pipeline"`
	Metrics    []string   `yaml:"metrics,omitempty" json:"metrics,omitempty"`
	Window     int        `yaml:"window,omitempty" json:"window,omitempty"` // rolling metrics window
	Drift      Drift      `yaml:"drift,omitempty" json:"drift,omitempty"`
	Snapshots  Snapshots  `yaml:"snapshots,omitempty" json:"snapshots,omitempty"`
	Durability string     `yaml:"durability,omitempty" json:"durability,omitempty"` // fsync | batch | none
	Guard      Guard      `yaml:"guard,omitempty" json:"guard,omitempty"`
	Server     Server     `yaml:"server,omitempty" json:"server,omitempty"`
	Policy     Policy     `yaml:"policy,omitempty" json:"policy,omitzero"` // for olops controller
}

// Feature fixes one feature's kind.
type Feature struct {
	Name string `yaml:"name" json:"name"`
	Type string `yaml:"type" json:"type"` // numeric | categorical
}

// Pipeline is the model: preprocessing steps, then a model by name with
// River's hyperparameter names.
type Pipeline struct {
	Steps  []learn.Step   `yaml:"steps,omitempty" json:"steps,omitempty"`
	Model  string         `yaml:"model" json:"model"`
	Params map[string]any `yaml:"params,omitempty" json:"params,omitempty"`
}

// Drift is the drift detector and what it watches.
type Drift struct {
	Detector string         `yaml:"detector,omitempty" json:"detector,omitempty"` // adwin | page_hinkley | ddm | kswin | none
	Params   map[string]any `yaml:"params,omitempty" json:"params,omitempty"`
	Watches  string         `yaml:"watches,omitempty" json:"watches,omitempty"` // error (default) | loss
}

// Snapshots say how often state is snapshotted and how many are kept.
type Snapshots struct {
	Every int `yaml:"every,omitempty" json:"every,omitempty"`
	Keep  int `yaml:"keep,omitempty" json:"keep,omitempty"`
}

// Guard protects the training API.
type Guard struct {
	Labels       []string `yaml:"labels,omitempty" json:"labels,omitempty"` // allowed label values
	MaxBodyBytes int64    `yaml:"maxBodyBytes,omitempty" json:"maxBodyBytes,omitempty"`
	LearnRate    float64  `yaml:"learnRate,omitempty" json:"learnRate,omitempty"` // learn events per second, 0 = no limit
	LearnBurst   int      `yaml:"learnBurst,omitempty" json:"learnBurst,omitempty"`
}

// Server holds listener settings that the config may carry.
type Server struct {
	PublicAddr          string `yaml:"publicAddr,omitempty" json:"publicAddr,omitempty"`
	ManagementAddr      string `yaml:"managementAddr,omitempty" json:"managementAddr,omitempty"`
	PublicTokenFile     string `yaml:"publicTokenFile,omitempty" json:"publicTokenFile,omitempty"`
	ManagementTokenFile string `yaml:"managementTokenFile,omitempty" json:"managementTokenFile,omitempty"`
	TLSCert             string `yaml:"tlsCert,omitempty" json:"tlsCert,omitempty"`
	TLSKey              string `yaml:"tlsKey,omitempty" json:"tlsKey,omitempty"`
}

// LearnSpec is the engine's view of the model.
func (c *Config) LearnSpec() learn.Spec {
	return learn.Spec{
		Task:     c.Spec.Task,
		Model:    c.Spec.Pipeline.Model,
		Params:   c.Spec.Pipeline.Params,
		Steps:    c.Spec.Pipeline.Steps,
		Positive: c.Spec.Positive,
	}
}
