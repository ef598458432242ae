// Package controller reconciles a folder of olops.yaml files (the desired
// state, typically a git checkout) onto the Docker runtime, keeps what it
// runs healthy and applies each model's drift policy.
package controller

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/olops/olops/internal/config"
	"github.com/olops/olops/internal/runtime/docker"
	"go.yaml.in/yaml/v3"
)

// Desired is one valid config of the folder: a model that should run.
type Desired struct {
	Name   string         `json:"name"`
	File   string         `json:"file"`
	Hash   string         `json:"config_hash"` // docker.Hash of the file's bytes, as the config-hash label
	Policy string         `json:"on_drift"`
	Config []byte         `json:"-"`
	Parsed *config.Config `json:"-"`
}

// Invalid is a file of the folder that does not load. Name is the model it
// seems to describe ("" when not even that can be read): that model is
// left as it runs until the file is fixed.
type Invalid struct {
	File  string `json:"file"`
	Name  string `json:"name,omitempty"`
	Error string `json:"error"`
}

// ReadDir reads every *.yaml and *.yml file directly in dir (hidden files
// are skipped) in name order. A file that does not load is reported in
// invalid, never an error: one typo must not stop the whole fleet.
func ReadDir(dir string) (desired []Desired, invalid []Invalid, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the config folder: %w (point --dir at a folder of olops.yaml files)", err)
	}
	byName := map[string]string{} // model -> file that defines it
	for _, e := range entries {
		n := e.Name()
		ext := strings.ToLower(filepath.Ext(n))
		if e.IsDir() || strings.HasPrefix(n, ".") || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		path := filepath.Join(dir, n)
		b, err := os.ReadFile(path)
		if err != nil {
			invalid = append(invalid, Invalid{File: path, Error: err.Error()})
			continue
		}
		d, bad := load(path, b)
		if bad != nil {
			invalid = append(invalid, *bad)
			continue
		}
		if other, ok := byName[d.Name]; ok {
			invalid = append(invalid, Invalid{File: path, Name: d.Name,
				Error: fmt.Sprintf("%s: metadata.name: model %q is already defined in %s: give each file its own model name", path, d.Name, other)})
			continue
		}
		byName[d.Name] = path
		desired = append(desired, d)
	}
	sort.Slice(desired, func(i, j int) bool { return desired[i].Name < desired[j].Name })
	return desired, invalid, nil
}

// load parses one file; on failure it still tries to name the model.
func load(path string, b []byte) (Desired, *Invalid) {
	c, err := config.Parse(b, path)
	if err != nil {
		return Desired{}, &Invalid{File: path, Name: guessName(b), Error: oneLine(err)}
	}
	name := c.Metadata.Name
	if err := docker.ValidName(name); err != nil {
		return Desired{}, &Invalid{File: path, Name: name, Error: fmt.Sprintf("%s: metadata.name: %v", path, err)}
	}
	policy := c.Spec.Policy.OnDrift
	if policy == "" {
		policy = config.OnDriftAlert
	}
	return Desired{Name: name, File: path, Hash: docker.Hash(b), Policy: policy, Config: b, Parsed: c}, nil
}

// guessName reads metadata.name from a file that does not validate.
func guessName(b []byte) string {
	var doc struct {
		Metadata struct {
			Name string `yaml:"name"`
		} `yaml:"metadata"`
	}
	if yaml.Unmarshal(b, &doc) != nil {
		return ""
	}
	return doc.Metadata.Name
}

// oneLine joins a multi-error (config.Validate returns every problem) with
// "; " so each problem keeps its file:line and fits on one log line.
func oneLine(err error) string {
	var j interface{ Unwrap() []error }
	if errors.As(err, &j) {
		var parts []string
		for _, e := range j.Unwrap() {
			parts = append(parts, e.Error())
		}
		return strings.Join(parts, "; ")
	}
	return err.Error()
}
