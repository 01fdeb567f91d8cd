package jobs

import (
	"encoding/json"
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/contract"
)

func measuredRPM(t *testing.T, r *simRig) float64 {
	t.Helper()
	var m struct {
		MeasuredRPM float64 `json:"measured_rpm"`
	}
	if err := json.Unmarshal([]byte(r.retained("stirring", "measured_rpm")), &m); err != nil {
		t.Fatalf("measured_rpm %q: %v", r.retained("stirring", "measured_rpm"), err)
	}
	return m.MeasuredRPM
}

// Closed loop on the simulated motor: the RPM settles within ±5 % of target and re-settles
// after a change of target.
func TestStirringHoldsTargetRPM(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newSimRig(t, NewStirringSpec(nil))
		defer r.close()
		r.start("stirring", map[string]any{"target_rpm": 400.0})
		for _, step := range []struct {
			target string
			want   float64
		}{{"", 400}, {"600", 600}} {
			if step.target != "" {
				r.set("stirring", "target_rpm", step.target)
			}
			time.Sleep(15 * time.Minute)
			for i := 0; i < 5; i++ { // stays there
				time.Sleep(23 * time.Second)
				truth := r.plant.Truth().RPM
				if got := measuredRPM(t, r); math.Abs(got-step.want)/step.want > 0.05 || math.Abs(truth-step.want)/step.want > 0.05 {
					t.Fatalf("target %v: measured %v RPM, true %v RPM", step.want, got, truth)
				}
			}
		}
	})
}

func TestStirringSleepStopsMotor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newSimRig(t, NewStirringSpec(nil))
		defer r.close()
		r.start("stirring", map[string]any{"target_rpm": 500.0})
		time.Sleep(time.Minute)
		r.set("stirring", "$state", "sleeping")
		time.Sleep(30 * time.Second)
		if rpm := r.plant.Truth().RPM; rpm > 1 {
			t.Fatalf("motor at %v RPM while sleeping", rpm)
		}
		r.set("stirring", "$state", "ready")
		time.Sleep(time.Minute)
		if rpm := r.plant.Truth().RPM; rpm < 400 {
			t.Fatalf("motor at %v RPM after resume", rpm)
		}
		r.set("stirring", "$state", "disconnected")
		time.Sleep(time.Second)
		if rpm, dc := r.plant.Truth().RPM, r.retained("stirring", "duty_cycle"); dc != "" {
			t.Fatalf("duty_cycle still retained (%q), rpm %v, state %q", dc, rpm, r.retained("stirring", "$state"))
		}
	})
}

func TestStirringRefusesBadOptions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newSimRig(t, NewStirringSpec(nil))
		defer r.close()
		for _, opts := range []map[string]any{{"target_rpm": -5.0}, {"target_rpm": "fast"}, {"duty_cycle": 150.0}} {
			if err := r.sup.StartJob(t.Context(), "stirring", contract.RunRequest{Options: opts, Env: map[string]string{"EXPERIMENT": "exp"}}); err == nil {
				t.Errorf("options %v accepted", opts)
			}
		}
		if got := r.retained("stirring", "$state"); got != "" {
			t.Fatalf("a refused start published state %q", got)
		}
	})
}

// Stopping the motor (target 0 RPM, or duty cycle 0) and asking for 500 RPM again: after the
// restart kick the PID keeps raising the duty cycle until the bar turns and settles (it used
// to restart at the stopped estimate, 0 %, every 23 s, forever).
func TestStirringRecoversFromStop(t *testing.T) {
	for _, stop := range []struct{ attr, value string }{{"target_rpm", "0"}, {"duty_cycle", "0"}} {
		t.Run(stop.attr, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newSimRig(t, NewStirringSpec(nil))
				defer r.close()
				r.start("stirring", map[string]any{"target_rpm": 500.0})
				time.Sleep(15 * time.Minute)
				r.set("stirring", stop.attr, stop.value)
				time.Sleep(time.Second)
				if dc := r.retained("stirring", "duty_cycle"); dc != "0.0" {
					t.Fatalf("%s %s: duty_cycle %s", stop.attr, stop.value, dc)
				}
				if stop.attr == "target_rpm" {
					time.Sleep(time.Minute)
					if rpm := r.plant.Truth().RPM; rpm > 1 {
						t.Fatalf("target 0: motor at %v RPM", rpm)
					}
				}
				r.set("stirring", "target_rpm", "500")
				const bound = 20 * time.Minute
				start := time.Now()
				for {
					time.Sleep(23 * time.Second)
					if math.Abs(r.plant.Truth().RPM-500) <= 25 && math.Abs(measuredRPM(t, r)-500) <= 25 {
						break
					}
					if time.Since(start) > bound {
						t.Fatalf("not back within ±5 %% of 500 RPM %v after the restart: true %v RPM, measured %v, duty %s",
							bound, r.plant.Truth().RPM, measuredRPM(t, r), r.retained("stirring", "duty_cycle"))
					}
				}
				t.Logf("back within ±5 %% of 500 RPM %v after the restart", time.Since(start).Round(time.Second))
				for range 5 { // and stays there
					time.Sleep(23 * time.Second)
					if rpm := r.plant.Truth().RPM; math.Abs(rpm-500) > 25 {
						t.Fatalf("left ±5 %% of 500 RPM after recovering: %v RPM", rpm)
					}
				}
			})
		})
	}
}
