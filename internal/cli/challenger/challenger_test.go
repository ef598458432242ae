package challenger

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/olops/olops/internal/api"
	"github.com/olops/olops/internal/cli/clitest"
	"github.com/olops/olops/internal/client"
	"github.com/olops/olops/internal/config"
	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/server"
)

// startServer runs a real model server in this process.
func startServer(t *testing.T) (pub, mgmt string) {
	t.Helper()
	urls := make(chan [2]string, 1)
	srv, err := server.New(context.Background(), config.Default("logreg", "y", learn.Binary), server.Options{DataDir: t.TempDir(),
		PublicAddr: "127.0.0.1:0", ManagementAddr: "127.0.0.1:0", Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		OnListen: func(p, m string) { urls <- [2]string{p, m} }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	})
	u := <-urls
	return u[0], u[1]
}

func learnRows(t *testing.T, pub string, n int) {
	t.Helper()
	var body bytes.Buffer
	for i := range n {
		x := float64(i%10) / 10
		b, _ := json.Marshal(api.StreamLine{Features: api.Features{"x": x}, Label: fmt.Sprint(x > 0.45)})
		body.Write(append(b, '\n'))
	}
	if err := client.New(pub, "").Stream(context.Background(), &body, func(api.StreamResult) error { return nil }); err != nil {
		t.Fatal(err)
	}
}

func TestChallengerCommands(t *testing.T) {
	pub, mgmt := startServer(t)
	env := clitest.Env(t, "OLOPS_MANAGEMENT_URL", mgmt)

	r := clitest.Run(t, env, NewCmd, "status")
	if r.Code != 1 || !strings.Contains(r.Error.Error(), "no challenger is running") {
		t.Fatalf("status with none: exit %d, %v", r.Code, r.Error)
	}

	// A file that does not validate is refused before anything is sent.
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("apiVersion: olops.dev/v1\nkind: Model\nmetadata: {name: x}\nspec: {task: binary, target: y, window: -1}\n"), 0o644)
	r = clitest.Run(t, env, NewCmd, "start", "-f", bad)
	if r.Code != 1 || !strings.Contains(r.Error.Error(), "nothing was sent") {
		t.Fatalf("start with a bad file: exit %d, %v", r.Code, r.Error)
	}

	learnRows(t, pub, 40)
	r = clitest.Run(t, env, NewCmd, "start")
	if r.Code != 0 || !strings.Contains(r.Out, "challenger logreg started after learn event 40") {
		t.Fatalf("start: exit %d, %v, %q", r.Code, r.Error, r.Out)
	}
	learnRows(t, pub, 60)

	r = clitest.Run(t, env, NewCmd, "status", "-o", "json")
	var ch api.Challenger
	if r.Code != 0 || json.Unmarshal([]byte(r.Out), &ch) != nil {
		t.Fatalf("status -o json: exit %d, %v, %q", r.Code, r.Error, r.Out)
	}
	if ch.Learns != 60 || ch.StartSeq != 40 || ch.Metric != "accuracy" || len(ch.Challenger) == 0 || len(ch.Champion) == 0 {
		t.Fatalf("status: %+v", ch)
	}
	r = clitest.Run(t, env, NewCmd, "status")
	for _, want := range []string{"events since", "60", "accuracy", "challenger", "champion"} {
		if !strings.Contains(strings.ToLower(r.Out), want) {
			t.Errorf("status table lacks %q:\n%s", want, r.Out)
		}
	}

	r = clitest.Run(t, env, NewCmd, "promote")
	if r.Code != 0 || !strings.Contains(r.Out, "challenger promoted") {
		t.Fatalf("promote: exit %d, %v, %q", r.Code, r.Error, r.Out)
	}
	if r = clitest.Run(t, env, NewCmd, "drop"); r.Code != 1 {
		t.Fatalf("drop with none: exit %d", r.Code)
	}
	if r = clitest.Run(t, env, NewCmd, "start"); r.Code != 0 {
		t.Fatalf("start again: exit %d %v", r.Code, r.Error)
	}
	if r = clitest.Run(t, env, NewCmd, "drop"); r.Code != 0 || !strings.Contains(r.Err, "challenger dropped") {
		t.Fatalf("drop: exit %d %v %q", r.Code, r.Error, r.Err)
	}
}
