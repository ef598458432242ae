package server

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/olops/olops/internal/api"
	"github.com/olops/olops/internal/config"
	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/drift"
	"github.com/olops/olops/internal/learn/metrics"
	"github.com/olops/olops/internal/learn/models"
)

// maxDriftEvents bounds the drift history kept in the state.
const maxDriftEvents = 200

// model is the learned state: the pipeline, its metrics and drift
// detector, and the counts that replay must reproduce. It is not safe for
// concurrent use; the server guards it with a mutex.
type model struct {
	cfg    *config.Config
	p      *learn.Pipeline
	set    *metrics.Set
	det    learn.Detector // nil when drift.detector is none
	fixed  map[string]learn.Kind
	learns uint64
	drifts uint64
	events []api.DriftEvent
	// due holds, for the newest len(due) drift events (those whose After
	// is not known yet), the learn count at which After is measured.
	due      []uint64
	settled  uint64         // drift events whose After was set (not saved: for SSE updates)
	patched  map[string]any // PATCHed hyperparameters, applied again on restore
	ch       *challenger    // a model learning in shadow, or nil
	chLost   string         // why the last challenger stopped on its own
	row      learn.Row
	cols     colCache
	order    []int          // a stream writer's copy: classOrder, computed once
	okLabels [2]string      // the last labels checkLabel accepted
	okCfg    *config.Config // under this config
}

// colCache remembers where the features of the last sample went in the
// schema: streams send the same names line after line, and comparing them
// (mostly the same strings, see nameCache) is cheaper than a map lookup
// each. Only samples whose names are all in the schema are cached.
type colCache struct {
	names []string
	idx   []int
	n     int // the schema's length then: a new feature invalidates it
}

// cols4 returns the schema indexes of x's features, or false.
func (m *model) cols4(x sample) ([]int, bool) {
	c := &m.cols
	if len(x) != len(c.names) || m.p.Schema.Len() != c.n || c.n == 0 {
		return nil, false
	}
	for i := range x {
		if x[i].Name != c.names[i] {
			return nil, false
		}
	}
	return c.idx, true
}

// remember caches x's feature indexes when all are in the schema.
func (m *model) remember(x sample) {
	c := &m.cols
	sc := m.p.Schema
	c.names, c.idx, c.n = c.names[:0], c.idx[:0], 0
	for _, f := range x {
		i, ok := sc.Index(f.Name)
		if !ok {
			c.names = c.names[:0]
			return
		}
		c.names = append(c.names, f.Name)
		c.idx = append(c.idx, i)
	}
	c.n = sc.Len()
}

// newModel builds an untrained model from a config.
func newModel(cfg *config.Config) (*model, error) {
	p, err := models.New(cfg.LearnSpec())
	if err != nil {
		return nil, fmt.Errorf("build model %q: %w", cfg.Spec.Pipeline.Model, err)
	}
	m := &model{cfg: cfg, p: p}
	if len(cfg.Spec.Features) > 0 {
		m.fixed = map[string]learn.Kind{}
		for _, f := range cfg.Spec.Features {
			k := learn.Numeric
			if f.Type == "categorical" {
				k = learn.Categorical
			}
			m.fixed[f.Name] = k
			p.Schema.Add(f.Name, k)
		}
	}
	if err := m.initWatchers(); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *model) initWatchers() error {
	s := m.cfg.Spec
	set, err := metrics.NewSet(s.Task, s.Metrics, s.Window)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	m.set = set
	m.det = nil
	if s.Drift.Detector != "none" && s.Drift.Detector != "" {
		d, err := drift.New(s.Drift.Detector, s.Drift.Params)
		if err != nil {
			return fmt.Errorf("drift detector: %w", err)
		}
		m.det = d
	}
	return nil
}

type modelState struct {
	Pipeline []byte
	Metrics  []byte
	Detector []byte
	Learns   uint64
	Drifts   uint64
	Events   []byte // JSON of []api.DriftEvent
	Patched  []byte // JSON of the patched hyperparameters
	Due      []uint64
	// Challenger is the challenger's state, if one runs.
	Challenger []byte
}

// state encodes the full learned state.
func (m *model) state() ([]byte, error) {
	var st modelState
	var err error
	if st.Pipeline, err = m.p.MarshalBinary(); err != nil {
		return nil, fmt.Errorf("save pipeline: %w", err)
	}
	if st.Metrics, err = m.set.MarshalBinary(); err != nil {
		return nil, fmt.Errorf("save metrics: %w", err)
	}
	if m.det != nil {
		if st.Detector, err = m.det.MarshalBinary(); err != nil {
			return nil, fmt.Errorf("save drift detector: %w", err)
		}
	}
	st.Learns, st.Drifts, st.Due = m.learns, m.drifts, m.due
	st.Events, _ = json.Marshal(m.events)
	if len(m.patched) > 0 {
		st.Patched, _ = json.Marshal(m.patched)
	}
	if m.ch != nil {
		if st.Challenger, err = m.ch.state(); err != nil {
			return nil, fmt.Errorf("save challenger: %w", err)
		}
	}
	var buf bytes.Buffer
	err = gob.NewEncoder(&buf).Encode(&st)
	return buf.Bytes(), err
}

// restoreModel rebuilds a model saved by state, with its config.
func restoreModel(cfg *config.Config, b []byte) (*model, error) {
	var st modelState
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&st); err != nil {
		return nil, fmt.Errorf("decode state: %w", err)
	}
	m, err := newModel(cfg)
	if err != nil {
		return nil, err
	}
	if m.p, err = models.Restore(st.Pipeline); err != nil {
		return nil, fmt.Errorf("restore pipeline: %w", err)
	}
	if err := m.set.UnmarshalBinary(st.Metrics); err != nil {
		return nil, fmt.Errorf("restore metrics: %w", err)
	}
	if m.det != nil && len(st.Detector) > 0 {
		if err := m.det.UnmarshalBinary(st.Detector); err != nil {
			return nil, fmt.Errorf("restore drift detector: %w", err)
		}
	}
	m.learns, m.drifts = st.Learns, st.Drifts
	if len(st.Events) > 0 {
		if err := json.Unmarshal(st.Events, &m.events); err != nil {
			return nil, fmt.Errorf("restore drift events: %w", err)
		}
	}
	if len(st.Due) > len(m.events) {
		return nil, fmt.Errorf("restore drift events: %d pending of %d events", len(st.Due), len(m.events))
	}
	m.due = st.Due
	if len(st.Patched) > 0 {
		if err := json.Unmarshal(st.Patched, &m.patched); err != nil {
			return nil, fmt.Errorf("restore patched parameters: %w", err)
		}
		if err := models.Patch(m.p, m.patched); err != nil {
			return nil, fmt.Errorf("apply patched parameters: %w", err)
		}
	}
	if len(st.Challenger) > 0 {
		if m.ch, err = restoreChallenger(st.Challenger); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// checkFeatures refuses a sample that cannot be learned, changing nothing.
func (m *model) checkFeatures(x sample) *api.Error {
	sc := m.p.Schema
	if idx, ok := m.cols4(x); ok {
		for j, f := range x {
			if err := kindCheck(sc.Kinds[idx[j]], f); err != nil {
				return err
			}
		}
		return nil
	}
	for _, f := range x {
		i, ok := sc.Index(f.Name)
		if !ok {
			if m.fixed != nil {
				return &api.Error{Error: fmt.Sprintf("unknown feature %q: the config fixes the features (spec.features)", f.Name), Field: "features." + f.Name}
			}
			continue
		}
		if err := kindCheck(sc.Kinds[i], f); err != nil {
			return err
		}
	}
	return nil
}

func kindCheck(k learn.Kind, f kv) *api.Error {
	switch {
	case k == learn.Numeric && f.V.IsStr && f.V.Str != "":
		if _, err := strconv.ParseFloat(f.V.Str, 64); err != nil {
			return &api.Error{Error: fmt.Sprintf("feature %q is numeric: %q is not a number", f.Name, f.V.Str), Field: "features." + f.Name}
		}
	case k == learn.Categorical && !f.V.IsStr:
		return &api.Error{Error: fmt.Sprintf("feature %q is categorical: give it a string, not %v", f.Name, f.V.Num), Field: "features." + f.Name}
	}
	return nil
}

// checkLabel refuses a label the model cannot learn or the guard forbids.
func (m *model) checkLabel(label string) *api.Error {
	// A stream mostly repeats a few labels: the last two accepted (under
	// the same config) need no second look.
	if m.okCfg == m.cfg && m.cfg != nil && (m.okLabels[0] == label || m.okLabels[1] == label) {
		return nil
	}
	if err := m.checkLabelOnce(label); err != nil {
		return err
	}
	if m.okCfg != m.cfg {
		m.okLabels = [2]string{label, label}
	}
	m.okCfg, m.okLabels = m.cfg, [2]string{label, m.okLabels[0]}
	return nil
}

func (m *model) checkLabelOnce(label string) *api.Error {
	s := m.cfg.Spec
	if s.Task == learn.Regression {
		if _, err := m.p.Target(label); err != nil {
			return &api.Error{Error: err.Error(), Field: "label"}
		}
		return nil
	}
	if len(s.Guard.Labels) > 0 {
		ok := false
		for _, l := range s.Guard.Labels {
			ok = ok || l == label
		}
		if !ok {
			return &api.Error{Error: fmt.Sprintf("label %q is not allowed (spec.guard.labels: %v)", label, s.Guard.Labels), Field: "label"}
		}
	}
	if _, _, err := m.p.ClassOf(label); err != nil {
		return &api.Error{Error: err.Error(), Field: "label"}
	}
	return nil
}

// check validates a learn event against the current state.
func (m *model) check(e *event) *api.Error {
	if err := m.checkLabel(e.Label); err != nil {
		return err
	}
	return m.checkFeatures(e.X)
}

// fill writes a sample into r; with learn false, features the model has
// never seen are left out so that predictions never change the schema.
func (m *model) fill(x sample, r *learn.Row, learning bool) *api.Error {
	sc := m.p.Schema
	r.X, r.C = r.X[:0], r.C[:0]
	if !sc.HasCategorical() {
		r.C = nil
	}
	r.Reset(sc.Len())
	if idx, ok := m.cols4(x); ok {
		return m.fillKnown(x, idx, r, learning)
	}
	defer m.remember(x)
	for _, f := range x {
		if !learning {
			i, ok := sc.Index(f.Name)
			if !ok {
				if m.fixed != nil {
					return &api.Error{Error: fmt.Sprintf("unknown feature %q: the config fixes the features (spec.features)", f.Name), Field: "features." + f.Name}
				}
				continue
			}
			if err := kindCheck(sc.Kinds[i], f); err != nil {
				return err
			}
		}
		var v any = f.V.Num
		if f.V.IsStr {
			v = f.V.Str
		}
		if err := sc.Set(r, f.Name, v); err != nil {
			return &api.Error{Error: err.Error(), Field: "features." + f.Name}
		}
	}
	return nil
}

// fillKnown is fill for a sample whose features are all in the schema at
// idx (r is reset).
func (m *model) fillKnown(x sample, idx []int, r *learn.Row, learning bool) *api.Error {
	sc := m.p.Schema
	for j, f := range x {
		i := idx[j]
		k := sc.Kinds[i]
		switch {
		case k == learn.Numeric && !f.V.IsStr:
			r.X[i] = f.V.Num
			continue
		case k == learn.Categorical && f.V.IsStr && r.C != nil:
			if f.V.Str != "" {
				r.C[i] = f.V.Str
			}
			continue
		}
		if !learning {
			if err := kindCheck(k, f); err != nil {
				return err
			}
		}
		var v any = f.V.Num
		if f.V.IsStr {
			v = f.V.Str
		}
		if err := sc.Set(r, f.Name, v); err != nil {
			return &api.Error{Error: err.Error(), Field: "features." + f.Name}
		}
	}
	return nil
}

// outcome is what one predict or learn produced, detached from the
// pipeline's buffers.
type outcome struct {
	empty bool
	class int
	label string
	value float64
	proba []float64 // by class id
	drift bool
}

func (m *model) detach(pr learn.Prediction, o *outcome) {
	o.empty, o.class = pr.Empty, pr.Class
	o.label, o.value = pr.Label, pr.Value
	o.proba = append(o.proba[:0], pr.Proba...)
}

// predict predicts one sample without changing anything.
func (m *model) predict(x sample, r *learn.Row, o *outcome) *api.Error {
	if err := m.fill(x, r, false); err != nil {
		return err
	}
	m.detach(m.p.Predict(r), o)
	return nil
}

// apply learns one checked event: predict, score, watch for drift, learn
// (progressive validation). seq is the event's sequence number.
func (m *model) apply(e *event, seq uint64, o *outcome) error {
	r := &m.row
	if err := m.fill(e.X, r, true); err != nil {
		return fmt.Errorf("event %d: %s", seq, err.Error)
	}
	var pr learn.Prediction
	if sv := e.Served; sv != nil && o == nil {
		// A late label scores the prediction that was served.
		pr = learn.Prediction{Empty: sv.Empty, Class: sv.Class, Proba: sv.Proba, Value: sv.Value}
	} else {
		pr = m.p.Predict(r)
	}
	if o != nil {
		m.detach(pr, o)
		o.drift = false
	}
	var watched float64
	if m.cfg.Spec.Task == learn.Regression {
		y, err := m.p.Target(e.Label)
		if err != nil {
			return fmt.Errorf("event %d: %w", seq, err)
		}
		if !pr.Empty {
			m.set.UpdateValue(y, pr.Value)
			if m.ch != nil {
				m.ch.champ.UpdateValue(y, pr.Value)
			}
			d := y - pr.Value
			watched = math.Abs(d)
			if m.cfg.Spec.Drift.Watches == "loss" {
				watched = d * d
			}
		}
		m.learnDrift(pr.Empty, watched, seq, e.Time, o)
		m.p.LearnValue(r, y)
	} else {
		id, _, err := m.p.ClassOf(e.Label)
		if err != nil {
			return fmt.Errorf("event %d: %w", seq, err)
		}
		if !pr.Empty {
			m.set.UpdateClass(id, pr)
			if m.ch != nil {
				m.ch.champ.UpdateClass(id, pr)
			}
			if m.cfg.Spec.Drift.Watches == "loss" {
				q := 1e-15
				if id < len(pr.Proba) {
					q = max(pr.Proba[id], 1e-15)
				}
				watched = -math.Log(q)
			} else if pr.Class != id {
				watched = 1
			}
		}
		m.learnDrift(pr.Empty, watched, seq, e.Time, o)
		if err := m.p.LearnClass(r, e.Label); err != nil {
			return fmt.Errorf("event %d: %w", seq, err)
		}
	}
	m.learns++
	m.settle(seq)
	if m.ch != nil {
		if err := m.ch.learn(e, seq); err != nil {
			// The champion has learned the event; a challenger that
			// cannot follow stops (the same way when replayed).
			m.ch, m.chLost = nil, err.Error()
		}
	}
	return nil
}

// afterLearns is how many learns after a drift its After is measured: a
// full rolling window, so that After is scored only on events learned
// after the detection.
func (m *model) afterLearns() uint64 {
	return uint64(max(m.set.Window(), 1))
}

func (m *model) learnDrift(empty bool, x float64, seq uint64, at int64, o *outcome) {
	if m.det == nil || empty || !m.det.Update(x) {
		return
	}
	m.drifts++
	ev := api.DriftEvent{Index: seq, Time: time.Unix(0, at).UTC()}
	if names := m.set.Names(); len(names) > 0 {
		// Before: the rolling window at detection (mostly the old
		// concept); After is set by settle a window later.
		ev.Metric = names[0]
		v, _ := m.set.Value(ev.Metric, true)
		ev.Before = finite(v)
		// The event being learned counts: it is learned after detection.
		m.due = append(m.due, m.learns+m.afterLearns())
	}
	m.events = append(m.events, ev)
	if len(m.events) > maxDriftEvents {
		m.events = append(m.events[:0], m.events[len(m.events)-maxDriftEvents:]...)
	}
	if len(m.due) > len(m.events) {
		m.due = append(m.due[:0], m.due[len(m.due)-len(m.events):]...)
	}
	if o != nil {
		o.drift = true
	}
}

// settle sets After on the drift events whose window has passed (learn
// seq was the last one).
func (m *model) settle(seq uint64) {
	for len(m.due) > 0 && m.learns >= m.due[0] {
		ev := &m.events[len(m.events)-len(m.due)]
		v, _ := m.set.Value(ev.Metric, true)
		ev.After, ev.AfterIndex = finite(v), seq
		m.due = m.due[1:]
		m.settled++
	}
	if len(m.due) == 0 {
		m.due = nil
	}
}

// finite maps NaN and infinities to 0, and -0 to 0.
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) || v == 0 {
		return 0
	}
	return v
}

// served captures an outcome as the prediction a client was given.
func (o *outcome) served(version int) *served {
	return &served{Version: version, Empty: o.empty, Class: o.class, Proba: append([]float64(nil), o.proba...), Value: o.value}
}

// answer turns an outcome into the API's prediction and probabilities.
func (m *model) answer(o *outcome) (any, map[string]float64) {
	if o.empty {
		return nil, nil
	}
	if m.cfg.Spec.Task == learn.Regression {
		return o.value, nil
	}
	proba := make(map[string]float64, len(o.proba))
	for i, q := range o.proba {
		proba[m.className(i)] = q
	}
	return o.label, proba
}

func (m *model) className(i int) string {
	if i < len(m.p.Labels) && m.p.Labels[i] != "" {
		return m.p.Labels[i]
	}
	return strconv.Itoa(i)
}

// learned is the part of a config that decides the learned model: when
// it changes, the model starts over as a new version.
func learned(c *config.Config) string {
	s := c.Spec
	b, _ := json.Marshal([]any{s.Task, s.Target, s.Positive, s.Features, s.Drop, s.Pipeline})
	return string(b)
}

// watching is the part of a config that only watches the model: metrics,
// their window and the drift detector. When only it changes, the learned
// model carries over and its watchers start over.
func watching(c *config.Config) string {
	s := c.Spec
	b, _ := json.Marshal([]any{s.Metrics, s.Window, s.Drift})
	return string(b)
}

// rewatched returns a model that shares m's learned pipeline and counts
// but watches it as cfg says, with fresh metrics and drift detector.
func (m *model) rewatched(cfg *config.Config) (*model, error) {
	next := &model{cfg: cfg, p: m.p, fixed: m.fixed, learns: m.learns, patched: m.patched, ch: m.ch}
	if err := next.initWatchers(); err != nil {
		return nil, err
	}
	return next, nil
}
