package api

import (
	"net/http"
	"strings"
	"testing"
)

// TestExperimentNamesRefused: names with control characters, invalid UTF-8 or a word a
// route under /api/experiments/ answers itself are refused with 400 on create; a run
// request cannot carry such an experiment to a unit either, from the path or the env.
func TestExperimentNamesRefused(t *testing.T) {
	t.Parallel()
	tc := newCluster(t, "pio01")
	tc.experiment(t, "exp1", "pio01")

	for _, c := range []struct {
		name string
		msg  string
	}{
		{"a\u0000b", "Experiment name cannot contain control characters"},
		{"line\nbreak", "Experiment name cannot contain control characters"},
		{"tab\there", "Experiment name cannot contain control characters"},
		{"del\u007f", "Experiment name cannot contain control characters"},
		{"c1\u0085", "Experiment name cannot contain control characters"},
		{"latest", "Experiment name cannot be 'latest'"},
		{"Active", "Experiment name cannot be 'active'"},
		{"assignment_count", "Experiment name cannot be 'assignment_count'"},
		{"..", "Experiment name cannot be '..'"},
		{"current", "Experiment name cannot be 'current'"},
		{"a/b", `Experiment name cannot contain special characters (#, $, %, +, /, \)`},
	} {
		body := `{"experiment":"` + jsonEscape(c.name) + `"}`
		status, got := call(t, tc.leader.URL, http.MethodPost, "/api/experiments", body)
		if status != http.StatusBadRequest {
			t.Errorf("create %q: %d %s, want 400", c.name, status, got)
			continue
		}
		if env := decode(t, got); env["error"] != c.msg {
			t.Errorf("create %q: error %v, want %q", c.name, env["error"], c.msg)
		}
	}
	for _, ok := range []string{"latest run", "activ", "my exp ✓", "exp.1"} {
		if status, got := call(t, tc.leader.URL, http.MethodPost, "/api/experiments", `{"experiment":"`+ok+`"}`); status != http.StatusCreated {
			t.Errorf("create %q: %d %s, want 201", ok, status, got)
		}
	}

	// Run routes: the leader's path and a unit's env.EXPERIMENT.
	for _, c := range []struct {
		base, path, body string
	}{
		{tc.leader.URL, "/api/workers/pio01/jobs/run/job_name/stirring/experiments/a%00b", `{}`},
		{tc.leader.URL, "/api/workers/pio01/jobs/run/job_name/stirring/experiments/line%0Abreak", `{}`},
		{tc.leader.URL, "/api/workers/$broadcast/jobs/run/job_name/stirring/experiments/bad%FF", `{}`},
		{tc.urls["pio01"], "/unit_api/jobs/run/job_name/stirring", `{"env":{"EXPERIMENT":"a\u0000b"}}`},
		{tc.urls["pio01"], "/unit_api/jobs/run/job_name/od_reading", `{"env":{"EXPERIMENT":"x\r\ny"}}`},
		{tc.urls["pio01"], "/unit_api/jobs/run/job_name/led_intensity", `{"env":{"EXPERIMENT":"a/b"}}`},
	} {
		status, got := call(t, c.base, http.MethodPost, c.path, c.body)
		if status != http.StatusBadRequest || !strings.Contains(got, "Experiment name") {
			t.Errorf("POST %s %s: %d %s, want 400 about the experiment name", c.path, c.body, status, got)
		}
	}
	if runs := tc.workers["pio01"].Runs(); len(runs) != 0 {
		t.Errorf("a refused run reached the unit: %v", runs)
	}

	// An experiment stored before names were checked cannot be handed to a worker.
	tc.experiment(t, "old\x00name")
	before := len(tc.pub.Messages(true))
	status, got := call(t, tc.leader.URL, http.MethodPut, "/api/experiments/old%00name/workers", `{"pioreactor_unit":"pio01"}`)
	if status != http.StatusBadRequest || decode(t, got)["error"] != "Experiment name cannot contain control characters" {
		t.Errorf("assign to a NUL experiment: %d %s", status, got)
	}
	if msgs := tc.pub.Messages(true); len(msgs) != before {
		t.Errorf("a refused assignment published %v", msgs[before:])
	}
}

// TestRunBodyRefused: config_overrides must be [section, key, value] triples and option
// names usable as flags; before, [["a"]] was padded into ["a","",""] and started a job.
func TestRunBodyRefused(t *testing.T) {
	t.Parallel()
	tc := newCluster(t, "pio01")
	tc.experiment(t, "exp1", "pio01")
	for i, body := range []string{
		`{"config_overrides":[["a"]]}`,
		`{"config_overrides":[[]]}`,
		`{"config_overrides":[["a","b"]]}`,
		`{"config_overrides":[["a","b","c","d"]]}`,
		`{"config_overrides":[["","b","c"]]}`,
		`{"config_overrides":[["a"," ","c"]]}`,
		`{"config_overrides":[["a]","b","c"]]}`,
		`{"config_overrides":[["a","b\nc=d","c"]]}`,
		`{"config_overrides":[["a","b",1]]}`,
		`{"config_overrides":["abc"]}`,
		`{"config_overrides":{"a":"b"}}`,
		`{"options":{"":1}}`,
		`{"options":{"target rpm":1}}`,
		`{"options":{"a\u0000":1}}`,
		`{"env":{"EXPERIMENT":1}}`,
		`{"args":[1]}`,
	} {
		for _, route := range []struct{ base, path string }{
			{tc.leader.URL, "/api/workers/pio01/jobs/run/job_name/stirring/experiments/exp1"},
			{tc.urls["pio01"], "/unit_api/jobs/run/job_name/stirring"},
		} {
			status, got := call(t, route.base, http.MethodPost, route.path, body)
			if status != http.StatusBadRequest || decode(t, got)["error"] != "Invalid request body." {
				t.Errorf("%d: POST %s %s: %d %s, want 400 Invalid request body.", i, route.path, body, status, got)
			}
		}
	}
	if runs := tc.workers["pio01"].Runs(); len(runs) != 0 {
		t.Errorf("a refused run reached the unit: %v", runs)
	}
	// The control: a well-formed triple goes through.
	status, got := call(t, tc.urls["pio01"], http.MethodPost, "/unit_api/jobs/run/job_name/stirring",
		`{"config_overrides":[["stirring.config","pwm_hz","100"]],"options":{"target_rpm":400,"dry_run":null}}`)
	res := await(t, tc.urls["pio01"], status, got)
	if resultJSON(t, res) != `{"ok":true}` {
		t.Errorf("good run: %v", res)
	}
	runs := tc.workers["pio01"].Runs()
	if len(runs) != 1 || len(runs[0].req.ConfigOverrides) != 1 || runs[0].req.ConfigOverrides[0] != [3]string{"stirring.config", "pwm_hz", "100"} {
		t.Errorf("good run arrived as %+v", runs)
	}
}

// jsonEscape writes s as the inside of a JSON string, keeping invalid UTF-8 bytes raw so
// the server sees them as sent.
func jsonEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '"' || ch == '\\':
			b.WriteByte('\\')
			b.WriteByte(ch)
		case ch < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[ch>>4])
			b.WriteByte("0123456789abcdef"[ch&15])
		default:
			b.WriteByte(ch)
		}
	}
	return b.String()
}
