package server

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"testing"

	"github.com/olops/olops/internal/config"
	"github.com/olops/olops/internal/learn"
)

// benchServer starts a logreg server; durability "" keeps the default.
func benchServer(b *testing.B, durability string) string {
	cfg := config.Default("logreg", "y", learn.Binary)
	if durability != "" {
		cfg.Spec.Durability = durability
	}
	urls := make(chan string, 1)
	srv, err := New(context.Background(), cfg, Options{DataDir: b.TempDir(), PublicAddr: "127.0.0.1:0", ManagementAddr: "127.0.0.1:0",
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), OnListen: func(p, _ string) { urls <- p }})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = srv.Run(ctx); close(done) }()
	b.Cleanup(func() { cancel(); <-done })
	return <-urls
}

// BenchmarkStream is one NDJSON line through /v1/stream (predict, score,
// learn, batch durability) per op.
func BenchmarkStream(b *testing.B) {
	pub := benchServer(b, os.Getenv("DUR"))
	var body bytes.Buffer
	for i := range b.N {
		fmt.Fprintf(&body, `{"features":{"nswprice":%g,"nswdemand":%g,"vicprice":0.003,"day":"%d"},"label":"%d"}`+"\n", float64(i%997)/997, float64(i%101)/101, i%7, i%2)
	}
	cpu0 := processCPU()
	b.ResetTimer()
	resp, err := http.Post(pub+"/v1/stream", "application/x-ndjson", &body)
	if err != nil {
		b.Fatal(err)
	}
	sc := bufio.NewScanner(resp.Body)
	n := 0
	for sc.Scan() {
		n++
	}
	resp.Body.Close()
	if n != b.N {
		b.Fatalf("%d results for %d lines", n, b.N)
	}
	// CPU time (server and this client) per line: on a shared machine it
	// varies less than the wall time.
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkPredictHandler is the public handler's CPU cost per prediction
// (no network).
func BenchmarkPredictHandler(b *testing.B) {
	cfg := config.Default("logreg", "y", learn.Binary)
	srv, err := New(context.Background(), cfg, Options{DataDir: b.TempDir(), Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	h := srv.PublicHandler()
	body := []byte(`{"features":{"nswprice":0.056,"nswdemand":0.44,"vicprice":0.003,"vicdemand":0.42,"transfer":0.41,"day":"3"}}`)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := &nullWriter{h: http.Header{}}
		for pb.Next() {
			req, _ := http.NewRequest("POST", "/v1/predict", bytes.NewReader(body))
			w.code = 0
			h.ServeHTTP(w, req)
			if w.code != 0 && w.code != 200 {
				b.Fatal(w.code)
			}
		}
	})
}

type nullWriter struct {
	h    http.Header
	code int
}

func (w *nullWriter) Header() http.Header         { return w.h }
func (w *nullWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nullWriter) WriteHeader(c int)           { w.code = c }
