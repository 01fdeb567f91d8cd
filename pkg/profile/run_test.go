package profile

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/contract"
)

// stepClock is virtual time that jumps forward on every Sleep: a single-threaded scheduler
// then runs a 48 h profile in microseconds.
type stepClock struct {
	mu  sync.Mutex
	now time.Time
	// onSleep, if set, runs after each jump (tests change retained values there).
	onSleep func(now time.Time)
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	now := c.now
	c.mu.Unlock()
	if c.onSleep != nil {
		c.onSleep(now)
	}
	return ctx.Err()
}

func (c *stepClock) NewTicker(time.Duration) clock.Ticker { panic("not used") }

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// fakeCluster records what a profile asks of the units, and keeps settings as retained values.
type fakeCluster struct {
	mu      sync.Mutex
	clk     clock.Clock
	workers []string
	calls   []string
	times   []time.Duration
	running map[string]bool
	values  fakeValues
}

func newFakeCluster(clk clock.Clock, workers ...string) *fakeCluster {
	return &fakeCluster{clk: clk, workers: workers, running: map[string]bool{}, values: fakeValues{}}
}

func (f *fakeCluster) record(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
	f.times = append(f.times, f.clk.Now().Sub(t0))
}

func (f *fakeCluster) Workers(context.Context, string) ([]Worker, error) {
	out := make([]Worker, len(f.workers))
	for i, w := range f.workers {
		out[i] = Worker{Unit: w}
	}
	return out, nil
}

func (f *fakeCluster) Start(_ context.Context, unit, job, _ string, req contract.RunRequest) error {
	f.running[unit+"/"+job] = true
	s := fmt.Sprintf("start %s %s %s", unit, job, Format(req.Options))
	if len(req.ConfigOverrides) > 0 {
		s += " " + Format(req.ConfigOverrides)
	}
	f.record("%s", s)
	return nil
}

func (f *fakeCluster) Stop(_ context.Context, unit, job, _ string) error {
	delete(f.running, unit+"/"+job)
	f.record("stop %s %s", unit, job)
	return nil
}

func (f *fakeCluster) Update(_ context.Context, unit, job, _, setting string, v any) error {
	f.values[unit+"/"+job+"/"+setting] = Format(v)
	f.record("update %s %s %s=%s", unit, job, setting, Format(v))
	return nil
}

func (f *fakeCluster) Running(_ context.Context, unit, job string) (bool, error) {
	return f.running[unit+"/"+job], nil
}

func (f *fakeCluster) Log(_ context.Context, unit, _ string, l LogLine) error {
	f.record("log %s %s %s", unit, l.Level, l.Message)
	return nil
}

func (f *fakeCluster) Label(_ context.Context, _, unit, label string) error {
	f.record("label %s %s", unit, label)
	return nil
}

func (f *fakeCluster) StopSource(_ context.Context, units []string, _, source string) error {
	f.record("stop-source %s %s", strings.Join(units, ","), source)
	return nil
}

func (f *fakeCluster) Setting(ctx context.Context, unit, job, setting string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.values.Setting(ctx, unit, job, setting)
}

func execute(t *testing.T, src string, dry bool, workers ...string) (*fakeCluster, []Record) {
	t.Helper()
	p, diags := Load([]byte(src))
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	clk := &stepClock{now: t0}
	fc := newFakeCluster(clk, workers...)
	var recs []Record
	r := &Run{Profile: p, Experiment: "exp1", Source: "experiment_profile/1", DryRun: dry, Cluster: fc, Values: fc,
		Clock: clk, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Random: func() float64 { return 0.5 },
		OnRecord: func(r Record) { recs = append(recs, r) }}
	if err := r.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	return fc, recs
}

func TestOrderingOfCommonAndUnitActions(t *testing.T) {
	t.Parallel()
	src := head + `common:
  jobs:
    job1:
      actions:
        - {type: start, t: 0s}
pioreactors:
  unit1:
    label: one
    jobs:
      job2:
        actions:
          - {type: stop, t: 4s}
          - {type: start, t: 2s}
`
	fc, _ := execute(t, src, false, "unit1", "unit2")
	want := "label unit1 one|start unit1 job1 {}|start unit2 job1 {}|start unit1 job2 {}|stop unit1 job2"
	if got := strings.Join(fc.calls, "|"); got != want {
		t.Errorf("calls\n got %s\nwant %s", got, want)
	}
	if fc.times[3] != 2*time.Second || fc.times[4] != 4*time.Second {
		t.Errorf("times %v", fc.times)
	}
}

func TestEqualTimesFollowPriority(t *testing.T) {
	t.Parallel()
	src := head + `common:
  jobs:
    j:
      actions:
        - {type: log, t: 1m, options: {message: hello}}
        - {type: update, t: 1m, options: {x: 1}}
        - {type: stop, t: 1m}
        - {type: start, t: 1m}
`
	fc, _ := execute(t, src, false, "u")
	want := "start u j {}|stop u j|log u NOTICE hello" // the update found j stopped
	if got := strings.Join(fc.calls, "|"); got != want {
		t.Errorf("got %s want %s", got, want)
	}
}

func TestRepeatCounts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		every, max string
		want       int
	}{{"0.01s", "0.03s", 3}, {"0.001", "0.006", 6}, {"30m", "3h", 6}, {"1h", "2.5h", 3}}
	for _, tc := range tests {
		src := head + `common:
  jobs:
    stirring:
      actions:
        - {type: start, t: 0}
        - type: repeat
          t: 0
          every: ` + tc.every + `
          max_time: ` + tc.max + `
          actions:
            - type: update
              t: 0
              options: {target_rpm: "${{ ::stirring:target_rpm + 10 }}"}
`
		fc, _ := execute(t, src, false, "u1", "u2")
		n := 0
		for _, c := range fc.calls {
			if strings.HasPrefix(c, "update u1") {
				n++
			}
		}
		if n != tc.want {
			t.Errorf("every %s max %s: %d updates on u1, want %d (%v)", tc.every, tc.max, n, tc.want, fc.calls)
		}
	}
}

func TestRepeatWhileAndUnreachableChild(t *testing.T) {
	t.Parallel()
	src := head + `inputs: {step: 100}
pioreactors:
  u:
    jobs:
      stirring:
        actions:
          - {type: start, t: 0, options: {target_rpm: 500}}
          - {type: update, t: 0.5s, options: {target_rpm: 500}}
          - type: repeat
            t: 1h
            every: 1h
            while: ::stirring:target_rpm < 800
            actions:
              - {type: update, t: 0, options: {target_rpm: "${{ ::stirring:target_rpm + step }}"}}
              - {type: log, t: 2h, options: {message: never}}
`
	fc, _ := execute(t, src, false, "u")
	var ups []string
	for _, c := range fc.calls {
		if strings.HasPrefix(c, "update") {
			ups = append(ups, c)
		}
		if strings.Contains(c, "never") {
			t.Errorf("an unreachable child ran: %s", c)
		}
	}
	if got := strings.Join(ups, "|"); got != "update u stirring target_rpm=500|update u stirring target_rpm=600.0|update u stirring target_rpm=700.0|update u stirring target_rpm=800.0" {
		t.Errorf("updates %s", got)
	}
}

func TestWhenWaitsForItsCondition(t *testing.T) {
	t.Parallel()
	src := head + `pioreactors:
  u:
    jobs:
      stirring:
        actions:
          - {type: start, t: 0, options: {target_rpm: 500}}
          - {type: update, t: 1h, options: {target_rpm: 1000}}
          - type: when
            t: 0
            wait_until: ${{ u:stirring:target_rpm >= 1000 }}
            actions:
              - {type: log, t: 0, options: {message: "rpm is ${{ ::stirring:target_rpm }}"}}
              - {type: update, t: 1m, options: {target_rpm: 200}}
              - type: when
                t: 0
                wait_until: ::stirring:target_rpm < 500
                actions:
                  - {type: update, t: 0, options: {target_rpm: 400}}
`
	fc, _ := execute(t, src, false, "u")
	var seq []string
	for i, c := range fc.calls {
		seq = append(seq, fmt.Sprintf("%s@%v", c, fc.times[i].Round(time.Second)))
	}
	got := strings.Join(seq, "|")
	for _, want := range []string{"update u stirring target_rpm=1000@1h0m0s", "log u NOTICE rpm is 1000.0", "update u stirring target_rpm=200@1h1m0s", "update u stirring target_rpm=400@1h1m"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %s in %s", want, got)
		}
	}
	// the when re-checks every 15–25 s (20 s with U = 0.5): it fires within one check of 1 h
	for i, c := range fc.calls {
		if strings.HasPrefix(c, "log") && (fc.times[i] < time.Hour || fc.times[i] > time.Hour+20*time.Second) {
			t.Errorf("the when fired at %v", fc.times[i])
		}
	}
}

func TestIfConditionsAndExpressions(t *testing.T) {
	t.Parallel()
	src := head + `inputs: {dc: 100}
common:
  jobs:
    air_bubbler:
      actions:
        - {type: start, t: 0, if: "${{ unit() == unit1 }}", config_overrides: {duty_cycle: "${{dc}}", other: 100, f: 1.5}}
        - {type: stop, t: 1, if: "False"}
        - {type: stop, t: 2, if: "(1 >= 0) and (0 <= 1)"}
    jobbing:
      actions:
        - {type: start, t: 3, options: {target: "${{ unit1:jobbing:target + 1 }}", literal: "1.0 + 1.0"}}
`
	p, diags := Load([]byte(src))
	if diags.Err() != nil {
		t.Fatal(diags)
	}
	clk := &stepClock{now: t0}
	fc := newFakeCluster(clk, "unit1", "unit2")
	fc.values["unit1/jobbing/target"] = "10"
	r := &Run{Profile: p, Experiment: "exp1", Source: "experiment_profile/1", Cluster: fc, Values: fc, Clock: clk,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := r.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`start unit1 air_bubbler {} [["air_bubbler.config","duty_cycle","100.0"],["air_bubbler.config","other","100"],["air_bubbler.config","f","1.5"]]`,
		"stop unit1 air_bubbler", "stop unit2 air_bubbler",
		`start unit1 jobbing {"literal":"1.0 + 1.0","target":11}`, `start unit2 jobbing {"literal":"1.0 + 1.0","target":11}`,
	}
	if got := strings.Join(fc.calls, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("calls\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
}

func TestLEDIntensityAndPauseResume(t *testing.T) {
	t.Parallel()
	src := head + `pioreactors:
  u:
    jobs:
      led_intensity:
        actions:
          - {type: start, t: 0, options: {A: 50}}
          - {type: update, t: 1, options: {A: 40, B: 22.5}}
          - {type: stop, t: 2}
      stirring:
        actions:
          - {type: start, t: 0}
          - {type: pause, t: 1}
          - {type: resume, t: 2}
`
	fc, _ := execute(t, src, false, "u")
	want := `start u led_intensity {"A":50}|start u stirring {}|update u stirring $state=sleeping|start u led_intensity {"A":40,"B":22.5}|start u led_intensity {"A":0,"B":0,"C":0,"D":0}|update u stirring $state=ready`
	if got := strings.Join(fc.calls, "|"); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestDryRunSendsNothingButLogs(t *testing.T) {
	t.Parallel()
	src := head + `common:
  jobs:
    stirring:
      actions:
        - {type: start, t: 0, options: {target_rpm: 500}}
        - {type: update, t: 1m, options: {target_rpm: 600}}
        - {type: log, t: 2m, options: {message: hi}}
        - {type: stop, t: 3m}
`
	fc, recs := execute(t, src, true, "u")
	if got := strings.Join(fc.calls, "|"); got != "log u NOTICE hi" {
		t.Errorf("a dry run sent %s", got)
	}
	if len(recs) != 4 {
		t.Errorf("records %v", recs)
	}
}

func TestStopStopsWhatTheProfileStarted(t *testing.T) {
	t.Parallel()
	src := head + `common:
  jobs:
    stirring:
      actions:
        - {type: start, t: 0}
        - {type: stop, t: 10h}
`
	p, _ := Load([]byte(src))
	ctx, cancel := context.WithCancel(context.Background())
	clk := &stepClock{now: t0}
	clk.onSleep = func(now time.Time) {
		if now.Sub(t0) > time.Hour {
			cancel()
		}
	}
	fc := newFakeCluster(clk, "u1", "u2")
	r := &Run{Profile: p, Experiment: "exp1", Source: "experiment_profile/7", Cluster: fc, Clock: clk,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := r.Execute(ctx); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(fc.calls, "|"); got != "start u1 stirring {}|start u2 stirring {}|stop-source u1,u2 experiment_profile/7" {
		t.Errorf("got %s", got)
	}
}

func TestPluginsAbortTheRun(t *testing.T) {
	t.Parallel()
	p, _ := Load([]byte(head + "plugins:\n  - {name: p, version: \">=0.1.0\"}\n"))
	clk := &stepClock{now: t0}
	r := &Run{Profile: p, Experiment: "e", Cluster: newFakeCluster(clk), Clock: clk, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := r.Execute(context.Background()); err == nil || !strings.Contains(err.Error(), "ImportError") {
		t.Errorf("err = %v", err)
	}
}

func TestPlan(t *testing.T) {
	t.Parallel()
	p, diags := Load([]byte(head + `common:
  jobs:
    stirring:
      actions:
        - {type: start, t: 0, options: {target_rpm: 400}}
        - {type: repeat, t: 1h, every: 12h, max_time: 1d, actions: [{type: update, t: 0, options: {target_rpm: 500}}]}
pioreactors:
  u:
    jobs:
      od_reading:
        actions:
          - {type: when, t: 2h, wait_until: "::stirring:target_rpm > 450", actions: [{type: stop, t: 1m}]}
`))
	if diags.Err() != nil {
		t.Fatal(diags)
	}
	var got []string
	for _, s := range Plan(p) {
		got = append(got, s.String())
	}
	want := []string{
		"+0s stirring on every worker: start (target_rpm=400)",
		"+1h stirring on every worker: repeat every +12h, 2 time(s)",
		"+1h stirring on every worker: update (target_rpm=500)",
		"+2h od_reading on u: wait until ::stirring:target_rpm > 450",
		"+2h od_reading on u: then +1m later: stop",
		"+13h stirring on every worker: update (target_rpm=500)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("plan\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
