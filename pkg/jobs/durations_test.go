package jobs

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal/sim"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// countOn counts the messages published on topic from now on.
func countOn(t *testing.T, r *simRig, topic string) func() int {
	t.Helper()
	c, err := r.bus.Dial(context.Background(), pubsub.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	n := make(chan struct{}, 1<<16)
	if err := c.Subscribe(context.Background(), topic, pubsub.AtLeastOnce, func(m pubsub.Message) {
		if !m.Retained {
			n <- struct{}{}
		}
	}); err != nil {
		t.Fatal(err)
	}
	return func() int {
		k := 0
		for {
			select {
			case <-n:
				k++
			default:
				return k
			}
		}
	}
}

// A /set of an interval or a duration out of range is refused: the setting keeps its value
// and the job keeps its pace (1e308 used to overflow into a negative period, 1e-320 into 0:
// both ran back to back; on the wall clock a negative ticker panicked).
func TestSetDurationOutOfRange(t *testing.T) {
	for _, tc := range []struct {
		name, job, attr, payload, keep string
		// the job's pace: events on topic within an hour
		topic  string
		lo, hi int
	}{
		{"od interval 1e308", odReadingJobName, "interval", "1e308", "5.0", "ods", 700, 730},
		{"od interval 1e-320", odReadingJobName, "interval", "1e-320", "5.0", "ods", 700, 730},
		{"od interval 0.1 s", odReadingJobName, "interval", "0.1", "5.0", "ods", 700, 730},
		{"od interval -5", odReadingJobName, "interval", "-5", "5.0", "ods", 700, 730},
		{"chemostat duration 1e308", dosingJobName, "duration", "1e308", "20.0", "dosing_events", 120, 160},
		{"chemostat duration 1e-320", dosingJobName, "duration", "1e-320", "20.0", "dosing_events", 120, 160},
		{"chemostat duration NaN", dosingJobName, "duration", "NaN", "20.0", "dosing_events", 120, 160},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				r := newDosingRig(t, sim.DefaultParams())
				defer r.close()
				r.calibrateTruly()
				if err := r.startErr(BioreactorJobName, nil); err != nil {
					t.Fatal(err)
				}
				switch tc.job {
				case odReadingJobName:
					r.start(odReadingJobName, map[string]any{"interval": 5.0})
				case dosingJobName:
					r.start(dosingJobName, map[string]any{"automation_name": "chemostat", "exchange_volume_ml": 0.5, "duration": 20.0})
				}
				time.Sleep(10 * time.Minute)
				count := countOn(t, r.simRig, contract.Topic("pio01", "exp", tc.job, tc.attr)) // the retained value's changes
				events := countOn(t, r.simRig, contract.Topic("pio01", "exp", tc.topic))
				if tc.job == odReadingJobName {
					events = countOn(t, r.simRig, contract.JobTopic("pio01", "exp", odReadingJobName, "ods"))
				}
				r.set(tc.job, tc.attr, tc.payload)
				time.Sleep(time.Hour)
				if got := r.retained(tc.job, tc.attr); got != tc.keep || count() != 0 {
					t.Fatalf("/set %s %s: retained %q, want it kept at %q", tc.attr, tc.payload, got, tc.keep)
				}
				n := events()
				t.Logf("%d messages on %s in the hour after the /set", n, tc.topic)
				if n < tc.lo || n > tc.hi {
					t.Fatalf("/set %s %s: %d messages on %s in the hour after, want %d–%d", tc.attr, tc.payload, n, tc.topic, tc.lo, tc.hi)
				}
			})
		})
	}
}

// Config keys that become periods are range-checked when the job is built: the start fails
// with the key named (the monitor, which must start, falls back to 12 h).
func TestConfigDurationsOutOfRange(t *testing.T) {
	t.Parallel()
	d, err := NewDosing(t.TempDir(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	build := map[string]func(supervisor.Options) (supervisor.Job, error){
		"stirring":    NewStirringSpec(nil).New,
		"od_reading":  NewODReadingSpec(ODDeps{}).New,
		"growth_rate": NewGrowthRateSpec(ODDeps{}).New,
		"dosing":      NewDosingAutomationSpec(d, testDosingAutomations()).New,
		"od_blank":    NewODBlankSpec(ODDeps{CacheDir: t.TempDir()}).New,
	}
	chemostat := map[string]any{"automation_name": "chemostat", "exchange_volume_ml": 0.5}
	for _, tc := range []struct {
		job, section, key, value string
		options                  map[string]any
		want                     string
	}{
		{"stirring", "stirring.config", "duration_between_updates_seconds", "1e308", nil, "duration_between_updates_seconds"},
		{"stirring", "stirring.config", "duration_between_updates_seconds", "1e-320", nil, "duration_between_updates_seconds"},
		{"od_reading", "od_reading.config", "samples_per_second", "1e-320", nil, "samples_per_second"},
		{"od_reading", "od_reading.config", "samples_per_second", "1e308", nil, "samples_per_second"},
		{"od_reading", "od_reading.config", "duration_between_led_off_and_od_reading", "1e308", nil, "duration_between_led_off_and_od_reading"},
		{"growth_rate", "od_reading.config", "samples_per_second", "1e-320", nil, "samples_per_second"},
		{"od_blank", "od_reading.config", "duration_between_led_off_and_od_reading", "-1", nil, "duration_between_led_off_and_od_reading"},
		{"dosing", "dosing_automation.config", "pause_between_subdoses_seconds", "1e308", chemostat, "pause_between_subdoses_seconds"},
		{"dosing", "dosing_automation.config", "max_subdose", "1e-300", chemostat, "max_subdose"},
	} {
		t.Run(tc.key+"="+tc.value, func(t *testing.T) {
			t.Parallel()
			o := supervisor.Options{Values: tc.options, Experiment: "exp",
				Config: config.LoadDefault().With([][3]string{{tc.section, tc.key, tc.value}})}
			_, err := build[tc.job](o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("%s with [%s] %s=%s: err %v, want one naming %s", tc.job, tc.section, tc.key, tc.value, err, tc.want)
			}
			if err := CheckConfig(o.Config); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("CheckConfig with [%s] %s=%s: %v, want an error naming %s", tc.section, tc.key, tc.value, err, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		value string
		want  time.Duration
	}{{"1e308", 12 * time.Hour}, {"1e-320", 12 * time.Hour}, {"-1", 12 * time.Hour}, {"0", 0}, {"0.5", 30 * time.Minute}} {
		conf := config.LoadDefault().With([][3]string{{"monitor.config", "self_check_interval_hours", tc.value}})
		j, err := NewMonitorSpec("test").New(supervisor.Options{Config: conf})
		if err != nil {
			t.Fatal(err)
		}
		if got := j.(*Monitor).checkEvery; got != tc.want {
			t.Errorf("self_check_interval_hours=%s: checks every %v, want %v", tc.value, got, tc.want)
		}
		if err := CheckConfig(conf); (err == nil) != (tc.want != 12*time.Hour) {
			t.Errorf("CheckConfig with self_check_interval_hours=%s: %v", tc.value, err)
		}
	}
	if err := CheckConfig(config.LoadDefault()); err != nil {
		t.Errorf("CheckConfig refuses the default config: %v", err)
	}
}
