// Package docker runs olops models as containers on a Docker Engine,
// through the Engine's Go SDK: it builds the FROM-scratch image from the
// running binary, keeps each model's learned state on a named volume,
// labels what it starts so it can find it again, and waits until the
// model answers /readyz.
package docker

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// Labels on every container and volume olops creates.
const (
	LabelModel      = "dev.olops.model"       // the model's name: `olops ps` lists by this label
	LabelReplica    = "dev.olops.replica"     // 0..N-1
	LabelConfigHash = "dev.olops.config-hash" // sha256 of the olops.yaml bytes, 12 hex digits
	LabelSpecHash   = "dev.olops.spec-hash"   // config + image + ports + env: unchanged means nothing to do
	LabelVersion    = "dev.olops.version"     // the olops version that deployed it
	LabelPublicTok  = "dev.olops.public-token"
	LabelMgmtTok    = "dev.olops.management-token"
	// On baked images. Not LabelModel: containers inherit their image's
	// labels, and a container someone else starts from a baked image is
	// not one olops started.
	LabelBakedFor = "dev.olops.baked-for"
	// On every image olops builds (derived images inherit it): what
	// `olops prune` may remove once no container uses it.
	LabelBuiltBy = "dev.olops.built-by"
)

// Ports inside the container (the Dockerfile's EXPOSE).
const (
	PublicPort     = 8080
	ManagementPort = 9090
)

// ConfigPath is where the container reads its olops.yaml.
const ConfigPath = "/etc/olops/olops.yaml"

// Runtime is a connection to one Docker Engine.
type Runtime struct {
	cli  *client.Client
	host string
}

// New connects to the Engine named by DOCKER_HOST (default: the local
// socket) and checks that it answers.
func New(ctx context.Context) (*Runtime, error) {
	cli, err := client.New(client.FromEnv)
	if err != nil {
		return nil, fmt.Errorf("docker: %w (check DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH)", err)
	}
	r := &Runtime{cli: cli, host: cli.DaemonHost()}
	if _, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		cli.Close()
		return nil, r.wrap(err)
	}
	return r, nil
}

// Client is the SDK client, for what this package does not wrap.
func (r *Runtime) Client() *client.Client { return r.cli }

// Close releases the connection.
func (r *Runtime) Close() error { return r.cli.Close() }

// wrap turns an unreachable Engine into an error that says what to do.
func (r *Runtime) wrap(err error) error {
	if err == nil {
		return nil
	}
	if client.IsErrConnectionFailed(err) || strings.Contains(err.Error(), "connect: ") {
		return fmt.Errorf("cannot reach the Docker Engine at %s: is Docker installed and running? "+
			"Start it (e.g. 'sudo systemctl start docker'), make sure your user may use its socket, "+
			"or point DOCKER_HOST at a running Engine (%v)", r.host, err)
	}
	return err
}

// ContainerName is the container of a model's replica: olops-NAME for the
// first, olops-NAME_i for the others ('_' cannot appear in a model name,
// so two models never share a container).
func ContainerName(model string, replica int) string {
	if replica == 0 {
		return "olops-" + model
	}
	return "olops-" + model + "_" + strconv.Itoa(replica)
}

// VolumeName is the named volume that holds a replica's learned state.
func VolumeName(model string, replica int) string {
	return ContainerName(model, replica) + "-data"
}

// ValidName reports whether a model name can name containers, volumes,
// Kubernetes objects and DNS labels: lowercase letters, digits and '-',
// starting with a letter, at most 50 characters.
func ValidName(name string) error {
	if name == "" || len(name) > 50 {
		return fmt.Errorf("model name %q must have 1 to 50 characters", name)
	}
	for i, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' && i > 0 || c == '-' && i > 0 && i < len(name)-1
		if !ok {
			return fmt.Errorf("model name %q: use lowercase letters, digits and '-', starting with a letter (set metadata.name or --name)", name)
		}
	}
	return nil
}

// isNotFound reports whether the Engine said the object does not exist.
func isNotFound(err error) bool {
	return err != nil && cerrdefs.IsNotFound(err)
}

// ErrNotFound is returned for a model olops has not deployed.
var ErrNotFound = errors.New("not found")
