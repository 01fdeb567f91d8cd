package jobs

import (
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// How the dashboard shows the jobs (supervisor.UI): labels and help in our own words, the
// settings each job's card lists, the automation start forms. Names, datatypes, units and
// settable match what the jobs declare when they run (TestUIMatchesDeclarations).

// Describe gives every spec of a job table its UI, by job name; jobs without one (actions,
// internal jobs) stay out of the dashboard's list.
func Describe(specs []supervisor.Spec) []supervisor.Spec {
	out := make([]supervisor.Spec, len(specs))
	for i, s := range specs {
		if ui, ok := jobUIs[s.Name]; ok && s.UI == nil {
			s.UI = ui
		}
		out[i] = s
	}
	return out
}

func shown(name string, d contract.Datatype, unit string, settable bool, label, help string) supervisor.Setting {
	return supervisor.Setting{Name: name, Datatype: d, Unit: unit, Settable: settable, Display: true, Label: label, Description: help}
}

func hidden(name string, d contract.Datatype, unit string, settable bool) supervisor.Setting {
	return supervisor.Setting{Name: name, Datatype: d, Unit: unit, Settable: settable}
}

var (
	automationName = shown("automation_name", contract.String, "", false, "Automation", "The algorithm running.")
	latestEvent    = hidden("latest_event", contract.TypeAutomationEvent, "", false)
	durationMin    = shown("duration", contract.Float, "min", true, "Time between runs", "Minutes between two runs of the algorithm.")
)

var jobUIs = map[string]*supervisor.UI{
	"stirring": {DisplayName: "Stirring", Description: "Spins the stir bar at a target speed, measured by the hall sensor and held by a feedback loop.",
		Settings: []supervisor.Setting{
			withBounds(shown("target_rpm", contract.Float, "RPM", true, "Target speed", "The speed the loop holds the stir bar at."), 0, 2000),
			shown("measured_rpm", contract.TypeMeasuredRPM, "RPM", false, "Measured speed", "The latest speed the hall sensor read."),
			hidden("duty_cycle", contract.Float, "%", true),
			shown("enable_dodging_od", contract.Boolean, "", true, "Dodge OD readings", "Slow the stir bar around each OD reading."),
			hidden("currently_dodging_od", contract.Boolean, "", false),
			hidden("target_rpm_during_od_reading", contract.Float, "RPM", true),
			hidden("target_rpm_outside_od_reading", contract.Float, "RPM", true),
		}},
	odReadingJobName: {DisplayName: "Optical density", Description: "Reads the culture's turbidity through the photodiodes at a fixed interval.",
		Settings: []supervisor.Setting{
			shown("ir_led_intensity", contract.Float, "%", true, "IR LED intensity", "Brightness of the infrared LED that lights the culture."),
			shown("interval", contract.Float, "s", true, "Time between readings", "Seconds between two readings."),
			hidden("first_od_obs_time", contract.Float, "", false),
			hidden("relative_intensity_of_ir_led", contract.JSON, "", false),
			hidden("ods", contract.TypeODReadings, "", false),
		}},
	growthRateJobName: {DisplayName: "Growth rate", Description: "Estimates the normalised optical density and the growth rate from the readings, with a Kalman filter.",
		Subtext: "Needs optical density running.",
		Settings: []supervisor.Setting{
			shown("growth_rate", contract.TypeGrowthRate, "h⁻¹", false, "Implied growth rate", "The latest estimate, per hour."),
			shown("od_filtered", contract.TypeODFiltered, "", false, "Normalised OD", "Optical density relative to the start of the run."),
		}},
	"temperature_automation": {DisplayName: "Temperature automation", Description: "Runs the heater under an automation: hold a temperature, or only record it.",
		Settings: []supervisor.Setting{
			automationName, latestEvent,
			shown("temperature", contract.TypeTemperature, "℃", false, "Temperature", "The culture temperature the automation infers."),
			hidden("heater_duty_cycle", contract.Float, "%", false),
			withBounds(shown("target_temperature", contract.Float, "℃", true, "Target temperature", "The temperature the thermostat holds."), 0, 50),
		},
		Automations: []supervisor.Automation{
			{Name: "thermostat", DisplayName: "Thermostat", Description: "Holds the culture at a target temperature with a feedback loop on the heater.",
				Fields: []supervisor.Field{{Key: "target_temperature", Label: "Target temperature", Unit: "℃", Default: 30}}},
			{Name: "only_record_temperature", DisplayName: "Only record temperature",
				Description: "Leaves the heater off and records the temperature.", Fields: []supervisor.Field{}},
		}},
	dosingJobName: {DisplayName: "Dosing automation", Description: "Adds and removes liquid with the pumps under an automation: chemostat, turbidostat and others.",
		Settings: []supervisor.Setting{
			automationName, latestEvent, durationMin,
			shown("exchange_volume_ml", contract.Float, "mL", true, "Exchange volume", "Volume swapped at each dilution."),
			shown("target_biomass", contract.Float, "OD/AU", true, "Target biomass", "The biomass signal the turbidostat dilutes at."),
			shown("biomass_signal", contract.String, "", true, "Biomass signal", "The signal the turbidostat watches: normalized_od, od or od_fused."),
			shown("dosing_volume_ml", contract.Float, "mL", true, "Dose", "Volume of media added at each run."),
			shown("target_normalized_od", contract.Float, "AU", true, "Target normalised OD", "The normalised OD the morbidostat starts to add drug above."),
			shown("target_growth_rate", contract.Float, "h⁻¹", true, "Target growth rate", "The growth rate the morbidostat holds."),
		},
		Automations: []supervisor.Automation{
			{Name: "silent", DisplayName: "Silent", Description: "Does nothing: the pumps stay off. Useful to keep the bookkeeping running.", Fields: []supervisor.Field{}},
			{Name: "chemostat", DisplayName: "Chemostat", Description: "Swaps a fixed volume of culture for fresh media at a fixed interval: a constant dilution rate.",
				Fields: []supervisor.Field{
					{Key: "exchange_volume_ml", Label: "Exchange volume", Unit: "mL", Default: 0.5},
					{Key: "duration", Label: "Time between dilutions", Unit: "min", Default: 20},
				}},
			{Name: "turbidostat", DisplayName: "Turbidostat", Description: "Dilutes whenever the biomass signal reaches a target: a constant density.",
				Fields: []supervisor.Field{
					{Key: "target_biomass", Label: "Target biomass", Unit: "OD/AU", Default: 1.5},
					{Key: "exchange_volume_ml", Label: "Exchange volume", Unit: "mL", Default: 1.0},
					{Key: "biomass_signal", Label: "Biomass signal", Type: "select", Default: "auto", Options: []string{"auto", "normalized_od", "od", "od_fused"}},
				}},
			{Name: "fed_batch", DisplayName: "Fed batch", Description: "Adds a fixed dose of media at a fixed interval and removes nothing: watch the level.",
				Fields: []supervisor.Field{
					{Key: "dosing_volume_ml", Label: "Dose", Unit: "mL", Default: 0.1},
					{Key: "duration", Label: "Time between doses", Unit: "min", Default: 20},
				}},
			{Name: "pid_morbidostat", DisplayName: "PID morbidostat", Description: "Mixes media and alt media (a drug) to hold a growth rate once the culture is dense enough.",
				Fields: []supervisor.Field{
					{Key: "target_normalized_od", Label: "Target normalised OD", Unit: "AU", Default: 2.0},
					{Key: "target_growth_rate", Label: "Target growth rate", Unit: "h⁻¹", Default: 0.1},
					{Key: "duration", Label: "Time between runs", Unit: "min", Default: 60},
				}},
		}},
	"led_automation": {DisplayName: "LED automation", Description: "Drives the LEDs under an automation, e.g. a day and night cycle.",
		Settings: []supervisor.Setting{
			automationName, latestEvent,
			withBounds(shown("light_intensity", contract.Float, "%", true, "Light intensity", "Brightness of the growth LEDs while on."), 0, 100),
			shown("light_duration_minutes", contract.Float, "min", true, "Light phase", "Minutes of light in each cycle."),
			shown("dark_duration_minutes", contract.Float, "min", true, "Dark phase", "Minutes of dark in each cycle."),
		},
		Automations: []supervisor.Automation{
			{Name: "silent", DisplayName: "Silent", Description: "Leaves the LEDs as they are.", Fields: []supervisor.Field{}},
			{Name: "light_dark_cycle", DisplayName: "Light/dark cycle", Description: "Turns the growth LEDs on and off in a repeating cycle.",
				Fields: []supervisor.Field{
					{Key: "light_intensity", Label: "Light intensity", Unit: "%", Default: 5},
					{Key: "light_duration_minutes", Label: "Light phase", Unit: "min", Default: 960},
					{Key: "dark_duration_minutes", Label: "Dark phase", Unit: "min", Default: 480},
				}},
		}},
}

func withBounds(s supervisor.Setting, lo, hi float64) supervisor.Setting {
	s.Min, s.Max = supervisor.Float(lo), supervisor.Float(hi)
	return s
}
