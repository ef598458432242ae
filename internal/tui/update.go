package tui

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/olops/olops/internal/api"
)

// actionTimeout bounds one key's call to the management API.
const actionTimeout = 15 * time.Second

// snapshotNote marks the versions saved from the monitor.
const snapshotNote = "snapshot from olops monitor"

func (m Model) updateKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	t := m.targets[m.active]
	if m.picking {
		switch {
		case key.Matches(msg, m.keys.Yes):
			m.picking = false
			vs := t.versions
			if m.pick < 0 || m.pick >= len(vs) {
				return m, nil
			}
			n := vs[m.pick].Version
			m.setFlash(fmt.Sprintf("rolling back %s to v%d…", t.title(), n), false)
			return m, m.action(m.active, "rollback", func(ctx context.Context, s Source) (int, error) {
				return n, s.Rollback(ctx, n)
			})
		case key.Matches(msg, m.keys.No):
			m.picking = false
			m.setFlash("rollback cancelled", false)
		case key.Matches(msg, m.keys.Up):
			m.pick = m.nextPick(-1)
		case key.Matches(msg, m.keys.Down):
			m.pick = m.nextPick(+1)
		case msg.String() == "ctrl+c":
			return m, tea.Quit
		}
		return m, nil
	}
	if m.listing {
		switch {
		case key.Matches(msg, m.keys.Show):
			m.active, m.listing = m.sel, false
		case key.Matches(msg, m.keys.Close):
			m.listing = false
		case key.Matches(msg, m.keys.Up):
			m.sel = max(m.sel-1, 0)
		case key.Matches(msg, m.keys.Down):
			m.sel = min(m.sel+1, len(m.targets)-1)
		case key.Matches(msg, m.keys.Next):
			m.active = (m.active + 1) % len(m.targets)
			m.sel = m.active
		case key.Matches(msg, m.keys.Quit):
			return m, tea.Quit
		}
		return m, nil
	}

	switch {
	case key.Matches(msg, m.keys.Quit):
		return m, tea.Quit
	case key.Matches(msg, m.keys.Help):
		m.showHelp = !m.showHelp
	case msg.String() == "esc" && m.showHelp:
		m.showHelp = false
	case key.Matches(msg, m.keys.Next):
		m.active = (m.active + 1) % len(m.targets)
	case key.Matches(msg, m.keys.List):
		if len(m.targets) < 2 {
			m.setFlash("one model only: l lists the models when olops monitor watches several", false)
			return m, nil
		}
		m.showHelp = false
		m.listing, m.sel = true, m.active
	case key.Matches(msg, m.keys.Snapshot):
		if !m.canAct(t) {
			return m, nil
		}
		m.setFlash("saving a snapshot…", false)
		return m, m.action(m.active, "snapshot", func(ctx context.Context, s Source) (int, error) {
			v, err := s.Snapshot(ctx, snapshotNote)
			if err != nil || v == nil {
				return 0, err
			}
			return v.Version, nil
		})
	case key.Matches(msg, m.keys.Pause):
		if !m.canAct(t) {
			return m, nil
		}
		if t.model == nil {
			m.setFlash("the model is not known yet: try again in a second", true)
			return m, nil
		}
		if t.model.Learning {
			m.setFlash("pausing learning…", false)
			return m, m.action(m.active, "pause", func(ctx context.Context, s Source) (int, error) {
				return 0, s.Pause(ctx)
			})
		}
		m.setFlash("resuming learning…", false)
		return m, m.action(m.active, "resume", func(ctx context.Context, s Source) (int, error) {
			return 0, s.Resume(ctx)
		})
	case key.Matches(msg, m.keys.Rollback):
		if !m.canAct(t) {
			return m, nil
		}
		first := -1
		for i, v := range t.versions {
			if !v.Current {
				first = i
				break
			}
		}
		if first < 0 {
			m.setFlash("no other version to roll back to: save one with s", true)
			return m, nil
		}
		m.picking, m.pick = true, first
	}
	return m, nil
}

// nextPick moves the picker by step, skipping the current version.
func (m Model) nextPick(step int) int {
	vs := m.targets[m.active].versions
	for i := m.pick + step; i >= 0 && i < len(vs); i += step {
		if !vs[i].Current {
			return i
		}
	}
	return m.pick
}

func (m *Model) canAct(t *target) bool {
	switch {
	case t.Source == nil:
		m.setFlash("read-only: this monitor cannot act on "+t.title(), true)
		return false
	case t.conn != Live && t.conn != Polling:
		m.setFlash(t.title()+" is not connected: wait until it is back", true)
		return false
	}
	return true
}

func (m *Model) setFlash(s string, bad bool) {
	m.flash, m.flashBad, m.flashUntil = s, bad, time.Time{}
	if now := m.targets[m.active].now; !now.IsZero() {
		m.flashUntil = now.Add(flashFor)
	}
}

// action runs do against target i's source, then reads its model and
// versions so the screen shows the change at once.
func (m Model) action(i int, name string, do func(context.Context, Source) (int, error)) tea.Cmd {
	src := m.targets[i].Source
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), actionTimeout)
		defer cancel()
		v, err := do(ctx, src)
		msg := ActionMsg{Target: i, Action: name, Version: v, Err: err}
		if err != nil {
			return msg
		}
		if md, err := src.Model(ctx); err == nil {
			msg.Model = md
		}
		if vs, err := src.Versions(ctx); err == nil {
			msg.Versions = vs
		}
		return msg
	}
}

func (m *Model) applyAction(msg ActionMsg) {
	t := m.target(msg.Target)
	if t == nil {
		return
	}
	who := ""
	if len(m.targets) > 1 {
		who = t.title() + ": "
	}
	if msg.Err != nil {
		m.setFlash(fmt.Sprintf("%s%s failed: %v", who, msg.Action, msg.Err), true)
		return
	}
	if msg.Model != nil {
		t.model = msg.Model
	}
	if msg.Versions != nil {
		t.setVersions(msg.Versions)
	}
	switch msg.Action {
	case "snapshot":
		m.setFlash(fmt.Sprintf("%ssnapshot saved as v%d", who, msg.Version), false)
	case "rollback":
		m.setFlash(fmt.Sprintf("%srolled back to v%d", who, msg.Version), false)
	case "pause":
		m.setFlash(who+"learning paused", false)
	case "resume":
		m.setFlash(who+"learning resumed", false)
	default:
		m.setFlash(who+msg.Action+" done", false)
	}
}

func (t *target) see(now time.Time) {
	if now.After(t.now) {
		t.now = now
	}
}

func (t *target) applyConn(msg ConnMsg) {
	t.see(msg.Time)
	switch msg.State {
	case Lost:
		if t.conn != Lost {
			t.lostAt = msg.Time
		}
		t.connErr = ""
		if msg.Err != nil {
			t.connErr = msg.Err.Error()
		}
		t.attempt, t.retry = msg.Attempt, msg.Retry
	case Live, Polling:
		if t.conn == Lost {
			t.recovers++
		}
		t.connErr, t.attempt, t.retry = "", 0, 0
	}
	t.conn = msg.State
}

func (t *target) applySnapshot(msg SnapshotMsg) {
	t.see(msg.Time)
	if msg.Model != nil {
		t.model = msg.Model
	}
	if msg.Metrics != nil {
		t.addPoint(*msg.Metrics)
	}
	if msg.Drift != nil {
		t.detector, t.watches = msg.Drift.Detector, msg.Drift.Watches
		for _, d := range msg.Drift.Events {
			t.addDrift(d, false)
		}
	}
	if msg.Versions != nil {
		t.setVersions(msg.Versions)
	}
}

func (t *target) applyEvent(e api.Event) {
	t.see(e.Time)
	switch e.Type {
	case "metrics":
		if e.Metrics != nil {
			t.addPoint(*e.Metrics)
		}
	case "drift":
		if e.Drift != nil {
			t.addDrift(*e.Drift, true)
		}
	case "version":
		if e.Model != nil {
			t.model = e.Model
		}
		if e.Version != nil {
			vs := append([]api.Version(nil), t.versions...)
			found := false
			for i := range vs {
				if e.Version.Current {
					vs[i].Current = false
				}
				if vs[i].Version == e.Version.Version {
					vs[i], found = *e.Version, true
				}
			}
			if !found {
				vs = append(vs, *e.Version)
			}
			t.setVersions(vs)
		}
	}
}

// setVersions keeps the versions newest first.
func (t *target) setVersions(vs []api.Version) {
	t.versions = append([]api.Version(nil), vs...)
	sort.SliceStable(t.versions, func(i, j int) bool { return t.versions[i].Version > t.versions[j].Version })
}

// addPoint appends one metrics tick to the chart and the sparklines.
func (t *target) addPoint(mt api.Metrics) {
	t.metrics = &mt
	if t.metric == "" {
		t.metric = chartMetric(mt)
	}
	// Before the first learn event a server reports zeros, not metrics:
	// draw nothing rather than a line at 0.
	v := math.NaN()
	if x, ok := mt.Rolling[t.metric]; ok && mt.Counters.Learns > 0 {
		v = x
	}
	t.points = append(t.points, point{value: v, learns: mt.Counters.Learns})
	t.preds = append(t.preds, mt.Rates.Predictions)
	t.learns = append(t.learns, mt.Rates.Learns)
	t.seq++
	if t.pending > 0 {
		t.markers = append(t.markers, t.seq-1)
		t.pending = 0
	}
	if n := len(t.points) - maxPoints; n > 0 {
		t.points = t.points[n:]
		t.preds = t.preds[n:]
		t.learns = t.learns[n:]
		first := t.seq - len(t.points)
		for len(t.markers) > 0 && t.markers[0] < first {
			t.markers = t.markers[1:]
		}
	}
}

// addDrift records a drift once; the server sends a drift again when its
// After value becomes known, which replaces the stored one. It is marked on the chart at the first
// tick that includes its learn event; a live drift newer than every tick
// is marked on the next one. A drift the chart never saw happen (listed on
// connect, older than every tick) is only listed.
func (t *target) addDrift(d api.DriftEvent, live bool) {
	for i, old := range t.drifts {
		if old.Index == d.Index && old.Time.Equal(d.Time) {
			t.drifts[i] = d
			return
		}
	}
	t.drifts = append(t.drifts, d)
	first := t.seq - len(t.points)
	for i, p := range t.points {
		if p.learns < d.Index {
			continue
		}
		if live || (i > 0 && t.points[i-1].learns < d.Index) {
			t.addMarker(first + i)
		}
		return
	}
	if live {
		t.pending++
	}
}

func (t *target) addMarker(n int) {
	for _, x := range t.markers {
		if x == n {
			return
		}
	}
	t.markers = append(t.markers, n)
	sort.Ints(t.markers)
}

// chartMetric picks the metric to chart: accuracy for classifiers, MAE
// for regressors, else the first by name.
func chartMetric(mt api.Metrics) string {
	for _, name := range []string{"accuracy", "mae"} {
		if _, ok := mt.Rolling[name]; ok {
			return name
		}
	}
	names := make([]string, 0, len(mt.Rolling))
	for n := range mt.Rolling {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) > 0 {
		return names[0]
	}
	return ""
}
