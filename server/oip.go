package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/olops/olops/internal/api"
	"github.com/olops/olops/internal/learn"
)

// The Open Inference Protocol (KServe / Seldon "V2") over REST: each
// feature is one input tensor of shape [N] (or [N, 1]); the outputs are
// "predict" (labels or values) and, for classifiers, "proba" of shape
// [N, classes] with the class names in its parameters.

type inferTensor struct {
	Name       string         `json:"name"`
	Shape      []int64        `json:"shape"`
	Datatype   string         `json:"datatype"`
	Parameters map[string]any `json:"parameters,omitempty"`
	Data       []any          `json:"data"`
}

type inferOutputRequest struct {
	Name       string         `json:"name"`
	Parameters map[string]any `json:"parameters,omitempty"`
}

type inferRequest struct {
	ID         string               `json:"id,omitempty"`
	Parameters map[string]any       `json:"parameters,omitempty"`
	Inputs     []inferTensor        `json:"inputs"`
	Outputs    []inferOutputRequest `json:"outputs,omitempty"`
}

type inferResponse struct {
	ModelName    string         `json:"model_name"`
	ModelVersion string         `json:"model_version,omitempty"`
	ID           string         `json:"id,omitempty"`
	Parameters   map[string]any `json:"parameters,omitempty"`
	Outputs      []inferTensor  `json:"outputs"`
}

type tensorMeta struct {
	Name     string  `json:"name"`
	Datatype string  `json:"datatype"`
	Shape    []int64 `json:"shape"`
}

func flatten(v []any, out []any) []any {
	for _, x := range v {
		if a, ok := x.([]any); ok {
			out = flatten(a, out)
		} else {
			out = append(out, x)
		}
	}
	return out
}

// decodeInfer parses an OIP inference request into one feature map per
// row.
func decodeInfer(b []byte) (*inferRequest, []api.Features, *reqError) {
	var req inferRequest
	if err := decodeJSON(b, &req); err != nil {
		return nil, nil, err
	}
	if len(req.Inputs) == 0 {
		return nil, nil, newReqError(http.StatusBadRequest, "inputs", "no inputs: send one tensor per feature, e.g. {\"name\": \"x1\", \"shape\": [1], \"datatype\": \"FP64\", \"data\": [0.5]}")
	}
	n := -1
	var rows []api.Features
	for i, in := range req.Inputs {
		field := fmt.Sprintf("inputs[%d]", i)
		if in.Name == "" {
			return nil, nil, newReqError(http.StatusBadRequest, field+".name", "an input needs the feature's name")
		}
		if len(in.Shape) == 0 || in.Shape[0] < 0 {
			return nil, nil, newReqError(http.StatusBadRequest, field+".shape", "shape must be [N] or [N, 1]")
		}
		for _, d := range in.Shape[1:] {
			if d != 1 {
				return nil, nil, newReqError(http.StatusBadRequest, field+".shape", "shape must be [N] or [N, 1]: one tensor per feature")
			}
		}
		data := flatten(in.Data, nil)
		if int64(len(data)) != in.Shape[0] {
			return nil, nil, newReqError(http.StatusBadRequest, field+".data", "shape says %d values, data has %d", in.Shape[0], len(data))
		}
		if n == -1 {
			n = len(data)
			rows = make([]api.Features, n)
			for j := range rows {
				rows[j] = make(api.Features, len(req.Inputs))
			}
		} else if len(data) != n {
			return nil, nil, newReqError(http.StatusBadRequest, field+".shape", "every input needs the same batch size: %d, not %d", n, len(data))
		}
		dt := strings.ToUpper(in.Datatype)
		for j, v := range data {
			switch t := v.(type) {
			case nil:
			case float64:
				if dt == "BYTES" {
					return nil, nil, newReqError(http.StatusBadRequest, field+".data", "datatype BYTES holds strings, not numbers")
				}
			case string:
				if dt != "BYTES" && dt != "" {
					return nil, nil, newReqError(http.StatusBadRequest, field+".data", "datatype %s holds numbers, not strings: use BYTES", in.Datatype)
				}
			case bool:
				if dt != "BOOL" && dt != "" {
					return nil, nil, newReqError(http.StatusBadRequest, field+".data", "datatype %s holds numbers, not booleans: use BOOL", in.Datatype)
				}
			default:
				return nil, nil, newReqError(http.StatusBadRequest, field+".data", "a value must be a number, string or boolean, not %s", jsonKind(t))
			}
			rows[j][in.Name] = v
		}
	}
	for i, o := range req.Outputs {
		if o.Name != "predict" && o.Name != "proba" {
			return nil, nil, newReqError(http.StatusBadRequest, fmt.Sprintf("outputs[%d].name", i), "unknown output %q: use predict or proba", o.Name)
		}
	}
	return &req, rows, nil
}

func (s *Server) modelName(w http.ResponseWriter, r *http.Request) bool {
	name := s.cfg.Load().Metadata.Name
	if r.PathValue("name") != name {
		writeErr(w, http.StatusNotFound, api.Error{Error: fmt.Sprintf("unknown model %q: this server serves %q", r.PathValue("name"), name), Field: "name"})
		return false
	}
	return true
}

func (s *Server) handleV2Server(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"name": "olops", "version": "1", "extensions": []string{}})
}

func (s *Server) handleV2Live(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]bool{"live": true})
}

func (s *Server) handleV2Ready(w http.ResponseWriter, r *http.Request) {
	ok := s.ready() == nil
	st := http.StatusOK
	if !ok {
		st = http.StatusServiceUnavailable
	}
	writeJSON(w, st, map[string]bool{"ready": ok})
}

func (s *Server) handleV2ModelReady(w http.ResponseWriter, r *http.Request) {
	if !s.modelName(w, r) {
		return
	}
	ok := s.ready() == nil
	st := http.StatusOK
	if !ok {
		st = http.StatusServiceUnavailable
	}
	writeJSON(w, st, map[string]any{"name": r.PathValue("name"), "ready": ok})
}

func (s *Server) handleV2Model(w http.ResponseWriter, r *http.Request) {
	if !s.modelName(w, r) {
		return
	}
	s.mu.Lock()
	m, ver := s.m, s.version
	var inputs []tensorMeta
	for i, name := range m.p.Schema.Names {
		dt := "FP64"
		if m.p.Schema.Kinds[i] == learn.Categorical {
			dt = "BYTES"
		}
		inputs = append(inputs, tensorMeta{Name: name, Datatype: dt, Shape: []int64{-1}})
	}
	task := m.cfg.Spec.Task
	classes := len(m.p.Labels)
	s.mu.Unlock()
	outputs := []tensorMeta{{Name: "predict", Datatype: "BYTES", Shape: []int64{-1}}}
	if task == learn.Regression {
		outputs[0].Datatype = "FP64"
	} else {
		outputs = append(outputs, tensorMeta{Name: "proba", Datatype: "FP64", Shape: []int64{-1, int64(max(classes, -1))}})
	}
	if inputs == nil {
		inputs = []tensorMeta{}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"name": r.PathValue("name"), "versions": []string{strconv.Itoa(ver)}, "platform": "olops",
		"inputs": inputs, "outputs": outputs,
	})
}

func (s *Server) handleV2Infer(w http.ResponseWriter, r *http.Request) {
	t0 := time.Now()
	defer func() { s.lat.infer.observe(time.Since(t0)) }()
	if !s.modelName(w, r) {
		return
	}
	b, release, rerr := s.readBody(w, r)
	if rerr != nil {
		s.refuse(w, rerr)
		return
	}
	req, rows, rerr := decodeInfer(b)
	release()
	if rerr != nil {
		s.refuse(w, rerr)
		return
	}
	skip := skipper(s.cfg.Load())
	xs := make([]sample, len(rows))
	for i, f := range rows {
		x, aerr := canonical(f, skip)
		if aerr != nil {
			s.refuse(w, fromAPI(http.StatusBadRequest, aerr))
			return
		}
		xs[i] = x
	}
	var o outcome
	n := len(xs)
	labels := make([]any, n)
	var proba []any
	var classes []string
	s.mu.Lock()
	m, ver := s.m, s.version
	reg := m.cfg.Spec.Task == learn.Regression
	k := len(m.p.Labels)
	if !reg {
		for c := range k {
			classes = append(classes, m.className(c))
		}
		proba = make([]any, 0, n*k)
	}
	for i, x := range xs {
		if aerr := m.predict(x, &s.prow, &o); aerr != nil {
			s.mu.Unlock()
			aerr.Error = fmt.Sprintf("row %d: %s", i, aerr.Error)
			s.refuse(w, fromAPI(http.StatusUnprocessableEntity, aerr))
			return
		}
		switch {
		case o.empty && reg:
			labels[i] = nil
		case o.empty:
			labels[i] = ""
		case reg:
			labels[i] = o.value
		default:
			labels[i] = o.label
		}
		if !reg {
			for c := range k {
				q := 0.0
				if c < len(o.proba) {
					q = o.proba[c]
				}
				proba = append(proba, q)
			}
		}
	}
	s.mu.Unlock()
	s.preds.Add(uint64(n))
	want := map[string]bool{"predict": true, "proba": true}
	if len(req.Outputs) > 0 {
		want = map[string]bool{}
		for _, o := range req.Outputs {
			want[o.Name] = true
		}
	}
	resp := inferResponse{ModelName: r.PathValue("name"), ModelVersion: strconv.Itoa(ver), ID: req.ID, Outputs: []inferTensor{}}
	if want["predict"] {
		dt := "BYTES"
		if reg {
			dt = "FP64"
		}
		resp.Outputs = append(resp.Outputs, inferTensor{Name: "predict", Datatype: dt, Shape: []int64{int64(n)}, Data: labels})
	}
	if want["proba"] && !reg {
		resp.Outputs = append(resp.Outputs, inferTensor{Name: "proba", Datatype: "FP64", Shape: []int64{int64(n), int64(k)},
			Parameters: map[string]any{"classes": classes}, Data: proba})
	}
	writeJSON(w, http.StatusOK, resp)
}
