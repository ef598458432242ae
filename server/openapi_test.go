package server

import (
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// The routes issue 3 asks for, by API: the document must list them all.
var wantRoutes = map[string][]string{
	"public": {
		"POST /v1/predict", "POST /v1/learn", "POST /v1/stream",
		"GET /v2/health/live", "GET /v2/health/ready", "GET /v2/models/{name}", "GET /v2/models/{name}/ready", "POST /v2/models/{name}/infer",
		"GET /healthz", "GET /readyz", "GET /openapi.json",
	},
	"management": {
		"GET /v1/model", "PUT /v1/model", "PATCH /v1/model", "GET /v1/metrics", "GET /v1/drift",
		"GET /v1/versions", "POST /v1/versions", "POST /v1/versions/{n}/rollback",
		"POST /v1/learning/pause", "POST /v1/learning/resume", "GET /v1/events", "GET /metrics",
		"GET /v1/challenger", "PUT /v1/challenger", "POST /v1/challenger/promote", "DELETE /v1/challenger",
		"GET /healthz", "GET /readyz", "GET /openapi.json",
	},
}

var samplePath = strings.NewReplacer("{name}", "phish", "{n}", "1")

// TestOpenAPIMatchesTheServer walks each listener's /openapi.json against
// the running binary: every documented operation is routed (neither 404
// nor 405), every route the issue names is documented, and methods the
// document does not list are refused with 405.
func TestOpenAPIMatchesTheServer(t *testing.T) {
	p := start(t, serveOpts{config: binaryConfig(""), pubTok: pubTok, mgmtTok: mgmtTok})
	for _, api := range []struct {
		name, base, tok string
	}{{"public", p.pub, pubTok}, {"management", p.mgmt, mgmtTok}} {
		r := p.do(t, "GET", api.base+"/openapi.json", api.tok, "")
		wantStatus(t, r, 200, api.name+" openapi.json")
		var doc struct {
			OpenAPI string                                `json:"openapi"`
			Paths   map[string]map[string]json.RawMessage `json:"paths"`
			Comps   struct {
				Schemas map[string]json.RawMessage `json:"schemas"`
			} `json:"components"`
		}
		r.json(t, &doc)
		if doc.OpenAPI != "3.1.0" {
			t.Errorf("%s: openapi %q, want 3.1.0", api.name, doc.OpenAPI)
		}
		documented := map[string]bool{}
		for path, ops := range doc.Paths {
			for method, op := range ops {
				key := strings.ToUpper(method) + " " + path
				documented[key] = true
				// Each $ref points at a schema that exists.
				for _, m := range regexp.MustCompile(`#/components/schemas/(\w+)`).FindAllStringSubmatch(string(op), -1) {
					if _, ok := doc.Comps.Schemas[m[1]]; !ok {
						t.Errorf("%s %s refers to a missing schema %s", api.name, key, m[1])
					}
				}
				if key == "GET /v1/events" {
					continue // a stream that never ends: checked by the lifecycle test
				}
				res := p.do(t, strings.ToUpper(method), api.base+samplePath.Replace(path), api.tok, "")
				if res.status == http.StatusMethodNotAllowed {
					t.Errorf("%s: documented %s answers %d: %s", api.name, key, res.status, res.body)
				}
				if res.status == http.StatusNotFound {
					// What a path names may not exist (a version, the
					// challenger); the reply must then be the handler's JSON
					// error, not the mux's "no route".
					if strings.Contains(string(res.body), "no route") {
						t.Errorf("%s: documented %s is not routed: %s", api.name, key, res.body)
					}
				}
			}
		}
		for _, want := range wantRoutes[api.name] {
			if !documented[want] {
				t.Errorf("%s: %s is not documented", api.name, want)
			}
		}
		// Every route the mux serves is documented: the handler is built
		// from the same table, and an undocumented method is refused.
		var routes []route
		if api.name == "public" {
			routes = (&Server{}).publicRoutes()
		} else {
			routes = (&Server{}).managementRoutes()
		}
		var served []string
		for _, rt := range routes {
			served = append(served, rt.method+" "+rt.path)
			if !documented[rt.method+" "+rt.path] {
				t.Errorf("%s: route %s %s is served but not documented", api.name, rt.method, rt.path)
			}
		}
		sort.Strings(served)
		if len(served) != len(documented) {
			t.Errorf("%s: %d routes served, %d documented", api.name, len(served), len(documented))
		}
		for path := range doc.Paths {
			for _, m := range []string{"DELETE", "PUT", "PATCH", "POST", "GET"} {
				if documented[m+" "+path] {
					continue
				}
				res := p.do(t, m, api.base+samplePath.Replace(path), api.tok, "")
				if res.status != http.StatusMethodNotAllowed {
					t.Errorf("%s: undocumented %s %s answers %d, want 405", api.name, m, path, res.status)
				}
			}
		}
	}
}
