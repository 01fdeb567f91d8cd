package contract

import (
	"encoding/json"
	"math"
	"strconv"
)

// Decimal is a float that marshals with a decimal point (500.0), as the reference's JSON does.
type Decimal float64

func (d Decimal) MarshalJSON() ([]byte, error) {
	f := float64(d)
	switch {
	case math.IsNaN(f):
		return []byte("NaN"), nil
	case math.IsInf(f, 1):
		return []byte("Infinity"), nil
	case math.IsInf(f, -1):
		return []byte("-Infinity"), nil
	}
	s := FormatFloat(f)
	if _, err := strconv.ParseFloat(s, 64); err != nil {
		return nil, err
	}
	return []byte(s), nil
}

// The payload structs of docs/mqtt.md, "Payloads", fields in the reference's JSON order.

// RawODReading is an uncalibrated reading of one photodiode channel (calibrated = 0).
type RawODReading struct {
	Calibrated     int       `json:"calibrated"`
	Timestamp      Timestamp `json:"timestamp"`
	Angle          string    `json:"angle"`
	OD             Decimal   `json:"od"`
	Channel        string    `json:"channel"`
	IRLEDIntensity Decimal   `json:"ir_led_intensity"`
}

// CalibratedODReading carries the calibration that produced it (calibrated = 1).
type CalibratedODReading struct {
	Calibrated      int       `json:"calibrated"`
	Timestamp       Timestamp `json:"timestamp"`
	Angle           string    `json:"angle"`
	OD              Decimal   `json:"od"`
	Channel         string    `json:"channel"`
	IRLEDIntensity  Decimal   `json:"ir_led_intensity"`
	CalibrationName string    `json:"calibration_name"`
}

// ODReadings is one snapshot of every signal channel; values are RawODReading or
// CalibratedODReading.
type ODReadings struct {
	Timestamp Timestamp      `json:"timestamp"`
	ODs       map[string]any `json:"ods"`
}

// ODFiltered is the growth-rate job's normalised OD.
type ODFiltered struct {
	ODFiltered Decimal   `json:"od_filtered"`
	Timestamp  Timestamp `json:"timestamp"`
}

// ODFused is the fused multi-angle OD estimate.
type ODFused struct {
	ODFused   Decimal   `json:"od_fused"`
	Timestamp Timestamp `json:"timestamp"`
}

// GrowthRate is the specific growth rate, per hour.
type GrowthRate struct {
	GrowthRate Decimal   `json:"growth_rate"`
	Timestamp  Timestamp `json:"timestamp"`
}

// Temperature is a vial temperature in degrees Celsius.
type Temperature struct {
	Timestamp   Timestamp `json:"timestamp"`
	Temperature Decimal   `json:"temperature"`
}

// MeasuredRPM is the stir bar's measured speed.
type MeasuredRPM struct {
	MeasuredRPM Decimal   `json:"measured_rpm"`
	Timestamp   Timestamp `json:"timestamp"`
}

// Voltage is a rail voltage.
type Voltage struct {
	Timestamp Timestamp `json:"timestamp"`
	Voltage   Decimal   `json:"voltage"`
}

// Dosing events (DosingEvent.Event).
const (
	AddMedia    = "add_media"
	AddAltMedia = "add_alt_media"
	RemoveWaste = "remove_waste"
)

// DosingEvent is one pump action; VolumeChange is negative for a correction after an early stop.
type DosingEvent struct {
	VolumeChange  Decimal   `json:"volume_change"`
	Event         string    `json:"event"`
	SourceOfEvent *string   `json:"source_of_event"`
	Timestamp     Timestamp `json:"timestamp"`
}

// LEDChangeEvent is one LED channel change.
type LEDChangeEvent struct {
	Channel       string    `json:"channel"`
	Intensity     Decimal   `json:"intensity"`
	SourceOfEvent *string   `json:"source_of_event"`
	Timestamp     Timestamp `json:"timestamp"`
}

// AutomationEvent is an automation's latest_event.
type AutomationEvent struct {
	EventName string         `json:"event_name"`
	Message   *string        `json:"message"`
	Data      map[string]any `json:"data"`
}

// AutomationSettings is one period of an automation's settings; Settings is the JSON of all
// settable settings, carried as bytes (so base64 on the wire).
type AutomationSettings struct {
	PioreactorUnit string     `json:"pioreactor_unit"`
	Experiment     string     `json:"experiment"`
	StartedAt      Timestamp  `json:"started_at"`
	EndedAt        *Timestamp `json:"ended_at"`
	AutomationName string     `json:"automation_name"`
	Settings       []byte     `json:"settings"`
}

// Log is one log record on pioreactor/<unit>/<exp>/logs/<source>/<level>.
type Log struct {
	Message   string    `json:"message"`
	Level     string    `json:"level"`
	Task      string    `json:"task"`
	Source    string    `json:"source"`
	Timestamp Timestamp `json:"timestamp"`
}

// Assignment is the retained pioreactor/<unit>/$experiment/assignment message.
type Assignment struct {
	PioreactorUnit string     `json:"pioreactor_unit"`
	Experiment     *string    `json:"experiment"`
	AssignedAt     *Timestamp `json:"assigned_at"`
	UpdatedAt      Timestamp  `json:"updated_at"`
}

// Marshal encodes a payload struct; it cannot fail for the types of this package.
func Marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("contract: marshal " + err.Error()) // a programming error: every type here marshals
	}
	return b
}

// RelativeIntensity is od_reading's relative_intensity_of_ir_led setting.
type RelativeIntensity struct {
	RelativeIntensityOfIRLED Decimal   `json:"relative_intensity_of_ir_led"`
	Timestamp                Timestamp `json:"timestamp"`
}
