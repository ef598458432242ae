// Package client is the typed client of both olops HTTP APIs (public and
// management), shared by the CLI, the TUI and the controller.
package client

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-resty/resty/v2"
	"github.com/olops/olops/internal/api"
	"github.com/olops/olops/internal/cli/cmdutil"
)

// DefaultTimeout bounds each ordinary call; Stream and Events are bounded
// only by their context because they last as long as the data does.
const DefaultTimeout = 30 * time.Second

// Client talks to one olops listener (public or management) at one URL.
type Client struct {
	base    string
	r       *resty.Client
	timeout time.Duration
}

// Option changes how New builds a Client.
type Option func(*options)

type options struct {
	hc      *http.Client
	timeout time.Duration
	tls     *tls.Config
}

// WithHTTPClient makes the client use hc (its Timeout should be zero, or
// Stream and Events are cut off).
func WithHTTPClient(hc *http.Client) Option { return func(o *options) { o.hc = hc } }

// WithTimeout bounds each ordinary call (default DefaultTimeout, 0 = none).
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithTLSConfig sets the TLS configuration, e.g. a private CA's pool.
func WithTLSConfig(c *tls.Config) Option { return func(o *options) { o.tls = c } }

// New returns a client of the server at baseURL ("http://127.0.0.1:9090").
// An empty token sends no Authorization header.
func New(baseURL, token string, opts ...Option) *Client {
	o := options{timeout: DefaultTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	var r *resty.Client
	if o.hc != nil {
		r = resty.NewWithClient(o.hc)
	} else {
		r = resty.New()
	}
	if o.tls != nil {
		r.SetTLSClientConfig(o.tls)
	}
	base := strings.TrimRight(baseURL, "/")
	r.SetBaseURL(base)
	r.SetDisableWarn(true) // a bearer token over plain HTTP on loopback is normal here
	r.SetHeader("User-Agent", "olops-client")
	if token != "" {
		r.SetAuthToken(token)
	}
	return &Client{base: base, r: r, timeout: o.timeout}
}

// URL is the base URL the client talks to.
func (c *Client) URL() string { return c.base }

// Error is an error reply of the server: its status and its JSON error body.
type Error struct {
	Status int
	API    api.Error
	URL    string // method and URL of the request, e.g. "POST http://…/v1/learn"
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d %s", e.URL, e.Status, http.StatusText(e.Status))
	if e.API.Error != "" {
		b.WriteString(": ")
		b.WriteString(e.API.Error)
	}
	var where []string
	if e.API.Field != "" {
		where = append(where, "field "+e.API.Field)
	}
	if e.API.Line > 0 {
		where = append(where, "line "+strconv.Itoa(e.API.Line))
	}
	if len(where) > 0 {
		b.WriteString(" (" + strings.Join(where, ", ") + ")")
	}
	switch e.Status {
	case http.StatusUnauthorized, http.StatusForbidden:
		b.WriteString(": the server refused the token; pass --token or set OLOPS_PUBLIC_TOKEN / OLOPS_MANAGEMENT_TOKEN")
	}
	return b.String()
}

// ConnError says the server could not be reached at all.
type ConnError struct {
	URL string
	Err error
}

func (e *ConnError) Error() string {
	return fmt.Sprintf("cannot reach %s (%s): is the server running? start one with 'olops serve'", e.URL, reason(e.Err))
}

func (e *ConnError) Unwrap() error { return e.Err }

// reason shortens a dial error to what a person needs to read.
func reason(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return "unknown host " + dns.Name
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// IsAuth reports whether err is the server refusing the token.
func IsAuth(err error) bool {
	var e *Error
	return errors.As(err, &e) && (e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden)
}

// StatusOf returns the HTTP status of an error reply, 0 for other errors.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// request starts a request bounded by the client's timeout; call cancel
// once the response is read.
func (c *Client) request(ctx context.Context) (*resty.Request, context.CancelFunc) {
	cancel := context.CancelFunc(func() {})
	if c.timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
	}
	return c.r.R().SetContext(ctx), cancel
}

// check turns a transport error or an error status into an error.
// The caller's ctx ending is reported as itself, not as an unreachable
// server.
func (c *Client) check(ctx context.Context, method, path string, resp *resty.Response, err error) error {
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &ConnError{URL: c.base, Err: err}
	}
	if !resp.IsError() {
		return nil
	}
	return apiError(method+" "+c.base+path, resp.StatusCode(), resp.Body())
}

// apiError builds the error of a reply with status >= 400.
func apiError(what string, status int, body []byte) error {
	e := &Error{Status: status, URL: what}
	if json.Unmarshal(body, &e.API) != nil || e.API.Error == "" {
		e.API = api.Error{Error: strings.TrimSpace(string(truncate(body, 200)))}
	}
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		return cmdutil.Exit(cmdutil.ExitAuth, e)
	}
	return e
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return append(b[:n:n], "…"...)
	}
	return b
}

// do sends one JSON request and decodes a JSON reply into out (nil: ignore).
func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	req, cancel := c.request(ctx)
	defer cancel()
	req.SetHeader("Accept", "application/json")
	if body != nil {
		req.SetHeader("Content-Type", "application/json").SetBody(body)
	}
	resp, err := req.Execute(method, path)
	if err := c.check(ctx, method, path, resp, err); err != nil {
		return err
	}
	if out == nil || len(bytes.TrimSpace(resp.Body())) == 0 {
		return nil
	}
	if err := json.Unmarshal(resp.Body(), out); err != nil {
		return fmt.Errorf("%s %s%s: reply is not the expected JSON (%v): is this an olops server of the same version?", method, c.base, path, err)
	}
	return nil
}

// Predict asks for one prediction (POST /v1/predict).
func (c *Client) Predict(ctx context.Context, req api.PredictRequest) (*api.Prediction, error) {
	var out api.Prediction
	if err := c.do(ctx, http.MethodPost, "/v1/predict", req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// PredictBatch predicts several samples in one call.
func (c *Client) PredictBatch(ctx context.Context, instances []api.Features) (*api.PredictBatch, error) {
	var out api.PredictBatch
	if err := c.do(ctx, http.MethodPost, "/v1/predict", api.PredictRequest{Instances: instances}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Learn sends one labelled sample, or a late label for a prediction's id
// (POST /v1/learn); it returns once the server made the event durable.
func (c *Client) Learn(ctx context.Context, req api.LearnRequest) (*api.LearnReply, error) {
	var out api.LearnReply
	if err := c.do(ctx, http.MethodPost, "/v1/learn", req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Stream posts NDJSON lines (api.StreamLine each) to /v1/stream and calls fn
// with every result line in order. It stops at the first error fn returns.
func (c *Client) Stream(ctx context.Context, lines io.Reader, fn func(api.StreamResult) error) error {
	const path = "/v1/stream"
	resp, err := c.r.R().SetContext(ctx).
		SetHeader("Content-Type", "application/x-ndjson").
		SetHeader("Accept", "application/x-ndjson").
		SetBody(lines).
		SetDoNotParseResponse(true).
		Post(path)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &ConnError{URL: c.base, Err: err}
	}
	body := resp.RawBody()
	defer body.Close()
	if resp.StatusCode() >= 400 {
		b, _ := io.ReadAll(io.LimitReader(body, 64<<10))
		return apiError("POST "+c.base+path, resp.StatusCode(), b)
	}
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var r api.StreamResult
		if err := json.Unmarshal(line, &r); err != nil {
			return fmt.Errorf("POST %s%s: result line is not JSON (%v): %s", c.base, path, err, truncate(line, 120))
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("POST %s%s: reading results: %w", c.base, path, err)
	}
	return nil
}

// Model returns the served model (GET /v1/model).
func (c *Client) Model(ctx context.Context) (*api.Model, error) {
	var out api.Model
	if err := c.do(ctx, http.MethodGet, "/v1/model", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// PutModel replaces the model's config with doc, an olops.yaml document in
// YAML or JSON (PUT /v1/model); the server keeps the old state as a version.
func (c *Client) PutModel(ctx context.Context, doc []byte) (*api.Model, error) {
	var out api.Model
	if err := c.putDoc(ctx, "/v1/model", doc, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// putDoc PUTs an olops.yaml document, YAML or JSON (none when doc is
// empty), and decodes the JSON reply into out.
func (c *Client) putDoc(ctx context.Context, path string, doc []byte, out any) error {
	req, cancel := c.request(ctx)
	defer cancel()
	req.SetHeader("Accept", "application/json")
	if len(doc) > 0 {
		ct := "application/yaml"
		if t := bytes.TrimSpace(doc); len(t) > 0 && t[0] == '{' {
			ct = "application/json"
		}
		req.SetHeader("Content-Type", ct).SetBody(doc)
	}
	resp, err := req.Put(path)
	if err := c.check(ctx, http.MethodPut, path, resp, err); err != nil {
		return err
	}
	if len(bytes.TrimSpace(resp.Body())) > 0 {
		if err := json.Unmarshal(resp.Body(), out); err != nil {
			return fmt.Errorf("PUT %s%s: reply is not the expected JSON: %v", c.base, path, err)
		}
	}
	return nil
}

// PatchModel changes run-time hyperparameters (PATCH /v1/model), e.g.
// {"lr": 0.01}. The server changes nothing when one of them is refused.
func (c *Client) PatchModel(ctx context.Context, params map[string]any) (*api.Model, error) {
	var out api.Model
	if err := c.do(ctx, http.MethodPatch, "/v1/model", params, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Metrics returns the metrics, counters, rates and latency (GET /v1/metrics).
func (c *Client) Metrics(ctx context.Context) (*api.Metrics, error) {
	var out api.Metrics
	if err := c.do(ctx, http.MethodGet, "/v1/metrics", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Drift returns the detector state and its events (GET /v1/drift).
func (c *Client) Drift(ctx context.Context) (*api.Drift, error) {
	var out api.Drift
	if err := c.do(ctx, http.MethodGet, "/v1/drift", nil, &out); err != nil {
		return nil, err
	}
	if out.Events == nil {
		out.Events = []api.DriftEvent{}
	}
	return &out, nil
}

// Versions lists the saved versions (GET /v1/versions), oldest first.
func (c *Client) Versions(ctx context.Context) ([]api.Version, error) {
	var raw json.RawMessage
	if err := c.do(ctx, http.MethodGet, "/v1/versions", nil, &raw); err != nil {
		return nil, err
	}
	// A bare array, or an object holding one under "versions".
	vs := []api.Version{}
	t := bytes.TrimSpace(raw)
	if len(t) > 0 && t[0] == '{' {
		var wrap struct {
			Versions []api.Version `json:"versions"`
		}
		if err := json.Unmarshal(t, &wrap); err != nil {
			return nil, fmt.Errorf("GET %s/v1/versions: reply is not a version list: %v", c.base, err)
		}
		if wrap.Versions != nil {
			vs = wrap.Versions
		}
		return vs, nil
	}
	if len(t) > 0 {
		if err := json.Unmarshal(t, &vs); err != nil {
			return nil, fmt.Errorf("GET %s/v1/versions: reply is not a version list: %v", c.base, err)
		}
	}
	return vs, nil
}

// Snapshot saves the current state as a new version (POST /v1/versions).
func (c *Client) Snapshot(ctx context.Context, note string) (*api.Version, error) {
	var out api.Version
	if err := c.do(ctx, http.MethodPost, "/v1/versions", api.SnapshotRequest{Note: note}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Rollback makes version n current (POST /v1/versions/{n}/rollback) and
// returns the model after the change.
func (c *Client) Rollback(ctx context.Context, n int) (*api.Model, error) {
	var out api.Model
	path := "/v1/versions/" + strconv.Itoa(n) + "/rollback"
	if err := c.do(ctx, http.MethodPost, path, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Pause stops learning (predictions go on) (POST /v1/learning/pause).
func (c *Client) Pause(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/v1/learning/pause", nil, nil)
}

// Resume restarts learning (POST /v1/learning/resume).
func (c *Client) Resume(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/v1/learning/resume", nil, nil)
}

// Healthz checks that the server is alive (GET /healthz).
func (c *Client) Healthz(ctx context.Context) error {
	return c.do(ctx, http.MethodGet, "/healthz", nil, nil)
}

// Readyz checks that the server has loaded its state (GET /readyz).
func (c *Client) Readyz(ctx context.Context) error {
	return c.do(ctx, http.MethodGet, "/readyz", nil, nil)
}

// Events follows the server-sent events of GET /v1/events and calls fn for
// each. It returns nil when the server ends the stream (a disconnect: call
// again to reconnect), ctx's error when ctx ends, or the error of the
// request. Events with a body that is not JSON are skipped.
func (c *Client) Events(ctx context.Context, fn func(api.Event)) error {
	const path = "/v1/events"
	resp, err := c.r.R().SetContext(ctx).
		SetHeader("Accept", "text/event-stream").
		SetHeader("Cache-Control", "no-cache").
		SetDoNotParseResponse(true).
		Get(path)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &ConnError{URL: c.base, Err: err}
	}
	body := resp.RawBody()
	defer body.Close()
	if resp.StatusCode() >= 400 {
		b, _ := io.ReadAll(io.LimitReader(body, 64<<10))
		return apiError("GET "+c.base+path, resp.StatusCode(), b)
	}
	err = readSSE(body, func(name string, data []byte) {
		var ev api.Event
		if json.Unmarshal(data, &ev) != nil {
			return
		}
		if ev.Type == "" {
			ev.Type = name
		}
		fn(ev)
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// readSSE parses a text/event-stream (the WHATWG format: "event:" and
// "data:" fields, a blank line ends an event, ":" lines are comments) and
// calls fn with each event's name and data. It returns nil at EOF.
func readSSE(r io.Reader, fn func(name string, data []byte)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var name string
	var data []byte
	has := false
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if has {
				if name == "" {
					name = "message"
				}
				fn(name, data)
			}
			name, data, has = "", nil, false
			continue
		}
		if strings.HasPrefix(line, ":") {
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			name = value
		case "data":
			if has {
				data = append(data, '\n')
			}
			data = append(data, value...)
			has = true
		}
	}
	if err := sc.Err(); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// StartChallenger starts a challenger that learns in shadow (PUT
// /v1/challenger): from doc, an olops.yaml document in YAML or JSON, or
// with doc empty a fresh model of the served config. It replaces a
// running challenger.
func (c *Client) StartChallenger(ctx context.Context, doc []byte) (*api.Challenger, error) {
	var out api.Challenger
	if err := c.putDoc(ctx, "/v1/challenger", doc, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Challenger returns the running challenger beside the champion (GET
// /v1/challenger); an error for which NotFound is true when there is none.
func (c *Client) Challenger(ctx context.Context) (*api.Challenger, error) {
	var out api.Challenger
	if err := c.do(ctx, http.MethodGet, "/v1/challenger", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// PromoteChallenger makes the challenger the served model, a new version
// (POST /v1/challenger/promote).
func (c *Client) PromoteChallenger(ctx context.Context) (*api.Model, error) {
	var out api.Model
	if err := c.do(ctx, http.MethodPost, "/v1/challenger/promote", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DropChallenger stops the challenger (DELETE /v1/challenger).
func (c *Client) DropChallenger(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, "/v1/challenger", nil, nil)
}

// NotFound reports whether err is the server's 404 reply.
func NotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}
