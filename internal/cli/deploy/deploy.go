// Package deploy is `olops deploy` and the commands that manage what it
// started: ps, logs, stop, undeploy.
package deploy

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/olops/olops/internal/cli/cmdutil"
	"github.com/olops/olops/internal/client"
	"github.com/olops/olops/internal/config"
	"github.com/olops/olops/internal/runtime/docker"
	"github.com/spf13/cobra"
)

type deployOptions struct {
	file           string
	name           string
	publicPort     int
	managementPort int
	replicas       int
	envFile        string
	wait           time.Duration
	bake           bool
	mountConfig    bool
	target         string
	image          string
	render         bool
	apply          bool
	out            string
	namespace      string
	output         string
}

// NewCmdDeploy returns `olops deploy`.
func NewCmdDeploy(f *cmdutil.Factory) *cobra.Command {
	o := &deployOptions{}
	cmd := &cobra.Command{
		Use:   "deploy",
		Short: "Run a model in a container (Docker) or render/apply it for Kubernetes",
		Long: `Deploy runs the model of an olops.yaml as a container on the Docker Engine
(DOCKER_HOST, or the local socket): it builds the FROM-scratch image from
this binary (a static linux build) or uses the released image, keeps the
learned state on a named volume (olops-NAME-data), publishes both APIs on
127.0.0.1, and waits until the model answers /readyz.

The first deploy generates the two bearer tokens; they are kept on the
volume and in the context file, so 'olops status' and the other commands
just work, and a redeploy reuses them. Redeploying a changed config
replaces the container and keeps the volume: the model continues from
what it learned.

With --target kubernetes it renders the Helm chart (--render) or installs
it with helm (--apply).`,
		Example: `  olops deploy -f olops.yaml
  olops deploy --public-port 0 --management-port 0   # any free ports
  olops deploy --bake                                 # config inside a derived image
  olops deploy --target kubernetes --render > model.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cmdutil.CheckFormat(o.output); err != nil {
				return err
			}
			switch o.target {
			case "docker":
				if o.render || o.apply {
					return cmdutil.Usage("--render and --apply are for --target kubernetes")
				}
				return runDocker(cmd.Context(), f, o)
			case "kubernetes", "k8s":
				return runKubernetes(cmd.Context(), f, o)
			}
			return cmdutil.Usage("unknown --target %q: use docker or kubernetes", o.target)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&o.file, "file", "f", "olops.yaml", "the model's config")
	fl.StringVar(&o.name, "name", "", "the deployment's name (default: metadata.name of the config)")
	fl.IntVar(&o.publicPort, "public-port", 8080, "host port of the public API on 127.0.0.1 (0: any free port); replica i gets +i")
	fl.IntVar(&o.managementPort, "management-port", 9090, "host port of the management API on 127.0.0.1 (0: any free port)")
	fl.IntVar(&o.replicas, "replicas", 1, "containers to run, each learning on its own volume")
	fl.StringVar(&o.envFile, "env-file", "", "file of KEY=VALUE lines for the container's environment")
	fl.DurationVar(&o.wait, "wait", 30*time.Second, "how long to wait for /readyz")
	fl.BoolVar(&o.bake, "bake", false, "bake the config into a derived image instead of copying it into the container")
	fl.BoolVar(&o.mountConfig, "mount-config", false, "bind-mount the config file read-only instead of copying it in (the Engine must be local; the file must be readable by all)")
	fl.StringVar(&o.target, "target", "docker", "where to run: docker or kubernetes")
	fl.StringVar(&o.image, "image", "", "image to run (default: built from this binary, else the released image)")
	fl.BoolVar(&o.render, "render", false, "kubernetes: print the rendered manifests")
	fl.BoolVar(&o.apply, "apply", false, "kubernetes: install or upgrade the release with helm")
	fl.StringVar(&o.out, "out", "", "kubernetes --render: write the manifests to this file instead of stdout")
	fl.StringVar(&o.namespace, "namespace", "", "kubernetes: the namespace")
	fl.StringVarP(&o.output, "output", "o", cmdutil.Table, "output format: table, json or yaml")
	return cmd
}

// loadConfig reads and validates the config; it returns its bytes too,
// which are what goes into the container.
func loadConfig(path string) ([]byte, *config.Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil, cmdutil.Usage("no config at %s: pass -f FILE, or create one with 'olops init'", path)
		}
		return nil, nil, err
	}
	cfg, err := config.Parse(b, path)
	if err != nil {
		return nil, nil, err
	}
	return b, cfg, nil
}

// ReadEnvFile reads KEY=VALUE lines; blank lines and # comments are
// skipped.
func ReadEnvFile(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("env file: %w", err)
	}
	var env []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, _, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(k) == "" || strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("%s:%d: want KEY=VALUE, got %q", path, n, line)
		}
		env = append(env, line)
	}
	return env, sc.Err()
}

func runDocker(ctx context.Context, f *cmdutil.Factory, o *deployOptions) error {
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
	var env []string
	if o.envFile != "" {
		if env, err = ReadEnvFile(o.envFile); err != nil {
			return err
		}
	}
	var mountPath string
	if o.mountConfig {
		if o.bake {
			return cmdutil.Usage("--mount-config and --bake exclude each other: the config is either mounted or inside the image")
		}
		if mountPath, err = filepath.Abs(o.file); err != nil {
			return err
		}
		if st, err := os.Stat(mountPath); err == nil && st.Mode().Perm()&0o004 == 0 {
			return fmt.Errorf("%s is not readable by others (mode %04o): the container's user (uid 65532) could not read it when mounted; "+
				"chmod o+r it, or drop --mount-config (the default copies the config in)", o.file, st.Mode().Perm())
		}
	}
	rt, err := docker.New(ctx)
	if err != nil {
		return err
	}
	defer rt.Close()

	f.IO.Printf("deploying %s (%s, %s) to the Docker Engine\n", name, cfg.Spec.Pipeline.Model, cfg.Spec.Task)
	d, derr := rt.Deploy(ctx, docker.Spec{
		Name:           name,
		Config:         raw,
		Image:          o.image,
		PublicPort:     o.publicPort,
		ManagementPort: o.managementPort,
		Replicas:       o.replicas,
		Env:            env,
		Wait:           o.wait,
		Bake:           o.bake,
		MountConfig:    mountPath,
		Build:          docker.BuildArgs{Version: f.Build.Version, Revision: f.Build.Commit},
		Log:            progress(f),
	})
	// The context is saved even when waiting failed: the containers and
	// their tokens exist, and 'olops status' helps find out why.
	var ctxPath string
	if d != nil && len(d.Instances) > 0 {
		first := d.Instances[0]
		if ctxPath, err = client.ContextPath(f.Getenv); err == nil {
			err = client.SaveContext(ctxPath, client.Context{
				Name:            name,
				PublicURL:       first.PublicURL,
				ManagementURL:   first.ManagementURL,
				PublicToken:     d.PublicToken,
				ManagementToken: d.ManagementToken,
			})
		}
		if err != nil {
			f.IO.Printf("warning: could not save the context (%v): pass --url and --token to the other commands\n", err)
			ctxPath = ""
		}
	}
	if derr != nil {
		return derr
	}
	err = cmdutil.Print(f.IO.Out, o.output, d, func(w io.Writer) error {
		return printInstances(w, d.Instances)
	})
	if err != nil {
		return err
	}
	if d.NewTokens {
		f.IO.Printf("new tokens were generated for %s.\n", name)
	}
	if ctxPath != "" {
		f.IO.Printf("context %q saved in %s with both tokens: 'olops status' now talks to this model.\n", name, ctxPath)
	}
	f.IO.Printf("the tokens are also on the volume: docker volume inspect %s\n", docker.VolumeName(name, 0))
	return nil
}

// progress is where deploy's progress lines go: stderr unless --quiet.
func progress(f *cmdutil.Factory) io.Writer {
	if f.IO.Quiet {
		return nil
	}
	return f.IO.ErrOut
}

func printInstances(w io.Writer, insts []docker.Instance) error {
	if len(insts) == 0 {
		_, err := fmt.Fprintln(w, "no olops containers: start one with 'olops deploy'")
		return err
	}
	tw := newTab(w)
	fmt.Fprintln(tw, "MODEL\tREPLICA\tCONTAINER\tSTATE\tPUBLIC\tMANAGEMENT\tIMAGE\tCONFIG")
	for _, in := range insts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", in.Model, strconv.Itoa(in.Replica), in.Container,
			dash(in.State), dash(in.PublicURL), dash(in.ManagementURL), in.Image, dash(in.ConfigHash))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
