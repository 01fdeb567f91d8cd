package descriptor

import (
	"strings"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// SourceBuiltin marks the descriptors pioreactord itself provides.
const SourceBuiltin = "app"

// Bounds are a bioreactor variable's canonical default and range.
type Bounds struct {
	Default, Min float64
	Max          *float64 // nil: no upper bound
}

// Options are what the built-ins depend on beyond the job table.
type Options struct {
	// Bioreactor are the canonical bioreactor variables by name; they fill in the default,
	// min and max of the bioreactor collection's settings (after any override).
	Bioreactor map[string]Bounds
	// Simulation adds the charts of the simulation truth (pioreactord --sim).
	Simulation bool
}

// Builtin renders the descriptors of a job table: every Spec with a UI, the collections a
// unit has, and the built-in charts.
func Builtin(specs []supervisor.Spec, o Options) Set {
	s := Set{Automations: map[string][]Automation{}, bioreactor: o.Bioreactor}
	for _, spec := range specs {
		ui := spec.UI
		if ui == nil {
			continue
		}
		j := Job{JobName: spec.Name, DisplayName: ui.DisplayName, Display: ptr(!ui.Hidden),
			PublishedSettings: []Setting{}, Source: SourceBuiltin, Description: ui.Description, Subtext: ui.Subtext}
		for _, st := range ui.Settings {
			j.PublishedSettings = append(j.PublishedSettings, settingOf(st))
		}
		s.Jobs = append(s.Jobs, j)
		if typ, ok := automationType(spec.Name); ok {
			for _, a := range ui.Automations {
				s.Automations[typ] = append(s.Automations[typ], automationOf(a))
			}
		}
	}
	s.Collections = builtinCollections()
	s.Charts = builtinCharts(o.Simulation)
	return s.withBioreactor(o.Bioreactor)
}

// automationType is the family of an automation job: temperature_automation → temperature.
func automationType(job string) (string, bool) {
	typ, ok := strings.CutSuffix(job, "_automation")
	return typ, ok && typ != ""
}

func settingOf(st supervisor.Setting) Setting {
	out := Setting{Key: st.Name, Type: typeOf(st.Datatype), Display: st.Display, Label: st.Label,
		Description: st.Description, Unit: st.Unit, Editable: ptr(st.Settable), Min: st.Min, Max: st.Max, Default: st.Default}
	return out
}

// typeOf maps a setting's datatype to a descriptor's: numbers are numeric, payload structs
// and JSON are json.
func typeOf(d contract.Datatype) string {
	switch d {
	case contract.Float, contract.Integer:
		return "numeric"
	case contract.Boolean:
		return "boolean"
	case contract.String:
		return "string"
	}
	return "json"
}

func automationOf(a supervisor.Automation) Automation {
	out := Automation{AutomationName: a.Name, DisplayName: a.DisplayName, Description: a.Description,
		Source: SourceBuiltin, Fields: []Field{}}
	for _, f := range a.Fields {
		typ := f.Type
		if typ == "" {
			typ = "numeric"
		}
		out.Fields = append(out.Fields, Field{Key: f.Key, Default: f.Default, Label: f.Label, Type: typ, Unit: f.Unit,
			Disabled: f.Disabled, Required: ptr(!f.Optional), Options: f.Options})
	}
	return out
}

// builtinCollections are the unit values no job owns: the vessel's bookkeeping, the LED
// channels and the PWM outputs.
func builtinCollections() []Collection {
	num := func(key, label, unit, help string) Setting {
		return Setting{Key: key, Type: "numeric", Display: true, Label: label, Unit: unit, Description: help, Editable: ptr(true)}
	}
	return []Collection{
		{Key: "bioreactor", DisplayName: "Bioreactor", Display: ptr(true), Source: SourceBuiltin,
			Description: "What is in the vial, kept up to date from every dose. Correct it here after adding or removing liquid by hand.",
			PublishedSettings: []Setting{
				num(contract.CurrentVolumeML, "Current volume", "mL", "Liquid in the vial now."),
				num(contract.EffluxTubeVolumeML, "Efflux tube level", "mL", "The volume at which the waste tube starts to draw liquid off."),
				num(contract.AltMediaFraction, "Alt-media fraction", "", "Share of the liquid that came from the alternative media pump, 0 to 1."),
				num(contract.CumulativeMediaAddedML, "Media added", "mL", "Total media pumped in during this experiment."),
				num(contract.CumulativeAltMediaAddedML, "Alt media added", "mL", "Total alternative media pumped in during this experiment."),
				num(contract.CumulativeWasteRemovedML, "Waste removed", "mL", "Total liquid pumped out during this experiment."),
			}},
		{Key: "leds", DisplayName: "LEDs", Display: ptr(true), Source: SourceBuiltin,
			Description: "Intensity of the four LED channels, A to D.",
			PublishedSettings: []Setting{{Key: "intensity", Type: "json", Display: true, Label: "LED intensity", Unit: "%",
				Description: "Each channel's intensity, 0 to 100 %.", Editable: ptr(false)}}},
		{Key: "pwms", DisplayName: "PWM outputs", Display: ptr(true), Source: SourceBuiltin,
			Description: "Duty cycle of each PWM output that is on (stirring, heating, pumps).",
			PublishedSettings: []Setting{{Key: "dc", Type: "json", Display: true, Label: "Duty cycles", Unit: "%",
				Description: "Duty cycle by output pin; outputs that are off are left out.", Editable: ptr(false)}}},
	}
}

// withBioreactor fills the bioreactor collection's default, min and max from the canonical
// variables, whatever a file said: the unit refuses values outside them anyway.
func (s Set) withBioreactor(vars map[string]Bounds) Set {
	if len(vars) == 0 {
		return s
	}
	cols := make([]Collection, len(s.Collections))
	copy(cols, s.Collections)
	for i, c := range cols {
		if c.Key != "bioreactor" {
			continue
		}
		sets := make([]Setting, len(c.PublishedSettings))
		copy(sets, c.PublishedSettings)
		for k, st := range sets {
			if b, ok := vars[st.Key]; ok {
				sets[k].Default, sets[k].Min, sets[k].Max = b.Default, ptr(b.Min), b.Max
			}
		}
		cols[i].PublishedSettings = sets
	}
	s.Collections = cols
	return s
}
