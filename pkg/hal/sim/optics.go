package sim

import (
	"math"
	"math/rand/v2"
)

// The optics (docs/simulation.md, "Optics"). With I the IR intensity (0–1), L the LED output factor
// and X_eff = X/(1 + X/X_sat):
//
//	scatter θ:    V = g_u·I·L·(b_θ + a_θ·X_eff)·(1 + β·exp(−(t − t_dose)/τ_s))
//	transmission: V = g_u·I·L·c·exp(−k·X)
//	REF:          V = r·I·L·g_ref
//
// plus dark offset, ambient light and leakage from the other LEDs on every channel. L is
// shared by REF and the signal channels, which is what lets REF normalisation cancel LED
// aging and temperature drift.
//
// A reading is the mean of ~40 ADC samples. Rather than draw 40 samples, ReadVolts draws the
// mean directly: its σ is the per-sample σ of B.5 divided by √40 (the AR(1) coefficient 0.02
// inflates that by only 2 %, which is ignored). The AR(1) correlation and the rare shocks are
// applied between successive readings instead of between samples, so outliers stay visible to
// the jobs' filters rather than being averaged away. Mains hum is not modelled: it averages out
// of a 0.85 s mean.

// photodiode is one ADC channel with its own noise stream and AR(1) state.
type photodiode struct {
	ch, angle string
	rng       *rand.Rand
	ar        float64 // AR(1) noise state in units of σ
}

// ledFactor is the IR LED's relative output: aging with on-time and dimming with temperature.
func (pl *plant) ledFactor() float64 {
	return math.Exp(-pl.irOnHours/pl.p.LEDAgingHours) * (1 - pl.p.LEDTempCoeffPerK*(pl.tl-25))
}

// cleanVolts is the noiseless voltage of a channel looking at angle.
func (pl *plant) cleanVolts(angle string) float64 {
	p := &pl.p
	ir := ledIndex(p.IRChannel)
	var others float64
	for i, v := range pl.leds {
		if i != ir {
			others += v / 100
		}
	}
	v := p.DarkVolts + p.AmbientLightVolts + p.LeakageVolts*others
	light := pl.leds[ir] / 100 * pl.ledFactor()
	if light <= 0 {
		return v
	}
	xe := pl.x / (1 + pl.x/p.SaturationOD)
	switch angle {
	case "REF":
		return v + p.RefVolts*light*pl.refGain
	case "180":
		return v + pl.unitGain*light*p.Transmission180V*math.Exp(-p.Attenuation180PerOD*pl.x)
	}
	var b, a float64
	switch angle {
	case "45":
		b, a = p.Blank45V, p.Slope45VPerOD
	case "90":
		b, a = p.Blank90V, p.Slope90VPerOD
	case "135":
		b, a = p.Blank135V, p.Slope135VPerOD
	}
	return v + pl.unitGain*light*(b+a*xe)*pl.mixing()
}

// mixing is the transient scatter excess after a dose (bubbles, unmixed media).
func (pl *plant) mixing() float64 {
	if !pl.dosed || pl.p.MixingArtefact == 0 {
		return 1
	}
	since := (pl.t - pl.lastDose).Seconds()
	return 1 + pl.p.MixingArtefact*math.Exp(-since/pl.p.MixingTimeS)
}

// read is one averaged, noisy reading of d, clipped to the ADC's range.
func (pl *plant) read(d *photodiode) float64 {
	p := &pl.p
	v := pl.cleanVolts(d.angle)
	var sigma float64
	if d.angle == "REF" {
		sigma = p.RefNoiseVolts
	} else {
		rpm := pl.omega / 1000
		sigma = math.Hypot(p.NoiseFloorVolts, p.NoiseCV*v) * (1 + p.StirNoise*rpm*rpm)
	}
	d.ar = p.NoiseAR*d.ar + math.Sqrt(1-p.NoiseAR*p.NoiseAR)*d.rng.NormFloat64()
	v += sigma * d.ar
	if u := d.rng.Float64(); u < p.ShockProb {
		v += (2 + 3*d.rng.Float64()) * sigma * d.rng.NormFloat64()
	}
	return math.Min(math.Max(v, 0), p.ADCMaxVolts)
}
