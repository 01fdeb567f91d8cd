package api

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/contract"
)

func TestCreateExperimentValidation(t *testing.T) {
	t.Parallel()
	tc := newCluster(t)
	tc.experiment(t, "exists")
	for _, c := range []struct {
		name, body string
		status     int
		msg        string
	}{
		{"empty", `{"experiment":""}`, 400, "Experiment name is required"},
		{"blank", `{"experiment":"  "}`, 400, "Experiment name is required"},
		{"too long", `{"experiment":"` + strings.Repeat("x", 200) + `"}`, 400, "Experiment name is too long"},
		{"current", `{"experiment":"Current"}`, 400, "Experiment name cannot be 'current'"},
		{"testing", `{"experiment":"_testing_x"}`, 400, "Experiment name cannot start with '_testing'"},
		{"special", `{"experiment":"a/b"}`, 400, `Experiment name cannot contain special characters (#, $, %, +, /, \)`},
		{"dollar", `{"experiment":"$x"}`, 400, `Experiment name cannot contain special characters (#, $, %, +, /, \)`},
		{"tags not a list", `{"experiment":"t1","tags":"seed"}`, 400, "Invalid tags payload"},
		{"tag not a string", `{"experiment":"t2","tags":["a",1]}`, 400, "Invalid tag value"},
		{"duplicate", `{"experiment":"exists"}`, 409, "Experiment already exists"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			status, body := call(t, tc.leader.URL, "POST", "/api/experiments", c.body)
			if v := decode(t, body); status != c.status || v["error"] != c.msg || v["status"] != float64(c.status) {
				t.Errorf("got %d %s, want %d %q", status, body, c.status, c.msg)
			}
		})
	}
}

func TestExperiments(t *testing.T) {
	t.Parallel()
	tc := newCluster(t, "pio01", "pio02")
	status, body := call(t, tc.leader.URL, "GET", "/api/experiments/latest", nil)
	if status != 200 || body != "null" {
		t.Fatalf("latest of none: %d %s", status, body)
	}
	status, body = call(t, tc.leader.URL, "POST", "/api/experiments",
		`{"experiment":"exp1","description":null,"tags":["seed","project-x"," Seed ",""],"worker_count":9}`)
	want := `{"experiment":"exp1","created_at":"2026-03-01T12:00:00.000Z","description":"","delta_hours":0,"worker_count":0,"tags":["seed","project-x"]}`
	if status != 201 || body != want {
		t.Fatalf("create: %d %s", status, body)
	}
	logs := tc.pub.Messages(true)
	if len(logs) != 1 || logs[0].Topic != "pioreactor/leader/exp1/logs/app/info" ||
		!strings.Contains(logs[0].Payload, `"message":"New experiment created: exp1"`) {
		t.Fatalf("create log %+v", logs)
	}
	tc.clock.Advance(3*time.Hour + 59*time.Minute)
	if _, err := tc.store.Assign("pio02", "exp1", t0); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/api/experiments/latest": `{"experiment":"exp1","created_at":"2026-03-01T12:00:00.000Z","description":"","delta_hours":3,"worker_count":1,"tags":["seed","project-x"]}`,
		"/api/experiments":        `[{"experiment":"exp1","created_at":"2026-03-01T12:00:00.000Z","description":"","delta_hours":3,"worker_count":1,"tags":["seed","project-x"]}]`,
		"/api/experiments/exp1":   `{"experiment":"exp1","created_at":"2026-03-01T12:00:00.000Z","description":"","delta_hours":3,"worker_count":1,"tags":["seed","project-x"]}`,
	} {
		if status, body := call(t, tc.leader.URL, "GET", path, nil); status != 200 || body != want {
			t.Errorf("%s: %d %s", path, status, body)
		}
	}
	if status, body := call(t, tc.leader.URL, "GET", "/api/experiments/nope", nil); status != 404 {
		t.Errorf("unknown experiment: %d %s", status, body)
	}
}

func TestWorkers(t *testing.T) {
	t.Parallel()
	tc := newCluster(t, "pio01")
	for _, name := range []string{"203.0.113.10", "localhost", "unit1.local", "$broadcast", ""} {
		status, body := call(t, tc.leader.URL, "PUT", "/api/workers", map[string]string{"pioreactor_unit": name})
		if status != 400 {
			t.Errorf("register %q: %d %s", name, status, body)
		}
	}
	status, body := call(t, tc.leader.URL, "PUT", "/api/workers", `{"pioreactor_unit":"pio02"}`)
	if status != 201 || body != `{"status":"success"}` {
		t.Fatalf("register: %d %s", status, body)
	}
	for path, want := range map[string]string{
		"/api/workers": `[{"pioreactor_unit":"pio01","added_at":"2026-03-01T12:00:00.000Z","is_active":1,"model_name":"pioreactor_20ml","model_version":"1.5","ipv4_address":null},` +
			`{"pioreactor_unit":"pio02","added_at":"2026-03-01T12:00:00.000Z","is_active":1,"model_name":null,"model_version":null,"ipv4_address":null}]`,
		"/api/workers/pio01":       `{"pioreactor_unit":"pio01","added_at":"2026-03-01T12:00:00.000Z","is_active":1,"model_name":"pioreactor_20ml","model_version":"1.5"}`,
		"/api/units":               `[{"pioreactor_unit":"leader"},{"pioreactor_unit":"pio01"},{"pioreactor_unit":"pio02"}]`,
		"/api/workers/assignments": `[{"pioreactor_unit":"pio01","experiment":null,"is_active":1},{"pioreactor_unit":"pio02","experiment":null,"is_active":1}]`,
	} {
		if status, body := call(t, tc.leader.URL, "GET", path, nil); status != 200 || body != want {
			t.Errorf("%s: %d %s\nwant %s", path, status, body, want)
		}
	}
}

func TestAssignment(t *testing.T) {
	t.Parallel()
	tc := newCluster(t, "pio01", "pio02")
	tc.experiment(t, "exp1", "pio02")
	tc.experiment(t, "exp2")

	status, body := call(t, tc.leader.URL, "PUT", "/api/experiments/exp2/workers", `{"pioreactor_unit":"pio02"}`)
	if status != 200 || body != `{"status":"success"}` {
		t.Fatalf("assign: %d %s", status, body)
	}
	want := []published{{Topic: "pioreactor/pio02/$experiment/assignment", QoS: 1, Retain: true,
		Payload: `{"pioreactor_unit":"pio02","experiment":"exp2","assigned_at":"2026-03-01T12:00:00.000Z","updated_at":"2026-03-01T12:00:00.000Z"}`}}
	if got := tc.pub.Messages(false); !reflect.DeepEqual(got, want) {
		t.Fatalf("published %+v", got)
	}
	// The worker left exp1: its exp1 jobs are stopped, and nobody else is bothered.
	eventually(t, func() bool { return len(tc.workers["pio02"].Stops()) == 1 })
	if got := tc.workers["pio02"].Stops()[0]; !reflect.DeepEqual(got, contract.StopFilter{Experiment: "exp1"}) {
		t.Fatalf("stop filter %+v", got)
	}
	if n := len(tc.workers["pio01"].Stops()); n != 0 {
		t.Fatalf("pio01 got %d stops", n)
	}
	if logs := tc.pub.Messages(true); !strings.Contains(logs[len(logs)-1].Payload, "Assigned pioreactor pio02 to experiment exp2.") {
		t.Fatalf("no assignment log: %+v", logs)
	}
	status, body = call(t, tc.leader.URL, "GET", "/api/experiments/exp2/workers", nil)
	if status != 200 || body != `[{"pioreactor_unit":"pio02","is_active":1,"model_name":"pioreactor_20ml","model_version":"1.5"}]` {
		t.Fatalf("exp2 workers: %d %s", status, body)
	}

	for _, c := range []struct{ method, path, body, msg string }{
		{"PUT", "/api/experiments/exp2/workers", `{"pioreactor_unit":"ghost"}`, "Unknown Pioreactor worker: ghost"},
		{"PUT", "/api/experiments/nope/workers", `{"pioreactor_unit":"pio01"}`, "Experiment not found"},
		{"DELETE", "/api/experiments/exp2/workers/ghost", ``, "Unknown Pioreactor worker: ghost"},
		{"DELETE", "/api/experiments/exp1/workers/pio02", ``, "Worker not assigned to experiment"},
	} {
		if _, body := call(t, tc.leader.URL, c.method, c.path, c.body); decode(t, body)["error"] != c.msg {
			t.Errorf("%s %s: %s", c.method, c.path, body)
		}
	}

	tc.clock.Advance(time.Minute)
	status, body = call(t, tc.leader.URL, "DELETE", "/api/experiments/exp2/workers/pio02", nil)
	if status != 200 || body != `{"status":"success"}` {
		t.Fatalf("unassign: %d %s", status, body)
	}
	got := tc.pub.Messages(false)
	wantLast := published{Topic: "pioreactor/pio02/$experiment/assignment", QoS: 1, Retain: true,
		Payload: `{"pioreactor_unit":"pio02","experiment":null,"assigned_at":null,"updated_at":"2026-03-01T12:01:00.000Z"}`}
	if len(got) != 2 || got[1] != wantLast {
		t.Fatalf("published %+v", got)
	}
	eventually(t, func() bool { return len(tc.workers["pio02"].Stops()) == 2 })
	if got := tc.workers["pio02"].Stops()[1]; !reflect.DeepEqual(got, contract.StopFilter{Experiment: "exp2"}) {
		t.Fatalf("stop filter %+v", got)
	}
	if as, _ := tc.store.Assignments(); len(as) != 0 {
		t.Fatalf("assignments left: %+v", as)
	}
}

// eventually waits for a fire-and-forget effect.
func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition never became true")
		}
		time.Sleep(2 * time.Millisecond)
	}
}
