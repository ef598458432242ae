package tui

import (
	"context"
	"errors"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/olops/olops/internal/api"
)

// Source is one model server's management API, as the monitor uses it.
type Source interface {
	Model(ctx context.Context) (*api.Model, error)
	Metrics(ctx context.Context) (*api.Metrics, error)
	Drift(ctx context.Context) (*api.Drift, error)
	Versions(ctx context.Context) ([]api.Version, error)
	// Challenger is the running challenger (GET /v1/challenger), or nil
	// and no error when none runs.
	Challenger(ctx context.Context) (*api.Challenger, error)
	// Events follows GET /v1/events until the stream ends or ctx is done.
	// It returns ErrNoEvents when the server has no event stream.
	Events(ctx context.Context, fn func(api.Event)) error
	Snapshot(ctx context.Context, note string) (*api.Version, error)
	Rollback(ctx context.Context, version int) error
	Pause(ctx context.Context) error
	Resume(ctx context.Context) error
}

// ErrNoEvents is what Source.Events returns when the server does not
// offer an event stream: the monitor then polls.
var ErrNoEvents = errors.New("the server has no event stream")

// WatchOptions tune Watch; the zero value is the monitor's defaults.
type WatchOptions struct {
	Poll       time.Duration // polling interval without events (1 s)
	Refresh    int           // while polling, read drift and versions every Refresh polls (5)
	MinBackoff time.Duration // first retry delay (250 ms)
	MaxBackoff time.Duration // retry delay cap (5 s)
	Silence    time.Duration // no event for this long means the stream is dead (5 s)
	Now        func() time.Time
}

func (o *WatchOptions) defaults() {
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Refresh <= 0 {
		o.Refresh = 5
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 250 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Second
	}
	if o.Silence <= 0 {
		o.Silence = 5 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Watch feeds target i's state to send until ctx is done: a snapshot of
// the model, metrics, drift and versions on every (re)connect, then the
// SSE events, or polled metrics when the server has no event stream. When
// the connection breaks it reports Lost and retries with exponential
// backoff, forever: a restarted server is picked up again by itself.
func Watch(ctx context.Context, i int, src Source, send func(tea.Msg), o WatchOptions) {
	o.defaults()
	send(ConnMsg{Target: i, Time: o.Now(), State: Connecting})
	attempt := 0
	for ctx.Err() == nil {
		connected, err := watchOnce(ctx, i, src, send, o)
		if ctx.Err() != nil {
			return
		}
		if connected {
			attempt = 0
		}
		attempt++
		delay := backoff(attempt, o.MinBackoff, o.MaxBackoff)
		send(ConnMsg{Target: i, Time: o.Now(), State: Lost, Err: err, Attempt: attempt, Retry: delay})
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
	}
}

func backoff(attempt int, lo, hi time.Duration) time.Duration {
	d := lo
	for k := 1; k < attempt && d < hi; k++ {
		d *= 2
	}
	return min(d, hi)
}

// watchOnce is one connection: it returns why it ended, and whether it got
// as far as reading the server's state.
func watchOnce(ctx context.Context, i int, src Source, send func(tea.Msg), o WatchOptions) (bool, error) {
	snap, err := readState(ctx, i, src, o.Now)
	if err != nil {
		return false, err
	}
	send(snap)
	send(ConnMsg{Target: i, Time: o.Now(), State: Live})
	// The event stream carries no challenger: ask for it beside.
	stop := watchChallenger(ctx, i, src, send, o)
	defer stop()

	err = followEvents(ctx, i, src, send, o)
	if !errors.Is(err, ErrNoEvents) {
		if err == nil {
			err = errors.New("the event stream ended")
		}
		return true, err
	}
	send(ConnMsg{Target: i, Time: o.Now(), State: Polling})
	return true, poll(ctx, i, src, send, o)
}

func readState(ctx context.Context, i int, src Source, now func() time.Time) (SnapshotMsg, error) {
	md, err := src.Model(ctx)
	if err != nil {
		return SnapshotMsg{}, err
	}
	mt, err := src.Metrics(ctx)
	if err != nil {
		return SnapshotMsg{}, err
	}
	dr, err := src.Drift(ctx)
	if err != nil {
		return SnapshotMsg{}, err
	}
	vs, err := src.Versions(ctx)
	if err != nil {
		return SnapshotMsg{}, err
	}
	if vs == nil {
		vs = []api.Version{}
	}
	return SnapshotMsg{Target: i, Time: now(), Model: md, Metrics: mt, Drift: dr, Versions: vs}, nil
}

// followEvents relays the event stream, and ends it when the server stays
// silent for o.Silence (it ticks every second), which catches a
// connection that died without closing.
func followEvents(ctx context.Context, i int, src Source, send func(tea.Msg), o WatchOptions) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	silent := false
	watchdog := time.AfterFunc(o.Silence, func() {
		mu.Lock()
		silent = true
		mu.Unlock()
		cancel()
	})
	defer watchdog.Stop()
	err := src.Events(ctx, func(e api.Event) {
		watchdog.Reset(o.Silence)
		send(EventMsg{Target: i, Event: e})
	})
	mu.Lock()
	defer mu.Unlock()
	if silent {
		return errors.New("no event from the server for " + o.Silence.String())
	}
	return err
}

func poll(ctx context.Context, i int, src Source, send func(tea.Msg), o WatchOptions) error {
	tick := time.NewTicker(o.Poll)
	defer tick.Stop()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		mt, err := src.Metrics(ctx)
		if err != nil {
			return err
		}
		send(EventMsg{Target: i, Event: api.Event{Type: "metrics", Time: o.Now(), Metrics: mt}})
		if n%o.Refresh != 0 {
			continue
		}
		snap := SnapshotMsg{Target: i, Time: o.Now()}
		if snap.Model, err = src.Model(ctx); err != nil {
			return err
		}
		if snap.Drift, err = src.Drift(ctx); err != nil {
			return err
		}
		if snap.Versions, err = src.Versions(ctx); err != nil {
			return err
		}
		if snap.Versions == nil {
			snap.Versions = []api.Version{} // none: not "unchanged"
		}
		send(snap)
	}
}

// watchChallenger reads the challenger now and every o.Poll until the
// returned func is called, which waits for it to stop so that nothing
// arrives after the connection's end. A failed read is skipped: the
// connection's own reads report a server that went away.
func watchChallenger(ctx context.Context, i int, src Source, send func(tea.Msg), o WatchOptions) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(o.Poll)
		defer tick.Stop()
		for {
			if c, err := src.Challenger(ctx); err == nil && ctx.Err() == nil {
				send(ChallengerMsg{Target: i, Time: o.Now(), Challenger: c})
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}
