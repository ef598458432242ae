package controller

import (
	"fmt"
	"strings"
	"testing"
)

func want(name, hash string) Desired {
	return Desired{Name: name, File: "models/" + name + ".yaml", Hash: hash, Policy: "alert"}
}

func ours(model, hash, state string) Actual {
	return Actual{Model: model, Container: "olops-" + model, State: state, ConfigHash: hash, Managed: true}
}

func byHand(model, hash string) Actual {
	return Actual{Model: model, Container: "olops-" + model, State: "running", ConfigHash: hash}
}

// summary renders a plan as "model:kind" words, for compact expectations.
func summary(plan []Action) string {
	var s []string
	for _, a := range plan {
		s = append(s, a.Model+":"+string(a.Kind))
	}
	return strings.Join(s, " ")
}

func TestPlan(t *testing.T) {
	failing := ours("a", "h1", "running")
	failing.ReadyFailures = 3
	flaky := ours("a", "h1", "running")
	flaky.ReadyFailures = 2
	replica1 := ours("a", "h1", "exited")
	replica1.Container = "olops-a_1"

	tests := []struct {
		name    string
		desired []Desired
		invalid []Invalid
		actual  []Actual
		want    string
	}{
		{"empty folder, nothing running", nil, nil, nil, ""},
		{"new files are created", []Desired{want("a", "h1"), want("b", "h2")}, nil, nil, "a:create b:create"},
		{"same hash is unchanged", []Desired{want("a", "h1")}, nil, []Actual{ours("a", "h1", "running")}, "a:unchanged"},
		{"changed hash is updated", []Desired{want("a", "h2")}, nil, []Actual{ours("a", "h1", "running")}, "a:update"},
		{"update wins over restart", []Desired{want("a", "h2")}, nil, []Actual{ours("a", "h1", "exited")}, "a:update"},
		{"file gone: removed", nil, nil, []Actual{ours("a", "h1", "running")}, "a:remove"},
		{"file gone, container exited: removed", nil, nil, []Actual{ours("a", "h1", "exited")}, "a:remove"},
		{"exited is restarted", []Desired{want("a", "h1")}, nil, []Actual{ours("a", "h1", "exited")}, "a:restart"},
		{"dead is restarted", []Desired{want("a", "h1")}, nil, []Actual{ours("a", "h1", "dead")}, "a:restart"},
		{"restarting is left to Docker", []Desired{want("a", "h1")}, nil, []Actual{ours("a", "h1", "restarting")}, "a:unchanged"},
		{"readyz failing N times is restarted", []Desired{want("a", "h1")}, nil, []Actual{failing}, "a:restart"},
		{"readyz failing fewer times is not", []Desired{want("a", "h1")}, nil, []Actual{flaky}, "a:unchanged"},
		{"one exited replica restarts the model", []Desired{want("a", "h1")}, nil, []Actual{ours("a", "h1", "running"), replica1}, "a:restart"},
		{"hand-deployed other model untouched", []Desired{want("a", "h1")}, nil, []Actual{ours("a", "h1", "running"), byHand("x", "h9")}, "a:unchanged"},
		{"hand-deployed model with no file is not removed", nil, nil, []Actual{byHand("x", "h9")}, ""},
		{"hand-deployed exited model is not restarted", nil, nil, []Actual{{Model: "x", Container: "olops-x", State: "exited"}}, ""},
		{"file names a hand-deployed model: conflict, untouched", []Desired{want("x", "h1")}, nil, []Actual{byHand("x", "h9")}, "x:conflict"},
		{"another controller's model with no file is not removed", nil, nil, []Actual{{Model: "y", Container: "olops-y", State: "exited", Owner: "other"}}, ""},
		{"file names another controller's model: conflict", []Desired{want("y", "h1")}, nil, []Actual{{Model: "y", Container: "olops-y", State: "running", Owner: "other"}}, "y:conflict"},
		{"invalid file keeps its running model", nil, []Invalid{{File: "models/a.yaml", Name: "a", Error: "models/a.yaml:9: bad"}}, []Actual{ours("a", "h1", "running")}, "a:hold"},
		{"invalid file of a new model creates nothing", nil, []Invalid{{File: "models/a.yaml", Name: "a", Error: "bad"}}, nil, ""},
		{"unnamed invalid file holds every removal", []Desired{want("a", "h1")}, []Invalid{{File: "models/z.yaml", Error: "yaml: line 3: bad"}}, []Actual{ours("a", "h1", "running"), ours("b", "h2", "running")}, "a:unchanged b:hold"},
		{"unnamed invalid file does not stop creates and updates", []Desired{want("a", "h2"), want("c", "h3")}, []Invalid{{File: "models/z.yaml", Error: "bad"}}, []Actual{ours("a", "h1", "running")}, "a:update c:create"},
		{"duplicate name: the first file rules", []Desired{want("a", "h1")}, []Invalid{{File: "models/a2.yaml", Name: "a", Error: "already defined"}}, []Actual{ours("a", "h1", "running")}, "a:unchanged"},
		{"mixed fleet, sorted by model", []Desired{want("d", "h4"), want("b", "h2"), want("c", "h3")}, nil,
			[]Actual{ours("a", "h1", "running"), ours("b", "h0", "running"), ours("c", "h3", "running"), byHand("e", "h5")}, "a:remove b:update c:unchanged d:create"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Plan(tt.desired, tt.invalid, tt.actual, 3)
			if s := summary(got); s != tt.want {
				t.Fatalf("plan = %q, want %q\n%+v", s, tt.want, got)
			}
			for _, a := range got {
				if a.Changes() && a.Reason == "" {
					t.Errorf("%s %s has no reason to log", a.Kind, a.Model)
				}
				if (a.Kind == Create || a.Kind == Update) && (a.Desire == nil || a.Desire.Name != a.Model) {
					t.Errorf("%s %s does not carry its config", a.Kind, a.Model)
				}
			}
		})
	}
}

// The plan never changes a container it did not start, whatever the
// folder says.
func TestPlanNeverTouchesHandDeployed(t *testing.T) {
	cases := [][]Desired{nil, {want("x", "h1")}, {want("x", "h9")}, {want("y", "h1")}}
	states := []string{"running", "exited", "dead", "created"}
	for i, desired := range cases {
		for _, st := range states {
			a := byHand("x", "h9")
			a.State, a.ReadyFailures = st, 10
			for _, act := range Plan(desired, []Invalid{{File: "f.yaml", Error: "bad"}}, []Actual{a}, 3) {
				if act.Model == "x" && act.Changes() {
					t.Errorf("case %d, state %s: plan %s the hand-deployed model", i, st, act.Kind)
				}
			}
		}
	}
}

func TestPlanThresholdDefault(t *testing.T) {
	a := ours("a", "h1", "running")
	a.ReadyFailures = DefaultFailureThreshold
	if got := summary(Plan([]Desired{want("a", "h1")}, nil, []Actual{a}, 0)); got != "a:restart" {
		t.Fatalf("threshold 0 should mean %d: got %q", DefaultFailureThreshold, got)
	}
	a.ReadyFailures = DefaultFailureThreshold - 1
	if got := summary(Plan([]Desired{want("a", "h1")}, nil, []Actual{a}, 0)); got != "a:unchanged" {
		t.Fatalf("got %q", got)
	}
}

func TestPlanIsPure(t *testing.T) {
	desired := []Desired{want("b", "h2"), want("a", "h1")}
	actual := []Actual{ours("c", "h3", "running"), ours("a", "h0", "running")}
	first := fmt.Sprintf("%+v", Plan(desired, nil, actual, 3))
	for i := 0; i < 5; i++ {
		if got := fmt.Sprintf("%+v", Plan(desired, nil, actual, 3)); got != first {
			t.Fatalf("the same inputs gave another plan:\n%s\n%s", got, first)
		}
	}
	if desired[0].Name != "b" || actual[0].Model != "c" {
		t.Fatal("Plan reordered its inputs")
	}
}
