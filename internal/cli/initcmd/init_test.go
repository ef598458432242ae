package initcmd

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/olops/olops/internal/cli/clitest"
	"github.com/olops/olops/internal/cli/cmdutil"
	"github.com/olops/olops/internal/config"
	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/templates"
	"go.yaml.in/yaml/v3"
)

func run(t *testing.T, tty bool, stdin string, args ...string) clitest.Result {
	t.Helper()
	f, out, errOut := clitest.Factory(clitest.Env(t), stdin)
	return clitest.RunWith(context.Background(), f, out, errOut, newCmd(f, func() bool { return tty }), args...)
}

func TestScaffoldWithFlagsIsValid(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "churn")
	r := run(t, false, "", "churn", "--dir", dir, "--task", "binary", "--target", "churned", "--model", "hoeffding", "--positive", "yes")
	if r.Code != 0 {
		t.Fatalf("exit %d: %v\n%s", r.Code, r.Error, r.Err)
	}
	for _, p := range []string{"olops.yaml", ".github/workflows/olops.yml", ".dockerignore", "helm/values.yaml"} {
		if !strings.Contains(r.Out, filepath.Join(dir, p)) {
			t.Errorf("output does not list %s:\n%s", p, r.Out)
		}
	}
	c, err := config.Load(filepath.Join(dir, "olops.yaml"))
	if err != nil {
		t.Fatalf("generated olops.yaml does not validate: %v", err)
	}
	if c.Metadata.Name != "churn" || c.Spec.Task != learn.Binary || c.Spec.Target != "churned" || c.Spec.Pipeline.Model != "hoeffding" || c.Spec.Positive != "yes" {
		t.Fatalf("config = %+v", c)
	}
	wf, _ := os.ReadFile(filepath.Join(dir, ".github/workflows/olops.yml"))
	for _, want := range []string{"olops validate olops.yaml", "olops eval", "--fail-under accuracy=0.8", "--target churned"} {
		if !strings.Contains(string(wf), want) {
			t.Errorf("workflow lacks %q", want)
		}
	}
	var wfDoc map[string]any
	if err := yaml.Unmarshal(wf, &wfDoc); err != nil || wfDoc["jobs"] == nil {
		t.Errorf("workflow is not YAML with jobs: %v", err)
	}
	vb, _ := os.ReadFile(filepath.Join(dir, "helm/values.yaml"))
	var vals struct {
		Image map[string]any `yaml:"image"`
		Model struct {
			Name   string `yaml:"name"`
			Config string `yaml:"config"`
		} `yaml:"model"`
	}
	if err := yaml.Unmarshal(vb, &vals); err != nil {
		t.Fatal(err)
	}
	if vals.Model.Name != "churn" || vals.Image["repository"] != "olops" {
		t.Fatalf("values = %+v", vals)
	}
	// Every key of the chart's defaults is there: the file is the chart's
	// values with the model filled in.
	chart, err := fs.ReadFile(templates.FS, chartValues)
	if err != nil {
		t.Fatal(err)
	}
	var defaults, written map[string]any
	yaml.Unmarshal(chart, &defaults)
	yaml.Unmarshal(vb, &written)
	for k := range defaults {
		if _, ok := written[k]; !ok {
			t.Errorf("helm/values.yaml lacks the chart's %q", k)
		}
	}
	if _, err := config.Parse([]byte(vals.Model.Config), "values:model.config"); err != nil {
		t.Fatalf("the config in the Helm values does not validate: %v", err)
	}
}

func TestEveryFieldIsCommented(t *testing.T) {
	files, err := Render(Options{Name: "m"})
	if err != nil {
		t.Fatal(err)
	}
	y := string(files[0].Data)
	// Every field of the config type, at any depth, appears (set or
	// commented out) in the scaffold: read from the type, so a field
	// added to internal/config fails here until the template has it.
	for _, field := range yamlFields(reflect.TypeOf(config.Config{})) {
		if !strings.Contains(y, field+":") {
			t.Errorf("olops.yaml lacks %s", field)
		}
	}
	comments := strings.Count(y, "\n#") + strings.Count(y, "  #")
	if comments < 30 {
		t.Errorf("only %d comment lines", comments)
	}
}

func TestDefaultsWithoutTTYNeverPrompt(t *testing.T) {
	dir := t.TempDir()
	r := run(t, false, "multiclass\n", "--dir", dir)
	if r.Code != 0 {
		t.Fatalf("exit %d: %v", r.Code, r.Error)
	}
	if strings.Contains(r.Err, "[") {
		t.Errorf("prompted without a terminal: %q", r.Err)
	}
	if !strings.Contains(r.Err, `(binary logreg, target "y")`) || !strings.Contains(r.Err, "--target y\n") {
		t.Errorf("the summary does not name the defaults it used: %q", r.Err)
	}
	c, err := config.Load(filepath.Join(dir, "olops.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Spec.Pipeline.Model != "logreg" || c.Spec.Task != learn.Binary || c.Spec.Target != "y" || c.Metadata.Name != sanitize(filepath.Base(dir)) {
		t.Fatalf("defaults: %+v", c.Spec)
	}
}

func TestPromptsOnTTY(t *testing.T) {
	dir := t.TempDir()
	// model: an invalid answer, then gnb; task: multiclass; target: label.
	r := run(t, true, "nosuch\ngnb\nmulticlass\nlabel\n", "iris", "--dir", dir)
	if r.Code != 0 {
		t.Fatalf("exit %d: %v\n%s", r.Code, r.Error, r.Err)
	}
	if !strings.Contains(r.Err, `"nosuch" is not one of`) {
		t.Errorf("no complaint about the bad answer: %q", r.Err)
	}
	c, err := config.Load(filepath.Join(dir, "olops.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Spec.Pipeline.Model != "gnb" || c.Spec.Task != learn.Multiclass || c.Spec.Target != "label" || c.Metadata.Name != "iris" {
		t.Fatalf("answers not used: %+v", c.Spec)
	}
	if m := strings.Join(c.Spec.Metrics, ","); m != "accuracy,macro_f1,logloss" {
		t.Errorf("multiclass metrics = %s", m)
	}
}

func TestFlagsSkipPrompts(t *testing.T) {
	dir := t.TempDir()
	r := run(t, true, "", "--dir", dir, "--model", "linreg", "--task", "regression", "--target", "price")
	if r.Code != 0 || strings.Contains(r.Err, "]: ") {
		t.Fatalf("exit %d: %v; stderr %q", r.Code, r.Error, r.Err)
	}
	c, err := config.Load(filepath.Join(dir, "olops.yaml"))
	if err != nil || c.Spec.Task != learn.Regression {
		t.Fatalf("%v %+v", err, c)
	}
	wf, _ := os.ReadFile(filepath.Join(dir, ".github/workflows/olops.yml"))
	if !strings.Contains(string(wf), "--fail-under r2=0.5") {
		t.Errorf("regression gate missing:\n%s", wf)
	}
}

func TestRefusesToOverwrite(t *testing.T) {
	dir := t.TempDir()
	if r := run(t, false, "", "--dir", dir); r.Code != 0 {
		t.Fatal(r.Error)
	}
	os.WriteFile(filepath.Join(dir, "olops.yaml"), []byte("mine\n"), 0o644)
	os.Remove(filepath.Join(dir, ".dockerignore"))
	r := run(t, false, "", "--dir", dir, "--model", "gnb")
	if r.Code != 1 || !strings.Contains(r.Error.Error(), "--force") {
		t.Fatalf("exit %d: %v", r.Code, r.Error)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "olops.yaml")); string(b) != "mine\n" {
		t.Fatal("olops.yaml was overwritten")
	}
	if _, err := os.Stat(filepath.Join(dir, ".dockerignore")); err == nil {
		t.Fatal("wrote some files after refusing")
	}
	if r := run(t, false, "", "--dir", dir, "--model", "gnb", "--force"); r.Code != 0 {
		t.Fatal(r.Error)
	}
	if c, err := config.Load(filepath.Join(dir, "olops.yaml")); err != nil || c.Spec.Pipeline.Model != "gnb" {
		t.Fatalf("--force did not overwrite: %v", err)
	}
}

func TestInvalidFlagsWriteNothing(t *testing.T) {
	dir := t.TempDir()
	r := run(t, false, "", "--dir", dir, "--model", "linreg", "--task", "binary")
	if r.Code == 0 || !strings.Contains(r.Error.Error(), "spec.task") {
		t.Fatalf("exit %d: %v", r.Code, r.Error)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("wrote %v", entries)
	}
	r = run(t, false, "", "--dir", dir, "--task", "ranking")
	if r.Code != cmdutil.ExitUsage {
		t.Fatalf("unknown task: exit %d: %v", r.Code, r.Error)
	}
}

func TestYAMLScalar(t *testing.T) {
	for in, want := range map[string]string{"churned": "churned", "y": `"y"`, "yes": `"yes"`, "1": `"1"`, "a: b": `'a: b'`, "true": `"true"`} {
		if got := yamlScalar(in); got != want {
			t.Errorf("yamlScalar(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestDefaultScaffoldGolden(t *testing.T) {
	files, err := Render(Options{Name: "churn", Target: "churned"})
	if err != nil {
		t.Fatal(err)
	}
	// The lists of models and detectors belong to the engine: keep them
	// out of the golden files.
	known := regexp.MustCompile(`\(known: [^)]*\)`)
	for _, f := range files {
		if strings.HasPrefix(f.Path, "helm") {
			continue // the chart's values belong to the chart (checked above)
		}
		got := known.ReplaceAllString(string(f.Data), "(known: …)")
		clitest.Golden(t, strings.NewReplacer("/", "_", ".", "_").Replace(f.Path)+".golden", got)
	}
}

// yamlFields lists the yaml names of t's fields and of its nested structs'.
func yamlFields(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if !sf.IsExported() || name == "" || name == "-" {
			continue
		}
		out = append(out, name)
		ft := sf.Type
		for ft.Kind() == reflect.Slice || ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct {
			out = append(out, yamlFields(ft)...)
		}
	}
	return out
}
