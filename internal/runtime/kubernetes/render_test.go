package kubernetes

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestMergeKeepsDefaultsUnderOverrides(t *testing.T) {
	base := map[string]any{"image": map[string]any{"repository": "olops", "tag": "latest"}, "replicas": 1}
	got := Merge(base, map[string]any{"image": map[string]any{"tag": "v2"}, "replicas": 3})
	img := got["image"].(map[string]any)
	if img["repository"] != "olops" || img["tag"] != "v2" || got["replicas"] != 3 {
		t.Fatalf("Merge = %v", got)
	}
	if base["image"].(map[string]any)["tag"] != "latest" {
		t.Fatalf("Merge changed its input: %v", base)
	}
}

func chartFS(tmpl string) fstest.MapFS {
	return fstest.MapFS{
		"Chart.yaml":          {Data: []byte("name: c\nversion: 1.0.0\n")},
		"values.yaml":         {Data: []byte("a: 1\n")},
		"templates/_h.tpl":    {Data: []byte(`{{- define "x" -}}k: {{ .Values.a }}{{- end -}}`)},
		"templates/main.yaml": {Data: []byte(tmpl)},
	}
}

func TestRenderHelmFunctions(t *testing.T) {
	c, err := Load(chartFS("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name | trunc 3 | quote }}\n  labels:\n    {{- include \"x\" . | nindent 4 }}\ndata:\n  s: {{ \"x\" | b64enc }}\n  d: {{ default \"def\" .Values.missing }}\n  chart: {{ .Chart.Name }}-{{ .Chart.Version }}\n"))
	if err != nil {
		t.Fatal(err)
	}
	ms, _, err := c.Render(Release{Name: "abcdef"}, map[string]any{"a": 2})
	if err != nil {
		t.Fatal(err)
	}
	want := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \"abc\"\n  labels:\n    k: 2\ndata:\n  s: eA==\n  d: def\n  chart: c-1.0.0\n"
	if len(ms) != 1 || ms[0].Body != want {
		t.Fatalf("rendered:\n%s\nwant:\n%s", ms[0].Body, want)
	}
}

func TestRenderRefusesInvalidYAML(t *testing.T) {
	c, err := Load(chartFS("kind: [unclosed\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Render(Release{Name: "r"}, nil); err == nil || !strings.Contains(err.Error(), "main.yaml") {
		t.Fatalf("invalid YAML rendered: %v", err)
	}
	c, _ = Load(chartFS("foo: bar\n"))
	if _, _, err := c.Render(Release{Name: "r"}, nil); err == nil || !strings.Contains(err.Error(), "no kind") {
		t.Fatalf("a manifest without kind rendered: %v", err)
	}
}
