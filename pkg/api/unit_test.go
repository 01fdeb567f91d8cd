package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/contract"
)

func ptr[T any](v T) *T { return &v }

func TestUnitRoutes(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: t0}
	u := &fakeUnit{name: "pio01",
		running: []contract.JobRow{
			{JobID: 3, Unit: "pio01", Experiment: "demo", JobName: "stirring", IsRunning: 1},
			{JobID: 4, Unit: "pio01", Experiment: "other", JobName: "od_reading", IsRunning: 1},
		},
		history: []contract.JobRow{
			{JobID: 1, Unit: "pio01", Experiment: "demo", JobName: "stirring", JobSource: "user", StartedAt: "2026-03-01T11:00:00.000Z", EndedAt: ptr("2026-03-01T11:30:00.000Z")},
			{JobID: 3, Unit: "pio01", Experiment: "demo", JobName: "stirring", JobSource: "user", StartedAt: "2026-03-01T11:45:00.000Z"},
		},
		settings: map[string]map[string]any{"stirring": {"target_rpm": 400.0, "$state": "ready"}},
	}
	srv := newUnitServer(t, u, clock)
	for _, c := range []struct {
		method, path string
		status       int
		want         string
	}{
		{"GET", "/unit_api/health", 200, `{"status":"ok","pioreactor_unit":"pio01","utc_time":"2026-03-01T12:00:00.000Z"}`},
		{"GET", "/unit_api/versions/app", 200, `{"version":"26.6.0"}`},
		{"GET", "/unit_api/task_results/nope", 202, `{"task_id":"nope","result_url_path":"/unit_api/task_results/nope","status":"pending"}`},
		{"GET", "/unit_api/jobs/running/experiments/demo", 200,
			`[{"job_id":3,"unit":"pio01","experiment":"demo","job_name":"stirring","job_source":"","started_at":"","is_running":1,"leader":"","pid":0,"is_long_running_job":0,"ended_at":null}]`},
		{"GET", "/unit_api/jobs/running/od_reading", 200,
			`[{"job_id":4,"unit":"pio01","experiment":"other","job_name":"od_reading","job_source":"","started_at":"","is_running":1,"leader":"","pid":0,"is_long_running_job":0,"ended_at":null}]`},
		{"GET", "/unit_api/jobs/running/nothing", 200, `[]`},
		{"GET", "/unit_api/jobs", 200,
			`[{"job_id":3,"job_name":"stirring","experiment":"demo","job_source":"user","unit":"pio01","started_at":"2026-03-01T11:45:00.000Z","ended_at":null},{"job_id":1,"job_name":"stirring","experiment":"demo","job_source":"user","unit":"pio01","started_at":"2026-03-01T11:00:00.000Z","ended_at":"2026-03-01T11:30:00.000Z"}]`},
		{"GET", "/unit_api/jobs/settings/job_name/stirring", 200, `{"settings":{"$state":"ready","target_rpm":400}}`},
		{"GET", "/unit_api/jobs/settings/job_name/stirring/setting/target_rpm", 200, `{"target_rpm":400}`},
		{"GET", "/unit_api/jobs/settings/job_name/od_reading", 404,
			`{"error":"No settings found for job.","status":404,"cause":"od_reading is not running on pio01."}`},
		{"GET", "/unit_api/jobs/settings/job_name/stirring/setting/nope", 404,
			`{"error":"Setting not found.","status":404,"cause":"stirring has no setting nope on pio01, or is not running."}`},
		{"PATCH", "/unit_api/jobs/stop", 400,
			`{"error":"No job filter specified","status":400,"cause":"The body has none of job_name, experiment, job_source, job_id.","remediation":"Send at least one filter, or use /unit_api/jobs/stop/all."}`},
	} {
		t.Run(c.method+c.path, func(t *testing.T) {
			t.Parallel()
			status, body := call(t, srv.URL, c.method, c.path, nil)
			if status != c.status || body != c.want {
				t.Errorf("got %d %s\nwant %d %s", status, body, c.status, c.want)
			}
		})
	}
}

func TestUnitStop(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, path, body string
		stopErr          error
		want             contract.StopFilter
		result           string
	}{
		{"filters", "/unit_api/jobs/stop", `{"job_name":"stirring","experiment":"demo","job_id":7}`, nil,
			contract.StopFilter{JobName: "stirring", Experiment: "demo", JobID: ptr(int64(7))}, "true"},
		{"source", "/unit_api/jobs/stop", `{"job_source":"user"}`, nil, contract.StopFilter{JobSource: "user"}, "true"},
		{"all", "/unit_api/jobs/stop/all", ``, nil, contract.StopFilter{All: true}, "true"},
		{"failure is false", "/unit_api/jobs/stop/all", ``, errors.New("stuck"), contract.StopFilter{All: true}, "false"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			u := &fakeUnit{name: "pio01", stopErr: c.stopErr}
			srv := newUnitServer(t, u, &fakeClock{t: t0})
			status, body := call(t, srv.URL, "POST", c.path, c.body)
			if got := resultJSON(t, await(t, srv.URL, status, body)); got != c.result {
				t.Errorf("result %s, want %s", got, c.result)
			}
			if got := u.Stops(); len(got) != 1 || !reflect.DeepEqual(got[0], c.want) {
				t.Errorf("stops %+v, want %+v", got, c.want)
			}
		})
	}
	t.Run("unknown filter field", func(t *testing.T) {
		t.Parallel()
		srv := newUnitServer(t, &fakeUnit{name: "pio01"}, &fakeClock{t: t0})
		status, body := call(t, srv.URL, "PATCH", "/unit_api/jobs/stop", `{"job":"stirring"}`)
		if v := decode(t, body); status != 400 || v["cause"] != "Object contains unknown field `job` - at `$`" {
			t.Errorf("got %d %s", status, body)
		}
	})
}

func TestUnitRun(t *testing.T) {
	t.Parallel()
	t.Run("env filtered, task ok", func(t *testing.T) {
		t.Parallel()
		u := &fakeUnit{name: "pio01"}
		srv := newUnitServer(t, u, &fakeClock{t: t0})
		status, body := call(t, srv.URL, "POST", "/unit_api/jobs/run/job_name/stirring",
			`{"options":{"target_rpm":400,"dry_run":null},"env":{"EXPERIMENT":"demo","JOB_SOURCE":"user","PATH":"/evil","DEBUG":"None","HARDWARE":"","MODEL_NAME":null}}`)
		if got := resultJSON(t, await(t, srv.URL, status, body)); got != `{"ok":true}` {
			t.Fatalf("result %s", got)
		}
		want := runCall{"stirring", contract.RunRequest{Args: []string{}, ConfigOverrides: [][3]string{},
			Options: map[string]any{"target_rpm": 400.0, "dry_run": nil},
			Env:     map[string]string{"EXPERIMENT": "demo", "JOB_SOURCE": "user"}}}
		if got := u.Runs(); len(got) != 1 || !reflect.DeepEqual(got[0], want) {
			t.Fatalf("runs %+v\nwant %+v", got, want)
		}
	})
	t.Run("run error fails the task", func(t *testing.T) {
		t.Parallel()
		u := &fakeUnit{name: "pio01", runErr: fmt.Errorf("start stirring: %w", ErrAlreadyRunning)}
		srv := newUnitServer(t, u, &fakeClock{t: t0})
		status, body := call(t, srv.URL, "PATCH", "/unit_api/jobs/run/job_name/stirring", nil)
		v := await(t, srv.URL, status, body)
		if v["status"] != "failed" || v["error"] != "start stirring: job already running" || v["cause"] != v["error"] {
			t.Fatalf("got %v", v)
		}
	})
	t.Run("unknown job refused upfront", func(t *testing.T) {
		t.Parallel()
		u := &fakeUnit{name: "pio01", jobs: []string{"stirring"}}
		srv := newUnitServer(t, listingUnit{u}, &fakeClock{t: t0})
		status, body := call(t, srv.URL, "PATCH", "/unit_api/jobs/run/job_name/stirrng", nil)
		want := `{"error":"Unknown job: stirrng","status":404,"cause":"No job named \"stirrng\" is installed on pio01.","remediation":"Check the job name."}`
		if status != 404 || body != want || len(u.Runs()) != 0 {
			t.Fatalf("got %d %s", status, body)
		}
	})
}

func TestRunDebounce(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: t0}
	u := &fakeUnit{name: "pio01"}
	srv := newUnitServer(t, u, clock)
	run := func(job string) int {
		status, _ := call(t, srv.URL, "POST", "/unit_api/jobs/run/job_name/"+job, `{}`)
		return status
	}
	if s := run("stirring"); s != 202 {
		t.Fatalf("first run %d", s)
	}
	clock.Advance(999 * time.Millisecond)
	status, body := call(t, srv.URL, "POST", "/unit_api/jobs/run/job_name/stirring", `{}`)
	if v := decode(t, body); status != 429 || v["error"] != "Too many requests, please try again later." || v["status"] != 429.0 {
		t.Fatalf("second run %d %s", status, body)
	}
	if s := run("od_reading"); s != 202 {
		t.Fatalf("another job is not debounced: %d", s)
	}
	clock.Advance(time.Millisecond)
	if s := run("stirring"); s != 202 {
		t.Fatalf("run after 1 s: %d", s)
	}
}

func TestRunServesOnPortZero(t *testing.T) {
	t.Parallel()
	var logs strings.Builder
	s, err := New(Config{Unit: &fakeUnit{name: "pio01"}, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, ln) }()
	port := ln.Addr().(*net.TCPAddr).Port
	status, body := call(t, fmt.Sprintf("http://127.0.0.1:%d", port), "GET", "/unit_api/health", nil)
	if status != http.StatusOK || !strings.Contains(body, `"pioreactor_unit":"pio01"`) {
		t.Fatalf("health %d %s", status, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run returned %v", err)
	}
	if !strings.Contains(logs.String(), fmt.Sprintf("port=%d", port)) {
		t.Fatalf("port not logged: %s", logs.String())
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	if _, err := New(Config{}); err == nil {
		t.Error("no Unit accepted")
	}
	if _, err := New(Config{Unit: &fakeUnit{}, Leader: &Leader{}}); err == nil {
		t.Error("leader without store accepted")
	}
}
