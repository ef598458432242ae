package controller

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/olops/olops/internal/runtime/docker"
)

func modelYAML(name, model, extra string) string {
	return "apiVersion: olops.dev/v1\nkind: Model\nmetadata:\n  name: " + name +
		"\nspec:\n  task: binary\n  target: y\n  pipeline:\n    model: " + model + "\n" + extra
}

func writeFile(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReadDir(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "b.yaml", modelYAML("beta", "logreg", "  policy:\n    onDrift: rollback\n"))
	writeFile(t, dir, "a.yml", modelYAML("alpha", "gnb", ""))
	writeFile(t, dir, "typo.yaml", modelYAML("gamma", "logregg", ""))
	writeFile(t, dir, "syntax.yaml", "apiVersion: olops.dev/v1\nkind: [Model\n")
	writeFile(t, dir, "dup.yaml", modelYAML("alpha", "pa", ""))
	writeFile(t, dir, "policy.yaml", modelYAML("delta", "logreg", "  policy:\n    onDrift: panic\n"))
	writeFile(t, dir, "README.md", "not a config")
	writeFile(t, dir, ".hidden.yaml", "garbage: [")
	if err := os.Mkdir(filepath.Join(dir, "sub.yaml"), 0o755); err != nil {
		t.Fatal(err)
	}

	desired, invalid, err := ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(desired) != 2 || desired[0].Name != "alpha" || desired[1].Name != "beta" {
		t.Fatalf("desired = %+v, want alpha (a.yml) and beta", desired)
	}
	if desired[0].File != filepath.Join(dir, "a.yml") {
		t.Errorf("alpha comes from %s, want a.yml (the first file in name order)", desired[0].File)
	}
	if desired[0].Policy != "alert" || desired[1].Policy != "rollback" {
		t.Errorf("policies = %q, %q; want alert (the default) and rollback", desired[0].Policy, desired[1].Policy)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "b.yaml"))
	if desired[1].Hash != docker.Hash(b) {
		t.Errorf("hash %s is not the config-hash label of the file's bytes (%s)", desired[1].Hash, docker.Hash(b))
	}

	got := map[string]Invalid{}
	for _, in := range invalid {
		got[filepath.Base(in.File)] = in
	}
	if len(invalid) != 4 {
		t.Fatalf("invalid = %+v, want dup, policy, syntax and typo", invalid)
	}
	checks := []struct{ file, name, contains string }{
		{"typo.yaml", "gamma", "typo.yaml:9: spec.pipeline.model"},
		{"syntax.yaml", "", "syntax.yaml:"},
		{"dup.yaml", "alpha", "already defined in " + filepath.Join(dir, "a.yml")},
		{"policy.yaml", "delta", "spec.policy.onDrift: unknown policy \"panic\""},
	}
	for _, c := range checks {
		in, ok := got[c.file]
		if !ok {
			t.Errorf("%s is not reported invalid", c.file)
			continue
		}
		if in.Name != c.name {
			t.Errorf("%s: model %q, want %q", c.file, in.Name, c.name)
		}
		if !strings.Contains(in.Error, c.contains) {
			t.Errorf("%s: error %q does not contain %q", c.file, in.Error, c.contains)
		}
	}
}

func TestReadDirMissing(t *testing.T) {
	_, _, err := ReadDir(filepath.Join(t.TempDir(), "nope"))
	if err == nil || !strings.Contains(err.Error(), "--dir") {
		t.Fatalf("err = %v, want one that says to point --dir at a folder", err)
	}
}

func TestReadDirRuntimeName(t *testing.T) {
	dir := t.TempDir()
	// 55 characters: a valid config name (63) but too long for containers.
	long := "m" + strings.Repeat("x", 54)
	writeFile(t, dir, "long.yaml", modelYAML(long, "logreg", ""))
	desired, invalid, err := ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(desired) != 0 || len(invalid) != 1 || invalid[0].Name != long || !strings.Contains(invalid[0].Error, "metadata.name") {
		t.Fatalf("desired %+v invalid %+v: want the long name refused", desired, invalid)
	}
}
