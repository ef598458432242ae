package main

import (
	"encoding/json"
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

// TestRiverHereCoversElec2 holds the embedded side-by-side times to every
// classifier the reference file times on elec2.
func TestRiverHereCoversElec2(t *testing.T) {
	var here riverHere
	if err := json.Unmarshal(riverHereJSON, &here); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"logreg", "perceptron", "gnb", "hoeffding", "hat", "arf"} {
		if here.USPerSample[m] <= 0 {
			t.Errorf("%s: no time measured here", m)
		}
	}
	if here.Measured == "" || here.River == "" || here.Method == "" {
		t.Error("river_here.json does not say when, what and how it measured")
	}
}
