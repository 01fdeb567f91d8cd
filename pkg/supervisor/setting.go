package supervisor

import (
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/pioreactor/pioreactord/pkg/contract"
)

// Setting declares one published attribute of a job (docs/mqtt.md, "Published settings").
type Setting struct {
	Name     string
	Datatype contract.Datatype
	Unit     string // display unit for logs, e.g. "RPM", "%"
	Settable bool   // may be changed through /set
	Persist  bool   // keep the retained value after the job stops
	// OnSet, if set, replaces plain assignment for a /set: it receives the cast value, runs on
	// the job's goroutine, and publishes the accepted value itself with Runtime.Set. An error
	// refuses the change and is logged.
	OnSet func(v any) error

	// How a dashboard shows it (Spec.UI): a label and a line of help, whether it is shown
	// on the job's card, and the bounds and default of a numeric value, nil when free.
	Label       string
	Description string
	Display     bool
	Min, Max    *float64
	Default     any
}

var settingName = regexp.MustCompile(`^[A-Za-z0-9]+(_[A-Za-z0-9]+)*$`)

func (s Setting) validate() error {
	if !settingName.MatchString(s.Name) {
		return fmt.Errorf("%w: name %q must be alphanumeric groups joined by single underscores", ErrBadSetting, s.Name)
	}
	if !s.Datatype.Valid() {
		return fmt.Errorf("%w: %s has unknown datatype %q", ErrBadSetting, s.Name, s.Datatype)
	}
	if s.Settable && !s.Datatype.Castable() {
		return fmt.Errorf("%w: %s of datatype %s cannot be settable", ErrBadSetting, s.Name, s.Datatype)
	}
	return nil
}

// registryForm is how the registry mirror stores a value: numbers and strings as text,
// booleans as 1/0, structs as JSON (docs/mqtt.md, "Job registry").
func registryForm(v any) (string, error) {
	switch x := v.(type) {
	case bool:
		if x {
			return "1", nil
		}
		return "0", nil
	case string:
		return x, nil
	case float64, float32, int, int64, json.RawMessage:
		b, err := contract.Encode(x)
		return string(b), err
	default:
		b, err := json.Marshal(x)
		return string(b), err
	}
}

// describe renders a value with its unit for the "Updated a from x to y." log line:
// `25.0 cm`, `%` attached without a space, at most 40 characters plus "...".
func describe(v any, unit string) string {
	b, err := contract.Encode(v)
	s := string(b)
	if err != nil {
		s = fmt.Sprint(v)
	}
	if v == nil {
		s = "None"
	}
	switch {
	case unit == "%":
		s += "%"
	case unit != "":
		s += " " + unit
	}
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return s
}
