package profile

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// A profile that does not validate is refused when the job is built: nothing starts.
func TestJobRefusesAnInvalidProfile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := map[string]string{
		"bad.yaml":     head + "common:\n  jobs:\n    stirring:\n      actions:\n        - {type: repeat, t: 0}\n",
		"unknown.yaml": head + "common:\n  jobs:\n    stiring:\n      actions: []\n",
		"good.yaml":    head,
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	spec := NewSpec(JobDeps{Dir: &Dir{Path: dir}, Known: nil})
	tests := []struct {
		args []string
		exp  string
		want string
	}{
		{[]string{"execute", "bad.yaml", "e"}, "e", "line 7"},
		{[]string{"execute", "missing.yaml", "e"}, "e", "not found"},
		{[]string{"execute", "../bad.yaml", "e"}, "e", "line 7"}, // path components are stripped
		{[]string{"execute", "good.yaml", "e"}, "other", "not the job's"},
		{[]string{"run", "good.yaml"}, "e", "usage"},
		{[]string{"verify"}, "e", "usage"},
	}
	for _, tc := range tests {
		_, err := spec.New(supervisor.Options{Args: tc.args, Experiment: tc.exp, Values: map[string]any{}})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
	known := NewSpec(JobDeps{Dir: &Dir{Path: dir}, Known: func(context.Context) Known { return Known{Jobs: []string{"stirring"}} }})
	if _, err := known.New(supervisor.Options{Args: []string{"verify", "unknown.yaml"}, Values: map[string]any{}}); err == nil || !strings.Contains(err.Error(), "job.unknown") {
		t.Errorf("unknown job: %v", err)
	}
	if _, err := spec.New(supervisor.Options{Args: []string{"execute", "good.yaml", "e"}, Experiment: "e", Values: map[string]any{"dry-run": nil}}); err != nil {
		t.Errorf("good: %v", err)
	}
}

func TestArgsAndEnv(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		opts map[string]any
		dry  bool
	}{{map[string]any{}, false}, {map[string]any{"dry-run": nil}, true}, {map[string]any{"dry_run": true}, true},
		{map[string]any{"dry_run": false}, false}, {map[string]any{"dry_run": "false"}, false}} {
		a, err := ParseArgs([]string{"execute", "f.yaml", "e"}, tc.opts)
		if err != nil || a.DryRun != tc.dry {
			t.Errorf("%v: %+v %v", tc.opts, a, err)
		}
	}
	req := RunEnv(contract.RunRequest{Args: []string{"execute", "f.yaml", "exp9"}, Env: map[string]string{"JOB_SOURCE": "x"}})
	if req.Env["EXPERIMENT"] != "exp9" || req.Env["JOB_SOURCE"] != "x" {
		t.Errorf("env %v", req.Env)
	}
}
