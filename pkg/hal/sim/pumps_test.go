package sim

import (
	"math"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"
)

// exactPumps removes calibration error and per-dose jitter so flows are exactly nominal.
func exactPumps(p Params) Params {
	p.PumpCalibrationErrorSD, p.PumpDoseJitterSD = 0, 0
	p.PumpFlowMLPerS = 0.1
	return p
}

func TestDilution(t *testing.T) {
	t.Parallel()
	const x0 = 0.5
	for _, c := range []struct {
		name        string
		v0, veff    float64 // mL
		capML       float64
		pumps       []string // PWM channels run at 100 % for 60 s (6 mL each)
		wantV       float64
		wantX       float64
		wantWasteML float64
		wantAlt     float64
	}{
		{"media+waste at the tube", 15, 15, 40, []string{"2", "4"}, 15, x0 * math.Exp(-6.0/15), 6, 0},
		{"media only", 15, 15, 40, []string{"2"}, 21, x0 * 15 / 21, 0, 0},
		{"waste only at the tube pumps air", 15, 15, 40, []string{"4"}, 15, x0, 0, 0},
		{"waste above the tube stops at it", 18, 15, 40, []string{"4"}, 15, x0, 3, 0},
		// Below the tube: 1 mL fills it (X·V conserved), then 5 mL wash through at constant V.
		{"media+waste from below the tube", 14, 15, 40, []string{"2", "4"}, 15, x0 * 14 / 15 * math.Exp(-5.0/15), 5, 0},
		{"alt media+waste", 15, 15, 40, []string{"3", "4"}, 15, x0 * math.Exp(-6.0/15), 6, 1 - math.Exp(-6.0/15)},
		// V rises linearly, so X = X0·(V0/V1)^(F_in/(F_in − F_w)).
		{"media+alt+waste", 15, 15, 40, []string{"2", "3", "4"}, 21, x0 * (15.0 / 21) * (15.0 / 21), 6, 0.5 * (1 - (15.0/21)*(15.0/21))},
		{"overflow caps at capacity", 15, 15, 18, []string{"2"}, 18, x0 * 15 / 18 * math.Exp(-3.0/18), 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				p := exactPumps(quietParams())
				p.InitialOD, p.InitialVolumeML, p.EffluxVolumeML, p.CapacityML = x0, c.v0, c.veff, c.capML
				b := newUnit(t, p)
				for _, ch := range c.pumps {
					setDuty(t, b, ch, 100)
				}
				wait(t, b, 60*time.Second)
				for _, ch := range c.pumps {
					setDuty(t, b, ch, 0)
				}
				tr := b.Truth()
				if !near(tr.VolumeML, c.wantV, 1e-9) {
					t.Errorf("volume %v mL, want %v", tr.VolumeML, c.wantV)
				}
				if !near(tr.OD, c.wantX, 1e-9) {
					t.Errorf("X %v, want %v", tr.OD, c.wantX)
				}
				if !near(tr.WasteML, c.wantWasteML, 1e-9) {
					t.Errorf("waste %v mL, want %v", tr.WasteML, c.wantWasteML)
				}
				if !near(tr.AltMediaFraction, c.wantAlt, 1e-9) {
					t.Errorf("alt-media fraction %v, want %v", tr.AltMediaFraction, c.wantAlt)
				}
				in := tr.MediaML + tr.AltMediaML
				if out := tr.WasteML + tr.OverflowML; !near(c.v0+in-out, tr.VolumeML, 1e-9) {
					t.Errorf("volume balance: %v + %v in − %v out ≠ %v", c.v0, in, out, tr.VolumeML)
				}
			})
		})
	}
}

// Overflow is counted once per spill, and the spilled volume adds up.
func TestOverflowCounted(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := exactPumps(quietParams())
		p.CapacityML = 16
		b := newUnit(t, p)
		for range 2 {
			setDuty(t, b, "2", 100)
			wait(t, b, 20*time.Second) // 2 mL: 1 mL fills, 1 mL spills
			setDuty(t, b, "2", 0)
			setDuty(t, b, "4", 100) // back down to the tube
			wait(t, b, 20*time.Second)
			setDuty(t, b, "4", 0)
		}
		tr := b.Truth()
		if tr.OverflowEvents != 2 || !near(tr.OverflowML, 2, 1e-9) {
			t.Errorf("overflow %d events, %v mL; want 2 events, 2 mL", tr.OverflowEvents, tr.OverflowML)
		}
	})
}

// A random dosing schedule never takes the volume above capacity nor, from the tube level,
// below the tube.
func TestVolumeBounds(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := quietParams()
		p.PumpFlowMLPerS = 0.5
		p.CapacityML = 20
		b := newUnit(t, p)
		r := rand.New(rand.NewPCG(1, 2))
		for range 500 {
			setDuty(t, b, []string{"2", "3", "4"}[r.IntN(3)], []float64{0, 0, 50, 100}[r.IntN(4)])
			wait(t, b, time.Duration(r.IntN(30000))*time.Millisecond)
			tr := b.Truth()
			if tr.VolumeML > p.CapacityML+1e-9 || tr.VolumeML < p.EffluxVolumeML-1e-9 {
				t.Fatalf("volume %v mL outside [%v, %v]", tr.VolumeML, p.EffluxVolumeML, p.CapacityML)
			}
			if tr.OD < 0 || tr.AltMediaFraction < 0 || tr.AltMediaFraction > 1 {
				t.Fatalf("X %v, alt fraction %v", tr.OD, tr.AltMediaFraction)
			}
		}
	})
}

// Each pump has its own true flow, off nominal by the calibration error, and duty scales it.
func TestPumpFlowCalibrationError(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := quietParams()
		p.PumpDoseJitterSD = 0
		p.CapacityML = 1000
		b := newUnit(t, p)
		flows := b.Truth().PumpFlowMLPerS
		if len(flows) != 3 || flows["2"] == flows["3"] || flows["2"] == p.PumpFlowMLPerS {
			t.Fatalf("true flows %v: want three distinct values near %v", flows, p.PumpFlowMLPerS)
		}
		for ch, f := range flows {
			if !near(f, p.PumpFlowMLPerS, 0.1*p.PumpFlowMLPerS) {
				t.Errorf("pump %s flow %v mL/s, nominal %v", ch, f, p.PumpFlowMLPerS)
			}
		}
		setDuty(t, b, "2", 50)
		wait(t, b, 100*time.Second)
		setDuty(t, b, "2", 0)
		if got, want := b.Truth().MediaML, flows["2"]*0.5*100; !near(got, want, 1e-9) {
			t.Errorf("media pumped %v mL, want %v", got, want)
		}
	})
}

// Per-dose jitter changes each dose a little, around the pump's true flow.
func TestDoseJitter(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := quietParams()
		p.CapacityML = 1000
		b := newUnit(t, p)
		flow := b.Truth().PumpFlowMLPerS["2"]
		var doses []float64
		for range 20 {
			before := b.Truth().MediaML
			setDuty(t, b, "2", 100)
			wait(t, b, 10*time.Second)
			setDuty(t, b, "2", 0)
			doses = append(doses, b.Truth().MediaML-before)
		}
		var distinct int
		for i, d := range doses {
			if !near(d, 10*flow, 0.05*10*flow) {
				t.Errorf("dose %d: %v mL, true flow gives %v", i, d, 10*flow)
			}
			if i > 0 && d != doses[i-1] {
				distinct++
			}
		}
		if distinct < 15 {
			t.Errorf("doses %v barely vary", doses)
		}
	})
}

// The board's PWMTimer stops a pump at the exact plant time, however late it is asked to
// or the plant is next looked at; a new duty cycle first replaces the stop.
func TestPWMTimer(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name      string
		askAfter  time.Duration // wait between switching on and OffAfter (the plant is read meanwhile)
		after     time.Duration // OffAfter's d
		resetAt   time.Duration // > 0: set 100 % again at this time after switching on
		wantMedia float64       // mL 60 s after the last action
	}{
		{"stop after 10 s", 0, 10 * time.Second, 0, 1},
		{"asked late, stop still 10 s after on", 4 * time.Second, 10 * time.Second, 0, 1},
		{"asked after the instant: stops now", 15 * time.Second, 10 * time.Second, 0, 1.5},
		{"a new duty cycle replaces the stop", 0, 10 * time.Second, 5 * time.Second, 6.5},
		{"zero: stops at once", 0, 0, 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				b := newUnit(t, exactPumps(quietParams()))
				timer := b.Board().PWMTimer
				setDuty(t, b, "2", 100)
				wait(t, b, c.askAfter)
				b.Truth() // another device's access brings the plant up to now
				if err := timer.OffAfter("2", c.after); err != nil {
					t.Fatal(err)
				}
				if c.resetAt > 0 {
					wait(t, b, c.resetAt-c.askAfter)
					setDuty(t, b, "2", 100)
				}
				wait(t, b, time.Minute)
				if got := b.Truth().MediaML; !near(got, c.wantMedia, 1e-9) {
					t.Fatalf("media %v mL, want %v", got, c.wantMedia)
				}
			})
		})
	}
	synctest.Test(t, func(t *testing.T) {
		b := newUnit(t, quietParams())
		if err := b.Board().PWMTimer.OffAfter("9", time.Second); err == nil {
			t.Fatal("OffAfter on channel 9 succeeded")
		}
		if err := b.Board().PWMTimer.OffAfter("2", -time.Second); err == nil {
			t.Fatal("OffAfter of a negative duration succeeded")
		}
	})
}
