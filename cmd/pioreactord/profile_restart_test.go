package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// ticks logs "tick N" every 6 simulated minutes for an hour.
func ticks() string {
	var b strings.Builder
	b.WriteString("version: \"1.0\"\nexperiment_profile_name: ticking\ncommon:\n  jobs:\n    stirring:\n      actions:\n")
	b.WriteString("        - {type: start, t: 0}\n        - {type: stop, t: 1h}\n")
	for i := 1; i <= 10; i++ {
		fmt.Fprintf(&b, "        - {type: log, t: %dm, options: {message: \"tick %d\"}}\n", 6*i, i)
	}
	return b.String()
}

// A leader restarted mid-run reports the run interrupted (in recent and in the experiment's
// log) and never runs its actions again: each tick is logged at most once, and none after the
// restart.
func TestProfileRestartMarksTheRunInterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the daemon twice")
	}
	dir := t.TempDir()
	c := startCluster(t, "--units", "1", "--speed", "1200", "--data-dir", dir)
	c.startProfile(t, "ticking.yaml", ticks())
	// Wait (wall time) for tick 3, then stop the leader.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if count(c.logs(t, "demo"), "tick 3") > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("tick 3 never logged")
		}
	}
	c.shutdown(t)

	c2 := startCluster(t, "--units", "1", "--speed", "1200", "--data-dir", dir)
	// Give the old schedule time to end: an hour of the experiment is 3 s of wall time.
	time.Sleep(4 * time.Second)
	var runs []profileRun
	c2.get(t, "/api/experiments/demo/experiment_profiles/recent", &runs)
	if len(runs) != 1 || runs[0].Status != "interrupted" || runs[0].Name != "ticking" || runs[0].Error == "" {
		t.Fatalf("recent: %+v", runs)
	}
	var running []any
	c2.get(t, "/api/experiments/demo/experiment_profiles/running", &running)
	if len(running) != 0 {
		t.Errorf("running after the restart: %v", running)
	}
	lines := c2.logs(t, "demo")
	last := 0
	for i := 1; i <= 10; i++ {
		n := count(lines, fmt.Sprintf("tick %d", i))
		if n > 1 {
			t.Errorf("tick %d logged %d times", i, n)
		}
		if n == 1 {
			if last != i-1 {
				t.Errorf("tick %d logged after a gap", i)
			}
			last = i
		}
	}
	if last < 3 || last == 10 {
		t.Errorf("ticks 1..%d ran; want the run cut short after tick 3", last)
	}
	if count(lines, "interrupted by a shutdown of the leader") != 1 {
		t.Errorf("the experiment log does not say the run was interrupted")
	}
	t.Logf("ran ticks 1..%d before the restart; recent: %+v", last, runs[0])
}

func count(lines []logLine, msg string) int {
	n := 0
	for _, l := range lines {
		if strings.Contains(l.Message, msg) {
			n++
		}
	}
	return n
}
