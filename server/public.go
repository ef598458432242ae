package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/olops/olops/internal/api"
	"github.com/olops/olops/internal/config"
	"github.com/olops/olops/internal/learn"
)

func (s *Server) publicRoutes() []route {
	return []route{
		{method: "POST", path: "/v1/predict", h: s.handlePredict, summary: "Predict one sample ({\"features\": {...}}) or a batch ({\"instances\": [...]})", body: "PredictRequest", reply: "Prediction", status: 200},
		{method: "POST", path: "/v1/learn", h: s.handleLearn, summary: "Learn one labelled sample, or join a late label to a prediction's id; 202 once durable", body: "LearnRequest", reply: "LearnReply", status: 202},
		{method: "POST", path: "/v1/stream", h: s.handleStream, summary: "NDJSON in, NDJSON out: predict, score and learn each line", body: "StreamLine", reply: "StreamResult", status: 200},
		{method: "GET", path: "/v2", h: s.handleV2Server, summary: "Open Inference Protocol: server metadata", reply: "Object", status: 200},
		{method: "GET", path: "/v2/health/live", h: s.handleV2Live, summary: "Open Inference Protocol: liveness", reply: "Object", status: 200},
		{method: "GET", path: "/v2/health/ready", h: s.handleV2Ready, summary: "Open Inference Protocol: readiness", reply: "Object", status: 200},
		{method: "GET", path: "/v2/models/{name}", h: s.handleV2Model, summary: "Open Inference Protocol: model metadata", reply: "Object", status: 200},
		{method: "GET", path: "/v2/models/{name}/ready", h: s.handleV2ModelReady, summary: "Open Inference Protocol: model readiness", reply: "Object", status: 200},
		{method: "POST", path: "/v2/models/{name}/infer", h: s.handleV2Infer, summary: "Open Inference Protocol: inference (one input tensor per feature)", body: "InferRequest", reply: "InferResponse", status: 200},
		{method: "GET", path: "/healthz", h: s.handleHealthz, summary: "Alive", open: true, reply: "Object", status: 200},
		{method: "GET", path: "/readyz", h: s.handleReadyz, summary: "State loaded and store writable", open: true, reply: "Object", status: 200},
		{method: "GET", path: "/openapi.json", h: s.handleOpenAPI(false), summary: "This API's OpenAPI 3.1 document", reply: "Object", status: 200},
	}
}

// skipper leaves the target and dropped columns out of the features.
func skipper(cfg *config.Config) func(string) bool {
	target, drop := cfg.Spec.Target, cfg.Spec.Drop
	return func(name string) bool { return name == target || slices.Contains(drop, name) }
}

// scratch is one request's reusable buffers (pooled): the body, the
// parser's, and the reply's.
type scratch struct {
	body   []byte
	fb     fastBuf
	out    []byte
	id     []byte
	proba  []float64
	labels []string
	names  learn.Pipeline // only its Labels: for className
	enc    []byte
}

func (s *Server) getScratch() *scratch {
	if sc, ok := s.scratch.Get().(*scratch); ok {
		sc.fb.slab = sc.fb.slab[:0]
		return sc
	}
	// Room for one sample of up to 64 features (a stream's slab is
	// bigger: it holds a chunk's samples).
	return &scratch{fb: fastBuf{slab: make([]kv, 0, 64)}}
}

func (s *Server) putScratch(sc *scratch) {
	if cap(sc.body) <= 64<<10 && cap(sc.fb.slab) <= 1024 {
		s.scratch.Put(sc)
	}
}

func (s *Server) handlePredict(w http.ResponseWriter, r *http.Request) {
	t0 := time.Now()
	defer func() { s.lat.predict.observe(time.Since(t0)) }()
	sc := s.getScratch()
	defer s.putScratch(sc)
	b, rerr := s.readBodyTo(w, r, sc.body)
	sc.body = b[:0]
	if rerr != nil {
		s.refuse(w, rerr)
		return
	}
	skip := skipper(s.cfg.Load())
	if r, ok := parseFast(b, true, false, &sc.fb); ok {
		if x, ok := r.sampleOf(skip); ok {
			s.predictOne(w, sc, x, r.id)
			return
		}
	}
	req, rerr := decodePredict(b)
	if rerr != nil {
		s.refuse(w, rerr)
		return
	}
	inst := req.Instances
	if inst == nil {
		inst = []api.Features{req.Features}
	}
	xs := make([]sample, len(inst))
	for i, f := range inst {
		x, aerr := canonical(f, skip)
		if aerr != nil {
			if req.Instances != nil {
				aerr.Field = fmt.Sprintf("instances[%d].%s", i, aerr.Field)
			}
			s.refuse(w, fromAPI(http.StatusBadRequest, aerr))
			return
		}
		xs[i] = x
	}
	if req.Instances == nil {
		s.predictOne(w, sc, xs[0], req.ID)
		return
	}
	var o outcome
	preds := make([]api.Prediction, len(xs))
	svs := make([]*served, len(xs))
	s.mu.Lock()
	m, ver := s.m, s.version
	for i, x := range xs {
		if aerr := m.predict(x, &s.prow, &o); aerr != nil {
			s.mu.Unlock()
			aerr.Field = fmt.Sprintf("instances[%d].%s", i, aerr.Field)
			s.refuse(w, fromAPI(http.StatusUnprocessableEntity, aerr))
			return
		}
		preds[i].Prediction, preds[i].Proba = m.answer(&o)
		preds[i].ModelVersion = ver
		svs[i] = o.served(ver)
	}
	s.mu.Unlock()
	now := time.Now()
	for i := range preds {
		id := req.ID
		if id == "" {
			id = s.newID()
		}
		preds[i].ID = id
		s.cache.put(id, xs[i], svs[i], now)
	}
	s.preds.Add(uint64(len(preds)))
	writeJSON(w, http.StatusOK, api.PredictBatch{Predictions: preds})
}

// predictOne answers a single prediction and keeps it under its id (a
// new one when id is empty) for a late label; in the common case it
// allocates nothing of its own.
func (s *Server) predictOne(w http.ResponseWriter, sc *scratch, x sample, id string) {
	idb := sc.id[:0]
	if id == "" {
		idb = s.appendNewID(idb)
	} else {
		idb = append(idb, id...)
	}
	sc.id = idb[:0]
	o := outcome{proba: sc.proba[:0]}
	s.mu.Lock()
	m, ver := s.m, s.version
	aerr := m.predict(x, &s.prow, &o)
	// The reply needs only the task and the class names: formatted
	// after the lock, which the other requests and the learner wait for.
	cfg := m.cfg
	sc.labels = append(sc.labels[:0], m.p.Labels...)
	s.mu.Unlock()
	sc.proba = o.proba[:0]
	if aerr != nil {
		s.refuse(w, fromAPI(http.StatusUnprocessableEntity, aerr))
		return
	}
	sc.names.Labels = sc.labels
	m = &model{cfg: cfg, p: &sc.names}
	out, ok := appendFastPrediction(sc.out[:0], m, &o, idb, ver)
	var pred api.Prediction
	if !ok {
		pred.Prediction, pred.Proba = m.answer(&o)
		pred.ID, pred.ModelVersion = string(idb), ver
	}
	sc.enc = (&event{X: x, Served: &served{Version: ver, Empty: o.empty, Class: o.class, Proba: o.proba, Value: o.value}}).appendTo(sc.enc[:0])
	s.cache.putEncoded(idb, sc.enc, time.Now())
	s.preds.Add(1)
	if !ok {
		writeJSON(w, http.StatusOK, pred)
		return
	}
	sc.out = out[:0]
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out)
}

func (s *Server) handleLearn(w http.ResponseWriter, r *http.Request) {
	t0 := time.Now()
	defer func() { s.lat.learn.observe(time.Since(t0)) }()
	if lim := s.limiter.Load(); lim != nil && !lim.allow() {
		w.Header().Set("Retry-After", "1")
		s.refuse(w, newReqError(http.StatusTooManyRequests, "", "over the learn rate limit (spec.guard.learnRate %g/s): slow down and retry", s.cfg.Load().Spec.Guard.LearnRate))
		return
	}
	sc := s.getScratch()
	defer s.putScratch(sc)
	b, rerr := s.readBodyTo(w, r, sc.body)
	sc.body = b[:0]
	if rerr != nil {
		s.refuse(w, rerr)
		return
	}
	cfg := s.cfg.Load()
	if fr, ok := parseFast(b, false, true, &sc.fb); ok {
		x, ok := fr.sampleOf(skipper(cfg))
		label, present, lok := fr.labelOf(cfg.Spec.Target)
		if ok && present && lok {
			// x lives in the scratch: the learner is done with it once
			// the event is answered.
			s.learnEvent(w, r.Context(), event{X: x, Label: label}, "")
			return
		}
	}
	req, rerr := decodeLearn(b)
	if rerr != nil {
		s.refuse(w, rerr)
		return
	}
	var x sample
	var sv *served
	joined := false
	if req.Features != nil {
		var aerr *api.Error
		if x, aerr = canonical(req.Features, skipper(cfg)); aerr != nil {
			s.refuse(w, fromAPI(http.StatusBadRequest, aerr))
			return
		}
	} else {
		var ok bool
		if x, sv, ok = s.cache.get(req.ID, time.Now()); !ok {
			s.refuse(w, newReqError(http.StatusNotFound, "id", "no prediction %q is kept (unknown, already labelled or expired after 1h): send the features with the label", req.ID))
			return
		}
		joined = true
	}
	label, rerr := labelOf(req.Label, req.Features, cfg.Spec.Target)
	if rerr != nil {
		s.refuse(w, rerr)
		return
	}
	joinedID := ""
	if joined {
		joinedID = req.ID
	}
	s.learnEvent(w, r.Context(), event{X: x, Label: label, Served: sv}, joinedID)
}

// learnEvent hands one event to the learner and answers once it is
// durable (or refused).
func (s *Server) learnEvent(w http.ResponseWriter, ctx context.Context, ev event, joinedID string) {
	j := &job{kind: jobLearn, ev: ev}
	if err := s.submit(ctx, j); err != nil {
		return
	}
	if j.err != nil {
		if j.status >= 500 {
			s.log.Error("learn failed", "err", j.err.Error)
		}
		writeErr(w, j.status, *j.err)
		return
	}
	if joinedID != "" {
		s.cache.remove(joinedID)
	}
	b := make([]byte, 0, 64)
	b = append(b, `{"seq":`...)
	b = strconv.AppendUint(b, j.seq, 10)
	b = append(b, `,"model_version":`...)
	b = strconv.AppendInt(b, int64(j.ver), 10)
	b = append(b, "}\n"...)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write(b)
}

// streamChunk bounds the lines handed to the learner at once, and
// streamInflight the chunks queued ahead of the writer.
const (
	streamChunk    = 1024
	streamInflight = 8
)

// handleStream pipelines three stages: this request's reader goroutine
// decodes chunks of lines and queues them for the learner; the learner
// applies and commits them (several chunks per transaction when they
// queue up); the handler writes each chunk's results, in order, once it
// is durable. Output is flushed whenever no more results are pending, so
// an interactive client gets each answer without waiting for more input.
func (s *Server) handleStream(w http.ResponseWriter, r *http.Request) {
	t0 := time.Now()
	defer func() { s.lat.stream.observe(time.Since(t0)) }()
	cfg := s.cfg.Load()
	limit := int(cfg.Spec.Guard.MaxBodyBytes)
	skip := skipper(cfg)
	rc := http.NewResponseController(w)
	_ = rc.EnableFullDuplex() // answer lines while the body is still coming
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	inflight := make(chan *job, streamInflight)
	// Written chunks go back to the reader to be filled again: a long
	// stream reuses the same few (their items, samples and buffers).
	free := make(chan *job, streamInflight+2)
	go func() {
		defer close(inflight)
		s.readStream(ctx, r.Body, limit, cfg.Spec.Target, skip, inflight, free)
	}()
	bw := bufio.NewWriterSize(w, 64<<10)
	var out []byte
	broken := false
	for j := range inflight {
		<-j.done
		if broken {
			continue // keep draining so the reader can finish
		}
		// Format without the lock (the learner needs it): only the task
		// and the class names are read, so a copy of them does.
		s.mu.Lock()
		m := &model{cfg: s.m.cfg, p: &learn.Pipeline{Labels: slices.Clone(s.m.p.Labels)}}
		s.mu.Unlock()
		m.order = m.classOrder(nil, max(len(m.p.Labels), 2))
		out = out[:0]
		for i := range j.items {
			out = s.appendResult(out, m, &j.items[i])
		}
		_, err := bw.Write(out)
		if err == nil && len(inflight) == 0 {
			err = bw.Flush()
			if err == nil {
				err = rc.Flush()
			}
		}
		if err != nil {
			broken = true
			cancel()
		}
		s.lat.streamLine.observeN(time.Since(j.start), len(j.items))
		select {
		case free <- j:
		default:
		}
	}
	if !broken {
		_ = bw.Flush()
	}
}

// readStream decodes the body into chunks and queues each for the learner
// (and, in order, for the writer). Chunks come from free when the writer
// has returned some.
func (s *Server) readStream(ctx context.Context, body io.Reader, limit int, target string, skip func(string) bool, inflight chan<- *job, free <-chan *job) {
	br := bufio.NewReaderSize(body, 64<<10)
	var line []byte
	var buf fastBuf
	n := 0
	for eof := false; !eof; {
		var j *job
		select {
		case j = <-free:
			j.items = j.items[:0]
		default:
			j = &job{kind: jobStream, items: make([]streamItem, 0, streamChunk)}
		}
		// The chunk's samples are cut from its own slab.
		buf.slab = j.slab[:0]
		labelled := 0
		var start time.Time
		for len(j.items) < streamChunk {
			var long bool
			var err error
			line, long, err = readLine(br, limit, line)
			eof = err != nil
			if len(j.items) == 0 {
				start = time.Now() // latency counts from the chunk's first line
			}
			if long || len(bytes.TrimSpace(line)) > 0 {
				n++
				j.items = append(j.items, streamItem{line: n})
				it := &j.items[len(j.items)-1]
				if long {
					it.err = &api.Error{Error: fmt.Sprintf("line %d is longer than %d bytes (spec.guard.maxBodyBytes)", n, limit)}
				} else {
					s.decodeItem(line, it, target, skip, &buf)
				}
				if it.err != nil {
					s.rejected.Add(1)
				} else if it.label {
					labelled++
				}
			}
			if eof || br.Buffered() == 0 {
				break
			}
		}
		j.slab = buf.slab
		if len(j.items) == 0 {
			continue
		}
		if lim := s.limiter.Load(); lim != nil && labelled > 0 {
			if lim.wait(ctx, labelled) != nil {
				return
			}
		}
		j.start, j.done = start, make(chan struct{})
		j.seq, j.ver, j.status, j.err = 0, 0, 0, nil
		select {
		case s.jobs <- j:
		case <-ctx.Done():
			return
		}
		inflight <- j // the writer drains every queued job, so this cannot block forever
	}
}

// decodeItem parses one NDJSON line into it (or sets it.err).
func (s *Server) decodeItem(line []byte, it *streamItem, target string, skip func(string) bool, buf *fastBuf) {
	if r, ok := parseFast(line, false, true, buf); ok {
		if x, ok := r.sampleOf(skip); ok {
			if label, present, ok := r.labelOf(target); ok {
				it.ev.X = x
				if present {
					it.ev.Label, it.label = label, true
				}
				return
			}
		}
	}
	sl, rerr := decodeStreamLine(line)
	if rerr != nil {
		it.err = &rerr.body
		it.err.Line = 0
		return
	}
	x, aerr := canonical(sl.Features, skip)
	if aerr != nil {
		it.err = aerr
		return
	}
	it.ev.X = x
	if sl.Label == nil && sl.Features[target] == nil {
		return // predict only
	}
	label, rerr := labelOf(sl.Label, sl.Features, target)
	if rerr != nil {
		it.err = &rerr.body
		return
	}
	it.ev.Label, it.label = label, true
}

// appendResult renders one stream result line; m needs only its config
// and class names.
func (s *Server) appendResult(b []byte, m *model, it *streamItem) []byte {
	if it.err == nil {
		if out, ok := appendFastResult(b, m, it); ok {
			return out
		}
	}
	res := api.StreamResult{Line: it.line, Seq: it.seq}
	if it.err != nil {
		res.Error, res.Field = it.err.Error, it.err.Field
	}
	if it.err == nil || it.err == errPaused {
		res.Prediction, res.Proba = m.answer(&it.out)
		res.Drift = it.out.drift
	}
	enc, err := json.Marshal(res)
	if err != nil {
		enc, _ = json.Marshal(api.StreamResult{Line: it.line, Error: "encode result: " + err.Error()})
	}
	b = append(b, enc...)
	return append(b, '\n')
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "alive"})
}

func (s *Server) ready() error {
	if f := s.failed.Load(); f != nil {
		return *f
	}
	return nil
}

func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	err := s.ready()
	if err == nil {
		err = s.st.Writable()
	}
	if err != nil {
		writeErr(w, http.StatusServiceUnavailable, api.Error{Error: "not ready: " + err.Error()})
		return
	}
	s.mu.Lock()
	ver := s.version
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "model_version": ver})
}

// appendFastResult writes a successful result line by hand, byte for byte
// what encoding/json writes for api.StreamResult (TestFastResultMatches).
func appendFastResult(b []byte, m *model, it *streamItem) ([]byte, bool) {
	start := len(b)
	b = append(b, `{"line":`...)
	b = strconv.AppendInt(b, int64(it.line), 10)
	b = append(b, `,"prediction":`...)
	b, ok := appendPrediction(b, m, &it.out)
	if !ok {
		return b[:start], false
	}
	o := &it.out
	if it.seq != 0 {
		b = append(b, `,"seq":`...)
		b = strconv.AppendUint(b, it.seq, 10)
	}
	if o.drift {
		b = append(b, `,"drift":true`...)
	}
	return append(b, "}\n"...), true
}

// appendPrediction writes the prediction value and, for classifiers, the
// ,"proba":{...} member, as encoding/json would (sorted keys).
func appendPrediction(b []byte, m *model, o *outcome) ([]byte, bool) {
	start := len(b)
	switch {
	case o.empty:
		b = append(b, "null"...)
	case m.cfg.Spec.Task == learn.Regression:
		var ok bool
		if b, ok = appendJSONFloat(b, o.value); !ok {
			return b[:start], false
		}
	default:
		var ok bool
		if b, ok = appendJSONString(b, o.label); !ok {
			return b[:start], false
		}
		if len(o.proba) > 0 {
			b = append(b, `,"proba":{`...)
			order := m.order
			if len(order) != len(o.proba) {
				var idx [8]int
				order = m.classOrder(idx[:0], len(o.proba))
			}
			for n, i := range order {
				if n > 0 {
					b = append(b, ',')
				}
				if b, ok = appendJSONString(b, m.className(i)); !ok {
					return b[:start], false
				}
				b = append(b, ':')
				if b, ok = appendJSONFloat(b, o.proba[i]); !ok {
					return b[:start], false
				}
			}
			b = append(b, '}')
		}
	}
	return b, true
}

// classOrder appends the order of n classes' names to dst (as
// encoding/json sorts a map's keys).
func (m *model) classOrder(dst []int, n int) []int {
	order := dst[:0]
	for i := range n {
		order = append(order, i)
	}
	slices.SortFunc(order, func(x, y int) int { return strings.Compare(m.className(x), m.className(y)) })
	return order
}

// appendFastPrediction writes the reply of a single prediction as
// encoding/json writes api.Prediction.
func appendFastPrediction[T ~string | ~[]byte](b []byte, m *model, o *outcome, id T, ver int) ([]byte, bool) {
	b = append(b, `{"id":`...)
	b, ok := appendJSONString(b, id)
	if !ok {
		return b, false
	}
	b = append(b, `,"prediction":`...)
	if b, ok = appendPrediction(b, m, o); !ok {
		return b, false
	}
	b = append(b, `,"model_version":`...)
	b = strconv.AppendInt(b, int64(ver), 10)
	return append(b, "}\n"...), true
}

// appendJSONFloat formats like encoding/json; NaN and infinities fail.
func appendJSONFloat(b []byte, f float64) ([]byte, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, false
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 becomes e-9, as encoding/json writes it.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}

// appendJSONString quotes plain ASCII text; anything encoding/json would
// escape fails.
func appendJSONString[T ~string | ~[]byte](b []byte, s T) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return b, false
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"'), true
}
