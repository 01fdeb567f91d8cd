package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestProfileVerify(t *testing.T) {
	t.Parallel()
	d := newFakeDaemon(t, map[string]string{
		"GET /api/units": `200 [{"pioreactor_unit":"leader"},{"pioreactor_unit":"pio01"}]`,
	})
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	_ = os.WriteFile(good, []byte("version: \"1.0\"\nexperiment_profile_name: g\npioreactors:\n  pio01:\n    jobs: {}\n"), 0o644)
	_ = os.WriteFile(bad, []byte("version: \"1.0\"\nexperiment_profile_name: b\npioreactors:\n  pio09:\n    jobs:\n      stirring:\n        actions:\n          - {type: repeat, t: 0}\n"), 0o644)
	code, out, errOut := runCLI(t, "pio", d.srv.URL, "", "run", "experiment_profile", "verify", good)
	if code != 0 || !strings.Contains(out, "good.yaml is valid (0 warning(s)). Plan:") {
		t.Errorf("good: %d %q %q", code, out, errOut)
	}
	code, out, _ = runCLI(t, "pio", d.srv.URL, "", "run", "experiment_profile", "verify", bad)
	if code == 0 || !strings.Contains(out, "line 4, column 3: error unit.unknown") || !strings.Contains(out, "line 8, column 13: error repeat.every.missing") {
		t.Errorf("bad: %d %q", code, out)
	}
}

func TestProfileExecuteRunsOnTheLeader(t *testing.T) {
	t.Parallel()
	d := newFakeDaemon(t, map[string]string{
		"PATCH /unit_api/jobs/run/job_name/experiment_profile": `202 {"unit":"leader","task_id":"t1","result_url_path":"/unit_api/task_results/t1","status":"accepted"}`,
		"GET /unit_api/task_results/t1":                        `200 {"task_id":"t1","status":"succeeded","result":{"ok":true}}`,
	})
	for _, argv0 := range []string{"pio", "pios"} {
		code, out, errOut := runCLI(t, argv0, d.srv.URL, "", "run", "experiment_profile", "execute", "p.yaml", "exp1", "--dry-run")
		if code != 0 || !strings.Contains(out, "Started a dry run of profile p.yaml on the leader for experiment exp1.") {
			t.Errorf("%s: %d %q %q", argv0, code, out, errOut)
		}
	}
	calls := d.Calls()
	want := `PATCH /unit_api/jobs/run/job_name/experiment_profile {"args":["execute","p.yaml","exp1"],"options":{"dry_run":true},"env":{},"config_overrides":[]}`
	if len(calls) < 1 || calls[0] != want {
		t.Errorf("calls %q", calls)
	}
}
