// Package tui is `olops monitor`: a bubbletea model of one or more olops
// model servers. Everything it shows arrives as a message (see Watch for
// the goroutine that turns a management API into messages), so the model
// itself is pure and tests drive it with hand-made messages.
package tui

import (
	"time"

	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"

	"github.com/olops/olops/internal/api"
)

// Target is one model server to watch.
type Target struct {
	Name   string // shown in the header; the context name or the URL
	URL    string // the management URL, for the connection line
	Source Source // what the action keys (s, r, p) call; nil disables them
}

// ConnState is how the monitor is connected to a target.
type ConnState int

const (
	Connecting ConnState = iota // first contact not made yet
	Live                        // following the SSE event stream
	Polling                     // no event stream: polling /v1/metrics
	Lost                        // connection lost; retrying with backoff
)

func (s ConnState) String() string {
	switch s {
	case Live:
		return "live"
	case Polling:
		return "polling"
	case Lost:
		return "reconnecting"
	}
	return "connecting"
}

// ConnMsg reports a change of a target's connection.
type ConnMsg struct {
	Target  int
	Time    time.Time
	State   ConnState
	Err     error         // why the connection was lost (State Lost)
	Attempt int           // failed attempts in a row (State Lost)
	Retry   time.Duration // until the next attempt (State Lost)
}

// SnapshotMsg is a target's state fetched on (re)connect, and refreshed
// while polling. Nil fields leave what the model knows unchanged.
type SnapshotMsg struct {
	Target   int
	Time     time.Time
	Model    *api.Model
	Metrics  *api.Metrics
	Drift    *api.Drift
	Versions []api.Version // nil: unchanged
}

// EventMsg is one event of the target's stream (polled metrics arrive as
// "metrics" events too).
type EventMsg struct {
	Target int
	Event  api.Event
}

// ChallengerMsg is the target's challenger, read about once a second;
// nil when none runs.
type ChallengerMsg struct {
	Target     int
	Time       time.Time
	Challenger *api.Challenger
}

// ActionMsg is the outcome of a key's action (snapshot, rollback, pause,
// resume), with the target's model and versions read after it.
type ActionMsg struct {
	Target   int
	Action   string
	Version  int // the new version (snapshot) or the one rolled back to
	Err      error
	Model    *api.Model
	Versions []api.Version
}

// flashFor is how long (in the data's time) an action's message stays.
const flashFor = 10 * time.Second

// maxPoints bounds each target's history (one point a second: 15 minutes).
const maxPoints = 900

// point is one metrics tick on the chart.
type point struct {
	value  float64 // rolling metric; NaN when there is none yet
	learns uint64
}

// target is everything the monitor knows of one model server.
type target struct {
	Target
	conn     ConnState
	connErr  string
	attempt  int
	retry    time.Duration
	lostAt   time.Time
	recovers int // reconnections that succeeded

	now      time.Time // the newest time any message carried
	model    *api.Model
	metrics  *api.Metrics
	detector string
	watches  string

	metric  string  // the charted metric
	points  []point // the newest last
	seq     int     // points ever appended: points[i] is number seq-len(points)+i
	markers []int   // point numbers where a drift was detected
	pending int     // live drifts that wait for the next point

	challenger *api.Challenger // the running challenger, or nil

	drifts   []api.DriftEvent // newest last
	versions []api.Version    // as the server lists them
	preds    []float64        // predictions/s per tick
	learns   []float64        // learns/s per tick
}

// Model is the monitor's bubbletea model.
type Model struct {
	targets []*target
	active  int
	width   int
	height  int

	showHelp   bool
	picking    bool // the rollback picker is open
	pick       int  // index in the active target's versions
	listing    bool // the model list is open
	sel        int  // index in targets, while listing
	flash      string
	flashBad   bool
	flashUntil time.Time // in message time: the flash hides after flashFor

	keys keyMap
	help help.Model
	st   styles
}

// New returns a monitor of targets (at least one).
func New(targets []Target) Model {
	m := Model{keys: newKeyMap(), help: help.New(), st: newStyles(), width: 80, height: 24}
	m.help.Styles = m.st.help
	for _, t := range targets {
		m.targets = append(m.targets, &target{Target: t})
	}
	if len(m.targets) == 0 {
		m.targets = append(m.targets, &target{Target: Target{Name: "(no model)"}})
	}
	// With several models, start on their list: pick one to watch.
	m.listing = len(m.targets) > 1
	return m
}

// Init asks nothing: data arrive from Watch.
func (m Model) Init() tea.Cmd { return nil }

// Update applies one message.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.help.SetWidth(msg.Width)
		return m, nil
	case tea.KeyPressMsg:
		return m.updateKey(msg)
	case ConnMsg:
		if t := m.target(msg.Target); t != nil {
			t.applyConn(msg)
		}
	case SnapshotMsg:
		if t := m.target(msg.Target); t != nil {
			t.applySnapshot(msg)
		}
	case EventMsg:
		if t := m.target(msg.Target); t != nil {
			t.applyEvent(msg.Event)
		}
	case ChallengerMsg:
		if t := m.target(msg.Target); t != nil {
			t.see(msg.Time)
			t.challenger = msg.Challenger
		}
	case ActionMsg:
		m.applyAction(msg)
	}
	return m, nil
}

// View draws the whole screen.
func (m Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "olops monitor · " + m.targets[m.active].Name
	return v
}

func (m Model) target(i int) *target {
	if i < 0 || i >= len(m.targets) {
		return nil
	}
	return m.targets[i]
}
