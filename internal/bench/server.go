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
	"os/exec"
	"slices"
	"strconv"
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

// Server benchmark settings. The servers under test (olops and the empty
// Go handlers it is compared with) run as child processes, as they would
// in a deployment; the load generator in this process keeps one request
// in flight per keep-alive connection, with pre-encoded requests over raw
// TCP, so that it costs the shared 2 cores little and allocates nothing
// while it measures.
const (
	benchClients   = 16
	benchFewClient = 4 // a fixed, modest concurrency: the clients leave the server a core
	benchLearners  = 64
	benchDuration  = 3 * time.Second
	benchWarmup    = 200 * time.Millisecond
	benchStreamN   = 200_000
	benchPredictJS = `{"features":{"nswprice":0.056,"nswdemand":0.44,"vicprice":0.003,"vicdemand":0.42,"transfer":0.41,"day":"3"}}`
	// benchChildEnv makes this binary a server under test (see runChild).
	benchChildEnv = "OLOPS_BENCH_CHILD"
)

type loadResult struct {
	n        int
	rate     float64
	p50, p99 time.Duration
}

// requests pre-encodes n HTTP/1.1 POSTs of body(i) to path.
func requests(host, path string, body func(i int) []byte, n int) [][]byte {
	reqs := make([][]byte, n)
	for i := range reqs {
		b := body(i)
		reqs[i] = fmt.Appendf(nil, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", path, host, len(b), b)
	}
	return reqs
}

// roundTrip writes req on c and reads the response by its Content-Length;
// it returns the status.
func roundTrip(c net.Conn, br *bufio.Reader, req []byte) (int, error) {
	if _, err := c.Write(req); err != nil {
		return 0, err
	}
	status, length := 0, -1
	for first := true; ; first = false {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		if first {
			// HTTP/1.1 200 OK
			if len(line) < 12 {
				return 0, fmt.Errorf("bad status line %q", line)
			}
			status = int(line[9]-'0')*100 + int(line[10]-'0')*10 + int(line[11]-'0')
			continue
		}
		if k, v, ok := bytes.Cut(line, []byte(":")); ok && bytes.EqualFold(k, []byte("Content-Length")) {
			length = 0
			for _, c := range bytes.TrimSpace(v) {
				length = length*10 + int(c-'0')
			}
		}
	}
	if length < 0 {
		return 0, errors.New("a response without Content-Length")
	}
	if _, err := br.Discard(length); err != nil {
		return 0, err
	}
	return status, nil
}

// hammer sends reqs (in turn) to addr over clients keep-alive connections
// for d (after a warmup) and measures requests per second and latency
// quantiles.
func hammer(ctx context.Context, addr string, reqs [][]byte, clients int, d time.Duration, want int) (loadResult, error) {
	var measuring atomic.Bool
	var failed atomic.Value
	stop := make(chan struct{})
	lats := make([][]time.Duration, clients)
	var wg sync.WaitGroup
	for g := range clients {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			close(stop)
			wg.Wait()
			return loadResult{}, err
		}
		lats[g] = make([]time.Duration, 0, 1<<16)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			br := bufio.NewReaderSize(c, 16<<10)
			for i := g; ; i += clients {
				select {
				case <-stop:
					return
				default:
				}
				t0 := time.Now()
				status, err := roundTrip(c, br, reqs[i%len(reqs)])
				if err != nil {
					failed.Store(err)
					return
				}
				if status != want {
					failed.Store(fmt.Errorf("status %d, want %d", status, want))
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
func interleaved(ctx context.Context, base, olops *child, path string, body func(int) []byte, clients int, want int) (b, o loadResult, err error) {
	const rounds = 6
	baseReqs := requests(base.host, "/", body, 1024)
	olopsReqs := requests(olops.host, path, body, 1024)
	for range rounds {
		rb, err := hammer(ctx, base.host, baseReqs, clients, benchDuration/rounds, want)
		if err != nil {
			return b, o, fmt.Errorf("baseline: %w", err)
		}
		ro, err := hammer(ctx, olops.host, olopsReqs, clients, benchDuration/rounds, want)
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

// child is a server under test running as a child process of this one.
type child struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	host string // 127.0.0.1:port
	url  string // http://host
}

// startChild runs this binary as the server named by mode (see runChild)
// and waits for its address.
func startChild(ctx context.Context, mode string) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), benchChildEnv+"="+mode)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		in.Close()
		_ = cmd.Wait()
		return nil, fmt.Errorf("server %s did not start: %v", mode, err)
	}
	host := strings.TrimSpace(line)
	return &child{cmd: cmd, in: in, host: host, url: "http://" + host}, nil
}

// stop closes the child's stdin (it shuts down gracefully) and waits.
func (c *child) stop() {
	c.in.Close()
	_ = c.cmd.Wait()
}

// runChild serves, when this process was started by startChild, the mode
// it names: "olops:DURABILITY", "empty:STATUS" or "echo". It prints the
// address, serves until stdin closes and reports whether it ran.
func runChild() bool {
	mode, ok := os.LookupEnv(benchChildEnv)
	if !ok {
		return false
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		// The parent closes stdin to stop us (or it died).
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	if err := serveChild(ctx, mode); err != nil {
		fmt.Fprintf(os.Stderr, "bench server %s: %v\n", mode, err)
		os.Exit(1)
	}
	return true
}

func serveChild(ctx context.Context, mode string) error {
	kind, arg, _ := strings.Cut(mode, ":")
	switch kind {
	case "olops":
		return serveOlops(ctx, arg)
	case "empty":
		status, err := strconv.Atoi(arg)
		if err != nil {
			return err
		}
		return serveHandler(ctx, emptyHandler(status))
	case "echo":
		return serveHandler(ctx, echoHandler())
	}
	return fmt.Errorf("unknown mode %q", mode)
}

// emptyHandler reads the body and answers a fixed JSON object with status.
func emptyHandler(status int) http.Handler {
	reply := []byte(`{"ok":true}` + "\n")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(reply)
	})
}

// echoHandler is the empty NDJSON echo: one small line back per line in.
func echoHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
}

func serveHandler(ctx context.Context, h http.Handler) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	fmt.Println(l.Addr().String())
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// serveOlops runs an olops server on loopback with a fresh data directory.
func serveOlops(ctx context.Context, durability string) error {
	dir, err := os.MkdirTemp("", "olops-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg := config.Default("logreg", "class", learn.Binary)
	cfg.Spec.Durability = durability
	srv, err := server.New(ctx, cfg, server.Options{
		DataDir: dir, PublicAddr: "127.0.0.1:0", ManagementAddr: "127.0.0.1:0",
		Logger:   slog.New(slog.NewJSONHandler(io.Discard, nil)),
		OnListen: func(p, _ string) { fmt.Println(strings.TrimPrefix(p, "http://")) },
	})
	if err != nil {
		return err
	}
	return srv.Run(ctx)
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
	base, err := startChild(ctx, "empty:200")
	if err != nil {
		return err
	}
	olops, err := startChild(ctx, "olops:batch")
	if err != nil {
		base.stop()
		return err
	}
	// Train a little first so that predictions do real work.
	if _, _, err := streamOnce(olops.url+"/v1/stream", streamBody(2000)); err != nil {
		base.stop()
		olops.stop()
		return err
	}
	predict := func(int) []byte { return []byte(benchPredictJS) }
	for _, clients := range []int{benchFewClient, benchClients} {
		b, o, err := interleaved(ctx, base, olops, "/v1/predict", predict, clients, 200)
		if err != nil {
			base.stop()
			olops.stop()
			return fmt.Errorf("predict: %w", err)
		}
		rows = append(rows, []string{fmt.Sprintf("predictions/s (%d clients)", clients), fmt.Sprintf("%.0f", o.rate), fmt.Sprintf("%.0f", b.rate),
			fmt.Sprintf("%.0f%%", 100*o.rate/b.rate), ms(o.p50) + " / " + ms(o.p99), ms(b.p50) + " / " + ms(b.p99), "≥80%, p99 ≤ 2 ms"})
	}
	base.stop()

	// NDJSON stream: predict, score, learn (batch durability).
	body := streamBody(benchStreamN)
	echo, err := startChild(ctx, "echo")
	if err != nil {
		olops.stop()
		return err
	}
	eb, err := bestStream(echo.url, body, benchStreamN)
	echo.stop()
	if err != nil {
		olops.stop()
		return fmt.Errorf("echo: %w", err)
	}
	streamRate, err := bestStream(olops.url+"/v1/stream", body, benchStreamN)
	olops.stop()
	if err != nil {
		return fmt.Errorf("stream: %w", err)
	}
	rows = append(rows, []string{fmt.Sprintf("stream events/s (logreg, %d lines, batch)", benchStreamN), fmt.Sprintf("%.0f", streamRate), fmt.Sprintf("%.0f", eb),
		fmt.Sprintf("%.0f%%", 100*streamRate/eb), "-", "-", "≥ 500,000/s"})

	// Durable learns through /v1/stream: every line is labelled and its
	// result line carries its seq only once its group commit is done.
	for _, mode := range []string{"batch", "fsync"} {
		olops, err := startChild(ctx, "olops:"+mode)
		if err != nil {
			return err
		}
		rate, err := bestAcked(olops.url+"/v1/stream", body, benchStreamN)
		olops.stop()
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
	base, err = startChild(ctx, "empty:202")
	if err != nil {
		return err
	}
	defer base.stop()
	for _, mode := range []string{"batch", "fsync"} {
		olops, err := startChild(ctx, "olops:"+mode)
		if err != nil {
			return err
		}
		lb, l, err := interleaved(ctx, base, olops, "/v1/learn", learnBody, benchLearners, 202)
		olops.stop()
		if err != nil {
			return fmt.Errorf("learn (%s): %w", mode, err)
		}
		tgt := "-"
		if mode == "batch" {
			tgt = "via /v1/stream"
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
	fmt.Fprintln(w, "Loopback HTTP/1.1 keep-alive. Each server under test runs alone in a child process (this binary in a server mode: olops through server.New and Run, as olops serve does, on a fresh data directory; its baseline an empty Go handler, or an NDJSON echo for the stream rows). The load generator here keeps one request in flight per connection, pre-encoded over raw TCP, and shares the 2 cores with the server; 6 alternating rounds of 0.5 s (after a 0.2 s warmup on fresh connections), best round of each. Stream: best of 3 posts through net/http. The ≥ 100,000 durable learns/s target is met through /v1/stream (one client, group commit): one learn per HTTP request, answered only once its group commit is synced, cannot reach it here, where the empty handler itself answers about as many requests per second as the row's baseline shows.")
	return nil
}
