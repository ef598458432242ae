package docker

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/olops/olops/internal/api"
	olclient "github.com/olops/olops/internal/client"
)

// e2e is the end-to-end harness: an olops binary built from this
// checkout, an image built from it with a unique tag, and a context file
// of its own. Everything it creates is removed by t.Cleanup.
type e2e struct {
	t       *testing.T
	rt      *Runtime
	dir     string
	bin     string
	image   string
	ctxFile string
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// newE2E fails the test, plainly, when the Docker Engine is unreachable:
// this test is part of `make test` on a machine with Docker.
func newE2E(t *testing.T) *e2e {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rt, err := New(ctx)
	if err != nil {
		t.Fatalf("the Docker end-to-end test needs a running Docker Engine: %v", err)
	}
	t.Cleanup(func() { rt.Close() })
	root := repoRoot(t)
	dir := t.TempDir()
	e := &e2e{t: t, rt: rt, dir: dir, bin: filepath.Join(dir, "olops"), ctxFile: filepath.Join(dir, "contexts.json")}

	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version=e2e", "-o", e.bin, "./cmd/olops")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building olops: %v\n%s", err, out)
	}
	if bi := InspectBinary(e.bin); !bi.Static {
		t.Fatalf("a CGO_ENABLED=0 linux build is not seen as static: %s", bi.Why)
	}

	e.image = "olops-e2e:" + randHex(6)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := rt.RemoveImage(ctx, e.image); err != nil {
			t.Errorf("cleanup: removing image %s: %v", e.image, err)
		}
	})
	bctx, bcancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer bcancel()
	if err := rt.BuildImage(bctx, e.bin, e.image, BuildArgs{Version: "e2e", Revision: "test"}, nil); err != nil {
		t.Fatal(err)
	}
	return e
}

// cleanupModel removes every container, volume and baked image of model,
// whatever state the test left them in.
func (e *e2e) cleanupModel(model string) {
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cli := e.rt.Client()
		if res, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: client.Filters{}.Add("label", LabelModel+"="+model)}); err == nil {
			for _, c := range res.Items {
				cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true})
			}
		}
		if res, err := cli.ImageList(ctx, client.ImageListOptions{Filters: client.Filters{}.Add("label", LabelBakedFor+"="+model)}); err == nil {
			for _, img := range res.Items {
				cli.ImageRemove(ctx, img.ID, client.ImageRemoveOptions{Force: true})
			}
		}
		if res, err := cli.VolumeList(ctx, client.VolumeListOptions{Filters: client.Filters{}.Add("label", LabelModel+"="+model)}); err == nil {
			for _, v := range res.Items {
				cli.VolumeRemove(ctx, v.Name, client.VolumeRemoveOptions{Force: true})
			}
		}
	})
}

// olops runs the binary with the harness's context file; it fails the
// test when the command fails.
func (e *e2e) olops(args ...string) string {
	e.t.Helper()
	out, errOut, err := e.run(args...)
	if err != nil {
		e.t.Fatalf("olops %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

func (e *e2e) run(args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.bin, args...)
	cmd.Env = append(os.Environ(), "OLOPS_CONTEXT="+e.ctxFile, "NO_COLOR=1")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err
}

func (e *e2e) context(name string) olclient.Context {
	e.t.Helper()
	cs, err := olclient.LoadContexts(e.ctxFile)
	if err != nil {
		e.t.Fatal(err)
	}
	c, ok := cs.Contexts[name]
	if !ok || c.PublicURL == "" || c.ManagementURL == "" || c.PublicToken == "" || c.ManagementToken == "" {
		e.t.Fatalf("deploy saved no complete context for %s: %+v", name, c)
	}
	return c
}

// call does one JSON request with a bearer token and decodes the reply.
func call(t *testing.T, method, url, token string, in, out any) {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, body)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %s: %s", method, url, resp.Status, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("%s %s: decoding %s: %v", method, url, b, err)
	}
}

// sharedDir is <repo root>/../shared.
func sharedDir(t *testing.T) string {
	t.Helper()
	d := filepath.Join(repoRoot(t), "..", "shared")
	if _, err := os.Stat(d); err != nil {
		t.Fatalf("the shared data folder is missing at %s: clone the repository beside shared/", d)
	}
	return d
}

// probes reads the first n rows of a gzipped CSV as feature maps without
// the target column.
func probes(t *testing.T, path, target string, n int) []api.Features {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(bufio.NewReader(gz))
	head, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	var out []api.Features
	for len(out) < n {
		rec, err := r.Read()
		if err != nil {
			t.Fatal(err)
		}
		feat := api.Features{}
		for i, h := range head {
			if h == target {
				continue
			}
			v, err := strconv.ParseFloat(rec[i], 64)
			if err != nil {
				t.Fatal(err)
			}
			feat[h] = v
		}
		out = append(out, feat)
	}
	return out
}

const e2eConfig = `apiVersion: olops.dev/v1
kind: Model
metadata:
  name: %s
spec:
  task: binary
  target: is_phishing
  positive: "1"
  pipeline:
    model: logreg
`

// The whole story: deploy a logreg model, replay a data set into
// it, kill its container, redeploy, and find the same model: the same
// predictions to the bit and the same learn count. Then ps, logs, bake,
// undeploy.
func TestDeployReplayKillRedeploy(t *testing.T) {
	e := newE2E(t)
	ctx := context.Background()
	data := filepath.Join(sharedDir(t), "datasets", "phishing.csv.gz")
	model := "e2e-" + randHex(4)
	e.cleanupModel(model)
	cfgFile := filepath.Join(e.dir, "olops.yaml")
	if err := os.WriteFile(cfgFile, []byte(fmt.Sprintf(e2eConfig, model)), 0o600); err != nil {
		t.Fatal(err)
	}
	deployArgs := []string{"deploy", "-f", cfgFile, "--image", e.image, "--public-port", "0", "--management-port", "0", "--wait", "60s", "-o", "json"}

	// Deploy: a running container, a volume, a context with both tokens.
	var d Deployment
	if err := json.Unmarshal([]byte(e.olops(deployArgs...)), &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Instances) != 1 || d.Instances[0].Volume != VolumeName(model, 0) || !d.NewTokens {
		t.Fatalf("first deploy: %+v", d)
	}
	c := e.context(model)

	// Replay the data set: predict-then-learn over /v1/stream.
	out := e.olops("replay", data, "--target", "is_phishing", "-o", "json")
	var rep struct {
		Rows    int                `json:"rows"`
		Metrics map[string]float64 `json:"metrics"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("replay -o json: %v\n%s", err, out)
	}
	if rep.Rows != 1250 {
		t.Fatalf("replay streamed %d rows, want 1250", rep.Rows)
	}

	var m api.Metrics
	call(t, "GET", c.ManagementURL+"/v1/metrics", c.ManagementToken, nil, &m)
	if m.Counters.Learns != 1250 {
		t.Fatalf("the model learned %d events, want 1250", m.Counters.Learns)
	}
	if acc := m.Overall["accuracy"]; acc < 0.8 {
		t.Fatalf("logreg accuracy on phishing %.3f: want > 0.8 (River reaches ~0.89)", acc)
	}
	probe := api.PredictRequest{Instances: probes(t, data, "is_phishing", 20)}
	var before api.PredictBatch
	call(t, "POST", c.PublicURL+"/v1/predict", c.PublicToken, probe, &before)

	// docker kill, then olops deploy again: same config, same volume.
	if _, err := e.rt.Client().ContainerKill(ctx, d.Instances[0].ID, client.ContainerKillOptions{Signal: "KILL"}); err != nil {
		t.Fatal(err)
	}
	e.olops(deployArgs...)
	c = e.context(model)
	var m2 api.Metrics
	call(t, "GET", c.ManagementURL+"/v1/metrics", c.ManagementToken, nil, &m2)
	if m2.Counters.Learns != m.Counters.Learns {
		t.Errorf("learn count %d after kill and redeploy, want %d", m2.Counters.Learns, m.Counters.Learns)
	}
	var after api.PredictBatch
	call(t, "POST", c.PublicURL+"/v1/predict", c.PublicToken, probe, &after)
	if len(after.Predictions) != len(before.Predictions) {
		t.Fatalf("%d predictions after, %d before", len(after.Predictions), len(before.Predictions))
	}
	for i := range before.Predictions {
		b, a := before.Predictions[i], after.Predictions[i]
		if fmt.Sprint(a.Prediction) != fmt.Sprint(b.Prediction) || len(a.Proba) != len(b.Proba) {
			t.Errorf("probe %d: %v %v after, %v %v before", i, a.Prediction, a.Proba, b.Prediction, b.Proba)
			continue
		}
		for k, p := range b.Proba {
			if a.Proba[k] != p {
				t.Errorf("probe %d: P(%s) = %v after, %v before: not bit-identical", i, k, a.Proba[k], p)
			}
		}
	}

	// A changed config replaces the container and keeps the volume. The
	// change is a serving setting: a changed model definition would make
	// the server start a new version (keeping the old one to roll back to).
	changed := fmt.Sprintf(e2eConfig, model) + "  snapshots:\n    every: 500\n"
	if err := os.WriteFile(cfgFile, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	var d3 Deployment
	if err := json.Unmarshal([]byte(e.olops(deployArgs...)), &d3); err != nil {
		t.Fatal(err)
	}
	if d3.Replaced != 1 || d3.NewTokens || d3.Instances[0].ID == d.Instances[0].ID || d3.Instances[0].ConfigHash == d.Instances[0].ConfigHash {
		t.Errorf("redeploy of a changed config: %+v", d3)
	}
	// The same config again: nothing to do, the container keeps running.
	var d4 Deployment
	if err := json.Unmarshal([]byte(e.olops(deployArgs...)), &d4); err != nil {
		t.Fatal(err)
	}
	if d4.Unchanged != 1 || d4.Replaced != 0 || d4.Instances[0].ID != d3.Instances[0].ID {
		t.Errorf("redeploy of the same config replaced the container: %+v", d4)
	}
	c = e.context(model)
	var m3 api.Metrics
	call(t, "GET", c.ManagementURL+"/v1/metrics", c.ManagementToken, nil, &m3)
	if m3.Counters.Learns != m.Counters.Learns {
		t.Errorf("learn count %d after a config change, want %d (the volume keeps the state)", m3.Counters.Learns, m.Counters.Learns)
	}

	// ps lists exactly the containers olops started: not a container
	// made from the same image without the label.
	foreign, err := e.rt.Client().ContainerCreate(ctx, client.ContainerCreateOptions{Config: &container.Config{Image: e.image}, Name: "not-olops-" + randHex(4)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		e.rt.Client().ContainerRemove(context.Background(), foreign.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	})
	var listed []Instance
	if err := json.Unmarshal([]byte(e.olops("ps", "-o", "json")), &listed); err != nil {
		t.Fatal(err)
	}
	labelled, err := e.rt.Client().ContainerList(ctx, client.ContainerListOptions{All: true, Filters: client.Filters{}.Add("label", LabelModel)})
	if err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for _, in := range listed {
		got = append(got, in.ID)
	}
	for _, c := range labelled.Items {
		want = append(want, c.ID)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) || slices.Contains(got, foreign.ID) || !slices.Contains(got, d3.Instances[0].ID) {
		t.Errorf("ps -o json lists %v; the labelled containers are %v; ours %s; the foreign one %s", got, want, d3.Instances[0].ID, foreign.ID)
	}

	if logs := e.olops("logs", model); strings.TrimSpace(logs) == "" {
		t.Errorf("olops logs %s printed nothing", model)
	}

	// Bake: a second model whose config is inside a derived image.
	baked := model + "-baked"
	e.cleanupModel(baked)
	var db Deployment
	if err := json.Unmarshal([]byte(e.olops("deploy", "-f", cfgFile, "--name", baked, "--image", e.image, "--bake",
		"--public-port", "0", "--management-port", "0", "--wait", "60s", "-o", "json")), &db); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(db.Image, "olops-"+baked+":") {
		t.Errorf("baked deploy runs %s, want the derived olops-%s image", db.Image, baked)
	}
	e.olops("undeploy", baked)
	if ok, _ := e.rt.ImageExists(ctx, db.Image); ok {
		t.Errorf("undeploy left the baked image %s", db.Image)
	}

	// --mount-config: the host file bind-mounted read-only.
	mounted := model + "-mounted"
	e.cleanupModel(mounted)
	if err := os.Chmod(cfgFile, 0o644); err != nil {
		t.Fatal(err)
	}
	var dm Deployment
	if err := json.Unmarshal([]byte(e.olops("deploy", "-f", cfgFile, "--name", mounted, "--image", e.image, "--mount-config",
		"--public-port", "0", "--management-port", "0", "--wait", "60s", "-o", "json")), &dm); err != nil {
		t.Fatal(err)
	}
	ins, err := e.rt.Client().ContainerInspect(ctx, dm.Instances[0].ID, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bound := false
	for _, mp := range ins.Container.Mounts {
		bound = bound || mp.Destination == ConfigPath && mp.Source == cfgFile && !mp.RW
	}
	if !bound {
		t.Errorf("--mount-config did not bind %s read-only at %s: %+v", cfgFile, ConfigPath, ins.Container.Mounts)
	}
	e.olops("undeploy", mounted)

	// Undeploy removes the container and the volume.
	e.olops("undeploy", model)
	left, err := e.rt.List(ctx, model)
	if err != nil || len(left) != 0 {
		t.Errorf("after undeploy: %v, %v", left, err)
	}
	if _, err := e.rt.Client().VolumeInspect(ctx, VolumeName(model, 0), client.VolumeInspectOptions{}); !isNotFound(err) {
		t.Errorf("after undeploy the volume remains: %v", err)
	}
	if _, _, err := e.run("stop", model); err == nil {
		t.Errorf("stop of an undeployed model succeeded")
	}

	// What make bench reports: the image stays under the 20 MB
	// (a size, not a timing: safe to assert) and a cold start gets ready.
	res, err := e.rt.Bench(ctx, e.bin, 1)
	if err != nil {
		t.Fatal(err)
	}
	if res.ImageBytes <= 0 || res.ImageBytes > 20<<20 || len(res.StartToReady) != 1 {
		t.Errorf("bench: image %d bytes (want 0 < size <= 20 MiB), %d start times", res.ImageBytes, len(res.StartToReady))
	}
	if ok, _ := e.rt.ImageExists(ctx, res.Image); ok {
		t.Errorf("bench left its image %s", res.Image)
	}
}
