package monitor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/olops/olops/internal/api"
	"github.com/olops/olops/internal/cli/cmdutil"
	"github.com/olops/olops/internal/client"
	"github.com/olops/olops/internal/tui"
)

func factory(env map[string]string) *cmdutil.Factory {
	return &cmdutil.Factory{
		IO:     &cmdutil.IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}},
		Getenv: func(k string) string { return env[k] },
	}
}

func contextFile(t *testing.T, cs ...client.Context) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "contexts.json")
	for _, c := range cs {
		if err := client.SaveContext(path, c); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func TestResolveTargets(t *testing.T) {
	a := client.Context{Name: "alpha", ManagementURL: "http://127.0.0.1:9001", ManagementToken: "ta"}
	b := client.Context{Name: "beta", ManagementURL: "http://127.0.0.1:9002", ManagementToken: "tb"}
	// SaveContext makes the last one current: beta.
	file := contextFile(t, a, b)
	empty := filepath.Join(t.TempDir(), "none.json")

	for _, tc := range []struct {
		name      string
		env       map[string]string
		url, tok  string
		args      []string
		want      string
		wantUsage string
	}{
		{name: "every context, current first", env: map[string]string{"OLOPS_CONTEXT": file},
			want: "beta http://127.0.0.1:9002 tb; alpha http://127.0.0.1:9001 ta"},
		{name: "by name", env: map[string]string{"OLOPS_CONTEXT": file}, args: []string{"alpha"},
			want: "alpha http://127.0.0.1:9001 ta"},
		{name: "by name, token flag", env: map[string]string{"OLOPS_CONTEXT": file}, args: []string{"alpha"}, tok: "x",
			want: "alpha http://127.0.0.1:9001 x"},
		{name: "unknown name", env: map[string]string{"OLOPS_CONTEXT": file}, args: []string{"gamma"},
			wantUsage: `no model "gamma" in the context file`},
		{name: "url flag", env: map[string]string{"OLOPS_CONTEXT": file}, url: "127.0.0.1:7000",
			want: "http://127.0.0.1:7000 http://127.0.0.1:7000 "},
		{name: "url flag of a context takes its token", env: map[string]string{"OLOPS_CONTEXT": file}, url: "http://127.0.0.1:9002",
			want: "http://127.0.0.1:9002 http://127.0.0.1:9002 tb"},
		{name: "environment", env: map[string]string{"OLOPS_CONTEXT": file, "OLOPS_MANAGEMENT_URL": "http://127.0.0.1:7001", "OLOPS_MANAGEMENT_TOKEN": "te"},
			want: "http://127.0.0.1:7001 http://127.0.0.1:7001 te"},
		{name: "nothing to watch", env: map[string]string{"OLOPS_CONTEXT": empty},
			wantUsage: "no management URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := resolveTargets(factory(tc.env), tc.url, tc.tok, tc.args)
			if tc.wantUsage != "" {
				if cmdutil.CodeOf(err) != cmdutil.ExitUsage || !strings.Contains(err.Error(), tc.wantUsage) {
					t.Fatalf("err %v (code %d), want a usage error with %q", err, cmdutil.CodeOf(err), tc.wantUsage)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var parts []string
			for _, g := range got {
				parts = append(parts, g.name+" "+g.url+" "+g.token)
			}
			if s := strings.Join(parts, "; "); s != tc.want {
				t.Fatalf("targets %q, want %q", s, tc.want)
			}
		})
	}
}

func TestCommandNeedsATerminal(t *testing.T) {
	f := factory(map[string]string{"OLOPS_CONTEXT": filepath.Join(t.TempDir(), "c.json")})
	cmd := NewCmd(f)
	cmd.SetArgs([]string{"--url", "http://127.0.0.1:1"})
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	err := cmd.Execute()
	if cmdutil.CodeOf(err) != cmdutil.ExitUsage || !strings.Contains(err.Error(), "needs a terminal") {
		t.Fatalf("err %v, want a usage error saying a terminal is needed", err)
	}

	cmd = NewCmd(f)
	cmd.SetArgs([]string{"--url", "http://127.0.0.1:1", "alpha"})
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	if err := cmd.Execute(); cmdutil.CodeOf(err) != cmdutil.ExitUsage {
		t.Fatalf("NAME and --url together: err %v, want a usage error", err)
	}
}

func TestSourceEvents(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/events", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer secret" {
			http.Error(w, `{"error":"bad token"}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range 2 {
			fmt.Fprintf(w, "event: metrics\ndata: {\"type\":\"metrics\",\"metrics\":{\"counters\":{\"learns\":%d}}}\n\n", i+1)
		}
		fmt.Fprint(w, "event: drift\ndata: {\"type\":\"drift\",\"drift\":{\"index\":7}}\n\n")
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	none := httptest.NewServer(http.NotFoundHandler())
	defer none.Close()

	var got []string
	err := source{client.New(srv.URL, "secret")}.Events(context.Background(), func(e api.Event) {
		switch e.Type {
		case "metrics":
			got = append(got, fmt.Sprintf("metrics %d", e.Metrics.Counters.Learns))
		case "drift":
			got = append(got, fmt.Sprintf("drift %d", e.Drift.Index))
		}
	})
	if err != nil || strings.Join(got, ",") != "metrics 1,metrics 2,drift 7" {
		t.Fatalf("events %v, err %v", got, err)
	}

	err = source{client.New(none.URL, "")}.Events(context.Background(), func(api.Event) {})
	if !errors.Is(err, tui.ErrNoEvents) {
		t.Fatalf("a server without /v1/events gave %v, want tui.ErrNoEvents (so the monitor polls)", err)
	}

	err = source{client.New(srv.URL, "wrong")}.Events(context.Background(), func(api.Event) {})
	if err == nil || errors.Is(err, tui.ErrNoEvents) || !client.IsAuth(err) {
		t.Fatalf("a refused token gave %v, want an auth error", err)
	}
}

func TestSourceChallenger(t *testing.T) {
	var running atomic.Bool
	running.Store(true)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/challenger", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Header.Get("Authorization") != "Bearer secret":
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"bad token"}`)
		case running.Load():
			fmt.Fprint(w, `{"model":"logreg","learns":3000,"metric":"accuracy","challenger":{"accuracy":0.97},"champion":{"accuracy":0.98}}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"error":"no challenger is running: start one with PUT /v1/challenger"}`)
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	ctx := context.Background()

	c, err := source{client.New(srv.URL, "secret")}.Challenger(ctx)
	if err != nil || c == nil || c.Model != "logreg" || c.Learns != 3000 || c.Champion["accuracy"] != 0.98 {
		t.Fatalf("a running challenger: %+v, err %v", c, err)
	}
	running.Store(false)
	if c, err := (source{client.New(srv.URL, "secret")}).Challenger(ctx); c != nil || err != nil {
		t.Fatalf("none running (404): %+v, err %v; want nil, nil", c, err)
	}
	if c, err := (source{client.New(srv.URL, "wrong")}).Challenger(ctx); c != nil || !client.IsAuth(err) {
		t.Fatalf("a refused token: %+v, err %v; want the auth error, not none", c, err)
	}
}
