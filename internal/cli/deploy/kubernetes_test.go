package deploy

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/olops/olops/internal/cli/cmdutil"
	"github.com/olops/olops/internal/runtime/kubernetes"
	"go.yaml.in/yaml/v3"
)

const testConfig = `apiVersion: olops.dev/v1
kind: Model
metadata:
  name: fraud
spec:
  task: binary
  target: is_fraud
  pipeline:
    model: logreg
`

func renderChart(t *testing.T, values map[string]any) map[string][]map[string]any {
	t.Helper()
	cfs, err := ChartFS()
	if err != nil {
		t.Fatal(err)
	}
	chart, err := kubernetes.Load(cfs)
	if err != nil {
		t.Fatal(err)
	}
	ms, notes, err := chart.Render(kubernetes.Release{Name: "fraud", Namespace: "ml"}, values)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(notes, "svc/fraud-management") {
		t.Errorf("NOTES.txt does not tell how to reach the management API:\n%s", notes)
	}
	docs, err := kubernetes.Documents(kubernetes.Join("olops", ms))
	if err != nil {
		t.Fatalf("rendered manifests are not valid YAML: %v", err)
	}
	byKind := map[string][]map[string]any{}
	for _, d := range docs {
		k, _ := d["kind"].(string)
		byKind[k] = append(byKind[k], d)
	}
	return byKind
}

// dig walks maps and lists: dig(doc, "spec", "template", 0, ...).
func dig(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("at %v: not a map: %#v", p, v)
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				t.Fatalf("at %v: not a list of %d: %#v", p, k+1, v)
			}
			v = l[k]
		}
	}
	return v
}

func TestChartRendersEveryObjectWithTheValues(t *testing.T) {
	vals := ChartValues("fraud", []byte(testConfig), "registry.local:5000/olops:1.2.3", 3, 8081, 9091, "pub-tok", "mgmt-tok")
	byKind := renderChart(t, vals)
	for kind, n := range map[string]int{"ConfigMap": 1, "Secret": 1, "Service": 3, "StatefulSet": 1} {
		if len(byKind[kind]) != n {
			t.Errorf("%d %s, want %d", len(byKind[kind]), kind, n)
		}
	}
	if len(byKind["ServiceMonitor"]) != 0 {
		t.Errorf("a ServiceMonitor although metrics.serviceMonitor.enabled is false")
	}

	sts := byKind["StatefulSet"][0]
	if got := dig(t, sts, "spec", "replicas"); got != 3 {
		t.Errorf("replicas %v, want 3", got)
	}
	c := dig(t, sts, "spec", "template", "spec", "containers", 0)
	if got := dig(t, c, "image"); got != "registry.local:5000/olops:1.2.3" {
		t.Errorf("image %v", got)
	}
	if got := dig(t, c, "readinessProbe", "httpGet", "path"); got != "/readyz" {
		t.Errorf("readiness probe path %v", got)
	}
	if got := dig(t, c, "livenessProbe", "httpGet", "path"); got != "/healthz" {
		t.Errorf("liveness probe path %v", got)
	}
	if got := dig(t, c, "env", 0, "valueFrom", "secretKeyRef", "name"); got != "fraud-tokens" {
		t.Errorf("token env from secret %v", got)
	}
	if got := dig(t, sts, "spec", "volumeClaimTemplates", 0, "spec", "resources", "requests", "storage"); got != "1Gi" {
		t.Errorf("volume claim size %v", got)
	}
	if got := dig(t, sts, "spec", "template", "metadata", "annotations", "prometheus.io/port"); got != "9090" {
		t.Errorf("scrape annotation %v", got)
	}
	if got := dig(t, sts, "spec", "template", "spec", "securityContext", "runAsUser"); got != 65532 {
		t.Errorf("runAsUser %v", got)
	}

	cm := byKind["ConfigMap"][0]
	if got := dig(t, cm, "data", "olops.yaml"); got != testConfig {
		t.Errorf("ConfigMap olops.yaml:\n%v\nwant:\n%s", got, testConfig)
	}
	sec := byKind["Secret"][0]
	for key, want := range map[string]string{"public-token": "pub-tok", "management-token": "mgmt-tok"} {
		enc, _ := dig(t, sec, "data", key).(string)
		b, err := base64.StdEncoding.DecodeString(enc)
		if err != nil || string(b) != want {
			t.Errorf("secret %s = %q (%v), want %q", key, b, err, want)
		}
	}
	ports := map[string]any{}
	for _, s := range byKind["Service"] {
		name := dig(t, s, "metadata", "name").(string)
		ports[name] = dig(t, s, "spec", "ports", 0, "port")
	}
	if ports["fraud"] != 8081 || ports["fraud-management"] != 9091 {
		t.Errorf("service ports %v, want fraud:8081 fraud-management:9091", ports)
	}
}

func TestChartExistingSecretAndServiceMonitor(t *testing.T) {
	vals := ChartValues("fraud", []byte(testConfig), "olops", 1, 8080, 9090, "", "")
	vals["tokens"] = map[string]any{"existingSecret": "my-tokens"}
	vals["metrics"] = map[string]any{"serviceMonitor": map[string]any{"enabled": true}}
	byKind := renderChart(t, vals)
	if len(byKind["Secret"]) != 0 {
		t.Errorf("a Secret was rendered although tokens.existingSecret is set")
	}
	if len(byKind["ServiceMonitor"]) != 1 {
		t.Fatalf("%d ServiceMonitors, want 1", len(byKind["ServiceMonitor"]))
	}
	sm := byKind["ServiceMonitor"][0]
	if got := dig(t, sm, "spec", "endpoints", 0, "bearerTokenSecret", "name"); got != "my-tokens" {
		t.Errorf("ServiceMonitor token secret %v", got)
	}
	if got := dig(t, sm, "spec", "endpoints", 0, "interval"); got != "15s" {
		t.Errorf("ServiceMonitor interval %v (the default should survive the merge)", got)
	}
	c := dig(t, byKind["StatefulSet"][0], "spec", "template", "spec", "containers", 0)
	if got := dig(t, c, "image"); got != "olops:latest" {
		t.Errorf("image %v, want olops:latest", got)
	}
	if got := dig(t, c, "env", 1, "valueFrom", "secretKeyRef", "name"); got != "my-tokens" {
		t.Errorf("token env from %v, want my-tokens", got)
	}
}

func TestChartWithoutTokensHasNoEnv(t *testing.T) {
	byKind := renderChart(t, ChartValues("fraud", []byte(testConfig), "olops:1", 1, 8080, 9090, "", ""))
	c := dig(t, byKind["StatefulSet"][0], "spec", "template", "spec", "containers", 0).(map[string]any)
	if _, ok := c["env"]; ok || len(byKind["Secret"]) != 0 {
		t.Errorf("tokens rendered although none were given: env %v, %d secrets", c["env"], len(byKind["Secret"]))
	}
}

func TestChartNeedsTheConfig(t *testing.T) {
	cfs, _ := ChartFS()
	chart, err := kubernetes.Load(cfs)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = chart.Render(kubernetes.Release{Name: "x"}, nil)
	if err == nil || !strings.Contains(err.Error(), "model.config") {
		t.Fatalf("render without model.config: %v, want an error naming model.config", err)
	}
}

func TestSplitImage(t *testing.T) {
	for in, want := range map[string][2]string{
		"olops":                   {"olops", "latest"},
		"olops:1.0":               {"olops", "1.0"},
		"host:5000/olops":         {"host:5000/olops", "latest"},
		"host:5000/olops:v2":      {"host:5000/olops", "v2"},
		"ghcr.io/olops/olops:dev": {"ghcr.io/olops/olops", "dev"},
	} {
		r, tag := splitImage(in)
		if r != want[0] || tag != want[1] {
			t.Errorf("splitImage(%q) = %q, %q; want %q, %q", in, r, tag, want[0], want[1])
		}
	}
}

func TestReadEnvFile(t *testing.T) {
	p := t.TempDir() + "/env"
	writeFile(t, p, "# tokens\nA=1\n\nexport B=two=2\n")
	env, err := ReadEnvFile(p)
	if err != nil || strings.Join(env, ",") != "A=1,B=two=2" {
		t.Fatalf("ReadEnvFile = %v, %v", env, err)
	}
	writeFile(t, p, "A=1\nnot a pair\n")
	if _, err := ReadEnvFile(p); err == nil || !strings.Contains(err.Error(), ":2:") {
		t.Fatalf("bad line: %v, want an error naming line 2", err)
	}
}

func newTestFactory(t *testing.T) (*cmdutil.Factory, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctxFile := filepath.Join(t.TempDir(), "contexts.json")
	f := &cmdutil.Factory{
		IO:    &cmdutil.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut},
		Build: cmdutil.Build{Version: "1.2.3"},
		Getenv: func(k string) string {
			if k == "OLOPS_CONTEXT" {
				return ctxFile
			}
			return ""
		},
	}
	return f, &out, &errOut
}

func TestDeployKubernetesRenderAndApplyWithoutHelm(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "olops.yaml")
	writeFile(t, cfg, testConfig)
	f, out, _ := newTestFactory(t)
	cmd := NewCmdDeploy(f)
	cmd.SetArgs([]string{"--target", "kubernetes", "--render", "-f", cfg, "--replicas", "2"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	docs, err := kubernetes.Documents(out.String())
	if err != nil || len(docs) != 6 {
		t.Fatalf("render printed %d documents (%v), want 6", len(docs), err)
	}
	if !strings.Contains(out.String(), "image: \"ghcr.io/olops/olops:1.2.3\"") || !strings.Contains(out.String(), "replicas: 2") {
		t.Errorf("render did not apply the version's image or the replicas:\n%s", out)
	}
	// A second render keeps the tokens (they are in the context file).
	first := out.String()
	out.Reset()
	cmd = NewCmdDeploy(f)
	cmd.SetArgs([]string{"--target", "kubernetes", "-f", cfg, "--replicas", "2"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if out.String() != first {
		t.Errorf("rendering twice changed the manifests (the tokens should be reused)")
	}

	t.Setenv("PATH", t.TempDir())
	cmd = NewCmdDeploy(f)
	cmd.SetArgs([]string{"--target", "kubernetes", "--apply", "-f", cfg})
	err = cmd.Execute()
	if err == nil || !strings.Contains(err.Error(), "helm") || !strings.Contains(err.Error(), "install") {
		t.Fatalf("--apply without helm: %v, want an error that says to install helm", err)
	}
}

// The renderer must print what real helm prints: testdata/helm-template.yaml
// is `helm template` (v3.16.4) of the chart with testdata/helm-values.yaml.
// Regenerate it with helm when the chart changes.
func TestRenderMatchesHelmTemplate(t *testing.T) {
	vb, err := os.ReadFile("testdata/helm-values.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var vals map[string]any
	if err := yaml.Unmarshal(vb, &vals); err != nil {
		t.Fatal(err)
	}
	cfs, _ := ChartFS()
	chart, err := kubernetes.Load(cfs)
	if err != nil {
		t.Fatal(err)
	}
	ms, _, err := chart.Render(kubernetes.Release{Name: "fraud", Namespace: "default"}, vals)
	if err != nil {
		t.Fatal(err)
	}
	ours, err := kubernetes.Documents(kubernetes.Join("olops", ms))
	if err != nil {
		t.Fatal(err)
	}
	hb, err := os.ReadFile("testdata/helm-template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	helms, err := kubernetes.Documents(string(hb))
	if err != nil {
		t.Fatal(err)
	}
	key := func(d map[string]any) string {
		return fmt.Sprint(d["kind"], "/", d["metadata"].(map[string]any)["name"])
	}
	want := map[string]map[string]any{}
	for _, d := range helms {
		want[key(d)] = d
	}
	if len(ours) != len(want) {
		t.Errorf("%d objects rendered, helm renders %d", len(ours), len(want))
	}
	for _, d := range ours {
		h, ok := want[key(d)]
		if !ok {
			t.Errorf("%s rendered, helm does not render it", key(d))
			continue
		}
		if !reflect.DeepEqual(d, h) {
			a, _ := yaml.Marshal(d)
			b, _ := yaml.Marshal(h)
			t.Errorf("%s differs from helm's:\nours:\n%s\nhelm:\n%s", key(d), a, b)
		}
	}
}
