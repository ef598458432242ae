package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// Spec is what `olops deploy` asks for.
type Spec struct {
	Name           string
	Config         []byte // the olops.yaml bytes
	Image          string // "" = built from the running binary, or the released image
	PublicPort     int    // host port of replica 0 (replica i gets +i); 0 = any free port
	ManagementPort int
	Replicas       int      // 0 means 1
	Env            []string // KEY=VALUE for the container (--env-file)
	Wait           time.Duration
	Bake           bool // a derived image with the config inside
	// MountConfig, an absolute host path, bind-mounts the config read-only
	// instead of copying it into the container (edits then need only a
	// restart). The Engine must run on this host.
	MountConfig string
	Build       BuildArgs
	Log         io.Writer // progress messages; nil = none
}

// Instance is one running replica.
type Instance struct {
	Model         string            `json:"model"`
	Replica       int               `json:"replica"`
	Container     string            `json:"container"`
	ID            string            `json:"id"`
	Image         string            `json:"image"`
	State         string            `json:"state"`
	Status        string            `json:"status"`
	Volume        string            `json:"volume"`
	PublicURL     string            `json:"public_url,omitempty"`
	ManagementURL string            `json:"management_url,omitempty"`
	ConfigHash    string            `json:"config_hash"`
	Version       string            `json:"version"`
	Labels        map[string]string `json:"labels,omitempty"`
}

// Deployment is the result of Deploy.
type Deployment struct {
	Name            string     `json:"name"`
	Image           string     `json:"image"`
	ConfigHash      string     `json:"config_hash"`
	PublicToken     string     `json:"-"`
	ManagementToken string     `json:"-"`
	NewTokens       bool       `json:"new_tokens"`
	Instances       []Instance `json:"instances"`
	Replaced        int        `json:"replaced"`  // containers replaced by new ones
	Unchanged       int        `json:"unchanged"` // containers left running as they were
}

// Hash is the 12-hex-digit sha256 of b, the config-hash label.
func Hash(b ...[]byte) string {
	h := sha256.New()
	for _, p := range b {
		h.Write(p)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

func (s *Spec) logf(format string, a ...any) {
	if s.Log != nil {
		fmt.Fprintf(s.Log, format, a...)
	}
}

// NewToken is a random bearer token.
func NewToken(prefix string) string {
	b := make([]byte, 24)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// Deploy makes the model's containers match spec: the image, a volume per
// replica (kept across redeploys: the model continues from what it
// learned), a container per replica replaced when anything about it
// changed, then waits until each answers /readyz.
func (r *Runtime) Deploy(ctx context.Context, spec Spec) (*Deployment, error) {
	if err := ValidName(spec.Name); err != nil {
		return nil, err
	}
	if spec.Replicas <= 0 {
		spec.Replicas = 1
	}
	if spec.Wait <= 0 {
		spec.Wait = 30 * time.Second
	}
	img, err := r.EnsureImage(ctx, spec.Image, spec.Build, spec.Log)
	if err != nil {
		return nil, err
	}
	d := &Deployment{Name: spec.Name, Image: img, ConfigHash: Hash(spec.Config)}
	if spec.Bake {
		base, err := r.cli.ImageInspect(ctx, img)
		if err != nil {
			return nil, r.wrap(err)
		}
		// Named by config and base image: a new olops binary bakes anew.
		baked := "olops-" + spec.Name + ":" + Hash(spec.Config, []byte(base.ID))
		if ok, err := r.ImageExists(ctx, baked); err != nil {
			return nil, err
		} else if !ok {
			spec.logf("baking the config into image %s\n", baked)
			if err := r.Bake(ctx, img, baked, spec.Config, spec.Name); err != nil {
				return nil, err
			}
		}
		d.Image = baked
	}
	imgInfo, err := r.cli.ImageInspect(ctx, d.Image)
	if err != nil {
		return nil, r.wrap(err)
	}
	if err := r.tokens(ctx, &spec, d); err != nil {
		return nil, err
	}
	env := append(slices.Clone(spec.Env),
		"OLOPS_PUBLIC_TOKEN="+d.PublicToken,
		"OLOPS_MANAGEMENT_TOKEN="+d.ManagementToken)

	for i := 0; i < spec.Replicas; i++ {
		inst, replaced, err := r.deployReplica(ctx, &spec, d, imgInfo.ID, env, i)
		if err != nil {
			return d, err
		}
		if replaced {
			d.Replaced++
		} else {
			d.Unchanged++
		}
		d.Instances = append(d.Instances, inst)
	}
	if err := r.removeReplicasFrom(ctx, spec.Name, spec.Replicas); err != nil {
		return d, err
	}

	deadline := time.Now().Add(spec.Wait)
	for _, inst := range d.Instances {
		if err := r.WaitReady(ctx, inst, time.Until(deadline)); err != nil {
			return d, err
		}
	}
	return d, nil
}

// tokens reuses the tokens kept on the first replica's volume, or those in
// the env file, or makes new ones.
func (r *Runtime) tokens(ctx context.Context, spec *Spec, d *Deployment) error {
	for _, kv := range spec.Env {
		if v, ok := strings.CutPrefix(kv, "OLOPS_PUBLIC_TOKEN="); ok {
			d.PublicToken = v
		}
		if v, ok := strings.CutPrefix(kv, "OLOPS_MANAGEMENT_TOKEN="); ok {
			d.ManagementToken = v
		}
	}
	v, err := r.cli.VolumeInspect(ctx, VolumeName(spec.Name, 0), client.VolumeInspectOptions{})
	if err != nil && !isNotFound(err) {
		return r.wrap(err)
	}
	if err == nil {
		if d.PublicToken == "" {
			d.PublicToken = v.Volume.Labels[LabelPublicTok]
		}
		if d.ManagementToken == "" {
			d.ManagementToken = v.Volume.Labels[LabelMgmtTok]
		}
	}
	if d.PublicToken == "" {
		d.PublicToken, d.NewTokens = NewToken("olp_"), true
	}
	if d.ManagementToken == "" {
		d.ManagementToken, d.NewTokens = NewToken("olm_"), true
	}
	return nil
}

func (r *Runtime) ensureVolume(ctx context.Context, spec *Spec, d *Deployment, replica int) (string, error) {
	name := VolumeName(spec.Name, replica)
	_, err := r.cli.VolumeInspect(ctx, name, client.VolumeInspectOptions{})
	if err == nil {
		return name, nil
	}
	if !isNotFound(err) {
		return "", r.wrap(err)
	}
	// The tokens live on the volume so a redeploy (even from another
	// machine's CLI) reuses them: the state and its keys stay together.
	_, err = r.cli.VolumeCreate(ctx, client.VolumeCreateOptions{Name: name, Labels: map[string]string{
		LabelModel:      spec.Name,
		LabelReplica:    strconv.Itoa(replica),
		LabelPublicTok:  d.PublicToken,
		LabelMgmtTok:    d.ManagementToken,
		LabelVersion:    spec.Build.Version,
		LabelConfigHash: d.ConfigHash,
	}})
	if err != nil {
		return "", fmt.Errorf("creating volume %s: %w", name, r.wrap(err))
	}
	spec.logf("created volume %s for the model's state\n", name)
	return name, nil
}

func hostPort(base, replica int) string {
	if base == 0 {
		return "" // the Engine picks a free port
	}
	return strconv.Itoa(base + replica)
}

func (r *Runtime) deployReplica(ctx context.Context, spec *Spec, d *Deployment, imageID string, env []string, i int) (Instance, bool, error) {
	name := ContainerName(spec.Name, i)
	vol, err := r.ensureVolume(ctx, spec, d, i)
	if err != nil {
		return Instance{}, false, err
	}
	sorted := slices.Clone(env)
	slices.Sort(sorted)
	specHash := Hash(spec.Config, []byte(imageID), []byte(strings.Join(sorted, "\n")),
		[]byte(hostPort(spec.PublicPort, i)+"/"+hostPort(spec.ManagementPort, i)), []byte(strconv.FormatBool(spec.Bake)), []byte(spec.MountConfig))

	old, err := r.cli.ContainerInspect(ctx, name, client.ContainerInspectOptions{})
	switch {
	case err == nil:
		if old.Container.State != nil && old.Container.State.Running && old.Container.Config.Labels[LabelSpecHash] == specHash {
			spec.logf("%s is up to date\n", name)
			inst, err := r.instance(ctx, name)
			return inst, false, err
		}
		if old.Container.Config.Labels[LabelModel] != spec.Name {
			return Instance{}, false, fmt.Errorf("a container named %s exists that olops did not start: remove or rename it", name)
		}
		spec.logf("replacing %s (the volume %s keeps the learned state)\n", name, vol)
		timeout := 10
		if _, err := r.cli.ContainerStop(ctx, name, client.ContainerStopOptions{Timeout: &timeout}); err != nil && !isNotFound(err) {
			return Instance{}, false, r.wrap(err)
		}
		if _, err := r.cli.ContainerRemove(ctx, name, client.ContainerRemoveOptions{Force: true}); err != nil && !isNotFound(err) {
			return Instance{}, false, r.wrap(err)
		}
	case !isNotFound(err):
		return Instance{}, false, r.wrap(err)
	}

	loopback := netip.MustParseAddr("127.0.0.1")
	pub := network.MustParsePort(strconv.Itoa(PublicPort) + "/tcp")
	mgmt := network.MustParsePort(strconv.Itoa(ManagementPort) + "/tcp")
	cfg := &container.Config{
		Image: d.Image,
		Cmd: []string{"--config", ConfigPath, "--data-dir", "/data",
			"--public-addr", ":" + strconv.Itoa(PublicPort), "--management-addr", ":" + strconv.Itoa(ManagementPort),
			"--name", spec.Name,
			// The context belongs on the host (olops deploy writes it), not in the volume.
			"--no-context"},
		Env:          env,
		ExposedPorts: network.PortSet{pub: {}, mgmt: {}},
		Labels: map[string]string{
			LabelModel:      spec.Name,
			LabelReplica:    strconv.Itoa(i),
			LabelConfigHash: d.ConfigHash,
			LabelSpecHash:   specHash,
			LabelVersion:    spec.Build.Version,
		},
	}
	host := &container.HostConfig{
		Mounts: []mount.Mount{{Type: mount.TypeVolume, Source: vol, Target: "/data"}},
		// Published on loopback only: the tokens guard the APIs, but a
		// model is not exposed to the network unless someone says so.
		PortBindings: network.PortMap{
			pub:  {{HostIP: loopback, HostPort: hostPort(spec.PublicPort, i)}},
			mgmt: {{HostIP: loopback, HostPort: hostPort(spec.ManagementPort, i)}},
		},
		RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyUnlessStopped},
	}
	if spec.MountConfig != "" && !spec.Bake {
		host.Mounts = append(host.Mounts, mount.Mount{Type: mount.TypeBind, Source: spec.MountConfig, Target: ConfigPath, ReadOnly: true})
	}
	created, err := r.cli.ContainerCreate(ctx, client.ContainerCreateOptions{Config: cfg, HostConfig: host, Name: name})
	if err != nil {
		return Instance{}, false, fmt.Errorf("creating container %s: %w", name, r.wrap(err))
	}
	if !spec.Bake && spec.MountConfig == "" {
		// Copied in rather than bind-mounted by default: works with a
		// remote Engine and with a config file only its owner may read.
		var buf bytes.Buffer
		if err := configTar(&buf, spec.Config); err != nil {
			return Instance{}, false, err
		}
		if _, err := r.cli.CopyToContainer(ctx, created.ID, client.CopyToContainerOptions{DestinationPath: "/", Content: &buf}); err != nil {
			return Instance{}, false, fmt.Errorf("copying the config into %s: %w", name, r.wrap(err))
		}
	}
	if _, err := r.cli.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		// A container that never started is only clutter: remove it.
		r.cli.ContainerRemove(context.WithoutCancel(ctx), created.ID, client.ContainerRemoveOptions{Force: true})
		hint := ""
		if strings.Contains(err.Error(), "already allocated") || strings.Contains(err.Error(), "address already in use") {
			hint = ": pick free ports with --public-port and --management-port (0: any free port)"
		}
		return Instance{}, false, fmt.Errorf("starting container %s: %w%s", name, r.wrap(err), hint)
	}
	spec.logf("started %s\n", name)
	inst, err := r.instance(ctx, name)
	return inst, true, err
}

// configTar is a tar holding etc/olops/olops.yaml, readable by all.
func configTar(w io.Writer, config []byte) error {
	tw := tar.NewWriter(w)
	now := time.Now()
	for _, dir := range []string{"etc/", "etc/olops/"} {
		if err := tw.WriteHeader(&tar.Header{Name: dir, Mode: 0o755, Typeflag: tar.TypeDir, ModTime: now}); err != nil {
			return err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Name: strings.TrimPrefix(ConfigPath, "/"), Mode: 0o644, Size: int64(len(config)), ModTime: now}); err != nil {
		return err
	}
	if _, err := tw.Write(config); err != nil {
		return err
	}
	return tw.Close()
}

// instance reads a container's state and published ports.
func (r *Runtime) instance(ctx context.Context, name string) (Instance, error) {
	res, err := r.cli.ContainerInspect(ctx, name, client.ContainerInspectOptions{})
	if err != nil {
		return Instance{}, r.wrap(err)
	}
	c := res.Container
	labels := c.Config.Labels
	inst := Instance{
		Model:      labels[LabelModel],
		Container:  strings.TrimPrefix(c.Name, "/"),
		ID:         c.ID,
		Image:      c.Config.Image,
		ConfigHash: labels[LabelConfigHash],
		Version:    labels[LabelVersion],
		Labels:     labels,
	}
	inst.Replica, _ = strconv.Atoi(labels[LabelReplica])
	if c.State != nil {
		inst.State = string(c.State.Status)
		inst.Status = string(c.State.Status)
	}
	for _, m := range c.Mounts {
		if m.Destination == "/data" {
			inst.Volume = m.Name
		}
	}
	if c.NetworkSettings != nil {
		inst.PublicURL = portURL(c.NetworkSettings.Ports, PublicPort)
		inst.ManagementURL = portURL(c.NetworkSettings.Ports, ManagementPort)
	}
	return inst, nil
}

func portURL(ports network.PortMap, private int) string {
	p, ok := network.PortFrom(uint16(private), network.TCP)
	if !ok {
		return ""
	}
	for _, b := range ports[p] {
		if b.HostPort == "" {
			continue
		}
		ip := "127.0.0.1"
		if b.HostIP.IsValid() && !b.HostIP.IsUnspecified() {
			ip = b.HostIP.String()
		}
		return "http://" + netip.AddrPortFrom(netip.MustParseAddr(ip), mustPort(b.HostPort)).String()
	}
	return ""
}

func mustPort(s string) uint16 {
	n, _ := strconv.Atoi(s)
	return uint16(n)
}

// WaitReady polls the instance's /readyz until it answers 200, the
// container stops, or wait runs out. On failure the error carries the
// container's last log lines.
func (r *Runtime) WaitReady(ctx context.Context, inst Instance, wait time.Duration) error {
	return r.waitReady(ctx, inst, wait, 100*time.Millisecond)
}

// waitReady polls every interval (finer for the start-time benchmark).
func (r *Runtime) waitReady(ctx context.Context, inst Instance, wait, interval time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	hc := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var last string
	// Restarts before now (a container that Docker restarted after a
	// crash and that runs again) are not this deploy's failure.
	restarts := -1
	for n := 0; ; n++ {
		if inst.PublicURL == "" {
			// The Engine may publish a port a moment after start.
			if i, err := r.instance(ctx, inst.Container); err == nil {
				inst.PublicURL = i.PublicURL
			}
		}
		if inst.PublicURL != "" {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, inst.PublicURL+"/readyz", nil)
			resp, err := hc.Do(req)
			if err == nil {
				io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return nil
				}
				last = "/readyz answered " + resp.Status
			} else {
				last = err.Error()
			}
		}
		if n%max(1, int(500*time.Millisecond/interval)) == 0 {
			res, err := r.cli.ContainerInspect(ctx, inst.Container, client.ContainerInspectOptions{})
			// A restart means the server exited: the restart policy would
			// only repeat the failure, so say so now rather than at --wait.
			if err == nil && res.Container.State != nil {
				st := res.Container.State
				if restarts < 0 {
					restarts = res.Container.RestartCount
				}
				switch {
				case st.Restarting || res.Container.RestartCount > restarts:
					return r.failure(inst, "the server exited and Docker is restarting it")
				case !st.Running:
					return r.failure(inst, fmt.Sprintf("the server exited (code %d)", st.ExitCode))
				}
			}
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return r.failure(inst, fmt.Sprintf("not ready after %s (last: %s): raise --wait if the model needs longer to load", wait.Round(time.Millisecond), last))
			}
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// failure is an error with the container's last log lines.
func (r *Runtime) failure(inst Instance, what string) error {
	name := inst.Container
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var logs bytes.Buffer
	if err := r.Logs(ctx, name, LogOptions{Tail: 30}, &logs, &logs); err != nil {
		fmt.Fprintf(&logs, "(could not read its logs: %v)", err)
	}
	return fmt.Errorf("%s: %s; its last log lines:\n%s\n(see them all with 'olops logs %s'; stop it with 'olops stop %s')", name, what, indent(logs.String()), name, inst.Model)
}

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return "  (no output)"
	}
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}

// LogOptions select what Logs prints.
type LogOptions struct {
	Follow bool
	Tail   int // 0 = all
}

// Logs copies a container's stdout and stderr.
func (r *Runtime) Logs(ctx context.Context, name string, o LogOptions, stdout, stderr io.Writer) error {
	tail := "all"
	if o.Tail > 0 {
		tail = strconv.Itoa(o.Tail)
	}
	rc, err := r.cli.ContainerLogs(ctx, name, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Follow: o.Follow, Tail: tail})
	if err != nil {
		return r.wrap(err)
	}
	defer rc.Close()
	_, err = stdcopy.StdCopy(stdout, stderr, rc)
	if ctx.Err() != nil {
		return nil // following ended by the caller
	}
	return err
}
