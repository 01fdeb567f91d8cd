package control

import "math"

// PID is the reference's controller: anti-windup clamps the error sum itself to the output
// limits, and the derivative acts on the measurement, not the error.
type PID struct {
	Kp, Ki, Kd float64
	Setpoint   float64
	Lo, Hi     float64 // output limits; ±Inf for none

	sum       float64
	lastInput float64
	hasInput  bool
}

// NewPID returns a controller with limits [lo, hi].
func NewPID(kp, ki, kd, setpoint, lo, hi float64) *PID {
	return &PID{Kp: kp, Ki: ki, Kd: kd, Setpoint: setpoint, Lo: lo, Hi: hi}
}

// Terms is one update's breakdown, for the pid_log diagnostic.
type Terms struct {
	Proportional, Integral, Derivative, Output float64
}

// Update feeds a measurement taken dt after the previous one and returns the output.
func (p *PID) Update(input, dt float64) Terms {
	e := p.Setpoint - input
	p.sum = clamp(p.sum+e*dt, p.Lo, p.Hi)
	d := 0.0
	if p.hasInput && dt > 0 {
		d = -(input - p.lastInput) / dt
	}
	p.lastInput, p.hasInput = input, true
	t := Terms{Proportional: p.Kp * e, Integral: p.Ki * p.sum, Derivative: p.Kd * d}
	t.Output = clamp(t.Proportional+t.Integral+t.Derivative, p.Lo, p.Hi)
	return t
}

// Reset zeroes the error sum; the last input is kept, as in the reference.
func (p *PID) Reset() { p.sum = 0 }

func clamp(x, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, x)) }

// EMA is an exponential moving average where Alpha weights the previous value
// (Alpha 0 = latest value only), as in the reference.
type EMA struct {
	Alpha float64
	value float64
	set   bool
}

// Update adds x and returns the new average; the first value initialises it.
func (e *EMA) Update(x float64) float64 {
	if !e.set {
		e.value, e.set = x, true
	} else {
		e.value = (1-e.Alpha)*x + e.Alpha*e.value
	}
	return e.value
}

// Value is the current average and whether there is one.
func (e *EMA) Value() (float64, bool) { return e.value, e.set }

// Clear forgets every value.
func (e *EMA) Clear() { e.value, e.set = 0, false }
