package contract

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Datatype is a setting's declared type (docs/mqtt.md, "Published settings").
type Datatype string

const (
	String  Datatype = "string"
	Float   Datatype = "float"
	Integer Datatype = "integer"
	Boolean Datatype = "boolean"
	JSON    Datatype = "json"
)

// Struct datatypes: published as compact JSON, never settable.
const (
	TypeMeasuredRPM     Datatype = "MeasuredRPM"
	TypeODReadings      Datatype = "ODReadings"
	TypeODReading       Datatype = "ODReading"
	TypeRawODReading    Datatype = "RawODReading"
	TypeCalibratedOD    Datatype = "CalibratedODReading"
	TypeODFiltered      Datatype = "ODFiltered"
	TypeODFused         Datatype = "ODFused"
	TypeGrowthRate      Datatype = "GrowthRate"
	TypeTemperature     Datatype = "Temperature"
	TypeVoltage         Datatype = "Voltage"
	TypeAutomationEvent Datatype = "AutomationEvent"
)

// Castable reports whether a /set payload can be converted to this type.
func (d Datatype) Castable() bool {
	switch d {
	case String, Float, Integer, Boolean, JSON:
		return true
	}
	return false
}

// Valid reports whether d is a datatype the contract knows.
func (d Datatype) Valid() bool {
	switch d {
	case String, Float, Integer, Boolean, JSON, TypeMeasuredRPM, TypeODReadings, TypeODReading,
		TypeRawODReading, TypeCalibratedOD, TypeODFiltered, TypeODFused, TypeGrowthRate,
		TypeTemperature, TypeVoltage, TypeAutomationEvent:
		return true
	}
	return false
}

// FormatFloat renders a float as Python's repr does: at least one decimal, nan, inf.
func FormatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-4 || abs >= 1e16) {
		s := strconv.FormatFloat(f, 'e', -1, 64) // 1e-05 style, as Python
		mant, exp, _ := strings.Cut(s, "e")
		sign := exp[0]
		digits := strings.TrimLeft(exp[1:], "0")
		if len(digits) < 2 {
			digits = fmt.Sprintf("%02s", digits)
		}
		return mant + "e" + string(sign) + digits
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// FormatBool renders True/False as the reference does.
func FormatBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// Encode renders a setting value in the wire format of docs/mqtt.md, "Setting values". nil is the empty
// payload that clears a retained message.
func Encode(v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []byte(x), nil
	case float64:
		return []byte(FormatFloat(x)), nil
	case float32:
		return []byte(FormatFloat(float64(x))), nil
	case int:
		return []byte(strconv.Itoa(x)), nil
	case int64:
		return []byte(strconv.FormatInt(x, 10)), nil
	case bool:
		return []byte(FormatBool(x)), nil
	case json.RawMessage:
		return x, nil
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return nil, fmt.Errorf("encode %T: %w", v, err)
		}
		return b, nil
	}
}

// ParseBool is the reference's lenient cast: true iff the lower-cased text is one of
// true, 1, y, on, yes, t; anything else is false.
func ParseBool(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1", "y", "on", "yes", "t":
		return true
	}
	return false
}

// Cast converts a /set payload to a Go value of the datatype (float64, int64, bool, string
// or json.RawMessage).
func Cast(d Datatype, payload []byte) (any, error) {
	s := strings.TrimSpace(string(payload))
	switch d {
	case String:
		return string(payload), nil
	case Float:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("could not convert string to float: '%s'", s)
		}
		return f, nil
	case Integer:
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("invalid literal for int() with base 10: '%s'", s)
		}
		return i, nil
	case Boolean:
		return ParseBool(s), nil
	case JSON:
		if !json.Valid(payload) {
			return nil, fmt.Errorf("invalid JSON: %q", s)
		}
		return json.RawMessage(append([]byte(nil), payload...)), nil
	}
	return nil, fmt.Errorf("datatype %s cannot be set", d)
}

// Timestamp is a UTC time on the wire as YYYY-MM-DDTHH:MM:SS.mmmZ.
type Timestamp time.Time

const timestampLayout = "2006-01-02T15:04:05.000Z"

// FormatTime renders t in the contract's timestamp form.
func FormatTime(t time.Time) string { return t.UTC().Format(timestampLayout) }

// ParseTime accepts any RFC 3339 time (0–9 fractional digits, any offset).
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse timestamp %q: %w", s, err)
	}
	return t.UTC(), nil
}

func (t Timestamp) MarshalJSON() ([]byte, error) {
	return []byte(`"` + FormatTime(time.Time(t)) + `"`), nil
}

func (t *Timestamp) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	p, err := ParseTime(s)
	if err != nil {
		return err
	}
	*t = Timestamp(p)
	return nil
}

// Time returns the timestamp as a time.Time.
func (t Timestamp) Time() time.Time { return time.Time(t) }
