package server

import (
	"bufio"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// promBounds are the latency histogram's exposed bucket bounds (seconds).
var promBounds = []float64{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

func promFloat(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func promLabel(v string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return r.Replace(v)
}

// promChallenger is what /metrics shows of a running challenger.
type promChallenger struct {
	learns                                       uint64
	overall, rolling, champOverall, champRolling map[string]float64
}

// handleProm writes the Prometheus text exposition format (0.0.4).
func (s *Server) handleProm(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	m := s.m
	name := promLabel(m.cfg.Metadata.Name)
	task := string(m.cfg.Spec.Task)
	overall, rolling := metricValues(m.set, false), metricValues(m.set, true)
	c := s.countersLocked()
	ver := s.version
	warning := m.det != nil && m.det.Warning()
	// The challenger's scores and the champion's over the same events
	// (the comparison GET /v1/challenger makes), while one runs.
	var ch *promChallenger
	if x := m.ch; x != nil {
		ch = &promChallenger{
			learns:       x.m.learns,
			overall:      metricValues(x.m.set, false),
			rolling:      metricValues(x.m.set, true),
			champOverall: metricValues(x.champ, false),
			champRolling: metricValues(x.champ, true),
		}
	}
	s.mu.Unlock()

	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	lbl := fmt.Sprintf(`model="%s"`, name)
	metric := func(n, typ, help string, v float64) {
		fmt.Fprintf(bw, "# HELP %s %s\n# TYPE %s %s\n%s{%s} %s\n", n, help, n, typ, n, lbl, promFloat(v))
	}
	metric("olops_predictions_total", "counter", "Predictions served.", float64(c.Predictions))
	metric("olops_learns_total", "counter", "Learn events applied (durable).", float64(c.Learns))
	metric("olops_rejected_total", "counter", "Rejected requests and events (the quarantine count).", float64(c.Rejected))
	metric("olops_drift_events_total", "counter", "Drifts detected.", float64(c.Drifts))
	metric("olops_model_version", "gauge", "The live model version.", float64(ver))
	learning := 0.0
	if s.learning.Load() {
		learning = 1
	}
	metric("olops_learning", "gauge", "1 while learning, 0 while paused.", learning)
	warn := 0.0
	if warning {
		warn = 1
	}
	metric("olops_drift_warning", "gauge", "1 while the drift detector is in its warning zone.", warn)
	metric("olops_uptime_seconds", "gauge", "Seconds since the server started.", timeSince(s.started))

	metrics := func(n, help string, overall, rolling map[string]float64) {
		fmt.Fprintf(bw, "# HELP %s %s\n# TYPE %s gauge\n", n, help, n)
		for _, scope := range []struct {
			name string
			vals map[string]float64
		}{{"overall", overall}, {"rolling", rolling}} {
			keys := make([]string, 0, len(scope.vals))
			for k := range scope.vals {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				fmt.Fprintf(bw, "%s{%s,task=\"%s\",metric=\"%s\",window=\"%s\"} %s\n", n, lbl, task, promLabel(k), scope.name, promFloat(scope.vals[k]))
			}
		}
	}
	metrics("olops_metric", "Model quality metrics, overall and over the rolling window.", overall, rolling)

	running := 0.0
	if ch != nil {
		running = 1
	}
	metric("olops_challenger_running", "gauge", "1 while a challenger learns in shadow beside the model, else 0.", running)
	if ch != nil {
		// A gauge, not a counter: a new challenger starts again from 0.
		metric("olops_challenger_events", "gauge", "Events the running challenger has learned since it started.", float64(ch.learns))
		metrics("olops_challenger_metric", "The running challenger's quality metrics over the events it learned, overall and over the rolling window.", ch.overall, ch.rolling)
		metrics("olops_challenger_champion_metric", "The served model's quality metrics over the same events as the challenger's, to compare with olops_challenger_metric.", ch.champOverall, ch.champRolling)
	}

	fmt.Fprintf(bw, "# HELP olops_request_duration_seconds Request handling time by route (stream_line: each /v1/stream line, from read to answered).\n# TYPE olops_request_duration_seconds histogram\n")
	for _, h := range []struct {
		route string
		h     *histogram
	}{{"predict", &s.lat.predict}, {"learn", &s.lat.learn}, {"stream", &s.lat.stream}, {"infer", &s.lat.infer}, {"stream_line", &s.lat.streamLine}} {
		var counts [nBuckets]uint64
		var total uint64
		for i := range counts {
			counts[i] = h.h.counts[i].Load()
			total += counts[i]
		}
		j := 0
		var cum uint64
		for _, le := range promBounds {
			for j < nBuckets && bucketUpper(j) <= le*(1+1e-9) {
				cum += counts[j]
				j++
			}
			fmt.Fprintf(bw, "olops_request_duration_seconds_bucket{%s,route=\"%s\",le=\"%s\"} %d\n", lbl, h.route, promFloat(le), cum)
		}
		fmt.Fprintf(bw, "olops_request_duration_seconds_bucket{%s,route=\"%s\",le=\"+Inf\"} %d\n", lbl, h.route, total)
		fmt.Fprintf(bw, "olops_request_duration_seconds_sum{%s,route=\"%s\"} %s\n", lbl, h.route, promFloat(float64(h.h.sum.Load())/1e9))
		fmt.Fprintf(bw, "olops_request_duration_seconds_count{%s,route=\"%s\"} %d\n", lbl, h.route, total)
	}
}
