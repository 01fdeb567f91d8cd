package jobs

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal/sim"
)

func ledState(t *testing.T, r *simRig) map[string]float64 {
	t.Helper()
	return decode[map[string]float64](t, r.retainedTopic(contract.LEDIntensityTopic("pio01", "exp")))
}

func runningCount(t *testing.T, r *simRig, job string) int {
	t.Helper()
	rows, err := r.sup.Running()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, row := range rows {
		if row.JobName == job {
			n++
		}
	}
	return n
}

func TestLEDIntensityAction(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newAutoRig(t, sim.DefaultParams(), nil, NewLEDIntensitySpec())
		defer r.close()
		r.start("led_intensity", map[string]any{"B": 50.0, "c": "12.5"})
		synctest.Wait()
		if got := r.retainedTopic(contract.LEDIntensityTopic("pio01", "exp")); got != `{"A":0.0,"B":50.0,"C":12.5,"D":0.0}` {
			t.Fatalf("leds/intensity %s", got)
		}
		events := r.msgs.on(contract.LEDChangeEventsTopic("pio01", "exp"))
		if len(events) != 2 {
			t.Fatalf("led_change_events %v", events)
		}
		ev := decode[contract.LEDChangeEvent](t, events[0])
		if ev.Channel != "B" || ev.Intensity != 50 || ev.SourceOfEvent == nil || *ev.SourceOfEvent != "CLI" {
			t.Fatalf("event %s", events[0])
		}
		if !r.logs.has("INFO", "Updated LED B from 0% to 50%.") || !r.logs.has("Updated LED C from 0% to 12.5%.") {
			t.Fatalf("log:\n%s", r.logs.dump())
		}
		if got := r.retained("led_intensity", "$state"); got != "ready" || runningCount(t, r, "led_intensity") != 1 {
			t.Fatalf("an action that left LEDs on: state %q, %d running", got, runningCount(t, r, "led_intensity"))
		}
		// A channel locked by another job (od_reading during a reading) is set once the lock
		// is released, the others at once; a second instance runs beside the first.
		bank := unitLEDs(r.plant.Board().LEDs)
		if !bank.lock("od_reading", "B") {
			t.Fatal("lock refused")
		}
		r.start("led_intensity", map[string]any{"B": 10.0, "D": 10.0, "no_verbose": true})
		time.Sleep(time.Second) // well within ledLockWait
		synctest.Wait()
		if got := ledState(t, r); got["B"] != 50 || got["D"] != 10 {
			t.Fatalf("with B locked: %v", got)
		}
		if !r.logs.has("INFO", "LED B locked by another job") {
			t.Error("waiting for the locked channel not reported")
		}
		bank.unlock("od_reading", "B")
		synctest.Wait()
		if got := ledState(t, r); got["B"] != 10 || got["D"] != 10 {
			t.Fatalf("after the lock on B was released: %v", got)
		}
		if n := len(r.msgs.on(contract.LEDChangeEventsTopic("pio01", "exp"))); n != 2 {
			t.Errorf("no_verbose published change events (%d in all)", n)
		}
		// An OD reading switches LEDs off under its lock and restores them (here B to the
		// first instance's 50): no instance ends.
		if !bank.lock("od_reading", "A", "B", "C", "D") {
			t.Fatal("lock refused")
		}
		rt := r.plant.Board().LEDs
		for _, v := range []float64{0, 50} {
			if err := rt.SetIntensity("B", v); err != nil {
				t.Fatal(err)
			}
			bank.mu.Lock()
			bank.intensity["B"] = v
			bank.notify()
			bank.mu.Unlock()
			synctest.Wait()
		}
		bank.unlock("od_reading", "A", "B", "C", "D")
		synctest.Wait()
		if n := runningCount(t, r, "led_intensity"); n != 2 {
			t.Fatalf("%d led_intensity running after an OD reading, want 2", n)
		}
		// Switching C off ends nothing (B is still the first instance's), and the change
		// itself does not stay running.
		r.start("led_intensity", map[string]any{"C": 0.0})
		synctest.Wait()
		if n := runningCount(t, r, "led_intensity"); n != 2 {
			t.Fatalf("%d led_intensity running, want 2", n)
		}
		// Another change of D retires the instance that switched it on.
		r.start("led_intensity", map[string]any{"D": 0.0})
		synctest.Wait()
		if n := runningCount(t, r, "led_intensity"); n != 1 {
			t.Fatalf("%d led_intensity running, want 1", n)
		}
		// Stopping it switches its LED off.
		if n, err := r.sup.StopJobs(t.Context(), contract.StopFilter{JobName: "led_intensity"}); n != 1 || err != nil {
			t.Fatalf("stop: %d, %v", n, err)
		}
		synctest.Wait()
		if got := ledState(t, r); got["A"]+got["B"]+got["C"]+got["D"] != 0 {
			t.Fatalf("LEDs after stopping led_intensity: %v", got)
		}
	})
}

// A channel locked for longer than ledLockWait is an error naming it, and nothing waits on.
func TestLEDIntensityLockedTooLong(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newAutoRig(t, sim.DefaultParams(), nil, NewLEDIntensitySpec())
		defer r.close()
		bank := unitLEDs(r.plant.Board().LEDs)
		if !bank.lock("od_reading", "B") {
			t.Fatal("lock refused")
		}
		defer bank.unlock("od_reading", "B")
		r.start("led_intensity", map[string]any{"B": 10.0})
		time.Sleep(ledLockWait + time.Second)
		synctest.Wait()
		if got := r.retainedTopic(contract.LEDIntensityTopic("pio01", "exp")); got != "" {
			t.Fatalf("B set through another job's lock: %s", got)
		}
		if !r.logs.has("ERROR", "B not changed") {
			t.Fatalf("no error naming the locked channel; log:\n%s", r.logs.dump())
		}
		if n := runningCount(t, r, "led_intensity"); n != 0 {
			t.Fatalf("%d led_intensity still running", n)
		}
	})
}

// light_dark_cycle switches C and D at the phase boundaries, in virtual time.
func TestLightDarkCycle(t *testing.T) {
	t.Parallel()
	type check struct {
		at   time.Duration // since start
		want float64       // intensity of C and D
	}
	for _, tc := range []struct {
		name          string
		light, dark   float64 // minutes
		checks        []check
		wantOnChanges int // ChangedLedIntensity events by the last check
	}{
		{"16 h light, 8 h dark", 960, 480, []check{{time.Minute, 7}, {15*time.Hour + 59*time.Minute, 7},
			{16*time.Hour + time.Minute, 0}, {23*time.Hour + 59*time.Minute, 0}, {24*time.Hour + time.Minute, 7}}, 3},
		{"0.1 min phases toggle every 6 s", 0.1, 0.1, []check{{time.Second, 7}, {5 * time.Second, 7},
			{7 * time.Second, 0}, {11 * time.Second, 0}, {13 * time.Second, 7}, {61 * time.Second, 7}, {67 * time.Second, 0}}, 12},
		{"0.9 h light, 0.1 h dark", 54, 6, []check{{10 * time.Minute, 7}, {55 * time.Minute, 0}, {62 * time.Minute, 7}}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				r := newAutoRig(t, sim.DefaultParams(), nil, NewLEDAutomationSpec(LEDAutomations()))
				defer r.close()
				start := time.Now()
				r.start("led_automation", map[string]any{"automation_name": "light_dark_cycle", "light_intensity": "7",
					"light_duration_minutes": tc.light, "dark_duration_minutes": tc.dark})
				for _, c := range tc.checks {
					time.Sleep(c.at - time.Since(start))
					if got := ledState(t, r); got["C"] != c.want || got["D"] != c.want || got["A"] != 0 || got["B"] != 0 {
						t.Fatalf("at %v: LEDs %v, want C and D at %v", c.at, got, c.want)
					}
				}
				var changes int
				for _, p := range r.msgs.on(latestEventTopic("led_automation")) {
					if p != "" && decode[contract.AutomationEvent](t, p).EventName == contract.ChangedLedIntensity {
						changes++
					}
				}
				if changes != tc.wantOnChanges {
					t.Fatalf("%d ChangedLedIntensity events, want %d", changes, tc.wantOnChanges)
				}
			})
		})
	}
}

func TestLightDarkCycleSettersAndStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newAutoRig(t, sim.DefaultParams(), nil, NewLEDAutomationSpec(LEDAutomations()))
		defer r.close()
		r.start("led_automation", map[string]any{"automation_name": "light_dark_cycle", "light_intensity": 5.0,
			"light_duration_minutes": 1.0, "dark_duration_minutes": 1.0})
		time.Sleep(30 * time.Second)
		r.set("led_automation", "light_intensity", "20") // applied at once in the light phase
		time.Sleep(time.Second)
		if got := ledState(t, r); got["C"] != 20 || got["D"] != 20 {
			t.Fatalf("after light_intensity=20: %v", got)
		}
		time.Sleep(60 * time.Second) // 91 s: dark
		if got := ledState(t, r); got["C"] != 0 {
			t.Fatalf("dark phase: %v", got)
		}
		r.set("led_automation", "dark_duration_minutes", "0") // always light, at once
		time.Sleep(time.Second)
		if got := ledState(t, r); got["C"] != 20 {
			t.Fatalf("after dark=0: %v", got)
		}
		r.set("led_automation", "light_duration_minutes", "0") // always dark, at once
		time.Sleep(time.Second)
		if got := ledState(t, r); got["C"] != 0 {
			t.Fatalf("after light=0: %v", got)
		}
		for _, bad := range []string{"-3", "1e308", "1e-320"} { // 1e308 used to overflow into a 50 ms phase
			r.set("led_automation", "light_duration_minutes", bad)
			time.Sleep(time.Second)
			if got := r.retained("led_automation", "light_duration_minutes"); got != "0.0" || !r.logs.has("ERROR", "light_duration_minutes must be 0, or") {
				t.Fatalf("light_duration_minutes %s: retained %q", bad, got)
			}
		}
		r.set("led_automation", "light_duration_minutes", "1")
		r.set("led_automation", "dark_duration_minutes", "1")
		time.Sleep(time.Second) // 95 s into a 2-minute cycle: dark
		if got := ledState(t, r); got["C"] != 0 {
			t.Fatalf("back to a cycle, dark phase: %v", got)
		}
		time.Sleep(30 * time.Second) // 125 s: light again
		if got := ledState(t, r); got["C"] != 20 {
			t.Fatalf("back to a cycle, light phase: %v", got)
		}
		// Sleeping stops the cycle with the LEDs as they are; stopping switches them off.
		r.set("led_automation", "$state", "sleeping")
		time.Sleep(5 * time.Minute)
		if got := ledState(t, r); got["C"] != 20 {
			t.Fatalf("LEDs changed while sleeping: %v", got)
		}
		recs := r.msgs.on(contract.AutomationSettingsTopic("pio01", "exp", "led_automation"))
		if len(recs) < 7 {
			t.Fatalf("%d settings records", len(recs))
		}
		r.set("led_automation", "$state", "disconnected")
		time.Sleep(time.Second)
		if got := ledState(t, r); got["C"] != 0 || got["D"] != 0 {
			t.Fatalf("LEDs left on after stop: %v", got)
		}
		last := decode[contract.AutomationSettings](t, r.msgs.on(contract.AutomationSettingsTopic("pio01", "exp", "led_automation"))[len(recs)])
		if !strings.Contains(string(last.Settings), `"state":"disconnected"`) {
			t.Errorf("final settings record %s", last.Settings)
		}
	})
}

func TestLEDSilent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newAutoRig(t, sim.DefaultParams(), nil, NewLEDAutomationSpec(LEDAutomations()))
		defer r.close()
		r.start("led_automation", map[string]any{"automation_name": "silent", "duration": 5.0})
		time.Sleep(time.Hour)
		if got := r.retained("led_automation", "automation_name"); got != "silent" {
			t.Fatalf("automation_name %q", got)
		}
		if got := r.retainedTopic(contract.LEDIntensityTopic("pio01", "exp")); got != "" {
			t.Fatalf("silent changed LEDs: %s", got)
		}
	})
}
