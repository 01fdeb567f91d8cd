package jobs

import (
	"fmt"

	"github.com/pioreactor/pioreactord/pkg/calibration"
)

// stirringDevice is the calibration device of the stir motor (x = duty cycle %, y = RPM).
const stirringDevice = "stirring"

// loadStirringCalibration returns the active stirring calibration, or nil without one.
func loadStirringCalibration(cals *calibration.Store) (*calibration.Calibration, error) {
	if cals == nil {
		return nil, nil
	}
	c, ok, err := cals.Active(stirringDevice)
	if err != nil {
		return nil, fmt.Errorf("stirring calibration: %w", err)
	}
	if !ok {
		return nil, nil
	}
	if c.Y != "RPM" {
		return nil, fmt.Errorf("stirring calibration %s: %w: y is %q, want RPM", c.Name, calibration.ErrInvalid, c.Y)
	}
	return &c, nil
}

// useCalibration makes the calibration the RPM→duty-cycle lookup and starts the estimate
// from it: est = inverse(target), then est = lookup(target) (docs/algorithms.md, "Stirring: calibration lookup and OD dodging timing"). Only when
// RPM is measured and a target is set.
func (s *Stirring) useCalibration(c *calibration.Calibration) error {
	if c == nil || !s.useRPM || s.target <= 0 {
		return nil
	}
	dc, err := c.YToX(s.target, false)
	if err != nil {
		return fmt.Errorf("stirring calibration %s at %v RPM: %w", c.Name, s.target, err)
	}
	s.cal = c
	s.est = dc
	s.est = s.lookup(s.target)
	return nil
}

// lookup is the duty cycle for rpm: 1.05·(est − 0.9·(est − inverse(rpm))), est being the
// current estimate; without a calibration (or if it has no answer) the estimate unchanged.
func (s *Stirring) lookup(rpm float64) float64 {
	if s.cal == nil {
		return s.est
	}
	dc, err := s.cal.YToX(rpm, false)
	if err != nil {
		if s.rt != nil {
			s.rt.Log().Warn("stirring calibration has no duty cycle for this RPM", "rpm", rpm, "err", err)
		}
		return s.est
	}
	return 1.05 * (s.est - 0.9*(s.est-dc))
}
