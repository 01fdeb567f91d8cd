package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// logLine is a stored log line as GET /api/experiments/<exp>/logs answers it.
type logLine struct {
	Timestamp string `json:"timestamp"`
	Unit      string `json:"pioreactor_unit"`
	Task      string `json:"task"`
	Message   string `json:"message"`
}

func (c *simCluster) get(t *testing.T, path string, into any) {
	t.Helper()
	resp, err := http.Get("http://" + c.http + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, into); err != nil {
		t.Fatalf("GET %s: %v: %s", path, err, raw)
	}
}

// logs reads every stored line of exp, oldest first.
func (c *simCluster) logs(t *testing.T, exp string) []logLine {
	t.Helper()
	var all []logLine
	for skip := 0; ; skip += 100 {
		var page []logLine
		c.get(t, fmt.Sprintf("/api/experiments/%s/logs?min_level=DEBUG&skip=%d", exp, skip), &page)
		all = append(all, page...)
		if len(page) < 100 {
			break
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Timestamp < all[j].Timestamp })
	return all
}

type profileRun struct {
	JobID       int64  `json:"job_id"`
	Name        string `json:"experiment_profile_name"`
	Status      string `json:"status"`
	StartedAt   string `json:"started_at"`
	EndedAt     string `json:"ended_at"`
	ActionCount int    `json:"action_count"`
	Error       string `json:"error"`
}

// startProfile uploads a profile and runs it on the leader as the dashboard does.
func (c *simCluster) startProfile(t *testing.T, file, body string) {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"filename": file, "body": body})
	if code, out := c.call(t, "POST", "/api/experiment_profiles", string(b)); code != 200 {
		t.Fatalf("upload: %d %v", code, out)
	}
	if code, out := c.call(t, "PATCH", "/unit_api/jobs/run/job_name/experiment_profile", `{"args":["execute","`+file+`","demo"],"options":{}}`); code != 202 {
		t.Fatalf("run: %d %v", code, out)
	}
}

// waitRun waits (wall time) for the newest run of demo to reach a status.
func (c *simCluster) waitRun(t *testing.T, status string, limit time.Duration) profileRun {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		var runs []profileRun
		c.get(t, "/api/experiments/demo/experiment_profiles/recent", &runs)
		if len(runs) > 0 && runs[0].Status == status {
			return runs[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s run within %v: %+v", status, limit, runs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func parseTime(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse("2006-01-02T15:04:05.000Z", s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

const twoDays = `version: "1.0"
experiment_profile_name: two-days
common:
  jobs:
    stirring:
      actions:
        - {type: start, t: 0, options: {target_rpm: 400}}
        - type: repeat
          t: 1h
          every: 12h
          max_time: 2d
          actions:
            - {type: update, t: 0, options: {target_rpm: "${{ ::stirring:target_rpm + 100 }}"}}
        - {type: stop, t: 47h}
pioreactors:
  pio02:
    jobs:
      stirring:
        actions:
          - type: when
            t: 2h
            wait_until: ${{ pio01:stirring:target_rpm >= 600 }}
            actions:
              - {type: update, t: 0, options: {target_rpm: 1000}}
              - {type: log, t: 1m, options: {message: "pio01 reached ${{ pio01:stirring:target_rpm }} RPM"}}
`

// A 48 h profile on the simulation at 3600×: every action happens on the right unit at its
// scheduled simulated time (± one tick), the repeat fires 4 times (⌈48/12⌉), the when fires once
// its condition holds. The units' own log lines (stamped by their own clocks) are the evidence.
func TestProfileTwoDaysOnTheSim(t *testing.T) {
	if testing.Short() {
		t.Skip("50 s of wall time")
	}
	const speed = 3600
	// tick is the scheduler's tolerance: 100 ms of wall time, 6 simulated minutes at this
	// speed; its own log says when it took each action up. The unit then acts after the
	// action travels profile job → unit API → task → job, which takes wall time: on a loaded
	// 2-core machine running the race detector, up to hundreds of ms, i.e. many simulated
	// minutes. So the units' effects are judged in order, never early, and within a wall
	// second (an hour here) of the scheduler taking the action up.
	const tick = 100 * time.Millisecond * speed
	const unitLatency = time.Second * speed
	// jitter is how late a goroutine may run on such a machine beyond the tick it waited for:
	// one run of make test saw an action taken up 2.7 ms of wall time after its tick.
	const jitter = 400 * time.Millisecond * speed
	c := startCluster(t, "--units", "2", "--speed", fmt.Sprint(speed))
	c.startProfile(t, "two-days.yaml", twoDays)
	run := c.waitRun(t, "finished", 90*time.Second)
	start := parseTime(t, run.StartedAt)
	type event struct {
		unit, what string
		at         time.Duration
	}
	var got []event
	var lines []logLine
	var taken []string // the scheduler's "Action … scheduled at +X, taken up at +Y." lines
	// The units' lines reach the leader's store a moment after the run ends.
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		lines, got, taken = c.logs(t, "demo"), nil, nil
		for _, l := range lines {
			if strings.HasPrefix(l.Message, "Action ") && strings.Contains(l.Message, "taken up at") {
				taken = append(taken, l.Message)
			}
			if l.Task != "stirring" && l.Task != "experiment_profile/"+fmt.Sprint(run.JobID) {
				continue
			}
			var what string
			switch {
			case l.Message == "Ready.":
				what = "ready"
			case l.Message == "Disconnected.":
				what = "disconnected"
			case strings.HasPrefix(l.Message, "Updated target_rpm from"):
				what = l.Message[strings.LastIndex(l.Message, " to ")+4:]
			case strings.HasPrefix(l.Message, "pio01 reached"):
				what = l.Message
			default:
				continue
			}
			got = append(got, event{l.Unit, what, parseTime(t, l.Timestamp).Sub(start)})
		}
		if len(got) >= 14 || time.Now().After(deadline) {
			break
		}
	}
	want := []struct {
		unit, what string
		at         time.Duration
		slack      time.Duration // the when checks every 15–25 s
	}{
		{"pio01", "ready", 0, 0}, {"pio02", "ready", 0, 0},
		{"pio01", "500.0 RPM.", time.Hour, 0}, {"pio02", "500.0 RPM.", time.Hour, 0},
		{"pio01", "600.0 RPM.", 13 * time.Hour, 0}, {"pio02", "600.0 RPM.", 13 * time.Hour, 0},
		{"pio02", "1000.0 RPM.", 13 * time.Hour, 25 * time.Second},
		{"pio02", "pio01 reached 600.0 RPM", 13*time.Hour + time.Minute, 25 * time.Second},
		{"pio01", "700.0 RPM.", 25 * time.Hour, 0}, {"pio02", "1100.0 RPM.", 25 * time.Hour, 0},
		{"pio01", "800.0 RPM.", 37 * time.Hour, 0}, {"pio02", "1200.0 RPM.", 37 * time.Hour, 0},
		{"pio01", "disconnected", 47 * time.Hour, 0}, {"pio02", "disconnected", 47 * time.Hour, 0},
	}
	if len(got) != len(want) {
		t.Errorf("%d events, want %d:\n%v", len(got), len(want), got)
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			if g.unit == w.unit && g.what == w.what {
				found = true
				if g.at < w.at-time.Second || g.at > w.at+w.slack+tick+unitLatency { // started_at is rounded to 1 ms
					t.Errorf("%s %s at %v, want %v (+%v), at most %v late", w.unit, w.what, g.at, w.at, w.slack, tick+unitLatency)
				}
			}
		}
		if !found {
			t.Errorf("%s never logged %q", w.unit, w.what)
		}
	}
	// The scheduler takes every action up within one tick of when it is due (plus the
	// machine's scheduling jitter), never before.
	takenLine := regexp.MustCompile(`scheduled at \+(\S+), taken up at \+(\S+)\.$`)
	for _, m := range taken {
		parts := takenLine.FindStringSubmatch(m)
		if parts == nil {
			t.Errorf("unreadable scheduler line %q", m)
			continue
		}
		scheduled, err1 := time.ParseDuration(parts[1])
		takenUp, err2 := time.ParseDuration(parts[2])
		if err1 != nil || err2 != nil {
			t.Errorf("unreadable scheduler line %q: %v %v", m, err1, err2)
			continue
		}
		if takenUp < scheduled || takenUp > scheduled+tick+jitter {
			t.Errorf("%s: taken up %v after it was due; want within %v", m, takenUp-scheduled, tick+jitter)
		}
	}
	if len(taken) != 14 {
		t.Errorf("%d scheduler lines, want 14:\n%s", len(taken), strings.Join(taken, "\n"))
	}
	// 2 starts, 8 repeated updates, 1 update and 1 log of the when, 2 stops
	if run.ActionCount != 14 {
		t.Errorf("action_count %d, want 14", run.ActionCount)
	}
	for _, e := range got {
		t.Logf("%s %-28s %v", e.unit, e.what, e.at) // the figures: how late each action landed
	}
}
