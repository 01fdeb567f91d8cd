package api

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files of testdata/golden")

var (
	uuidRe = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	portRe = regexp.MustCompile(`127\.0\.0\.1:\d+`)
)

// goldenForm makes an answer comparable across runs: task ids and ports vary.
func goldenForm(body string) string {
	body = uuidRe.ReplaceAllString(body, "<task_id>")
	body = portRe.ReplaceAllString(body, "127.0.0.1:<port>")
	var v any
	if json.Unmarshal([]byte(body), &v) != nil {
		return body
	}
	var b bytes.Buffer
	_ = json.Indent(&b, []byte(body), "", "  ")
	return b.String() + "\n"
}

// checkGolden compares got with testdata/golden/<name>.json, or rewrites it with -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".json")
	got = goldenForm(got)
	if *updateGolden {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./pkg/api -run Golden -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s:\n%s", name, path, got)
	}
}

// TestGoldenShapes pins the JSON the dashboard reads (docs/http.md, "Error envelope", "Request bodies", "Tasks", "Fan-out", "Experiments", "Workers", "Jobs and settings" and "Calibrations",
// §13) to files reviewed against the spec.
func TestGoldenShapes(t *testing.T) {
	t.Parallel()
	sc := newStoreCluster(t, "pio01", "pio02", "dead")
	sc.experiment("exp1", "pio01", "dead")
	sc.experiment("exp2", "pio02")
	if err := sc.db.SetUnitLabel("exp1", "pio01", "Reactor 1"); err != nil {
		t.Fatal(err)
	}
	if err := sc.db.SetWorkerActive("pio02", false); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name, method, path, body string
		status                   int
	}{
		{"workers", "GET", "/api/workers", "", 200},
		{"worker", "GET", "/api/workers/pio01", "", 200},
		{"units", "GET", "/api/units", "", 200},
		{"experiments", "GET", "/api/experiments", "", 200},
		{"experiment", "GET", "/api/experiments/exp1", "", 200},
		{"experiments_active", "GET", "/api/experiments/active", "", 200},
		{"assignment_count", "GET", "/api/experiments/assignment_count", "", 200},
		{"assignments", "GET", "/api/workers/assignments", "", 200},
		{"experiment_workers", "GET", "/api/experiments/exp1/workers", "", 200},
		{"historical_assignments", "GET", "/api/experiments/exp1/historical_worker_assignments", "", 200},
		{"unit_labels", "GET", "/api/experiments/exp1/unit_labels", "", 200},
		{"worker_experiment", "GET", "/api/workers/pio01/experiment", "", 200},
		{"worker_model", "GET", "/api/workers/pio01/model", "", 200},
		{"models", "GET", "/api/models", "", 200},
		{"task_accepted", "GET", "/api/workers/pio01/jobs/running", "", 202},
		{"accepted", "PATCH", "/api/workers/pio01/jobs/update/job_name/stirring/experiments/exp1", `{"settings":{"target_rpm":200}}`, 202},
		{"status_success", "PUT", "/api/experiments/exp1/unit_labels", `{"unit":"pio02","label":"Reactor 2"}`, 201},
		{"error_unknown_unit", "PATCH", "/api/workers/nosuch/jobs/run/job_name/stirring/experiments/exp1", `{}`, 400},
		{"error_bad_json", "PUT", "/api/workers", `{"pioreactor_unit":`, 400},
		{"error_wrong_type", "PUT", "/api/workers/pio01/is_active", `{"is_active":"1"}`, 400},
		{"error_no_route", "GET", "/api/this-doesnt-exist", "", 404},
		{"error_not_implemented", "POST", "/api/workers/setup", `{}`, 501},
		{"unit_health", "GET", "/unit_api/health", "", 200},
		{"unit_capabilities", "GET", "/unit_api/capabilities", "", 200},
		{"unit_running", "GET", "/unit_api/jobs/running", "", 200},
		{"unit_bioreactor", "GET", "/unit_api/bioreactor/experiments/exp1", "", 200},
		{"unit_config_merged", "GET", "/unit_api/config/merged", "", 200},
	} {
		status, body := sc.call(c.method, c.path, c.body)
		if status != c.status {
			t.Errorf("%s %s: %d %s, want %d", c.method, c.path, status, body, c.status)
			continue
		}
		checkGolden(t, c.name, body)
	}

	// Fan-out envelopes: a success, a unit that is down, a unit's own error, a failed task.
	checkGolden(t, "fanout_running", sc.task("GET", "/api/workers/$broadcast/jobs/running", nil))
	checkGolden(t, "fanout_unit_error", sc.task("GET", "/api/workers/$broadcast/calibrations/od90/nope", nil))
	sc.units["pio01"].runErr = errString(`RuntimeError("hardware missing")`)
	checkGolden(t, "fanout_task_failed", sc.task("PATCH", "/api/workers/pio01/jobs/run/job_name/stirring/experiments/exp1", `{}`))
	if status, body := call(t, sc.urls["pio01"], "GET", "/unit_api/task_results/nope", nil); status != http.StatusAccepted {
		t.Errorf("pending poll: %d", status)
	} else {
		checkGolden(t, "task_pending", body)
	}
}

type errString string

func (e errString) Error() string { return string(e) }
