package deploy

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/olops/olops/internal/cli/cmdutil"
	"github.com/olops/olops/internal/client"
	"github.com/olops/olops/internal/runtime/docker"
	"github.com/olops/olops/internal/runtime/kubernetes"
	"github.com/olops/olops/templates"
	"go.yaml.in/yaml/v3"
)

// ChartFS is the embedded Helm chart.
func ChartFS() (fs.FS, error) { return fs.Sub(templates.FS, "helm/olops") }

// ChartValues are the values `olops deploy --target kubernetes` sets.
func ChartValues(name string, config []byte, image string, replicas, publicPort, managementPort int, publicToken, managementToken string) map[string]any {
	repo, tag := splitImage(image)
	return map[string]any{
		"image":    map[string]any{"repository": repo, "tag": tag},
		"model":    map[string]any{"name": name, "config": string(config)},
		"replicas": replicas,
		"service":  map[string]any{"publicPort": publicPort, "managementPort": managementPort},
		"tokens":   map[string]any{"public": publicToken, "management": managementToken},
	}
}

// splitImage splits repo:tag (a registry's host:port stays in the repo).
func splitImage(ref string) (string, string) {
	i := strings.LastIndex(ref, ":")
	if i < 0 || strings.Contains(ref[i:], "/") {
		return ref, "latest"
	}
	return ref[:i], ref[i+1:]
}

func runKubernetes(ctx context.Context, f *cmdutil.Factory, o *deployOptions) error {
	if o.bake || o.envFile != "" {
		return cmdutil.Usage("--bake and --env-file are for --target docker")
	}
	raw, cfg, err := loadConfig(o.file)
	if err != nil {
		return err
	}
	name := o.name
	if name == "" {
		name = cfg.Metadata.Name
	}
	if err := docker.ValidName(name); err != nil {
		return cmdutil.Usage("%v", err)
	}
	if o.replicas < 1 {
		return cmdutil.Usage("--replicas must be at least 1")
	}
	image := o.image
	if image == "" {
		v := f.Build.Version
		if v == "" || v == "dev" {
			v = "latest"
		}
		image = docker.ReleasedImage + ":" + v
	}
	pub, mgmt := o.publicPort, o.managementPort
	if pub == 0 {
		pub = docker.PublicPort
	}
	if mgmt == 0 {
		mgmt = docker.ManagementPort
	}

	// Reuse the tokens of an earlier deploy of this model, so rendering
	// again does not change the Secret under running pods.
	ctxPath, err := client.ContextPath(f.Getenv)
	if err != nil {
		return err
	}
	cs, err := client.LoadContexts(ctxPath)
	if err != nil {
		return err
	}
	prev := cs.Contexts[name]
	pt, mt := prev.PublicToken, prev.ManagementToken
	if pt == "" || mt == "" {
		pt, mt = docker.NewToken("olp_"), docker.NewToken("olm_")
	}
	values := ChartValues(name, raw, image, o.replicas, pub, mgmt, pt, mt)

	chartFS, err := ChartFS()
	if err != nil {
		return err
	}
	chart, err := kubernetes.Load(chartFS)
	if err != nil {
		return err
	}
	ms, notes, err := chart.Render(kubernetes.Release{Name: name, Namespace: o.namespace}, values)
	if err != nil {
		return err
	}
	// kubectl port-forward makes the APIs local at these URLs.
	if err := client.SaveContext(ctxPath, client.Context{
		Name:            name,
		PublicURL:       fmt.Sprintf("http://127.0.0.1:%d", pub),
		ManagementURL:   fmt.Sprintf("http://127.0.0.1:%d", mgmt),
		PublicToken:     pt,
		ManagementToken: mt,
	}); err != nil {
		f.IO.Printf("warning: could not save the context: %v\n", err)
	}

	if !o.apply || o.render {
		stream := kubernetes.Join("olops", ms)
		if o.out != "" {
			if err := os.WriteFile(o.out, []byte(stream), 0o600); err != nil {
				return err
			}
			// Count objects, not templates: one template may hold several.
			n := len(ms)
			if docs, err := kubernetes.Documents(stream); err == nil {
				n = len(docs)
			}
			f.IO.Printf("wrote %d manifests to %s (they hold the tokens: keep the file private); apply with 'kubectl apply -f %s'\n", n, o.out, o.out)
		} else if _, err := fmt.Fprint(f.IO.Out, stream); err != nil {
			return err
		}
		if !o.apply {
			return nil
		}
	}
	return helmApply(ctx, f, o, name, chartFS, values, notes)
}

// helmApply installs or upgrades the release with the helm binary.
func helmApply(ctx context.Context, f *cmdutil.Factory, o *deployOptions, name string, chartFS fs.FS, values map[string]any, notes string) error {
	helm, err := exec.LookPath("helm")
	if err != nil {
		return fmt.Errorf("--apply needs helm on PATH and it is not there: install Helm 3 " +
			"(https://helm.sh/docs/intro/install/, e.g. 'brew install helm' or your distribution's package), " +
			"or render the manifests with --render and apply them with 'kubectl apply -f'")
	}
	dir, err := os.MkdirTemp("", "olops-chart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	chartDir := filepath.Join(dir, "olops")
	if err := os.CopyFS(chartDir, chartFS); err != nil {
		return fmt.Errorf("writing the chart: %w", err)
	}
	vb, err := yaml.Marshal(values)
	if err != nil {
		return err
	}
	valuesFile := filepath.Join(dir, "values.yaml")
	if err := os.WriteFile(valuesFile, vb, 0o600); err != nil {
		return err
	}
	args := []string{"upgrade", "--install", name, chartDir, "-f", valuesFile, "--wait", "--timeout", o.wait.String()}
	if o.namespace != "" {
		args = append(args, "--namespace", o.namespace, "--create-namespace")
	}
	cmd := exec.CommandContext(ctx, helm, args...)
	cmd.Stdout, cmd.Stderr = f.IO.ErrOut, f.IO.ErrOut
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("helm %s: %w", strings.Join(args[:3], " "), err)
	}
	f.IO.Printf("%s", notes)
	return nil
}
