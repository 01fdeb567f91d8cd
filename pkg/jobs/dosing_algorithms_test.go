package jobs

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/calibration"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal/sim"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
)

// feed publishes a sensor value as its producer would, stamped now; retained if asked.
func (r *dosingRig) feed(job, attr string, v float64, retained bool) {
	r.t.Helper()
	payload := fmt.Sprintf(`{"%s": %v, "timestamp": "%s"}`, attr, v, contract.FormatTime(time.Now()))
	c, err := r.bus.Dial(context.Background(), pubsub.Options{})
	if err != nil {
		r.t.Fatal(err)
	}
	defer c.Close()
	if err := c.Publish(context.Background(), contract.JobTopic("pio01", "exp", job, attr), []byte(payload), pubsub.ExactlyOnce, retained); err != nil {
		r.t.Fatal(err)
	}
}

// producersRunning marks od_reading and growth_rate_calculating ready, as their retained
// $state would.
func (r *dosingRig) producersRunning() {
	for _, job := range []string{jobODReading, jobGrowthRate} {
		c, err := r.bus.Dial(context.Background(), pubsub.Options{})
		if err != nil {
			r.t.Fatal(err)
		}
		if err := c.Publish(context.Background(), contract.JobTopic("pio01", "exp", job, contract.StateAttr), []byte("ready"), pubsub.ExactlyOnce, true); err != nil {
			r.t.Fatal(err)
		}
		c.Close()
	}
}

func (r *dosingRig) calibrateAll(slope float64) {
	for _, dev := range []string{calibration.MediaPump, calibration.AltMediaPump, calibration.WastePump} {
		r.calibrate(dev, slope)
	}
}

// Turbidostat triggers (docs/jobs.md, "dosing_automation"): at the target inclusive, not on retained
// messages, not on the other signals, not while settling, not while sleeping.
func TestTurbidostatTriggers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newDosingRig(t, sim.DefaultParams())
		defer r.close()
		r.calibrateAll(1)
		r.producersRunning()
		r.feed(jobGrowthRate, "od_filtered", 5, true) // retained before the start: no dose
		if err := r.startErr(dosingJobName, map[string]any{"automation_name": "turbidostat", "target_biomass": "1.0", "exchange_volume_ml": "0.5", "biomass_signal": "normalized_od"}); err != nil {
			t.Fatal(err)
		}
		doses := func() int { return len(r.events.volumes(contract.AddMedia)) }
		step := func(what string, job, attr string, v float64, wantDoses int) {
			t.Helper()
			r.feed(job, attr, v, false)
			time.Sleep(20 * time.Second)
			if got := doses(); got != wantDoses {
				t.Fatalf("%s: %d doses, want %d", what, got, wantDoses)
			}
		}
		time.Sleep(5 * time.Second)
		step("below the target", jobGrowthRate, "od_filtered", 0.99, 0)
		if ev := r.retained(dosingJobName, "latest_event"); ev != "" {
			t.Fatalf("below target: latest_event %s, want none", ev)
		}
		step("at the target", jobGrowthRate, "od_filtered", 1.0, 1)
		if ev := r.latestEvent(); ev.EventName != contract.DilutionEvent || !strings.Contains(*ev.Message, "normalized_od") {
			t.Fatalf("latest event %+v", ev)
		}
		step("while settling", jobGrowthRate, "od_filtered", 2, 1)
		time.Sleep(20 * time.Second)
		step("another signal", jobODReading, "od_fused", 2, 1)
		step("after settling", jobGrowthRate, "od_filtered", 1.5, 2)
		time.Sleep(time.Minute)
		r.set(dosingJobName, "$state", "sleeping")
		time.Sleep(time.Second)
		step("while sleeping", jobGrowthRate, "od_filtered", 3, 2)
		r.set(dosingJobName, "$state", "ready")
		time.Sleep(time.Second)
		step("resumed, below", jobGrowthRate, "od_filtered", 0.5, 2)
		// The signal is settable; a bad one is refused and the old one kept.
		r.set(dosingJobName, "biomass_signal", "magic")
		r.set(dosingJobName, "target_biomass", "NaN")
		time.Sleep(time.Second)
		if s, tb := r.retained(dosingJobName, "biomass_signal"), r.retained(dosingJobName, "target_biomass"); s != "normalized_od" || tb != "1.0" {
			t.Fatalf("after bad /set: biomass_signal %q, target %q", s, tb)
		}
		r.set(dosingJobName, "biomass_signal", "od_fused")
		time.Sleep(time.Second)
		step("new signal", jobODReading, "od_fused", 1.2, 3)
	})
}

// PID morbidostat arithmetic (docs/algorithms.md, "Dosing arithmetic"): g* = 0.1, V = 14, duration 60 and a growth
// rate of 0.4 give f = 0.3: alt 0.42, media 0.98, waste 1.4 in two sub-doses; with f = 0.05
// the alt part is below the minimum and dropped.
func TestPIDMorbidostatDoses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name               string
		growth, nod        float64
		alt, media         float64
		firstAlt           float64 // the first alt-media sub-dose
		event, messagePart string
	}{
		{"f = 0.3", 0.4, 1.0, 0.42, 0.98, 0.21, contract.AddAltMediaEvent, "PID output=0.30"},
		{"f = 0.05: alt dropped", 0.15, 1.0, 0, 1.33, 0, contract.AddAltMediaEvent, "alt_media_ml=0.00mL"},
		{"triple dilution far past target", 0.4, 1.3, 1.05, 2.45, 0.2625, contract.AddAltMediaEvent, "PID output=0.30"},
		{"below the OD to start", 0.4, 0.7, 0, 0, 0, contract.NoEvent, "latest OD less than OD to start diluting"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				r := newDosingRig(t, sim.DefaultParams())
				defer r.close()
				r.calibrateAll(1)
				r.producersRunning()
				r.feed(jobGrowthRate, "growth_rate", tc.growth, true)
				r.feed(jobGrowthRate, "od_filtered", tc.nod, true)
				if err := r.startErr(BioreactorJobName, nil); err != nil {
					t.Fatal(err)
				}
				if err := r.startErr(dosingJobName, map[string]any{"automation_name": "pid_morbidostat", "target_normalized_od": 1.0,
					"target_growth_rate": 0.1, "duration": 60.0, "current_volume_ml": 14.0}); err != nil {
					t.Fatal(err)
				}
				time.Sleep(2 * time.Minute)
				if alt, media := r.events.sum(contract.AddAltMedia), r.events.sum(contract.AddMedia); !near(alt, tc.alt, 1e-9) || !near(media, tc.media, 1e-9) {
					t.Fatalf("alt %v mL, media %v mL; want %v, %v (events %v)", alt, media, tc.alt, tc.media, r.events.volumes(""))
				}
				if alts := r.events.volumes(contract.AddAltMedia); tc.alt > 0 && (len(alts) == 0 || !near(alts[0], tc.firstAlt, 1e-9)) {
					t.Fatalf("alt events %v: want sub-doses of %v", alts, tc.firstAlt)
				}
				ev := r.latestEvent()
				if ev.EventName != tc.event || ev.Message == nil || !strings.Contains(*ev.Message, tc.messagePart) {
					t.Fatalf("latest event %+v, want %s with %q", ev, tc.event, tc.messagePart)
				}
			})
		})
	}
}

// Fed-batch adds its dose until the next one would reach the maximum fill volume, then
// skips it and pauses.
func TestFedBatchStopsBeforeOverflow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newDosingRig(t, sim.DefaultParams())
		defer r.close()
		r.calibrateAll(1)
		if err := r.startErr(BioreactorJobName, nil); err != nil {
			t.Fatal(err)
		}
		if err := r.startErr(dosingJobName, map[string]any{"automation_name": "fed_batch", "dosing_volume_ml": 1.0, "duration": 1.0, "current_volume_ml": 33.0}); err != nil {
			t.Fatal(err)
		}
		if v := r.bio(contract.CurrentVolumeML); v != 33 {
			t.Fatalf("start option current_volume_ml not published: %v", v)
		}
		time.Sleep(5 * time.Minute)
		if got := r.events.sum(contract.AddMedia); !near(got, 2, 1e-9) {
			t.Fatalf("media %v mL, want 2 (33 → 35, then 36 would be reached)", got)
		}
		if st := r.retained(dosingJobName, "$state"); st != "sleeping" {
			t.Fatalf("state %q", st)
		}
		if ev := r.latestEvent(); ev.EventName != contract.NoEvent || *ev.Message != "Skipped dosing to avoid overflow." {
			t.Fatalf("latest event %+v", ev)
		}
		if v := r.bio(contract.CurrentVolumeML); v != 35 {
			t.Fatalf("volume %v", v)
		}
	})
}

// Silent doses nothing and keeps its duration option to itself.
func TestSilentDosing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newDosingRig(t, sim.DefaultParams())
		defer r.close()
		if err := r.startErr(dosingJobName, map[string]any{"automation_name": "silent", "duration": 5.0}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Hour)
		if n := len(r.events.all()); n != 0 || r.retained(dosingJobName, "automation_name") != "silent" {
			t.Fatalf("%d events, automation_name %q", n, r.retained(dosingJobName, "automation_name"))
		}
		if r.retained(dosingJobName, "duration") != "" {
			t.Fatal("silent published a duration")
		}
		if v := r.bio(contract.CurrentVolumeML); v != 15 {
			t.Fatalf("start values not published: current_volume_ml %v", v)
		}
	})
}

// biomass_signal od reads the single signal channel of od_reading/ods; auto resolves to od
// when an OD calibration is active for that channel's angle.
func TestTurbidostatRawODSignal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newDosingRig(t, sim.DefaultParams())
		defer r.close()
		r.calibrateAll(1)
		od := calibration.Calibration{Type: calibration.TypeOD600, Name: "od90-std", Unit: "pio01", CreatedAt: time.Now(),
			Curve: calibration.PolyCurve(0.3, 0.03), X: "OD600", Y: "Voltage", Angle: "90", PDChannel: "2", IRLEDIntensity: 80}
		if _, err := r.dosing.Calibrations.Save("od90", od); err != nil {
			t.Fatal(err)
		}
		if err := r.dosing.Calibrations.SetActive("od90", od.Name); err != nil {
			t.Fatal(err)
		}
		if err := r.startErr(dosingJobName, map[string]any{"automation_name": "turbidostat", "target_biomass": 0.5, "exchange_volume_ml": 0.5}); err != nil {
			t.Fatal(err)
		}
		if sig := r.retained(dosingJobName, "biomass_signal"); sig != "od" {
			t.Fatalf("auto resolved to %q, want od (an OD calibration is active for od90)", sig)
		}
		ods := func(v float64) {
			payload := fmt.Sprintf(`{"timestamp": %q, "ods": {"2": {"calibrated": 1, "timestamp": %q, "angle": "90", "od": %v, "channel": "2", "ir_led_intensity": 80.0, "calibration_name": "od90-std"}}}`,
				contract.FormatTime(time.Now()), contract.FormatTime(time.Now()), v)
			publish(t, r.simRig, contract.JobTopic("pio01", "exp", jobODReading, "ods"), payload)
			time.Sleep(45 * time.Second)
		}
		ods(0.49)
		if n := len(r.events.all()); n != 0 {
			t.Fatalf("dosed below target: %v", r.events.volumes(""))
		}
		ods(0.5)
		if got := r.events.sum(contract.AddMedia); !near(got, 0.5, 1e-9) {
			t.Fatalf("at target: media %v mL, want 0.5", got)
		}
	})
}
