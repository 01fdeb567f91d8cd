package api

import (
	"errors"
	"reflect"
	"testing"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/store"
)

func TestLeaderRunJob(t *testing.T) {
	t.Parallel()
	tc := newCluster(t, "pio01", "pio02", "pio03")
	tc.experiment(t, "demo", "pio01", "pio02")
	tc.experiment(t, "other", "pio03")
	tc.store.update("pio02", func(w *store.Worker) { w.ModelName, w.ModelVersion = "", "" })

	status, body := call(t, tc.leader.URL, "PATCH", "/api/workers/pio01/jobs/run/job_name/stirring/experiments/demo",
		`{"options":{"target_rpm":400},"env":{"JOB_SOURCE":"user","EXPERIMENT":"wrong"}}`)
	if got := resultJSON(t, await(t, tc.leader.URL, status, body)); got != `{"pio01":{"ok":true,"unit":"pio01","value":{"ok":true}}}` {
		t.Fatalf("result %s", got)
	}
	want := runCall{"stirring", contract.RunRequest{Args: []string{}, ConfigOverrides: [][3]string{},
		Options: map[string]any{"target_rpm": 400.0},
		Env: map[string]string{"EXPERIMENT": "demo", "HOSTNAME": "pio01", "ACTIVE": "1", "TESTING": "0",
			"JOB_SOURCE": "user", "MODEL_NAME": "pioreactor_20ml", "MODEL_VERSION": "1.5"}}}
	if got := tc.workers["pio01"].Runs(); len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Fatalf("pio01 runs %+v\nwant %+v", got, want)
	}

	// $broadcast: every active worker of the experiment, each with its own env.
	status, body = call(t, tc.leader.URL, "POST", "/api/units/$broadcast/jobs/run/job_name/od_reading/experiments/demo", nil)
	if got := resultJSON(t, await(t, tc.leader.URL, status, body)); got != `{"pio01":{"ok":true,"unit":"pio01","value":{"ok":true}},"pio02":{"ok":true,"unit":"pio02","value":{"ok":true}}}` {
		t.Fatalf("broadcast result %s", got)
	}
	runs := tc.workers["pio02"].Runs()
	if len(runs) != 1 || runs[0].req.Env["HOSTNAME"] != "pio02" || len(runs[0].req.Env) != 4 { // no model: no model keys
		t.Fatalf("pio02 runs %+v", runs)
	}
	if n := len(tc.workers["pio03"].Runs()); n != 0 {
		t.Fatalf("pio03 (other experiment) got %d runs", n)
	}

	// No eligible worker: 404, and no worker hears anything.
	tc.store.update("pio02", func(w *store.Worker) { w.IsActive = false })
	for _, c := range []struct{ path, msg string }{
		{"/api/workers/pio03/jobs/run/job_name/stirring/experiments/demo", "Worker(s) pio03 not found, not active, or not assigned to experiment demo."},
		{"/api/workers/pio02/jobs/run/job_name/stirring/experiments/demo", "Worker(s) pio02 not found, not active, or not assigned to experiment demo."},
		{"/api/workers/pio02/jobs/run/job_name/stirring/experiments/$experiment", "Worker(s) pio02 not found or not active."},
	} {
		status, body := call(t, tc.leader.URL, "PATCH", c.path, `{}`)
		if v := decode(t, body); status != 404 || v["error"] != c.msg {
			t.Errorf("%s: %d %s", c.path, status, body)
		}
	}
	if n := len(tc.workers["pio02"].Runs()) + len(tc.workers["pio03"].Runs()); n != 1 {
		t.Fatalf("refused runs reached workers: %d", n)
	}
}

func TestLeaderRunFailures(t *testing.T) {
	t.Parallel()
	tc := newCluster(t, "pio01", "pio02")
	tc.experiment(t, "demo", "pio01", "pio02")
	tc.workers["pio01"].runErr = errors.New("start stirring: job already running")
	delete(tc.urls, "pio02") // pio02 is unreachable
	status, body := call(t, tc.leader.URL, "PATCH", "/api/workers/$broadcast/jobs/run/job_name/stirring/experiments/demo", `{}`)
	v := await(t, tc.leader.URL, status, body)
	res := v["result"].(map[string]any)
	p1 := res["pio01"].(map[string]any)
	if p1["ok"] != false || p1["error"].(map[string]any)["kind"] != "task_failed" ||
		p1["error"].(map[string]any)["message"] != "start stirring: job already running" || p1["retryable"] != false {
		t.Errorf("pio01 %v", p1)
	}
	p2 := res["pio02"].(map[string]any)
	if p2["ok"] != false || p2["error"].(map[string]any)["kind"] != "connection_error" || p2["retryable"] != true || p2["status_code"] != nil {
		t.Errorf("pio02 %v", p2)
	}
}

func TestLeaderStopJob(t *testing.T) {
	t.Parallel()
	tc := newCluster(t, "pio01")
	tc.experiment(t, "demo", "pio01")
	status, body := call(t, tc.leader.URL, "PATCH", "/api/workers/pio01/jobs/stop/job_name/stirring/experiments/demo", nil)
	if status != 202 || body != `{"status":"accepted"}` {
		t.Fatalf("stop: %d %s", status, body)
	}
	want := []published{{Topic: "pioreactor/pio01/demo/stirring/$state/set", Payload: "disconnected", QoS: 1}}
	if got := tc.pub.Messages(false); !reflect.DeepEqual(got, want) {
		t.Fatalf("published %+v", got)
	}
	if n := len(tc.workers["pio01"].Stops()); n != 0 {
		t.Fatalf("MQTT stop also called the worker %d times", n)
	}

	// Broker down: the worker is asked over HTTP, in a task.
	tc.pub.mu.Lock()
	tc.pub.err = errors.New("not connected")
	tc.pub.mu.Unlock()
	status, body = call(t, tc.leader.URL, "POST", "/api/units/pio01/jobs/stop/job_name/stirring/experiments/demo", nil)
	if got := resultJSON(t, await(t, tc.leader.URL, status, body)); got != `{"pio01":{"ok":true,"unit":"pio01","value":true}}` {
		t.Fatalf("fallback result %s", got)
	}
	if got := tc.workers["pio01"].Stops(); len(got) != 1 || !reflect.DeepEqual(got[0], contract.StopFilter{JobName: "stirring", Experiment: "demo"}) {
		t.Fatalf("fallback stops %+v", got)
	}
}

func TestLeaderStopExperiment(t *testing.T) {
	t.Parallel()
	tc := newCluster(t, "pio01", "pio02")
	status, body := call(t, tc.leader.URL, "POST", "/api/workers/$broadcast/jobs/stop/experiments/demo", nil)
	if status != 202 || body != `{"status":"success"}` {
		t.Fatalf("stop: %d %s", status, body)
	}
	for _, u := range []*fakeUnit{tc.workers["pio01"], tc.workers["pio02"], tc.leadU} {
		eventually(t, func() bool { return len(u.Stops()) == 1 })
		if got := u.Stops()[0]; !reflect.DeepEqual(got, contract.StopFilter{Experiment: "demo"}) {
			t.Errorf("%s stop %+v", u.name, got)
		}
	}
	status, body = call(t, tc.leader.URL, "PATCH", "/api/workers/ghost/jobs/stop/experiments/demo", nil)
	if v := decode(t, body); status != 400 || v["error"] != "Unknown Pioreactor unit: ghost" {
		t.Fatalf("unknown unit: %d %s", status, body)
	}
}

func TestLeaderUpdateJob(t *testing.T) {
	t.Parallel()
	tc := newCluster(t, "pio01")
	status, body := call(t, tc.leader.URL, "PATCH", "/api/workers/pio01/jobs/update/job_name/stirring/experiments/demo",
		`{"settings":{"target_rpm":200,"$state":"sleeping","x":1.5,"flag":true,"big":1e3,"obj":{"a": [1, 2]},"clear":null}}`)
	if status != 202 || body != `{"status":"accepted"}` {
		t.Fatalf("update: %d %s", status, body)
	}
	var got [][2]string
	for _, m := range tc.pub.Messages(false) {
		if m.QoS != 1 || m.Retain {
			t.Errorf("qos/retain of %+v", m)
		}
		got = append(got, [2]string{m.Topic, m.Payload})
	}
	const p = "pioreactor/pio01/demo/stirring/"
	want := [][2]string{{p + "target_rpm/set", "200"}, {p + "$state/set", "sleeping"}, {p + "x/set", "1.5"},
		{p + "flag/set", "True"}, {p + "big/set", "1000.0"}, {p + "obj/set", `{"a":[1,2]}`}, {p + "clear/set", ""}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("published %q\nwant %q", got, want)
	}
	status, body = call(t, tc.leader.URL, "PATCH", "/api/workers/pio01/jobs/update/job_name/stirring/experiments/demo",
		`{"settings":{"a/b":1}}`)
	if status != 400 || len(tc.pub.Messages(false)) != len(want) {
		t.Fatalf("bad setting name: %d %s", status, body)
	}
}

func TestLeaderRunningJobs(t *testing.T) {
	t.Parallel()
	tc := newCluster(t, "pio02", "pio01")
	row := contract.JobRow{JobID: 1, Unit: "pio01", Experiment: "demo", JobName: "stirring", IsRunning: 1}
	tc.workers["pio01"].running = []contract.JobRow{row}
	status, body := call(t, tc.leader.URL, "GET", "/api/workers/pio01/jobs/running", nil)
	want := `{"pio01":{"ok":true,"unit":"pio01","value":[{"ended_at":null,"experiment":"demo","is_long_running_job":0,"is_running":1,"job_id":1,"job_name":"stirring","job_source":"","leader":"","pid":0,"started_at":"","unit":"pio01"}]}}`
	if got := resultJSON(t, await(t, tc.leader.URL, status, body)); got != want {
		t.Fatalf("result %s", got)
	}
	status, body = call(t, tc.leader.URL, "GET", "/api/units/%24broadcast/jobs/running", nil) // escaped as some clients do
	res := await(t, tc.leader.URL, status, body)["result"].(map[string]any)
	if len(res) != 3 || res["leader"].(map[string]any)["ok"] != true || res["pio02"].(map[string]any)["value"] == nil {
		t.Fatalf("broadcast result %v", res)
	}
	for _, unit := range []string{"ghost", "203.0.113.10", "localhost"} {
		status, body := call(t, tc.leader.URL, "GET", "/api/workers/"+unit+"/jobs/running", nil)
		want := `{"error":"Unknown Pioreactor unit: ` + unit + `","status":400,"cause":"` + unit +
			` is neither the leader nor a worker in the inventory.","remediation":"Check the unit name, or add the worker to the inventory first."}`
		if status != 400 || body != want {
			t.Errorf("%s: %d %s", unit, status, body)
		}
	}
}

func TestLeaderJobSettings(t *testing.T) {
	t.Parallel()
	tc := newCluster(t, "pio01", "pio02")
	tc.experiment(t, "demo", "pio01")
	tc.workers["pio01"].settings = map[string]map[string]any{"stirring": {"target_rpm": 400.0}}
	status, body := call(t, tc.leader.URL, "GET", "/api/workers/pio01/jobs/settings/job_name/stirring/experiments/demo", nil)
	if got := resultJSON(t, await(t, tc.leader.URL, status, body)); got != `{"pio01":{"ok":true,"unit":"pio01","value":{"settings":{"target_rpm":400}}}}` {
		t.Fatalf("settings %s", got)
	}
	status, body = call(t, tc.leader.URL, "GET", "/api/workers/$broadcast/jobs/settings/job_name/stirring/setting/target_rpm/experiments/demo", nil)
	if got := resultJSON(t, await(t, tc.leader.URL, status, body)); got != `{"pio01":{"ok":true,"unit":"pio01","value":{"target_rpm":400}}}` {
		t.Fatalf("setting %s", got)
	}
	if status, body := call(t, tc.leader.URL, "GET", "/api/workers/pio02/jobs/settings/job_name/stirring/experiments/demo", nil); status != 404 {
		t.Fatalf("unit not in experiment: %d %s", status, body)
	}
}
