package client

import (
	"path/filepath"
	"testing"
)

func TestAddAndRemoveContextKeepCurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "olops", "contexts.json")
	mine := Context{Name: "mine", ManagementURL: "http://127.0.0.1:9090"}
	if err := SaveContext(path, mine); err != nil {
		t.Fatal(err)
	}
	fleet := Context{Name: "fleet-a", PublicURL: "http://127.0.0.1:1", ManagementURL: "http://127.0.0.1:2", ManagementToken: "olm_x"}
	if changed, err := AddContext(path, fleet); err != nil || !changed {
		t.Fatalf("AddContext: changed %v, %v", changed, err)
	}
	if changed, err := AddContext(path, fleet); err != nil || changed {
		t.Fatalf("adding the same context again: changed %v, %v; want no rewrite", changed, err)
	}
	cs, err := LoadContexts(path)
	if err != nil {
		t.Fatal(err)
	}
	if cs.Current != "mine" || cs.Contexts["fleet-a"] != fleet || len(cs.Contexts) != 2 {
		t.Fatalf("contexts = %+v: want fleet-a added and mine still current", cs)
	}
	// A context re-pointed elsewhere is not removed.
	if changed, err := RemoveContext(path, "fleet-a", "http://127.0.0.1:3"); err != nil || changed {
		t.Fatalf("RemoveContext with another URL: changed %v, %v", changed, err)
	}
	if changed, err := RemoveContext(path, "fleet-a", fleet.ManagementURL); err != nil || !changed {
		t.Fatalf("RemoveContext: changed %v, %v", changed, err)
	}
	if changed, err := RemoveContext(path, "mine", mine.ManagementURL); err != nil || !changed {
		t.Fatalf("RemoveContext of the current one: changed %v, %v", changed, err)
	}
	cs, err = LoadContexts(path)
	if err != nil {
		t.Fatal(err)
	}
	if cs.Current != "" || len(cs.Contexts) != 0 {
		t.Fatalf("contexts = %+v: want empty, none current", cs)
	}
}
