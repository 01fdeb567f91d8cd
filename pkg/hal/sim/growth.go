package sim

import "math"

// gamma is the cardinal temperature model with inflection (Rosso 1993): 1 at T_opt, 0 at and
// outside T_min and T_max. Validate keeps T_opt above the midpoint so the denominator never
// vanishes inside the range.
func gamma(t, tmin, topt, tmax float64) float64 {
	if t <= tmin || t >= tmax {
		return 0
	}
	num := (t - tmax) * (t - tmin) * (t - tmin)
	den := (topt - tmin) * ((topt-tmin)*(t-topt) - (topt-tmax)*(topt+tmin-2*t))
	return num / den
}

// growthRate is μ (without death) in 1/s for the current state.
func (pl *plant) growthRate() float64 {
	p := &pl.p
	mu := pl.muOpt * gamma(pl.tl, p.TMinC, p.TOptC, p.TMaxC)
	if mu == 0 {
		return 0
	}
	if p.Monod {
		mu *= pl.sub / (p.HalfSaturationGPerL + pl.sub)
	} else {
		// Above K the culture declines, as a logistic one does.
		mu *= 1 - pl.x/p.CarryingCapacityOD
	}
	if p.AltMediaInhibitorUgPerML > 0 && pl.alt > 0 {
		a := p.AltMediaInhibitorUgPerML * pl.alt / p.IC50UgPerML
		mu /= 1 + math.Pow(a, p.HillCoefficient)
	}
	return mu * pl.lag
}

// grow advances X, the lag state and the substrate by h seconds. X uses the exponential of the
// step's rate so it stays positive at any step; the substrate is explicit Euler, clipped at 0.
func (pl *plant) grow(h float64) {
	mu := pl.growthRate()
	if pl.p.Monod && mu > 0 {
		pl.sub = math.Max(0, pl.sub-mu*pl.x*h/pl.p.YieldODPerGPerL)
	}
	if r := mu - pl.kd; r != 0 {
		pl.x *= expm(r * h)
	}
	if pl.lag < 1 {
		// Baranyi dq/dt = μ_opt·γ·q, written for α = q/(1+q) so it saturates at 1 without
		// overflowing q.
		e := expm(pl.muOpt * gamma(pl.tl, pl.p.TMinC, pl.p.TOptC, pl.p.TMaxC) * h)
		pl.lag = pl.lag * e / (1 - pl.lag + pl.lag*e)
	}
}
