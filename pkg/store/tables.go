package store

import (
	"fmt"
	"slices"
	"time"
)

// Table names a data table of docs/data.md, "Time series", "Events", "Automation settings history" and "Experiments and inventory"'s experiment_profile_runs:
// the rows the leader's ingester writes. The names are the contract seen by exports.
type Table string

// The data tables.
const (
	ODReadings                    Table = "od_readings"
	RawODReadings                 Table = "raw_od_readings"
	ODReadingsFused               Table = "od_readings_fused"
	ODReadingsFiltered            Table = "od_readings_filtered"
	GrowthRates                   Table = "growth_rates"
	TemperatureReadings           Table = "temperature_readings"
	StirringRates                 Table = "stirring_rates"
	AltMediaFractions             Table = "alt_media_fractions"
	LiquidVolumes                 Table = "liquid_volumes"
	IRLEDIntensities              Table = "ir_led_intensities"
	PWMDCs                        Table = "pwm_dcs"
	ODBlanks                      Table = "od_blanks"
	DosingEvents                  Table = "dosing_events"
	LEDChangeEvents               Table = "led_change_events"
	DosingAutomationEvents        Table = "dosing_automation_events"
	LEDAutomationEvents           Table = "led_automation_events"
	TemperatureAutomationEvents   Table = "temperature_automation_events"
	DosingAutomationSettings      Table = "dosing_automation_settings"
	LEDAutomationSettings         Table = "led_automation_settings"
	TemperatureAutomationSettings Table = "temperature_automation_settings"
	Logs                          Table = "logs"
	ExperimentProfileRuns         Table = "experiment_profile_runs"
)

// PWMChannels is the number of channel_N columns of pwm_dcs.
const PWMChannels = 5

// Row is one row of any data table. Which fields a table uses is in its Columns; the rest
// stay zero. Time is the row's time column (timestamp, or started_at for the automation
// settings and profile runs) at the stored millisecond precision. Empty nullable text
// (source_of_event, message, task, ...) reads back as NULL.
type Row struct {
	Table      Table
	Experiment string
	Unit       string
	Time       time.Time

	Channel string  // od/raw/blank photodiode channel "1".."4"; LED channel "A".."D"
	Angle   int     // od_readings, od_blanks
	Value   float64 // the table's value column (see ValueColumn)
	Event   string  // dosing event; automation event_name / automation_name; profile name
	Source  string  // source_of_event, or a log's source
	Message string  // log or automation event message
	Level   string  // log level, upper case
	Task    string  // log task
	Data    string  // automation event data (JSON text) or settings (base64 text)
	EndedAt time.Time
	PWM     [PWMChannels]float64
	Truth   [TruthColumns]float64 // simulation_truth: one value per column, in column order
}

// Kind is the type of a column's values.
type Kind uint8

// Column kinds.
const (
	Text Kind = iota
	Real
	Integer
	Timestamp // stored text of a time (the contract's UTC millisecond form)
)

// Column is one column of a table, in the order exports write them.
type Column struct {
	Name     string
	Kind     Kind
	Nullable bool
}

// Field is one column's value in a row. Null is set for a NULL (a zero EndedAt, an empty
// nullable text).
type Field struct {
	Kind Kind
	Null bool
	F    float64
	I    int64
	S    string
	T    time.Time
}

// codec is how a table's rows are laid out in the file.
type codec uint8

const (
	codecValue      codec = iota // float64
	codecChannel                 // float64, channel in the bucket path
	codecOD                      // varint angle + float64, channel in the bucket path
	codecDosing                  // event code (+ text) + float64 + source
	codecLED                     // channel + float64 + source
	codecAutomation              // event_name + message + data
	codecSettings                // ended_at + automation_name + settings
	codecLog                     // level + message + task + source
	codecPWM                     // bitmask + float64 per non-zero channel
	codecProfile                 // profile name
	codecTruth                   // float64 per column (simulation_truth)
)

// tableDef describes a table: its value layout and its columns after the common ones.
type tableDef struct {
	codec      codec
	timeColumn string // "timestamp" or "started_at"
	noUnit     bool   // the table has no pioreactor_unit column (profile runs)
	value      string // name of the Value column, "" if none
	extra      []Column
}

var tables = map[Table]tableDef{
	ODReadings: {codec: codecOD, value: "od_reading", extra: []Column{
		{Name: "od_reading", Kind: Real}, {Name: "angle", Kind: Integer}, {Name: "channel", Kind: Integer}}},
	RawODReadings: {codec: codecChannel, value: "od_reading", extra: []Column{
		{Name: "od_reading", Kind: Real}, {Name: "channel", Kind: Integer}}},
	ODBlanks: {codec: codecOD, value: "od_reading", extra: []Column{
		{Name: "channel", Kind: Text}, {Name: "angle", Kind: Integer}, {Name: "od_reading", Kind: Real}}},
	ODReadingsFused:     valueTable("od_reading"),
	ODReadingsFiltered:  valueTable("normalized_od_reading"),
	GrowthRates:         valueTable("rate"),
	TemperatureReadings: valueTable("temperature_c"),
	StirringRates:       valueTable("measured_rpm"),
	AltMediaFractions:   valueTable("alt_media_fraction"),
	LiquidVolumes:       valueTable("liquid_volume"),
	IRLEDIntensities:    valueTable("relative_intensity"),
	PWMDCs: {codec: codecPWM, extra: []Column{
		{Name: "channel_1", Kind: Real, Nullable: true}, {Name: "channel_2", Kind: Real, Nullable: true},
		{Name: "channel_3", Kind: Real, Nullable: true}, {Name: "channel_4", Kind: Real, Nullable: true},
		{Name: "channel_5", Kind: Real, Nullable: true}}},
	DosingEvents: {codec: codecDosing, value: "volume_change_ml", extra: []Column{
		{Name: "event", Kind: Text}, {Name: "volume_change_ml", Kind: Real},
		{Name: "source_of_event", Kind: Text, Nullable: true}}},
	LEDChangeEvents: {codec: codecLED, value: "intensity", extra: []Column{
		{Name: "channel", Kind: Text}, {Name: "intensity", Kind: Real},
		{Name: "source_of_event", Kind: Text, Nullable: true}}},
	DosingAutomationEvents:        automationEvents,
	LEDAutomationEvents:           automationEvents,
	TemperatureAutomationEvents:   automationEvents,
	DosingAutomationSettings:      automationSettings,
	LEDAutomationSettings:         automationSettings,
	TemperatureAutomationSettings: automationSettings,
	Logs: {codec: codecLog, extra: []Column{
		{Name: "message", Kind: Text}, {Name: "source", Kind: Text},
		{Name: "level", Kind: Text, Nullable: true}, {Name: "task", Kind: Text, Nullable: true}}},
	ExperimentProfileRuns: {codec: codecProfile, timeColumn: "started_at", noUnit: true, extra: []Column{
		{Name: "experiment_profile_name", Kind: Text}}},
	SimulationTruth: {codec: codecTruth, extra: truthColumns},
}

var automationEvents = tableDef{codec: codecAutomation, extra: []Column{
	{Name: "event_name", Kind: Text}, {Name: "message", Kind: Text, Nullable: true},
	{Name: "data", Kind: Text, Nullable: true}}}

var automationSettings = tableDef{codec: codecSettings, timeColumn: "started_at", extra: []Column{
	{Name: "ended_at", Kind: Timestamp, Nullable: true}, {Name: "automation_name", Kind: Text},
	{Name: "settings", Kind: Text}}}

func valueTable(column string) tableDef {
	return tableDef{codec: codecValue, value: column, extra: []Column{{Name: column, Kind: Real}}}
}

// Tables lists every data table, sorted by name.
func Tables() []Table {
	out := make([]Table, 0, len(tables))
	for t := range tables {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// Known reports whether t is a data table.
func (t Table) Known() bool { _, ok := tables[t]; return ok }

// HasChannels reports whether the table keeps one series per photodiode channel (its
// charts are named <unit>-<channel>).
func (t Table) HasChannels() bool {
	switch tables[t].codec {
	case codecOD, codecChannel:
		return true
	}
	return false
}

// HasUnit reports whether the table has a pioreactor_unit column.
func (t Table) HasUnit() bool { return t.Known() && !tables[t].noUnit }

// TimeColumn is the name of the column Row.Time fills ("timestamp" or "started_at").
func (t Table) TimeColumn() string {
	if c := tables[t].timeColumn; c != "" {
		return c
	}
	return "timestamp"
}

// ValueColumn is the name of the column Row.Value fills, "" if the table has none.
func (t Table) ValueColumn() string { return tables[t].value }

// Columns lists the table's columns in export order: experiment, pioreactor_unit and the
// time column, then the rest in docs/data.md's order. The automation settings tables
// put pioreactor_unit first, as their payload does; profile runs have no unit. The slice
// is shared: do not modify it.
func (t Table) Columns() []Column { return columns[t] }

var columns = func() map[Table][]Column {
	out := make(map[Table][]Column, len(tables))
	for t, def := range tables {
		exp, unit := Column{Name: "experiment", Kind: Text}, Column{Name: "pioreactor_unit", Kind: Text}
		at := Column{Name: t.TimeColumn(), Kind: Timestamp}
		switch {
		case def.noUnit:
			out[t] = []Column{at, def.extra[0], exp}
		case def.codec == codecSettings:
			out[t] = append([]Column{unit, exp, at}, def.extra...)
		default:
			out[t] = append([]Column{exp, unit, at}, def.extra...)
		}
	}
	return out
}()

// Get returns column c (one of r.Table.Columns()) of r.
func (r *Row) Get(c Column) Field { return r.field(c) }

// FieldByName returns the named column of r; ok is false if the table has no such column.
func (r *Row) FieldByName(name string) (f Field, ok bool) {
	for _, c := range r.Table.Columns() {
		if c.Name == name {
			return r.field(c), true
		}
	}
	return Field{}, false
}

func (r *Row) field(c Column) Field {
	text := func(s string) Field { return Field{Kind: Text, S: s, Null: c.Nullable && s == ""} }
	switch c.Name {
	case "experiment":
		return text(r.Experiment)
	case "pioreactor_unit":
		return text(r.Unit)
	case "timestamp", "started_at":
		return Field{Kind: Timestamp, T: r.Time}
	case "ended_at":
		return Field{Kind: Timestamp, T: r.EndedAt, Null: r.EndedAt.IsZero()}
	case "angle":
		return Field{Kind: Integer, I: int64(r.Angle)}
	case "channel":
		if c.Kind == Integer {
			var n int64
			for _, d := range r.Channel {
				n = n*10 + int64(d-'0')
			}
			return Field{Kind: Integer, I: n}
		}
		return text(r.Channel)
	case "event", "event_name", "automation_name", "experiment_profile_name":
		return text(r.Event)
	case "source_of_event", "source":
		return text(r.Source)
	case "message":
		return text(r.Message)
	case "level":
		return text(r.Level)
	case "task":
		return text(r.Task)
	case "data", "settings":
		return text(r.Data)
	case "channel_1", "channel_2", "channel_3", "channel_4", "channel_5":
		return Field{Kind: Real, F: r.PWM[c.Name[len(c.Name)-1]-'1']}
	}
	if i := truthIndex(c.Name); i >= 0 && r.Table == SimulationTruth {
		return Field{Kind: Real, F: r.Truth[i]}
	}
	if c.Name == tables[r.Table].value {
		return Field{Kind: Real, F: r.Value}
	}
	return Field{Null: true}
}

// Validate reports a row Insert would refuse.
func (r *Row) Validate() error {
	def, ok := tables[r.Table]
	switch {
	case !ok:
		return fmt.Errorf("unknown table %q", r.Table)
	case r.Experiment == "":
		return fmt.Errorf("%s row: %w: experiment", r.Table, ErrEmptyName)
	case r.Unit == "":
		return fmt.Errorf("%s row: %w: unit", r.Table, ErrEmptyName)
	case r.Time.Before(minTime) || r.Time.After(maxTime):
		return fmt.Errorf("%s row: time %s out of range", r.Table, r.Time)
	}
	if (def.codec == codecOD || def.codec == codecChannel) && !validChannel(r.Channel) {
		return fmt.Errorf("%s row: channel %q is not 1..4", r.Table, r.Channel)
	}
	return nil
}

func validChannel(ch string) bool { return len(ch) == 1 && ch[0] >= '1' && ch[0] <= '4' }

// The range of times a key can hold (unix microseconds, unsigned): 1970 to 2262.
var (
	minTime = time.UnixMicro(0)
	maxTime = time.Unix(1<<33, 0)
)
