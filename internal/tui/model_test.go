package tui

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/olops/olops/internal/api"
)

func TestMain(m *testing.M) {
	// The view prints clock times in the local zone; pin it so golden
	// files are the same everywhere.
	time.Local = time.UTC
	os.Exit(m.Run())
}

// run is one monitor program under teatest at w×h: it sends msgs (a
// func(*run) runs in between, e.g. to wait for an action), quits, and
// returns the final screen without colour.
type run struct {
	t    *testing.T
	tm   *teatest.TestModel
	seen chan tea.Msg
}

func start(t *testing.T, w, h int, targets ...Target) *run {
	t.Helper()
	if len(targets) == 0 {
		targets = []Target{{Name: "sea", URL: "http://127.0.0.1:9090", Source: &fakeSource{learning: true, versions: testVersions()}}}
	}
	r := &run{t: t, seen: make(chan tea.Msg, 1024)}
	// The filter sees every message before Update: tests wait on it for
	// the results of commands, which arrive asynchronously.
	filter := func(_ tea.Model, msg tea.Msg) tea.Msg {
		select {
		case r.seen <- msg:
		default:
		}
		return msg
	}
	r.tm = teatest.NewTestModel(t, New(targets),
		teatest.WithInitialTermSize(w, h),
		teatest.WithProgramOptions(tea.WithFilter(filter)))
	return r
}

func (r *run) send(msgs ...any) *run {
	for _, msg := range msgs {
		switch msg := msg.(type) {
		case string: // keys, typed one by one
			for _, k := range msg {
				r.tm.Send(keyPress(k))
			}
		case tea.Msg:
			r.tm.Send(msg)
		}
	}
	return r
}

func keyPress(k rune) tea.KeyPressMsg {
	switch k {
	case '\t':
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case '↓':
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case '↑':
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case '\r':
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case '\x1b':
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	}
	return tea.KeyPressMsg{Code: k, Text: string(k)}
}

// waitFor waits (bounded) until a message matching ok has reached Update.
func (r *run) waitFor(what string, ok func(tea.Msg) bool) *run {
	r.t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case msg := <-r.seen:
			if ok(msg) {
				return r
			}
		case <-deadline:
			r.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// screen quits and returns the final view, colour stripped.
func (r *run) screen() string {
	r.t.Helper()
	if err := r.tm.Quit(); err != nil {
		r.t.Fatal(err)
	}
	m := r.tm.FinalModel(r.t, teatest.WithFinalTimeout(5*time.Second)).(Model)
	return ansi.Strip(m.View().Content)
}

// stream is a live session: connect, 40 ticks; with drift, a drift event
// at learn event 10,400 arrives after the 21st tick.
func stream(drift bool) []any {
	msgs := connected(0, nil)
	for n := 1; n <= 40; n++ {
		msgs = append(msgs, tick(0, n))
		if drift && n == 21 {
			msgs = append(msgs, driftEvent(0, 10400, t0.Add(21*time.Second)))
		}
	}
	return msgs
}

func axisRow(t *testing.T, screen string) string {
	t.Helper()
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, "└──") {
			return l
		}
	}
	t.Fatalf("no chart axis on the screen:\n%s", screen)
	return ""
}

var sizes = []struct{ w, h int }{{80, 24}, {120, 40}}

func TestDriftAddsMarker(t *testing.T) {
	for _, sz := range sizes {
		t.Run(fmt.Sprintf("%dx%d", sz.w, sz.h), func(t *testing.T) {
			before := start(t, sz.w, sz.h).send(stream(false)...).screen()
			if n := strings.Count(axisRow(t, before), "▲"); n != 0 {
				t.Fatalf("no drift yet, but the axis has %d markers:\n%s", n, before)
			}
			if strings.Contains(before, "┊") {
				t.Fatalf("no drift yet, but the chart has a marker line:\n%s", before)
			}

			after := start(t, sz.w, sz.h).send(stream(true)...).screen()
			golden.RequireEqual(t, after)
			axis := axisRow(t, after)
			if n := strings.Count(axis, "▲"); n != 1 {
				t.Fatalf("one drift, but the axis has %d markers:\n%s", n, after)
			}
			// The drift's learn event 10,400 is first counted by tick 21
			// (500 events a tick); tick 0 is the connect snapshot, so the
			// marker sits in the chart's 22nd column.
			runes := []rune(axis)
			at := slices.Index(runes, '▲') - slices.Index(runes, '└') - 1
			if at != 21 {
				t.Fatalf("drift marker in column %d, want 21 (the tick that counted learn event 10,400):\n%s", at, after)
			}
			for _, want := range []string{"drift events (1)", "event 10,400", "▲ 1 drift marked"} {
				if !strings.Contains(after, want) {
					t.Fatalf("screen lacks %q:\n%s", want, after)
				}
			}
		})
	}
}

func TestConnectionLostAndRecovers(t *testing.T) {
	lost := ConnMsg{Target: 0, Time: t0.Add(43 * time.Second), State: Lost,
		Err: errors.New("cannot reach http://127.0.0.1:9090 (connection refused)"), Attempt: 3, Retry: time.Second}
	msgs := append(stream(true), ConnMsg{Target: 0, Time: t0.Add(41 * time.Second), State: Lost, Attempt: 1, Retry: 250 * time.Millisecond}, lost)

	down := start(t, 80, 24).send(msgs...).screen()
	t.Run("down", func(t *testing.T) { golden.RequireEqual(t, down) })
	header := strings.Split(down, "\n")[0]
	if !strings.Contains(header, "down") || strings.Contains(header, "learning") {
		t.Fatalf("header should say down, not learning: %q", header)
	}
	for _, want := range []string{"connection lost", "reconnecting… (attempt 3, next in 1s)", "down for 2s"} {
		if !strings.Contains(down, want) {
			t.Fatalf("screen lacks %q:\n%s", want, down)
		}
	}

	back := append(msgs,
		SnapshotMsg{Target: 0, Time: t0.Add(45 * time.Second), Model: testModel(3), Versions: testVersions()},
		ConnMsg{Target: 0, Time: t0.Add(45 * time.Second), State: Live},
		tick(0, 45))
	up := start(t, 80, 24).send(back...).screen()
	t.Run("recovered", func(t *testing.T) { golden.RequireEqual(t, up) })
	header = strings.Split(up, "\n")[0]
	if !strings.Contains(header, "learning") || strings.Contains(header, "down") {
		t.Fatalf("header should say learning again: %q", header)
	}
	if strings.Contains(up, "connection lost") || !strings.Contains(up, "reconnected 1×") {
		t.Fatalf("screen should show the recovered connection:\n%s", up)
	}
}

func TestRollbackNeedsConfirmation(t *testing.T) {
	t.Run("n cancels", func(t *testing.T) {
		src := &fakeSource{learning: true, versions: testVersions()}
		r := start(t, 80, 24, Target{Name: "sea", URL: "http://127.0.0.1:9090", Source: src})
		screen := r.send(stream(false)...).send("rn").screen()
		if calls := src.Calls(); len(calls) != 0 {
			t.Fatalf("r then n called the server: %v", calls)
		}
		if !strings.Contains(screen, "rollback cancelled") {
			t.Fatalf("screen does not say the rollback was cancelled:\n%s", screen)
		}
	})
	t.Run("picker", func(t *testing.T) {
		src := &fakeSource{learning: true, versions: testVersions()}
		screen := start(t, 80, 24, Target{Name: "sea", URL: "http://127.0.0.1:9090", Source: src}).
			send(stream(false)...).send("r").screen()
		golden.RequireEqual(t, screen)
		if !strings.Contains(screen, "roll back sea to v2? y confirm") {
			t.Fatalf("no confirmation question for the newest other version (v2):\n%s", screen)
		}
		if calls := src.Calls(); len(calls) != 0 {
			t.Fatalf("r alone called the server: %v", calls)
		}
	})
	for _, tc := range []struct {
		keys string
		want int
	}{{"ry", 2}, {"r↓y", 1}, {"r↓↓↑y", 2}} {
		t.Run(tc.keys, func(t *testing.T) {
			src := &fakeSource{learning: true, versions: testVersions()}
			r := start(t, 80, 24, Target{Name: "sea", URL: "http://127.0.0.1:9090", Source: src}).
				send(stream(false)...).send(tc.keys)
			r.waitFor("the rollback's result", func(m tea.Msg) bool { _, ok := m.(ActionMsg); return ok })
			screen := r.screen()
			if !slices.Equal(src.rollbacks, []int{tc.want}) {
				t.Fatalf("keys %q rolled back to %v, want [%d]", tc.keys, src.rollbacks, tc.want)
			}
			if want := fmt.Sprintf("rolled back to v%d", tc.want); !strings.Contains(screen, want) {
				t.Fatalf("screen lacks %q:\n%s", want, screen)
			}
		})
	}
	t.Run("nothing to roll back to", func(t *testing.T) {
		src := &fakeSource{learning: true}
		screen := start(t, 80, 24, Target{Name: "sea", URL: "u", Source: src}).
			send(SnapshotMsg{Target: 0, Time: t0, Model: testModel(1), Versions: testVersions()[2:]},
				ConnMsg{Target: 0, Time: t0, State: Live}).
			send("ry").screen()
		if len(src.Calls()) != 0 || !strings.Contains(screen, "no other version to roll back to") {
			t.Fatalf("calls %v; screen:\n%s", src.Calls(), screen)
		}
	})
}

func TestHelpToggles(t *testing.T) {
	for _, sz := range sizes {
		t.Run(fmt.Sprintf("%dx%d", sz.w, sz.h), func(t *testing.T) {
			shown := start(t, sz.w, sz.h).send(stream(true)...).send("?").screen()
			golden.RequireEqual(t, shown)
			if !strings.Contains(shown, "? or esc closes") || !strings.Contains(shown, "confirm") {
				t.Fatalf("? did not show the help:\n%s", shown)
			}
			hidden := start(t, sz.w, sz.h).send(stream(true)...).send("??").screen()
			if strings.Contains(hidden, "? or esc closes") || !strings.Contains(hidden, "versions (3)") {
				t.Fatalf("a second ? did not hide the help:\n%s", hidden)
			}
		})
	}
}

func TestActions(t *testing.T) {
	src := &fakeSource{learning: true, versions: testVersions()}
	r := start(t, 80, 24, Target{Name: "sea", URL: "u", Source: src}).send(stream(false)...)
	isAction := func(m tea.Msg) bool { _, ok := m.(ActionMsg); return ok }
	r.send("s").waitFor("the snapshot's result", isAction)
	r.send("p").waitFor("the pause's result", isAction)
	screen := r.screen()
	if got, want := src.Calls(), []string{"snapshot " + snapshotNote, "pause"}; !slices.Equal(got, want) {
		t.Fatalf("calls %v, want %v", got, want)
	}
	if !strings.Contains(screen, "learning paused") || !strings.Contains(strings.Split(screen, "\n")[0], "paused") {
		t.Fatalf("screen does not show the pause:\n%s", screen)
	}

	// Resume fails in the fake: the error is shown, not swallowed.
	src = &fakeSource{learning: false, versions: testVersions()}
	paused := testModel(3)
	paused.Learning = false
	r = start(t, 80, 24, Target{Name: "sea", URL: "u", Source: src}).
		send(SnapshotMsg{Target: 0, Time: t0, Model: paused}, ConnMsg{Target: 0, Time: t0, State: Live})
	screen = r.send("p").waitFor("the resume's result", isAction).screen()
	if !strings.Contains(screen, "resume failed: not now") {
		t.Fatalf("a failed resume is not shown:\n%s", screen)
	}

	// No action while the server is down.
	src = &fakeSource{learning: true, versions: testVersions()}
	screen = start(t, 80, 24, Target{Name: "sea", URL: "u", Source: src}).
		send(stream(false)...).send(ConnMsg{Target: 0, Time: t0, State: Lost, Attempt: 1}).send("spry").screen()
	if len(src.Calls()) != 0 || !strings.Contains(screen, "sea is not connected") {
		t.Fatalf("acted while down: calls %v\n%s", src.Calls(), screen)
	}
}

func TestTabCyclesModels(t *testing.T) {
	a := Target{Name: "alpha", URL: "http://127.0.0.1:9090", Source: &fakeSource{}}
	b := Target{Name: "beta", URL: "http://127.0.0.1:9091", Source: &fakeSource{}}
	msgs := stream(true)
	msgs = append(msgs, ConnMsg{Target: 1, Time: t0, State: Lost, Attempt: 2, Retry: time.Second})
	for _, tc := range []struct {
		keys, want, not string
	}{{"", "[1/2] alpha", "beta"}, {"\t", "[2/2] beta", "alpha"}, {"\t\t", "[1/2] alpha", "beta"}} {
		screen := start(t, 80, 24, a, b).send(msgs...).send(tc.keys).screen()
		header := strings.Split(screen, "\n")[0]
		if !strings.HasPrefix(header, tc.want) || strings.Contains(header, tc.not) {
			t.Fatalf("after %q the header is %q, want it to start with %q", tc.keys, header, tc.want)
		}
		if tc.want == "[2/2] beta" && !strings.Contains(header, "down") {
			t.Fatalf("beta is down but its header is %q", header)
		}
	}
}

// sized runs msgs through a fresh model on a w×h screen and checks that
// its view fills the screen exactly: h lines, each w cells wide.
func sized(t *testing.T, w, h int, msgs []any) tea.Model {
	t.Helper()
	var m tea.Model = New([]Target{{Name: "sea", URL: "u"}})
	m, _ = m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	for _, msg := range msgs {
		m, _ = m.Update(msg)
	}
	lines := strings.Split(m.View().Content, "\n")
	if len(lines) != h {
		t.Fatalf("%dx%d: %d lines", w, h, len(lines))
	}
	for i, l := range lines {
		if lw := ansi.StringWidth(l); lw != w {
			t.Fatalf("%dx%d: line %d is %d cells wide: %q", w, h, i, lw, ansi.Strip(l))
		}
	}
	return m
}

func TestResizes(t *testing.T) {
	for _, sz := range []struct{ w, h int }{{80, 24}, {120, 40}, {60, 16}, {200, 60}} {
		m := sized(t, sz.w, sz.h, stream(true))
		if !strings.Contains(ansi.Strip(m.View().Content), "▲") {
			t.Fatalf("%dx%d: the drift marker is not visible", sz.w, sz.h)
		}
	}
}

func TestFlashFades(t *testing.T) {
	var m tea.Model = New([]Target{{Name: "sea", URL: "u"}})
	for _, msg := range stream(false) {
		m, _ = m.Update(msg)
	}
	m, _ = m.Update(ActionMsg{Target: 0, Action: "snapshot", Version: 4})
	if s := ansi.Strip(m.View().Content); !strings.Contains(s, "snapshot saved as v4") {
		t.Fatalf("no flash after the action:\n%s", s)
	}
	m, _ = m.Update(tick(0, 49)) // 9 s later
	if s := ansi.Strip(m.View().Content); !strings.Contains(s, "snapshot saved as v4") {
		t.Fatalf("the flash went before 10 s:\n%s", s)
	}
	m, _ = m.Update(tick(0, 51))
	if s := ansi.Strip(m.View().Content); strings.Contains(s, "snapshot saved as v4") {
		t.Fatalf("the flash is still there after 11 s:\n%s", s)
	}
}

func TestModelList(t *testing.T) {
	a := Target{Name: "alpha", URL: "http://127.0.0.1:9090", Source: &fakeSource{}}
	b := Target{Name: "beta", URL: "http://127.0.0.1:9091", Source: &fakeSource{}}
	c := Target{Name: "gamma", URL: "http://127.0.0.1:9092", Source: &fakeSource{}}
	msgs := stream(true)
	msgs = append(msgs, ConnMsg{Target: 1, Time: t0, State: Lost, Attempt: 2, Retry: time.Second})
	msgs = append(msgs, connected(2, nil)...)
	header := func(s string) string { return strings.Split(s, "\n")[0] }
	listed := func(s string) bool { return strings.Contains(s, "show which model? (3)") }

	t.Run("starts on the list", func(t *testing.T) {
		screen := start(t, 80, 24, a, b, c).send(msgs...).screen()
		golden.RequireEqual(t, screen)
		if !listed(screen) || !strings.HasPrefix(header(screen), "[1/3] alpha") {
			t.Fatalf("several models: the monitor should start on their list:\n%s", screen)
		}
		for _, want := range []string{"›  1 alpha", "● live", "rolling accuracy", "2 beta", "✖ down", "3 gamma", "no metric yet", "enter show model"} {
			if !strings.Contains(screen, want) {
				t.Fatalf("the list lacks %q:\n%s", want, screen)
			}
		}
	})
	for _, tc := range []struct {
		name, keys, want string
		open             bool
	}{
		{"esc closes", "\x1b", "[1/3] alpha", false},
		{"esc cancels a move", "j\x1b", "[1/3] alpha", false},
		{"down enter", "↓\r", "[2/3] beta", false},
		{"j j enter", "jj\r", "[3/3] gamma", false},
		{"stops at the end", "jjjjk\r", "[2/3] beta", false},
		{"l reopens", "jj\rl", "[3/3] gamma", true},
		{"l reopens, up enter", "jj\rlk\r", "[2/3] beta", false},
		{"l closes", "l", "[1/3] alpha", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			screen := start(t, 80, 24, a, b, c).send(msgs...).send(tc.keys).screen()
			if !strings.HasPrefix(header(screen), tc.want) {
				t.Fatalf("after %q the header is %q, want it to start with %q", tc.keys, header(screen), tc.want)
			}
			if listed(screen) != tc.open {
				t.Fatalf("after %q the list should be open: %v\n%s", tc.keys, tc.open, screen)
			}
			if !tc.open && !strings.HasSuffix(strings.TrimRight(screen, " "), "tab next • l list • s snapshot • r roll back • p pause/resume • ? help • q quit") {
				t.Fatalf("the footer does not offer l:\n%s", screen)
			}
		})
	}
	t.Run("reopened on the shown model", func(t *testing.T) {
		screen := start(t, 80, 24, a, b, c).send(msgs...).send("j\rl").screen()
		if !strings.Contains(screen, "›  2 beta") {
			t.Fatalf("the reopened list should select the shown model:\n%s", screen)
		}
	})
	t.Run("one model", func(t *testing.T) {
		screen := start(t, 80, 24).send(stream(false)...).send("l").screen()
		if strings.Contains(screen, "show which model?") || !strings.Contains(screen, "one model only") {
			t.Fatalf("with one model l should only say so:\n%s", screen)
		}
		if lines := strings.Split(screen, "\n"); strings.Contains(lines[len(lines)-1], "l list") {
			t.Fatalf("with one model the footer should not offer l:\n%s", screen)
		}
	})
}

func TestChallengerLine(t *testing.T) {
	challenger := ChallengerMsg{Target: 0, Time: t0.Add(40 * time.Second), Challenger: testChallenger(3000)}
	for _, sz := range sizes {
		t.Run(fmt.Sprintf("%dx%d", sz.w, sz.h), func(t *testing.T) {
			screen := start(t, sz.w, sz.h).send(stream(false)...).send(challenger).screen()
			golden.RequireEqual(t, screen)
			want := "challenger logreg · 3,000 events · accuracy 0.8612 vs champion 0.8692 · worse by 0.0080"
			if sz.w < ansi.StringWidth(want) {
				want = "challenger logreg · 3,000 events · accuracy 0.8612 vs 0.8692 · worse by 0.0080"
			}
			if lines := strings.Split(screen, "\n"); strings.TrimRight(lines[3], " ") != want {
				t.Fatalf("line 4 is %q, want %q:\n%s", lines[3], want, screen)
			}
			// Once it is promoted or dropped the screen is as without one.
			gone := start(t, sz.w, sz.h).send(stream(false)...).send(challenger, ChallengerMsg{Target: 0, Time: t0.Add(41 * time.Second)}).screen()
			never := start(t, sz.w, sz.h).send(stream(false)...).send(ChallengerMsg{Target: 0, Time: t0.Add(41 * time.Second)}).screen()
			if strings.Contains(never, "challenger") || gone != never {
				t.Fatalf("without a challenger the screen should not show one:\n%s\nafter one went:\n%s", never, gone)
			}
		})
	}
	// Every size still fills the screen exactly.
	for _, sz := range []struct{ w, h int }{{60, 16}, {80, 24}, {200, 60}} {
		sized(t, sz.w, sz.h, append(stream(true), challenger))
	}
}

func TestChallengerVerdict(t *testing.T) {
	better := testChallenger(500)
	better.Metric, better.Better = "logloss", true // lower is better
	better.Challenger["logloss"], better.Champion["logloss"] = 0.1, 0.35
	even := testChallenger(500)
	even.Challenger["accuracy"] = even.Champion["accuracy"]
	fresh := testChallenger(0)
	fresh.Challenger, fresh.Champion = map[string]float64{}, map[string]float64{}
	for _, tc := range []struct {
		c    *api.Challenger
		want string
	}{
		{better, "challenger logreg · 500 events · logloss 0.1000 vs champion 0.3500 · better by 0.2500"},
		{even, "challenger logreg · 500 events · accuracy 0.8692 vs champion 0.8692 · even"},
		{fresh, "challenger logreg · 0 events · waiting for learn events…"},
	} {
		m := New([]Target{{Name: "sea", URL: "u"}})
		m.targets[0].challenger = tc.c
		if got := ansi.Strip(m.challengerLine(m.targets[0], 120)); got != tc.want {
			t.Errorf("got  %q\nwant %q", got, tc.want)
		}
	}
}
