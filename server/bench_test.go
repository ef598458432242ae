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

func benchServer(b *testing.B, durability string) string {
	cfg := config.Default("logreg", "y", learn.Binary)
	cfg.Spec.Durability = durability
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
}
