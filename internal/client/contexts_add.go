package client

import (
	"encoding/json"
	"os"
	"path/filepath"
)

// AddContext adds or replaces c in the file at path without changing the
// current context: the controller registers every model it runs this way,
// so `olops monitor` and `--context`-style selection see the whole fleet
// while the user's current model stays as it was. It reports whether the
// file changed (an identical entry is not rewritten).
func AddContext(path string, c Context) (bool, error) {
	cs, err := LoadContexts(path)
	if err != nil {
		return false, err
	}
	if old, ok := cs.Contexts[c.Name]; ok && old == c {
		return false, nil
	}
	cs.Contexts[c.Name] = c
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return false, err
	}
	b, err := json.MarshalIndent(cs, "", "  ")
	if err != nil {
		return false, err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return false, err
	}
	return true, os.Rename(tmp, path)
}

// RemoveContext deletes the context name from the file at path when its
// management URL is managementURL (so a context someone re-pointed
// elsewhere is kept). When it was the current context, none is current
// afterwards. It reports whether the file changed.
func RemoveContext(path, name, managementURL string) (bool, error) {
	cs, err := LoadContexts(path)
	if err != nil {
		return false, err
	}
	c, ok := cs.Contexts[name]
	if !ok || c.ManagementURL != managementURL {
		return false, nil
	}
	delete(cs.Contexts, name)
	if cs.Current == name {
		cs.Current = ""
	}
	b, err := json.MarshalIndent(cs, "", "  ")
	if err != nil {
		return false, err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return false, err
	}
	return true, os.Rename(tmp, path)
}
