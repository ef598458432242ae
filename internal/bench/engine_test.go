package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSectionNamesUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range sections {
		if s.name == "" || s.run == nil || seen[s.name] {
			t.Errorf("section %q: empty, without a func, or twice", s.name)
		}
		seen[s.name] = true
	}
	if !seen["engine"] {
		t.Error("no engine section")
	}
}

func TestRiverRefsCoverElec2(t *testing.T) {
	shared, err := sharedDir()
	if err != nil {
		t.Fatal(err)
	}
	refs, err := riverRefs(shared)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range refs {
		if r.Dataset == "elec2.csv.gz" {
			if r.USPerSample <= 0 {
				t.Errorf("%s: no time", r.Model)
			}
			if _, err := os.Stat(filepath.Join(shared, "datasets", r.Dataset)); err != nil {
				t.Error(err)
			}
			n++
		}
	}
	if n < 6 {
		t.Errorf("%d elec2 references, want the 6 classifiers", n)
	}
}
