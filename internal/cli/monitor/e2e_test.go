package monitor

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestMonitorEndToEnd runs the real binary: `olops serve` on loopback
// ports, `olops monitor` in a detached tmux session of 100×30 cells, and
// `olops replay` of a drifting synthetic stream into the server. It reads
// the screen: the chart moves, the drift is marked, a server restart shows
// as down and recovers, and q exits with code 0.
func TestMonitorEndToEnd(t *testing.T) {
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		t.Fatal("tmux is missing: this test runs olops monitor in a real terminal; install it with `make deps` (apt-get install tmux)")
	}
	bin := buildOlops(t)
	dir := t.TempDir()
	env := append(os.Environ(),
		"OLOPS_CONTEXT="+filepath.Join(dir, "contexts.json"),
		"OLOPS_MANAGEMENT_TOKEN=mgmt-secret",
		"NO_COLOR=1",
	)
	pub, mgmt := freeAddr(t), freeAddr(t)
	data := filepath.Join(dir, "data")
	stopServer := startServer(t, bin, env, data, pub, mgmt)
	defer func() { stopServer() }()

	// The monitor, in a terminal of its own.
	sock := filepath.Join(dir, "tmux.sock")
	tm := func(args ...string) (string, error) {
		out, err := exec.Command(tmux, append([]string{"-S", sock, "-f", "/dev/null"}, args...)...).CombinedOutput()
		return string(out), err
	}
	defer tm("kill-server")
	// The session read below runs with NO_COLOR; a second one, "col",
	// without it, to check that the colours follow that variable.
	monitor := fmt.Sprintf("%s monitor --url http://%s --token mgmt-secret", bin, mgmt)
	ctxEnv := "OLOPS_CONTEXT=" + filepath.Join(dir, "contexts.json")
	for _, s := range []struct{ name, env string }{{"mon", "env NO_COLOR=1 " + ctxEnv}, {"col", "env -u NO_COLOR " + ctxEnv}} {
		// The shell records the monitor's exit code: tmux's own pane status
		// can lag behind the pane's death on a loaded machine.
		code := filepath.Join(dir, s.name+".exit")
		cmd := fmt.Sprintf("%s %s; echo $? > %s", s.env, monitor, code)
		out, err := tm("new-session", "-d", "-s", s.name, "-x", "100", "-y", "30", cmd, ";", "set-option", "-t", s.name, "remain-on-exit", "on")
		if err != nil {
			t.Fatalf("tmux new-session: %v: %s", err, out)
		}
	}
	capture := func(session string, flags ...string) string {
		out, err := tm(append([]string{"capture-pane", "-p", "-t", session}, flags...)...)
		if err != nil {
			t.Fatalf("tmux capture-pane: %v: %s", err, out)
		}
		return out
	}
	screen := func() string { return capture("mon") }
	// waitScreen polls the screen (bounded) until ok, and returns it.
	waitScreen := func(what string, limit time.Duration, ok func(string) bool) string {
		t.Helper()
		var s string
		for end := time.Now().Add(limit); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
			if s = screen(); ok(s) {
				return s
			}
		}
		t.Fatalf("after %s the monitor shows no %s; the screen:\n%s", limit, what, s)
		return ""
	}
	header := func(s string) string { return strings.SplitN(s, "\n", 2)[0] }

	s := waitScreen("live connection", 20*time.Second, func(s string) bool {
		return strings.Contains(s, "live · events from") && strings.Contains(header(s), "learning")
	})
	if strings.ContainsAny(chartOf(s), "─╭╮╰╯") {
		t.Fatalf("the chart has a line before any data:\n%s", s)
	}
	// Colour: foreground SGR codes (30–37, 90–97, 38;…) only without NO_COLOR.
	colour := regexp.MustCompile(`\x1b\[([0-9;]*;)?(3[0-8]|9[0-7])[;m]`)
	if plain := capture("mon", "-e"); colour.MatchString(plain) {
		t.Fatalf("with NO_COLOR the monitor still draws colours: %q", colour.FindString(plain))
	}
	for end := time.Now().Add(20 * time.Second); !colour.MatchString(capture("col", "-e")); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("without NO_COLOR the monitor draws no colour; the screen with escapes:\n%q", capture("col", "-e"))
		}
	}
	if out, err := tm("kill-session", "-t", "col"); err != nil {
		t.Fatalf("tmux kill-session: %v: %s", err, out)
	}

	// Replay a stream with a concept drift in the middle.
	replay := exec.Command(bin, "replay", "--url", "http://"+pub, "--synth", "sea", "--rows", "20000",
		"--drift-at", "10000", "--drift-width", "200", "--seed", "1", "--rate", "2000")
	replay.Env = env
	replayOut := &syncBuf{}
	replay.Stdout, replay.Stderr = replayOut, replayOut
	if err := replay.Start(); err != nil {
		t.Fatal(err)
	}
	replayDone := make(chan error, 1)
	go func() { replayDone <- replay.Wait() }()

	// The chart moves while the replay runs: collect distinct charts.
	charts := map[string]bool{}
	var last string
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		last = screen()
		if c := chartOf(last); strings.ContainsAny(c, "─╭╮╰╯") {
			charts[c] = true
		}
		if len(charts) >= 3 && strings.Contains(axisOf(last), "▲") {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	if len(charts) < 3 {
		t.Fatalf("the chart did not move: %d distinct charts with a line in 60 s; last screen:\n%s", len(charts), last)
	}
	if !strings.Contains(axisOf(last), "▲") || !strings.Contains(last, "drift events (") || strings.Contains(last, "drift events (0)") {
		t.Fatalf("no drift marked on the chart after the replay; last screen:\n%s\nreplay:\n%s", last, replayOut.String())
	}
	select {
	case err := <-replayDone:
		if err != nil {
			t.Fatalf("olops replay: %v\n%s", err, replayOut.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("olops replay did not end in 60 s:\n%s", replayOut.String())
	}
	s = waitScreen("20,000 learned events", 10*time.Second, func(s string) bool { return strings.Contains(header(s), "20,000 learned") })
	t.Logf("the monitor after the replay:\n%s", s)
	if p := os.Getenv("OLOPS_MONITOR_SCREENSHOT"); p != "" {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// A challenger: its line shows while it runs, with the events it
	// learned, and goes when it is dropped.
	cli := func(args ...string) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("olops %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	cli("challenger", "start", "--url", "http://"+mgmt)
	waitScreen("challenger line", 20*time.Second, func(s string) bool {
		return strings.Contains(s, "challenger logreg · 0 events · waiting for learn events…")
	})
	cli("replay", "--url", "http://"+pub, "--synth", "sea", "--rows", "2000", "--variant", "1", "--seed", "2", "-q")
	s = waitScreen("challenger's 2,000 events", 20*time.Second, func(s string) bool {
		return regexp.MustCompile(`challenger logreg · 2,000 events · accuracy \d\.\d{4} vs champion \d\.\d{4} · (better by|worse by|even)`).MatchString(s)
	})
	t.Logf("the monitor with a challenger:\n%s", s)
	cli("challenger", "drop", "--url", "http://"+mgmt)
	waitScreen("no challenger line", 20*time.Second, func(s string) bool {
		return !strings.Contains(s, "challenger") && strings.Contains(header(s), "22,000 learned")
	})

	// A restart of the server: down, then back by itself.
	stopServer()
	waitScreen("lost connection", 20*time.Second, func(s string) bool {
		return strings.Contains(s, "connection lost") && strings.Contains(header(s), "down")
	})
	stopServer = startServer(t, bin, env, data, pub, mgmt)
	waitScreen("recovered connection", 30*time.Second, func(s string) bool {
		return strings.Contains(s, "reconnected 1×") && strings.Contains(header(s), "learning") && strings.Contains(header(s), "22,000 learned")
	})

	// q quits, and the process ends with code 0.
	if out, err := tm("send-keys", "-t", "mon", "q"); err != nil {
		t.Fatalf("tmux send-keys: %v: %s", err, out)
	}
	code := filepath.Join(dir, "mon.exit")
	var status string
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if b, err := os.ReadFile(code); err == nil && strings.HasSuffix(string(b), "\n") {
			status = strings.TrimSpace(string(b))
			break
		}
	}
	if status != "0" {
		t.Fatalf("after q the monitor's exit code is %q (want 0); screen:\n%s", status, screen())
	}
}

// chartOf is the chart's rows: from the title to the axis.
func chartOf(screen string) string {
	lines := strings.Split(screen, "\n")
	var out []string
	for _, l := range lines[min(3, len(lines)):] {
		if strings.Contains(l, "└") {
			break
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

func axisOf(screen string) string {
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, "└─") {
			return l
		}
	}
	return ""
}

// buildOlops builds the binary from the repository this test is in.
func buildOlops(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		t.Fatalf("cannot find the module root (go env GOMOD: %v)", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	bin := filepath.Join(t.TempDir(), "olops")
	build := exec.Command("go", "build", "-o", bin, "./cmd/olops")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/olops: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startServer starts `olops serve` and waits until its management API is
// ready; the returned func stops it (SIGTERM, then SIGKILL) and may be
// called more than once.
func startServer(t *testing.T, bin string, env []string, data, pub, mgmt string) func() {
	t.Helper()
	log := &syncBuf{}
	cmd := exec.Command(bin, "serve", "--model", "logreg", "--target", "y", "--data-dir", data,
		"--public-addr", pub, "--management-addr", mgmt)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	stop := func() {
		select {
		case <-done:
			return
		default:
		}
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+mgmt+"/readyz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return stop
			}
		}
		select {
		case <-done:
			t.Fatalf("olops serve exited before it was ready:\n%s", log.String())
		case <-ctx.Done():
			stop()
			t.Fatalf("olops serve was not ready in 30 s:\n%s", log.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// syncBuf is an output buffer a child process writes while the test reads.
type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
