package calibration

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Calibration types (the `calibration_type` tag).
const (
	TypeOD       = "od"
	TypeOD600    = "od600"
	TypePump     = "simple_peristaltic_pump"
	TypeStirring = "simple_stirring"
)

// Calibration is one calibration file (docs/profiles.md, "Calibration types"). Fields that belong to other
// types are zero and not written.
type Calibration struct {
	Type      string // calibration_type
	Name      string // calibration_name
	Unit      string // calibrated_on_pioreactor_unit
	CreatedAt time.Time
	Curve     Curve  // curve_data_, maps X to Y
	X, Y      string // axis names; empty means the type's default
	Recorded  Recorded

	// od, od600
	IRLEDIntensity float64
	Angle          string // "45", "90", "135", "180"
	PDChannel      string // "1".."4"
	// simple_peristaltic_pump
	Hz, DC float64
	// simple_stirring
	PWMHz float64
	// pump and stirring; −1 if unknown
	Voltage float64
}

// Recorded is the data the curve was fitted to; its x range is the inversion domain.
type Recorded struct {
	X []float64 `yaml:"x" json:"x"`
	Y []float64 `yaml:"y" json:"y"`
}

// axes are the default x and y names of each type.
var axes = map[string][2]string{
	TypeOD:       {"OD", "Voltage"},
	TypeOD600:    {"OD600", "Voltage"},
	TypePump:     {"Duration", "Volume"},
	TypeStirring: {"DC %", "RPM"},
}

// wire is the file shape. Pointers tell a missing field from a zero one.
type wire struct {
	Type           *string   `yaml:"calibration_type" json:"calibration_type"`
	Name           *string   `yaml:"calibration_name" json:"calibration_name"`
	Unit           *string   `yaml:"calibrated_on_pioreactor_unit" json:"calibrated_on_pioreactor_unit"`
	CreatedAt      *string   `yaml:"created_at" json:"created_at"`
	Angle          *string   `yaml:"angle,omitempty" json:"angle,omitempty"`
	PDChannel      *string   `yaml:"pd_channel,omitempty" json:"pd_channel,omitempty"`
	IRLEDIntensity *float64  `yaml:"ir_led_intensity,omitempty" json:"ir_led_intensity,omitempty"`
	Hz             *float64  `yaml:"hz,omitempty" json:"hz,omitempty"`
	DC             *float64  `yaml:"dc,omitempty" json:"dc,omitempty"`
	PWMHz          *float64  `yaml:"pwm_hz,omitempty" json:"pwm_hz,omitempty"`
	Voltage        *float64  `yaml:"voltage,omitempty" json:"voltage,omitempty"`
	X              *string   `yaml:"x" json:"x"`
	Y              *string   `yaml:"y" json:"y"`
	Curve          *Curve    `yaml:"curve_data_" json:"curve_data_"`
	Recorded       *Recorded `yaml:"recorded_data" json:"recorded_data"`
}

// Parse decodes and validates calibration YAML (JSON is YAML too).
func Parse(data []byte) (Calibration, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return Calibration{}, fmt.Errorf("%w: empty file", ErrInvalid)
	}
	var w wire
	if err := yaml.Unmarshal(data, &w); err != nil {
		return Calibration{}, fmt.Errorf("%w: %s", ErrInvalid, yamlMessage(err))
	}
	return w.calibration()
}

// UnmarshalJSON implements json.Unmarshaler (the API's calibration object).
func (c *Calibration) UnmarshalJSON(b []byte) error {
	var w wire
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	out, err := w.calibration()
	if err != nil {
		return err
	}
	*c = out
	return nil
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (c *Calibration) UnmarshalYAML(n *yaml.Node) error {
	var w wire
	if err := n.Decode(&w); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	out, err := w.calibration()
	if err != nil {
		return err
	}
	*c = out
	return nil
}

func (w wire) calibration() (Calibration, error) {
	var missing []string
	need := func(name string, present bool) {
		if !present {
			missing = append(missing, name)
		}
	}
	need("calibration_type", w.Type != nil)
	if w.Type == nil {
		return Calibration{}, fmt.Errorf("%w: missing field calibration_type", ErrInvalid)
	}
	typ := *w.Type
	if _, ok := axes[typ]; !ok {
		return Calibration{}, fmt.Errorf("%w: unknown calibration_type %q (want od, od600, simple_peristaltic_pump or simple_stirring)", ErrInvalid, typ)
	}
	need("calibration_name", w.Name != nil)
	need("calibrated_on_pioreactor_unit", w.Unit != nil)
	need("created_at", w.CreatedAt != nil)
	need("curve_data_", w.Curve != nil)
	need("recorded_data", w.Recorded != nil)
	switch typ {
	case TypeOD, TypeOD600:
		need("ir_led_intensity", w.IRLEDIntensity != nil)
		need("angle", w.Angle != nil)
		need("pd_channel", w.PDChannel != nil)
	case TypePump:
		need("hz", w.Hz != nil)
		need("dc", w.DC != nil)
		need("voltage", w.Voltage != nil)
	case TypeStirring:
		need("pwm_hz", w.PWMHz != nil)
		need("voltage", w.Voltage != nil)
	}
	if len(missing) > 0 {
		return Calibration{}, fmt.Errorf("%w: %s calibration is missing %s", ErrInvalid, typ, strings.Join(missing, ", "))
	}
	created, err := parseCreatedAt(*w.CreatedAt)
	if err != nil {
		return Calibration{}, err
	}
	c := Calibration{Type: typ, Name: *w.Name, Unit: *w.Unit, CreatedAt: created, Curve: *w.Curve,
		Recorded: *w.Recorded, X: deref(w.X), Y: deref(w.Y), Angle: deref(w.Angle), PDChannel: deref(w.PDChannel),
		IRLEDIntensity: derefF(w.IRLEDIntensity), Hz: derefF(w.Hz), DC: derefF(w.DC), PWMHz: derefF(w.PWMHz), Voltage: derefF(w.Voltage)}
	if c.X == "" {
		c.X = axes[typ][0]
	}
	if c.Y == "" {
		c.Y = axes[typ][1]
	}
	return c, c.Validate()
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func derefF(f *float64) float64 {
	if f == nil {
		return 0
	}
	return *f
}

// parseCreatedAt accepts RFC 3339 with a `T` or a space, and requires a time zone.
func parseCreatedAt(s string) (time.Time, error) {
	v := strings.TrimSpace(s)
	if len(v) > 10 && v[10] == ' ' {
		v = v[:10] + "T" + v[11:]
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: created_at %q must be a timestamp with a time zone", ErrInvalid, s)
	}
	return t.UTC(), nil
}

// Validate checks every rule of the format for the calibration's type.
func (c Calibration) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if _, ok := axes[c.Type]; !ok {
		bad("unknown calibration_type %q", c.Type)
	}
	if err := ValidName(c.Name); err != nil {
		bad("calibration_name: %v", err)
	}
	if c.CreatedAt.IsZero() {
		bad("created_at is missing")
	}
	if err := c.Curve.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(c.Recorded.X) != len(c.Recorded.Y) {
		bad("recorded_data has %d x and %d y values", len(c.Recorded.X), len(c.Recorded.Y))
	}
	for _, v := range append(append([]float64(nil), c.Recorded.X...), c.Recorded.Y...) {
		if !finite(v) {
			bad("recorded_data holds %v", v)
			break
		}
	}
	switch c.Type {
	case TypeOD, TypeOD600:
		if c.Angle != "45" && c.Angle != "90" && c.Angle != "135" && c.Angle != "180" {
			bad("angle %q must be 45, 90, 135 or 180", c.Angle)
		}
		if c.PDChannel != "1" && c.PDChannel != "2" && c.PDChannel != "3" && c.PDChannel != "4" {
			bad("pd_channel %q must be 1, 2, 3 or 4", c.PDChannel)
		}
		if !(c.IRLEDIntensity >= 0 && c.IRLEDIntensity <= 100) {
			bad("ir_led_intensity %v must be within 0–100", c.IRLEDIntensity)
		}
		if c.Y != "Voltage" {
			bad("an OD calibration must have y = Voltage, not %q", c.Y)
		}
	case TypePump:
		if !(c.Hz >= 0) || !finite(c.Hz) {
			bad("hz %v must be 0 or more", c.Hz)
		}
		if !(c.DC >= 0 && c.DC <= 100) {
			bad("dc %v must be within 0–100", c.DC)
		}
	case TypeStirring:
		if !(c.PWMHz >= 0) || !finite(c.PWMHz) {
			bad("pwm_hz %v must be 0 or more", c.PWMHz)
		}
		if c.Y != "RPM" {
			bad("a stirring calibration must have y = RPM, not %q", c.Y)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

func (c Calibration) wire() wire {
	typ, name, unit := c.Type, c.Name, c.Unit
	created := c.CreatedAt.UTC().Format("2006-01-02T15:04:05.000000Z07:00")
	x, y := c.X, c.Y
	curve, rec := c.Curve, c.Recorded
	rec.X, rec.Y = nonNil(rec.X), nonNil(rec.Y)
	w := wire{Type: &typ, Name: &name, Unit: &unit, CreatedAt: &created, X: &x, Y: &y, Curve: &curve, Recorded: &rec}
	f := func(v float64) *float64 { return &v }
	s := func(v string) *string { return &v }
	switch c.Type {
	case TypeOD, TypeOD600:
		w.Angle, w.PDChannel, w.IRLEDIntensity = s(c.Angle), s(c.PDChannel), f(c.IRLEDIntensity)
	case TypePump:
		w.Hz, w.DC, w.Voltage = f(c.Hz), f(c.DC), f(c.Voltage)
	case TypeStirring:
		w.PWMHz, w.Voltage = f(c.PWMHz), f(c.Voltage)
	}
	return w
}

// MarshalYAML implements yaml.Marshaler.
func (c Calibration) MarshalYAML() (any, error) { return c.wire(), nil }

// MarshalJSON implements json.Marshaler.
func (c Calibration) MarshalJSON() ([]byte, error) { return json.Marshal(c.wire()) }

// XToY is the forward curve (pump: seconds → mL).
func (c Calibration) XToY(x float64) float64 { return c.Curve.Y(x) }

// YToX inverts the curve (docs/algorithms.md, "Calibration curves"): the solution inside the recorded x range, or
// the closest one to it. With enforce (OD calibrations) a solution outside the range is an
// ErrBelowDomain or ErrAboveDomain error; without (pumps, stirring) it is returned.
func (c Calibration) YToX(y float64, enforce bool) (float64, error) {
	sols := c.Curve.Solve(y)
	if len(sols) == 0 {
		return 0, fmt.Errorf("%w: %s never reaches %s = %v", ErrNoSolution, c.Name, c.Y, y)
	}
	lo, hi := math.Inf(-1), math.Inf(1)
	if len(c.Recorded.X) > 0 {
		lo, hi = c.Recorded.X[0], c.Recorded.X[0]
		for _, x := range c.Recorded.X {
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
	}
	inside := func(x float64) bool { return x >= lo && x <= hi }
	pick := sols[0]
	if len(sols) == 1 {
		switch {
		case inside(pick):
		case pick < lo && lo-pick <= 1e-12:
			pick = lo
		case pick > hi && pick-hi <= 1e-12:
			pick = hi
		}
	} else {
		found := false
		for _, x := range sols {
			if inside(x) {
				pick, found = x, true
				break
			}
		}
		if !found {
			dist := func(x float64) float64 { return math.Max(lo-x, x-hi) }
			for _, x := range sols[1:] {
				if dist(x) < dist(pick) { // ties keep the smaller, earlier one
					pick = x
				}
			}
		}
	}
	if enforce && !inside(pick) {
		if pick < lo {
			return 0, fmt.Errorf("%w: %s = %v gives %s = %v, below the recorded %v", ErrBelowDomain, c.Y, y, c.X, pick, lo)
		}
		return 0, fmt.Errorf("%w: %s = %v gives %s = %v, above the recorded %v", ErrAboveDomain, c.Y, y, c.X, pick, hi)
	}
	return round10(pick), nil
}
