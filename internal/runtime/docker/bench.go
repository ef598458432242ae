package docker

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// BenchResult is what `make bench` reports about the container.
type BenchResult struct {
	Image        string          `json:"image"`
	ImageBytes   int64           `json:"image_bytes"`
	StartToReady []time.Duration `json:"start_to_ready"` // each run: ContainerStart to /readyz 200
	Median       time.Duration   `json:"median"`
}

const benchConfig = `apiVersion: olops.dev/v1
kind: Model
metadata:
  name: bench
spec:
  task: binary
  target: y
  pipeline:
    model: logreg
`

// Bench builds the image from binary under a throwaway tag, reads its size
// and times runs cold starts of a fresh container (empty state) until
// /readyz answers. It removes everything it made.
func (r *Runtime) Bench(ctx context.Context, binary string, runs int) (*BenchResult, error) {
	if runs < 1 {
		runs = 1
	}
	tag := "olops-bench:" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if err := r.BuildImage(ctx, binary, tag, BuildArgs{Version: "bench"}, nil); err != nil {
		return nil, err
	}
	defer r.RemoveImage(context.WithoutCancel(ctx), tag)
	size, err := r.ImageSize(ctx, tag)
	if err != nil {
		return nil, err
	}
	res := &BenchResult{Image: tag, ImageBytes: size}
	for i := 0; i < runs; i++ {
		d, err := r.benchStart(ctx, tag)
		if err != nil {
			return nil, err
		}
		res.StartToReady = append(res.StartToReady, d)
	}
	s := slices.Clone(res.StartToReady)
	slices.Sort(s)
	res.Median = s[len(s)/2]
	return res, nil
}

func (r *Runtime) benchStart(ctx context.Context, image string) (time.Duration, error) {
	pub := network.MustParsePort(strconv.Itoa(PublicPort) + "/tcp")
	created, err := r.cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Config: &container.Config{
			Image:        image,
			Cmd:          []string{"--config", ConfigPath, "--data-dir", "/data", "--public-addr", ":8080", "--management-addr", ":9090"},
			ExposedPorts: network.PortSet{pub: {}},
		},
		HostConfig: &container.HostConfig{
			PortBindings: network.PortMap{pub: {{HostIP: netip.MustParseAddr("127.0.0.1")}}},
		},
	})
	if err != nil {
		return 0, r.wrap(err)
	}
	defer r.cli.ContainerRemove(context.WithoutCancel(ctx), created.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	var buf bytes.Buffer
	if err := configTar(&buf, []byte(benchConfig)); err != nil {
		return 0, err
	}
	if _, err := r.cli.CopyToContainer(ctx, created.ID, client.CopyToContainerOptions{DestinationPath: "/", Content: &buf}); err != nil {
		return 0, r.wrap(err)
	}
	start := time.Now()
	if _, err := r.cli.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		return 0, r.wrap(err)
	}
	inst, err := r.instance(ctx, created.ID)
	if err != nil {
		return 0, err
	}
	if err := r.waitReady(ctx, inst, 30*time.Second, 5*time.Millisecond); err != nil {
		return 0, fmt.Errorf("bench container: %w", err)
	}
	return time.Since(start), nil
}
