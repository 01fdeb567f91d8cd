package api

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pioreactor/pioreactord/pkg/calibration"
)

// estimatorUnit is a unit with an estimator folder (EstimatorKeeper).
type estimatorUnit struct {
	*fakeUnit
	store *calibration.Estimators
}

func (u estimatorUnit) Estimators() Estimators { return u.store }

const testEstimator = `estimator_type: od_fused_estimator
estimator_name: est1
calibrated_on_pioreactor_unit: pio01
ir_led_intensity: 80
angles: ["90"]
min_logc: -2
max_logc: 1
`

// newEstimatorUnit serves pio01 with od_fused/est1 in its folder; it returns the folder.
func newEstimatorUnit(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "od_fused"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "od_fused", "est1.yaml"), []byte(testEstimator), 0o644); err != nil {
		t.Fatal(err)
	}
	u := estimatorUnit{fakeUnit: &fakeUnit{name: "pio01"}, store: calibration.OpenEstimators(dir)}
	return newUnitServer(t, u, &fakeClock{t: t0}).URL, dir
}

// TestUnitEstimatorRoutes walks the unit's estimator routes in order: list, activate, read
// the active one, clear, delete; bad components are 400, unknown estimators 404.
func TestUnitEstimatorRoutes(t *testing.T) {
	t.Parallel()
	url, dir := newEstimatorUnit(t)
	for _, c := range []struct {
		method, path string
		status       int
		want         string // a part of the body
	}{
		{"GET", "/unit_api/estimators", 200, `"od_fused":[{`},
		{"GET", "/unit_api/estimators", 200, `"is_active":false`},
		{"GET", "/unit_api/active_estimators", 200, `{}`},
		{"GET", "/unit_api/estimators/od_fused", 200, `"estimator_name":"est1"`},
		{"GET", "/unit_api/estimators/od_fused/est1", 200, `"device":"od_fused"`},
		{"GET", "/unit_api/estimators/od_fused/est1", 200, `"pioreactor_unit":"pio01"`},
		{"GET", "/unit_api/estimators/od_fused/nope", 404, "Estimator not found."},
		{"GET", "/unit_api/estimators/od_fused/%2E%2E", 400, "Missing or invalid 'estimator_name'"},
		{"GET", "/unit_api/estimators/other", 200, `[]`},
		{"PATCH", "/unit_api/active_estimators/od_fused/nope", 404, "Estimator not found."},
		{"PATCH", "/unit_api/active_estimators/od_fused/est1", 200, `{"status":"success"}`},
		{"GET", "/unit_api/active_estimators", 200, `"is_active":true`},
		{"GET", "/unit_api/estimators/od_fused/est1", 200, `"is_active":true`},
		{"DELETE", "/unit_api/active_estimators/od_fused", 200, `{"status":"success"}`},
		{"GET", "/unit_api/active_estimators", 200, `{}`},
		{"PATCH", "/unit_api/active_estimators/od_fused/est1", 200, `{"status":"success"}`},
		{"DELETE", "/unit_api/estimators/od_fused/est1", 200, "Deleted estimator est1 of od_fused."},
		{"GET", "/unit_api/active_estimators", 200, `{}`}, // deleting the active one clears it
		{"DELETE", "/unit_api/estimators/od_fused/est1", 404, "Estimator not found."},
		{"GET", "/unit_api/estimators/od_fused", 200, `[]`},
	} {
		status, body := call(t, url, c.method, c.path, nil)
		if status != c.status || !strings.Contains(body, c.want) {
			t.Fatalf("%s %s: %d %s, want %d with %s", c.method, c.path, status, body, c.status, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "od_fused", "est1.yaml")); !os.IsNotExist(err) {
		t.Fatalf("the estimator file is still there (%v)", err)
	}
}

// TestEstimatorActivationReachesTheJobs: what PATCH active_estimators writes is the pointer
// file the jobs read (.active_estimators.yaml: device → name).
func TestEstimatorActivationReachesTheJobs(t *testing.T) {
	t.Parallel()
	url, dir := newEstimatorUnit(t)
	if status, body := call(t, url, "PATCH", "/unit_api/active_estimators/od_fused/est1", nil); status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	b, err := os.ReadFile(filepath.Join(dir, ".active_estimators.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(b)) != "od_fused: est1" {
		t.Fatalf("pointer file %q", b)
	}
}

// TestLeaderEstimatorFanout: the leader's estimator routes reach the worker (a task whose
// result is the worker's answer); none of them answers 501 any more.
func TestLeaderEstimatorFanout(t *testing.T) {
	t.Parallel()
	sc := newStoreCluster(t, "pio01")
	url, _ := newEstimatorUnit(t)
	sc.urls["pio01"] = url
	for _, c := range []struct {
		method, path string
		want         string // a part of the task's result
	}{
		{"GET", "/api/workers/pio01/estimators", `"estimator_name":"est1"`},
		{"PATCH", "/api/workers/pio01/active_estimators/od_fused/est1", `"ok":true`},
		{"GET", "/api/workers/pio01/active_estimators", `"is_active":true`},
		{"GET", "/api/workers/$broadcast/estimators/od_fused/est1", `"is_active":true`},
		{"DELETE", "/api/workers/pio01/active_estimators/od_fused", `"ok":true`},
		{"DELETE", "/api/workers/pio01/estimators/od_fused/est1", `Deleted estimator est1 of od_fused.`},
		{"GET", "/api/workers/pio01/estimators/od_fused", `"value":[]`},
	} {
		if got := sc.task(c.method, c.path, nil); !strings.Contains(got, c.want) {
			t.Fatalf("%s %s: result %s, want %s", c.method, c.path, got, c.want)
		}
	}
}
