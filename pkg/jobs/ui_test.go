package jobs

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal/sim"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// TestUIMatchesDeclarations: every setting a job's UI lists is one the job declares when it
// runs (under one of its automations), with the same datatype, unit and settable, so the
// dashboard's descriptors cannot drift from the code.
func TestUIMatchesDeclarations(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		declared := map[string]map[string]supervisor.Setting{}
		run := func(sup *supervisor.Supervisor, job string, options map[string]any) {
			t.Helper()
			err := sup.StartJob(context.Background(), job, contract.RunRequest{Options: options, Env: map[string]string{"EXPERIMENT": "exp"}})
			if err != nil {
				t.Fatalf("start %s %v: %v", job, options, err)
			}
			time.Sleep(5 * time.Second)
			got, err := sup.Declared(job)
			if err != nil {
				t.Fatalf("%s %v: %v", job, options, err)
			}
			if declared[job] == nil {
				declared[job] = map[string]supervisor.Setting{}
			}
			for _, s := range got {
				declared[job][s.Name] = s
			}
			if _, err := sup.StopJobs(context.Background(), contract.StopFilter{JobName: job}); err != nil {
				t.Fatal(err)
			}
		}

		d := newDosingRig(t, sim.DefaultParams())
		d.calibrateAll(1)
		d.producersRunning()
		run(d.sup, "stirring", nil)
		run(d.sup, jobODReading, nil)
		run(d.sup, jobGrowthRate, nil)
		for _, o := range []map[string]any{
			{"automation_name": "silent"},
			{"automation_name": "chemostat", "exchange_volume_ml": 0.5, "duration": 20},
			{"automation_name": "turbidostat", "exchange_volume_ml": 0.5, "target_biomass": 1.5, "biomass_signal": "normalized_od"},
			{"automation_name": "fed_batch", "dosing_volume_ml": 0.1, "duration": 20},
			{"automation_name": "pid_morbidostat", "target_normalized_od": 2, "target_growth_rate": 0.1, "duration": 60},
		} {
			run(d.sup, dosingJobName, o)
		}
		d.close()

		r := newSimRig(t, NewTemperatureAutomationSpec(TemperatureAutomations()), NewLEDAutomationSpec(LEDAutomations()))
		run(r.sup, "temperature_automation", map[string]any{"automation_name": "thermostat", "target_temperature": 30})
		run(r.sup, "temperature_automation", map[string]any{"automation_name": "only_record_temperature"})
		run(r.sup, "led_automation", map[string]any{"automation_name": "silent"})
		run(r.sup, "led_automation", map[string]any{"automation_name": "light_dark_cycle"})
		r.close()

		for job, ui := range jobUIs {
			if declared[job] == nil {
				t.Errorf("%s has a UI but was not started here", job)
				continue
			}
			for _, want := range ui.Settings {
				got, ok := declared[job][want.Name]
				switch {
				case !ok:
					t.Errorf("%s: the UI lists %s, which the job never declares", job, want.Name)
				case got.Datatype != want.Datatype || got.Unit != want.Unit || got.Settable != want.Settable:
					t.Errorf("%s.%s: UI says %s %q settable=%v, the job declares %s %q settable=%v", job, want.Name,
						want.Datatype, want.Unit, want.Settable, got.Datatype, got.Unit, got.Settable)
				}
			}
			for _, a := range ui.Automations {
				if !automationKnown(job, a.Name) {
					t.Errorf("%s: the UI lists automation %s, which the family does not have", job, a.Name)
				}
			}
		}
	})
}

func automationKnown(job, name string) bool {
	switch job {
	case dosingJobName:
		_, ok := DosingAutomations()[name]
		return ok
	case "temperature_automation":
		_, ok := TemperatureAutomations()[name]
		return ok
	case "led_automation":
		_, ok := LEDAutomations()[name]
		return ok
	}
	return false
}
