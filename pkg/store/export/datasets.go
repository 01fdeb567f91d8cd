package export

import (
	"fmt"
	"slices"

	"github.com/pioreactor/pioreactord/pkg/store"
)

// Dataset is an exportable dataset (docs/data.md, "Export datasets"). Its rows come from a Go source
// over the store, never from SQL: Query only describes, for schema.json, what the
// reference's query computes.
type Dataset struct {
	Name                  string
	DisplayName           string
	Description           string
	Source                string // provider: "app"
	Table                 string
	Query                 string // "" is null
	HasExperiment         bool
	HasUnit               bool
	DefaultOrderBy        string
	TimestampColumns      []string
	AlwaysPartitionByUnit bool
	Columns               []Column

	read  func(src Source, f filter) (iterator, error)
	table store.Table // the store table the rows come from, if exactly one
}

// Column is one column of a dataset with what schema.json says of it.
type Column struct {
	Name        string
	Kind        store.Kind
	Description string
	Unit        string
}

// Descriptor is a Dataset as GET /api/datasets/exportable lists it (the reference's YAML
// descriptor fields).
type Descriptor struct {
	DatasetName           string            `json:"dataset_name"`
	DisplayName           string            `json:"display_name"`
	Description           *string           `json:"description"`
	HasExperiment         bool              `json:"has_experiment"`
	HasUnit               bool              `json:"has_unit"`
	DefaultOrderBy        *string           `json:"default_order_by"`
	Table                 *string           `json:"table"`
	Query                 *string           `json:"query"`
	Source                string            `json:"source"`
	TimestampColumns      []string          `json:"timestamp_columns"`
	AlwaysPartitionByUnit bool              `json:"always_partition_by_unit"`
	ColumnDescriptions    map[string]string `json:"column_descriptions"`
	ColumnUnits           map[string]string `json:"column_units"`
}

// Descriptor returns d's descriptor.
func (d Dataset) Descriptor() Descriptor {
	out := Descriptor{DatasetName: d.Name, DisplayName: d.DisplayName, Description: nullable(d.Description),
		HasExperiment: d.HasExperiment, HasUnit: d.HasUnit, DefaultOrderBy: nullable(d.DefaultOrderBy),
		Table: nullable(d.Table), Query: nullable(d.Query), Source: d.Source,
		TimestampColumns: append([]string{}, d.TimestampColumns...), AlwaysPartitionByUnit: d.AlwaysPartitionByUnit,
		ColumnDescriptions: map[string]string{}, ColumnUnits: map[string]string{}}
	for _, c := range d.Columns {
		if c.Description != "" {
			out.ColumnDescriptions[c.Name] = c.Description
		}
		if c.Unit != "" {
			out.ColumnUnits[c.Name] = c.Unit
		}
	}
	return out
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Datasets lists the built-in datasets in the reference's order.
func Datasets() []Dataset { return slices.Clone(builtins) }

// Lookup finds a dataset by name.
func Lookup(name string) (Dataset, bool) {
	for _, d := range builtins {
		if d.Name == name {
			return d, true
		}
	}
	return Dataset{}, false
}

// What schema.json says of the columns, by name; a table's columns not listed here get
// no description.
var (
	descriptions = map[string]string{
		"experiment":                "Experiment name.",
		"pioreactor_unit":           "Pioreactor unit name.",
		"timestamp":                 "UTC time of the reading or event (ISO 8601).",
		"od_reading":                "Optical density reading.",
		"angle":                     "Angle of the photodiode to the IR LED, in degrees.",
		"channel":                   "Photodiode channel, or LED channel.",
		"normalized_od_reading":     "OD normalised by its initial value and filtered.",
		"rate":                      "Specific growth rate.",
		"temperature_c":             "Vial temperature.",
		"measured_rpm":              "Measured stir bar speed.",
		"alt_media_fraction":        "Fraction of the vial that is alternative media.",
		"liquid_volume":             "Volume of liquid in the vial.",
		"relative_intensity":        "IR LED intensity relative to its reference.",
		"event":                     "Pump action: add_media, add_alt_media or remove_waste.",
		"volume_change_ml":          "Volume moved by the action (negative for a correction).",
		"source_of_event":           "What triggered the event.",
		"intensity":                 "LED intensity.",
		"event_name":                "Automation event type.",
		"message":                   "Message text.",
		"data":                      "Event data as JSON.",
		"level":                     "Log level.",
		"task":                      "Task that logged the line.",
		"source":                    "Software that logged the line (app, a plugin, ui).",
		"started_at":                "UTC start of the settings period.",
		"ended_at":                  "UTC end of the settings period; empty while current.",
		"automation_name":           "Automation name.",
		"settings":                  "The automation's settings, base64 of a JSON object.",
		"json_settings":             "The automation's settings as a JSON object.",
		"label":                     "Label of the unit in the experiment.",
		"created_at":                "UTC creation time.",
		"description":               "Experiment description.",
		"od_fused":                  "Fused OD estimate.",
		"growth_rate":               "Specific growth rate.",
		"add_media_ml":              "Media added at this instant.",
		"remove_waste_ml":           "Waste removed at this instant.",
		"add_alt_media_ml":          "Alternative media added at this instant.",
		"avg_od_reading":            "Mean OD reading over the minute.",
		"avg_od_fused":              "Mean fused OD over the minute.",
		"avg_normalized_od_reading": "Mean normalised OD over the minute.",
		"avg_temperature_c":         "Mean temperature over the minute.",
		"avg_growth_rate":           "Mean growth rate over the minute.",
		"avg_measured_rpm":          "Mean stirring speed over the minute.",
		"sum_add_media_ml":          "Media added during the minute.",
		"sum_remove_waste_ml":       "Waste removed during the minute.",
		"sum_add_alt_media_ml":      "Alternative media added during the minute.",
		"od":                        "True turbidity of the simulated culture (OD600), not a reading.",
		"growth_rate_per_hour":      "True specific growth rate of the simulated culture, excluding dilution.",
		"liquid_temperature_c":      "True temperature of the simulated liquid.",
		"heater_pcb_temperature_c":  "True temperature of the simulated heating PCB, without sensor noise.",
		"volume_ml":                 "True liquid volume of the simulated vial.",
		"rpm":                       "True stir bar speed of the simulated unit.",
	}
	units = map[string]string{
		"od_reading": "OD or AU", "normalized_od_reading": "AU", "od_fused": "OD", "angle": "degrees",
		"rate": "h⁻¹", "growth_rate": "h⁻¹", "temperature_c": "°C", "measured_rpm": "RPM",
		"liquid_volume": "mL", "volume_change_ml": "mL", "intensity": "%", "relative_intensity": "AU",
		"channel_1": "%", "channel_2": "%", "channel_3": "%", "channel_4": "%", "channel_5": "%",
		"add_media_ml": "mL", "remove_waste_ml": "mL", "add_alt_media_ml": "mL",
		"avg_od_reading": "OD or AU", "avg_od_fused": "OD", "avg_temperature_c": "°C", "avg_growth_rate": "h⁻¹",
		"avg_measured_rpm": "RPM", "sum_add_media_ml": "mL", "sum_remove_waste_ml": "mL", "sum_add_alt_media_ml": "mL",
		"od": "OD", "growth_rate_per_hour": "h⁻¹", "liquid_temperature_c": "°C", "heater_pcb_temperature_c": "°C",
		"volume_ml": "mL", "rpm": "RPM",
	}
)

func column(name string, kind store.Kind) Column {
	d := descriptions[name]
	if d == "" && len(name) == len("channel_1") && name[:8] == "channel_" {
		d = "Duty cycle of PWM channel " + name[8:] + "."
	}
	if d == "" && len(name) > len("_intensity_update") && name[:4] == "led_" {
		d = "New intensity of LED " + string(name[4]-'a'+'A') + " at this instant."
	}
	return Column{Name: name, Kind: kind, Description: d, Unit: units[name]}
}

func tableColumns(t store.Table) []Column {
	var out []Column
	for _, c := range t.Columns() {
		out = append(out, column(c.Name, c.Kind))
	}
	return out
}

// tableDataset is a dataset that is exactly one store table.
func tableDataset(t store.Table, display, description string) Dataset {
	return Dataset{Name: string(t), DisplayName: display, Description: description, Source: "app",
		Table: string(t), HasExperiment: true, HasUnit: t.HasUnit(), DefaultOrderBy: t.TimeColumn(),
		TimestampColumns: []string{t.TimeColumn()}, Columns: tableColumns(t), table: t,
		read: func(src Source, f filter) (iterator, error) { return newTableIter(src, t, f, false), nil }}
}

// settingsDataset is an automation settings table plus json_settings, the decoded
// settings, as the reference's query computes it.
func settingsDataset(t store.Table, display string) Dataset {
	d := tableDataset(t, display, "Settings of the automation over time, one row per period.")
	d.Table = ""
	d.Query = fmt.Sprintf("SELECT *, base64_decode(settings) AS json_settings FROM %s", t)
	d.TimestampColumns = []string{"started_at", "ended_at"}
	d.Columns = append(d.Columns, column("json_settings", store.Text))
	d.read = func(src Source, f filter) (iterator, error) { return newTableIter(src, t, f, true), nil }
	return d
}

var builtins = []Dataset{
	activityDataset(),
	rollupDataset(),
	tableDataset(store.Logs, "Logs", "Log lines of the experiment's jobs."),
	tableDataset(store.ODReadings, "Optical density", "Raw or calibrated OD readings, one row per channel."),
	tableDataset(store.ODReadingsFiltered, "Filtered optical density", "Normalised, filtered OD from the growth-rate job."),
	tableDataset(store.ODReadingsFused, "Fused optical density", "OD fused from several angles."),
	tableDataset(store.RawODReadings, "Raw optical density", "Uncalibrated OD readings of calibrated runs."),
	tableDataset(store.GrowthRates, "Implied growth rate", "Specific growth rate estimated from OD."),
	tableDataset(store.LiquidVolumes, "Liquid volumes", "Volume of liquid in the vial over time."),
	tableDataset(store.AltMediaFractions, "Alternative media fraction", "Fraction of alternative media over time."),
	tableDataset(store.TemperatureReadings, "Temperature readings", "Vial temperature."),
	tableDataset(store.StirringRates, "Stirring rates", "Measured stir bar speed."),
	tableDataset(store.IRLEDIntensities, "IR LED intensities", "Relative intensity of the IR LED."),
	tableDataset(store.PWMDCs, "PWM duty cycles", "Duty cycle of every PWM channel."),
	tableDataset(store.DosingEvents, "Dosing events", "Every pump action."),
	tableDataset(store.LEDChangeEvents, "LED change events", "Every LED intensity change."),
	tableDataset(store.TemperatureAutomationEvents, "Temperature automation events", "Events of the temperature automation."),
	tableDataset(store.DosingAutomationEvents, "Dosing automation events", "Events of the dosing automation."),
	tableDataset(store.LEDAutomationEvents, "LED automation events", "Events of the LED automation."),
	settingsDataset(store.DosingAutomationSettings, "Dosing automation settings"),
	settingsDataset(store.LEDAutomationSettings, "LED automation settings"),
	settingsDataset(store.TemperatureAutomationSettings, "Temperature automation settings"),
	labelsDataset(),
	experimentsDataset(),
	calibrationsDataset(),
	tableDataset(store.SimulationTruth, "Simulation truth", "The simulated culture's true state (pioreactord --sim only), to compare with the estimates."),
}
