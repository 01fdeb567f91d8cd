package calibration

import (
	"fmt"
	"math"
	"time"

	"gonum.org/v1/gonum/stat"
)

// Pump devices (docs/profiles.md, "Calibration files").
const (
	MediaPump    = "media_pump"
	AltMediaPump = "alt_media_pump"
	WastePump    = "waste_pump"
)

// DefaultPumpName names the built-in curve used when a pump has no calibration.
const DefaultPumpName = "__default_pump_calibration"

// DefaultPump is the uncalibrated pump of docs/algorithms.md, "Calibration curves": 0.0911 mL/s, 250 Hz, 100 % duty.
// It is good enough for duration-mode doses; volume doses refuse to use it.
func DefaultPump() Calibration {
	return Calibration{Type: TypePump, Name: DefaultPumpName, Unit: "", CreatedAt: time.Unix(0, 0).UTC(),
		Curve: PolyCurve(0.0911, 0), X: "Duration", Y: "Volume", Hz: 250, DC: 100, Voltage: -1}
}

// NewPump fits a pump calibration to timed runs by least squares through the origin
// (docs/algorithms.md, "Calibration curves"): volume = slope·seconds. It refuses fewer than one run, unequal
// lengths, or a slope that is not positive.
func NewPump(name, unit string, created time.Time, seconds, ml []float64, hz, dc, voltage float64) (Calibration, error) {
	if len(seconds) == 0 || len(seconds) != len(ml) {
		return Calibration{}, fmt.Errorf("%w: pump fit needs as many durations as volumes, at least one (%d, %d)", ErrInvalid, len(seconds), len(ml))
	}
	_, slope := stat.LinearRegression(seconds, ml, nil, true)
	if !(slope > 0) || math.IsInf(slope, 0) {
		return Calibration{}, fmt.Errorf("%w: pump fit gives slope %v mL/s; it must be positive", ErrInvalid, slope)
	}
	c := Calibration{Type: TypePump, Name: name, Unit: unit, CreatedAt: created, Curve: PolyCurve(slope, 0),
		X: "Duration", Y: "Volume", Recorded: Recorded{X: append([]float64(nil), seconds...), Y: append([]float64(nil), ml...)},
		Hz: hz, DC: dc, Voltage: voltage}
	return c, c.Validate()
}

// Seconds is how long the pump runs to move ml (the inverse curve, no bounds).
func (c Calibration) Seconds(ml float64) (float64, error) {
	s, err := c.YToX(ml, false)
	if err != nil {
		return 0, fmt.Errorf("pump calibration %s: %w", c.Name, err)
	}
	return s, nil
}

// ML is the volume the pump moves in seconds (the forward curve).
func (c Calibration) ML(seconds float64) float64 { return c.XToY(seconds) }
