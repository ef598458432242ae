// Package initcmd is `olops init`: scaffold a model repository from the
// embedded templates.
package initcmd

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"text/template"

	"github.com/mattn/go-isatty"
	"github.com/olops/olops/internal/cli/cmdutil"
	"github.com/olops/olops/internal/config"
	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/drift"
	"github.com/olops/olops/internal/learn/metrics"
	"github.com/olops/olops/internal/learn/models"
	"github.com/olops/olops/templates"
	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"
)

// Options are what `olops init` scaffolds.
type Options struct {
	Name     string
	Dir      string
	Task     string
	Target   string
	Model    string
	Positive string
	Data     string // the CI quality gate's data file
	Force    bool
}

// Defaults used when a flag is missing and there is no terminal to ask.
const (
	defaultModel  = "logreg"
	defaultTarget = "y"
)

// NewCmd returns `olops init`.
func NewCmd(f *cmdutil.Factory) *cobra.Command {
	return newCmd(f, func() bool { return interactive(f) })
}

// interactive is true when both stdin and stdout are terminals.
func interactive(f *cmdutil.Factory) bool {
	in, ok := f.IO.In.(*os.File)
	return ok && f.IO.TTY && isatty.IsTerminal(in.Fd())
}

func newCmd(f *cmdutil.Factory, tty func() bool) *cobra.Command {
	var o Options
	cmd := &cobra.Command{
		Use:   "init [NAME]",
		Short: "Scaffold a model: olops.yaml, a CI workflow with a quality gate, .dockerignore, Helm values",
		Long: `Scaffold a model repository. With NAME the files go into a new directory
NAME (or --dir); without, into the current directory, named after it.

Writes olops.yaml (every field commented), .github/workflows/olops.yml
(olops validate and an olops eval --fail-under quality gate), .dockerignore
and helm/values.yaml. On a terminal it asks for the task, target and model
that no flag gave; otherwise it never asks and uses logreg, target "y".
It refuses to overwrite existing files without --force.`,
		Example: `  olops init churn --task binary --target churned --model hoeffding
  olops init --force`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.Name = args[0]
				if o.Dir == "" {
					o.Dir = args[0]
				}
			}
			if o.Dir == "" {
				o.Dir = "."
			}
			if o.Name == "" {
				abs, err := filepath.Abs(o.Dir)
				if err != nil {
					return err
				}
				o.Name = sanitize(filepath.Base(abs))
			}
			if tty() {
				if err := ask(f, &o, cmd.Flags().Changed); err != nil {
					return err
				}
			}
			// Fill the defaults here too, not only inside Render: the
			// summary below names them.
			o.fill()
			files, err := Render(o)
			if err != nil {
				return err
			}
			written, err := Write(o.Dir, files, o.Force)
			if err != nil {
				return err
			}
			for _, p := range written {
				fmt.Fprintln(f.IO.Out, p)
			}
			f.IO.Printf("\nscaffolded model %q (%s %s, target %q). Next:\n", o.Name, o.Task, o.Model, o.Target)
			f.IO.Printf("  olops validate %s\n", filepath.Join(o.Dir, "olops.yaml"))
			f.IO.Printf("  olops serve --config %s\n", filepath.Join(o.Dir, "olops.yaml"))
			f.IO.Printf("  olops replay DATA.csv --target %s\n", o.Target)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Task, "task", "", "binary, multiclass or regression (default: from the model)")
	fl.StringVar(&o.Target, "target", "", `the label's column (default "y")`)
	fl.StringVar(&o.Model, "model", "", "the model: "+strings.Join(models.Names(), ", ")+` (default "logreg")`)
	fl.StringVar(&o.Positive, "positive", "", "binary: the positive class's label")
	fl.StringVar(&o.Data, "data", "data/sample.csv", "the labelled data the CI quality gate replays")
	fl.StringVar(&o.Dir, "dir", "", "where to write (default NAME, or the current directory)")
	fl.BoolVar(&o.Force, "force", false, "overwrite existing files")
	return cmd
}

var nonName = regexp.MustCompile(`[^a-z0-9-]+`)

// sanitize makes a model name of a directory name.
func sanitize(s string) string {
	s = strings.Trim(nonName.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if len(s) > 63 {
		s = strings.Trim(s[:63], "-")
	}
	if s == "" {
		return "model"
	}
	return s
}

// ask prompts for what no flag set.
func ask(f *cmdutil.Factory, o *Options, changed func(string) bool) error {
	in := bufio.NewReader(f.IO.In)
	prompt := func(q, def string, valid []string) (string, error) {
		for range 5 {
			fmt.Fprintf(f.IO.ErrOut, "%s [%s]: ", q, def)
			line, err := in.ReadString('\n')
			line = strings.TrimSpace(line)
			if err != nil && !errors.Is(err, io.EOF) {
				return "", err
			}
			if line == "" {
				line = def
			}
			if valid == nil || slices.Contains(valid, line) {
				return line, nil
			}
			fmt.Fprintf(f.IO.ErrOut, "  %q is not one of: %s\n", line, strings.Join(valid, ", "))
			if errors.Is(err, io.EOF) {
				break
			}
		}
		return "", cmdutil.Usage("no valid answer: pass the value as a flag instead")
	}
	var err error
	if !changed("model") {
		if o.Model, err = prompt("model ("+strings.Join(models.Names(), ", ")+")", defaultModel, models.Names()); err != nil {
			return err
		}
	}
	if !changed("task") {
		def := string(learn.Binary)
		if t, ok := models.TaskOf(o.Model); ok && t == learn.Regression {
			def = string(learn.Regression)
		}
		if o.Task, err = prompt("task (binary, multiclass, regression)", def, []string{"binary", "multiclass", "regression"}); err != nil {
			return err
		}
	}
	if !changed("target") {
		if o.Target, err = prompt("target column", defaultTarget, nil); err != nil {
			return err
		}
	}
	return nil
}

// fill sets what is still empty to its default.
func (o *Options) fill() {
	if o.Model == "" {
		o.Model = defaultModel
	}
	if o.Target == "" {
		o.Target = defaultTarget
	}
	if o.Task == "" {
		o.Task = string(learn.Binary)
		if t, ok := models.TaskOf(o.Model); ok && t == learn.Regression {
			o.Task = string(learn.Regression)
		}
	}
	if o.Data == "" {
		o.Data = "data/sample.csv"
	}
}

// File is one scaffolded file.
type File struct {
	Path string
	Data []byte
}

// Render builds the scaffold's files; the olops.yaml is checked with the
// server's own validation, so init never writes a config serve refuses.
func Render(o Options) ([]File, error) {
	o.fill()
	task := learn.Task(o.Task)
	names := metrics.Defaults(task)
	if names == nil {
		return nil, cmdutil.Usage("unknown task %q: use binary, multiclass or regression", o.Task)
	}
	data := map[string]any{
		"Name": o.Name, "Task": o.Task, "Target": yamlScalar(o.Target), "Model": o.Model,
		"Positive": o.Positive, "Metrics": strings.Join(names, ", "),
		"Models": strings.Join(models.Names(), ", "), "Detectors": strings.Join(drift.Names(), ", "),
		"Data": shellQuote(o.Data), "Gate": gate(task), "TargetArg": shellQuote(o.Target),
	}
	yml, err := execute("olops.yaml.tmpl", data)
	if err != nil {
		return nil, err
	}
	if _, err := config.Parse(yml, "olops.yaml"); err != nil {
		return nil, fmt.Errorf("the flags make an invalid config: %w", err)
	}
	wf, err := execute("workflow.yml.tmpl", data)
	if err != nil {
		return nil, err
	}
	di, err := execute("dockerignore.tmpl", data)
	if err != nil {
		return nil, err
	}
	vals, err := helmValues(o.Name, yml)
	if err != nil {
		return nil, err
	}
	return []File{
		{"olops.yaml", yml},
		{filepath.Join(".github", "workflows", "olops.yml"), wf},
		{".dockerignore", di},
		{filepath.Join("helm", "values.yaml"), vals},
	}, nil
}

// gate is the scaffolded CI gate: a floor on accuracy, or on R² for
// regression (MAE and RMSE depend on the target's scale).
func gate(t learn.Task) string {
	if t == learn.Regression {
		return "r2=0.5"
	}
	return "accuracy=0.8"
}

// yamlScalar quotes a value when YAML would read it as something other
// than a string (y, no, 1, …).
func yamlScalar(s string) string {
	var v any
	if err := yaml.Unmarshal([]byte(s), &v); err == nil {
		if str, ok := v.(string); ok && str == s && !strings.ContainsAny(s, ":#{}[],&*!|>'\"%@`") {
			switch strings.ToLower(s) {
			case "y", "n", "yes", "no", "on", "off": // YAML 1.1 booleans some tools still read
			default:
				return s
			}
		}
	}
	b, _ := yaml.Marshal(s)
	return strings.TrimSpace(string(b))
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=,:", r))
	}) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func execute(name string, data any) ([]byte, error) {
	t, err := template.New(name).Option("missingkey=error").ParseFS(templates.FS, name)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// chartValues is the chart's default values, in templates.FS.
const chartValues = "helm/olops/values.yaml"

// helmValues is the chart's values.yaml with the model's name and config.
func helmValues(name string, cfg []byte) ([]byte, error) {
	b, err := fs.ReadFile(templates.FS, chartValues)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("templates/%s: %w", chartValues, err)
	}
	set := func(path []string, value string, style yaml.Style) {
		n := doc.Content[0]
		for _, k := range path {
			var next *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == k {
					next = n.Content[i+1]
				}
			}
			if next == nil {
				next = &yaml.Node{Kind: yaml.ScalarNode}
				if k != path[len(path)-1] {
					next.Kind, next.Tag = yaml.MappingNode, "!!map"
				}
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, next)
			}
			n = next
		}
		n.Kind, n.Tag, n.Value, n.Style = yaml.ScalarNode, "!!str", value, style
	}
	set([]string{"model", "name"}, name, 0)
	set([]string{"model", "config"}, string(cfg), yaml.LiteralStyle)
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// Write writes files under dir. Unless force, it writes nothing when one
// of them exists, and says which.
func Write(dir string, files []File, force bool) ([]string, error) {
	if !force {
		var exist []string
		for _, f := range files {
			p := filepath.Join(dir, f.Path)
			if _, err := os.Stat(p); err == nil {
				exist = append(exist, p)
			}
		}
		if len(exist) > 0 {
			what := exist[0] + " already exists"
			if len(exist) > 1 {
				what = strings.Join(exist, ", ") + " already exist"
			}
			return nil, fmt.Errorf("%s: nothing was written; pass --force to overwrite", what)
		}
	}
	var written []string
	for _, f := range files {
		p := filepath.Join(dir, f.Path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return written, err
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return written, err
		}
		written = append(written, p)
	}
	return written, nil
}
