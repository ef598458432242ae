package docker

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// repoRoot is three levels up from this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repository root not found at %s: %v", root, err)
	}
	return root
}

// The image olops deploy builds must be the image make image and
// goreleaser build: the same Dockerfile and the same small files.
func TestBuildFilesMatchTheRepository(t *testing.T) {
	root := repoRoot(t)
	for path, want := range map[string]string{
		"Dockerfile":        Dockerfile,
		"build/passwd":      Passwd,
		"build/group":       Group,
		"build/data/README": DataReadme,
	} {
		b, err := os.ReadFile(filepath.Join(root, path))
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != want {
			t.Errorf("%s differs from the copy in internal/runtime/docker: change both", path)
		}
	}
}

func TestBuildContextHoldsTheBinaryAtTheRoot(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "fake")
	if err := os.WriteFile(bin, []byte("binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := BuildContext(&buf, bin); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	tr := tar.NewReader(&buf)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		files[h.Name] = string(b)
		if h.Name == "olops" && h.Mode&0o111 == 0 {
			t.Errorf("the binary is not executable in the context (mode %o)", h.Mode)
		}
	}
	if files["olops"] != "binary" || files["Dockerfile"] != Dockerfile || files["build/passwd"] != Passwd {
		t.Errorf("build context files: %v", keys(files))
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestConfigTarPlacesTheConfig(t *testing.T) {
	var buf bytes.Buffer
	if err := configTar(&buf, []byte("kind: Model\n")); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(&buf)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if h.Name == "etc/olops/olops.yaml" {
			b, _ := io.ReadAll(tr)
			if string(b) != "kind: Model\n" || h.Mode&0o004 == 0 {
				t.Errorf("config %q mode %o: want the bytes, readable by all", b, h.Mode)
			}
		}
	}
	if strings.Join(names, ",") != "etc/,etc/olops/,etc/olops/olops.yaml" {
		t.Errorf("tar entries %v", names)
	}
}

func TestNames(t *testing.T) {
	for _, ok := range []string{"fraud", "a", "churn-v2"} {
		if err := ValidName(ok); err != nil {
			t.Errorf("ValidName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "Fraud", "2fast", "a_b", "-a", "a-", "a.b", strings.Repeat("a", 51)} {
		if ValidName(bad) == nil {
			t.Errorf("ValidName(%q) accepted", bad)
		}
	}
	if ContainerName("a", 0) == ContainerName("a-1", 0) || ContainerName("a", 1) == ContainerName("a-1", 0) {
		t.Errorf("two models share a container name")
	}
	if VolumeName("fraud", 0) != "olops-fraud-data" || VolumeName("fraud", 2) != "olops-fraud_2-data" {
		t.Errorf("volume names %s %s", VolumeName("fraud", 0), VolumeName("fraud", 2))
	}
}

func TestInspectBinaryRefusesNonGo(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x")
	os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755)
	if bi := InspectBinary(p); bi.Static || bi.Why == "" {
		t.Errorf("a shell script passed as a static Go binary: %+v", bi)
	}
}

func TestTagSafe(t *testing.T) {
	for in, want := range map[string]string{"v1.2.3": "v1.2.3", "4c2b67b-dirty": "4c2b67b-dirty", "": "dev", "a/b+c": "a-b-c"} {
		if got := tagSafe(in); got != want {
			t.Errorf("tagSafe(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUnreachableEngineSaysWhatToDo(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(t.TempDir(), "no-docker.sock"))
	_, err := New(t.Context())
	if err == nil || !strings.Contains(err.Error(), "cannot reach the Docker Engine") || !strings.Contains(err.Error(), "DOCKER_HOST") {
		t.Fatalf("New with no Engine: %v", err)
	}
}
