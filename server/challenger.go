package server

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"net/http"
	"time"

	"github.com/olops/olops/internal/api"
	"github.com/olops/olops/internal/config"
	"github.com/olops/olops/internal/learn/metrics"
	"github.com/olops/olops/server/store"
)

// challenger is a second model that learns in shadow from every event the
// live model (the champion) learns, with the champion's scores over the
// same events, so that the two compare on equal terms. It belongs to the
// live model's state: snapshotted, replayed and rolled back with it.
type challenger struct {
	m        *model
	champ    *metrics.Set // the champion's metrics since the challenger started
	startSeq uint64
	started  time.Time
}

// challengerState is a challenger in a snapshot.
type challengerState struct {
	Config   []byte
	State    []byte
	Champ    []byte
	StartSeq uint64
	Started  time.Time
}

func newChallenger(cfg *config.Config, seq uint64) (*challenger, error) {
	m, err := newModel(cfg)
	if err != nil {
		return nil, err
	}
	// Both are scored with the challenger's metrics.
	champ, err := metrics.NewSet(cfg.Spec.Task, cfg.Spec.Metrics, cfg.Spec.Window)
	if err != nil {
		return nil, err
	}
	return &challenger{m: m, champ: champ, startSeq: seq, started: time.Now().UTC()}, nil
}

// learn applies one event the champion has learned. A late label's
// served prediction was the champion's: the challenger predicts anew.
func (c *challenger) learn(e *event, seq uint64) error {
	ev := *e
	ev.Served = nil
	if err := c.m.check(&ev); err != nil {
		return fmt.Errorf("the challenger cannot learn event %d: %s", seq, err.Error)
	}
	return c.m.apply(&ev, seq, nil)
}

func (c *challenger) state() ([]byte, error) {
	cb, err := c.m.cfg.Marshal()
	if err != nil {
		return nil, err
	}
	st := challengerState{Config: cb, StartSeq: c.startSeq, Started: c.started}
	if st.State, err = c.m.state(); err != nil {
		return nil, err
	}
	if st.Champ, err = c.champ.MarshalBinary(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	err = gob.NewEncoder(&buf).Encode(&st)
	return buf.Bytes(), err
}

func restoreChallenger(b []byte) (*challenger, error) {
	var st challengerState
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&st); err != nil {
		return nil, fmt.Errorf("decode challenger: %w", err)
	}
	cfg, err := config.Parse(st.Config, "challenger config")
	if err != nil {
		return nil, fmt.Errorf("challenger config: %w", err)
	}
	m, err := restoreModel(cfg, st.State)
	if err != nil {
		return nil, fmt.Errorf("challenger: %w", err)
	}
	champ, err := metrics.NewSet(cfg.Spec.Task, cfg.Spec.Metrics, cfg.Spec.Window)
	if err != nil {
		return nil, err
	}
	if err := champ.UnmarshalBinary(st.Champ); err != nil {
		return nil, fmt.Errorf("challenger's champion metrics: %w", err)
	}
	return &challenger{m: m, champ: champ, startSeq: st.StartSeq, started: st.Started}, nil
}

// report is GET /v1/challenger (the caller holds mu).
func (c *challenger) report() api.Challenger {
	r := api.Challenger{
		Model:      c.m.cfg.Spec.Pipeline.Model,
		Started:    c.started,
		StartSeq:   c.startSeq,
		Learns:     c.m.learns,
		Challenger: metricValues(c.m.set, false),
		Champion:   metricValues(c.champ, false),
	}
	r.Config, _ = jsonConfig(c.m.cfg)
	if names := c.m.set.Names(); len(names) > 0 {
		r.Metric = names[0]
		mine, ok1 := r.Challenger[r.Metric]
		theirs, ok2 := r.Champion[r.Metric]
		if ok1 && ok2 {
			if metrics.LowerIsBetter(r.Metric) {
				r.Better = mine < theirs
			} else {
				r.Better = mine > theirs
			}
		}
	}
	return r
}

var errNoChallenger = &reqError{status: http.StatusNotFound,
	body: api.Error{Error: "no challenger is running: start one with PUT /v1/challenger"}}

// startChallenger replaces any challenger with a fresh one from cfg.
// Learner goroutine only.
func (s *Server) startChallenger(cfg *config.Config) error {
	c, err := newChallenger(cfg, s.seq)
	if err != nil {
		return &reqError{status: http.StatusUnprocessableEntity, body: api.Error{Error: err.Error()}}
	}
	return s.setChallenger(c)
}

// dropChallenger stops the challenger. Learner goroutine only.
func (s *Server) dropChallenger() error {
	s.mu.Lock()
	none := s.m.ch == nil
	s.mu.Unlock()
	if none {
		return errNoChallenger
	}
	return s.setChallenger(nil)
}

// setChallenger makes c (nil: none) the live model's challenger and
// snapshots, so that a restart keeps the change; when that fails, the
// previous one stays, as in the store. Learner goroutine only.
func (s *Server) setChallenger(c *challenger) error {
	s.mu.Lock()
	prev := s.m.ch
	s.m.ch, s.m.chLost = c, ""
	snap, err := s.snapshotLocked()
	if err != nil {
		s.m.ch = prev
		s.mu.Unlock()
		return err
	}
	s.mu.Unlock()
	if err := s.st.Apply(store.Write{Snapshot: snap, Keep: s.cfg.Load().Spec.Snapshots.Keep}); err != nil {
		s.mu.Lock()
		s.m.ch = prev
		s.mu.Unlock()
		return err
	}
	s.sinceSnap = 0
	return nil
}

// promoteChallenger makes the challenger the live model, a new version;
// the champion is kept as a version to roll back to, without its
// challenger. Learner goroutine only.
func (s *Server) promoteChallenger() error {
	s.mu.Lock()
	c := s.m.ch
	if c == nil {
		s.mu.Unlock()
		return errNoChallenger
	}
	champion := s.m
	champion.ch = nil
	s.mu.Unlock()
	note := fmt.Sprintf("challenger promoted after %d events", c.m.learns)
	if err := s.replaceWith(c.m, c.m.cfg, "before challenger promotion", note); err != nil {
		s.mu.Lock()
		champion.ch = c
		s.mu.Unlock()
		return err
	}
	return nil
}

func (s *Server) handleGetChallenger(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	c := s.m.ch
	var rep api.Challenger
	if c != nil {
		rep = c.report()
	}
	lost := s.m.chLost
	s.mu.Unlock()
	if c == nil {
		e := errNoChallenger.body
		if lost != "" {
			e.Error += "; the last one stopped: " + lost
		}
		writeErr(w, errNoChallenger.status, e)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

func (s *Server) handlePutChallenger(w http.ResponseWriter, r *http.Request) {
	b, release, rerr := s.readBody(w, r)
	if rerr != nil {
		s.refuse(w, rerr)
		return
	}
	body := bytes.Clone(b)
	release()
	live := s.cfg.Load()
	cfg := live
	if len(bytes.TrimSpace(body)) > 0 {
		var ok bool
		if cfg, ok = parseConfig(w, body); !ok {
			return
		}
		// It learns the champion's events and is compared on them.
		if cfg.Spec.Task != live.Spec.Task || cfg.Spec.Target != live.Spec.Target {
			writeErr(w, http.StatusUnprocessableEntity, api.Error{Field: "spec.task",
				Error: fmt.Sprintf("a challenger must have the served model's task and target (%s, %q), not (%s, %q)",
					live.Spec.Task, live.Spec.Target, cfg.Spec.Task, cfg.Spec.Target)})
			return
		}
	}
	if err := s.do(r.Context(), func() error { return s.startChallenger(cfg) }); err != nil {
		s.cmdError(w, err)
		return
	}
	s.handleGetChallenger(w, r)
}

func (s *Server) handlePromoteChallenger(w http.ResponseWriter, r *http.Request) {
	if err := s.do(r.Context(), s.promoteChallenger); err != nil {
		s.cmdError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s.info())
}

func (s *Server) handleDeleteChallenger(w http.ResponseWriter, r *http.Request) {
	if err := s.do(r.Context(), s.dropChallenger); err != nil {
		s.cmdError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
