package api

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// state is everything a bad request must leave alone: the inventory, experiments,
// assignments, labels, config files and their history, what went over MQTT, and what the
// workers were asked.
func (sc *storeCluster) state() string {
	sc.t.Helper()
	var b strings.Builder
	for _, path := range []string{"/api/workers", "/api/experiments", "/api/workers/assignments",
		"/api/experiments/exp1/unit_labels", "/api/config/shared/history", "/api/config/units/pio01/specific/history"} {
		_, body := sc.call("GET", path, nil)
		fmt.Fprintf(&b, "%s %s\n", path, body)
	}
	for _, u := range slices.Sorted(maps.Keys(sc.files)) {
		f := sc.files[u]
		fmt.Fprintf(&b, "%s config.ini %q unit_config.ini %q stops %d runs %d\n", u, sc.file(f.Shared), sc.file(f.unitPath()),
			len(sc.units[u].Stops()), len(sc.units[u].Runs()))
	}
	fmt.Fprintf(&b, "published %d\n", len(sc.pub.Messages(true)))
	return b.String()
}

// TestBadInputChangesNothing: unknown units, malformed or oversized bodies, unknown fields,
// wrong types and paths that try to leave their folder are all refused with the envelope
// of §1.2, and none of them changes anything.
func TestBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	sc := newStoreCluster(t, "pio01")
	sc.experiment("exp1", "pio01")
	before := sc.state()
	big := `{"code":"` + strings.Repeat("x", 1<<20) + `"}`

	for _, c := range []struct {
		method, path, body string
		status             int
		msg                string // the envelope's error, "" for any
	}{
		{"PATCH", "/api/workers/nosuch/jobs/run/job_name/stirring/experiments/exp1", `{}`, 400, "Unknown Pioreactor unit: nosuch"},
		{"GET", "/api/workers/nosuch/jobs/running", "", 400, "Unknown Pioreactor unit: nosuch"},
		{"POST", "/api/workers/nosuch/experiments/exp1/logs", `{"message":"m","source":"s","level":"INFO","timestamp":"t"}`, 400, "Unknown Pioreactor unit: nosuch"},
		{"PATCH", "/api/workers/pio01/jobs/stop/experiments/exp1", `{}`, 202, ""}, // not bad: the control
		{"GET", "/api/units/203.0.113.10/versions/app", "", 400, "Unknown Pioreactor unit: 203.0.113.10"},
		{"POST", "/api/units/localhost/system/reboot", "", 400, "Unknown Pioreactor unit: localhost"},
		{"PUT", "/api/workers", `{"pioreactor_unit":`, 400, "Invalid request body."},
		{"PUT", "/api/workers", `[1,2]`, 400, "Invalid request body."},
		{"PUT", "/api/workers", `{"pioreactor_unit":"pio09","colour":"red"}`, 400, "Invalid request body."},
		{"PUT", "/api/workers", `{"pioreactor_unit":9}`, 400, "Invalid request body."},
		{"PUT", "/api/workers", `{"Pioreactor_Unit":"pio09"}`, 400, "Invalid request body."},
		{"PUT", "/api/workers/pio01/is_active", `{"is_active":"0"}`, 400, "Invalid request body."},
		{"PUT", "/api/workers/pio01/is_active", `{"is_active":0,"x":1}`, 400, "Invalid request body."},
		{"PUT", "/api/workers/pio01/model", `{"model_name":"pioreactor_40ml"}`, 400, "Invalid request body."},
		{"PUT", "/api/experiments/exp1/workers", `{}`, 400, "Invalid request body."},
		{"PUT", "/api/experiments/exp1/unit_labels", `{}`, 400, "Invalid request body."},
		{"PATCH", "/api/experiments/exp1", `{"tags":[1]}`, 400, "Invalid tag value"},
		{"POST", "/api/experiments", `{"experiment":["x"]}`, 400, "Invalid request body."},
		{"POST", "/api/experiments", `{"experiment":"a/b"}`, 400, `Experiment name cannot contain special characters (#, $, %, +, /, \)`},
		{"PATCH", "/api/workers/pio01/jobs/update/job_name/stirring/experiments/exp1", `{"settings":[]}`, 400, "Invalid request body."},
		{"PATCH", "/api/workers/pio01/jobs/update/job_name/stirring/experiments/exp1", `{"settings":{"a/b":1}}`, 400, "Invalid setting name: a/b"},
		{"PATCH", "/api/workers/pio01/bioreactor/update/experiments/exp1", `{"values":{"current_volume_ml":"x"}}`, 400, "Invalid request body."},
		{"PATCH", "/api/config/shared", `{}`, 400, "Invalid request body."},
		{"PATCH", "/api/config/shared", `{"code":"[a\n"}`, 400, ""},
		{"PATCH", "/api/config/shared", big, 413, "Request body too large."},
		{"PATCH", "/api/config/units/pio01/specific", big, 413, "Request body too large."},
		{"PATCH", "/api/config/units/pio01/specific", `{"code":"[a]\nb=1\n[a]\n"}`, 400, "Duplicate section [a] was found. Please fix and try again."},
		{"PATCH", "/api/config/shared", `{"code":"[cluster.topology]\nleader_hostname=leader\nleader_address=127.0.0.1\n[mqtt]\nbroker_port=abc\n"}`, 400, "Invalid value for [mqtt] broker_port"},
		{"PATCH", "/api/config/shared", `{"code":"[cluster.topology]\nleader_hostname=leader\nleader_address=127.0.0.1\n[mqtt]\nbroker_port\n"}`, 400, "Incorrect syntax. Please fix and try again."},
		{"PATCH", "/api/config/units/pio01/specific", `{"code":"[od_reading.config]\nsamples_per_second=banana\n"}`, 400, "Invalid value for [od_reading.config] samples_per_second"},
		{"PATCH", "/api/config/units/pio01/specific", `{"code":"[a]\nb=1\n[ a ]\n"}`, 400, "Duplicate section [a] was found. Please fix and try again."},
		{"POST", "/api/experiments", `{"experiment":"a\u0000b"}`, 400, "Experiment name cannot contain control characters"},
		{"POST", "/api/experiments", `{"experiment":"latest"}`, 400, "Experiment name cannot be 'latest'"},
		{"PATCH", "/api/workers/pio01/jobs/run/job_name/stirring/experiments/exp1", `{"config_overrides":[["a"]]}`, 400, "Invalid request body."},
		{"PATCH", "/api/config/units/..%2Fpio01/specific", `{"code":""}`, 400, "Unknown Pioreactor unit: ../pio01"},
		{"GET", "/api/config/units/..%2F..%2Fetc/specific", "", 400, "Unknown Pioreactor unit: ../../etc"},
		{"PATCH", "/api/config/units/$broadcast/specific", `{"code":""}`, 400, ""},
		{"POST", "/api/workers/pio01/calibrations/..%2F..", `{"calibration_data":"x"}`, 400, "Missing or invalid 'device'."},
		{"DELETE", "/api/workers/pio01/calibrations/media_pump/%2E%2E", "", 400, "Missing or invalid 'calibration_name'."},
		{"POST", "/api/relay", `{"units":["pio01"],"path":"/unit_api/../../etc/passwd"}`, 400, "Invalid relay path: /unit_api/../../etc/passwd"},
		{"POST", "/api/relay", `{"units":["pio01"],"path":"/unit_api/jobs/stop","method":"POST","body":` + strings.Repeat(" ", 1<<20) + `{}}`, 413, ""},
		{"GET", "/api/this-doesnt-exist", "", 404, "Not found."},
		{"DELETE", "/api/workers", "", 405, "Method not allowed."},
	} {
		status, body := sc.call(c.method, c.path, c.body)
		if status != c.status {
			t.Errorf("%s %s: %d %.200s, want %d", c.method, c.path, status, body, c.status)
			continue
		}
		if status < 400 {
			continue
		}
		env := decode(t, body)
		if env["status"] != float64(status) || env["cause"] == nil || (c.msg != "" && env["error"] != c.msg) {
			t.Errorf("%s %s: envelope %.300s, want error %q", c.method, c.path, body, c.msg)
		}
	}
	// The control request above fires a stop at pio01 in the background; let it land, then
	// take it out of the comparison.
	sc.waitCall("pio01", `POST /unit_api/jobs/stop {"experiment":"exp1"}`)
	eventually(t, func() bool { return len(sc.units["pio01"].Stops()) == 1 })
	after := strings.Replace(sc.state(), "stops 1", "stops 0", 1)
	if after != before {
		t.Errorf("bad input changed the state:\nbefore %s\nafter  %s", before, after)
	}

	// A chunked body over the cap is cut while it is read.
	req, _ := http.NewRequest("PATCH", sc.url+"/api/config/shared", &endless{})
	req.ContentLength = -1
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked oversize body: %d", resp.StatusCode)
	}
}

// endless is a body that never ends.
type endless struct{}

func (*endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}
