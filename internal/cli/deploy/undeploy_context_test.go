package deploy

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/olops/olops/internal/client"
	"github.com/olops/olops/internal/runtime/docker"
	"github.com/olops/olops/internal/runtime/kubernetes"
)

// After 'olops undeploy' the context that pointed at the removed
// containers must go (its tokens died with the volume); others stay.
func TestUndeployForgetsItsContext(t *testing.T) {
	f, _, errOut := newTestFactory(t)
	path, err := client.ContextPath(f.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []client.Context{
		{Name: "other", ManagementURL: "http://127.0.0.1:9091"},
		{Name: "phishing", ManagementURL: "http://127.0.0.1:9090", ManagementToken: "olm_x"},
	} {
		if err := client.SaveContext(path, c); err != nil {
			t.Fatal(err)
		}
	}
	insts := []docker.Instance{
		{Model: "phishing", Replica: 0}, // stopped: no URL
		{Model: "phishing", Replica: 1, ManagementURL: "http://127.0.0.1:9090"},
	}
	forgetContext(f, "phishing", insts)
	cs, err := client.LoadContexts(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cs.Contexts["phishing"]; ok {
		t.Errorf("the undeployed model's context is still there: %+v", cs.Contexts)
	}
	if _, ok := cs.Contexts["other"]; !ok {
		t.Errorf("another model's context was removed: %+v", cs.Contexts)
	}
	if cs.Current != "" {
		t.Errorf("current context is %q, want none", cs.Current)
	}
	if !strings.Contains(errOut.String(), `removed context "phishing"`) {
		t.Errorf("undeploy did not say it removed the context: %q", errOut.String())
	}

	// A context re-pointed at another server is kept.
	if err := client.SaveContext(path, client.Context{Name: "phishing", ManagementURL: "http://10.0.0.1:9090"}); err != nil {
		t.Fatal(err)
	}
	forgetContext(f, "phishing", insts)
	if cs, _ = client.LoadContexts(path); cs.Contexts["phishing"].ManagementURL != "http://10.0.0.1:9090" {
		t.Errorf("a context pointing elsewhere was removed: %+v", cs.Contexts)
	}
}

// --out says how many objects it wrote (services.yaml alone holds three).
func TestRenderOutCountsObjects(t *testing.T) {
	dir := t.TempDir()
	cfg, out := filepath.Join(dir, "olops.yaml"), filepath.Join(dir, "k8s.yaml")
	writeFile(t, cfg, testConfig)
	f, _, errOut := newTestFactory(t)
	cmd := NewCmdDeploy(f)
	cmd.SetArgs([]string{"--target", "kubernetes", "--render", "-f", cfg, "--out", out})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	docs, err := kubernetes.Documents(string(b))
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("wrote %d manifests to %s", len(docs), out); !strings.Contains(errOut.String(), want) {
		t.Errorf("message %q, want it to say %q", errOut.String(), want)
	}
}
