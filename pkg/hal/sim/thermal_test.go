package sim

import (
	"context"
	"math"
	"testing"
	"testing/synctest"
	"time"
)

// steadyLiquidC is the analytical steady liquid temperature at heater duty pct with no pump
// running (B.6): T_l − T_a = P·u / (G_la + G_ha·(1 + G_la/G_hl)).
func steadyLiquidC(p Params, pct float64) float64 {
	g := p.LiquidAmbientWPerK + p.HeaterAmbientWPerK*(1+p.LiquidAmbientWPerK/p.HeaterLiquidWPerK)
	return p.AmbientC + p.HeaterMaxW*pct/100/g
}

// A heater at fixed duty settles the liquid at the analytical steady state; the heating PCB,
// which the sensor reads, sits above it by the conductance ratio.
func TestHeaterSteadyState(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		duty     float64
		liquidC  float64 // docs/simulation.md figures, ±0.2
		ambientC float64
	}{
		{"off", 0, 22, 22},
		{"15%", 15, 38.7, 22},
		{"full", 100, 133.1, 22},
		{"warm room", 30, 58.3, 25},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				p := quietParams()
				p.AmbientC = c.ambientC
				b := newUnit(t, p)
				setDuty(t, b, "5", c.duty)
				wait(t, b, 12*time.Hour) // ≥ 25 slow time constants
				tr := b.Truth()
				want := steadyLiquidC(p, c.duty)
				if !near(tr.LiquidC, want, 0.01) || !near(tr.LiquidC, c.liquidC, 0.2) {
					t.Errorf("liquid %v °C, want %v (spec ≈ %v)", tr.LiquidC, want, c.liquidC)
				}
				wantH := p.AmbientC + (want-p.AmbientC)*(1+p.LiquidAmbientWPerK/p.HeaterLiquidWPerK)
				if !near(tr.HeaterC, wantH, 0.01) {
					t.Errorf("heater PCB %v °C, want %v", tr.HeaterC, wantH)
				}
				if c.duty > 0 && tr.HeaterC <= tr.LiquidC+1 {
					t.Errorf("heater PCB %v °C not above the liquid %v °C", tr.HeaterC, tr.LiquidC)
				}
				// The sensor reads the PCB, quantised to 1/16 °C.
				var sum float64
				const n = 60
				for range n {
					v, err := b.Board().Thermometer.ReadCelsius(context.Background())
					if err != nil {
						t.Fatal(err)
					}
					if q := v / 0.0625; q != math.Round(q) {
						t.Fatalf("reading %v is not a multiple of 0.0625", v)
					}
					sum += v
				}
				if mean := sum / n; !near(mean, tr.HeaterC, 0.03) {
					t.Errorf("mean sensor reading %v °C, PCB at %v °C", mean, tr.HeaterC)
				}
			})
		})
	}
}

// rk4Thermal integrates the two-node model with RK4 at 10 ms: the reference the simulator's
// exponential-Euler steps are checked against.
func rk4Thermal(p Params, th, tl, pct, volML, seconds float64) (float64, float64) {
	cl := waterJPerMLK*volML + p.GlassCapacityJPerK
	f := func(th, tl float64) (float64, float64) {
		dh := (p.HeaterMaxW*pct/100 - p.HeaterLiquidWPerK*(th-tl) - p.HeaterAmbientWPerK*(th-p.AmbientC)) / p.HeaterCapacityJPerK
		dl := (p.HeaterLiquidWPerK*(th-tl) - p.LiquidAmbientWPerK*(tl-p.AmbientC)) / cl
		return dh, dl
	}
	const h = 0.01
	for i := 0; i < int(math.Round(seconds/h)); i++ {
		a1, b1 := f(th, tl)
		a2, b2 := f(th+h/2*a1, tl+h/2*b1)
		a3, b3 := f(th+h/2*a2, tl+h/2*b2)
		a4, b4 := f(th+h*a3, tl+h*b3)
		th += h / 6 * (a1 + 2*a2 + 2*a3 + a4)
		tl += h / 6 * (b1 + 2*b2 + 2*b3 + b4)
	}
	return th, tl
}

// The heater-off transient the temperature inference samples (21 readings over 105 s) follows
// the two-node ODE closely, whatever step size the simulator picks.
func TestHeaterTransientMatchesODE(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := quietParams()
		b := newUnit(t, p)
		setDuty(t, b, "5", 45.6)
		wait(t, b, 200*time.Second) // mid warm-up: both modes excited
		s := b.Truth()
		wantH, wantL := rk4Thermal(p, s.HeaterC, s.LiquidC, 45.6, s.VolumeML, 100)
		wait(t, b, 100*time.Second)
		if tr := b.Truth(); !near(tr.HeaterC, wantH, 0.01) || !near(tr.LiquidC, wantL, 0.01) {
			t.Errorf("heating: PCB %v, liquid %v; ODE %v, %v", tr.HeaterC, tr.LiquidC, wantH, wantL)
		}

		wait(t, b, 12*time.Hour)
		s = b.Truth()
		setDuty(t, b, "5", 0)
		for i := 1; i <= 21; i++ {
			wait(t, b, 5*time.Second)
			tr := b.Truth()
			wantH, wantL := rk4Thermal(p, s.HeaterC, s.LiquidC, 0, s.VolumeML, float64(5*i))
			if !near(tr.HeaterC, wantH, 0.01) || !near(tr.LiquidC, wantL, 0.01) {
				t.Fatalf("%d s after switching off: PCB %v, liquid %v; ODE %v, %v", 5*i, tr.HeaterC, tr.LiquidC, wantH, wantL)
			}
		}
		// The liquid loses G_la·(T_l − T_a) while the heater is off: ≈ 3 K in this window
		// at 72 ℃, about 0.3 K at 30 ℃ (what the thermostat's liquid swings by).
		if drop := s.LiquidC - b.Truth().LiquidC; drop < 2 || drop > 3.5 {
			t.Errorf("liquid cooled %v K in 105 s, want ≈ 3", drop)
		}
	})
}
