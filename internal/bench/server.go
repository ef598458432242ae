package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/olops/olops/internal/config"
	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/server"
)

// Server benchmark settings: loopback, HTTP/1.1 keep-alive, clients in
// this process (so client and server share the machine, for olops and the
// baseline alike).
const (
	benchClients   = 16
	benchFewClient = 4 // a fixed, modest concurrency: the clients leave the server a core
	benchLearners  = 64
	benchDuration  = 3 * time.Second
	benchWarmup    = 300 * time.Millisecond
	benchStreamN   = 200_000
	benchPredictJS = `{"features":{"nswprice":0.056,"nswdemand":0.44,"vicprice":0.003,"vicdemand":0.42,"transfer":0.41,"day":"3"}}`
)

type loadResult struct {
	n        int
	rate     float64
	p50, p99 time.Duration
}

// hammer sends body to url from clients goroutines for d (after a warmup)
// and measures requests per second and latency quantiles.
func hammer(ctx context.Context, url string, body func(i int) []byte, clients int, d time.Duration, want int) (loadResult, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients, DisableCompression: true}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var measuring atomic.Bool
	var failed atomic.Value
	stop := make(chan struct{})
	lats := make([][]time.Duration, clients)
	var seq atomic.Int64
	var wg sync.WaitGroup
	for g := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				b := body(int(seq.Add(1)))
				t0 := time.Now()
				resp, err := c.Post(url, "application/json", bytes.NewReader(b))
				if err != nil {
					failed.Store(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != want {
					failed.Store(fmt.Errorf("POST %s: status %d, want %d", url, resp.StatusCode, want))
					return
				}
				if measuring.Load() {
					lats[g] = append(lats[g], time.Since(t0))
				}
			}
		}()
	}
	select {
	case <-time.After(benchWarmup):
	case <-ctx.Done():
	}
	measuring.Store(true)
	t0 := time.Now()
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
	measuring.Store(false)
	elapsed := time.Since(t0)
	close(stop)
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		return loadResult{}, err
	}
	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	if len(all) == 0 {
		return loadResult{}, errors.New("no request completed")
	}
	slices.Sort(all)
	return loadResult{
		n:    len(all),
		rate: float64(len(all)) / elapsed.Seconds(),
		p50:  all[len(all)/2],
		p99:  all[min(len(all)-1, len(all)*99/100)],
	}, nil
}

// interleaved measures baseline and olops in alternating rounds (the
// machine is shared: alternating keeps both under the same load) and
// keeps each one's best round.
func interleaved(ctx context.Context, baseURL, olopsURL string, body func(int) []byte, clients int, want int) (b, o loadResult, err error) {
	const rounds = 3
	for range rounds {
		rb, err := hammer(ctx, baseURL, body, clients, benchDuration/rounds, want)
		if err != nil {
			return b, o, fmt.Errorf("baseline: %w", err)
		}
		ro, err := hammer(ctx, olopsURL, body, clients, benchDuration/rounds, want)
		if err != nil {
			return b, o, err
		}
		if rb.rate > b.rate {
			b = rb
		}
		if ro.rate > o.rate {
			o = ro
		}
	}
	return b, o, nil
}

// baseline serves an empty Go handler that reads the body and answers a
// fixed JSON object with status.
func baseline(status int) (string, func(), error) {
	reply := []byte(`{"ok":true}` + "\n")
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(reply)
	})
	return serveLoopback(h)
}

// echoBaseline is the empty NDJSON echo: one small line back per line in.
func echoBaseline() (string, func(), error) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = http.NewResponseController(w).EnableFullDuplex()
		w.Header().Set("Content-Type", "application/x-ndjson")
		br := bufio.NewReaderSize(r.Body, 64<<10)
		bw := bufio.NewWriterSize(w, 64<<10)
		n := 0
		var buf []byte
		for {
			line, err := br.ReadSlice('\n')
			if len(line) > 0 {
				n++
				buf = fmt.Appendf(buf[:0], `{"line":%d}`+"\n", n)
				_, _ = bw.Write(buf)
			}
			if err != nil {
				break
			}
		}
		_ = bw.Flush()
	})
	return serveLoopback(h)
}

func serveLoopback(h http.Handler) (string, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(l) }()
	return "http://" + l.Addr().String(), func() { _ = srv.Close() }, nil
}

// startOlops runs an in-process olops server on loopback with a fresh
// data directory.
func startOlops(ctx context.Context, durability string) (pub string, stop func(), err error) {
	dir, err := os.MkdirTemp("", "olops-bench")
	if err != nil {
		return "", nil, err
	}
	cfg := config.Default("logreg", "class", learn.Binary)
	cfg.Spec.Durability = durability
	urls := make(chan string, 1)
	srv, err := server.New(ctx, cfg, server.Options{
		DataDir: dir, PublicAddr: "127.0.0.1:0", ManagementAddr: "127.0.0.1:0",
		Logger:   slog.New(slog.NewJSONHandler(io.Discard, nil)),
		OnListen: func(p, _ string) { urls <- p },
	})
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Run(sctx) }()
	select {
	case pub = <-urls:
	case err := <-done:
		cancel()
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("server stopped: %v", err)
	}
	return pub, func() {
		cancel()
		<-done
		os.RemoveAll(dir)
	}, nil
}

func learnBody(i int) []byte {
	return fmt.Appendf(nil, `{"features":{"nswprice":%g,"nswdemand":%g,"vicprice":0.003,"day":"%d"},"label":"%s"}`,
		float64(i%997)/997, float64(i%101)/101, i%7, []string{"1", "0"}[i%2])
}

func streamBody(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, `{"features":{"nswprice":%g,"nswdemand":%g,"vicprice":0.003,"day":"%d"},"label":"%s"}`+"\n",
			float64(i%997)/997, float64(i%101)/101, i%7, []string{"1", "0"}[i%2])
	}
	return b.Bytes()
}

// streamOnce posts body to url as NDJSON and counts the result lines.
func streamOnce(url string, body []byte) (int, time.Duration, error) {
	t0 := time.Now()
	resp, err := http.Post(url, "application/x-ndjson", bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return 0, 0, fmt.Errorf("status %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	n := 0
	for sc.Scan() {
		if n == 0 && strings.Contains(sc.Text(), `"error"`) {
			return 0, 0, fmt.Errorf("stream line failed: %s", sc.Text())
		}
		n++
	}
	return n, time.Since(t0), sc.Err()
}

func bestStream(url string, body []byte, want int) (float64, error) {
	best := 0.0
	for range 3 {
		n, d, err := streamOnce(url, body)
		if err != nil {
			return 0, err
		}
		if n != want {
			return 0, fmt.Errorf("%d result lines for %d lines", n, want)
		}
		best = max(best, float64(n)/d.Seconds())
	}
	return best, nil
}

// bestAcked posts body to a fresh server's /v1/stream and counts the
// result lines acknowledged with consecutive seqs (each learned and
// committed); the best of 3 posts.
func bestAcked(url string, body []byte, want int) (float64, error) {
	best := 0.0
	next := uint64(1)
	for range 3 {
		t0 := time.Now()
		resp, err := http.Post(url, "application/x-ndjson", bytes.NewReader(body))
		if err != nil {
			return 0, err
		}
		sc := bufio.NewScanner(resp.Body)
		n := 0
		for sc.Scan() {
			line := sc.Bytes()
			i := bytes.Index(line, []byte(`"seq":`))
			if i < 0 {
				resp.Body.Close()
				return 0, fmt.Errorf("result line %d has no seq: %s", n+1, line)
			}
			var seq uint64
			for _, c := range line[i+len(`"seq":`):] {
				if c < '0' || c > '9' {
					break
				}
				seq = seq*10 + uint64(c-'0')
			}
			if seq != next {
				resp.Body.Close()
				return 0, fmt.Errorf("result line %d: seq %d, want %d", n+1, seq, next)
			}
			next++
			n++
		}
		resp.Body.Close()
		if err := sc.Err(); err != nil {
			return 0, err
		}
		if n != want {
			return 0, fmt.Errorf("%d acknowledged lines for %d lines", n, want)
		}
		best = max(best, float64(n)/time.Since(t0).Seconds())
	}
	return best, nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d.Microseconds())/1000) }

// serverSection measures the model server against empty Go handlers.
func serverSection(ctx context.Context, w io.Writer) error {
	t := tablewriter.NewTable(w,
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignRight),
		tablewriter.WithHeaderAutoFormat(tw.Off),
	)
	t.Header([]string{"what", "olops", "baseline", "ratio", "olops p50/p99 ms", "baseline p50/p99 ms", "target"})
	var rows [][]string

	// Predictions over keep-alive, concurrent clients.
	base, stopBase, err := baseline(http.StatusOK)
	if err != nil {
		return err
	}
	pub, stop, err := startOlops(ctx, "batch")
	if err != nil {
		stopBase()
		return err
	}
	// Train a little first so that predictions do real work.
	if _, _, err := streamOnce(pub+"/v1/stream", streamBody(2000)); err != nil {
		stopBase()
		stop()
		return err
	}
	predict := func(int) []byte { return []byte(benchPredictJS) }
	for _, clients := range []int{benchFewClient, benchClients} {
		b, o, err := interleaved(ctx, base+"/", pub+"/v1/predict", predict, clients, 200)
		if err != nil {
			stopBase()
			stop()
			return fmt.Errorf("predict: %w", err)
		}
		rows = append(rows, []string{fmt.Sprintf("predictions/s (%d clients)", clients), fmt.Sprintf("%.0f", o.rate), fmt.Sprintf("%.0f", b.rate),
			fmt.Sprintf("%.0f%%", 100*o.rate/b.rate), ms(o.p50) + " / " + ms(o.p99), ms(b.p50) + " / " + ms(b.p99), "≥80%, p99 ≤ 2 ms"})
	}
	stopBase()

	// NDJSON stream: predict, score, learn (batch durability).
	body := streamBody(benchStreamN)
	echo, stopEcho, err := echoBaseline()
	if err != nil {
		stop()
		return err
	}
	eb, err := bestStream(echo, body, benchStreamN)
	stopEcho()
	if err != nil {
		stop()
		return fmt.Errorf("echo: %w", err)
	}
	streamRate, err := bestStream(pub+"/v1/stream", body, benchStreamN)
	stop()
	if err != nil {
		return fmt.Errorf("stream: %w", err)
	}
	rows = append(rows, []string{fmt.Sprintf("stream events/s (logreg, %d lines, batch)", benchStreamN), fmt.Sprintf("%.0f", streamRate), fmt.Sprintf("%.0f", eb),
		fmt.Sprintf("%.0f%%", 100*streamRate/eb), "-", "-", "≥ 500,000/s"})

	// Durable learns through /v1/stream: every line is labelled and its
	// result line carries its seq only once its group commit is done.
	for _, mode := range []string{"batch", "fsync"} {
		pub, stop, err := startOlops(ctx, mode)
		if err != nil {
			return err
		}
		rate, err := bestAcked(pub+"/v1/stream", body, benchStreamN)
		stop()
		if err != nil {
			return fmt.Errorf("stream learns (%s): %w", mode, err)
		}
		tgt := "-"
		if mode == "batch" {
			tgt = "≥ 100,000/s"
		}
		rows = append(rows, []string{fmt.Sprintf("durable learns/s via /v1/stream (%s, 1 client)", mode), fmt.Sprintf("%.0f", rate), fmt.Sprintf("%.0f", eb),
			fmt.Sprintf("%.0f%%", 100*rate/eb), "-", "-", tgt})
	}

	// Durable learns: one event per request, acknowledged after commit.
	base, stopBase, err = baseline(http.StatusAccepted)
	if err != nil {
		return err
	}
	defer stopBase()
	for _, mode := range []string{"batch", "fsync"} {
		pub, stop, err := startOlops(ctx, mode)
		if err != nil {
			return err
		}
		lb, l, err := interleaved(ctx, base+"/", pub+"/v1/learn", learnBody, benchLearners, 202)
		stop()
		if err != nil {
			return fmt.Errorf("learn (%s): %w", mode, err)
		}
		tgt := "-"
		if mode == "batch" {
			tgt = "≥ 100,000/s"
		}
		rows = append(rows, []string{fmt.Sprintf("durable learns/s (%s, %d clients)", mode, benchLearners), fmt.Sprintf("%.0f", l.rate), fmt.Sprintf("%.0f", lb.rate),
			fmt.Sprintf("%.0f%%", 100*l.rate/lb.rate), ms(l.p50) + " / " + ms(l.p99), ms(lb.p50) + " / " + ms(lb.p99), tgt})
	}
	if err := t.Bulk(rows); err != nil {
		return err
	}
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintln(w, "Loopback HTTP/1.1 keep-alive, clients in the same process; baseline: an empty Go handler (an NDJSON echo for the stream rows) in the same run, alternating rounds, best round of each; stream: best of 3 posts. The clients run on the same 2 cores as the server: with 16 they compete with it for CPU, hence the 4-client row.")
	return nil
}
