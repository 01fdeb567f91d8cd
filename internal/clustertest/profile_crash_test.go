package clustertest

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A profile outlives nothing less than its leader: kill -9 of the leader mid-run, a restart on
// the same data directory, and the run is reported interrupted (in recent and in the
// experiment's log), is not resumed, and no action of it ran twice.
func TestProfileSurvivesNoLeaderCrash(t *testing.T) {
	t.Parallel()
	c := startCluster(t, "", 0)
	api := c.api
	for _, w := range []string{"pio01", "pio02"} {
		api.must(t, http.StatusCreated, http.MethodPut, "/api/workers",
			map[string]any{"pioreactor_unit": w, "model_name": "pioreactor_40ml", "model_version": "1.5"})
	}
	api.must(t, http.StatusCreated, http.MethodPost, "/api/experiments", map[string]any{"experiment": "crash"})
	for _, w := range []string{"pio01", "pio02"} {
		api.must(t, http.StatusOK, http.MethodPut, "/api/experiments/crash/workers", map[string]any{"pioreactor_unit": w})
	}
	// A tick every 2 s for 30 s, on both workers.
	var b strings.Builder
	b.WriteString("version: \"1.0\"\nexperiment_profile_name: ticking\ncommon:\n  jobs:\n    stirring:\n      actions:\n")
	for i := 1; i <= 15; i++ {
		fmt.Fprintf(&b, "        - {type: log, t: %ds, options: {message: \"tick %d\"}}\n", 2*i, i)
	}
	api.must(t, http.StatusOK, http.MethodPost, "/api/experiment_profiles", map[string]any{"filename": "ticking.yaml", "body": b.String()})
	api.must(t, http.StatusAccepted, http.MethodPatch, "/unit_api/jobs/run/job_name/experiment_profile",
		map[string]any{"args": []string{"execute", "ticking.yaml", "crash"}, "options": map[string]any{}})
	ticks := func(lines []any, n int) int {
		count := 0
		for _, l := range lines {
			if l.(map[string]any)["message"] == fmt.Sprintf("tick %d", n) {
				count++
			}
		}
		return count
	}
	logs := func() []any {
		lines, _ := api.must(t, http.StatusOK, http.MethodGet, "/api/experiments/crash/logs?min_level=DEBUG", nil).([]any)
		return lines
	}
	eventually(t, "tick 3 on both workers", func() error {
		if n := ticks(logs(), 3); n != 2 {
			return fmt.Errorf("tick 3 logged %d times", n)
		}
		return nil
	})

	c.leader.kill(t)
	conf := filepath.Join(c.dir, "leader", "config.ini")
	c.leader = start(t, "leader (restarted)", "--sim", "--role", "leader", "--units", "0", "--unit", "leader", "--config", conf,
		"--data-dir", filepath.Join(c.dir, "leader", "data"), "--http", "127.0.0.1:0", "--mqtt", c.mqtt, "--ws", "127.0.0.1:0")
	api = client{base: "http://" + c.leader.await(t, httpLine), key: apiKey}
	c.api = api

	var recent []any
	eventually(t, "the run reported interrupted", func() error {
		recent, _ = api.must(t, http.StatusOK, http.MethodGet, "/api/experiments/crash/experiment_profiles/recent", nil).([]any)
		if len(recent) != 1 || recent[0].(map[string]any)["status"] != "interrupted" || recent[0].(map[string]any)["action_count"].(float64) < 2 {
			return fmt.Errorf("recent: %v", recent)
		}
		return nil
	})
	eventually(t, "the interruption in the experiment's log", func() error {
		for _, l := range logs() {
			if strings.Contains(l.(map[string]any)["message"].(string), "was interrupted by a restart of the leader") {
				return nil
			}
		}
		return fmt.Errorf("no line says so")
	})
	time.Sleep(32 * time.Second) // past the end of the old schedule
	lines := logs()
	last := 0
	for i := 1; i <= 15; i++ {
		switch n := ticks(lines, i); {
		case n > 2:
			t.Errorf("tick %d logged %d times (a replay)", i, n)
		case n > 0 && last == i-1:
			last = i
		case n > 0:
			t.Errorf("tick %d logged after a gap: the run was resumed", i)
		}
	}
	if last < 3 || last >= 15 {
		t.Errorf("ticks 1..%d ran, want the run cut short after tick 3", last)
	}
	if running, _ := api.must(t, http.StatusOK, http.MethodGet, "/api/experiments/crash/experiment_profiles/running", nil).([]any); len(running) != 0 {
		t.Errorf("running after the restart: %v", running)
	}
	t.Logf("ticks 1..%d before the crash; recent %v", last, recent[0])
}
