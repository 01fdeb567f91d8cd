package clustertest

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pioreactor/pioreactord/pkg/config"
)

// apiKey is the cluster's [ui_basic_auth] api_key: every call must carry it.
const apiKey = "cGlvcmVhY3RvcjpzZWNyZXQ="

// clusterConfig is the shipped template with the test cluster's topology: every worker on
// 127.0.0.1 with its own port (the `host:port` form of [cluster.addresses], docs/api.md).
func clusterConfig(mqttPort int, workers map[string]int, extraMQTT string) string {
	text := string(config.Template())
	var addrs strings.Builder
	for _, w := range []string{"pio01", "pio02"} {
		if p, ok := workers[w]; ok {
			fmt.Fprintf(&addrs, "%s=127.0.0.1:%d\n", w, p)
		}
	}
	for old, repl := range map[string]string{
		"leader_hostname=\n":    "leader_hostname=leader\n",
		"leader_address=\n":     "leader_address=127.0.0.1\n",
		"[cluster.addresses]\n": "[cluster.addresses]\n" + addrs.String(),
		"broker_address=\n":     "broker_address=127.0.0.1\n",
		"broker_port=1883\n":    "broker_port=" + strconv.Itoa(mqttPort) + "\n" + extraMQTT,
	} {
		if !strings.Contains(text, old) {
			panic("template changed: no " + old)
		}
		text = strings.Replace(text, old, repl, 1)
	}
	return text + "\n[ui_basic_auth]\napi_key=" + apiKey + "\n"
}

// testCluster is a leader process and two worker processes.
type testCluster struct {
	dir     string
	leader  *proc
	workers map[string]*proc
	api     client
	mqtt    string
}

// startCluster starts the leader (--role leader --units 0) and pio01, pio02 as separate
// processes, each with its own config.ini (the same text), data dir and port.
func startCluster(t *testing.T, extraMQTT string, brokerPort int) *testCluster {
	t.Helper()
	c := &testCluster{dir: t.TempDir(), workers: map[string]*proc{}}
	ports := map[string]int{"pio01": freePort(t), "pio02": freePort(t)}
	mq := brokerPort
	if mq == 0 {
		mq = freePort(t)
	}
	text := clusterConfig(mq, ports, extraMQTT)
	conf := writeConfig(t, filepath.Join(c.dir, "leader"), text)
	args := []string{"--sim", "--role", "leader", "--units", "0", "--unit", "leader", "--config", conf,
		"--data-dir", filepath.Join(c.dir, "leader", "data"), "--http", "127.0.0.1:0"}
	if brokerPort == 0 {
		args = append(args, "--mqtt", fmt.Sprintf("127.0.0.1:%d", mq), "--ws", "127.0.0.1:0")
	}
	c.leader = start(t, "leader", args...)
	c.api = client{base: "http://" + c.leader.await(t, httpLine), key: apiKey}
	c.mqtt = fmt.Sprintf("127.0.0.1:%d", mq)
	for _, w := range []string{"pio01", "pio02"} {
		wconf := writeConfig(t, filepath.Join(c.dir, w), text)
		c.workers[w] = start(t, w, "--sim", "--role", "worker", "--unit", w, "--config", wconf,
			"--broker", c.mqtt, "--data-dir", filepath.Join(c.dir, w, "data"), "--http", fmt.Sprintf("127.0.0.1:%d", ports[w]))
		c.workers[w].await(t, httpLine)
	}
	return c
}

func (c *testCluster) file(t *testing.T, unit, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(c.dir, unit, name))
	if err != nil {
		return ""
	}
	return string(b)
}

// result returns one unit's entry of a fan-out result.
func result(t *testing.T, res map[string]any, unit string) map[string]any {
	t.Helper()
	r, ok := res[unit].(map[string]any)
	if !ok {
		t.Fatalf("no result for %s in %v", unit, res)
	}
	return r
}

// runningJobs is the job names a fan-out result lists for unit.
func runningJobs(t *testing.T, res map[string]any, unit string) []string {
	t.Helper()
	r := result(t, res, unit)
	if r["ok"] != true {
		t.Fatalf("running jobs of %s failed: %v", unit, r)
	}
	var names []string
	for _, row := range r["value"].([]any) {
		names = append(names, row.(map[string]any)["job_name"].(string))
	}
	return names
}

// TestCluster drives a leader and two workers through the leader's REST API only, then the
// pio/pios binaries against the same cluster, and ends by killing a worker mid-run.
func TestCluster(t *testing.T) {
	t.Parallel()
	c := startCluster(t, "", 0)
	api := c.api
	bus := watch(t, c.mqtt, "pioreactor", "raspberry", "pioreactor/+/exp1/#")

	t.Run("credentials", func(t *testing.T) {
		anon := client{base: api.base}
		for _, path := range []string{"/api/workers", "/unit_api/health"} {
			if status, v := anon.do(t, http.MethodGet, path, nil); status != http.StatusUnauthorized || v.(map[string]any)["status"] != 401.0 {
				t.Errorf("GET %s without the key: %d %v", path, status, v)
			}
		}
		wrong := client{base: api.base, key: "bm9wZQ=="}
		if status, _ := wrong.do(t, http.MethodGet, "/api/workers", nil); status != http.StatusUnauthorized {
			t.Errorf("wrong key: %d", status)
		}
	})

	t.Run("inventory", func(t *testing.T) {
		api.must(t, http.StatusOK, http.MethodGet, "/api/workers", nil)
		for _, w := range []string{"pio01", "pio02"} {
			api.must(t, http.StatusCreated, http.MethodPut, "/api/workers",
				map[string]any{"pioreactor_unit": w, "model_name": "pioreactor_40ml", "model_version": "1.5"})
		}
		api.must(t, http.StatusCreated, http.MethodPost, "/api/experiments", map[string]any{"experiment": "exp1"})
		for _, w := range []string{"pio01", "pio02"} {
			api.must(t, http.StatusOK, http.MethodPut, "/api/experiments/exp1/workers", map[string]any{"pioreactor_unit": w})
		}
		ws := api.must(t, http.StatusOK, http.MethodGet, "/api/experiments/exp1/workers", nil).([]any)
		if len(ws) != 2 {
			t.Fatalf("exp1 workers: %v", ws)
		}
	})

	t.Run("jobs", func(t *testing.T) {
		res := api.task(t, http.MethodPatch, "/api/workers/$broadcast/jobs/run/job_name/stirring/experiments/exp1",
			map[string]any{"options": map[string]any{"target_rpm": 300}})
		for _, w := range []string{"pio01", "pio02"} {
			if r := result(t, res, w); r["ok"] != true {
				t.Fatalf("start stirring on %s: %v", w, r)
			}
		}
		res = api.task(t, http.MethodPatch, "/api/workers/$broadcast/jobs/run/job_name/od_reading/experiments/exp1", map[string]any{})
		for _, w := range []string{"pio01", "pio02"} {
			if r := result(t, res, w); r["ok"] != true {
				t.Fatalf("start od_reading on %s: %v", w, r)
			}
			bus.wait(t, "pioreactor/"+w+"/exp1/stirring/$state", "ready")
			bus.wait(t, "pioreactor/"+w+"/exp1/od_reading/$state", "ready")
		}

		api.must(t, http.StatusAccepted, http.MethodPatch, "/api/workers/$broadcast/jobs/update/job_name/stirring/experiments/exp1",
			map[string]any{"settings": map[string]any{"target_rpm": 500}})
		for _, w := range []string{"pio01", "pio02"} {
			bus.wait(t, "pioreactor/"+w+"/exp1/stirring/target_rpm", "500.0")
		}
		eventually(t, "target_rpm through the settings fan-out", func() error {
			res := api.task(t, http.MethodGet, "/api/workers/$broadcast/jobs/settings/job_name/stirring/experiments/exp1", nil)
			for _, w := range []string{"pio01", "pio02"} {
				r := result(t, res, w)
				v, _ := r["value"].(map[string]any)
				s, _ := v["settings"].(map[string]any)
				if r["ok"] != true || fmt.Sprint(s["target_rpm"]) != "500" {
					return fmt.Errorf("%s: %v", w, r)
				}
			}
			return nil
		})
		one := api.task(t, http.MethodGet, "/api/workers/pio01/jobs/settings/job_name/stirring/setting/target_rpm/experiments/exp1", nil)
		if v := result(t, one, "pio01")["value"]; fmt.Sprint(v) != "map[target_rpm:500]" {
			t.Errorf("one setting: %v", v)
		}

		for _, state := range []string{"sleeping", "ready"} {
			api.must(t, http.StatusAccepted, http.MethodPatch, "/api/workers/pio01/jobs/update/job_name/stirring/experiments/exp1",
				map[string]any{"settings": map[string]any{"$state": state}})
			bus.wait(t, "pioreactor/pio01/exp1/stirring/$state", state)
		}

		res = api.task(t, http.MethodGet, "/api/workers/$broadcast/jobs/running", nil)
		for _, w := range []string{"pio01", "pio02"} {
			jobs := strings.Join(runningJobs(t, res, w), ",")
			if !strings.Contains(jobs, "stirring") || !strings.Contains(jobs, "od_reading") {
				t.Errorf("%s runs %s", w, jobs)
			}
		}
		if r := result(t, res, "leader"); r["ok"] != true {
			t.Errorf("the leader's own running jobs: %v", r)
		}

		api.must(t, http.StatusAccepted, http.MethodPatch, "/api/workers/pio02/jobs/stop/job_name/od_reading/experiments/exp1", nil)
		bus.wait(t, "pioreactor/pio02/exp1/od_reading/$state", "disconnected")
	})

	t.Run("config", func(t *testing.T) {
		text := c.file(t, "leader", "config.ini")
		edited := strings.Replace(text, "[stirring.config]\n", "[stirring.config]\n# edited through the API\n", 1)
		api.must(t, http.StatusOK, http.MethodPatch, "/api/config/shared", map[string]string{"code": edited})
		for _, unit := range []string{"leader", "pio01", "pio02"} {
			if got := c.file(t, unit, "config.ini"); got != edited {
				t.Errorf("%s's config.ini was not distributed", unit)
			}
		}
		hist := api.must(t, http.StatusOK, http.MethodGet, "/api/config/shared/history", nil).([]any)
		if len(hist) != 1 || hist[0].(map[string]any)["data"] != edited {
			t.Errorf("history: %d entries", len(hist))
		}

		bad := api.must(t, http.StatusBadRequest, http.MethodPatch, "/api/config/shared",
			map[string]string{"code": edited + "\n[stirring.config]\nx=1\n"}).(map[string]any)
		if !strings.Contains(bad["error"].(string), "Duplicate section [stirring.config]") || !strings.Contains(bad["cause"].(string), "line") {
			t.Errorf("duplicate section: %v", bad)
		}
		if c.file(t, "leader", "config.ini") != edited || c.file(t, "pio01", "config.ini") != edited {
			t.Errorf("a refused config was written")
		}

		specific := "[stirring.config]\ninitial_target_rpm=450\n"
		api.must(t, http.StatusOK, http.MethodPatch, "/api/config/units/pio01/specific", map[string]string{"code": specific})
		if got := c.file(t, "pio01", "unit_config.ini"); got != specific {
			t.Errorf("pio01's unit_config.ini = %q", got)
		}
		bad = api.must(t, http.StatusBadRequest, http.MethodPatch, "/api/config/units/pio01/specific",
			map[string]string{"code": "[a]\nk=1\nk=2\n"}).(map[string]any)
		if !strings.Contains(bad["error"].(string), "Duplicate option") {
			t.Errorf("duplicate option: %v", bad)
		}
		if got := c.file(t, "pio01", "unit_config.ini"); got != specific {
			t.Errorf("a refused unit config was written: %q", got)
		}
		_, raw := api.raw(t, http.MethodGet, "/api/config/units/pio01/specific", nil)
		if string(raw) != specific {
			t.Errorf("read back %q", raw)
		}
		merged := api.must(t, http.StatusOK, http.MethodGet, "/api/config/units/$broadcast", nil).(map[string]any)
		configs := merged["configs"].(map[string]any)
		if fmt.Sprint(configs["pio01"].(map[string]any)["stirring.config"].(map[string]any)["initial_target_rpm"]) != "450" || len(configs) != 3 {
			t.Errorf("merged configs: %v", merged["errors"])
		}
		for _, path := range []string{"/api/config/units/..%2F..%2Fetc/specific", "/api/config/units/$broadcast/specific"} {
			api.must(t, http.StatusBadRequest, http.MethodGet, path, nil)
		}
	})

	t.Run("cli", func(t *testing.T) { cliSmoke(t, c) })

	t.Run("dead worker", func(t *testing.T) {
		c.workers["pio02"].kill(t)
		res := api.task(t, http.MethodGet, "/api/workers/$broadcast/jobs/running", nil)
		dead := result(t, res, "pio02")
		failure, _ := dead["error"].(map[string]any)
		if dead["ok"] != false || failure["kind"] != "connection_error" || dead["status_code"] != nil || dead["retryable"] != true {
			t.Errorf("dead worker: %v", dead)
		}
		if jobs := runningJobs(t, res, "pio01"); !strings.Contains(strings.Join(jobs, ","), "stirring") {
			t.Errorf("pio01 runs %v", jobs)
		}
		api.must(t, http.StatusAccepted, http.MethodPatch, "/api/workers/$broadcast/jobs/stop/job_name/stirring/experiments/exp1", nil)
		bus.wait(t, "pioreactor/pio01/exp1/stirring/$state", "disconnected")
		bus.wait(t, "pioreactor/pio02/exp1/stirring/$state", "lost")
	})
}
