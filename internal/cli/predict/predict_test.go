package predict

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/olops/olops/internal/api"
	"github.com/olops/olops/internal/cli/clitest"
	"github.com/olops/olops/internal/cli/cmdutil"
)

func TestPredictTable(t *testing.T) {
	fake := clitest.NewFake(t)
	env := clitest.Env(t, "OLOPS_URL", fake.URL)
	r := clitest.Run(t, env, NewCmd, `{"x1": 0.4, "color": "red"}`)
	if r.Code != 0 {
		t.Fatalf("exit %d: %v", r.Code, r.Error)
	}
	clitest.Golden(t, "predict.txt", r.Out)
	if got := fake.Seen()[0]; got != `POST /v1/predict {"features":{"color":"red","x1":0.4}}` {
		t.Fatalf("request %q", got)
	}
}

func TestPredictBatchJSON(t *testing.T) {
	fake := clitest.NewFake(t)
	env := clitest.Env(t, "OLOPS_URL", fake.URL)
	r := clitest.Run(t, env, NewCmd, `{"instances": [{"x1": 1}, {"x1": 2}]}`, "-o", "json")
	var b api.PredictBatch
	if r.Code != 0 || json.Unmarshal([]byte(r.Out), &b) != nil || len(b.Predictions) != 2 {
		t.Fatalf("exit %d %v %q", r.Code, r.Error, r.Out)
	}
}

func TestPredictBadJSONIsUsage(t *testing.T) {
	fake := clitest.NewFake(t)
	r := clitest.Run(t, clitest.Env(t, "OLOPS_URL", fake.URL), NewCmd, `{x1: 1}`)
	if r.Code != cmdutil.ExitUsage || len(fake.Seen()) != 0 {
		t.Fatalf("exit %d, requests %v", r.Code, fake.Seen())
	}
}

func TestLearn(t *testing.T) {
	fake := clitest.NewFake(t)
	env := clitest.Env(t, "OLOPS_URL", fake.URL)
	r := clitest.Run(t, env, NewCmdLearn, `{"x1": 0.4}`, "1")
	if r.Code != 0 || r.Out != "learned: event 20001, model version 2\n" {
		t.Fatalf("exit %d %q %v", r.Code, r.Out, r.Error)
	}
	r = clitest.Run(t, env, NewCmdLearn, "--id", "p1", "0")
	if r.Code != 0 {
		t.Fatalf("late label: exit %d %v", r.Code, r.Error)
	}
	seen := fake.Seen()
	if seen[0] != `POST /v1/learn {"features":{"x1":0.4},"label":"1"}` || seen[1] != `POST /v1/learn {"id":"p1","label":"0"}` {
		t.Fatalf("requests %q", seen)
	}
	r = clitest.Run(t, env, NewCmdLearn, `{"x1": 0.4}`, "maybe")
	if r.Code != 1 || !strings.Contains(r.Error.Error(), `label "maybe" is not allowed (allowed: 0, 1) (field label)`) {
		t.Fatalf("bad label: exit %d %v", r.Code, r.Error)
	}
	if r := clitest.Run(t, env, NewCmdLearn, `{"x1": 0.4}`); r.Code == 0 {
		t.Fatal("missing label accepted")
	}
}
