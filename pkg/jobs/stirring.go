package jobs

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/pioreactor/pioreactord/pkg/calibration"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/control"
	"github.com/pioreactor/pioreactord/pkg/hal"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// Stirring drives the stir motor's PWM and, with a hall sensor, holds target_rpm with the
// reference's PID on the measured RPM (docs/jobs.md, "stirring"); an active stirring calibration gives
// the duty cycle of a target before the PID acts (stirring_calibration.go), and OD dodging
// steps the bar aside around OD readings (stirring_dodging.go).
type Stirring struct {
	channel   string
	useRPM    bool
	target    float64
	est       float64 // the controller's unclamped duty-cycle estimate
	dc        float64 // applied duty cycle
	period    time.Duration
	pid       *control.PID
	pwm       hal.PWM
	hall      hal.HallSensor
	rt        *supervisor.Runtime
	kickDelay time.Duration
	cal       *calibration.Calibration // nil: no RPM→duty-cycle lookup
	dodge     dodging
	fatal     error // set by a setter when the job must end (dodging timing)
}

// NewStirringSpec is the job table entry, reading the unit's calibrations (nil: none): with
// an active stirring calibration a target RPM becomes a duty cycle at once, at start and on
// each new target, before the PID has measured anything (docs/jobs.md "stirring").
func NewStirringSpec(cals *calibration.Store) supervisor.Spec {
	return supervisor.Spec{Name: jobStirring, New: func(o supervisor.Options) (supervisor.Job, error) {
		return newStirring(o, cals)
	}}
}

const stirringSection = "stirring.config"

func newStirring(o supervisor.Options, cals *calibration.Store) (supervisor.Job, error) {
	channel, ok := o.Config.PWMChannelFor("stirring")
	if !ok {
		return nil, errors.New("add stirring to [PWM] section to config.ini")
	}
	s := &Stirring{channel: channel, kickDelay: 500 * time.Millisecond}
	var r collect
	initialTarget := r.float(o.Config.Float(stirringSection, "initial_target_rpm", 500))
	initialDC := r.float(o.Config.Float(stirringSection, "initial_duty_cycle", 30))
	kp := r.float(o.Config.Float("stirring.pid", "Kp", 0.005))
	ki := r.float(o.Config.Float("stirring.pid", "Ki", 0))
	kd := r.float(o.Config.Float("stirring.pid", "Kd", 0))
	s.target = r.float(o.Float("target_rpm", initialTarget))
	s.est = r.float(o.Float("duty_cycle", initialDC))
	s.useRPM = r.bool(o.Bool("use_rpm", r.bool(o.Config.Bool(stirringSection, "use_rpm", true))))
	s.loadDodging(o, &r)
	if err := r.err(); err != nil {
		return nil, err
	}
	if err := s.dodge.check(); err != nil {
		return nil, err
	}
	switch {
	case s.target < 0 || math.IsNaN(s.target):
		return nil, fmt.Errorf("target_rpm %v must be 0 or more", s.target)
	case s.est < 0 || s.est > 100 || math.IsNaN(s.est):
		return nil, fmt.Errorf("duty_cycle %v must be within 0–100", s.est)
	}
	var err error
	if s.period, err = stirringPeriod(o.Config); err != nil {
		return nil, err
	}
	s.target = math.Min(s.target, 5000)
	s.pid = control.NewPID(kp, ki, kd, s.target, -7.5, 7.5)
	cal, err := loadStirringCalibration(cals)
	if err != nil {
		return nil, err
	}
	if err := s.useCalibration(cal); err != nil {
		return nil, err
	}
	return s, nil
}

// Run implements supervisor.Job.
func (s *Stirring) Run(ctx context.Context, rt *supervisor.Runtime) error {
	s.rt = rt
	s.hall = rt.Board().Hall
	if s.useRPM && s.hall == nil {
		return fmt.Errorf("RPM measurement needs the heating PCB's hall sensor: %w", hal.ErrNotPresent)
	}
	pwm, err := rt.PWM(s.channel)
	if err != nil {
		return err
	}
	s.pwm = pwm
	if err := rt.Declare(append([]supervisor.Setting{
		{Name: "target_rpm", Datatype: contract.Float, Unit: "RPM", Settable: true, OnSet: s.onTarget},
		{Name: "measured_rpm", Datatype: contract.TypeMeasuredRPM, Unit: "RPM"},
		{Name: "duty_cycle", Datatype: contract.Float, Unit: "%", Settable: true, OnSet: s.onDutyCycle},
	}, s.dodgingSettings()...)...); err != nil {
		return err
	}
	if err := s.watchODReading(ctx); err != nil {
		return err
	}
	if s.dodge.pre < 250*time.Millisecond || s.dodge.post < 250*time.Millisecond {
		rt.Log().Warn("OD dodging delays under 0.25 s may let stirring overlap OD readings", "pre_delay_duration", s.dodge.pre, "post_delay_duration", s.dodge.post)
	}
	if err := rt.Set(ctx, "enable_dodging_od", s.dodge.enabled); err != nil {
		return err
	}
	if err := rt.Set(ctx, "currently_dodging_od", false); err != nil {
		return err
	}
	var target any // null when RPM is not measured
	if s.useRPM {
		target = s.target
	}
	if err := rt.Set(ctx, "target_rpm", target); err != nil {
		return err
	}
	if err := s.setDC(ctx, 0); err != nil {
		return err
	}
	if err := rt.Ready(ctx); err != nil {
		return err
	}
	if err := s.start(ctx); err != nil {
		return err
	}
	timer := newRepeat(ctx, rt.Clock(), 6*time.Second, s.period)
	defer timer.Stop()
	defer func() {
		if s.dodge.timer != nil {
			s.dodge.timer.Stop()
		}
	}()
	if err := s.evaluateDodging(ctx); err != nil {
		return err
	}
	for {
		var dodgeTicks <-chan time.Time
		if s.dodge.timer != nil {
			dodgeTicks = s.dodge.timer.C
		}
		select {
		case <-ctx.Done():
			return nil
		case c := <-rt.Commands():
			rt.Apply(ctx, c)
		case <-s.dodge.changed:
			if err := s.evaluateDodging(ctx); err != nil {
				return err
			}
		case <-dodgeTicks:
			if err := s.dodgeTick(ctx); err != nil && ctx.Err() == nil {
				return err // the OD interval leaves no room to dodge
			}
		case <-timer.C:
			if rt.State() == supervisor.Ready && s.useRPM && !s.dodge.active {
				if err := s.pollAndUpdate(ctx); err != nil && ctx.Err() == nil {
					rt.Log().Error("stirring update failed", "err", err)
				}
			}
		}
		if s.fatal != nil {
			return s.fatal
		}
	}
}

// start kicks the bar free with full power, then settles on the estimate.
func (s *Stirring) start(ctx context.Context) error {
	if err := s.setDC(ctx, 100); err != nil {
		return err
	}
	if err := s.rt.Clock().Sleep(ctx, s.kickDelay); err != nil {
		return nil
	}
	return s.setDC(ctx, s.est)
}

func (s *Stirring) setDC(ctx context.Context, dc float64) error {
	dc = math.Max(0, math.Min(100, roundTo(dc, 5)))
	if err := s.pwm.SetDutyCycle(dc); err != nil {
		return err
	}
	s.dc = dc
	return s.rt.Set(ctx, "duty_cycle", dc)
}

// pollAndUpdate measures RPM over about ten revolutions and moves the estimate by the PID.
// A stalled bar (0 RPM with a target) is kicked, and the PID update still follows: the
// estimate then climbs by up to 7.5 % per update until the bar turns, instead of restarting
// at a stopped estimate of 0 % forever.
func (s *Stirring) pollAndUpdate(ctx context.Context) error {
	rpm, err := s.measure(ctx)
	if err != nil {
		return err
	}
	if rpm == 0 && s.target > 0 {
		s.rt.Log().Warn("Stirring RPM is 0 - attempting to restart it automatically. Target RPM may be too low.")
		s.flickerStallCode(ctx)
		if err := s.kick(ctx); err != nil {
			return err
		}
	}
	s.est += s.pid.Update(rpm, 1).Output
	return s.setDC(ctx, s.est)
}

// kick frees a stalled bar: off, full power, then a little above the estimate.
func (s *Stirring) kick(ctx context.Context) error {
	for _, step := range []struct {
		dc float64
		d  time.Duration
	}{{0, stallKickStep}, {100, stallKickStep}} {
		if err := s.setDC(ctx, step.dc); err != nil {
			return err
		}
		if err := s.rt.Clock().Sleep(ctx, step.d); err != nil {
			return err
		}
	}
	return s.setDC(ctx, math.Min(1.01*s.est, 60))
}

// stallKickStep is each half of the stall kick (off, then full power).
const stallKickStep = 750 * time.Millisecond

// flickerStallCode asks the monitor to blink the stirring error code.
func (s *Stirring) flickerStallCode(ctx context.Context) {
	payload := []byte(fmt.Sprint(contract.ErrorCodeStirringFailed))
	if err := s.rt.Publish(ctx, contract.ErrorCodeTopic(s.rt.Unit(), s.rt.Experiment()), payload, pubsub.AtLeastOnce, false); err != nil {
		s.rt.Log().Debug("publish error code", "err", err)
	}
}

func (s *Stirring) measure(ctx context.Context) (float64, error) {
	window := time.Second
	if s.target > 0 {
		window = time.Duration(math.Max(1, math.Min(10/(s.target/60), 5)) * float64(time.Second))
	}
	edges, err := s.hall.Edges(ctx, window)
	if err != nil {
		return 0, fmt.Errorf("read hall sensor: %w", err)
	}
	rpm := rpmFromEdges(edges)
	return rpm, s.rt.Set(ctx, "measured_rpm", contract.MeasuredRPM{MeasuredRPM: contract.Decimal(rpm), Timestamp: contract.Timestamp(s.rt.Clock().Now())})
}

// rpmFromEdges is 60·N/Σgaps over the N gaps between edges, one pulse per revolution.
func rpmFromEdges(edges []time.Time) float64 {
	if len(edges) < 2 {
		return 0
	}
	span := edges[len(edges)-1].Sub(edges[0]).Seconds()
	if span <= 0 {
		return 0
	}
	return roundTo(60*float64(len(edges)-1)/span, 1)
}

func (s *Stirring) onTarget(v any) error {
	if !s.useRPM {
		return errors.New("cannot set target_rpm: RPM is not measured (use_rpm is off)")
	}
	rpm := v.(float64)
	if rpm < 0 || math.IsNaN(rpm) {
		return fmt.Errorf("target_rpm %v must be 0 or more", rpm)
	}
	return s.setTargetRPM(context.Background(), rpm)
}

// setTargetRPM is the reference's set_target_rpm: the PID's setpoint, a duty cycle from the
// calibration (0 for a stop), and a short pulse to free a stopped bar.
func (s *Stirring) setTargetRPM(ctx context.Context, rpm float64) error {
	s.target = math.Min(rpm, 5000)
	s.pid.Setpoint = s.target
	if s.target == 0 {
		s.est = 0
	} else {
		s.est = s.lookup(s.target)
	}
	if err := s.rt.Set(ctx, "target_rpm", s.target); err != nil {
		return err
	}
	if s.rt.State() == supervisor.Sleeping {
		return nil
	}
	if s.dc == 0 && s.target > 0 {
		if err := s.setDC(ctx, 100); err != nil { // a short pulse to free the bar
			return err
		}
		if err := s.rt.Clock().Sleep(ctx, targetPulse); err != nil {
			return err
		}
	}
	return s.setDC(ctx, s.est)
}

// targetPulse is the full-power pulse of a new target while the motor is stopped.
const targetPulse = 350 * time.Millisecond

func (s *Stirring) onDutyCycle(v any) error {
	dc := v.(float64)
	if dc < 0 || dc > 100 || math.IsNaN(dc) {
		return fmt.Errorf("duty_cycle %v must be within 0–100", dc)
	}
	s.est = dc
	return s.setDC(context.Background(), dc)
}

// Sleep stops the motor while paused.
func (s *Stirring) Sleep(ctx context.Context) error {
	if err := s.setDC(ctx, 0); err != nil {
		return err
	}
	if s.useRPM {
		return s.rt.Set(ctx, "measured_rpm", contract.MeasuredRPM{Timestamp: contract.Timestamp(s.rt.Clock().Now())})
	}
	return nil
}

// Wake restarts the motor with a kick (unless dodging, whose timer sets the duty cycle).
func (s *Stirring) Wake(ctx context.Context) error {
	if s.dodge.active {
		return nil
	}
	return s.start(ctx)
}

func roundTo(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.RoundToEven(x*p) / p
}
