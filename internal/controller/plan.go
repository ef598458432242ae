package controller

import (
	"fmt"
	"sort"
	"strings"
)

// Actual is one container the runtime reports, with what the controller
// observed of its health.
type Actual struct {
	Model      string `json:"model"`
	Container  string `json:"container"`
	State      string `json:"state"` // the Engine's: running, exited, dead, created, restarting, paused
	ConfigHash string `json:"config_hash"`
	// Managed: started by the controller (its label). Containers deployed
	// by hand are never changed.
	Managed bool `json:"managed"`
	// Owner is the ID of the controller that started a container not
	// Managed by this one ("" = deployed by hand).
	Owner string `json:"owner,omitempty"`
	// ReadyFailures counts /readyz failures in a row, over passes.
	ReadyFailures int `json:"ready_failures,omitempty"`
}

// Kind is what an Action does.
type Kind string

// Kinds of actions. Only create, update, remove and restart change
// anything; the others are reported so a reader sees every model.
const (
	Create    Kind = "create"
	Update    Kind = "update"  // the config changed: replace the container, keep the volume
	Remove    Kind = "remove"  // the file is gone: remove the container, keep the volume
	Restart   Kind = "restart" // exited, or /readyz failing
	Unchanged Kind = "unchanged"
	Hold      Kind = "hold"     // the file does not load: the model is left as it runs
	Conflict  Kind = "conflict" // a container deployed by hand holds the name
)

// Action is one step of a plan.
type Action struct {
	Kind   Kind     `json:"action"`
	Model  string   `json:"model"`
	File   string   `json:"file,omitempty"`
	Reason string   `json:"reason,omitempty"`
	Desire *Desired `json:"-"`
}

// Changes reports whether the action changes the runtime.
func (a Action) Changes() bool {
	switch a.Kind {
	case Create, Update, Remove, Restart:
		return true
	}
	return false
}

// DefaultFailureThreshold is how many /readyz failures in a row make a
// running container unhealthy.
const DefaultFailureThreshold = 3

// Plan decides, without side effects, what turns actual into desired.
// threshold is the /readyz failures in a row that call for a restart
// (0: DefaultFailureThreshold). The result is sorted by model.
func Plan(desired []Desired, invalid []Invalid, actual []Actual, threshold int) []Action {
	if threshold <= 0 {
		threshold = DefaultFailureThreshold
	}
	byModel := map[string][]Actual{}
	for _, a := range actual {
		byModel[a.Model] = append(byModel[a.Model], a)
	}
	wanted := map[string]bool{}
	var plan []Action
	for i := range desired {
		d := &desired[i]
		wanted[d.Name] = true
		plan = append(plan, planOne(d, byModel[d.Name], threshold))
	}

	// A file that does not load keeps its model as it is. When the model
	// cannot even be named, nothing is removed: the broken file may be
	// the one that defines it.
	held := map[string]string{}
	unnamed := ""
	for _, in := range invalid {
		if wanted[in.Name] {
			continue // a duplicate: the first file rules
		}
		if in.Name == "" {
			if unnamed == "" {
				unnamed = in.File
			}
			continue
		}
		held[in.Name] = in.File
	}

	var names []string
	for m := range byModel {
		if !wanted[m] {
			names = append(names, m)
		}
	}
	sort.Strings(names)
	for _, m := range names {
		if !managed(byModel[m]) {
			continue // deployed by hand: not ours to remove
		}
		switch {
		case held[m] != "":
			plan = append(plan, Action{Kind: Hold, Model: m, File: held[m],
				Reason: "its file does not load: the model is left as it runs until the file is fixed"})
		case unnamed != "":
			plan = append(plan, Action{Kind: Hold, Model: m, File: unnamed,
				Reason: "no valid file names this model, but " + unnamed + " does not load and may be its file: not removed"})
		default:
			plan = append(plan, Action{Kind: Remove, Model: m,
				Reason: "no file in the folder defines it any more (its volume is kept)"})
		}
	}
	sort.SliceStable(plan, func(i, j int) bool { return plan[i].Model < plan[j].Model })
	return plan
}

func planOne(d *Desired, cs []Actual, threshold int) Action {
	a := Action{Model: d.Name, File: d.File, Desire: d}
	if len(cs) == 0 {
		a.Kind, a.Reason = Create, "new file"
		return a
	}
	for _, c := range cs {
		if !c.Managed {
			a.Kind = Conflict
			if c.Owner != "" {
				a.Reason = fmt.Sprintf("container %s belongs to another controller (ID %s, another folder): this one leaves it alone; "+
					"give both controllers the same --id if they are the same folder, or rename the model", c.Container, c.Owner)
				return a
			}
			a.Reason = fmt.Sprintf("container %s was deployed by hand ('olops deploy'): the controller leaves it alone; "+
				"remove it with 'olops undeploy %s --keep-data' to let the controller take over, or rename the model", c.Container, d.Name)
			return a
		}
	}
	for _, c := range cs {
		if c.ConfigHash != d.Hash {
			a.Kind, a.Reason = Update, fmt.Sprintf("config changed (hash %s, the file now %s)", c.ConfigHash, d.Hash)
			return a
		}
	}
	var why []string
	for _, c := range cs {
		switch {
		case c.State == "exited" || c.State == "dead" || c.State == "created":
			why = append(why, fmt.Sprintf("%s is %s", c.Container, c.State))
		case c.State == "running" && c.ReadyFailures >= threshold:
			why = append(why, fmt.Sprintf("%s failed /readyz %d times in a row", c.Container, c.ReadyFailures))
		}
	}
	if len(why) > 0 {
		a.Kind, a.Reason = Restart, strings.Join(why, "; ")
		return a
	}
	a.Kind = Unchanged
	return a
}

func managed(cs []Actual) bool {
	for _, c := range cs {
		if !c.Managed {
			return false
		}
	}
	return len(cs) > 0
}
