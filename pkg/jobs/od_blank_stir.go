package jobs

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/hal"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// stirAssist spins the stir bar for an action (od_blank, self_test) that needs the culture
// mixed but must not start the stirring job itself. It holds the stirring PWM channel, so the
// supervisor switches the motor off when the action ends, however it ends.
type stirAssist struct {
	rt      *supervisor.Runtime
	channel string
	pwm     hal.PWM
	hall    hal.HallSensor
	dc      float64
}

// stirGainPercentPerRPM moves the duty cycle toward a target speed: about the inverse slope
// of a Pioreactor motor (≈ 25 RPM per %), a bit less to stay stable.
const stirGainPercentPerRPM = 0.03

// assistStirring claims the stirring motor and starts it at [stirring.config]
// initial_duty_cycle. It returns nil, nil when a stirring job already holds the motor, and an
// error when the unit has no stirring output.
func assistStirring(ctx context.Context, rt *supervisor.Runtime, c *config.Config) (*stirAssist, error) {
	channel, ok := c.PWMChannelFor("stirring")
	if !ok {
		return nil, errors.New("add stirring to [PWM] section to config.ini")
	}
	dc, err := c.Float(stirringSection, "initial_duty_cycle", 30)
	if err != nil {
		return nil, err
	}
	pwm, err := rt.PWM(channel)
	if errors.Is(err, supervisor.ErrPWMInUse) {
		return nil, nil // stirring runs already
	}
	if err != nil {
		return nil, err
	}
	s := &stirAssist{rt: rt, channel: channel, pwm: pwm, hall: rt.Board().Hall, dc: math.Max(0, math.Min(100, dc))}
	if err := s.pwm.SetDutyCycle(100); err != nil { // kick the bar free, as stirring does
		return nil, err
	}
	if err := rt.Clock().Sleep(ctx, 500*time.Millisecond); err != nil {
		return nil, err
	}
	return s, s.setDC(s.dc)
}

// release stops the motor and frees it for other jobs.
func (s *stirAssist) release() error { return s.rt.ReleasePWM(s.channel) }

func (s *stirAssist) setDC(dc float64) error {
	s.dc = math.Max(0, math.Min(100, dc))
	return s.pwm.SetDutyCycle(s.dc)
}

// measure counts hall edges over window and returns the RPM.
func (s *stirAssist) measure(ctx context.Context, window time.Duration) (float64, error) {
	if s.hall == nil {
		return 0, fmt.Errorf("RPM measurement needs the heating PCB's hall sensor: %w", hal.ErrNotPresent)
	}
	edges, err := s.hall.Edges(ctx, window)
	if err != nil {
		return 0, fmt.Errorf("read hall sensor: %w", err)
	}
	return rpmFromEdges(edges), nil
}

// reach moves the duty cycle until the measured speed is within tolerance of target or the
// timeout passes (the reference's block_until_rpm_is_close_to_target). Without a hall sensor
// it keeps the duty cycle and returns at once.
func (s *stirAssist) reach(ctx context.Context, target, tolerance float64, timeout time.Duration) (float64, error) {
	if s.hall == nil {
		return 0, nil
	}
	deadline := s.rt.Clock().Now().Add(timeout)
	for {
		rpm, err := s.measure(ctx, 2*time.Second)
		if err != nil {
			return 0, err
		}
		if math.Abs(rpm-target) <= tolerance {
			return rpm, nil
		}
		if !s.rt.Clock().Now().Before(deadline) {
			return rpm, fmt.Errorf("stirring reached %.0f RPM, not %.0f ± %.0f RPM, within %v", rpm, target, tolerance, timeout)
		}
		if err := s.setDC(s.dc + stirGainPercentPerRPM*(target-rpm)); err != nil {
			return rpm, err
		}
		if err := s.rt.Clock().Sleep(ctx, time.Second); err != nil {
			return rpm, err
		}
	}
}
