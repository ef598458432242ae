package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binPath is the olops binary built once for the integration tests.
var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "olops-server-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "olops")
	build := exec.Command("go", "build", "-o", binPath, "../cmd/olops")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build olops:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is one running `olops serve`.
type proc struct {
	t        *testing.T
	cmd      *exec.Cmd
	pub      string
	mgmt     string
	mu       sync.Mutex
	out      bytes.Buffer
	exited   chan struct{}
	pubTok   string
	mgmtTok  string
	dataDir  string
	ctxFile  string
	client   *http.Client
	stopOnce sync.Once
}

type serveOpts struct {
	args    []string // beyond the addresses and data dir
	env     []string
	dataDir string
	config  string // olops.yaml text; written to a file and passed with --config
	pubTok  string
	mgmtTok string
}

// start runs the binary on loopback port 0 and waits for its listening
// line. It is stopped (SIGTERM) when the test ends.
func start(t *testing.T, o serveOpts) *proc {
	t.Helper()
	if o.dataDir == "" {
		o.dataDir = t.TempDir()
	}
	args := []string{"serve", "--data-dir", o.dataDir, "--public-addr", "127.0.0.1:0", "--management-addr", "127.0.0.1:0", "--log-level", "debug"}
	if o.config != "" {
		p := filepath.Join(t.TempDir(), "olops.yaml")
		if err := os.WriteFile(p, []byte(o.config), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--config", p)
	}
	args = append(args, o.args...)
	ctxFile := filepath.Join(t.TempDir(), "contexts.json")
	cmd := exec.Command(binPath, args...)
	cmd.Env = append(os.Environ(), "OLOPS_CONTEXT="+ctxFile, "OLOPS_PUBLIC_TOKEN="+o.pubTok, "OLOPS_MANAGEMENT_TOKEN="+o.mgmtTok)
	cmd.Env = append(cmd.Env, o.env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	p := &proc{t: t, cmd: cmd, exited: make(chan struct{}), pubTok: o.pubTok, mgmtTok: o.mgmtTok, dataDir: o.dataDir, ctxFile: ctxFile}
	p.client = &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{
		MaxIdleConnsPerHost: 64, TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
	}}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan [2]string, 1)
	go func() {
		defer close(p.exited)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			p.mu.Lock()
			p.out.Write(line)
			p.out.WriteByte('\n')
			p.mu.Unlock()
			var l struct {
				Msg        string `json:"msg"`
				Public     string `json:"public"`
				Management string `json:"management"`
			}
			if json.Unmarshal(line, &l) == nil && l.Msg == "listening" {
				ready <- [2]string{l.Public, l.Management}
			}
		}
		_ = cmd.Wait()
	}()
	select {
	case u := <-ready:
		p.pub, p.mgmt = u[0], u[1]
	case <-p.exited:
		t.Fatalf("olops serve exited before listening:\n%s", p.output())
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("olops serve did not listen within 30s:\n%s", p.output())
	}
	t.Cleanup(p.stop)
	return p
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// stop sends SIGTERM and waits for a graceful exit.
func (p *proc) stop() {
	p.stopOnce.Do(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(15 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.exited
			p.t.Errorf("olops serve did not stop within 15s of SIGTERM")
		}
	})
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill() {
	p.stopOnce.Do(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
	})
}

type reply struct {
	status int
	body   []byte
	header http.Header
}

func (r reply) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("reply %d is not the expected JSON (%v): %s", r.status, err, r.body)
	}
}

// do sends a request; token "" sends none.
func (p *proc) do(t *testing.T, method, url, token, body string) reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := p.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v\nserver output:\n%s", method, url, err, p.output())
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read reply: %v", method, url, err)
	}
	return reply{status: resp.StatusCode, body: b, header: resp.Header}
}

func (p *proc) pubDo(t *testing.T, method, path, body string) reply {
	t.Helper()
	return p.do(t, method, p.pub+path, p.pubTok, body)
}

func (p *proc) mgmtDo(t *testing.T, method, path, body string) reply {
	t.Helper()
	return p.do(t, method, p.mgmt+path, p.mgmtTok, body)
}

func wantStatus(t *testing.T, r reply, want int, what string) {
	t.Helper()
	if r.status != want {
		t.Fatalf("%s: status %d, want %d: %s", what, r.status, want, r.body)
	}
}

type cliResult struct {
	code int
	out  string
}

// runCLI runs the olops binary to completion.
func runCLI(t *testing.T, args ...string) cliResult {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	cmd.Env = append(os.Environ(), "OLOPS_CONTEXT="+filepath.Join(t.TempDir(), "ctx.json"))
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run olops %v: %v", args, err)
	}
	return cliResult{code: code, out: string(out)}
}
