package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Context is where a model's server is and the tokens to reach it. `olops
// serve` and `olops deploy` write one; the other commands read it when no
// flag or environment variable says otherwise.
type Context struct {
	Name            string `json:"name"`
	PublicURL       string `json:"public_url"`
	ManagementURL   string `json:"management_url"`
	PublicToken     string `json:"public_token,omitempty"`
	ManagementToken string `json:"management_token,omitempty"`
}

// Contexts is the context file: every known model and the current one.
type Contexts struct {
	Current  string             `json:"current"`
	Contexts map[string]Context `json:"contexts"`
}

// ContextPath is the context file's path: $OLOPS_CONTEXT, or
// $XDG_CONFIG_HOME/olops/contexts.json (~/.config/olops/contexts.json).
func ContextPath(getenv func(string) string) (string, error) {
	if p := getenv("OLOPS_CONTEXT"); p != "" {
		return p, nil
	}
	dir := getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home := getenv("HOME")
		if home == "" {
			return "", errors.New("cannot place the context file: set HOME, XDG_CONFIG_HOME or OLOPS_CONTEXT")
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "olops", "contexts.json"), nil
}

// LoadContexts reads the context file; a missing file is an empty set.
func LoadContexts(path string) (*Contexts, error) {
	cs := &Contexts{Contexts: map[string]Context{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return cs, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, cs); err != nil {
		return nil, fmt.Errorf("context file %s is not valid JSON (%v): fix or remove it", path, err)
	}
	if cs.Contexts == nil {
		cs.Contexts = map[string]Context{}
	}
	return cs, nil
}

// SaveContext adds or replaces c in the file at path and makes it current.
// The file holds tokens, so it is written 0600.
func SaveContext(path string, c Context) error {
	cs, err := LoadContexts(path)
	if err != nil {
		return err
	}
	cs.Contexts[c.Name] = c
	cs.Current = c.Name
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(cs, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Get returns the named context, or the current one when name is "".
func (cs *Contexts) Get(name string) (Context, bool) {
	if name == "" {
		name = cs.Current
	}
	c, ok := cs.Contexts[name]
	return c, ok
}
