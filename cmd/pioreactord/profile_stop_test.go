package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// Stopping a profile with PATCH /unit_api/jobs/stop {"job_id"} ends the run as stopped and
// stops the jobs it started on the workers.
func TestProfileStopByJobID(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the simulation")
	}
	c := startCluster(t, "--units", "1", "--speed", "60")
	c.startProfile(t, "long.yaml", "version: \"1.0\"\nexperiment_profile_name: long\ncommon:\n  jobs:\n    stirring:\n      actions:\n        - {type: start, t: 0}\n        - {type: stop, t: 10h}\n")
	var running []struct {
		JobID    int64          `json:"job_id"`
		Settings map[string]any `json:"settings"`
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		c.get(t, "/api/experiments/demo/experiment_profiles/running", &running)
		if len(running) == 1 && running[0].Settings["action_count"] == 1.0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("running: %+v", running)
		}
	}
	if code, out := c.call(t, "PATCH", "/unit_api/jobs/stop", fmt.Sprintf(`{"job_id": %d}`, running[0].JobID)); code != 202 {
		t.Fatalf("stop: %d %v", code, out)
	}
	run := c.waitRun(t, "stopped", 10*time.Second)
	if run.ActionCount != 1 {
		t.Errorf("action_count %d", run.ActionCount)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		n := 0
		for _, l := range c.logs(t, "demo") {
			if l.Unit == "pio01" && l.Task == "stirring" && l.Message == "Disconnected." {
				n++
			}
			if strings.HasPrefix(l.Message, "Stopped profile long after 1 action(s)") {
				n += 10
			}
		}
		if n == 11 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the profile's stirring was not stopped, or the stop not logged (%d)", n)
		}
	}
}
