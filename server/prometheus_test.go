package server

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPrometheusScrapesMetrics starts Debian's prometheus against the
// management API's /metrics (with the management token) and waits until
// its query API returns the accuracy series.
func TestPrometheusScrapesMetrics(t *testing.T) {
	promBin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatal("prometheus is not installed: run 'make deps' (Debian package prometheus)")
	}
	p := start(t, serveOpts{config: binaryConfig(""), mgmtTok: mgmtTok})
	for i := range 20 {
		learnOK(t, p, fmt.Sprintf(`{"a":%d}`, i-10), i%2)
	}
	u, err := url.Parse(p.mgmt)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: olops
    metrics_path: /metrics
    authorization:
      type: Bearer
      credentials: %s
    static_configs:
      - targets: ["%s"]
`, mgmtTok, u.Host)
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	cmd := exec.Command(promBin, "--config.file="+cfgPath, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	query := "http://" + addr + "/api/v1/query?query=" + url.QueryEscape(`olops_metric{metric="accuracy",window="overall"}`)
	deadline := time.Now().Add(45 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
		resp, err := http.Get(query)
		if err != nil {
			last = err.Error()
			continue
		}
		var res struct {
			Status string `json:"status"`
			Data   struct {
				Result []struct {
					Metric map[string]string `json:"metric"`
					Value  []any             `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		err = json.NewDecoder(resp.Body).Decode(&res)
		resp.Body.Close()
		if err != nil {
			last = err.Error()
			continue
		}
		last = fmt.Sprintf("%+v", res)
		if res.Status == "success" && len(res.Data.Result) == 1 {
			r := res.Data.Result[0]
			if r.Metric["model"] != "phish" || r.Metric["job"] != "olops" || len(r.Value) != 2 {
				t.Fatalf("series %+v", r)
			}
			return
		}
	}
	t.Fatalf("prometheus did not return the accuracy series within 45s; last answer: %s\nprometheus output:\n%s", last, out.String())
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
