package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/olops/olops/internal/api"
)

// flakySource is a server that is down for its first `down` reads, then
// streams `events` events and ends the stream (a restart), or has no
// event stream at all.
type flakySource struct {
	fakeSource
	mu       sync.Mutex
	down     int
	events   int
	noEvents bool
	reads    int
}

var errRefused = errors.New("cannot reach http://127.0.0.1:9090 (connection refused)")

func (f *flakySource) Model(ctx context.Context) (*api.Model, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	if f.reads <= f.down {
		return nil, errRefused
	}
	return testModel(3), nil
}

func (f *flakySource) Events(ctx context.Context, fn func(api.Event)) error {
	if f.noEvents {
		return ErrNoEvents
	}
	for i := range f.events {
		m := testMetrics(0.9, uint64(100*i))
		fn(api.Event{Type: "metrics", Time: t0, Metrics: &m})
	}
	return nil
}

// collect runs Watch until stop says enough (bounded by a timeout) and
// returns the messages it sent.
func collect(t *testing.T, src Source, o WatchOptions, stop func([]tea.Msg) bool) []tea.Msg {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := make(chan tea.Msg, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		Watch(ctx, 0, src, func(m tea.Msg) {
			select {
			case ch <- m:
			case <-ctx.Done():
			}
		}, o)
	}()
	var got []tea.Msg
	timeout := time.After(10 * time.Second)
	for !stop(got) {
		select {
		case m := <-ch:
			got = append(got, m)
		case <-timeout:
			t.Fatalf("Watch did not get there in 10s; it sent:\n%s", describe(got))
		}
	}
	cancel()
	<-done
	return got
}

func describe(msgs []tea.Msg) string {
	var b strings.Builder
	for _, m := range msgs {
		switch m := m.(type) {
		case ConnMsg:
			fmt.Fprintf(&b, "conn %s attempt %d retry %s err %v\n", m.State, m.Attempt, m.Retry, m.Err)
		case EventMsg:
			fmt.Fprintf(&b, "event %s\n", m.Event.Type)
		case SnapshotMsg:
			fmt.Fprintf(&b, "snapshot model=%v metrics=%v drift=%v versions=%v\n", m.Model != nil, m.Metrics != nil, m.Drift != nil, m.Versions != nil)
		}
	}
	return b.String()
}

func fast() WatchOptions {
	return WatchOptions{Poll: 5 * time.Millisecond, Refresh: 2, MinBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond, Silence: time.Second}
}

func TestWatchReconnectsWithBackoff(t *testing.T) {
	src := &flakySource{down: 3, events: 2}
	lives := func(got []tea.Msg) int {
		n := 0
		for _, m := range got {
			if c, ok := m.(ConnMsg); ok && c.State == Live {
				n++
			}
		}
		return n
	}
	got := collect(t, src, fast(), func(got []tea.Msg) bool { return lives(got) >= 2 })
	want := "" +
		"conn connecting attempt 0 retry 0s err <nil>\n" +
		"conn reconnecting attempt 1 retry 1ms err " + errRefused.Error() + "\n" +
		"conn reconnecting attempt 2 retry 2ms err " + errRefused.Error() + "\n" +
		"conn reconnecting attempt 3 retry 4ms err " + errRefused.Error() + "\n" +
		"snapshot model=true metrics=true drift=true versions=true\n" +
		"conn live attempt 0 retry 0s err <nil>\n" +
		"event metrics\n" +
		"event metrics\n" +
		// the stream ended (a restart): a successful session resets the backoff
		"conn reconnecting attempt 1 retry 1ms err the event stream ended\n" +
		"snapshot model=true metrics=true drift=true versions=true\n" +
		"conn live attempt 0 retry 0s err <nil>\n"
	if d := describe(got); d != want {
		t.Fatalf("Watch sent:\n%s\nwant:\n%s", d, want)
	}
}

func TestWatchPollsWithoutEvents(t *testing.T) {
	src := &flakySource{noEvents: true}
	got := collect(t, src, fast(), func(got []tea.Msg) bool {
		snaps := 0
		for _, m := range got {
			if _, ok := m.(SnapshotMsg); ok {
				snaps++
			}
		}
		return snaps >= 2
	})
	want := "" +
		"conn connecting attempt 0 retry 0s err <nil>\n" +
		"snapshot model=true metrics=true drift=true versions=true\n" +
		"conn live attempt 0 retry 0s err <nil>\n" +
		"conn polling attempt 0 retry 0s err <nil>\n" +
		"event metrics\n" +
		"event metrics\n" +
		"snapshot model=true metrics=false drift=true versions=true\n"
	if d := describe(got); d != want {
		t.Fatalf("Watch sent:\n%s\nwant:\n%s", d, want)
	}
}

// silentSource opens a stream that never says anything.
type silentSource struct{ fakeSource }

func (s *silentSource) Events(ctx context.Context, fn func(api.Event)) error {
	<-ctx.Done()
	return ctx.Err()
}

func TestWatchGivesUpOnASilentStream(t *testing.T) {
	o := fast()
	o.Silence = 20 * time.Millisecond
	got := collect(t, &silentSource{}, o, func(got []tea.Msg) bool {
		for _, m := range got {
			if c, ok := m.(ConnMsg); ok && c.State == Lost {
				return true
			}
		}
		return false
	})
	last := got[len(got)-1].(ConnMsg)
	if last.Err == nil || !strings.Contains(last.Err.Error(), "no event from the server for 20ms") {
		t.Fatalf("a silent stream was lost with %v, want the silence named", last.Err)
	}
}

func TestBackoff(t *testing.T) {
	for attempt, want := range map[int]time.Duration{1: 250 * time.Millisecond, 2: 500 * time.Millisecond, 3: time.Second, 5: 4 * time.Second, 6: 5 * time.Second, 40: 5 * time.Second} {
		if got := backoff(attempt, 250*time.Millisecond, 5*time.Second); got != want {
			t.Errorf("backoff(%d) = %s, want %s", attempt, got, want)
		}
	}
}

func TestDriftMarkers(t *testing.T) {
	tg := &target{}
	// A drift listed on connect, older than the chart: listed, not marked.
	m := testMetrics(0.9, 5000)
	tg.applySnapshot(SnapshotMsg{Metrics: &m, Drift: &api.Drift{Events: []api.DriftEvent{{Index: 4000, Time: t0}}}})
	if len(tg.markers) != 0 || len(tg.drifts) != 1 {
		t.Fatalf("old drift: markers %v drifts %d", tg.markers, len(tg.drifts))
	}
	// A live drift newer than every tick: marked on the next tick.
	tg.applyEvent(driftEvent(0, 5200, t0.Add(time.Second)).Event)
	if len(tg.markers) != 0 || tg.pending != 1 {
		t.Fatalf("pending drift: markers %v pending %d", tg.markers, tg.pending)
	}
	tg.applyEvent(tick(0, 11).Event) // 5,500 learns
	if fmt.Sprint(tg.markers) != "[1]" {
		t.Fatalf("markers %v, want [1]", tg.markers)
	}
	// The same drift again (a reconnect lists it): no second entry.
	tg.applySnapshot(SnapshotMsg{Drift: &api.Drift{Events: []api.DriftEvent{{Index: 4000, Time: t0}, *driftEvent(0, 5200, t0.Add(time.Second)).Event.Drift}}})
	if len(tg.drifts) != 2 || fmt.Sprint(tg.markers) != "[1]" {
		t.Fatalf("after relisting: drifts %d markers %v", len(tg.drifts), tg.markers)
	}
	// The server sends a drift again once its After is known: it replaces
	// the stored one, without a second marker.
	upd := *driftEvent(0, 5200, t0.Add(time.Second)).Event.Drift
	upd.After, upd.AfterIndex = 0.75, 6200
	tg.applyEvent(api.Event{Type: "drift", Drift: &upd})
	if len(tg.drifts) != 2 || tg.drifts[1].After != 0.75 || fmt.Sprint(tg.markers) != "[1]" {
		t.Fatalf("after update: drifts %+v markers %v", tg.drifts, tg.markers)
	}
	// A drift found by polling between two ticks is marked on the later.
	tg.applyEvent(tick(0, 12).Event) // 6,000
	tg.applyEvent(tick(0, 13).Event) // 6,500
	tg.applySnapshot(SnapshotMsg{Drift: &api.Drift{Events: []api.DriftEvent{{Index: 6100, Time: t0.Add(3 * time.Second)}}}})
	if fmt.Sprint(tg.markers) != "[1 3]" {
		t.Fatalf("markers %v, want [1 3]", tg.markers)
	}
	// Old points scroll out with their markers.
	for n := range maxPoints {
		tg.applyEvent(tick(0, 14+n).Event)
	}
	if len(tg.points) != maxPoints || len(tg.markers) != 0 {
		t.Fatalf("after %d more ticks: %d points, markers %v", maxPoints, len(tg.points), tg.markers)
	}
}

func TestChartDrawsLineAndMarks(t *testing.T) {
	rows := chart(newStyles(), []float64{0, 1, 1, 0}, []int{2}, 8+4, 3)
	got := stripAll(rows)
	want := []string{
		"1.0000 ┤ ╭─╮",
		"       │ │┊│",
		"0.0000 ┤─╯┊╰",
		"       └──▲─",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("chart:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if s := sparkline([]float64{0, 1, 2, 4}, 6); s != "  ▁▃▅█" {
		t.Fatalf("sparkline %q", s)
	}
}

// TestWatchReadsTheChallenger: the challenger is read once connected and
// then every poll, and never between a lost connection and the next.
func TestWatchReadsTheChallenger(t *testing.T) {
	count := func(got []tea.Msg, ok func(tea.Msg) bool) int {
		n := 0
		for _, m := range got {
			if ok(m) {
				n++
			}
		}
		return n
	}
	isChallenger := func(m tea.Msg) bool { _, ok := m.(ChallengerMsg); return ok }
	isLive := func(m tea.Msg) bool { c, ok := m.(ConnMsg); return ok && c.State == Live }

	src := &fakeSource{challenger: testChallenger(42)}
	got := collect(t, src, fast(), func(got []tea.Msg) bool { return count(got, isChallenger) >= 3 })
	if len(got) < 3 || !isLive(got[2]) {
		t.Fatalf("want connecting, snapshot, live, then the challenger:\n%s", describe(got))
	}
	for _, m := range got[3:] {
		c, ok := m.(ChallengerMsg)
		if !ok || c.Challenger == nil || c.Challenger.Learns != 42 {
			t.Fatalf("after connecting, %#v; want the source's challenger, read again and again", m)
		}
	}

	// A server that restarts again and again.
	flaky := &flakySource{events: 2}
	flaky.challenger = testChallenger(42)
	got = collect(t, flaky, fast(), func(got []tea.Msg) bool { return count(got, isLive) >= 5 })
	connected := false
	for _, m := range got {
		switch m := m.(type) {
		case ConnMsg:
			connected = m.State == Live
		case ChallengerMsg:
			if !connected {
				t.Fatalf("a challenger read arrived while not connected:\n%s", describe(got))
			}
		}
	}
}
