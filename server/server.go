// Package server is the model server: a public API that predicts and
// learns, a management API that watches and steers, one learner goroutine
// that orders every change, and a bbolt store that makes each acknowledged
// learn durable.
package server

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/olops/olops/internal/api"
	"github.com/olops/olops/internal/config"
	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/server/store"
)

// Options are how a server is started. Empty addresses use the config's
// (or :8080 and :9090); empty tokens leave that API open.
type Options struct {
	DataDir         string
	PublicAddr      string
	ManagementAddr  string
	PublicToken     string
	ManagementToken string
	TLSCert         string
	TLSKey          string
	Logger          *slog.Logger
	// OnListen, when set, is called once both listeners are bound, with
	// their base URLs (useful with port 0).
	OnListen func(publicURL, managementURL string)
}

// Server is one model server.
type Server struct {
	o   Options
	log *slog.Logger
	st  *store.Store

	// mu guards the live model and its version. Predictions hold it for
	// the computation only; the learner holds it to apply events, never
	// while writing to disk.
	mu      sync.Mutex
	m       *model
	version int

	cfg        atomic.Pointer[config.Config]
	limiter    atomic.Pointer[bucket]
	learning   atomic.Bool
	failed     atomic.Pointer[error]
	started    time.Time
	preds      atomic.Uint64
	rejected   atomic.Uint64
	learnsSeen atomic.Uint64 // mirror of the model's learn count for lock-free reads
	jobs       chan *job
	cache      *idCache
	hub        *hub
	idPrefix   string
	idSeq      atomic.Uint64
	lat        latencies
	scratch    sync.Pool // *scratch: request buffers
	rates      rates

	// Learner-only state.
	seq        uint64 // last assigned sequence number
	sinceSnap  int
	maxVersion int
	logBufs    chan *logBuf   // written batches' buffers, for the next ones
	evcap      int            // the last batch's sizes, to size the next
	enccap     int            //
	committing sync.WaitGroup // commits queued by the learner, not yet done
	prow       learn.Row      // scratch row for predictions (guarded by mu)

	cancel context.CancelCauseFunc
}

// New opens the data directory, loads the newest snapshot, replays the
// events after it and returns a server ready to Run. cfg is the desired
// config: when its model differs from the stored one, it becomes a new
// version (the stored state is kept to roll back to).
func New(ctx context.Context, cfg *config.Config, o Options) (*Server, error) {
	if cfg == nil {
		return nil, errors.New("no config: load one with config.Load or build one with config.Default")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if o.DataDir == "" {
		o.DataDir = ".olops"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return nil, errors.New("TLS needs both a certificate and a key: give --tls-cert and --tls-key")
	}
	st, err := store.Open(o.DataDir, cfg.Spec.Durability == "none")
	if err != nil {
		return nil, err
	}
	var pfx [4]byte
	_, _ = rand.Read(pfx[:])
	s := &Server{
		o:        o,
		log:      o.Logger,
		st:       st,
		started:  time.Now().UTC(),
		jobs:     make(chan *job, 4096),
		logBufs:  make(chan *logBuf, 4),
		cache:    newIDCache(100_000, time.Hour),
		hub:      newHub(),
		idPrefix: hex.EncodeToString(pfx[:]),
	}
	if err := s.load(ctx, cfg); err != nil {
		st.Close()
		return nil, err
	}
	return s, nil
}

// load restores the live model from the store, or starts version 1.
func (s *Server) load(ctx context.Context, want *config.Config) error {
	snap, err := s.st.Latest()
	if err != nil {
		return err
	}
	vs, err := s.st.Versions()
	if err != nil {
		return fmt.Errorf("read versions: %w", err)
	}
	for _, v := range vs {
		s.maxVersion = max(s.maxVersion, v.N)
	}
	paused, err := s.st.Meta("paused")
	if err != nil {
		return err
	}
	s.learning.Store(string(paused) != "1")
	if snap == nil {
		m, err := newModel(want)
		if err != nil {
			return err
		}
		s.setLive(m, want, 0)
		return s.newVersion("initial version")
	}
	stored, err := config.Parse(snap.Config, "stored config")
	if err != nil {
		return fmt.Errorf("the data directory's config no longer validates (%w): move the data directory away to start over", err)
	}
	m, err := restoreModel(stored, snap.State)
	if err != nil {
		return fmt.Errorf("restore snapshot at event %d: %w", snap.Seq, err)
	}
	s.seq = snap.Seq
	n := 0
	err = s.st.Events(snap.Seq, func(seq uint64, data []byte) error {
		if n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		n++
		e, err := decodeEvent(data)
		if err != nil {
			return fmt.Errorf("event %d: %w", seq, err)
		}
		if err := m.apply(&e, seq, nil); err != nil {
			return err
		}
		s.seq = seq
		return nil
	})
	if err != nil {
		return fmt.Errorf("replay the event log: %w", err)
	}
	s.sinceSnap = n
	s.log.Info("state restored", "version", snap.Version, "snapshot_seq", snap.Seq, "replayed", n, "learns", m.learns)
	sameModel := learned(stored) == learned(want)
	if sameModel && watching(stored) == watching(want) {
		// Same model: keep the state, take the serving settings.
		m.cfg = want
		s.setLive(m, want, snap.Version)
		return nil
	}
	s.setLive(m, stored, snap.Version)
	if sameModel {
		next, err := m.rewatched(want)
		if err != nil {
			return err
		}
		s.log.Info("the config's metrics or drift settings changed: the learned model carries over as a new version; its metrics and drift detector start over", "old_version", snap.Version)
		return s.replaceWith(next, want, "before metrics or drift change at start", "metrics or drift change at start")
	}
	s.log.Warn("the config's model differs from the stored one: starting a new version; the old state is kept", "old_version", snap.Version)
	return s.replace(want, "before config change at start", "config change at start")
}

// setLive makes m the live model (the caller holds mu or owns the server).
func (s *Server) setLive(m *model, cfg *config.Config, version int) {
	m.cfg = cfg
	s.m = m
	s.version = version
	s.cfg.Store(cfg)
	s.learnsSeen.Store(m.learns)
	if g := cfg.Spec.Guard; g.LearnRate > 0 {
		s.limiter.Store(newBucket(g.LearnRate, g.LearnBurst))
	} else {
		s.limiter.Store(nil)
	}
}

// Run serves both APIs until ctx is done, then shuts down gracefully:
// in-flight requests finish, queued learns are committed, the store closes.
func (s *Server) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	s.cancel = cancel
	defer cancel(nil)
	cfg := s.cfg.Load()
	pubAddr := first(s.o.PublicAddr, cfg.Spec.Server.PublicAddr, config.DefaultPublicAddr)
	mgmtAddr := first(s.o.ManagementAddr, cfg.Spec.Server.ManagementAddr, config.DefaultManagementAddr)
	var lc net.ListenConfig
	pl, err := lc.Listen(ctx, "tcp", pubAddr)
	if err != nil {
		s.st.Close()
		return fmt.Errorf("public API: %w", err)
	}
	ml, err := lc.Listen(ctx, "tcp", mgmtAddr)
	if err != nil {
		pl.Close()
		s.st.Close()
		return fmt.Errorf("management API: %w", err)
	}
	scheme := "http"
	var tlsCfg *tls.Config
	if s.o.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(s.o.TLSCert, s.o.TLSKey)
		if err != nil {
			pl.Close()
			ml.Close()
			s.st.Close()
			return fmt.Errorf("load TLS certificate: %w", err)
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		pl, ml = tls.NewListener(pl, tlsCfg), tls.NewListener(ml, tlsCfg)
		scheme = "https"
	}
	pub := &http.Server{Handler: s.PublicHandler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	mgmt := &http.Server{Handler: s.ManagementHandler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}

	learnerDone := make(chan struct{})
	stopLearner := make(chan struct{})
	go func() {
		defer close(learnerDone)
		s.learner(stopLearner)
	}()
	tickDone := make(chan struct{})
	go func() {
		defer close(tickDone)
		s.ticker(ctx)
	}()

	errc := make(chan error, 2)
	go func() { errc <- pub.Serve(pl) }()
	go func() { errc <- mgmt.Serve(ml) }()
	pubURL := scheme + "://" + urlHost(pl.Addr())
	mgmtURL := scheme + "://" + urlHost(ml.Addr())
	s.log.Info("listening", "public", pubURL, "management", mgmtURL, "model", cfg.Metadata.Name,
		"version", s.version, "durability", cfg.Spec.Durability, "public_auth", s.o.PublicToken != "", "management_auth", s.o.ManagementToken != "")
	if s.o.ManagementToken == "" {
		s.log.Warn("the management API has no token: anyone who reaches it can change the model; set OLOPS_MANAGEMENT_TOKEN")
	}
	if s.o.OnListen != nil {
		s.o.OnListen(pubURL, mgmtURL)
	}

	var runErr error
	select {
	case <-ctx.Done():
		if c := context.Cause(ctx); c != nil && !errors.Is(c, context.Canceled) {
			runErr = c
		}
	case err := <-errc:
		runErr = err
	}
	s.log.Info("shutting down")
	s.hub.close()
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer scancel()
	_ = pub.Shutdown(sctx)
	_ = mgmt.Shutdown(sctx)
	close(stopLearner)
	<-learnerDone
	<-tickDone
	if err := s.st.Close(); err != nil && runErr == nil {
		runErr = err
	}
	s.log.Info("stopped")
	return runErr
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// urlHost makes a bound address reachable: an unspecified IP becomes
// loopback.
func urlHost(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	ip := ta.IP
	if ip == nil || ip.IsUnspecified() {
		if ip.To4() == nil && ip != nil {
			ip = net.IPv6loopback
		} else {
			ip = net.IPv4(127, 0, 0, 1)
		}
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(ta.Port))
}

// fail stops the server after a store error: the state on disk is
// consistent, the one in memory may be ahead of it, so a restart is the
// safe way on.
func (s *Server) fail(err error) {
	s.failed.Store(&err)
	s.log.Error("store write failed: stopping; restart to recover from the data directory", "err", err)
	if s.cancel != nil {
		s.cancel(err)
	}
}

// modelInfo is GET /v1/model (the caller holds mu).
func (s *Server) modelInfo() api.Model {
	m := s.m
	cfgJSON, _ := jsonConfig(m.cfg)
	return api.Model{
		Name:       m.cfg.Metadata.Name,
		Task:       string(m.cfg.Spec.Task),
		Version:    s.version,
		Learning:   s.learning.Load(),
		StartedAt:  s.started,
		Counters:   s.countersLocked(),
		Config:     cfgJSON,
		Parameters: modelParams(m),
	}
}

func (s *Server) countersLocked() api.Counters {
	return api.Counters{Predictions: s.preds.Load(), Learns: s.m.learns, Rejected: s.rejected.Load(), Drifts: s.m.drifts}
}

func (s *Server) newID() string {
	return string(s.appendNewID(make([]byte, 0, len(s.idPrefix)+12)))
}

// appendNewID appends a new prediction id to b.
func (s *Server) appendNewID(b []byte) []byte {
	b = append(b, s.idPrefix...)
	b = append(b, '-')
	return strconv.AppendUint(b, s.idSeq.Add(1), 10)
}
