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
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/olops/olops/internal/api"
)

// TestPrometheusScrapesMetrics starts Debian's prometheus against the
// management API's /metrics (with the management token), with a
// challenger running, and waits until its query API returns the accuracy
// series of the model and of the challenger: prometheus takes the whole
// exposition or none of it.
func TestPrometheusScrapesMetrics(t *testing.T) {
	promBin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatal("prometheus is not installed: run 'make deps' (Debian package prometheus)")
	}
	p := start(t, serveOpts{config: binaryConfig(""), mgmtTok: mgmtTok})
	for i := range 20 {
		learnOK(t, p, fmt.Sprintf(`{"a":%d}`, i-10), i%2)
	}
	wantStatus(t, p.mgmtDo(t, "PUT", "/v1/challenger", ""), http.StatusOK, "PUT /v1/challenger")
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
	deadline := time.Now().Add(45 * time.Second)
	for _, q := range []string{
		`olops_metric{metric="accuracy",window="overall"}`,
		`olops_challenger_metric{metric="accuracy",window="overall"}`,
		`olops_challenger_running == 1`,
	} {
		r, last := promQuery(addr, q, deadline)
		if r == nil {
			t.Fatalf("prometheus did not return %s within 45s; last answer: %s\nprometheus output:\n%s", q, last, out.String())
		}
		if r.Metric["model"] != "phish" || r.Metric["job"] != "olops" || len(r.Value) != 2 {
			t.Fatalf("%s: series %+v", q, r)
		}
	}
}

type promSeries struct {
	Metric map[string]string `json:"metric"`
	Value  []any             `json:"value"`
}

// promQuery asks prometheus at addr for q until it returns one series or
// the deadline passes; then it returns nil and the last answer.
func promQuery(addr, q string, deadline time.Time) (*promSeries, string) {
	query := "http://" + addr + "/api/v1/query?query=" + url.QueryEscape(q)
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
				Result []promSeries `json:"result"`
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
			return &res.Data.Result[0], ""
		}
	}
	return nil, last
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

// TestPrometheusChallengerSeries: /metrics shows a challenger only while
// one runs, with the same scores as GET /v1/challenger, and stays a valid
// exposition (each family's HELP and TYPE once, before its samples).
func TestPrometheusChallengerSeries(t *testing.T) {
	p := start(t, serveOpts{config: binaryConfig(""), mgmtTok: mgmtTok})
	scrape := func() string {
		t.Helper()
		r := p.mgmtDo(t, "GET", "/metrics", "")
		wantStatus(t, r, http.StatusOK, "GET /metrics")
		checkExposition(t, string(r.body))
		return string(r.body)
	}
	none := func(what string) {
		t.Helper()
		body := scrape()
		if !strings.Contains(body, "\nolops_challenger_running{model=\"phish\"} 0\n") {
			t.Fatalf("%s: no olops_challenger_running 0:\n%s", what, body)
		}
		if strings.Contains(body, "olops_challenger_events") || strings.Contains(body, "olops_challenger_metric") || strings.Contains(body, "olops_challenger_champion_metric") {
			t.Fatalf("%s: challenger series without a challenger:\n%s", what, body)
		}
	}
	for i := range 10 {
		learnOK(t, p, fmt.Sprintf(`{"a":%d}`, i-5), i%2)
	}
	none("before any challenger")

	wantStatus(t, p.mgmtDo(t, "PUT", "/v1/challenger", ""), http.StatusOK, "PUT /v1/challenger")
	const n = 30
	for i := range n {
		learnOK(t, p, fmt.Sprintf(`{"a":%d}`, i%7-3), i%3%2)
	}
	body := scrape()
	r := p.mgmtDo(t, "GET", "/v1/challenger", "")
	wantStatus(t, r, http.StatusOK, "GET /v1/challenger")
	var ch api.Challenger
	r.json(t, &ch)
	if ch.Learns != n || len(ch.Challenger) == 0 || len(ch.Champion) == 0 {
		t.Fatalf("challenger %+v: want %d learns and metrics", ch, n)
	}
	samples := parseSamples(body)
	want := map[string]float64{
		`olops_challenger_running{model="phish"}`: 1,
		`olops_challenger_events{model="phish"}`:  n,
	}
	for k, v := range ch.Challenger {
		want[fmt.Sprintf(`olops_challenger_metric{model="phish",task="binary",metric="%s",window="overall"}`, k)] = v
	}
	for k, v := range ch.Champion {
		want[fmt.Sprintf(`olops_challenger_champion_metric{model="phish",task="binary",metric="%s",window="overall"}`, k)] = v
	}
	for series, v := range want {
		got, ok := samples[series]
		if !ok || got != v {
			t.Errorf("%s = %v (present %v), want %v", series, got, ok, v)
		}
	}
	// The rolling window is wider than n events: rolling equals overall.
	for _, fam := range []string{"olops_challenger_metric", "olops_challenger_champion_metric"} {
		key := fam + `{model="phish",task="binary",metric="accuracy",window="%s"}`
		ov, ok1 := samples[fmt.Sprintf(key, "overall")]
		ro, ok2 := samples[fmt.Sprintf(key, "rolling")]
		if !ok1 || !ok2 || ov != ro {
			t.Errorf("%s accuracy: overall %v (%v), rolling %v (%v): want both, equal", fam, ov, ok1, ro, ok2)
		}
	}
	if t.Failed() {
		t.Fatalf("/metrics:\n%s", body)
	}

	wantStatus(t, p.mgmtDo(t, "DELETE", "/v1/challenger", ""), http.StatusNoContent, "DELETE /v1/challenger")
	none("after the challenger was dropped")
}

// parseSamples maps each sample line's series (name and labels, as
// written) to its value.
func parseSamples(body string) map[string]float64 {
	out := map[string]float64{}
	for _, l := range strings.Split(body, "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		i := strings.LastIndexByte(l, ' ')
		v, err := strconv.ParseFloat(l[i+1:], 64)
		if err == nil {
			out[l[:i]] = v
		}
	}
	return out
}

// checkExposition checks the text format's rules that a new family can
// break: HELP and TYPE at most once per family and before its samples,
// every sample in a typed family, and a family's samples together.
func checkExposition(t *testing.T, body string) {
	t.Helper()
	help, typ := map[string]int{}, map[string]string{}
	done := map[string]bool{} // families whose samples ended
	current := ""
	for n, l := range strings.Split(strings.TrimSuffix(body, "\n"), "\n") {
		if f, ok := strings.CutPrefix(l, "# HELP "); ok {
			name, _, _ := strings.Cut(f, " ")
			if help[name]++; help[name] > 1 {
				t.Errorf("line %d: a second HELP for %s", n+1, name)
			}
			continue
		}
		if f, ok := strings.CutPrefix(l, "# TYPE "); ok {
			name, kind, _ := strings.Cut(f, " ")
			if _, dup := typ[name]; dup {
				t.Errorf("line %d: a second TYPE for %s", n+1, name)
			}
			typ[name] = kind
			continue
		}
		name := l[:strings.IndexAny(l, "{ ")]
		fam := name
		if _, ok := typ[fam]; !ok {
			for _, suf := range []string{"_bucket", "_sum", "_count"} {
				if b, ok := strings.CutSuffix(name, suf); ok && typ[b] == "histogram" {
					fam = b
				}
			}
		}
		if _, ok := typ[fam]; !ok {
			t.Errorf("line %d: sample of %s before (or without) its TYPE: %q", n+1, fam, l)
		}
		if fam != current {
			if done[fam] {
				t.Errorf("line %d: %s's samples are split", n+1, fam)
			}
			done[current], current = true, fam
		}
	}
}
