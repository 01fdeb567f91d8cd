package sim

import (
	"math"
	"testing"
	"testing/synctest"
	"time"
)

func TestGamma(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ temp, want, tol float64 }{
		{39, 1, 1e-12},
		{37, 0.978, 0.001}, // spec: γ(37) ≈ 0.98
		{30, 0.720, 0.001}, // spec: γ(30) ≈ 0.72
		{5, 0, 0},
		{47, 0, 0},
		{50, 0, 0},
		{-3, 0, 0},
	} {
		if got := gamma(c.temp, 5, 39, 47); !near(got, c.want, c.tol) {
			t.Errorf("γ(%v) = %v, want %v", c.temp, got, c.want)
		}
	}
}

// A culture held at a fixed temperature grows with ln-slope μ_opt·γ(T)·(1 − X/K) − k_d: its
// instantaneous rate matches the formula and X follows the closed-form logistic solution.
func TestGrowthRateFollowsModel(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		temp float64
	}{
		{"30C", 30}, {"37C", 37}, {"optimum", 39}, {"cool", 20}, {"too hot", 48},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				p := DefaultParams()
				p.AmbientC = c.temp // heater off: the liquid stays at ambient
				b := newUnit(t, p)
				rate := func(x float64) float64 {
					return p.MuOptPerHour*gamma(c.temp, p.TMinC, p.TOptC, p.TMaxC)*(1-x/p.CarryingCapacityOD) - p.DeathPerHour
				}
				x0 := b.Truth()
				if !near(x0.GrowthRatePerHour, rate(x0.OD), 1e-9) {
					t.Fatalf("truth rate %v, want %v", x0.GrowthRatePerHour, rate(x0.OD))
				}
				wait(t, b, time.Hour)
				x1 := b.Truth()
				// dX/dt = (r − aX)·X  ⇒  X(t) = r·X0·e^{rt} / (r + a·X0·(e^{rt} − 1)).
				r, a := rate(0), p.MuOptPerHour*gamma(c.temp, p.TMinC, p.TOptC, p.TMaxC)/p.CarryingCapacityOD
				e := math.Exp(r)
				want := r * x0.OD * e / (r + a*x0.OD*(e-1))
				slope, wantSlope := math.Log(x1.OD/x0.OD), math.Log(want/x0.OD)
				if !near(slope, wantSlope, 1e-4*math.Abs(wantSlope)+1e-9) {
					t.Errorf("ln slope over 1 h %v, want %v (X %v → %v)", slope, wantSlope, x0.OD, x1.OD)
				}
			})
		})
	}
}

// With a Baranyi lag of 1 h the culture starts at exp(−μλ) of its rate and catches up.
func TestLag(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := DefaultParams()
		p.AmbientC = p.TOptC
		p.LagHours = 1
		p.DeathPerHour = 0
		b := newUnit(t, p)
		full := func(x float64) float64 { return p.MuOptPerHour * (1 - x/p.CarryingCapacityOD) }
		tr := b.Truth()
		if want := full(tr.OD) * math.Exp(-1); !near(tr.GrowthRatePerHour, want, 1e-9) {
			t.Fatalf("initial rate %v, want %v", tr.GrowthRatePerHour, want)
		}
		wait(t, b, 5*time.Hour)
		tr = b.Truth()
		q := 1 / (math.E - 1) // q(0) = 1/(exp(μλ) − 1), then q grows as exp(μt)
		want := q * math.Exp(5) / (1 + q*math.Exp(5))
		if r := tr.GrowthRatePerHour / full(tr.OD); !near(r, want, 1e-6) {
			t.Errorf("after 5 h the lag factor is %v, want %v", r, want)
		}
	})
}

// Monod batch: growth stops when the substrate is used up, at X ≈ X0 + Y·S0.
func TestMonodBatchYield(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := DefaultParams()
		p.Monod = true
		p.AmbientC = 37
		p.DeathPerHour = 0
		b := newUnit(t, p)
		wait(t, b, 12*time.Hour)
		tr := b.Truth()
		want := p.InitialOD + p.YieldODPerGPerL*p.InitialSubstrateGPerL
		if tr.SubstrateGPerL > 1e-3 || !near(tr.OD, want, 0.01*want) {
			t.Errorf("after 12 h: S = %v g/L, X = %v; want S ≈ 0, X ≈ %v", tr.SubstrateGPerL, tr.OD, want)
		}
	})
}

// Alt media carrying an inhibitor at IC50 halves the growth rate (Hill coefficient 2: 1/(1+1)).
func TestInhibitor(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := DefaultParams()
		p.AmbientC = p.TOptC
		p.DeathPerHour = 0
		p.AltMediaInhibitorUgPerML = 2 * p.IC50UgPerML
		p.PumpCalibrationErrorSD, p.PumpDoseJitterSD = 0, 0
		b := newUnit(t, p)
		before := b.Truth()
		// Replace half the liquid (by fraction) with alt media: fraction 1 − exp(−ΔV/V) = 0.5.
		setDuty(t, b, "3", 100)
		setDuty(t, b, "4", 100)
		wait(t, b, time.Duration(p.EffluxVolumeML*math.Ln2/p.PumpFlowMLPerS*float64(time.Second)))
		setDuty(t, b, "3", 0)
		setDuty(t, b, "4", 0)
		tr := b.Truth()
		if !near(tr.AltMediaFraction, 0.5, 0.01) {
			t.Fatalf("alt-media fraction %v, want 0.5", tr.AltMediaFraction)
		}
		logistic := func(x float64) float64 { return p.MuOptPerHour * (1 - x/p.CarryingCapacityOD) }
		want := logistic(tr.OD) / (1 + math.Pow(tr.AltMediaFraction*2, 2))
		if !near(tr.GrowthRatePerHour, want, 1e-9) || tr.GrowthRatePerHour >= before.GrowthRatePerHour {
			t.Errorf("rate %v, want %v", tr.GrowthRatePerHour, want)
		}
	})
}

// Chemostat (spec B.11 #4): continuous media at D = 0.2 /h with the waste holding the level
// converges to the Monod steady state.
func TestChemostatSteadyState(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := exactPumps(DefaultParams())
		p.Monod = true
		p.AmbientC = 37
		b := newUnit(t, p)
		const dilution = 0.2 // 1/h
		duty := dilution * p.EffluxVolumeML / 3600 / p.PumpFlowMLPerS * 100
		setDuty(t, b, "2", duty)
		setDuty(t, b, "4", 100)
		wait(t, b, 72*time.Hour)
		mu := p.MuOptPerHour * gamma(37, p.TMinC, p.TOptC, p.TMaxC)
		sStar := p.HalfSaturationGPerL * (dilution + p.DeathPerHour) / (mu - dilution - p.DeathPerHour)
		xStar := p.YieldODPerGPerL * (p.MediaSubstrateGPerL - sStar) * dilution / (dilution + p.DeathPerHour)
		tr := b.Truth()
		if !near(tr.OD, xStar, 0.01*xStar) || !near(tr.SubstrateGPerL, sStar, 0.05*sStar) {
			t.Errorf("X = %v, S = %v; want X* = %v, S* = %v", tr.OD, tr.SubstrateGPerL, xStar, sStar)
		}
		if !near(tr.VolumeML, p.EffluxVolumeML, 1e-9) {
			t.Errorf("volume %v mL, want the tube level %v", tr.VolumeML, p.EffluxVolumeML)
		}
	})
}
