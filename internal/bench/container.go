package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/olops/olops/internal/runtime/docker"
)

const (
	containerRuns   = 5
	containerBinary = "bin/olops" // make bench builds it first
	imageTargetMB   = 20.0
)

const containerConfig = `apiVersion: olops.dev/v1
kind: Model
metadata:
  name: bench
spec:
  task: binary
  target: y
  pipeline:
    model: logreg
`

// containerSection measures the FROM-scratch image: its size against the
// issue's 20 MB target, and a fresh container's start-to-ready time
// against the same binary started as a plain process.
func containerSection(ctx context.Context, w io.Writer) error {
	if _, err := os.Stat(containerBinary); err != nil {
		return fmt.Errorf("%s is missing: run 'make build' (make bench does)", containerBinary)
	}
	rt, err := docker.New(ctx)
	if err != nil {
		return err
	}
	defer rt.Close()
	res, err := rt.Bench(ctx, containerBinary, containerRuns)
	if err != nil {
		return err
	}
	proc, err := processStarts(ctx, containerBinary, containerRuns)
	if err != nil {
		return fmt.Errorf("process baseline: %w", err)
	}
	slices.Sort(proc)
	procMedian := proc[len(proc)/2]

	mb := float64(res.ImageBytes) / 1e6
	t := tablewriter.NewTable(w,
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignRight),
		tablewriter.WithHeaderAutoFormat(tw.Off),
	)
	t.Header([]string{"what", "olops", "baseline", "ratio", "target"})
	rows := [][]string{
		{"image size (MB)", fmt.Sprintf("%.1f", mb), fmt.Sprintf("%.1f (target)", imageTargetMB), fmt.Sprintf("%.0f%%", 100*mb/imageTargetMB), "< 20 MB"},
		{fmt.Sprintf("start to /readyz (ms, median of %d)", containerRuns), ms(res.Median), ms(procMedian) + " (process)",
			fmt.Sprintf("%.1fx", float64(res.Median)/float64(procMedian)), "-"},
	}
	if err := t.Bulk(rows); err != nil {
		return err
	}
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintln(w, "Container: ContainerStart of a fresh container (empty state) until /readyz answers 200; baseline: the same binary as a process on the host.")
	return nil
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port), nil
}

// processStarts times `olops serve` from exec to /readyz, runs times,
// each with an empty data directory.
func processStarts(ctx context.Context, bin string, runs int) ([]time.Duration, error) {
	dir, err := os.MkdirTemp("", "olops-bench-start-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	cfg := filepath.Join(dir, "olops.yaml")
	if err := os.WriteFile(cfg, []byte(containerConfig), 0o644); err != nil {
		return nil, err
	}
	hc := &http.Client{Timeout: time.Second}
	var out []time.Duration
	for i := 0; i < runs; i++ {
		pub, err := freePort()
		if err != nil {
			return nil, err
		}
		mgmt, err := freePort()
		if err != nil {
			return nil, err
		}
		start := time.Now()
		cmd := exec.CommandContext(ctx, bin, "serve", "--config", cfg, "--data-dir", filepath.Join(dir, strconv.Itoa(i)),
			"--public-addr", "127.0.0.1:"+pub, "--management-addr", "127.0.0.1:"+mgmt)
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		ready := false
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			resp, err := hc.Get("http://127.0.0.1:" + pub + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					ready = true
					break
				}
			}
		}
		d := time.Since(start)
		cmd.Process.Kill()
		cmd.Wait()
		if !ready {
			return nil, fmt.Errorf("olops serve was not ready within 30s")
		}
		out = append(out, d)
	}
	return out, nil
}
