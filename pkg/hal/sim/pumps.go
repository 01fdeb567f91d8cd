package sim

import "math"

// volEps is the tolerance, in mL, for "the level is at the efflux tube / at capacity".
const volEps = 1e-9

// pump moves the liquid for h seconds with the current flows. Within a step the volume is
// piecewise linear in time, so the dilution integral ∫F_in/V dt has a closed form on each
// piece; the piece ends where the level meets the efflux tube or the vial's capacity.
//
// Dilution: with M = X·V, inflow does not change M and the waste takes liquid at
// concentration X, so dX/dt = −(F_in/V)·X whatever the waste does. Any solute carried in
// by the pumps (alt-media fraction, substrate) relaxes toward its inflow concentration with
// the same factor exp(−∫F_in/V dt).
func (pl *plant) pump(h float64) {
	fin, fw := pl.fMedia+pl.fAlt, pl.fWaste
	capML, eff := pl.p.CapacityML, pl.p.EffluxVolumeML
	var dil float64 // ∫ F_in/V dt over the step
	rem := h
	// Each piece crosses at most one boundary, and there are two boundaries.
	for piece := 0; piece < 4 && rem > 0; piece++ {
		v := pl.vol
		var net, out, spill float64 // mL/s: dV/dt, liquid to waste, liquid over the brim
		limit, snap := math.Inf(1), v
		switch {
		case v >= capML-volEps && fin >= fw:
			out, spill = fw, fin-fw // full: the excess runs over the brim
		case v < eff-volEps:
			net = fin // the waste tube is above the liquid and pumps air
			if net > 0 {
				limit, snap = (eff-v)/net, eff
			}
		case v <= eff+volEps && fw >= fin:
			out = fin // the level is held at the tube: waste takes what comes in
		default:
			out, net = fw, fin-fw
			if net > 0 {
				limit, snap = (capML-v)/net, capML
			} else if net < 0 {
				limit, snap = (v-eff)/-net, eff
			}
		}
		dt := math.Min(rem, limit)
		if fin > 0 {
			if net == 0 {
				dil += fin * dt / v
			} else {
				dil += fin / net * math.Log1p(net*dt/v)
			}
		}
		if dt == limit {
			pl.vol = snap // land exactly on the boundary so the next piece sees it
		} else {
			pl.vol = v + net*dt
		}
		pl.wasteML += out * dt
		if spill > 0 {
			pl.overflowML += spill * dt
			if !pl.overflowing {
				pl.overflowEvents++
			}
		}
		pl.overflowing = spill > 0
		rem -= dt
	}
	pl.mediaML += pl.fMedia * h
	pl.altML += pl.fAlt * h
	if fin == 0 {
		return
	}
	e := math.Exp(-dil)
	pl.x *= e
	pl.alt = pl.fAlt/fin + (pl.alt-pl.fAlt/fin)*e
	if pl.p.Monod {
		in := (pl.fMedia*pl.p.MediaSubstrateGPerL + pl.fAlt*pl.p.AltMediaSubstrateGPerL) / fin
		pl.sub = in + (pl.sub-in)*e
	}
}
