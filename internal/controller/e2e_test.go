package controller

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mclient "github.com/moby/moby/client"
	"github.com/olops/olops/internal/api"
	"github.com/olops/olops/internal/client"
	"github.com/olops/olops/internal/runtime/docker"
)

// harness is a real Docker Engine, an olops image built from this
// checkout under a unique tag, a folder of configs and a context file.
// t.Cleanup removes every container, volume and image it made.
type harness struct {
	t      *testing.T
	rt     *docker.Runtime
	dir    string // the folder the controller reconciles
	ctx    string // the context file
	image  string
	prefix string // of every model name: unique per run
	c      *Controller
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rt, err := docker.New(ctx)
	if err != nil {
		t.Fatalf("the controller's end-to-end test needs a running Docker Engine: %v", err)
	}
	t.Cleanup(func() { rt.Close() })
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repository root not found at %s: %v", root, err)
	}
	tmp := t.TempDir()
	h := &harness{t: t, rt: rt, dir: filepath.Join(tmp, "models"), ctx: filepath.Join(tmp, "contexts.json"), prefix: "ctl" + randHex(3)}
	if err := os.Mkdir(h.dir, 0o755); err != nil {
		t.Fatal(err)
	}

	bin := filepath.Join(tmp, "olops")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, "./cmd/olops")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building olops: %v\n%s", err, out)
	}
	h.image = "olops-ctl-e2e:" + randHex(6)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if h.c != nil && h.c.image != "" {
			if err := rt.RemoveImage(ctx, h.c.image); err != nil {
				t.Errorf("cleanup: removing image %s: %v", h.c.image, err)
			}
		}
		if err := rt.RemoveImage(ctx, h.image); err != nil {
			t.Errorf("cleanup: removing image %s: %v", h.image, err)
		}
	})
	bctx, bcancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer bcancel()
	if err := rt.BuildImage(bctx, bin, h.image, docker.BuildArgs{Version: "ctl-e2e", Revision: "test"}, nil); err != nil {
		t.Fatal(err)
	}
	h.c = New(rt, Options{Dir: h.dir, Image: h.image, ContextPath: h.ctx, Wait: 30 * time.Second})
	return h
}

// model names a model of this run and removes all of it at the end.
func (h *harness) model(suffix string) string {
	name := h.prefix + "-" + suffix
	h.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cli := h.rt.Client()
		f := mclient.Filters{}.Add("label", docker.LabelModel+"="+name)
		if res, err := cli.ContainerList(ctx, mclient.ContainerListOptions{All: true, Filters: f}); err == nil {
			for _, c := range res.Items {
				cli.ContainerRemove(ctx, c.ID, mclient.ContainerRemoveOptions{Force: true})
			}
		}
		if res, err := cli.VolumeList(ctx, mclient.VolumeListOptions{Filters: f}); err == nil {
			for _, v := range res.Items {
				cli.VolumeRemove(ctx, v.Name, mclient.VolumeRemoveOptions{Force: true})
			}
		}
	})
	return name
}

func (h *harness) write(name, extra string) {
	h.t.Helper()
	writeFile(h.t, h.dir, name+".yaml", modelYAML(name, "logreg", extra))
}

// pass runs one pass and fails the test on any error.
func (h *harness) pass() *Report {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := h.c.Pass(ctx)
	if err != nil {
		h.t.Fatalf("pass: %v", err)
	}
	for _, r := range rep.Actions {
		if r.Error != "" {
			h.t.Fatalf("%s %s failed: %s", r.Kind, r.Model, r.Error)
		}
	}
	return rep
}

// kinds is the report's actions on this run's models, as "model:kind".
func (h *harness) kinds(rep *Report) map[string]Kind {
	out := map[string]Kind{}
	for _, r := range rep.Actions {
		if strings.HasPrefix(r.Model, h.prefix) {
			out[r.Model] = r.Kind
		}
	}
	return out
}

func (h *harness) instances(model string) []docker.Instance {
	h.t.Helper()
	insts, err := h.rt.List(context.Background(), model)
	if err != nil {
		h.t.Fatal(err)
	}
	return insts
}

func (h *harness) clients(model string) (public, mgmt *client.Client) {
	h.t.Helper()
	cs, err := client.LoadContexts(h.ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	c, ok := cs.Contexts[model]
	if !ok {
		h.t.Fatalf("the controller wrote no context for %s (file %s)", model, h.ctx)
	}
	return client.New(c.PublicURL, c.PublicToken), client.New(c.ManagementURL, c.ManagementToken)
}

func (h *harness) learns(model string) uint64 {
	h.t.Helper()
	_, m := h.clients(model)
	met, err := m.Metrics(context.Background())
	if err != nil {
		h.t.Fatalf("metrics of %s: %v", model, err)
	}
	return met.Counters.Learns
}

func TestControllerEndToEnd(t *testing.T) {
	h := newHarness(t)
	a, b, c, hand := h.model("a"), h.model("b"), h.model("c"), h.model("hand")
	ctx := context.Background()

	// A model deployed by hand, with no file: the controller must never
	// touch it.
	if _, err := h.rt.Deploy(ctx, docker.Spec{Name: hand, Config: []byte(modelYAML(hand, "logreg", "")), Image: h.image}); err != nil {
		t.Fatal(err)
	}
	handID := h.instances(hand)[0].ID

	// 1. Two files: two containers.
	h.write(a, "")
	h.write(b, "")
	h.write(c, "  policy:\n    onDrift: challenger\n    challenger:\n      minEvents: 300\n")
	rep := h.pass()
	if k := h.kinds(rep); k[a] != Create || k[b] != Create || k[c] != Create || k[hand] != "" {
		t.Fatalf("first pass: %v, want %s and %s created and %s not mentioned", k, a, b, hand)
	}
	for _, m := range []string{a, b} {
		insts := h.instances(m)
		if len(insts) != 1 || insts[0].State != "running" || insts[0].Labels[LabelManagedBy] != ManagedBy || insts[0].Labels[LabelController] != h.c.o.ID {
			t.Fatalf("%s: %+v, want one running container labelled %s=%s and %s=%s", m, insts, LabelManagedBy, ManagedBy, LabelController, h.c.o.ID)
		}
	}
	// Another controller, of another (empty) folder, takes nothing.
	other := New(h.rt, Options{Dir: t.TempDir(), Image: h.image})
	orep, err := other.Pass(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if k := h.kinds(orep); len(k) != 0 {
		t.Fatalf("a controller of another folder acted on this run's models: %v", k)
	}
	if k := h.kinds(h.pass()); k[a] != Unchanged || k[b] != Unchanged {
		t.Fatalf("second pass with nothing changed: %v", k)
	}

	// The challenger policy: a drift starts a challenger in shadow, a
	// later pass promotes it once it has learned 300 events and scores
	// better than the champion on them.
	cpub, cmgmt := h.clients(c)
	lines := bytes.SplitAfter(driftStream(1500), []byte("\n"))
	send := func(from, to int) {
		t.Helper()
		if err := cpub.Stream(ctx, bytes.NewReader(bytes.Join(lines[from:to], nil)), func(api.StreamResult) error { return nil }); err != nil {
			t.Fatalf("stream to %s: %v", c, err)
		}
	}
	send(0, 1700)
	rep = h.pass()
	var started bool
	for _, d := range rep.Drifts {
		started = started || d.Model == c && d.Action == "challenger" && d.Error == ""
	}
	if !started {
		t.Fatalf("after a drift on %s: drifts %+v, want a challenger started", c, rep.Drifts)
	}
	if _, err := cmgmt.Challenger(ctx); err != nil {
		t.Fatalf("no challenger on %s: %v", c, err)
	}
	before, err := cmgmt.Model(ctx)
	if err != nil {
		t.Fatal(err)
	}
	send(1700, 2000)
	rep = h.pass()
	if len(rep.Challengers) != 1 || rep.Challengers[0].Model != c || rep.Challengers[0].Action != "promote" || rep.Challengers[0].Error != "" {
		t.Fatalf("after 300 events in shadow: %+v, want %s's challenger promoted", rep.Challengers, c)
	}
	if after, err := cmgmt.Model(ctx); err != nil || after.Version <= before.Version {
		t.Fatalf("%s after promotion: %+v (%v), was version %d", c, after, err, before.Version)
	}

	// Teach a something, so there is state to carry over.
	pub, _ := h.clients(a)
	for i := 0; i < 40; i++ {
		label := "0"
		if i%2 == 1 {
			label = "1"
		}
		if _, err := pub.Learn(ctx, api.LearnRequest{Features: api.Features{"x": float64(i%2) + 0.1, "z": float64(i)}, Label: label}); err != nil {
			t.Fatalf("learn on %s: %v", a, err)
		}
	}
	if n := h.learns(a); n != 40 {
		t.Fatalf("%s learned %d events, want 40", a, n)
	}

	// 2. A changed file: the container is replaced, the volume stays. The
	// change is a serving setting: a changed model definition makes the
	// server start a new version (the old one kept to roll back to).
	oldID := h.instances(a)[0].ID
	h.write(a, "  snapshots:\n    every: 500\n")
	if k := h.kinds(h.pass()); k[a] != Update || k[b] != Unchanged {
		t.Fatalf("after editing %s: %v", a, k)
	}
	if id := h.instances(a)[0].ID; id == oldID {
		t.Fatal("the container was not replaced after its config changed")
	}
	if n := h.learns(a); n != 40 {
		t.Fatalf("after the update %s has %d learn events, want 40: the learned state did not carry over", a, n)
	}

	// 3. A deleted file: its container goes, its volume stays.
	if err := os.Remove(filepath.Join(h.dir, b+".yaml")); err != nil {
		t.Fatal(err)
	}
	if k := h.kinds(h.pass()); k[b] != Remove || k[a] != Unchanged {
		t.Fatalf("after deleting %s's file: %v", b, k)
	}
	if insts := h.instances(b); len(insts) != 0 {
		t.Fatalf("%s still has containers: %+v", b, insts)
	}
	if cs, err := client.LoadContexts(h.ctx); err != nil || cs.Contexts[b].Name != "" || cs.Contexts[a].Name != a || cs.Current != "" {
		t.Errorf("contexts after removing %s: %+v (%v): want only %s, none current", b, cs, err, a)
	}
	if _, err := h.rt.Client().VolumeInspect(ctx, docker.VolumeName(b, 0), mclient.VolumeInspectOptions{}); err != nil {
		t.Errorf("the volume of the removed model is gone (%v): learned state must be kept", err)
	}

	// 4. A killed container is restarted on the next pass.
	if _, err := h.rt.Client().ContainerKill(ctx, h.instances(a)[0].ID, mclient.ContainerKillOptions{Signal: "SIGKILL"}); err != nil {
		t.Fatal(err)
	}
	waitState(t, h, a, "exited")
	if k := h.kinds(h.pass()); k[a] != Restart {
		t.Fatalf("after killing %s: %v, want a restart", a, k)
	}
	if insts := h.instances(a); insts[0].State != "running" {
		t.Fatalf("%s is %s after the restart", a, insts[0].State)
	}
	// The restart may publish new ports: the context follows.
	if n := h.learns(a); n != 40 {
		t.Fatalf("after the restart %s has %d learn events, want 40", a, n)
	}

	// 5. A typo keeps the running model as it is.
	writeFile(t, h.dir, a+".yaml", modelYAML(a, "logregg", ""))
	rep = h.pass()
	if k := h.kinds(rep); k[a] != Hold {
		t.Fatalf("with a broken file: %v, want %s held", k, a)
	}
	if len(rep.Invalid) != 1 || !strings.Contains(rep.Invalid[0].Error, a+".yaml:9") {
		t.Fatalf("invalid = %+v, want the file:line of the typo", rep.Invalid)
	}
	if insts := h.instances(a); len(insts) != 1 || insts[0].State != "running" {
		t.Fatalf("%s after a typo: %+v, want it still running", a, insts)
	}

	// The hand-deployed model was never touched.
	if insts := h.instances(hand); len(insts) != 1 || insts[0].ID != handID || insts[0].State != "running" {
		t.Fatalf("the hand-deployed model changed: %+v", insts)
	}

	// The fleet status sees both, with metrics.
	st, err := Status(ctx, h.rt)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]ModelStatus{}
	for _, s := range st {
		seen[s.Model] = s
	}
	if s := seen[a]; !s.Managed || s.Learns != 40 || s.Error != "" || len(s.Rolling) == 0 {
		t.Errorf("status of %s: %+v", a, s)
	}
	if s := seen[hand]; s.Managed || s.State != "running" {
		t.Errorf("status of %s: %+v, want running and not managed", hand, s)
	}

	// Run stops on cancel, after its pass, and leaves the containers up.
	rctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := h.c.Run(rctx, time.Hour); err != nil {
		t.Fatalf("Run after cancel: %v", err)
	}
	if insts := h.instances(a); len(insts) != 1 || insts[0].State != "running" {
		t.Fatalf("%s after the controller stopped: %+v", a, insts)
	}
}

// waitState polls until the model's first container is in state, for at
// most 20 s.
func waitState(t *testing.T, h *harness, model, state string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		insts := h.instances(model)
		if len(insts) > 0 && insts[0].State == state {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not reach state %s: %+v", model, state, insts)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
