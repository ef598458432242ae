package client

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/olops/olops/internal/api"
	"github.com/olops/olops/internal/cli/cmdutil"
)

func TestPredictSendsTokenAndDecodes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/predict" {
			t.Errorf("got %s %s", r.Method, r.URL.Path)
		}
		if got := r.Header.Get("Authorization"); got != "Bearer s3cret" {
			t.Errorf("Authorization = %q", got)
		}
		var req api.PredictRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			t.Errorf("decode: %v", err)
		}
		if req.Features["x"] != 1.5 {
			t.Errorf("features = %v", req.Features)
		}
		json.NewEncoder(w).Encode(api.Prediction{ID: "p1", Prediction: "1", Proba: map[string]float64{"0": 0.25, "1": 0.75}, ModelVersion: 3})
	}))
	defer srv.Close()
	c := New(srv.URL+"/", "s3cret")
	p, err := c.Predict(context.Background(), api.PredictRequest{Features: api.Features{"x": 1.5}})
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != "p1" || p.Prediction != "1" || p.Proba["1"] != 0.75 || p.ModelVersion != 3 {
		t.Fatalf("prediction = %+v", p)
	}
}

func TestAPIErrorShowsFieldAndLine(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnprocessableEntity)
		json.NewEncoder(w).Encode(api.Error{Error: `unknown label "maybe"`, Field: "label", Line: 7})
	}))
	defer srv.Close()
	_, err := New(srv.URL, "").Learn(context.Background(), api.LearnRequest{Label: "maybe"})
	var e *Error
	if !errors.As(err, &e) || e.Status != 422 || e.API.Field != "label" || e.API.Line != 7 {
		t.Fatalf("err = %#v", err)
	}
	for _, want := range []string{"POST " + srv.URL + "/v1/learn", "422", `unknown label "maybe"`, "field label", "line 7"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if cmdutil.CodeOf(err) != cmdutil.ExitError {
		t.Errorf("exit code = %d, want 1", cmdutil.CodeOf(err))
	}
}

func TestAuthRefusedExits4(t *testing.T) {
	for _, status := range []int{401, 403} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			io.WriteString(w, `{"error":"missing or wrong token"}`)
		}))
		_, err := New(srv.URL, "bad").Metrics(context.Background())
		srv.Close()
		if cmdutil.CodeOf(err) != cmdutil.ExitAuth || !IsAuth(err) {
			t.Fatalf("%d: code %d, err %v", status, cmdutil.CodeOf(err), err)
		}
		if !strings.Contains(err.Error(), "wrong token") || !strings.Contains(err.Error(), "--token") {
			t.Errorf("%d: error %q should quote the server and say what to do", status, err)
		}
	}
}

func TestNonJSONErrorBody(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	err := New(srv.URL, "").Pause(context.Background())
	if StatusOf(err) != 404 || !strings.Contains(err.Error(), "404 page not found") {
		t.Fatalf("err = %v", err)
	}
}

func TestConnectionRefusedSaysWhatToDo(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	url := "http://" + addr
	_, err = New(url, "").Model(context.Background())
	var ce *ConnError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %#v, want *ConnError", err)
	}
	want := fmt.Sprintf("cannot reach %s (connection refused): is the server running? start one with 'olops serve'", url)
	if err.Error() != want {
		t.Fatalf("err = %q\nwant  %q", err, want)
	}
}

func TestCancelledContextIsNotConnError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := New(srv.URL, "").Model(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestStreamNDJSON(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/stream" || !strings.Contains(r.Header.Get("Content-Type"), "ndjson") {
			t.Errorf("got %s %s", r.URL.Path, r.Header.Get("Content-Type"))
		}
		sc := bufio.NewScanner(r.Body)
		enc := json.NewEncoder(w)
		n := 0
		for sc.Scan() {
			n++
			var l api.StreamLine
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				enc.Encode(api.StreamResult{Line: n, Error: err.Error()})
				continue
			}
			enc.Encode(api.StreamResult{Line: n, Prediction: l.Features["x"], Seq: uint64(n), Drift: n == 2})
		}
	}))
	defer srv.Close()
	in := strings.NewReader(`{"features":{"x":"a"},"label":"1"}` + "\n" + `{"features":{"x":"b"},"label":"0"}` + "\nnot json\n")
	var got []api.StreamResult
	err := New(srv.URL, "").Stream(context.Background(), in, func(r api.StreamResult) error {
		got = append(got, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Prediction != "a" || !got[1].Drift || got[1].Seq != 2 || got[2].Error == "" || got[2].Line != 3 {
		t.Fatalf("results = %+v", got)
	}
}

func TestStreamErrorStatus(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(401)
		io.WriteString(w, `{"error":"token required"}`)
	}))
	defer srv.Close()
	err := New(srv.URL, "").Stream(context.Background(), strings.NewReader("{}\n"), func(api.StreamResult) error { return nil })
	if cmdutil.CodeOf(err) != cmdutil.ExitAuth {
		t.Fatalf("err = %v (code %d)", err, cmdutil.CodeOf(err))
	}
}

func TestEventsSSE(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/events" || r.Header.Get("Accept") != "text/event-stream" {
			t.Errorf("got %s accept %q", r.URL.Path, r.Header.Get("Accept"))
		}
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, ": hello\n\n")
		io.WriteString(w, "event: metrics\ndata: {\"type\":\"metrics\",\"metrics\":{\"task\":\"binary\",\"overall\":{\"accuracy\":0.9}}}\n\n")
		// Type only in the event name, data split over two lines.
		io.WriteString(w, "event: drift\ndata: {\"drift\":\ndata: {\"index\":42,\"metric\":\"accuracy\"}}\n\n")
		io.WriteString(w, "event: junk\ndata: not json\n\n")
		io.WriteString(w, "event: version\ndata: {\"type\":\"version\",\"version\":{\"version\":2}}\n\n")
	}))
	defer srv.Close()
	var got []api.Event
	err := New(srv.URL, "").Events(context.Background(), func(e api.Event) { got = append(got, e) })
	if err != nil {
		t.Fatalf("Events returned %v at the end of the stream, want nil", err)
	}
	if len(got) != 3 {
		t.Fatalf("events = %+v", got)
	}
	if got[0].Type != "metrics" || got[0].Metrics.Overall["accuracy"] != 0.9 {
		t.Errorf("metrics event = %+v", got[0])
	}
	if got[1].Type != "drift" || got[1].Drift.Index != 42 {
		t.Errorf("drift event = %+v", got[1])
	}
	if got[2].Type != "version" || got[2].Version.Version != 2 {
		t.Errorf("version event = %+v", got[2])
	}
}

func TestEventsStopsOnCancel(t *testing.T) {
	started := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "event: metrics\ndata: {\"type\":\"metrics\"}\n\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	err := New(srv.URL, "").Events(ctx, func(api.Event) {
		select {
		case <-started:
		default:
			close(started)
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestVersionsBothShapes(t *testing.T) {
	for _, body := range []string{`[{"version":1},{"version":2,"current":true}]`, `{"versions":[{"version":1},{"version":2,"current":true}]}`} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, body) }))
		vs, err := New(srv.URL, "").Versions(context.Background())
		srv.Close()
		if err != nil || len(vs) != 2 || !vs[1].Current {
			t.Fatalf("%s: %+v %v", body, vs, err)
		}
	}
}

func TestRoutes(t *testing.T) {
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		seen = append(seen, r.Method+" "+r.URL.Path+" "+strings.TrimSpace(string(b)))
		switch r.URL.Path {
		case "/v1/versions":
			io.WriteString(w, `{"version":5,"note":"n"}`)
		default:
			io.WriteString(w, `{"version":4}`)
		}
	}))
	defer srv.Close()
	c := New(srv.URL, "")
	ctx := context.Background()
	if v, err := c.Snapshot(ctx, "n"); err != nil || v.Version != 5 {
		t.Fatal(v, err)
	}
	if m, err := c.Rollback(ctx, 4); err != nil || m.Version != 4 {
		t.Fatal(m, err)
	}
	if _, err := c.PatchModel(ctx, map[string]any{"lr": 0.5}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutModel(ctx, []byte("kind: Model\n")); err != nil {
		t.Fatal(err)
	}
	for _, f := range []func(context.Context) error{c.Pause, c.Resume, c.Healthz, c.Readyz} {
		if err := f(ctx); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		`POST /v1/versions {"note":"n"}`,
		`POST /v1/versions/4/rollback `,
		`PATCH /v1/model {"lr":0.5}`,
		"PUT /v1/model kind: Model",
		"POST /v1/learning/pause ",
		"POST /v1/learning/resume ",
		"GET /healthz ",
		"GET /readyz ",
	}
	if strings.Join(seen, "\n") != strings.Join(want, "\n") {
		t.Fatalf("requests:\n%s\nwant:\n%s", strings.Join(seen, "\n"), strings.Join(want, "\n"))
	}
}

func TestResolveOrder(t *testing.T) {
	dir := t.TempDir()
	ctxFile := filepath.Join(dir, "contexts.json")
	if err := SaveContext(ctxFile, Context{Name: "m", PublicURL: "http://127.0.0.1:8080", ManagementURL: "http://127.0.0.1:9090", PublicToken: "pt", ManagementToken: "mt"}); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"OLOPS_CONTEXT": ctxFile}
	f := &cmdutil.Factory{Getenv: func(k string) string { return env[k] }}

	check := func(name, flagURL, flagToken string, mgmt bool, wantURL, wantToken string) {
		t.Helper()
		u, tok, err := Resolve(f, flagURL, flagToken, mgmt)
		if err != nil || u != wantURL || tok != wantToken {
			t.Errorf("%s: got %q %q %v, want %q %q", name, u, tok, err, wantURL, wantToken)
		}
	}
	check("context public", "", "", false, "http://127.0.0.1:8080", "pt")
	check("context management", "", "", true, "http://127.0.0.1:9090", "mt")
	env["OLOPS_MANAGEMENT_URL"] = "http://10.0.0.1:9999"
	check("env url, no token for another server", "", "", true, "http://10.0.0.1:9999", "")
	env["OLOPS_MANAGEMENT_TOKEN"] = "envtok"
	check("env url and token", "", "", true, "http://10.0.0.1:9999", "envtok")
	check("flag beats env", "127.0.0.1:1234/", "flagtok", true, "http://127.0.0.1:1234", "flagtok")
	check("flag url same as context keeps its token", "http://127.0.0.1:8080", "", false, "http://127.0.0.1:8080", "pt")

	env = map[string]string{"OLOPS_CONTEXT": filepath.Join(dir, "none.json")}
	_, _, err := Resolve(f, "", "", true)
	if cmdutil.CodeOf(err) != cmdutil.ExitUsage || !strings.Contains(err.Error(), "olops serve") {
		t.Errorf("no URL anywhere: %v (code %d)", err, cmdutil.CodeOf(err))
	}
	_, _, err = Resolve(f, "ftp://x", "", false)
	if cmdutil.CodeOf(err) != cmdutil.ExitUsage {
		t.Errorf("bad scheme: %v", err)
	}
}
