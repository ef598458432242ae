package docker

import (
	"context"
	"fmt"
	"sort"
	"strconv"

	"github.com/moby/moby/client"
)

// List returns every container olops started (those with the model
// label), optionally of one model, by model then replica.
func (r *Runtime) List(ctx context.Context, model string) ([]Instance, error) {
	f := client.Filters{}
	if model == "" {
		f.Add("label", LabelModel)
	} else {
		f.Add("label", LabelModel+"="+model)
	}
	res, err := r.cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return nil, r.wrap(err)
	}
	out := make([]Instance, 0, len(res.Items))
	for _, c := range res.Items {
		if c.Labels[LabelModel] == "" {
			continue // the Engine filtered already; an empty label is not ours
		}
		inst := Instance{
			Model:      c.Labels[LabelModel],
			ID:         c.ID,
			Image:      c.Image,
			State:      string(c.State),
			Status:     c.Status,
			ConfigHash: c.Labels[LabelConfigHash],
			Version:    c.Labels[LabelVersion],
			Labels:     c.Labels,
		}
		if len(c.Names) > 0 {
			inst.Container = trimSlash(c.Names[0])
		}
		inst.Replica, _ = strconv.Atoi(c.Labels[LabelReplica])
		for _, m := range c.Mounts {
			if m.Destination == "/data" {
				inst.Volume = m.Name
			}
		}
		for _, p := range c.Ports {
			if p.PublicPort == 0 {
				continue
			}
			ip := "127.0.0.1"
			if p.IP.IsValid() && !p.IP.IsUnspecified() && p.IP.Is4() {
				ip = p.IP.String()
			}
			u := fmt.Sprintf("http://%s:%d", ip, p.PublicPort)
			switch p.PrivatePort {
			case PublicPort:
				inst.PublicURL = u
			case ManagementPort:
				inst.ManagementURL = u
			}
		}
		out = append(out, inst)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Model != out[j].Model {
			return out[i].Model < out[j].Model
		}
		return out[i].Replica < out[j].Replica
	})
	return out, nil
}

func trimSlash(s string) string {
	if len(s) > 0 && s[0] == '/' {
		return s[1:]
	}
	return s
}

// mustFind lists a model's containers and fails plainly when there are none.
func (r *Runtime) mustFind(ctx context.Context, model string) ([]Instance, error) {
	insts, err := r.List(ctx, model)
	if err != nil {
		return nil, err
	}
	if len(insts) == 0 {
		return nil, fmt.Errorf("no container of model %q: %w ('olops ps' lists what olops runs)", model, ErrNotFound)
	}
	return insts, nil
}

// Resolve maps a model name (its first replica) or one of olops's
// container names to a container name.
func (r *Runtime) Resolve(ctx context.Context, name string) (string, error) {
	insts, err := r.List(ctx, "")
	if err != nil {
		return "", err
	}
	for _, in := range insts {
		if in.Container == name {
			return name, nil
		}
	}
	for _, in := range insts {
		if in.Model == name && in.Replica == 0 {
			return in.Container, nil
		}
	}
	return "", fmt.Errorf("no container of model %q: %w ('olops ps' lists what olops runs)", name, ErrNotFound)
}

// Stop stops a model's containers; with remove it removes them too (the
// volumes stay).
func (r *Runtime) Stop(ctx context.Context, model string, remove bool) ([]Instance, error) {
	insts, err := r.mustFind(ctx, model)
	if err != nil {
		return nil, err
	}
	timeout := 10
	for _, in := range insts {
		if _, err := r.cli.ContainerStop(ctx, in.ID, client.ContainerStopOptions{Timeout: &timeout}); err != nil && !isNotFound(err) {
			return nil, fmt.Errorf("stopping %s: %w", in.Container, r.wrap(err))
		}
		if remove {
			if _, err := r.cli.ContainerRemove(ctx, in.ID, client.ContainerRemoveOptions{Force: true}); err != nil && !isNotFound(err) {
				return nil, fmt.Errorf("removing %s: %w", in.Container, r.wrap(err))
			}
		}
	}
	return insts, nil
}

// Undeployed says what Undeploy removed.
type Undeployed struct {
	Containers []string `json:"containers"`
	Volumes    []string `json:"volumes"`
	Images     []string `json:"images"`
}

// Undeploy removes a model's containers, its baked images and, unless
// keepData, its volumes (its learned state).
func (r *Runtime) Undeploy(ctx context.Context, model string, keepData bool) (*Undeployed, error) {
	out := &Undeployed{}
	insts, err := r.List(ctx, model)
	if err != nil {
		return nil, err
	}
	for _, in := range insts {
		if _, err := r.cli.ContainerRemove(ctx, in.ID, client.ContainerRemoveOptions{Force: true}); err != nil && !isNotFound(err) {
			return out, fmt.Errorf("removing %s: %w", in.Container, r.wrap(err))
		}
		out.Containers = append(out.Containers, in.Container)
	}
	imgs, err := r.cli.ImageList(ctx, client.ImageListOptions{Filters: client.Filters{}.Add("label", LabelBakedFor+"="+model)})
	if err != nil {
		return out, r.wrap(err)
	}
	for _, img := range imgs.Items {
		if err := r.RemoveImage(ctx, img.ID); err != nil {
			return out, fmt.Errorf("removing baked image %s: %w", img.ID, err)
		}
		out.Images = append(out.Images, img.RepoTags...)
	}
	vols, err := r.cli.VolumeList(ctx, client.VolumeListOptions{Filters: client.Filters{}.Add("label", LabelModel+"="+model)})
	if err != nil {
		return out, r.wrap(err)
	}
	if !keepData {
		for _, v := range vols.Items {
			if _, err := r.cli.VolumeRemove(ctx, v.Name, client.VolumeRemoveOptions{Force: true}); err != nil && !isNotFound(err) {
				return out, fmt.Errorf("removing volume %s: %w", v.Name, r.wrap(err))
			}
			out.Volumes = append(out.Volumes, v.Name)
		}
	}
	if len(out.Containers) == 0 && len(out.Images) == 0 && len(vols.Items) == 0 {
		return out, fmt.Errorf("nothing of model %q to remove: %w", model, ErrNotFound)
	}
	return out, nil
}

// removeReplicasFrom removes containers of replicas n and above (after
// scaling down); their volumes stay until undeploy.
func (r *Runtime) removeReplicasFrom(ctx context.Context, model string, n int) error {
	insts, err := r.List(ctx, model)
	if err != nil {
		return err
	}
	for _, in := range insts {
		if in.Replica < n {
			continue
		}
		if _, err := r.cli.ContainerRemove(ctx, in.ID, client.ContainerRemoveOptions{Force: true}); err != nil && !isNotFound(err) {
			return fmt.Errorf("removing %s: %w", in.Container, r.wrap(err))
		}
	}
	return nil
}
