package server

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/olops/olops/internal/api"
	"github.com/olops/olops/internal/client"
)

const pubTok, mgmtTok = "pub-secret", "mgmt-secret"

func binaryConfig(extra string) string {
	return `apiVersion: olops.dev/v1
kind: Model
metadata:
  name: phish
spec:
  target: y
  pipeline:
    model: logreg
` + extra
}

type call struct {
	method, path, body string
	open               bool
}

var publicCalls = []call{
	{"POST", "/v1/predict", `{"features":{"a":1}}`, false},
	{"POST", "/v1/learn", `{"features":{"a":1},"label":1}`, false},
	{"POST", "/v1/stream", `{"features":{"a":1},"label":1}` + "\n", false},
	{"GET", "/v2", "", false},
	{"GET", "/v2/health/live", "", false},
	{"GET", "/v2/health/ready", "", false},
	{"GET", "/v2/models/phish", "", false},
	{"GET", "/v2/models/phish/ready", "", false},
	{"POST", "/v2/models/phish/infer", `{"inputs":[{"name":"a","shape":[1],"datatype":"FP64","data":[1]}]}`, false},
	{"GET", "/openapi.json", "", false},
	{"GET", "/healthz", "", true},
	{"GET", "/readyz", "", true},
}

var managementCalls = []call{
	{"GET", "/v1/model", "", false},
	{"PATCH", "/v1/model", `{"params":{"lr":0.02}}`, false},
	{"GET", "/v1/metrics", "", false},
	{"GET", "/v1/drift", "", false},
	{"GET", "/v1/versions", "", false},
	{"POST", "/v1/versions", `{"note":"auth test"}`, false},
	{"POST", "/v1/versions/1/rollback", "", false},
	{"POST", "/v1/learning/pause", "", false},
	{"POST", "/v1/learning/resume", "", false},
	{"PUT", "/v1/model", binaryConfig(""), false},
	{"GET", "/metrics", "", false},
	{"GET", "/openapi.json", "", false},
	{"GET", "/healthz", "", true},
	{"GET", "/readyz", "", true},
}

func TestEveryRouteRefusesMissingAndWrongTokens(t *testing.T) {
	p := start(t, serveOpts{config: binaryConfig(""), pubTok: pubTok, mgmtTok: mgmtTok})
	check := func(base string, calls []call, good, other string) {
		for _, c := range calls {
			for _, tok := range []string{"", "wrong", other} {
				r := p.do(t, c.method, base+c.path, tok, c.body)
				if c.open {
					if r.status != http.StatusOK {
						t.Errorf("%s %s with token %q: %d, want 200 (open route): %s", c.method, c.path, tok, r.status, r.body)
					}
					continue
				}
				if r.status != http.StatusUnauthorized {
					t.Errorf("%s %s with token %q: %d, want 401: %s", c.method, c.path, tok, r.status, r.body)
				}
				var e api.Error
				if json.Unmarshal(r.body, &e) != nil || e.Error == "" {
					t.Errorf("%s %s: 401 without a JSON error: %s", c.method, c.path, r.body)
				}
			}
			r := p.do(t, c.method, base+c.path, good, c.body)
			if r.status >= 300 {
				t.Errorf("%s %s with the right token: %d: %s", c.method, c.path, r.status, r.body)
			}
		}
	}
	check(p.pub, publicCalls, pubTok, mgmtTok)
	check(p.mgmt, managementCalls, mgmtTok, pubTok)

	// The public API has no management routes and vice versa.
	if r := p.do(t, "GET", p.pub+"/v1/model", pubTok, ""); r.status != http.StatusNotFound {
		t.Errorf("GET /v1/model on the public API: %d, want 404", r.status)
	}
	if r := p.do(t, "POST", p.mgmt+"/v1/predict", mgmtTok, `{"features":{}}`); r.status != http.StatusNotFound {
		t.Errorf("POST /v1/predict on the management API: %d, want 404", r.status)
	}
	if r := p.do(t, "GET", p.pub+"/v1/predict", pubTok, ""); r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "POST" {
		t.Errorf("GET /v1/predict: %d (Allow %q), want 405 with Allow: POST", r.status, r.header.Get("Allow"))
	}

	// serve wrote a context that points at itself with both tokens.
	cs, err := client.LoadContexts(p.ctxFile)
	if err != nil {
		t.Fatal(err)
	}
	c, ok := cs.Get("")
	if !ok || c.Name != "phish" || c.PublicURL != p.pub || c.ManagementURL != p.mgmt || c.ManagementToken != mgmtTok || c.PublicToken != pubTok {
		t.Errorf("context = %+v (ok %v), want the server's URLs and tokens", c, ok)
	}
}

func TestTokenFlagsBeatEnvironment(t *testing.T) {
	p := start(t, serveOpts{config: binaryConfig(""), pubTok: "from-env", args: []string{"--public-token", "from-flag"}})
	if r := p.do(t, "POST", p.pub+"/v1/predict", "from-env", `{"features":{"a":1}}`); r.status != http.StatusUnauthorized {
		t.Errorf("env token accepted although the flag set another: %d", r.status)
	}
	if r := p.do(t, "POST", p.pub+"/v1/predict", "from-flag", `{"features":{"a":1}}`); r.status != http.StatusOK {
		t.Errorf("flag token refused: %d %s", r.status, r.body)
	}
}

func TestTokenFileFromConfig(t *testing.T) {
	f := filepath.Join(t.TempDir(), "mgmt.token")
	if err := os.WriteFile(f, []byte("file-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, serveOpts{config: binaryConfig("  server:\n    managementTokenFile: " + f + "\n")})
	if r := p.do(t, "GET", p.mgmt+"/v1/model", "", ""); r.status != http.StatusUnauthorized {
		t.Errorf("no token: %d, want 401", r.status)
	}
	if r := p.do(t, "GET", p.mgmt+"/v1/model", "file-token", ""); r.status != http.StatusOK {
		t.Errorf("file token: %d %s", r.status, r.body)
	}
}

func predictProba(t *testing.T, p *proc, features string) api.Prediction {
	t.Helper()
	r := p.pubDo(t, "POST", "/v1/predict", `{"features":`+features+`}`)
	wantStatus(t, r, 200, "predict")
	var pr api.Prediction
	r.json(t, &pr)
	return pr
}

func learnOK(t *testing.T, p *proc, features string, label any) api.LearnReply {
	t.Helper()
	lb, _ := json.Marshal(label)
	r := p.pubDo(t, "POST", "/v1/learn", `{"features":`+features+`,"label":`+string(lb)+`}`)
	wantStatus(t, r, http.StatusAccepted, "learn")
	var lr api.LearnReply
	r.json(t, &lr)
	return lr
}

func getModel(t *testing.T, p *proc) api.Model {
	t.Helper()
	r := p.mgmtDo(t, "GET", "/v1/model", "")
	wantStatus(t, r, 200, "GET /v1/model")
	var m api.Model
	r.json(t, &m)
	return m
}

func TestPredictLearnAndLateLabels(t *testing.T) {
	p := start(t, serveOpts{config: binaryConfig("")})
	first := predictProba(t, p, `{"a":1,"b":2}`)
	if first.ID == "" || first.ModelVersion != 1 {
		t.Fatalf("prediction %+v: want an id and version 1", first)
	}
	var last uint64
	for i := range 20 {
		lr := learnOK(t, p, fmt.Sprintf(`{"a":%d,"b":%d}`, i, 20-i), i%2)
		if lr.Seq != last+1 {
			t.Fatalf("seq %d after %d: sequence numbers must grow by one", lr.Seq, last)
		}
		last = lr.Seq
	}
	after := predictProba(t, p, `{"a":1,"b":2}`)
	if after.Proba["1"] == first.Proba["1"] {
		t.Errorf("learning 20 samples did not change the prediction: %+v", after)
	}
	// A label that arrives later joins the features predicted under the id.
	pr := p.pubDo(t, "POST", "/v1/predict", `{"id":"order-7","features":{"a":3,"b":4}}`)
	wantStatus(t, pr, 200, "predict with id")
	r := p.pubDo(t, "POST", "/v1/learn", `{"id":"order-7","label":true}`)
	wantStatus(t, r, 202, "late label")
	r = p.pubDo(t, "POST", "/v1/learn", `{"id":"order-7","label":true}`)
	wantStatus(t, r, 404, "second label for one id")
	r = p.pubDo(t, "POST", "/v1/learn", `{"id":"never-predicted","label":true}`)
	wantStatus(t, r, 404, "label for an unknown id")
	// A batch.
	r = p.pubDo(t, "POST", "/v1/predict", `{"instances":[{"a":1},{"a":2,"b":1},{}]}`)
	wantStatus(t, r, 200, "batch")
	var b api.PredictBatch
	r.json(t, &b)
	if len(b.Predictions) != 3 || b.Predictions[0].ID == b.Predictions[1].ID {
		t.Fatalf("batch reply %s: want 3 predictions with distinct ids", r.body)
	}
	m := getModel(t, p)
	if m.Counters.Learns != 21 || m.Counters.Predictions != 6 {
		t.Errorf("counters %+v: want 21 learns and 6 predictions", m.Counters)
	}
}

func TestBadInputChangesNothing(t *testing.T) {
	p := start(t, serveOpts{config: binaryConfig("  guard:\n    labels: [\"yes\", \"no\"]\n    maxBodyBytes: 2048\n")})
	learnOK(t, p, `{"a":1,"c":"red"}`, "yes")
	learnOK(t, p, `{"a":2,"c":"blue"}`, "no")
	before := predictProba(t, p, `{"a":1.5,"c":"red"}`)
	m0 := getModel(t, p)
	bad := []struct {
		name, path, body string
		status           int
		field            string
	}{
		{"malformed JSON", "/v1/learn", `{"features":{"a":1},"label":"yes"`, 400, ""},
		{"not an object", "/v1/learn", `[1,2]`, 400, ""},
		{"features not an object", "/v1/learn", `{"features":"a=1","label":"yes"}`, 400, "features"},
		{"feature is an array", "/v1/learn", `{"features":{"a":[1]},"label":"yes"}`, 400, "features.a"},
		{"feature is an object", "/v1/predict", `{"features":{"a":{"x":1}}}`, 400, "features.a"},
		{"string for a numeric feature", "/v1/learn", `{"features":{"a":"many"},"label":"yes"}`, 422, "features.a"},
		{"number for a categorical feature", "/v1/learn", `{"features":{"a":1,"c":3},"label":"yes"}`, 422, "features.c"},
		{"string for a numeric feature (predict)", "/v1/predict", `{"features":{"a":"x"}}`, 422, "features.a"},
		{"unknown label", "/v1/learn", `{"features":{"a":1},"label":"maybe"}`, 422, "label"},
		{"label is an object", "/v1/learn", `{"features":{"a":1},"label":{"v":1}}`, 422, "label"},
		{"missing label", "/v1/learn", `{"features":{"a":1}}`, 422, "label"},
		{"missing features", "/v1/learn", `{"label":"yes"}`, 400, "features"},
		{"unknown field", "/v1/learn", `{"features":{"a":1},"label":"yes","weight":2}`, 400, "weight"},
		{"two values", "/v1/learn", `{"features":{"a":1},"label":"yes"} {}`, 400, ""},
		{"empty body", "/v1/learn", ``, 400, ""},
		{"oversized body", "/v1/learn", `{"features":{"a":1,"pad":"` + strings.Repeat("x", 4096) + `"},"label":"yes"}`, 413, ""},
		{"oversized predict", "/v1/predict", `{"features":{"pad":"` + strings.Repeat("x", 4096) + `"}}`, 413, ""},
		{"features and instances", "/v1/predict", `{"features":{"a":1},"instances":[{"a":1}]}`, 400, "instances"},
		{"bad instance", "/v1/predict", `{"instances":[{"a":1},{"a":[2]}]}`, 400, "instances[1].features.a"},
		{"infer wrong datatype", "/v2/models/phish/infer", `{"inputs":[{"name":"a","shape":[1],"datatype":"FP64","data":["x"]}]}`, 400, "inputs[0].data"},
		{"infer shape mismatch", "/v2/models/phish/infer", `{"inputs":[{"name":"a","shape":[2],"datatype":"FP64","data":[1]}]}`, 400, "inputs[0].data"},
		{"infer no inputs", "/v2/models/phish/infer", `{"inputs":[]}`, 400, "inputs"},
	}
	for _, c := range bad {
		r := p.pubDo(t, "POST", c.path, c.body)
		if r.status != c.status {
			t.Errorf("%s: status %d, want %d: %s", c.name, r.status, c.status, r.body)
			continue
		}
		var e api.Error
		if err := json.Unmarshal(r.body, &e); err != nil || e.Error == "" {
			t.Errorf("%s: no JSON error: %s", c.name, r.body)
			continue
		}
		if e.Field != c.field {
			t.Errorf("%s: field %q, want %q (%s)", c.name, e.Field, c.field, e.Error)
		}
	}
	// A syntax error says where.
	r := p.pubDo(t, "POST", "/v1/learn", "{\"features\":\n{\"a\": 1,,}}")
	var e api.Error
	r.json(t, &e)
	if e.Line != 2 {
		t.Errorf("syntax error on line 2 reported at line %d: %+v", e.Line, e)
	}
	// Unknown model name in the OIP routes.
	if r := p.pubDo(t, "GET", "/v2/models/other", ""); r.status != 404 {
		t.Errorf("unknown OIP model: %d, want 404", r.status)
	}
	m1 := getModel(t, p)
	if m1.Counters.Learns != m0.Counters.Learns {
		t.Errorf("bad input was learned: %d learns, want %d", m1.Counters.Learns, m0.Counters.Learns)
	}
	if m1.Counters.Rejected < m0.Counters.Rejected+uint64(len(bad)) {
		t.Errorf("rejected = %d, want at least %d (each refused event counts)", m1.Counters.Rejected, m0.Counters.Rejected+uint64(len(bad)))
	}
	after := predictProba(t, p, `{"a":1.5,"c":"red"}`)
	if after.Proba["yes"] != before.Proba["yes"] || after.Prediction != before.Prediction {
		t.Errorf("bad input changed the model: %+v then %+v", before, after)
	}
}

func streamLines(t *testing.T, p *proc, body string) []api.StreamResult {
	t.Helper()
	r := p.pubDo(t, "POST", "/v1/stream", body)
	wantStatus(t, r, 200, "stream")
	if ct := r.header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Errorf("stream content type %q", ct)
	}
	var out []api.StreamResult
	sc := bufio.NewScanner(strings.NewReader(string(r.body)))
	for sc.Scan() {
		var res api.StreamResult
		if err := json.Unmarshal(sc.Bytes(), &res); err != nil {
			t.Fatalf("stream reply line %q: %v", sc.Text(), err)
		}
		out = append(out, res)
	}
	return out
}

func TestStreamPerLineErrors(t *testing.T) {
	p := start(t, serveOpts{config: binaryConfig("  guard:\n    maxBodyBytes: 256\n")})
	var in strings.Builder
	for i := range 10 {
		fmt.Fprintf(&in, `{"features":{"a":%d,"b":%d},"label":%d}`+"\n", i, i*i, i%2)
	}
	in.WriteString("{not json\n")                                                          // line 11
	in.WriteString(`{"features":{"a":"text"},"label":1}` + "\n")                           // 12: wrong type
	in.WriteString(`{"features":{"a":1},"label":"cat"}` + "\n")                            // 13: not binary
	in.WriteString(`{"features":{"a":1,"pad":"` + strings.Repeat("x", 400) + `"}}` + "\n") // 14: too long
	in.WriteString("\n")                                                                   // blank: no result
	in.WriteString(`{"features":{"a":1,"b":1}}` + "\n")                                    // 15: predict only
	in.WriteString(`{"features":{"a":2,"b":4,"y":1}}`)                                     // 16: target among features, no newline at the end
	res := streamLines(t, p, in.String())
	if len(res) != 16 {
		t.Fatalf("%d result lines, want 16: %+v", len(res), res)
	}
	for i, r := range res {
		if r.Line != i+1 {
			t.Errorf("result %d has line %d", i, r.Line)
		}
	}
	for i := range 10 {
		if res[i].Error != "" || res[i].Seq != uint64(i+1) {
			t.Errorf("line %d: %+v, want seq %d and no error", i+1, res[i], i+1)
		}
	}
	for _, i := range []int{10, 11, 12, 13} {
		if res[i].Error == "" || res[i].Seq != 0 {
			t.Errorf("line %d: %+v, want an error and no seq", i+1, res[i])
		}
	}
	if res[11].Field != "features.a" || res[12].Field != "label" {
		t.Errorf("fields: %q %q", res[11].Field, res[12].Field)
	}
	if res[14].Error != "" || res[14].Seq != 0 || res[14].Prediction == nil {
		t.Errorf("predict-only line: %+v", res[14])
	}
	if res[15].Seq != 11 {
		t.Errorf("the target among the features is the label: %+v", res[15])
	}
	m := getModel(t, p)
	if m.Counters.Learns != 11 || m.Counters.Rejected != 4 {
		t.Errorf("counters %+v: want 11 learns and 4 rejected", m.Counters)
	}
}

func TestLearnRateLimit(t *testing.T) {
	p := start(t, serveOpts{config: binaryConfig("  guard:\n    learnRate: 0.5\n    learnBurst: 2\n")})
	learnOK(t, p, `{"a":1}`, 1)
	learnOK(t, p, `{"a":2}`, 0)
	r := p.pubDo(t, "POST", "/v1/learn", `{"features":{"a":3},"label":1}`)
	wantStatus(t, r, http.StatusTooManyRequests, "third learn within the burst")
	if r.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	if m := getModel(t, p); m.Counters.Learns != 2 || m.Counters.Rejected != 1 {
		t.Errorf("counters %+v: want 2 learns, 1 rejected", m.Counters)
	}
}

func TestManagementLifecycle(t *testing.T) {
	p := start(t, serveOpts{config: binaryConfig(""), mgmtTok: mgmtTok})
	for i := range 30 {
		learnOK(t, p, fmt.Sprintf(`{"a":%d,"b":%g}`, i, float64(i)/3), i%2)
	}
	m := getModel(t, p)
	if m.Name != "phish" || m.Task != "binary" || m.Version != 1 || !m.Learning || m.Parameters["lr"] != 0.01 {
		t.Fatalf("model %+v", m)
	}
	var cfg map[string]any
	if err := json.Unmarshal(m.Config, &cfg); err != nil || cfg["kind"] != "Model" {
		t.Fatalf("config %s", m.Config)
	}

	// SSE: the first event is a metrics tick.
	events := make(chan api.Event, 16)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go sse(ctx, p.mgmt+"/v1/events", mgmtTok, events)
	if e := nextEvent(t, events, "metrics"); e.Metrics == nil || e.Metrics.Counters.Learns != 30 {
		t.Fatalf("first event %+v", e)
	}

	// PATCH a hyperparameter.
	r := p.mgmtDo(t, "PATCH", "/v1/model", `{"params":{"lr":0.05}}`)
	wantStatus(t, r, 200, "PATCH lr")
	var pm api.Model
	r.json(t, &pm)
	if pm.Parameters["lr"] != 0.05 {
		t.Errorf("lr after PATCH: %v", pm.Parameters["lr"])
	}
	r = p.mgmtDo(t, "PATCH", "/v1/model", `{"params":{"no_such_param":1}}`)
	wantStatus(t, r, 422, "PATCH an unknown parameter")
	r = p.mgmtDo(t, "PATCH", "/v1/model", `{"params":{}}`)
	wantStatus(t, r, 400, "PATCH nothing")

	// Snapshot a version, learn more, roll back: predictions return exactly.
	r = p.mgmtDo(t, "POST", "/v1/versions", `{"note":"good one"}`)
	wantStatus(t, r, 201, "POST /v1/versions")
	var v api.Version
	r.json(t, &v)
	if v.Version != 2 || v.Note != "good one" || v.Learns != 30 || !v.Current {
		t.Fatalf("new version %+v", v)
	}
	if e := nextEvent(t, events, "version"); e.Version == nil || e.Version.Version != 2 {
		t.Fatalf("version event %+v", e)
	}
	atV2 := predictProba(t, p, `{"a":4,"b":1}`)
	for i := range 10 {
		learnOK(t, p, fmt.Sprintf(`{"a":%d,"b":%d}`, -i, i), 1)
	}
	moved := predictProba(t, p, `{"a":4,"b":1}`)
	if moved.Proba["1"] == atV2.Proba["1"] {
		t.Fatal("learning did not move the prediction")
	}
	r = p.mgmtDo(t, "POST", "/v1/versions/2/rollback", "")
	wantStatus(t, r, 200, "rollback")
	back := predictProba(t, p, `{"a":4,"b":1}`)
	if back.Proba["1"] != atV2.Proba["1"] || back.ModelVersion != 2 {
		t.Errorf("after rollback to 2: %+v, want %+v", back, atV2)
	}
	if m := getModel(t, p); m.Counters.Learns != 30 || m.Parameters["lr"] != 0.05 {
		t.Errorf("after rollback: %+v", m.Counters)
	}
	r = p.mgmtDo(t, "POST", "/v1/versions/99/rollback", "")
	wantStatus(t, r, 404, "rollback to a missing version")
	r = p.mgmtDo(t, "POST", "/v1/versions/abc/rollback", "")
	wantStatus(t, r, 400, "rollback to a non-number")

	// PUT a new config: a new version; the old state is kept.
	r = p.mgmtDo(t, "PUT", "/v1/model", strings.Replace(binaryConfig(""), "logreg", "perceptron", 1))
	wantStatus(t, r, 200, "PUT /v1/model")
	var put api.Model
	r.json(t, &put)
	if put.Counters.Learns != 0 || put.Version <= 2 {
		t.Errorf("after PUT: version %d learns %d, want a fresh new version", put.Version, put.Counters.Learns)
	}
	r = p.mgmtDo(t, "PUT", "/v1/model", strings.Replace(binaryConfig(""), "logreg", "nope", 1))
	wantStatus(t, r, 422, "PUT an invalid config")
	var e api.Error
	r.json(t, &e)
	if e.Field != "spec.pipeline.model" || e.Line != 8 {
		t.Errorf("PUT error %+v: want field spec.pipeline.model at line 8", e)
	}
	r = p.mgmtDo(t, "GET", "/v1/versions", "")
	var vs []api.Version
	r.json(t, &vs)
	if len(vs) < 5 {
		t.Fatalf("versions %+v: want the initial, the snapshot, the pre-rollback, the pre-PUT and the PUT one", vs)
	}
	cur := 0
	for _, v := range vs {
		if v.Current {
			cur++
		}
	}
	if cur != 1 {
		t.Errorf("%d current versions", cur)
	}

	// Pause and resume.
	wantStatus(t, p.mgmtDo(t, "POST", "/v1/learning/pause", ""), 200, "pause")
	r = p.pubDo(t, "POST", "/v1/learn", `{"features":{"a":1},"label":1}`)
	wantStatus(t, r, http.StatusConflict, "learn while paused")
	if m := getModel(t, p); m.Learning {
		t.Error("model still learning after pause")
	}
	wantStatus(t, p.mgmtDo(t, "POST", "/v1/learning/resume", ""), 200, "resume")
	learnOK(t, p, `{"a":1}`, 1)

	// Metrics, drift, Prometheus.
	r = p.mgmtDo(t, "GET", "/v1/metrics", "")
	var mt api.Metrics
	r.json(t, &mt)
	if mt.Task != "binary" || mt.Window != 1000 || mt.Counters.Learns != 1 {
		t.Errorf("metrics %+v", mt)
	}
	r = p.mgmtDo(t, "GET", "/v1/drift", "")
	var d api.Drift
	r.json(t, &d)
	if d.Detector != "adwin" || d.Watches != "error" || d.Events == nil {
		t.Errorf("drift %s", r.body)
	}
	r = p.mgmtDo(t, "GET", "/metrics", "")
	for _, want := range []string{"olops_learns_total{model=\"phish\"} 1", "olops_model_version{model=\"phish\"}", "olops_request_duration_seconds_bucket{model=\"phish\",route=\"predict\",le=\"+Inf\"}"} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func sse(ctx context.Context, url, token string, out chan<- api.Event) {
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var e api.Event
		if json.Unmarshal([]byte(data), &e) == nil {
			select {
			case out <- e:
			case <-ctx.Done():
				return
			}
		}
	}
}

func nextEvent(t *testing.T, c <-chan api.Event, typ string) api.Event {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e := <-c:
			if e.Type == typ {
				return e
			}
		case <-deadline:
			t.Fatalf("no %q event within 10s", typ)
		}
	}
}

func TestRestartKeepsStateAndVersions(t *testing.T) {
	dir := t.TempDir()
	// Snapshot every 7 events: the restart loads a snapshot and replays.
	cfg := binaryConfig("  snapshots:\n    every: 7\n    keep: 2\n")
	p := start(t, serveOpts{config: cfg, dataDir: dir})
	for i := range 25 {
		learnOK(t, p, fmt.Sprintf(`{"a":%d,"c":"k%d"}`, i, i%3), i%2)
	}
	wantStatus(t, p.mgmtDo(t, "POST", "/v1/versions", `{"note":"kept"}`), 201, "snapshot")
	learnOK(t, p, `{"a":1,"c":"k1"}`, 1)
	before := predictProba(t, p, `{"a":3,"c":"k2"}`)
	p.stop()
	if !strings.Contains(p.output(), `"msg":"stopped"`) {
		t.Errorf("no clean stop after SIGTERM:\n%s", p.output())
	}
	q := start(t, serveOpts{config: cfg, dataDir: dir})
	after := predictProba(t, q, `{"a":3,"c":"k2"}`)
	if after.Proba["1"] != before.Proba["1"] || after.ModelVersion != 2 {
		t.Errorf("after restart %+v, before %+v", after, before)
	}
	if m := getModel(t, q); m.Counters.Learns != 26 {
		t.Errorf("learns after restart: %d, want 26", m.Counters.Learns)
	}
	r := q.mgmtDo(t, "GET", "/v1/versions", "")
	if !strings.Contains(string(r.body), `"note":"kept"`) {
		t.Errorf("versions lost: %s", r.body)
	}
	// A new metrics window keeps the learned model: same predictions and
	// learn count, as a new version whose metrics start over.
	q.stop()
	w := start(t, serveOpts{config: cfg + "  window: 50\n", dataDir: dir})
	got := predictProba(t, w, `{"a":3,"c":"k2"}`)
	if got.Proba["1"] != before.Proba["1"] || got.ModelVersion <= 2 {
		t.Errorf("after a window change %+v, before %+v", got, before)
	}
	if m := getModel(t, w); m.Counters.Learns != 26 {
		t.Errorf("learns after a window change: %d, want 26", m.Counters.Learns)
	}
	// A different model in the config starts a new version, keeping the old.
	w.stop()
	z := start(t, serveOpts{config: strings.Replace(cfg, "logreg", "gnb", 1), dataDir: dir})
	m := getModel(t, z)
	if m.Version <= 2 || m.Counters.Learns != 0 {
		t.Errorf("changed config: version %d learns %d, want a fresh new version", m.Version, m.Counters.Learns)
	}
	r = z.mgmtDo(t, "POST", "/v1/versions/2/rollback", "")
	wantStatus(t, r, 200, "rollback to the logreg version")
	if got := predictProba(t, z, `{"a":3,"c":"k2"}`); got.ModelVersion != 2 {
		t.Errorf("rollback across a config change: %+v", got)
	}
}

func TestOpenInferenceProtocol(t *testing.T) {
	p := start(t, serveOpts{config: binaryConfig("")})
	for i := range 10 {
		learnOK(t, p, fmt.Sprintf(`{"a":%d,"c":"k%d"}`, i, i%2), i%2)
	}
	r := p.pubDo(t, "GET", "/v2/health/live", "")
	wantStatus(t, r, 200, "live")
	r = p.pubDo(t, "GET", "/v2/models/phish/ready", "")
	var ready map[string]any
	r.json(t, &ready)
	if ready["ready"] != true {
		t.Errorf("model ready %s", r.body)
	}
	r = p.pubDo(t, "GET", "/v2/models/phish", "")
	var meta struct {
		Name    string `json:"name"`
		Inputs  []tensorMeta
		Outputs []tensorMeta
	}
	r.json(t, &meta)
	if meta.Name != "phish" || len(meta.Inputs) != 2 || meta.Inputs[1].Datatype != "BYTES" || len(meta.Outputs) != 2 {
		t.Errorf("metadata %s", r.body)
	}
	r = p.pubDo(t, "POST", "/v2/models/phish/infer", `{"id":"q","inputs":[
		{"name":"a","shape":[2,1],"datatype":"FP64","data":[[3],[4]]},
		{"name":"c","shape":[2],"datatype":"BYTES","data":["k1","k0"]}]}`)
	wantStatus(t, r, 200, "infer")
	var out inferResponse
	r.json(t, &out)
	if out.ID != "q" || len(out.Outputs) != 2 || out.Outputs[0].Name != "predict" || len(out.Outputs[0].Data) != 2 ||
		out.Outputs[1].Name != "proba" || len(out.Outputs[1].Data) != 4 {
		t.Fatalf("infer reply %s", r.body)
	}
	// The same sample through /v1/predict gives the same probability.
	one := predictProba(t, p, `{"a":3,"c":"k1"}`)
	classes := out.Outputs[1].Parameters["classes"].([]any)
	for k, c := range classes {
		if out.Outputs[1].Data[k].(float64) != one.Proba[c.(string)] {
			t.Errorf("class %v: infer %v, predict %v", c, out.Outputs[1].Data[k], one.Proba[c.(string)])
		}
	}
	r = p.pubDo(t, "POST", "/v2/models/phish/infer", `{"inputs":[{"name":"a","shape":[1],"datatype":"FP64","data":[1]}],"outputs":[{"name":"predict"}]}`)
	r.json(t, &out)
	if len(out.Outputs) != 1 || out.Outputs[0].Name != "predict" {
		t.Errorf("requested outputs only: %s", r.body)
	}
}

func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := selfSigned(t, dir)
	p := start(t, serveOpts{config: binaryConfig(""), args: []string{"--tls-cert", certFile, "--tls-key", keyFile}})
	if !strings.HasPrefix(p.pub, "https://") || !strings.HasPrefix(p.mgmt, "https://") {
		t.Fatalf("URLs %s %s: want https", p.pub, p.mgmt)
	}
	wantStatus(t, p.pubDo(t, "GET", "/healthz", ""), 200, "healthz over TLS")
	predictProba(t, p, `{"a":1}`)
	// Plain HTTP to a TLS port does not work.
	resp, err := http.Get(strings.Replace(p.pub, "https://", "http://", 1) + "/healthz")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Error("plain HTTP answered 200 on the TLS port")
		}
	}
}

func selfSigned(t *testing.T, dir string) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cf, kf := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(cf, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(kf, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return cf, kf
}

func TestServeWithoutConfigAndBadFlags(t *testing.T) {
	p := start(t, serveOpts{args: []string{"--model", "linreg", "--target", "price"}})
	for i := range 5 {
		learnOK(t, p, fmt.Sprintf(`{"size":%d}`, i), float64(i)*2.5)
	}
	pr := predictProba(t, p, `{"size":3}`)
	if _, ok := pr.Prediction.(float64); !ok {
		t.Errorf("regression prediction %+v is not a number", pr)
	}
	r := p.pubDo(t, "POST", "/v1/learn", `{"features":{"size":1},"label":"cheap"}`)
	wantStatus(t, r, 422, "non-numeric regression label")

	// --name renames the model (olops deploy --name runs a config under another name).
	n := start(t, serveOpts{config: binaryConfig(""), args: []string{"--name", "phish2"}})
	if m := getModel(t, n); m.Name != "phish2" {
		t.Errorf("--name phish2: model is named %q", m.Name)
	}
	wantStatus(t, n.pubDo(t, "GET", "/v2/models/phish2/ready", ""), 200, "OIP under the new name")

	for _, args := range [][]string{
		{"serve", "--model", "logreg"},
		{"serve", "--model", "nope", "--target", "y"},
		{"serve", "--log-level", "loud", "--model", "logreg", "--target", "y"},
		{"serve", "--model", "logreg", "--target", "y", "--name", "Not A Name!"},
	} {
		cmd := runCLI(t, args...)
		if cmd.code != 2 {
			t.Errorf("olops %v: exit %d, want 2 (usage):\n%s", args, cmd.code, cmd.out)
		}
	}
}

func TestValidateCommand(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(good, []byte(binaryConfig("")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(strings.Replace(binaryConfig("  durability: often\n"), "logreg", "foo", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, "validate", good); r.code != 0 || !strings.Contains(r.out, "valid") {
		t.Errorf("validate good: exit %d\n%s", r.code, r.out)
	}
	r := runCLI(t, "validate", bad)
	if r.code != 1 {
		t.Errorf("validate bad: exit %d, want 1\n%s", r.code, r.out)
	}
	for _, want := range []string{bad + `:8: spec.pipeline.model: unknown model "foo" (known: logreg`, bad + ":9: spec.durability: unknown mode"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("validate output lacks %q:\n%s", want, r.out)
		}
	}
	r = runCLI(t, "validate", bad, "-o", "json")
	var res struct {
		Valid    bool
		Problems []struct {
			Line  int
			Field string
		}
	}
	if i := strings.Index(r.out, "{"); i < 0 || json.Unmarshal([]byte(r.out[i:strings.LastIndex(r.out, "}")+1]), &res) != nil || res.Valid || len(res.Problems) != 2 || res.Problems[0].Line != 8 {
		t.Errorf("validate -o json:\n%s", r.out)
	}
}
