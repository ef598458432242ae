package controller

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

// logLines decodes the JSON log lines written so far and empties buf.
func logLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		out = append(out, m)
	}
	buf.Reset()
	return out
}

// A held model or a broken file is warned about once, not every pass,
// and again when it changes.
func TestWarningsAreNotRepeated(t *testing.T) {
	var buf bytes.Buffer
	c := New(nil, Options{Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	hold := Result{Action: Action{Kind: Hold, Model: "a", File: "m/a.yaml", Reason: "its file does not load"}}
	bad := []Invalid{{File: "m/a.yaml", Name: "a", Error: "m/a.yaml:3: bad"}}

	c.logInvalid(bad)
	c.logAction(hold)
	first := logLines(t, &buf)
	if len(first) != 2 || first[0]["level"] != "WARN" || first[0]["file"] != "m/a.yaml" || first[1]["level"] != "WARN" || first[1]["action"] != "hold" {
		t.Fatalf("first pass logged %v, want two warnings", first)
	}
	c.logInvalid(bad)
	c.logAction(hold)
	if again := logLines(t, &buf); len(again) != 0 {
		t.Fatalf("the same situation was logged again at info level or above: %v", again)
	}
	bad[0].Error = "m/a.yaml:4: worse"
	c.logInvalid(bad)
	if l := logLines(t, &buf); len(l) != 1 || l[0]["error"] != "m/a.yaml:4: worse" {
		t.Fatalf("a changed error: %v", l)
	}
	c.logInvalid(nil)
	c.logAction(Result{Action: Action{Kind: Unchanged, Model: "a"}})
	if l := logLines(t, &buf); len(l) != 1 || l[0]["level"] != "INFO" || !strings.Contains(l[0]["msg"].(string), "no longer invalid") {
		t.Fatalf("a fixed file: %v", l)
	}
	c.logAction(hold)
	if l := logLines(t, &buf); len(l) != 1 || l[0]["level"] != "WARN" {
		t.Fatalf("a hold after the model was fine again: %v, want a new warning", l)
	}
}
