package api

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestWorkerLifecycle(t *testing.T) {
	t.Parallel()
	sc := newStoreCluster(t, "pio01", "pio02")
	sc.experiment("exp1", "pio01", "pio02")

	// Deactivating stops every job on the worker and says so in the system log.
	if status, body := sc.call("PUT", "/api/workers/pio01/is_active", `{"is_active":0}`); status != 200 || body != `{"status":"success"}` {
		t.Fatalf("deactivate: %d %s", status, body)
	}
	sc.waitCall("pio01", "POST /unit_api/jobs/stop/all")
	if w, _ := sc.db.Worker("pio01"); w.IsActive {
		t.Fatal("pio01 still active")
	}
	if !strings.Contains(lastLog(sc), "Set pio01 to Inactive.") {
		t.Errorf("log: %s", lastLog(sc))
	}
	for _, c := range []struct{ body, msg string }{
		{`{"is_active":2}`, "Invalid is_active value"},
		{`{"is_active":true}`, "Invalid request body."},
		{`{}`, "Invalid request body."},
	} {
		if status, body := sc.call("PUT", "/api/workers/pio01/is_active", c.body); status != 400 || decode(t, body)["error"] != c.msg {
			t.Errorf("is_active %s: %d %s", c.body, status, body)
		}
	}
	if status, body := sc.call("PUT", "/api/workers/ghost/is_active", `{"is_active":1}`); status != 400 || decode(t, body)["error"] != "Unknown Pioreactor worker: ghost" {
		t.Errorf("unknown worker: %d %s", status, body)
	}

	// A registered model only; the worker is asked to check its hardware.
	if status, body := sc.call("PUT", "/api/workers/pio02/model", `{"model_name":"pioreactor_40ml","model_version":"9.9"}`); status != 400 || decode(t, body)["error"] != "Unknown Pioreactor model." {
		t.Errorf("unknown model: %d %s", status, body)
	}
	if status, body := sc.call("PUT", "/api/workers/pio02/model", `{"model_name":"pioreactor_40ml","model_version":"1.5"}`); status != 200 {
		t.Fatalf("set model: %d %s", status, body)
	}
	sc.waitCall("pio02", `POST /unit_api/hardware/check {"model_name":"pioreactor_40ml","model_version":"1.5"}`)
	if status, body := sc.call("GET", "/api/workers/pio02/model", nil); status != 200 || decode(t, body)["reactor_capacity_ml"] != 40.0 {
		t.Errorf("model: %d %s", status, body)
	}

	// Removal: gone from the inventory and the experiment, announced, jobs stopped.
	if status, body := sc.call("DELETE", "/api/workers/pio02", nil); status != 202 || body != `{"status":"success"}` {
		t.Fatalf("remove: %d %s", status, body)
	}
	sc.waitCall("pio02", "POST /unit_api/jobs/stop/all")
	if _, err := sc.db.Worker("pio02"); err == nil {
		t.Fatal("pio02 still in the inventory")
	}
	msgs := sc.pub.Messages(false)
	if last := msgs[len(msgs)-1]; last.Topic != "pioreactor/pio02/$experiment/assignment" || !strings.Contains(last.Payload, `"experiment":null`) || !last.Retain {
		t.Errorf("unassignment announcement: %+v", last)
	}
	if status, _ := sc.call("DELETE", "/api/workers/pio02", nil); status != 404 {
		t.Errorf("remove twice: %d", status)
	}
	if status, body := sc.call("GET", "/api/workers/pio02/experiment", nil); status != 404 {
		t.Errorf("experiment of a removed worker: %d %s", status, body)
	}
}

func lastLog(sc *storeCluster) string {
	msgs := sc.pub.Messages(true)
	for i := len(msgs) - 1; i >= 0; i-- {
		if strings.Contains(msgs[i].Topic, "/logs/") {
			return msgs[i].Topic + " " + msgs[i].Payload
		}
	}
	return ""
}

func TestUnassignEverything(t *testing.T) {
	t.Parallel()
	sc := newStoreCluster(t, "pio01", "pio02", "pio03")
	sc.experiment("exp1", "pio01", "pio02")
	sc.experiment("exp2", "pio03")

	res := sc.task("DELETE", "/api/experiments/exp1/workers", nil)
	if res != `{"pio01":{"ok":true,"unit":"pio01","value":true},"pio02":{"ok":true,"unit":"pio02","value":true}}` {
		t.Errorf("end experiment: %s", res)
	}
	for _, u := range []string{"pio01", "pio02"} {
		if !slices.Contains(sc.Calls(u), `POST /unit_api/jobs/stop {"experiment":"exp1"}`) {
			t.Errorf("%s calls %v", u, sc.Calls(u))
		}
	}
	if len(sc.Calls("pio03")) != 0 {
		t.Errorf("pio03 was called: %v", sc.Calls("pio03"))
	}
	if ws, _ := sc.db.AssignedWorkers("exp1"); len(ws) != 0 {
		t.Errorf("exp1 still has %v", ws)
	}
	hist := decodeList(t, must2body(sc.call("GET", "/api/experiments/exp1/historical_worker_assignments", nil)))
	if len(hist) != 2 || hist[0]["is_currently_assigned_to_experiment"] != 0.0 {
		t.Errorf("history: %v", hist)
	}

	sc.task("DELETE", "/api/workers/assignments", nil)
	if !slices.Contains(sc.Calls("pio03"), "POST /unit_api/jobs/stop/all") {
		t.Errorf("pio03 calls %v", sc.Calls("pio03"))
	}
	if as, _ := sc.db.Assignments(); len(as) != 0 {
		t.Errorf("assignments left: %v", as)
	}
	if status, body := sc.call("GET", "/api/experiments/assignment_count", nil); body != "[]" {
		t.Errorf("counts: %d %s", status, body)
	}
}

func must2body(_ int, body string) string { return body }

func TestBlinkAndLogs(t *testing.T) {
	t.Parallel()
	sc := newStoreCluster(t, "pio01", "pio02")
	sc.experiment("exp1", "pio01", "pio02")
	if status, body := sc.call("POST", "/api/workers/pio01/blink", nil); status != 202 || body != `{"status":"accepted"}` {
		t.Fatalf("blink: %d %s", status, body)
	}
	want := published{Topic: "pioreactor/pio01/$experiment/monitor/flicker_led_response_okay", Payload: "1", QoS: 1}
	if got := sc.pub.Messages(false); len(got) != 1 || got[0] != want {
		t.Errorf("blink published %+v", got)
	}

	body := `{"message":"  hello  ","source":"user","level":"notice","timestamp":"2026-03-01T12:00:00.000Z","task":"note"}`
	if status, b := sc.call("POST", "/api/workers/$broadcast/experiments/exp1/logs", body); status != 202 {
		t.Fatalf("log: %d %s", status, b)
	}
	var logs []published
	for _, m := range sc.pub.Messages(true) {
		if strings.Contains(m.Topic, "/logs/") {
			logs = append(logs, m)
		}
	}
	wantPayload := `{"message":"hello","task":"note","source":"user","level":"NOTICE","timestamp":"2026-03-01T12:00:00.000Z"}`
	if len(logs) != 2 || logs[0].Topic != "pioreactor/pio01/exp1/logs/ui/notice" || logs[1].Topic != "pioreactor/pio02/exp1/logs/ui/notice" ||
		logs[0].Payload != wantPayload || logs[0].QoS != 2 {
		t.Errorf("logs %+v", logs)
	}
	for _, bad := range []string{`{}`, `{"message":"x","source":"u","level":"LOUD","timestamp":"t"}`} {
		if status, b := sc.call("POST", "/api/units/pio01/experiments/exp1/logs", bad); status != 400 {
			t.Errorf("log %s: %d %s", bad, status, b)
		}
	}
}

func decodeList(t *testing.T, body string) []map[string]any {
	t.Helper()
	var v []map[string]any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
	return v
}
