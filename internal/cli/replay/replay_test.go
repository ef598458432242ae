package replay

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/olops/olops/internal/api"
	"github.com/olops/olops/internal/cli/clitest"
	"github.com/olops/olops/internal/cli/cmdutil"
	"github.com/olops/olops/internal/learn"
	leval "github.com/olops/olops/internal/learn/eval"
	"github.com/olops/olops/internal/learn/models"
	"github.com/olops/olops/internal/learn/stream"
)

// answer is the server's reply for one prediction (server/model.go's
// answer): labels by class id, "i" for a class without a label yet.
func answer(p *learn.Pipeline, pr learn.Prediction) api.StreamResult {
	if pr.Empty {
		return api.StreamResult{}
	}
	if p.Spec.Task == learn.Regression {
		return api.StreamResult{Prediction: pr.Value}
	}
	proba := map[string]float64{}
	for i, q := range pr.Proba {
		name := strconv.Itoa(i)
		if i < len(p.Labels) && p.Labels[i] != "" {
			name = p.Labels[i]
		}
		proba[name] = q
	}
	return api.StreamResult{Prediction: pr.Label, Proba: proba}
}

// TestScorerMatchesEval feeds the scorer what a server answers for each
// row and checks it scores exactly what progressive validation scores.
func TestScorerMatchesEval(t *testing.T) {
	ds := filepath.Join(sharedDir(t), "datasets")
	cases := []struct {
		file, target, model, positive string
		task                          learn.Task
	}{
		{"phishing.csv.gz", "is_phishing", "logreg", "", learn.Binary},
		{"elec2.csv.gz", "class", "gnb", "UP", learn.Binary},
		{"image_segments.csv.gz", "category", "gnb", "", learn.Multiclass},
		{"trump_approval.csv.gz", "five_thirty_eight", "linreg", "", learn.Regression},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			p, err := models.New(learn.Spec{Task: c.task, Model: c.model, Positive: c.positive})
			if err != nil {
				t.Fatal(err)
			}
			src, err := stream.OpenCSV(filepath.Join(ds, c.file), stream.CSVOptions{Target: c.target})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			sc, err := newScorer(c.task, c.positive, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			var scoreErr error
			res, err := leval.Run(context.Background(), p, src, leval.Options{Limit: 5000, OnRow: func(i int, r leval.RowResult) {
				// JSON on the way, as over HTTP.
				b, _ := json.Marshal(answer(p, r.Prediction))
				var sr api.StreamResult
				json.Unmarshal(b, &sr)
				if _, err := sc.score(r.Label, sr); err != nil && scoreErr == nil {
					scoreErr = fmt.Errorf("row %d: %w", i, err)
				}
			}})
			if err != nil {
				t.Fatal(err)
			}
			if scoreErr != nil {
				t.Fatal(scoreErr)
			}
			got := sc.set.Overall()
			if len(got) != len(res.Metrics) || sc.set.Count() != res.Scored {
				t.Fatalf("scored %d %v, eval %d %v", sc.set.Count(), got, res.Scored, res.Metrics)
			}
			for k, want := range res.Metrics {
				if math.Abs(got[k]-want) > 1e-9 && !(math.IsNaN(got[k]) && math.IsNaN(want)) {
					t.Errorf("%s = %v, eval %v", k, got[k], want)
				}
			}
		})
	}
}

// fakeStream is a /v1/stream that predicts the label on even rows and
// the other class on odd ones, rejects rows with x0 < 0, and reports a
// drift on row driftAt (0-based, counting every row it saw).
type fakeStream struct {
	rows     atomic.Int64
	requests atomic.Int64
	driftAt  int64
	onBatch  func(n int64)
}

func (f *fakeStream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/stream" {
		http.NotFound(w, r)
		return
	}
	f.requests.Add(1)
	sc := bufio.NewScanner(r.Body)
	enc := json.NewEncoder(w)
	line := 0
	for sc.Scan() {
		line++
		var l api.StreamLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			enc.Encode(api.StreamResult{Line: line, Error: err.Error()})
			continue
		}
		if x, _ := l.Features["x0"].(float64); x < 0 {
			enc.Encode(api.StreamResult{Line: line, Error: "x0 must not be negative"})
			continue
		}
		i := f.rows.Add(1) - 1
		label := l.Label.(string)
		pred := label
		if i%2 == 1 {
			pred = map[string]string{"0": "1", "1": "0"}[label]
		}
		p1 := 0.8
		if pred == "0" {
			p1 = 0.2
		}
		enc.Encode(api.StreamResult{Line: line, Prediction: pred, Proba: map[string]float64{"0": 1 - p1, "1": p1}, Seq: uint64(i + 1), Drift: i == f.driftAt})
	}
	if f.onBatch != nil {
		f.onBatch(f.rows.Load())
	}
}

func writeCSV(t *testing.T, n int, bad ...int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("x0,x1,y\n")
	isBad := map[int]bool{}
	for _, i := range bad {
		isBad[i] = true
	}
	for i := range n {
		x := float64(i)
		if isBad[i] {
			x = -1
		}
		fmt.Fprintf(&b, "%g,%d,%d\n", x, i%7, i%3%2)
	}
	p := filepath.Join(t.TempDir(), "data.csv")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReplayAgainstFakeServer(t *testing.T) {
	fs := &fakeStream{driftAt: 57}
	srv := httptest.NewServer(fs)
	defer srv.Close()
	data := writeCSV(t, 200, 10, 11)
	env := clitest.Env(t, "OLOPS_URL", srv.URL)
	r := clitest.Run(t, env, NewCmd, data, "--target", "y", "--batch", "64", "-o", "json")
	if r.Code != 0 {
		t.Fatalf("exit %d: %v\n%s", r.Code, r.Error, r.Err)
	}
	var res struct {
		Rows, Scored, Rejected int
		Task                   string
		Metrics                map[string]float64
		Drifts                 []int
		URL                    string
	}
	if err := json.Unmarshal([]byte(r.Out), &res); err != nil {
		t.Fatalf("%v\n%s", err, r.Out)
	}
	if res.Rows != 198 || res.Scored != 198 || res.Rejected != 2 || res.Task != "binary" || res.URL != srv.URL {
		t.Fatalf("result %+v", res)
	}
	// Every other prediction is right.
	if res.Metrics["accuracy"] != 0.5 {
		t.Errorf("accuracy %v, want 0.5", res.Metrics["accuracy"])
	}
	if len(res.Drifts) != 1 || res.Drifts[0] != 57 {
		t.Errorf("drifts %v, want [57]", res.Drifts)
	}
	if got := fs.requests.Load(); got != 4 {
		t.Errorf("%d requests for 200 rows in batches of 64, want 4", got)
	}
	if !strings.Contains(r.Err, "x0 must not be negative") {
		t.Errorf("the first rejection is not reported: %q", r.Err)
	}
}

func TestReplayTableGolden(t *testing.T) {
	fs := &fakeStream{driftAt: 57}
	srv := httptest.NewServer(fs)
	defer srv.Close()
	data := writeCSV(t, 100)
	r := clitest.Run(t, clitest.Env(t, "OLOPS_URL", srv.URL), NewCmd, data, "--target", "y", "--limit", "90")
	if r.Code != 0 {
		t.Fatalf("exit %d: %v", r.Code, r.Error)
	}
	out := strings.ReplaceAll(r.Out, srv.URL, "URL")
	// Timings vary: blank them.
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "seconds:") || strings.HasPrefix(l, "rows/s:") {
			l = l[:strings.Index(l, ":")+1] + " …"
		}
		lines = append(lines, l)
	}
	clitest.Golden(t, "replay.txt", strings.Join(lines, "\n"))
}

func TestReplayInterruptPrintsSummary(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fs := &fakeStream{driftAt: -1, onBatch: func(n int64) {
		if n >= 100 {
			cancel() // Ctrl-C while the second batch is in flight
		}
	}}
	srv := httptest.NewServer(fs)
	defer srv.Close()
	data := writeCSV(t, 1000)
	f, out, errOut := clitest.Factory(clitest.Env(t, "OLOPS_URL", srv.URL), "")
	r := clitest.RunWith(ctx, f, out, errOut, NewCmd(f), data, "--target", "y", "--batch", "50")
	if r.Code != cmdutil.ExitError || !strings.Contains(r.Error.Error(), "interrupted after 100 rows") {
		t.Fatalf("exit %d: %v", r.Code, r.Error)
	}
	if !strings.Contains(r.Out, "interrupted:") || !strings.Contains(r.Out, "accuracy") || !strings.Contains(r.Out, "rows:         100") {
		t.Fatalf("no summary after the interrupt:\n%s", r.Out)
	}
	if got := fs.rows.Load(); got != 100 {
		t.Fatalf("the server saw %d rows; every one must be counted", got)
	}
}

func TestReplayGateExit3(t *testing.T) {
	srv := httptest.NewServer(&fakeStream{driftAt: -1})
	defer srv.Close()
	data := writeCSV(t, 50)
	env := clitest.Env(t, "OLOPS_URL", srv.URL)
	r := clitest.Run(t, env, NewCmd, data, "--target", "y", "--fail-under", "accuracy=0.9")
	if r.Code != cmdutil.ExitGate || !strings.Contains(r.Error.Error(), "accuracy 0.5000 < 0.9") {
		t.Fatalf("exit %d: %v", r.Code, r.Error)
	}
	if r := clitest.Run(t, env, NewCmd, data, "--target", "y", "--fail-under", "accuracy=0.4"); r.Code != 0 {
		t.Fatalf("passing gate: exit %d: %v", r.Code, r.Error)
	}
	if r := clitest.Run(t, env, NewCmd, data, "--target", "y", "--fail-under", "accuracy"); r.Code != cmdutil.ExitUsage {
		t.Fatalf("bad gate: exit %d", r.Code)
	}
	if r := clitest.Run(t, env, NewCmd, "--target", "y"); r.Code != cmdutil.ExitUsage {
		t.Fatalf("no data: exit %d", r.Code)
	}
	// A metric the task does not compute is refused before any row is sent.
	r = clitest.Run(t, env, NewCmd, data, "--target", "y", "--fail-under", "mae=1")
	if r.Code != cmdutil.ExitUsage || !strings.Contains(r.Error.Error(), "mae is not computed") || strings.Contains(r.Out, "rows:") {
		t.Fatalf("gate on an uncomputed metric: exit %d: %v\n%s", r.Code, r.Error, r.Out)
	}
}

func TestReplayUnreachable(t *testing.T) {
	data := writeCSV(t, 5)
	r := clitest.Run(t, clitest.Env(t), NewCmd, data, "--target", "y", "--url", "http://127.0.0.1:1")
	if r.Code != 1 || !strings.Contains(r.Error.Error(), "cannot reach http://127.0.0.1:1 (connection refused): is the server running? start one with 'olops serve'") {
		t.Fatalf("exit %d: %v", r.Code, r.Error)
	}
	if errors.Is(r.Error, context.Canceled) {
		t.Fatal("reported as cancelled")
	}
}

// Progress: plain lines off a terminal, a bar redrawn with \r on one.
func TestProgressLines(t *testing.T) {
	srv := httptest.NewServer(&fakeStream{driftAt: -1})
	defer srv.Close()
	data := writeCSV(t, 300)
	for _, tty := range []bool{false, true} {
		f, out, errOut := clitest.Factory(clitest.Env(t, "OLOPS_URL", srv.URL), "")
		f.IO.TTY = tty
		o := &options{url: srv.URL, target: "y", batch: 50, output: "table", rows: 300, progressEvery: 0}
		if err := run(context.Background(), f, o, []string{data}); err != nil {
			t.Fatal(err)
		}
		e := errOut.String()
		if !tty {
			if !strings.Contains(e, "replay: 16 rows") || strings.Contains(e, "\r") || strings.Contains(e, "\x1b") {
				t.Errorf("plain progress: %q", e)
			}
		} else if !strings.Contains(e, "\r\x1b[2K") || !strings.Contains(e, "rows/s") {
			t.Errorf("terminal progress: %q", e)
		}
		if !strings.Contains(out.String(), "rows:      300") {
			t.Errorf("summary: %s", out)
		}
	}
	// Quiet: nothing on stderr.
	f, _, errOut := clitest.Factory(clitest.Env(t), "")
	f.IO.Quiet = true
	if err := run(context.Background(), f, &options{url: srv.URL, target: "y", batch: 50, output: "json"}, []string{data}); err != nil || errOut.Len() != 0 {
		t.Errorf("quiet: %v %q", err, errOut)
	}
}
