// Package kubernetes renders olops's Helm chart without helm: the chart's
// templates use only a small set of helm's functions, implemented here
// with helm's meaning, so `olops deploy --target kubernetes --render`
// prints the same manifests `helm template` would.
package kubernetes

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"go.yaml.in/yaml/v3"
)

// Release names the installation, as helm's .Release does.
type Release struct {
	Name      string
	Namespace string
}

// Manifest is one rendered template.
type Manifest struct {
	Source string // templates/statefulset.yaml
	Body   string // one or more YAML documents
}

// Chart is a loaded chart: its metadata, default values and templates.
type Chart struct {
	Meta      map[string]any
	Values    map[string]any
	templates map[string]string // name -> text, in the chart's templates/
}

// Load reads a chart (Chart.yaml, values.yaml, templates/) from fsys.
func Load(fsys fs.FS) (*Chart, error) {
	c := &Chart{templates: map[string]string{}}
	for name, dst := range map[string]*map[string]any{"Chart.yaml": &c.Meta, "values.yaml": &c.Values} {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("chart: %w", err)
		}
		if err := yaml.Unmarshal(b, dst); err != nil {
			return nil, fmt.Errorf("chart %s: %w", name, err)
		}
	}
	entries, err := fs.ReadDir(fsys, "templates")
	if err != nil {
		return nil, fmt.Errorf("chart: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := fs.ReadFile(fsys, path.Join("templates", e.Name()))
		if err != nil {
			return nil, err
		}
		c.templates[path.Join("templates", e.Name())] = string(b)
	}
	return c, nil
}

// Merge deep-merges override into base (maps merge, anything else
// replaces), as helm merges -f and --set values into the defaults.
func Merge(base, override map[string]any) map[string]any {
	out := make(map[string]any, len(base))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range override {
		if om, ok := v.(map[string]any); ok {
			if bm, ok := out[k].(map[string]any); ok {
				out[k] = Merge(bm, om)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// Render executes the chart's templates with values merged over its
// defaults. Files starting with '_' only define templates; NOTES.txt is
// returned apart. Every manifest is checked to be YAML with a kind.
func (c *Chart) Render(rel Release, values map[string]any) ([]Manifest, string, error) {
	if rel.Namespace == "" {
		rel.Namespace = "default"
	}
	data := map[string]any{
		"Values":  Merge(c.Values, values),
		"Release": map[string]any{"Name": rel.Name, "Namespace": rel.Namespace, "Service": "Helm", "IsInstall": true, "IsUpgrade": false},
		"Chart":   chartMeta(c.Meta),
	}
	root := template.New("chart").Option("missingkey=zero")
	root.Funcs(funcs(root))
	names := make([]string, 0, len(c.templates))
	for name := range c.templates {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, err := root.New(name).Parse(c.templates[name]); err != nil {
			return nil, "", fmt.Errorf("chart %s: %w", name, err)
		}
	}
	var out []Manifest
	var notes string
	for _, name := range names {
		base := path.Base(name)
		if strings.HasPrefix(base, "_") {
			continue
		}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, name, data); err != nil {
			return nil, "", fmt.Errorf("rendering %s: %w", name, cleanErr(err))
		}
		if base == "NOTES.txt" {
			notes = buf.String()
			continue
		}
		body := strings.TrimSpace(buf.String())
		if isEmpty(body) {
			continue
		}
		if err := checkYAML(name, body); err != nil {
			return nil, "", err
		}
		out = append(out, Manifest{Source: name, Body: body + "\n"})
	}
	return out, notes, nil
}

// Join writes manifests as one stream, each under a "# Source:" comment
// like helm template.
func Join(chartName string, ms []Manifest) string {
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&b, "---\n# Source: %s/%s\n%s", chartName, m.Source, m.Body)
	}
	return b.String()
}

// Documents splits a manifest stream into decoded YAML documents (empty
// ones dropped).
func Documents(stream string) ([]map[string]any, error) {
	dec := yaml.NewDecoder(strings.NewReader(stream))
	var docs []map[string]any
	for {
		var d map[string]any
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		if d != nil {
			docs = append(docs, d)
		}
	}
}

func checkYAML(name, body string) error {
	docs, err := Documents(body)
	if err != nil {
		return fmt.Errorf("rendering %s: not valid YAML: %w", name, err)
	}
	for i, d := range docs {
		if d["kind"] == nil || d["apiVersion"] == nil {
			return fmt.Errorf("rendering %s: document %d has no kind or apiVersion", name, i+1)
		}
	}
	return nil
}

func isEmpty(body string) bool {
	for _, line := range strings.Split(body, "\n") {
		l := strings.TrimSpace(line)
		if l != "" && l != "---" && !strings.HasPrefix(l, "#") {
			return false
		}
	}
	return true
}

func chartMeta(m map[string]any) map[string]any {
	// helm exposes Chart.yaml fields capitalised: .Chart.Name, .Chart.Version.
	out := map[string]any{}
	for k, v := range m {
		out[strings.ToUpper(k[:1])+k[1:]] = v
	}
	return out
}

func cleanErr(err error) error {
	var e template.ExecError
	if errors.As(err, &e) && e.Err != nil {
		return fmt.Errorf("%s: %w", e.Name, e.Err)
	}
	return err
}

// funcs are the helm template functions the chart uses.
func funcs(root *template.Template) template.FuncMap {
	return template.FuncMap{
		"include": func(name string, data any) (string, error) {
			var buf bytes.Buffer
			err := root.ExecuteTemplate(&buf, name, data)
			return buf.String(), err
		},
		"required": func(msg string, v any) (any, error) {
			if v == nil || v == "" {
				return nil, errors.New(msg)
			}
			return v, nil
		},
		"default": func(def any, v ...any) any {
			if len(v) == 0 || empty(v[0]) {
				return def
			}
			return v[0]
		},
		"toYaml": func(v any) string {
			var buf bytes.Buffer
			enc := yaml.NewEncoder(&buf)
			enc.SetIndent(2)
			if err := enc.Encode(v); err != nil {
				return ""
			}
			enc.Close()
			return strings.TrimSuffix(buf.String(), "\n")
		},
		"indent": func(n int, s string) string {
			pad := strings.Repeat(" ", n)
			return pad + strings.ReplaceAll(s, "\n", "\n"+pad)
		},
		"nindent": func(n int, s string) string {
			pad := strings.Repeat(" ", n)
			return "\n" + pad + strings.ReplaceAll(s, "\n", "\n"+pad)
		},
		"quote": func(v ...any) string {
			parts := make([]string, 0, len(v))
			for _, x := range v {
				if x != nil {
					parts = append(parts, strconv.Quote(toString(x)))
				}
			}
			return strings.Join(parts, " ")
		},
		"b64enc":    func(s any) string { return base64.StdEncoding.EncodeToString([]byte(toString(s))) },
		"sha256sum": func(s any) string { h := sha256.Sum256([]byte(toString(s))); return hex.EncodeToString(h[:]) },
		"trunc": func(n int, s string) string {
			if n >= 0 && len(s) > n {
				return s[:n]
			}
			return s
		},
		"trimSuffix": func(suffix, s string) string { return strings.TrimSuffix(s, suffix) },
	}
}

func empty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case bool:
		return !x
	case int:
		return x == 0
	case float64:
		return x == 0
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}

func toString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return string(x)
	}
	return fmt.Sprint(v)
}
