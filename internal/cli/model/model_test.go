package model

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/olops/olops/internal/api"
	"github.com/olops/olops/internal/cli/clitest"
	"github.com/olops/olops/internal/cli/cmdutil"
)

func TestGetTable(t *testing.T) {
	fake := clitest.NewFake(t)
	r := clitest.Run(t, clitest.Env(t, "OLOPS_MANAGEMENT_URL", fake.URL), NewCmd, "get")
	if r.Code != 0 {
		t.Fatalf("exit %d: %v", r.Code, r.Error)
	}
	clitest.Golden(t, "get.txt", r.Out)
}

func TestPatch(t *testing.T) {
	fake := clitest.NewFake(t)
	env := clitest.Env(t, "OLOPS_MANAGEMENT_URL", fake.URL)
	r := clitest.Run(t, env, NewCmd, "patch", "lr=0.005", "-o", "json")
	if r.Code != 0 {
		t.Fatalf("exit %d: %v", r.Code, r.Error)
	}
	var m api.Model
	if err := json.Unmarshal([]byte(r.Out), &m); err != nil || m.Parameters["lr"] != 0.005 {
		t.Fatalf("%v %+v", err, m.Parameters)
	}
	if got := fake.Seen()[0]; got != `PATCH /v1/model {"lr":0.005}` {
		t.Fatalf("request %q", got)
	}
	r = clitest.Run(t, env, NewCmd, "patch", "momentum=0.9")
	if r.Code != 1 || !strings.Contains(r.Error.Error(), `unknown parameter "momentum"`) {
		t.Fatalf("unknown param: exit %d %v", r.Code, r.Error)
	}
	if r := clitest.Run(t, env, NewCmd, "patch", "lr"); r.Code != cmdutil.ExitUsage {
		t.Fatalf("no '=': exit %d", r.Code)
	}
}

func TestParseAssignments(t *testing.T) {
	p, err := ParseAssignments([]string{"lr=0.5", "optimizer=adam", "intercept=true", "grace=200", "l=[1,2]"})
	if err != nil {
		t.Fatal(err)
	}
	if p["lr"] != 0.5 || p["optimizer"] != "adam" || p["intercept"] != true || p["grace"] != 200.0 || len(p["l"].([]any)) != 2 {
		t.Fatalf("%#v", p)
	}
	if _, err := ParseAssignments([]string{"a=1", "a=2"}); err == nil {
		t.Fatal("duplicate accepted")
	}
}

func TestSetValidatesFirst(t *testing.T) {
	fake := clitest.NewFake(t)
	env := clitest.Env(t, "OLOPS_MANAGEMENT_URL", fake.URL)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("apiVersion: olops.dev/v1\nkind: Model\nmetadata:\n  name: churn\nspec:\n  task: binary\n  target: y\n  pipeline:\n    model: nosuchmodel\n"), 0o644)
	r := clitest.Run(t, env, NewCmd, "set", bad)
	if r.Code != 1 || !strings.Contains(r.Error.Error(), "bad.yaml:9: spec.pipeline.model") || len(fake.Seen()) != 0 {
		t.Fatalf("bad config: exit %d %v, requests %v", r.Code, r.Error, fake.Seen())
	}
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("apiVersion: olops.dev/v1\nkind: Model\nmetadata:\n  name: churn\nspec:\n  task: binary\n  target: y\n  pipeline:\n    model: logreg\n"), 0o644)
	r = clitest.Run(t, env, NewCmd, "set", good)
	if r.Code != 0 || r.Out != "model churn replaced: now version 3\n" {
		t.Fatalf("good config: exit %d %q %v", r.Code, r.Out, r.Error)
	}
	if s := fake.Seen(); len(s) != 1 || !strings.HasPrefix(s[0], "PUT /v1/model apiVersion") {
		t.Fatalf("requests %q", s)
	}
}
