package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/pubsub"
)

// fakeDaemon answers scripted routes and records what it was sent.
type fakeDaemon struct {
	srv   *httptest.Server
	mu    sync.Mutex
	calls []string
}

func newFakeDaemon(t *testing.T, routes map[string]string) *fakeDaemon {
	t.Helper()
	d := &fakeDaemon{}
	d.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		key := r.Method + " " + r.URL.Path
		d.mu.Lock()
		d.calls = append(d.calls, strings.TrimSpace(key+" "+string(b)))
		d.mu.Unlock()
		ans, ok := routes[key]
		if !ok {
			w.WriteHeader(404)
			_, _ = io.WriteString(w, `{"error":"Not found.","status":404,"cause":"no route"}`)
			return
		}
		status, body, _ := strings.Cut(ans, " ")
		code := 200
		switch status {
		case "201":
			code = 201
		case "202":
			code = 202
		case "400":
			code = 400
		case "404":
			code = 404
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(d.srv.Close)
	return d
}

func (d *fakeDaemon) Calls() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.calls...)
}

// runCLI runs one command line against base and returns exit code, stdout and stderr.
func runCLI(t *testing.T, argv0, base, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := map[string]string{"PIO_URL": base, "DOT_PIOREACTOR": t.TempDir(), "PIO_BROKER": "127.0.0.1:1"}
	code := run(context.Background(), append([]string{argv0}, args...), func(k string) string { return env[k] },
		strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	d := newFakeDaemon(t, map[string]string{
		"GET /unit_api/health":                        `200 {"status":"ok","pioreactor_unit":"pio01"}`,
		"POST /unit_api/jobs/run/job_name/stirring":   `202 {"unit":"pio01","task_id":"t1","result_url_path":"/unit_api/task_results/t1","status":"accepted"}`,
		"GET /unit_api/task_results/t1":               `200 {"task_id":"t1","status":"succeeded","result":{"ok":true}}`,
		"POST /unit_api/jobs/run/job_name/od_reading": `202 {"unit":"pio01","task_id":"t2","result_url_path":"/unit_api/task_results/t2","status":"accepted"}`,
		"GET /unit_api/task_results/t2":               `200 {"task_id":"t2","status":"failed","error":"job already running"}`,
		"GET /unit_api/jobs/running":                  `200 [{"job_id":3,"job_name":"stirring","experiment":"e","job_source":"user","started_at":"2026-03-01T12:00:00.000Z","is_long_running_job":0,"ended_at":null},{"job_id":1,"job_name":"monitor","experiment":"$experiment","is_long_running_job":1,"started_at":"2026-03-01T11:00:00.000Z","ended_at":null}]`,
		"GET /unit_api/jobs":                          `200 []`,
		"POST /unit_api/jobs/stop/all":                `202 {"unit":"pio01","task_id":"t1","result_url_path":"/unit_api/task_results/t1","status":"accepted"}`,
		"POST /api/workers/pio01/blink":               `400 {"error":"Nope","status":400,"cause":"because","remediation":"try later"}`,
		"POST /api/experiments":                       `400 {"error":"Experiment name cannot be 'current'","status":400}`,
		"DELETE /api/experiments/exp9":                `404 {"error":"Experiment not found","status":404}`,
	})
	for _, c := range []struct {
		argv0 string
		args  []string
		stdin string
		code  int
		out   string // on stdout or stderr
	}{
		{"pio", nil, "", 0, "Usage: pio [OPTIONS] COMMAND"},
		{"/usr/bin/pios", nil, "", 0, "Usage: pios [OPTIONS] COMMAND"},
		{"pio", []string{"--version"}, "", 0, version},
		{"pio", []string{"frobnicate"}, "", 2, "Error: No such command 'frobnicate'."},
		{"pio", []string{"--nope"}, "", 2, "Error: No such option: -nope"},
		{"pio", []string{"run"}, "", 0, "Usage: pio run"},
		{"pio", []string{"run", "no_command"}, "", 2, "No such command 'no_command'."},
		{"pio", []string{"run", "stirring", "--target-rpm", "300"}, "", 0, "Started stirring on pio01."},
		{"pio", []string{"run", "od_reading"}, "", 1, "Error: job already running"},
		{"pio", []string{"run", "--config-override", "a", "b"}, "", 2, "requires 3 arguments"},
		{"pio", []string{"jobs"}, "", 2, "Usage: pio jobs COMMAND"},
		{"pio", []string{"jobs", "running"}, "", 2, "No such command 'running'."},
		{"pio", []string{"jobs", "list"}, "", 0, "No jobs recorded."},
		{"pio", []string{"jobs", "list", "running"}, "", 0, "[job_id=3] stirring experiment=e, source=user, started_at=2026-03-01T12:00:00, ended_at=still running"},
		{"pio", []string{"jobs", "set", "stirring", "target-rpm"}, "", 2, "Missing argument 'VALUE'."},
		{"pio", []string{"jobs", "info"}, "", 0, "Provide --job-id or --job-name."},
		{"pio", []string{"kill"}, "", 1, "Aborted!"},
		{"pio", []string{"kill", "--all-jobs"}, "", 0, "Killed 1 job."},
		{"pio", []string{"kill", "--job-id", "x"}, "", 2, "not a valid integer"},
		{"pio", []string{"blink"}, "", 1, "Error: Unable to blink this Pioreactor. HTTP 400: Nope Cause: because Remediation: try later"},
		{"pio", []string{"log", "-m", "x", "-l", "loud"}, "", 2, "is not one of"},
		{"pio", []string{"log", "-m", "hi", "--local-only"}, "", 0, "[CLI] DEBUG hi"},
		{"pio", []string{"jobs", "set", "stirring", "target_rpm", "1"}, "", 1, "Error:"}, // no leader experiment, no broker
		{"pio", []string{"experiments", "create", "current"}, "", 1, "Invalid experiment name. HTTP 400: Experiment name cannot be 'current'"},
		{"pio", []string{"experiments", "delete", "exp9"}, "n\n", 1, "Aborted!"},
		{"pio", []string{"experiments", "delete", "exp9", "-y"}, "", 1, "Experiment 'exp9' not found (404)"},
		{"pio", []string{"config", "get", "a", "b", "--shared", "--specific"}, "", 2, "not both"},
		{"pio", []string{"config", "set", "a", "b", "c"}, "", 2, "exactly one of --shared or --specific"},
		{"pio", []string{"config", "show", "--key", "k"}, "", 2, "--key needs --section"},
		{"pios", []string{"run", "stirring", "--units", "a", "--experiments", "e", "-y"}, "", 2, "Use either --units or --experiments, not both."},
		{"pios", []string{"run", "stirring", "unit", "-y"}, "", 1, "Did you mean to use 'units' instead of 'unit'? Exiting."},
		{"pios", []string{"jobs"}, "", 2, "Usage: pios jobs"},
		{"pios", []string{"frob"}, "", 2, "No such command 'frob'."},
	} {
		code, out, errOut := runCLI(t, c.argv0, d.srv.URL, c.stdin, c.args...)
		if code != c.code || !strings.Contains(out+errOut, c.out) {
			t.Errorf("%s %v: exit %d\nstdout %q\nstderr %q\nwant exit %d with %q", c.argv0, c.args, code, out, errOut, c.code, c.out)
		}
	}
	run := `POST /unit_api/jobs/run/job_name/stirring {"args":[],"options":{"target_rpm":"300"},"env":{"JOB_SOURCE":"user"},"config_overrides":[]}`
	found := false
	for _, c := range d.Calls() {
		found = found || c == run
	}
	if !found {
		t.Errorf("run request not as spec; calls %q", d.Calls())
	}
}

func TestPassThrough(t *testing.T) {
	t.Parallel()
	args, opts := passThrough([]string{"pos", "--target-rpm", "500", "--skip-first-run", "--automation-name=turbidostat", "--x", "-5"})
	if !reflect.DeepEqual(args, []string{"pos"}) ||
		!reflect.DeepEqual(opts, map[string]any{"target_rpm": "500", "skip_first_run": true, "automation_name": "turbidostat", "x": "-5"}) {
		t.Errorf("got %v %v", args, opts)
	}
	over, rest, err := configOverrides([]string{"--config-override", "stirring.config", "pwm_hz", "100", "stirring"})
	if err != nil || !reflect.DeepEqual(over, [][3]string{{"stirring.config", "pwm_hz", "100"}}) || !reflect.DeepEqual(rest, []string{"stirring"}) {
		t.Errorf("overrides %v %v %v", over, rest, err)
	}
}

func TestSetINIKey(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, section, key, value, want string }{
		{"[a]\nx = 1\ny=2\n", "a", "x", "5", "[a]\nx = 5\ny=2\n"},
		{"[a]\n  x: 1\n", "a", "x", "5", "[a]\n  x: 5\n"},
		{"[a]\r\nx=1\r\n", "a", "x", "2", "[a]\r\nx=2\r\n"},
		{"[a]\nx=1\n\n[b]\ny=2\n", "a", "z", "3", "[a]\nx=1\nz=3\n\n[b]\ny=2\n"},
		{"[a]\n# x=1\n", "a", "x", "3", "[a]\nx=3\n# x=1\n"},
		{"[a]\nx=1\n", "b", "y", "2", "[a]\nx=1\n\n[b]\ny=2\n"},
		{"", "b", "y", "2", "[b]\ny=2\n"},
	} {
		if got := setINIKey(c.in, c.section, c.key, c.value); got != c.want {
			t.Errorf("set %s.%s=%s in %q: %q, want %q", c.section, c.key, c.value, c.in, got, c.want)
		}
	}
}

func TestMQTTLine(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	m := pubsub.Message{Topic: "pioreactor/pio01/exp/stirring/$state", Payload: []byte("ready")}
	if got := mqttLine(at, m, false); got != "2026-03-01T12:00:00.000 | pioreactor/pio01/exp/stirring/$state | ready" {
		t.Errorf("plain: %q", got)
	}
	if got := mqttLine(at, m, true); !strings.Contains(got, green+"ready"+reset) || !strings.Contains(got, cyan) {
		t.Errorf("colour: %q", got)
	}
	if got := tuple([]string{"a"}); got != "('a',)" {
		t.Errorf("tuple: %s", got)
	}
	if got := tuple([]string{"a", "b"}); got != "('a', 'b')" {
		t.Errorf("tuple: %s", got)
	}
}
