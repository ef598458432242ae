package versions

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/olops/olops/internal/api"
	"github.com/olops/olops/internal/cli/clitest"
	"github.com/olops/olops/internal/cli/cmdutil"
)

func TestVersionsTable(t *testing.T) {
	fake := clitest.NewFake(t)
	env := clitest.Env(t, "OLOPS_MANAGEMENT_URL", fake.URL)
	r := clitest.Run(t, env, NewCmd)
	if r.Code != 0 {
		t.Fatalf("exit %d: %v", r.Code, r.Error)
	}
	clitest.Golden(t, "versions.txt", r.Out)
}

func TestSnapshotThenRollback(t *testing.T) {
	fake := clitest.NewFake(t)
	env := clitest.Env(t, "OLOPS_MANAGEMENT_URL", fake.URL)
	r := clitest.Run(t, env, NewCmdSnapshot, "-m", "before holidays")
	if r.Code != 0 || r.Out != "saved version 3 (20000 learns)\n" {
		t.Fatalf("snapshot: exit %d %q %v", r.Code, r.Out, r.Error)
	}
	r = clitest.Run(t, env, NewCmd, "-o", "json")
	var vs []api.Version
	if err := json.Unmarshal([]byte(r.Out), &vs); err != nil || len(vs) != 3 || vs[2].Note != "before holidays" || !vs[2].Current {
		t.Fatalf("versions after snapshot: %v %+v", err, vs)
	}
	r = clitest.Run(t, env, NewCmdRollback, "1")
	if r.Code != 0 || r.Out != "rolled back to version 1\n" || fake.Version != 1 {
		t.Fatalf("rollback: exit %d %q %v", r.Code, r.Out, r.Error)
	}
	seen := fake.Seen()
	if seen[0] != `POST /v1/versions {"note":"before holidays"}` || seen[2] != "POST /v1/versions/1/rollback" {
		t.Fatalf("requests = %q", seen)
	}
}

func TestRollbackErrors(t *testing.T) {
	fake := clitest.NewFake(t)
	env := clitest.Env(t, "OLOPS_MANAGEMENT_URL", fake.URL)
	if r := clitest.Run(t, env, NewCmdRollback, "latest"); r.Code != cmdutil.ExitUsage {
		t.Fatalf("non-number: exit %d", r.Code)
	}
	if r := clitest.Run(t, env, NewCmdRollback); r.Code == 0 {
		t.Fatal("no argument accepted")
	}
	r := clitest.Run(t, env, NewCmdRollback, "9")
	if r.Code != cmdutil.ExitError || !strings.Contains(r.Error.Error(), `404 Not Found: no version "9" (field version)`) {
		t.Fatalf("missing version: exit %d: %v", r.Code, r.Error)
	}
}

func TestPauseResume(t *testing.T) {
	fake := clitest.NewFake(t)
	env := clitest.Env(t, "OLOPS_MANAGEMENT_URL", fake.URL)
	r := clitest.Run(t, env, NewCmdPause)
	if r.Code != 0 || fake.Learning || !strings.Contains(r.Err, "paused") || r.Out != "" {
		t.Fatalf("pause: exit %d learning=%v err %q out %q", r.Code, fake.Learning, r.Err, r.Out)
	}
	r = clitest.Run(t, env, NewCmdResume)
	if r.Code != 0 || !fake.Learning {
		t.Fatalf("resume: exit %d learning=%v", r.Code, fake.Learning)
	}
}
