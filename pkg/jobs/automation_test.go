package jobs

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal/sim"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// testFamily is an automation family built only on the framework, as dosing_automation is.
type testFamily struct {
	automationBase
	name string
	algo Automation
}

type testFactory func(o supervisor.Options, f *testFamily) (Automation, error)

var testAutomations = map[string]testFactory{"counter": newCounter}

var testAutomationSpec = supervisor.Spec{Name: "test_automation", New: func(o supervisor.Options) (supervisor.Job, error) {
	f := &testFamily{}
	name, factory, err := pickAutomation("test_automation", testAutomations, o)
	if err != nil {
		return nil, err
	}
	if f.algo, err = factory(o, f); err != nil {
		return nil, err
	}
	f.name = name
	return f, nil
}}

func (f *testFamily) Run(ctx context.Context, rt *supervisor.Runtime) error {
	if err := f.init(ctx, rt, f.name, f.algo, f.durationSetting()); err != nil {
		return err
	}
	defer f.stop(context.WithoutCancel(ctx))
	if err := f.startAutomation(ctx); err != nil {
		return err
	}
	if err := rt.Ready(ctx); err != nil {
		return err
	}
	return f.serve(ctx)
}

// counter reports, in its event message, the seconds since its start; it optionally works
// for a while (to test non-reentrance) and reads one input.
type counter struct {
	f         *testFamily
	duration  float64
	skipFirst bool
	work      time.Duration
	input     string
	t0        time.Time
}

func newCounter(o supervisor.Options, f *testFamily) (Automation, error) {
	var r collect
	c := &counter{f: f, input: o.String("input", "")}
	c.duration = r.float(o.Float("duration", 1))
	c.skipFirst = r.bool(o.Bool("skip_first_run", false))
	c.work = seconds(r.float(o.Float("work_seconds", 0)))
	if err := r.err(); err != nil {
		return nil, err
	}
	if !(c.duration > 0) {
		return nil, errors.New("duration must be greater than 0")
	}
	return c, nil
}

func (c *counter) Start(ctx context.Context) error {
	c.t0 = c.f.rt.Clock().Now()
	if err := c.f.set(ctx, "duration", c.duration); err != nil {
		return err
	}
	return c.f.runEvery(c.duration, c.skipFirst, 0)
}

func (c *counter) Execute(ctx context.Context) (*contract.AutomationEvent, error) {
	at := c.f.rt.Clock().Now().Sub(c.t0).Seconds()
	var v any
	var err error
	switch c.input {
	case "nod":
		v, err = c.f.latestNormalizedOD(ctx)
	case "growth":
		v, err = c.f.latestGrowthRate(ctx)
	case "ods":
		v, err = c.f.latestODs(ctx)
	case "fused":
		v, err = c.f.latestODFused(ctx)
	}
	if err != nil {
		return nil, err
	}
	if c.work > 0 {
		if err := c.f.wait(ctx, c.work); err != nil {
			return nil, err
		}
	}
	return contract.NewAutomationEvent(contract.NoEvent, fmt.Sprint(at), map[string]any{"value": v}), nil
}

func latestEventTopic(job string) string {
	return contract.JobTopic("pio01", "exp", job, "latest_event")
}

// runTimes are the start offsets (s) of the runs seen on latest_event.
func runTimes(t *testing.T, r *simRig) []string {
	t.Helper()
	var out []string
	for _, p := range r.msgs.on(latestEventTopic("test_automation")) {
		ev := decode[contract.AutomationEvent](t, p)
		if ev.Message != nil {
			out = append(out, *ev.Message)
		}
	}
	return out
}

func TestAutomationRunEveryAndDurationSetter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		options map[string]any
		set     string // duration /set at 150 s, "" for none
		want    string // run offsets (s) within the first 400 s
	}{
		{"immediate, every minute", map[string]any{"duration": "1"}, "", "0 60 120 180 240 300 360 420"},
		{"skip first run", map[string]any{"duration": 1.0, "skip_first_run": "yes"}, "", "60 120 180 240 300 360 420"},
		// Last run at 120 s: the new 2-minute period runs 90 s after the change, then every 120 s.
		{"duration change", map[string]any{"duration": 1.0}, "2", "0 60 120 240 360"},
		{"bad duration change ignored", map[string]any{"duration": 1.0}, "-1", "0 60 120 180 240 300 360 420"},
		// Runs of 90 s: the ticks during a run are dropped (run_once is not re-entrant).
		{"non-reentrant", map[string]any{"duration": 1.0, "work_seconds": 90.0}, "", "0 120 240 360"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				r := newAutoRig(t, sim.DefaultParams(), nil, testAutomationSpec)
				defer r.close()
				opts := map[string]any{"automation_name": "counter"}
				for k, v := range tc.options {
					opts[k] = v
				}
				r.start("test_automation", opts)
				if tc.set != "" {
					time.Sleep(150 * time.Second)
					r.set("test_automation", "duration", tc.set)
					time.Sleep(310 * time.Second)
				} else {
					time.Sleep(460 * time.Second)
				}
				if got := strings.Join(runTimes(t, r), " "); got != tc.want {
					t.Fatalf("runs at %q s, want %q", got, tc.want)
				}
			})
		})
	}
}

func TestAutomationSettingsRecords(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newAutoRig(t, sim.DefaultParams(), nil, testAutomationSpec)
		defer r.close()
		r.start("test_automation", map[string]any{"automation_name": "counter", "duration": 5.0})
		time.Sleep(time.Minute)
		r.set("test_automation", "duration", "20")
		time.Sleep(time.Second)
		r.set("test_automation", "duration", "0") // refused: no record
		time.Sleep(time.Second)
		if got := r.retained("test_automation", "automation_name"); got != "counter" {
			t.Errorf("automation_name %q", got)
		}
		recs := r.msgs.on(contract.AutomationSettingsTopic("pio01", "exp", "test_automation"))
		if len(recs) != 2 {
			t.Fatalf("%d settings records, want 2 (start, change): %v", len(recs), recs)
		}
		rec := decode[contract.AutomationSettings](t, recs[1])
		if rec.AutomationName != "counter" || rec.PioreactorUnit != "pio01" || rec.Experiment != "exp" || rec.EndedAt == nil {
			t.Fatalf("record %+v", rec)
		}
		if got := rec.EndedAt.Time().Sub(rec.StartedAt.Time()); got != time.Minute {
			t.Errorf("settings period lasted %v, want 1m", got)
		}
		if got, want := string(rec.Settings), `{"duration":20.0,"state":"ready"}`; got != want {
			t.Errorf("settings %s, want %s", got, want)
		}
		if !strings.Contains(recs[1], `"settings":"`+base64.StdEncoding.EncodeToString([]byte(`{"duration":20.0,"state":"ready"}`))+`"`) {
			t.Errorf("settings not base64 on the wire: %s", recs[1])
		}
		if got := r.retained("test_automation", "duration"); got != "20.0" {
			t.Errorf("duration %q after a refused change", got)
		}
		if !r.logs.has("ERROR", "duration: invalid duration: 0 min must be between") {
			t.Error("no error for duration 0")
		}
	})
}

func TestAutomationRefusesBadStart(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		job     string
		spec    supervisor.Spec
		options map[string]any
		want    string
	}{
		{"test_automation", testAutomationSpec, map[string]any{"automation_name": "chemostat"}, `"chemostat" is not a test_automation; available: counter`},
		{"test_automation", testAutomationSpec, map[string]any{"automation_name": "config"}, "available: counter"},
		{"test_automation", testAutomationSpec, map[string]any{}, "needs the option automation_name, one of: counter"},
		{"test_automation", testAutomationSpec, map[string]any{"automation_name": "counter", "duration": 0.0}, "duration must be greater than 0"},
		{"test_automation", testAutomationSpec, map[string]any{"automation_name": "counter", "duration": "-0.1"}, "duration must be greater than 0"},
		{"test_automation", testAutomationSpec, map[string]any{"automation_name": "counter", "duration": "fast"}, `"fast" is not a number`},
		{"temperature_automation", NewTemperatureAutomationSpec(TemperatureAutomations()), map[string]any{"automation_name": "pid"}, "only_record_temperature, thermostat"},
		{"temperature_automation", NewTemperatureAutomationSpec(TemperatureAutomations()), map[string]any{"automation_name": "thermostat"}, "target_temperature is required"},
		{"temperature_automation", NewTemperatureAutomationSpec(TemperatureAutomations()), map[string]any{"automation_name": "thermostat", "target_temperature": "warm"}, `"warm" is not a number`},
		{"led_automation", NewLEDAutomationSpec(LEDAutomations()), map[string]any{"automation_name": "disco"}, "available: light_dark_cycle, silent"},
		{"led_automation", NewLEDAutomationSpec(LEDAutomations()), map[string]any{"automation_name": "light_dark_cycle", "light_intensity": "bright"}, `"bright" is not a number`},
		{"led_automation", NewLEDAutomationSpec(LEDAutomations()), map[string]any{"automation_name": "light_dark_cycle", "light_intensity": 150.0}, "must be within 0–100"},
		{"led_automation", NewLEDAutomationSpec(LEDAutomations()), map[string]any{"automation_name": "light_dark_cycle", "dark_duration_minutes": -1.0}, "dark_duration_minutes must be 0, or"},
		{"led_automation", NewLEDAutomationSpec(LEDAutomations()), map[string]any{"automation_name": "light_dark_cycle", "light_duration_minutes": 1e308}, "light_duration_minutes must be 0, or"},
		{"led_automation", NewLEDAutomationSpec(LEDAutomations()), map[string]any{"automation_name": "light_dark_cycle", "dark_duration_minutes": 1e-320}, "dark_duration_minutes must be 0, or"},
		{"led_intensity", NewLEDIntensitySpec(), map[string]any{"Z": 10.0}, `invalid LED channel "Z"`},
		{"led_intensity", NewLEDIntensitySpec(), map[string]any{"A": 101.0}, "must be within 0–100"},
		{"led_intensity", NewLEDIntensitySpec(), map[string]any{"A": "abc"}, `"abc" is not a number`},
		{"led_intensity", NewLEDIntensitySpec(), map[string]any{}, "at least one channel"},
	} {
		t.Run(fmt.Sprint(tc.job, tc.options), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				r := newAutoRig(t, sim.DefaultParams(), nil, tc.spec)
				defer r.close()
				err := r.startErr(tc.job, tc.options)
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("start: %v, want an error containing %q", err, tc.want)
				}
				synctest.Wait()
				if got := r.msgs.withPrefix("pioreactor/pio01/exp/"); len(got) != 0 {
					t.Fatalf("a refused start published %v", got)
				}
			})
		})
	}
}

func TestAutomationInputs(t *testing.T) {
	t.Parallel()
	odFiltered := func(v float64, at time.Time) string {
		return string(contract.Marshal(contract.ODFiltered{ODFiltered: contract.Decimal(v), Timestamp: contract.Timestamp(at)}))
	}
	for _, tc := range []struct {
		name    string
		input   string
		running []string // producing jobs whose $state is ready
		publish func(now time.Time) (attr, payload string)
		want    string // latest_event: event name and message fragment
	}{
		{"fresh value", "nod", []string{"od_reading", "growth_rate_calculating"},
			func(now time.Time) (string, string) { return "od_filtered", odFiltered(1.25, now.Add(-time.Minute)) }, "NoEvent"},
		{"stale value", "nod", []string{"od_reading", "growth_rate_calculating"},
			func(now time.Time) (string, string) { return "od_filtered", odFiltered(1.25, now.Add(-6*time.Minute)) }, "ErrorOccurred too stale"},
		{"producer not running", "growth", []string{"od_reading"}, nil, "ErrorOccurred growth_rate_calculating is required but is not running"},
		{"no value within 10 s", "nod", []string{"od_reading", "growth_rate_calculating"}, nil, "ErrorOccurred no od_filtered received within 10s"},
		{"no fused OD", "fused", []string{"od_reading"}, nil, "ErrorOccurred no fused OD received"},
		{"od_reading not running", "ods", nil, nil, "ErrorOccurred od_reading is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				r := newAutoRig(t, sim.DefaultParams(), nil, testAutomationSpec)
				defer r.close()
				for _, job := range tc.running {
					r.publish(contract.JobTopic("pio01", "exp", job, contract.StateAttr), "ready", true)
				}
				if tc.publish != nil {
					attr, payload := tc.publish(time.Now())
					r.publish(contract.JobTopic("pio01", "exp", jobGrowthRate, attr), payload, true)
				}
				r.start("test_automation", map[string]any{"automation_name": "counter", "input": tc.input, "skip_first_run": true})
				time.Sleep(90 * time.Second)
				ev := decode[contract.AutomationEvent](t, r.retained("test_automation", "latest_event"))
				got := ev.EventName
				if ev.Message != nil {
					got += " " + *ev.Message
				}
				for _, part := range strings.Fields(tc.want) {
					if !strings.Contains(got, part) {
						t.Fatalf("latest_event %q, want %q", got, tc.want)
					}
				}
				if strings.HasPrefix(tc.want, "ErrorOccurred") && !r.logs.has("WARN", "required data missing") {
					t.Errorf("missing input not logged as a warning:\n%s", r.logs.dump())
				}
				if tc.name == "fresh value" && fmt.Sprint(ev.Data["value"]) != "1.25" {
					t.Errorf("value %v, want 1.25", ev.Data["value"])
				}
			})
		})
	}
}
