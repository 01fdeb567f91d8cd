package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/internal/logtest"
)

// syncBuffer collects a daemon's output while it runs.
type syncBuffer = logtest.Buffer

// simCluster is an in-process `pioreactord --sim` on free loopback ports.
type simCluster struct {
	http, mqtt string
	stop       context.CancelFunc
	done       chan error
	out        *syncBuffer
}

var (
	apiLine  = regexp.MustCompile(`HTTP API\s+http://(\S+)`)
	mqttLine = regexp.MustCompile(`MQTT\s+(\S+)`)
)

func startCluster(t testing.TB, extra ...string) *simCluster {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := &simCluster{stop: cancel, done: make(chan error, 1), out: &syncBuffer{}}
	args := append([]string{"--sim", "--data-dir", t.TempDir(), "--http", "127.0.0.1:0", "--mqtt", "127.0.0.1:0", "--ws", "127.0.0.1:0", "--unit", "leader"}, extra...)
	go func() { c.done <- run(ctx, args, c.out, c.out) }()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		out := c.out.String()
		if m, n := apiLine.FindStringSubmatch(out), mqttLine.FindStringSubmatch(out); m != nil && n != nil {
			c.http, c.mqtt = m[1], n[1]
			t.Cleanup(func() { c.shutdown(t) })
			return c
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	t.Fatalf("daemon did not print its addresses:\n%s", c.out.String())
	return nil
}

// shutdown is a SIGTERM: every job stops and run returns nil within 5 s.
func (c *simCluster) shutdown(t testing.TB) {
	if c.stop == nil {
		return
	}
	c.stop()
	c.stop = nil
	select {
	case err := <-c.done:
		if err != nil {
			t.Errorf("run returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("daemon did not stop within 5 s")
	}
}

func (c *simCluster) call(t *testing.T, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+c.http+path, strings.NewReader(body))
	req.Header.Set("content-type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

// mqttTool runs a Debian mosquitto client against the cluster's broker.
func (c *simCluster) mqttTool(t *testing.T, tool string, args ...string) (string, error) {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not installed (make test installs mosquitto-clients)", tool)
		}
		t.Skipf("%s not installed", tool)
	}
	host, port := splitHostPort(c.mqtt)
	all := append([]string{"-h", host, "-p", port}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, all...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// retained reads a retained value (empty if none) with mosquitto_sub, as a user would.
func (c *simCluster) retained(t *testing.T, topic string) string {
	t.Helper()
	out, _ := c.mqttTool(t, "mosquitto_sub", "-u", "pioreactor", "-P", "raspberry", "-t", topic, "-C", "1", "-W", "1")
	if strings.Contains(out, "Timed out") {
		return ""
	}
	return out
}

func (c *simCluster) waitRetained(t *testing.T, topic, want string) {
	t.Helper()
	var got string
	for i := 0; i < 50; i++ {
		if got = c.retained(t, topic); got == want {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s = %q, want %q", topic, got, want)
}

func (c *simCluster) publish(t *testing.T, topic, payload string) {
	t.Helper()
	if out, err := c.mqttTool(t, "mosquitto_pub", "-u", "pioreactor", "-P", "raspberry", "-q", "1", "-t", topic, "-m", payload); err != nil {
		t.Fatalf("mosquitto_pub: %v %s", err, out)
	}
}

// The foundation issue's walk-through, with external clients.
func TestSimClusterEndToEnd(t *testing.T) {
	c := startCluster(t)
	code, _ := c.call(t, http.MethodGet, "/api/workers", "")
	if code != http.StatusOK {
		t.Fatalf("GET /api/workers: %d", code)
	}
	const topic = "pioreactor/pio01/demo/stirring"
	code, body := c.call(t, http.MethodPatch, "/api/workers/pio01/jobs/run/job_name/stirring/experiments/demo", `{"options":{"target_rpm":400}}`)
	if code != http.StatusAccepted || body["task_id"] == nil {
		t.Fatalf("run: %d %v", code, body)
	}
	c.waitRetained(t, topic+"/$state", "ready")
	c.waitRetained(t, topic+"/target_rpm", "400.0")

	if out, err := c.mqttTool(t, "mosquitto_sub", "-t", topic+"/$state", "-C", "1", "-W", "1"); err == nil {
		t.Fatalf("anonymous client accepted: %s", out)
	}
	c.publish(t, topic+"/target_rpm/set", "600")
	c.waitRetained(t, topic+"/target_rpm", "600.0")
	c.publish(t, topic+"/target_rpm/set", "abc")
	c.publish(t, topic+"/$state/set", "sleeping")
	c.waitRetained(t, topic+"/$state", "sleeping")
	// The job applies its commands in order: once it sleeps, "abc" was handled (refused).
	if got := c.retained(t, topic+"/target_rpm"); got != "600.0" {
		t.Fatalf("target_rpm = %q after the malformed /set abc, want it to stay 600.0", got)
	}
	c.publish(t, topic+"/$state/set", "ready")
	c.waitRetained(t, topic+"/$state", "ready")

	code, body = c.call(t, http.MethodGet, "/api/workers/pio01/jobs/running", "")
	if code != http.StatusAccepted {
		t.Fatalf("running: %d %v", code, body)
	}
	result := pollTask(t, c, body["result_url_path"].(string))
	if !strings.Contains(fmt.Sprint(result), "stirring") {
		t.Fatalf("running jobs of pio01 lack stirring: %v", result)
	}

	c.call(t, http.MethodPatch, "/api/workers/pio01/jobs/stop/job_name/stirring/experiments/demo", "")
	c.waitRetained(t, topic+"/$state", "disconnected")
	c.waitRetained(t, topic+"/target_rpm", "") // cleared right after `disconnected`

	for _, tc := range []struct {
		method, path, body string
		want               int
	}{
		{http.MethodPatch, "/api/workers/nope/jobs/run/job_name/stirring/experiments/demo", `{}`, http.StatusBadRequest},
		{http.MethodPatch, "/api/workers/pio01/jobs/run/job_name/stirring/experiments/demo", `{"options":`, http.StatusBadRequest},
		{http.MethodPost, "/unit_api/jobs/run/job_name/no_such_job", `{}`, http.StatusNotFound},
	} {
		if code, body := c.call(t, tc.method, tc.path, tc.body); code != tc.want || body["error"] == nil {
			t.Errorf("%s %s: %d %v, want %d with an error envelope", tc.method, tc.path, code, body, tc.want)
		}
	}
}

func pollTask(t *testing.T, c *simCluster, path string) any {
	t.Helper()
	for i := 0; i < 100; i++ {
		code, body := c.call(t, http.MethodGet, path, "")
		if code == http.StatusOK {
			return body["result"]
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("task %s never finished", path)
	return nil
}

// A worker in its own process: kill -9 leaves its running jobs' $state `lost`.
func TestKilledWorkerLeavesLost(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the daemon")
	}
	c := startCluster(t, "--units", "0")
	bin := buildDaemon(t)
	out := &syncBuffer{}
	w := exec.Command(bin, "--sim", "--role", "worker", "--unit", "pio09", "--broker", c.mqtt, "--http", "127.0.0.1:0", "--data-dir", t.TempDir())
	w.Stdout, w.Stderr = out, out
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = w.Process.Kill(); _ = w.Wait() }()
	var base string
	for i := 0; i < 200 && base == ""; i++ {
		if m := apiLine.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		}
		time.Sleep(25 * time.Millisecond)
	}
	if base == "" {
		t.Fatalf("worker did not start:\n%s", out.String())
	}
	resp, err := http.Post("http://"+base+"/unit_api/jobs/run/job_name/stirring", "application/json", strings.NewReader(`{"options":{},"env":{"EXPERIMENT":"demo"}}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	c.waitRetained(t, "pioreactor/pio09/demo/stirring/$state", "ready")
	if err := w.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	c.waitRetained(t, "pioreactor/pio09/demo/stirring/$state", "lost")
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// buildDaemon compiles pioreactord once per test run, for tests that need a process to kill.
func buildDaemon(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pioreactord-e2e")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "pioreactord")
		if out, err := exec.Command("go", "build", "-o", builtBin, ".").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build: %v %s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}
