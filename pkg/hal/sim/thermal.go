package sim

import "math"

// waterJPerMLK is the volumetric heat capacity of water (ρc), J/(mL·K).
const waterJPerMLK = 4.18

// The thermal model has two nodes (docs/simulation.md, "Heat"):
//
//	C_h·dT_h/dt = P·u − G_hl·(T_h − T_l) − G_ha·(T_h − T_a)
//	C_l·dT_l/dt = G_hl·(T_h − T_l) − G_la·(T_l − T_a) + ρc·F_in·(T_a − T_l)
//
// with the heater PWM averaged (u = duty/100) and fresh media at room temperature. Each node
// is moved by the exact exponential toward its equilibrium given the other node's temperature
// (exponential Euler): unconditionally stable, exact for the fast heater mode at any step, and
// its fixed point is exactly the analytical steady state.

// heaterEquilibrium is where the heater node would settle if the liquid stayed put.
func (pl *plant) heaterEquilibrium() float64 {
	p := &pl.p
	power := p.HeaterMaxW * pl.heatDuty / 100
	return (power + p.HeaterLiquidWPerK*pl.tl + p.HeaterAmbientWPerK*p.AmbientC) /
		(p.HeaterLiquidWPerK + p.HeaterAmbientWPerK)
}

// heaterFastMode estimates, in K, how far the heater node is from the slow manifold, i.e. the
// amplitude of the fast (τ ≈ 23 s) mode. On the manifold the node trails its equilibrium by
// τ_h·dT_h/dt with dT_h/dt ≈ (G_hl/(G_hl + G_ha))·dT_l/dt, so that lag is not counted.
func (pl *plant) heaterFastMode() float64 {
	p := &pl.p
	gh := p.HeaterLiquidWPerK + p.HeaterAmbientWPerK
	inflow := waterJPerMLK * (pl.fMedia + pl.fAlt)
	dtl := (p.HeaterLiquidWPerK*(pl.th-pl.tl) - (p.LiquidAmbientWPerK+inflow)*(pl.tl-p.AmbientC)) /
		(waterJPerMLK*pl.vol + p.GlassCapacityJPerK)
	return pl.th - pl.heaterEquilibrium() + p.HeaterCapacityJPerK/gh*(p.HeaterLiquidWPerK/gh)*dtl
}

// heat advances both temperatures by h seconds.
func (pl *plant) heat(h float64) {
	p := &pl.p
	gh := p.HeaterLiquidWPerK + p.HeaterAmbientWPerK
	th0 := pl.th
	eq := pl.heaterEquilibrium()
	pl.th = eq + (th0-eq)*pl.heaterExp.at(gh/p.HeaterCapacityJPerK, h)

	// The liquid sees the heater's mean temperature over the step (trapezoid), which keeps the
	// coupling second-order accurate.
	inflow := waterJPerMLK * (pl.fMedia + pl.fAlt)
	gl := p.HeaterLiquidWPerK + p.LiquidAmbientWPerK + inflow
	cl := waterJPerMLK*pl.vol + p.GlassCapacityJPerK
	eqL := (p.HeaterLiquidWPerK*0.5*(th0+pl.th) + (p.LiquidAmbientWPerK+inflow)*p.AmbientC) / gl
	if cl <= 0 {
		pl.tl = eqL // an empty vial without glass has no heat capacity of its own
		return
	}
	pl.tl = eqL + (pl.tl-eqL)*pl.liquidExp.at(gl/cl, h)
}

// thermometerC is one TMP1075 reading: the heater node plus noise, quantised to the LSB.
func (pl *plant) thermometerC() float64 {
	t := pl.th + pl.p.ThermometerNoiseC*pl.thermoRNG.NormFloat64()
	if q := pl.p.ThermometerResolution; q > 0 {
		t = math.Round(t/q) * q
	}
	return t
}
