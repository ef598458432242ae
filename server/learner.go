package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/olops/olops/internal/api"
	"github.com/olops/olops/internal/config"
	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/models"
	"github.com/olops/olops/server/store"
)

// maxBatch bounds the learn events committed in one transaction.
const maxBatch = 4096

// lockSpan is how many events the learner applies before it lets waiting
// predictions in.
const lockSpan = 64

type jobKind int

const (
	jobLearn jobKind = iota
	jobStream
	jobCmd
)

// job is one unit of work for the learner goroutine; done is closed when
// its results are set.
type job struct {
	kind  jobKind
	ev    event
	items []streamItem
	slab  []kv      // stream: where the items' samples are cut from
	proba []float64 // stream: where the items' probabilities are cut from
	cmd   func() error
	start time.Time // stream: when the chunk was read

	done   chan struct{}
	seq    uint64
	ver    int
	status int
	err    *api.Error
	cmdErr error
}

func (j *job) size() int {
	if j.kind == jobStream {
		return len(j.items)
	}
	return 1
}

// streamItem is one NDJSON line of /v1/stream.
type streamItem struct {
	line  int
	ev    event
	label bool
	err   *api.Error
	out   outcome
	seq   uint64
}

// submit queues j and waits for the learner. It gives up only while the
// job is not yet queued.
func (s *Server) submit(ctx context.Context, j *job) error {
	j.done = make(chan struct{})
	select {
	case s.jobs <- j:
	case <-ctx.Done():
		return ctx.Err()
	}
	<-j.done
	return nil
}

// do runs fn in the learner goroutine, ordered with the learn events.
func (s *Server) do(ctx context.Context, fn func() error) error {
	j := &job{kind: jobCmd, cmd: fn}
	if err := s.submit(ctx, j); err != nil {
		return err
	}
	return j.cmdErr
}

// learner owns every change of the model and the store: it takes queued
// jobs in order, applies a batch of learns, commits them in one
// transaction (group commit) and only then answers. Commits run in a
// second goroutine, in order, so that the next batch is applied while
// the previous one is written and synced; every answer still waits for
// its own batch's commit.
func (s *Server) learner(stop <-chan struct{}) {
	// The learner does not wait for the disk: while one transaction is
	// written and synced, the batches applied meanwhile queue up, and the
	// committer writes them all in the next one (group commit across
	// batches: single learn requests come in many small batches).
	commits := make(chan *commit, maxQueuedCommits)
	committerDone := make(chan struct{})
	go func() {
		defer close(committerDone)
		s.committer(commits)
	}()
	defer func() {
		close(commits)
		<-committerDone
	}()
	var pending *job
	var batch []*job
	for {
		j := pending
		pending = nil
		if j == nil {
			select {
			case j = <-s.jobs:
			case <-stop:
				// Answer what is still queued so that no caller waits forever.
				for {
					select {
					case j := <-s.jobs:
						s.run([]*job{j}, commits)
					default:
						return
					}
				}
			}
		}
		batch = append(batch[:0], j)
		// fsync mode commits each request on its own; batch and none
		// group whatever is queued (read each time: PUT may change it).
		if j.kind != jobCmd && s.cfg.Load().Spec.Durability != "fsync" {
			n := j.size()
		drain:
			for n < maxBatch {
				select {
				case j2 := <-s.jobs:
					if j2.kind == jobCmd {
						pending = j2
						break drain
					}
					batch = append(batch, j2)
					n += j2.size()
				default:
					break drain
				}
			}
		}
		s.run(batch, commits)
		batch = make([]*job, 0, cap(batch)) // the committer owns the old one
	}
}

// run runs a command, or applies a batch of learns and queues its commit
// (commits nil: commits it here).
func (s *Server) run(batch []*job, commits chan<- *commit) {
	if len(batch) == 1 && batch[0].kind == jobCmd {
		// Commands write to the store themselves: after every queued commit.
		s.committing.Wait()
		j := batch[0]
		j.cmdErr = j.cmd()
		close(j.done)
		return
	}
	c := s.applyBatch(batch)
	if commits == nil {
		s.commitBatch(c)
		return
	}
	s.committing.Add(1)
	commits <- c
}

var errPaused = &api.Error{Error: "learning is paused: resume it with POST /v1/learning/resume on the management API"}

// logBuf holds one batch's encoded events.
type logBuf struct {
	events []store.Event
	enc    []byte
}

// commit is an applied batch waiting to be written.
type commit struct {
	batch  []*job
	events []store.Event
	logBuf *logBuf // events' buffers, reused once written
	snap   *store.Snapshot
	keep   int
	ver    int
	err    error // applying failed: write nothing, fail the batch
	drifts []api.DriftEvent
	failed bool // the server had failed already: answer 503
}

// applyBatch applies one batch of learn and stream jobs to the model and
// prepares its commit.
func (s *Server) applyBatch(batch []*job) *commit {
	if f := s.failed.Load(); f != nil {
		return &commit{batch: batch, failed: true}
	}
	cfg := s.cfg.Load()
	learning := s.learning.Load()
	// The committer may still hold the last batch's buffers: take a pair
	// it has given back, or fresh ones sized like the last.
	var lb *logBuf
	select {
	case lb = <-s.logBufs:
	default:
		lb = &logBuf{events: make([]store.Event, 0, s.evcap), enc: make([]byte, 0, s.enccap)}
	}
	events, enc := lb.events[:0], lb.enc[:0]
	var drifts []api.DriftEvent
	var applyErr error
	now := time.Now().UnixNano()

	s.mu.Lock()
	m := s.m
	span := 0
	learnOne := func(e *event, o *outcome) (uint64, *api.Error) {
		if err := m.check(e); err != nil {
			s.rejected.Add(1)
			return 0, err
		}
		seq := s.seq + 1
		drifted, settled := m.drifts, m.settled
		e.Time = now
		if e.Served != nil && e.Served.Version != s.version {
			// The model changed since: score it progressively instead.
			e.Served = nil
		}
		if err := m.apply(e, seq, o); err != nil {
			applyErr = err
			return 0, &api.Error{Error: "internal error: " + err.Error()}
		}
		s.seq = seq
		// Encoded into one buffer per batch: one allocation, not one per
		// event (the store copies them into its record).
		start := len(enc)
		enc = e.appendTo(enc)
		events = append(events, store.Event{Seq: seq, Data: enc[start:len(enc):len(enc)]})
		if k := int(m.settled - settled); k > 0 {
			// Drift events whose After is now known: sent again, updated.
			end := len(m.events) - len(m.due)
			drifts = append(drifts, m.events[max(end-k, 0):end]...)
		}
		if m.drifts != drifted {
			drifts = append(drifts, m.events[len(m.events)-1])
		}
		span++
		if span%lockSpan == 0 {
			s.mu.Unlock()
			s.mu.Lock()
		}
		return seq, nil
	}
	for _, j := range batch {
		if applyErr != nil {
			break
		}
		switch j.kind {
		case jobLearn:
			if !learning {
				j.status, j.err = http.StatusConflict, errPaused
				continue
			}
			seq, err := learnOne(&j.ev, nil)
			if err != nil {
				j.status, j.err = http.StatusUnprocessableEntity, err
				continue
			}
			j.seq = seq
		case jobStream:
			// The probabilities of a chunk's lines share one allocation.
			k := max(len(m.p.Labels), 2)
			if cap(j.proba) < k*len(j.items) {
				j.proba = make([]float64, k*len(j.items))
			}
			slab := j.proba[:k*len(j.items)]
			for i := range j.items {
				it := &j.items[i]
				if it.err != nil || applyErr != nil {
					continue
				}
				if it.out.proba == nil {
					it.out.proba = slab[i*k : i*k : (i+1)*k]
				}
				if !it.label || !learning {
					if err := m.predict(it.ev.X, &s.prow, &it.out); err != nil {
						it.err = err
						s.rejected.Add(1)
						continue
					}
					s.preds.Add(1)
					if it.label {
						it.err = errPaused
					}
					continue
				}
				seq, err := learnOne(&it.ev, &it.out)
				if err != nil {
					it.err = err
					continue
				}
				s.preds.Add(1)
				it.seq = seq
			}
		}
	}
	s.learnsSeen.Store(m.learns)
	ver := s.version
	var snap *store.Snapshot
	var snapErr error
	s.sinceSnap += len(events)
	if len(events) > 0 && s.sinceSnap >= cfg.Spec.Snapshots.Every {
		snap, snapErr = s.snapshotLocked()
		s.sinceSnap = 0
	}
	s.mu.Unlock()
	s.evcap, s.enccap = cap(events), min(cap(enc), 8<<20)
	lb.events, lb.enc = events, enc
	return &commit{batch: batch, events: events, logBuf: lb, snap: snap, keep: cfg.Spec.Snapshots.Keep, ver: ver, err: errors.Join(applyErr, snapErr), drifts: drifts}
}

// maxQueuedCommits bounds the applied batches waiting for the disk.
const maxQueuedCommits = 64

// committer writes the applied batches in order. Except in fsync mode
// (one transaction per request), it writes those queued together in one
// transaction, up to one with a snapshot or a failure.
func (s *Server) committer(commits <-chan *commit) {
	var group []*commit
	var merged []store.Event
	var next *commit
	for {
		c := next
		next = nil
		if c == nil {
			var ok bool
			if c, ok = <-commits; !ok {
				return
			}
		}
		group = append(group[:0], c)
		joinable := func(c *commit) bool { return !c.failed && c.err == nil }
		if s.cfg.Load().Spec.Durability != "fsync" {
		gather:
			for last := c; last.snap == nil && joinable(last); {
				select {
				case c2, ok := <-commits:
					if !ok {
						break gather
					}
					if !joinable(c2) {
						next = c2
						break gather
					}
					group = append(group, c2)
					last = c2
				default:
					break gather
				}
			}
		}
		merged = s.commitGroup(group, merged)
		for range group {
			s.committing.Done()
		}
		clear(group)
	}
}

// commitGroup writes applied batches (none failed; only the last may
// have a snapshot) in one transaction and answers their jobs. merged is
// scratch space for their events, returned for reuse.
func (s *Server) commitGroup(group []*commit, merged []store.Event) []store.Event {
	if len(group) == 1 || s.failed.Load() != nil {
		for _, c := range group {
			s.commitBatch(c)
		}
		return merged
	}
	merged = merged[:0]
	for _, c := range group {
		merged = append(merged, c.events...)
	}
	last := group[len(group)-1]
	err := s.st.Apply(store.Write{Events: merged, Snapshot: last.snap, Keep: last.keep})
	clear(merged) // drop the references into the batches' buffers
	for _, c := range group {
		s.answer(c, err)
	}
	if err != nil {
		s.fail(err)
		return merged
	}
	for _, c := range group {
		s.publishDrifts(c)
	}
	return merged
}

// commitBatch writes an applied batch and then answers its jobs. Once a
// commit failed, later ones write nothing (the log must not have a gap).
func (s *Server) commitBatch(c *commit) {
	if c.failed || s.failed.Load() != nil {
		for _, j := range c.batch {
			j.status, j.err = http.StatusServiceUnavailable, &api.Error{Error: "the server stopped after a store error: restart it"}
			for i := range j.items {
				j.items[i].err, j.items[i].seq = j.err, 0
			}
			close(j.done)
		}
		return
	}
	err := c.err
	if err == nil && (len(c.events) > 0 || c.snap != nil) {
		err = s.st.Apply(store.Write{Events: c.events, Snapshot: c.snap, Keep: c.keep})
	}
	s.answer(c, err)
	if err != nil {
		s.fail(err)
		return
	}
	s.publishDrifts(c)
}

// answer ends a written (or failed, err) batch's jobs and gives its
// buffers back for reuse.
func (s *Server) answer(c *commit, err error) {
	if lb := c.logBuf; lb != nil && cap(lb.enc) <= 8<<20 {
		clear(lb.events) // drop the references into enc
		select {
		case s.logBufs <- lb:
		default:
		}
	}
	for _, j := range c.batch {
		j.ver = c.ver
		if err != nil {
			j.status, j.err = http.StatusInternalServerError, &api.Error{Error: "the event was not stored: " + err.Error()}
			for i := range j.items {
				j.items[i].err, j.items[i].seq = j.err, 0
			}
		}
		close(j.done)
	}
}

func (s *Server) publishDrifts(c *commit) {
	for i := range c.drifts {
		s.hub.publish(api.Event{Type: "drift", Time: time.Now().UTC(), Drift: &c.drifts[i]})
	}
}

// snapshotLocked captures the live state (the caller holds mu).
func (s *Server) snapshotLocked() (*store.Snapshot, error) {
	state, err := s.m.state()
	if err != nil {
		return nil, err
	}
	cb, err := s.m.cfg.Marshal()
	if err != nil {
		return nil, err
	}
	return &store.Snapshot{Seq: s.seq, Version: s.version, Config: cb, State: state}, nil
}

// saveVersion captures the live state as version n (the caller holds mu).
func (s *Server) saveVersionLocked(n int, note string) (store.Version, error) {
	state, err := s.m.state()
	if err != nil {
		return store.Version{}, err
	}
	cb, err := s.m.cfg.Marshal()
	if err != nil {
		return store.Version{}, err
	}
	return store.Version{N: n, Created: time.Now().UTC(), Note: note, Learns: s.m.learns, Config: cb, State: state}, nil
}

// newVersion saves the live state as a new version and makes it current.
// Learner goroutine (or load) only.
func (s *Server) newVersion(note string) error {
	s.mu.Lock()
	n := s.maxVersion + 1
	v, err := s.saveVersionLocked(n, note)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	old := s.version
	s.version = n
	snap, err := s.snapshotLocked()
	if err != nil {
		s.version = old
		s.mu.Unlock()
		return err
	}
	s.mu.Unlock()
	if err := s.st.Apply(store.Write{Snapshot: snap, Versions: []store.Version{v}, Keep: s.cfg.Load().Spec.Snapshots.Keep}); err != nil {
		s.mu.Lock()
		s.version = old
		s.mu.Unlock()
		return fmt.Errorf("save version %d: %w", n, err)
	}
	s.maxVersion = n
	s.sinceSnap = 0
	s.publishVersion(v)
	return nil
}

// replace starts a fresh model from cfg as a new version, keeping the
// current state as a version to roll back to. Learner goroutine only.
func (s *Server) replace(cfg *config.Config, oldNote, newNote string) error {
	fresh, err := newModel(cfg)
	if err != nil {
		return err
	}
	return s.replaceWith(fresh, cfg, oldNote, newNote)
}

// replaceWith makes next (built from cfg) live as a new version, keeping
// the current state as a version to roll back to. Learner goroutine only.
func (s *Server) replaceWith(next *model, cfg *config.Config, oldNote, newNote string) error {
	s.mu.Lock()
	kept, err := s.saveVersionLocked(s.maxVersion+1, oldNote)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	prev, prevVer := s.m, s.version
	s.setLive(next, cfg, s.maxVersion+2)
	v, err1 := s.saveVersionLocked(s.maxVersion+2, newNote)
	snap, err2 := s.snapshotLocked()
	if err := errors.Join(err1, err2); err != nil {
		s.setLive(prev, prev.cfg, prevVer)
		s.mu.Unlock()
		return err
	}
	s.mu.Unlock()
	if err := s.st.Apply(store.Write{Snapshot: snap, Versions: []store.Version{kept, v}, Keep: cfg.Spec.Snapshots.Keep}); err != nil {
		s.mu.Lock()
		s.setLive(prev, prev.cfg, prevVer)
		s.mu.Unlock()
		return fmt.Errorf("save the new version: %w", err)
	}
	s.maxVersion += 2
	s.sinceSnap = 0
	s.publishVersion(v)
	return nil
}

var errNoVersion = errors.New("no such version")

// rollback makes saved version n live again, exactly as it was saved; the
// state it replaces is kept as a new version. Learner goroutine only.
func (s *Server) rollback(n int, note string) error {
	rec, err := s.st.Version(n)
	if errors.Is(err, store.ErrNoVersion) {
		return errNoVersion
	}
	if err != nil {
		return err
	}
	cfg, err := config.Parse(rec.Config, fmt.Sprintf("version %d config", n))
	if err != nil {
		return fmt.Errorf("version %d's config does not validate: %w", n, err)
	}
	m, err := restoreModel(cfg, rec.State)
	if err != nil {
		return fmt.Errorf("restore version %d: %w", n, err)
	}
	s.mu.Lock()
	kept, err := s.saveVersionLocked(s.maxVersion+1, note)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	prev, prevVer := s.m, s.version
	s.setLive(m, cfg, n)
	snap := &store.Snapshot{Seq: s.seq, Version: n, Config: rec.Config, State: rec.State}
	s.mu.Unlock()
	if err := s.st.Apply(store.Write{Snapshot: snap, Versions: []store.Version{kept}, Keep: cfg.Spec.Snapshots.Keep}); err != nil {
		s.mu.Lock()
		s.setLive(prev, prev.cfg, prevVer)
		s.mu.Unlock()
		return fmt.Errorf("save the rollback: %w", err)
	}
	s.maxVersion++
	s.sinceSnap = 0
	rec.State = nil
	s.publishVersion(*rec)
	return nil
}

// patch changes run-time hyperparameters and snapshots the result so that
// a replay after a crash learns with them too. Learner goroutine only.
func (s *Server) patch(params map[string]any) error {
	s.mu.Lock()
	if err := models.Patch(s.m.p, params); err != nil {
		s.mu.Unlock()
		return &reqError{status: http.StatusUnprocessableEntity, body: api.Error{Error: err.Error(), Field: "params"}}
	}
	if s.m.patched == nil {
		s.m.patched = map[string]any{}
	}
	for k, v := range params {
		s.m.patched[k] = v
	}
	snap, err := s.snapshotLocked()
	s.mu.Unlock()
	if err != nil {
		return err
	}
	if err := s.st.Apply(store.Write{Snapshot: snap, Keep: s.cfg.Load().Spec.Snapshots.Keep}); err != nil {
		s.fail(err)
		return err
	}
	s.sinceSnap = 0
	return nil
}

// setLearning pauses or resumes learning, durably.
func (s *Server) setLearning(on bool) error {
	v := []byte("0")
	if !on {
		v = []byte("1")
	}
	if err := s.st.Apply(store.Write{Meta: map[string][]byte{"paused": v}}); err != nil {
		return err
	}
	s.learning.Store(on)
	s.mu.Lock()
	info := s.modelInfo()
	s.mu.Unlock()
	s.hub.publish(api.Event{Type: "version", Time: time.Now().UTC(), Model: &info})
	return nil
}

func (s *Server) publishVersion(v store.Version) {
	s.mu.Lock()
	info := s.modelInfo()
	s.mu.Unlock()
	av := api.Version{Version: v.N, Created: v.Created, Note: v.Note, Learns: v.Learns, Current: v.N == info.Version}
	s.hub.publish(api.Event{Type: "version", Time: time.Now().UTC(), Version: &av, Model: &info})
}

// modelParams reports the live hyperparameters.
func modelParams(m *model) map[string]any {
	defer func() { _ = recover() }()
	return models.Params(m.p)
}

// rowFor is used by tests: the dense row the server builds for features.
func rowFor(p *learn.Pipeline, x sample, r *learn.Row) error {
	m := &model{p: p}
	if err := m.fill(x, r, true); err != nil {
		return errors.New(err.Error)
	}
	return nil
}
