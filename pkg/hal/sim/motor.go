package sim

import (
	"math"
	"time"
)

// refVolumeML is the volume at which the motor constants are given (B.7).
const refVolumeML = 15

// The stirring model (docs/simulation.md, "Stirring"):
//
//	ω_ss = k_ω·(duty − d_0)·(1 − s·(V − 15 mL)), clamped to [0, ω_max], once the bar spins
//	spinning ⇐ ω > ω_stall or duty ≥ d_break (break-away from rest)
//	τ_ω·dω/dt = ω_ss − ω,  dφ/dt = ω/60
//
// ω_ss is constant within a step, so ω and φ are advanced with the exact solution.

// stirTarget is the speed the bar is heading for, in RPM.
func (pl *plant) stirTarget() float64 {
	p := &pl.p
	d := pl.stirDuty
	if pl.faults[FaultStirDecoupled] || d <= p.DeadbandPercent {
		return 0
	}
	if pl.omega <= p.StallRPM && d < p.BreakawayPercent {
		return 0 // stalled (or never started): not enough torque to break away
	}
	w := p.RPMPerPercent * (d - p.DeadbandPercent) * (1 - p.RPMVolumeSlopePerML*(pl.vol-refVolumeML))
	return math.Min(math.Max(w, 0), p.MaxRPM)
}

// spin advances the bar by h seconds (d is the same step as a Duration, for edge times).
func (pl *plant) spin(h float64, d time.Duration) {
	target, w0 := pl.stirTarget(), pl.omega
	if w0 == 0 && target == 0 {
		return
	}
	tau := pl.p.MotorTimeConstantS
	e := pl.motorExp.at(1/tau, h)
	w1 := target + (w0-target)*e
	revs := (target*h + (w0-target)*tau*(1-e)) / 60
	if target == 0 && w1 < 0.5 {
		w1 = 0 // friction stops the bar; the exponential tail would never reach 0
	}
	if pl.listeners > 0 {
		pl.recordEdges(d, revs, w0, w1)
	}
	pl.omega = w1
	f := pl.frac + revs
	pl.frac = f - math.Floor(f)
}

// recordEdges notes a falling edge each time the phase crosses a whole revolution in the step
// just taken. Crossing times interpolate the phase linearly inside the step (exact at steady
// speed); each gets Gaussian jitter of EdgeJitter times the current period.
func (pl *plant) recordEdges(d time.Duration, revs, w0, w1 float64) {
	if revs <= 0 {
		return
	}
	n := math.Floor(pl.frac + revs)
	for k := 1.0; k <= n; k++ {
		f := (k - pl.frac) / revs // fraction of the step at the crossing
		w := w0 + (w1-w0)*f
		at := float64(d) * f
		if w > 0 {
			at += pl.p.EdgeJitter * 60 / w * 1e9 * pl.hallRNG.NormFloat64()
		}
		pl.edges = append(pl.edges, pl.t+time.Duration(at))
	}
}

// takeEdges returns the recorded edges in [from, to] as clock times.
func (pl *plant) takeEdges(from, to time.Duration) []time.Time {
	var out []time.Time
	for _, e := range pl.edges {
		if e >= from && e <= to {
			out = append(out, pl.start.Add(e))
		}
	}
	return out
}
