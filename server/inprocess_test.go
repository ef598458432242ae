package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/olops/olops/internal/config"
	"github.com/olops/olops/internal/learn"
)

// TestInProcessConcurrency runs the server in this process (so that
// `go test -race` sees it) under concurrent predictions, learns, streams,
// late labels, management changes and an SSE watcher, then shuts it down
// gracefully and checks that the counts add up after a restart.
func TestInProcessConcurrency(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Default("logreg", "y", learn.Binary)
	cfg.Spec.Snapshots.Every = 50
	urls := make(chan [2]string, 1)
	newServer := func() (*Server, context.CancelFunc, chan error) {
		srv, err := New(context.Background(), cfg, Options{DataDir: dir, PublicAddr: "127.0.0.1:0", ManagementAddr: "127.0.0.1:0",
			Logger: slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelDebug})), ManagementToken: "m",
			OnListen: func(p, m string) { urls <- [2]string{p, m} }})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- srv.Run(ctx) }()
		return srv, cancel, done
	}
	_, cancel, done := newServer()
	u := <-urls
	pub, mgmt := u[0], u[1]
	post := func(url, token, body string) (int, string) {
		req, _ := http.NewRequest("POST", url, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return 0, ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	sseCtx, sseStop := context.WithCancel(context.Background())
	go func() {
		req, _ := http.NewRequestWithContext(sseCtx, "GET", mgmt+"/v1/events", nil)
		req.Header.Set("Authorization", "Bearer m")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	var wg sync.WaitGroup
	var mu sync.Mutex
	learned := 0
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 60 {
				if st, _ := post(pub+"/v1/learn", "", fmt.Sprintf(`{"features":{"a":%d,"c":"k%d"},"label":%d}`, i, w, i%2)); st == 202 {
					mu.Lock()
					learned++
					mu.Unlock()
				}
				id := fmt.Sprintf("w%d-%d", w, i)
				post(pub+"/v1/predict", "", fmt.Sprintf(`{"id":%q,"features":{"a":%d}}`, id, i))
				if i%10 == 0 {
					if st, _ := post(pub+"/v1/learn", "", fmt.Sprintf(`{"id":%q,"label":1}`, id)); st == 202 {
						mu.Lock()
						learned++
						mu.Unlock()
					}
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		var body strings.Builder
		for i := range 100 {
			fmt.Fprintf(&body, `{"features":{"a":%d,"b":%d},"label":%d}`+"\n", i, -i, i%2)
		}
		resp, err := http.Post(pub+"/v1/stream", "application/x-ndjson", strings.NewReader(body.String()))
		if err != nil {
			t.Error(err)
			return
		}
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if strings.Contains(sc.Text(), `"seq"`) {
				mu.Lock()
				learned++
				mu.Unlock()
			}
		}
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 5 {
			post(mgmt+"/v1/versions", "m", fmt.Sprintf(`{"note":"n%d"}`, i))
			post(mgmt+"/v1/learning/pause", "m", "")
			post(mgmt+"/v1/learning/resume", "m", "")
			req, _ := http.NewRequest("PATCH", mgmt+"/v1/model", strings.NewReader(`{"params":{"lr":0.02}}`))
			req.Header.Set("Authorization", "Bearer m")
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
			for _, path := range []string{"/v1/metrics", "/v1/model", "/v1/drift", "/v1/versions", "/metrics"} {
				req, _ := http.NewRequest("GET", mgmt+path, nil)
				req.Header.Set("Authorization", "Bearer m")
				if resp, err := http.DefaultClient.Do(req); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	wg.Wait()
	sseStop()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}

	// Restart: every acknowledged learn is there.
	srv, cancel, done := newServer()
	<-urls
	srv.mu.Lock()
	got := srv.m.learns
	srv.mu.Unlock()
	cancel()
	<-done
	if got != uint64(learned) {
		t.Fatalf("%d learns after restart, %d acknowledged", got, learned)
	}
}
