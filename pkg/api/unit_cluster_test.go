package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/pioreactor/pioreactord/pkg/cluster"
	"github.com/pioreactor/pioreactord/pkg/contract"
)

const pumpYAML = `calibration_type: simple_peristaltic_pump
calibration_name: media-pump-2025
calibrated_on_pioreactor_unit: pio01
created_at: 2025-03-01T15:00:00Z
hz: 250.0
dc: 100.0
voltage: 5.03
x: Duration
y: Volume
curve_data_:
  type: poly
  coefficients: [0.52, 0.0]
recorded_data:
  x: [1.5, 3.1]
  y: [0.78, 1.61]
`

func TestCalibrations(t *testing.T) {
	t.Parallel()
	sc := newStoreCluster(t, "pio01")
	w := sc.urls["pio01"]
	for _, c := range []struct {
		method, path string
		body         any
		status       int
		want         string
	}{
		{"GET", "/unit_api/calibrations", nil, 200, `{}`},
		{"POST", "/unit_api/calibrations/media_pump", map[string]any{"calibration_data": "calibration_type: nope\n"}, 400, "YAML data is not correct"},
		{"POST", "/unit_api/calibrations/media_pump", map[string]any{"calibration_data": pumpYAML, "set_as_active": "yes"}, 400, "Expected `bool`, got `str`"},
		{"POST", "/unit_api/calibrations/media_pump", map[string]any{"calibration_data": pumpYAML}, 201, `"msg":"Calibration created successfully."`},
		{"GET", "/unit_api/calibrations/media_pump/media-pump-2025", nil, 200, `"is_active":false,"pioreactor_unit":"pio01"`},
		{"GET", "/unit_api/active_calibrations", nil, 200, `{}`},
		{"PATCH", "/unit_api/active_calibrations/media_pump/nope", nil, 404, "Calibration not found."},
		{"PATCH", "/unit_api/active_calibrations/media_pump/media-pump-2025", nil, 200, `{"status":"success"}`},
		{"GET", "/unit_api/active_calibrations", nil, 200, `"calibration_name":"media-pump-2025"`},
		{"GET", "/unit_api/calibrations", nil, 200, `"is_active":true`},
		{"GET", "/unit_api/calibrations/%2E%2E/x", nil, 400, "Missing or invalid 'device'."},
		{"GET", "/unit_api/calibrations/media_pump/%2E%2E", nil, 400, "Missing or invalid 'calibration_name'."},
		{"GET", "/unit_api/calibrations/media_pump/..%2F..%2Fconfig.ini", nil, 400, "Missing or invalid"},
		{"DELETE", "/unit_api/active_calibrations/media_pump", nil, 200, `{"status":"success"}`},
		{"DELETE", "/unit_api/calibrations/media_pump/media-pump-2025", nil, 200, `"msg"`},
		{"DELETE", "/unit_api/calibrations/media_pump/media-pump-2025", nil, 404, "Calibration not found."},
		{"GET", "/unit_api/estimators", nil, 200, `{}`},
		{"GET", "/unit_api/calibration_protocols", nil, 200, `[]`},
	} {
		status, body := call(t, w, c.method, c.path, c.body)
		if status != c.status || !strings.Contains(body, c.want) {
			t.Errorf("%s %s: %d %s", c.method, c.path, status, body)
		}
	}

	// Through the leader: the YAML is checked there first, $broadcast is every worker.
	if status, body := sc.call("POST", "/api/workers/pio01/calibrations/media_pump", map[string]any{"calibration_data": "x: 1"}); status != 400 {
		t.Errorf("leader upload of bad YAML: %d %s", status, body)
	}
	if n := len(sc.Calls("pio01")); n != 18 {
		t.Errorf("bad YAML reached the worker (%d calls)", n)
	}
	res := sc.task("POST", "/api/workers/$broadcast/calibrations/media_pump", map[string]any{"calibration_data": pumpYAML, "set_as_active": true})
	if !strings.Contains(res, `"pio01":{"ok":true,"unit":"pio01","value":{"msg":"Calibration created successfully."`) {
		t.Errorf("upload: %s", res)
	}
	res = sc.task("GET", "/api/workers/pio01/active_calibrations", nil)
	if !strings.Contains(res, `"media_pump":{"calibration_type":"simple_peristaltic_pump"`) {
		t.Errorf("active: %s", res)
	}
	for _, path := range []string{"/api/workers/pio01/calibrations/%2E%2E", "/api/workers/ghost/calibrations", "/api/workers/leader/calibrations"} {
		if status, body := sc.call("GET", path, nil); status != 400 {
			t.Errorf("%s: %d %s", path, status, body)
		}
	}
}

func TestUnitConfig(t *testing.T) {
	t.Parallel()
	sc := newStoreCluster(t, "pio01")
	w, f := sc.urls["pio01"], sc.files["pio01"]
	for _, c := range []struct {
		method, path string
		body         any
		status       int
		want         string
	}{
		{"GET", "/unit_api/config/specific", nil, 200, ""},
		{"POST", "/unit_api/config/specific", map[string]string{"code": "[a]\nx=1\n[a]\ny=2\n"}, 400, "Duplicate section [a] was found. Please fix and try again."},
		{"POST", "/unit_api/config/specific", map[string]string{"code": "[a]\nx=1\nx=2\n"}, 400, "line 3"},
		{"POST", "/unit_api/config/specific", map[string]string{"code": "[a]\nx=100%\n"}, 400, "Incorrect syntax"},
		{"POST", "/unit_api/config/specific", map[string]string{}, 400, "Object missing required field `code`"},
		{"PATCH", "/unit_api/config/specific", map[string]string{"code": "[stirring.config]\nnote=450 – 500\n"}, 200, `{"status":"success"}`},
		{"GET", "/unit_api/config/specific", nil, 200, "note=450 - 500"},
		{"POST", "/unit_api/config/shared", map[string]string{"code": "[mqtt]\n"}, 400, "Missing required field(s): [cluster.topology] leader_hostname"},
		{"POST", "/unit_api/config/shared", map[string]string{"code": strings.Replace(testShared, "127.0.0.1", "http://x", 1)}, 400, "Don't start addresses with http"},
	} {
		status, body := call(t, w, c.method, c.path, c.body)
		if status != c.status || !strings.Contains(body, c.want) {
			t.Errorf("%s %s %v: %d %s", c.method, c.path, c.body, status, body)
		}
	}
	if got := sc.file(f.Shared); got != testShared {
		t.Errorf("a refused shared config was written: %q", got)
	}
	status, body := call(t, w, "GET", "/unit_api/config/merged", nil)
	if status != 200 || !strings.Contains(body, `"stirring.config":{"note":"450 - 500"}`) {
		t.Errorf("merged: %d %s", status, body)
	}
}

func TestLeaderConfig(t *testing.T) {
	t.Parallel()
	sc := newStoreCluster(t, "pio01", "dead")
	edited := testShared + "\n[stirring.config]\ninitial_target_rpm=300\n"

	// The leader saves, keeps a snapshot and hands the file to every worker; a worker that
	// is down makes the answer a 500, but the others have it.
	status, body := sc.call("PATCH", "/api/config/shared", map[string]string{"code": edited})
	if status != 500 || decode(t, body)["error"] != "Could not sync configs to all Pioreactors." || !strings.Contains(body, "dead") {
		t.Errorf("save: %d %s", status, body)
	}
	for _, u := range []string{"leader", "pio01"} {
		if got := sc.file(sc.files[u].Shared); got != edited {
			t.Errorf("%s has %q", u, got)
		}
	}
	_, hist := sc.call("GET", "/api/config/shared/history", nil)
	if h := decodeList(t, hist); len(h) != 1 || h[0]["filename"] != "config.ini" || h[0]["data"] != edited {
		t.Errorf("history: %s", hist)
	}

	status, body = sc.call("PATCH", "/api/config/shared", map[string]string{"code": "[mqtt]\n[mqtt]\n"})
	if status != 400 || !strings.Contains(body, "Duplicate section [mqtt]") || !strings.Contains(body, "line 2") {
		t.Errorf("bad shared: %d %s", status, body)
	}
	if got := sc.file(sc.files["leader"].Shared); got != edited {
		t.Errorf("a refused config was written: %q", got)
	}

	// Unit-specific: the worker validates; its envelope comes back as it worded it.
	status, body = sc.call("PATCH", "/api/config/units/pio01/specific", map[string]string{"code": "[a]\nx=1\nx=2\n"})
	if status != 400 || !strings.Contains(body, "Duplicate option, `x`, was found in section [a]") {
		t.Errorf("bad specific: %d %s", status, body)
	}
	if status, body = sc.call("PATCH", "/api/config/units/pio01/specific", map[string]string{"code": "[a]\nx=1\n"}); status != 200 {
		t.Errorf("specific: %d %s", status, body)
	}
	if status, body = sc.call("GET", "/api/config/units/pio01/specific", nil); status != 200 || body != "[a]\nx=1" {
		t.Errorf("read specific: %d %q", status, body)
	}
	_, hist = sc.call("GET", "/api/config/units/pio01/specific/history", nil)
	if h := decodeList(t, hist); len(h) != 1 || h[0]["filename"] != "unit_config.ini::pio01" {
		t.Errorf("unit history: %s", hist)
	}
	status, body = sc.call("PATCH", "/api/config/units/dead/specific", map[string]string{"code": "[a]\n"})
	if status != 502 || !strings.Contains(body, "Updating unit-specific config failed on dead.") {
		t.Errorf("dead unit: %d %s", status, body)
	}
	status, body = sc.call("GET", "/api/config/units/$broadcast", nil)
	if status != 200 || !strings.Contains(body, `"a":{"x":"1"}`) || !strings.Contains(body, `"errors":{"dead":{"ok":false`) {
		t.Errorf("merged: %d %s", status, body)
	}
	if status, body = sc.call("GET", "/api/config/units/dead", nil); status != 502 {
		t.Errorf("merged of a dead unit: %d %s", status, body)
	}
	for _, path := range []string{"/api/config/units/$broadcast/specific", "/api/config/units/..%2F..%2Fetc%2Fpasswd/specific",
		"/api/config/units/nope/specific/history"} {
		if status, body := sc.call("GET", path, nil); status != 400 {
			t.Errorf("%s: %d %s", path, status, body)
		}
	}
	req, _ := http.NewRequest("GET", sc.url+"/api/config/zipped", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" {
		t.Errorf("zip: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	// Removing a worker drops its history.
	sc.call("DELETE", "/api/workers/pio01", nil)
	if _, hist = sc.call("GET", "/api/config/units/leader/specific/history", nil); hist != "[]" {
		t.Errorf("leader history: %s", hist)
	}
	if snaps, _ := sc.history.ConfigSnapshots("unit_config.ini::pio01"); len(snaps) != 0 {
		t.Errorf("pio01's history survived its removal: %v", snaps)
	}
}

func TestBioreactor(t *testing.T) {
	t.Parallel()
	sc := newStoreCluster(t, "pio01", "pio02")
	sc.experiment("exp1", "pio01", "pio02")
	w := sc.urls["pio01"]
	for _, c := range []struct {
		method, body string
		status       int
		want         string
	}{
		{"PATCH", `{"values":{}}`, 400, "No bioreactor values given."},
		{"PATCH", `{"values":{"efflux_tube_volume_ml":100}}`, 400, "efflux_tube_volume_ml cannot exceed"},
		{"PATCH", `{"values":{"alt_media_fraction":1.5}}`, 400, "alt_media_fraction must be between 0 and 1."},
		{"PATCH", `{"values":{"current_volume_ml":-1}}`, 400, "current_volume_ml must be a non-negative number."},
		{"PATCH", `{"values":{"volume":1}}`, 400, "Unknown bioreactor variable: volume"},
		{"PATCH", `{"values":{"current_volume_ml":"12"}}`, 400, "Invalid request body."},
		{"PATCH", `{"values":{"current_volume_ml":12.5}}`, 200, `{"status":"success"}`},
	} {
		status, body := call(t, w, c.method, "/unit_api/bioreactor/experiments/exp1", c.body)
		if status != c.status || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d %s", c.body, status, body)
		}
	}
	_, body := call(t, w, "GET", "/unit_api/bioreactor/experiments/exp1", nil)
	if !strings.Contains(body, `"current_volume_ml":12.5`) || !strings.Contains(body, `"efflux_tube_volume_ml":14`) {
		t.Errorf("values: %s", body)
	}
	var announced, logged bool
	for _, m := range sc.pub.Messages(true) {
		announced = announced || (m.Topic == "pioreactor/pio01/exp1/bioreactor/current_volume_ml" && m.Payload == "12.5" && m.Retain && m.QoS == 2)
		logged = logged || strings.Contains(m.Payload, "Updated current_volume_ml from 14.0 mL to 12.5 mL.")
	}
	if !announced || !logged {
		t.Errorf("published %+v", sc.pub.Messages(true))
	}

	res := sc.task("PATCH", "/api/workers/$broadcast/bioreactor/update/experiments/exp1", `{"values":{"alt_media_fraction":0.25}}`)
	if res != `{"pio01":{"ok":true,"unit":"pio01","value":{}},"pio02":{"ok":true,"unit":"pio02","value":{}}}` {
		t.Errorf("fan-out: %s", res)
	}
	for _, c := range []struct{ path, body string }{
		{"/api/workers/ghost/bioreactor/update/experiments/exp1", `{"values":{"alt_media_fraction":0.25}}`},
		{"/api/workers/pio01/bioreactor/update/experiments/exp1", `{"values":{}}`},
	} {
		if status, body := sc.call("PATCH", c.path, c.body); status != 400 {
			t.Errorf("%s %s: %d %s", c.path, c.body, status, body)
		}
	}
}

// The volume cap of a bioreactor update is the unit's model's capacity at the time of the
// update (a model learned later applies), 40 mL when it has none.
func TestBioreactorCapacityFollowsModel(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	capacity := 0.0
	s, err := New(Config{Unit: &fakeUnit{name: "pio01"}, Now: (&fakeClock{t: t0}).Now, ModelCapacityML: func() float64 {
		mu.Lock()
		defer mu.Unlock()
		return capacity
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { srv.Close(); s.Close() })
	for _, c := range []struct {
		capacity float64
		volume   string
		status   int
		want     string
	}{
		{0, "40", 200, `{"status":"success"}`},
		{0, "40.5", 400, "reactor capacity of 40 mL"},
		{40, "30", 200, `{"status":"success"}`},
		{20, "20", 200, `{"status":"success"}`},
		{20, "30", 400, "reactor capacity of 20 mL"},
	} {
		mu.Lock()
		capacity = c.capacity
		mu.Unlock()
		status, body := call(t, srv.URL, "PATCH", "/unit_api/bioreactor/experiments/exp1", `{"values":{"current_volume_ml":`+c.volume+`}}`)
		if status != c.status || !strings.Contains(body, c.want) {
			t.Errorf("capacity %v, %s mL: %d %s", c.capacity, c.volume, status, body)
		}
	}
}

func TestRelay(t *testing.T) {
	t.Parallel()
	sc := newStoreCluster(t, "pio01", "pio02")
	res := sc.task("POST", "/api/relay", `{"units":["$broadcast"],"path":"/unit_api/versions/app"}`)
	if res != `{"leader":{"ok":true,"unit":"leader","value":{"version":"26.6.0"}},"pio01":{"ok":true,"unit":"pio01","value":{"version":"26.6.0"}},"pio02":{"ok":true,"unit":"pio02","value":{"version":"26.6.0"}}}` {
		t.Errorf("relay: %s", res)
	}
	res = sc.task("POST", "/api/relay", `{"units":["pio01"],"method":"POST","path":"/unit_api/jobs/stop","body":{"experiment":"x"}}`)
	if res != `{"pio01":{"ok":true,"unit":"pio01","value":true}}` {
		t.Errorf("relay POST: %s", res)
	}
	res = sc.task("POST", "/api/relay", `{"units":["pio01"],"path":"/unit_api/config/specific","raw":true}`)
	if res != `{"pio01":{"ok":true,"unit":"pio01","value":""}}` {
		t.Errorf("raw relay: %s", res)
	}
	for _, body := range []string{
		`{"units":["pio01"],"path":"/api/workers"}`,
		`{"units":["pio01"],"path":"/unit_api/../api/workers"}`,
		`{"units":["pio01"],"path":"/unit_api/jobs?x=1"}`,
		`{"units":["ghost"],"path":"/unit_api/jobs"}`,
		`{"units":["pio01"],"method":"TRACE","path":"/unit_api/jobs"}`,
		`{"units":"pio01","path":"/unit_api/jobs"}`,
		`{"path":"/unit_api/jobs"}`,
	} {
		if status, b := sc.call("POST", "/api/relay", body); status != 400 {
			t.Errorf("relay %s: %d %s", body, status, b)
		}
	}
}

func TestAPIKey(t *testing.T) {
	t.Parallel()
	const key = "cGlvOnNlY3JldA=="
	u := &fakeUnit{name: "pio01"}
	s, err := New(Config{Unit: u, Now: (&fakeClock{t: t0}).Now, APIKey: key})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { srv.Close(); s.Close() })
	for _, c := range []struct {
		header string
		status int
	}{
		{"", 401},
		{"Basic bm9wZQ==", 401},
		{"Basic " + key + "x", 401},
		{key, 401},
		{"Basic " + key, 200},
		{"bearer " + key, 200},
	} {
		req, _ := http.NewRequest("GET", srv.URL+"/unit_api/health", nil)
		if c.header != "" {
			req.Header.Set("Authorization", c.header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Errorf("Authorization %q: %d, want %d", c.header, resp.StatusCode, c.status)
		}
		if c.status == 401 && resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("401 without WWW-Authenticate")
		}
	}
	// The leader's fan-out carries the key.
	cl := cluster.New(cluster.Config{APIKey: key, Resolve: func(string) (string, error) { return srv.URL, nil }})
	if r := cl.Call(t.Context(), "pio01", cluster.Request{Path: "/unit_api/health"}); !r.OK {
		t.Errorf("fan-out with the key: %+v", r.Error)
	}
}

func TestUnitMisc(t *testing.T) {
	t.Parallel()
	sc := newStoreCluster(t, "pio01")
	sc.units["pio01"].running = append(sc.units["pio01"].running,
		contractRow(7, "pio01", "monitor", 1))
	w := sc.urls["pio01"]
	for _, c := range []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"GET", "/unit_api/long_running_jobs/running", "", 200, `"job_name":"monitor"`},
		{"GET", "/unit_api/system/utc_clock", "", 200, `{"status":"success","clock_time":"2026-03-01T12:00:00.000Z"}`},
		{"POST", "/unit_api/system/reboot", "", 501, "cannot reboot"},
		{"POST", "/unit_api/hardware/check", `{"model_name":"x","model_version":"1"}`, 400, "Unknown model 'x' with version '1'."},
		{"POST", "/unit_api/hardware/check", `{"model_name":"pioreactor_40ml","model_version":"1.5"}`, 202, "task_id"},
		{"GET", "/unit_api/system/path/../../etc/passwd", "", 501, "does not browse"},
		{"GET", "/unit_api/system/path/etc", "", 501, "does not browse"},
		{"PATCH", "/unit_api/jobs/settings/job_name/stirring", "{}", 501, "over MQTT"},
		{"GET", "/unit_api/usb", "", 200, `{"active_mount":null,"partitions":[],"status":"absent"}`},
		{"GET", "/unit_api/usb/artifacts", "", 200, `"updates":[]`},
		{"POST", "/unit_api/usb/mount", "", 202, "task_id"},
		{"GET", "/unit_api/system/disk_space", "", 200, `"available_bytes":`},
		{"GET", "/unit_api/system/memory", "", 200, `"total_bytes":`},
		{"GET", "/unit_api/system/ipv4", "", 200, `"ipv4_address":"`},
		{"GET", "/unit_api/system/web_server/status", "", 403, "not the leader"},
		{"GET", "/unit_api/estimators/od_fused/est1", "", 404, "Estimator not found."},
		{"GET", "/unit_api/estimators/od_fused/%2E%2E", "", 400, "Missing or invalid"},
	} {
		status, body := call(t, w, c.method, c.path, c.body)
		if status != c.status || !strings.Contains(body, c.want) {
			t.Errorf("%s %s: %d %s", c.method, c.path, status, body)
		}
	}
	if strings.Contains(must2body(call(t, w, "GET", "/unit_api/long_running_jobs/running", nil)), "stirring") {
		t.Error("stirring is not long-running")
	}
	res := sc.task("GET", "/api/units/$broadcast/versions/app", nil)
	if res != `{"leader":{"ok":true,"unit":"leader","value":{"version":"26.6.0"}},"pio01":{"ok":true,"unit":"pio01","value":{"version":"26.6.0"}}}` {
		t.Errorf("versions: %s", res)
	}
	res = sc.task("POST", "/api/units/$broadcast/system/reboot", nil)
	if !strings.HasPrefix(res, `{"pio01":`) || !strings.Contains(res, `"status_code":501`) {
		t.Errorf("reboot (leader last): %s", res)
	}
	if status, body := sc.call("GET", "/api/models", nil); status != 200 || strings.Count(body, "model_name") != 7 {
		t.Errorf("models: %d %s", status, body)
	}
}

func contractRow(id int64, unit, job string, longRunning int) contract.JobRow {
	return contract.JobRow{JobID: id, Unit: unit, Experiment: "$experiment", JobName: job, IsRunning: 1, IsLongRunningJob: longRunning}
}
