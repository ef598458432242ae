package server

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var pathParam = regexp.MustCompile(`\{([a-z]+)\}`)

// openAPI builds the OpenAPI 3.1 document from the same route table that
// the mux is built from, so the two cannot drift apart.
func openAPI(title string, routes []route, secured bool) map[string]any {
	paths := map[string]any{}
	for _, rt := range routes {
		item, _ := paths[rt.path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[rt.path] = item
		}
		ok := map[string]any{"description": "success"}
		if rt.reply != "" {
			ok["content"] = content(rt.reply)
		}
		op := map[string]any{
			"summary":     rt.summary,
			"operationId": strings.ToLower(rt.method) + opName(rt.path),
			"responses": map[string]any{
				itoa(rt.status): ok,
				"default":       map[string]any{"description": "error", "content": content("Error")},
			},
		}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(rt.path, -1) {
			typ := "string"
			if m[1] == "n" {
				typ = "integer"
			}
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": typ}})
		}
		if params != nil {
			op["parameters"] = params
		}
		if rt.body != "" {
			op["requestBody"] = map[string]any{"required": !rt.optionalBody, "content": content(rt.body)}
		}
		if rt.open || !secured {
			op["security"] = []any{}
		}
		item[strings.ToLower(rt.method)] = op
	}
	doc := map[string]any{
		"openapi": "3.1.0",
		"info":    map[string]any{"title": title, "version": "1"},
		"paths":   paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
			"schemas":         schemas,
		},
	}
	if secured {
		doc["security"] = []any{map[string]any{"bearer": []any{}}}
	}
	return doc
}

func itoa(n int) string {
	if n == 0 {
		n = 200
	}
	return strconv.Itoa(n)
}

func opName(path string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(path, func(r rune) bool { return r == '/' || r == '{' || r == '}' || r == '.' || r == '-' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

func content(schema string) map[string]any {
	switch schema {
	case "Text":
		return map[string]any{"text/plain": map[string]any{"schema": map[string]any{"type": "string"}}}
	case "Event":
		return map[string]any{"text/event-stream": map[string]any{"schema": ref(schema)}}
	case "StreamLine", "StreamResult":
		return map[string]any{"application/x-ndjson": map[string]any{"schema": ref(schema)}}
	case "Config":
		return map[string]any{
			"application/yaml": map[string]any{"schema": ref(schema)},
			"application/json": map[string]any{"schema": ref(schema)},
		}
	}
	return map[string]any{"application/json": map[string]any{"schema": ref(schema)}}
}

func ref(name string) map[string]any {
	return map[string]any{"$ref": "#/components/schemas/" + name}
}

func obj(props map[string]any, required ...string) map[string]any {
	o := map[string]any{"type": "object", "properties": props}
	if required != nil {
		o["required"] = required
	}
	return o
}

var (
	str       = map[string]any{"type": "string"}
	num       = map[string]any{"type": "number"}
	integer   = map[string]any{"type": "integer"}
	boolean   = map[string]any{"type": "boolean"}
	anyVal    = map[string]any{}
	feats     = map[string]any{"type": "object", "description": "feature name to number, string, boolean or null", "additionalProperties": map[string]any{"type": []any{"number", "string", "boolean", "null"}}}
	numMap    = map[string]any{"type": "object", "additionalProperties": num}
	counter   = obj(map[string]any{"predictions": integer, "learns": integer, "rejected": integer, "drifts": integer})
	driftEv   = obj(map[string]any{"index": integer, "time": str, "metric": str, "before": num, "after": num})
	version   = obj(map[string]any{"version": integer, "created": str, "note": str, "learns": integer, "current": boolean})
	oaModel   = obj(map[string]any{"name": str, "task": str, "version": integer, "learning": boolean, "started_at": str, "counters": counter, "config": map[string]any{"type": "object"}, "parameters": map[string]any{"type": "object"}})
	oaMetrics = obj(map[string]any{"task": str, "overall": numMap, "rolling": numMap, "window": integer, "counters": counter,
		"rates":      obj(map[string]any{"predictions_per_second": num, "learns_per_second": num}),
		"latency_ms": obj(map[string]any{"p50": num, "p99": num})})
	tensor  = obj(map[string]any{"name": str, "shape": map[string]any{"type": "array", "items": integer}, "datatype": str, "parameters": map[string]any{"type": "object"}, "data": map[string]any{"type": "array"}}, "name", "shape", "datatype", "data")
	schemas = map[string]any{
		"Object":         map[string]any{"type": "object"},
		"Error":          obj(map[string]any{"error": str, "field": str, "line": integer}, "error"),
		"PredictRequest": obj(map[string]any{"id": str, "features": feats, "instances": map[string]any{"type": "array", "items": feats}}),
		"Prediction":     obj(map[string]any{"id": str, "prediction": anyVal, "proba": numMap, "model_version": integer, "predictions": map[string]any{"type": "array"}}),
		"LearnRequest":   obj(map[string]any{"id": str, "features": feats, "label": anyVal}, "label"),
		"LearnReply":     obj(map[string]any{"seq": integer, "model_version": integer}, "seq", "model_version"),
		"StreamLine":     obj(map[string]any{"features": feats, "label": anyVal}, "features"),
		"StreamResult":   obj(map[string]any{"line": integer, "prediction": anyVal, "proba": numMap, "seq": integer, "drift": boolean, "error": str, "field": str}, "line"),
		"InferRequest":   obj(map[string]any{"id": str, "parameters": map[string]any{"type": "object"}, "inputs": map[string]any{"type": "array", "items": tensor}, "outputs": map[string]any{"type": "array"}}, "inputs"),
		"InferResponse":  obj(map[string]any{"model_name": str, "model_version": str, "id": str, "outputs": map[string]any{"type": "array", "items": tensor}}, "model_name", "outputs"),
		"Config":         obj(map[string]any{"apiVersion": str, "kind": str, "metadata": map[string]any{"type": "object"}, "spec": map[string]any{"type": "object"}}, "apiVersion", "kind", "metadata", "spec"),
		"Patch":          obj(map[string]any{"params": map[string]any{"type": "object"}}, "params"),
		"Model":          oaModel,
		"Metrics":        oaMetrics,
		"Challenger": obj(map[string]any{"model": str, "started": str, "start_seq": integer, "learns": integer, "metric": str,
			"challenger": numMap, "champion": numMap, "better": boolean, "config": map[string]any{"type": "object"}}),
		"Drift":           obj(map[string]any{"detector": str, "watches": str, "warning": boolean, "events": map[string]any{"type": "array", "items": driftEv}}),
		"Version":         version,
		"Versions":        map[string]any{"type": "array", "items": version},
		"SnapshotRequest": obj(map[string]any{"note": str}),
		"Event":           obj(map[string]any{"type": map[string]any{"enum": []any{"metrics", "drift", "version"}}, "time": str, "metrics": oaMetrics, "drift": driftEv, "version": version, "model": oaModel}, "type", "time"),
	}
)

func (s *Server) handleOpenAPI(management bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var doc map[string]any
		if management {
			doc = openAPI("olops management API", s.managementRoutes(), s.o.ManagementToken != "")
		} else {
			doc = openAPI("olops public API", s.publicRoutes(), s.o.PublicToken != "")
		}
		writeJSON(w, http.StatusOK, doc)
	}
}

func timeSince(t time.Time) float64 { return time.Since(t).Seconds() }
