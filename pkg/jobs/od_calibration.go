package jobs

import (
	"errors"
	"fmt"
	"time"

	"github.com/pioreactor/pioreactord/pkg/calibration"
)

// odCalibrations turns raw ODs into calibrated ones with each channel's active od<angle>
// calibration (docs/jobs.md, "od_reading", docs/algorithms.md, "Calibrated OD").
type odCalibrations struct {
	byChannel map[string]calibration.Calibration
	lastWarn  time.Time // clamping warnings are logged at most once per 300 s
}

// clampWarnEvery bounds the "outside the calibration" warnings.
const clampWarnEvery = 300 * time.Second

// loadODCalibrations reads the active calibration of device od<angle> for every signal
// channel. A pointer to a missing or corrupt file refuses the start with the file's name.
// warnings are for the job's log once it runs.
func loadODCalibrations(store *calibration.Store, angles map[string]string) (cals odCalibrations, warnings []string, err error) {
	cals.byChannel = map[string]calibration.Calibration{}
	if store == nil {
		return cals, nil, nil
	}
	for _, ch := range sortedKeys(angles) {
		device := "od" + angles[ch]
		c, ok, err := store.Active(device)
		if err != nil {
			return cals, nil, fmt.Errorf("load the OD calibration of channel %s: %w", ch, err)
		}
		if !ok {
			continue
		}
		if c.Type != calibration.TypeOD && c.Type != calibration.TypeOD600 {
			return cals, nil, fmt.Errorf("the active calibration %s of %s is a %s calibration, not an OD one", c.Name, device, c.Type)
		}
		if c.Curve.Type == calibration.Poly && flatPoly(c.Curve.Coefficients) {
			warnings = append(warnings, fmt.Sprintf("Calibration %s of %s has a constant curve: every voltage maps to the edge of its recorded range.", c.Name, device))
		}
		cals.byChannel[ch] = c
	}
	return cals, warnings, nil
}

// flatPoly: every non-constant coefficient is 0.
func flatPoly(coef []float64) bool {
	for _, a := range coef[:max(0, len(coef)-1)] {
		if a != 0 {
			return false
		}
	}
	return true
}

func (c *odCalibrations) active() bool { return len(c.byChannel) > 0 }

// odFor converts the raw OD v of channel ch read at irIntensity. clamped reports a voltage
// outside the calibration, mapped to the OD of the nearest recorded extreme.
func odFor(cal calibration.Calibration, v, irIntensity float64) (od float64, clamped bool, err error) {
	if irIntensity != cal.IRLEDIntensity {
		return 0, false, fmt.Errorf("the calibration %s was recorded at IR intensity %v%%, the reading at %v%%: recalibrate or change ir_led_intensity",
			cal.Name, cal.IRLEDIntensity, irIntensity)
	}
	od, err = cal.YToX(v, true)
	switch {
	case err == nil:
		return od, false, nil
	case errors.Is(err, calibration.ErrNoSolution), errors.Is(err, calibration.ErrBelowDomain), errors.Is(err, calibration.ErrAboveDomain):
		return clampToRecorded(cal.Recorded, v), true, nil
	}
	return 0, false, err
}

// clampToRecorded maps a voltage outside the curve to the OD recorded at the lowest or highest
// recorded voltage, whichever is nearer (docs/algorithms.md, "Calibrated OD").
func clampToRecorded(rec calibration.Recorded, v float64) float64 {
	vMin, odAtMin, vMax, odAtMax := 0.0, 0.0, 1e5, 1e5
	if len(rec.Y) > 0 && len(rec.Y) == len(rec.X) {
		lo, hi := 0, 0
		for i, y := range rec.Y {
			if y < rec.Y[lo] {
				lo = i
			}
			if y > rec.Y[hi] {
				hi = i
			}
		}
		vMin, odAtMin, vMax, odAtMax = rec.Y[lo], rec.X[lo], rec.Y[hi], rec.X[hi]
	}
	switch {
	case v <= vMin:
		return odAtMin
	case v >= vMax:
		return odAtMax
	case v-vMin <= vMax-v:
		return odAtMin
	}
	return odAtMax
}
