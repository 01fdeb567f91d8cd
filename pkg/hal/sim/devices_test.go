package sim

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/hal"
)

func TestValidation(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := newUnit(t, DefaultParams())
		bd := b.Board()
		for _, pct := range []float64{-0.1, 100.1, math.NaN(), math.Inf(1)} {
			if err := bd.PWM["1"].SetDutyCycle(pct); !errors.Is(err, ErrOutOfRange) {
				t.Errorf("duty %v: err %v, want ErrOutOfRange", pct, err)
			}
			if err := bd.LEDs.SetIntensity("A", pct); !errors.Is(err, ErrOutOfRange) {
				t.Errorf("intensity %v: err %v, want ErrOutOfRange", pct, err)
			}
		}
		for _, pct := range []float64{0, 55.5, 100} {
			if err := bd.PWM["5"].SetDutyCycle(pct); err != nil {
				t.Errorf("duty %v: %v", pct, err)
			}
			if err := bd.LEDs.SetIntensity("D", pct); err != nil {
				t.Errorf("intensity %v: %v", pct, err)
			}
		}
		if err := bd.LEDs.SetIntensity("E", 10); !errors.Is(err, ErrUnknownChannel) {
			t.Errorf("LED E: err %v, want ErrUnknownChannel", err)
		}
		if len(bd.PWM) != 5 {
			t.Errorf("board has %d PWM channels, want 5", len(bd.PWM))
		}
	})
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	mod := func(f func(*Params)) Params {
		p := DefaultParams()
		f(&p)
		return p
	}
	for _, c := range []struct {
		name  string
		p     Params
		roles map[string]string
	}{
		{"negative capacity", mod(func(p *Params) { p.CapacityML = -1 }), nil},
		{"tube above capacity", mod(func(p *Params) { p.EffluxVolumeML = 50 }), nil},
		{"overfilled", mod(func(p *Params) { p.InitialVolumeML = 41 }), nil},
		{"cardinal temperatures out of order", mod(func(p *Params) { p.TOptC = 50 }), nil},
		{"T_opt below midpoint", mod(func(p *Params) { p.TOptC = 20 }), nil},
		{"NaN growth rate", mod(func(p *Params) { p.MuOptPerHour = math.NaN() }), nil},
		{"no photodiodes", mod(func(p *Params) { p.Photodiodes = nil }), nil},
		{"two REF", mod(func(p *Params) { p.Photodiodes = map[string]string{"1": "REF", "2": "REF"} }), nil},
		{"bad angle", mod(func(p *Params) { p.Photodiodes = map[string]string{"1": "60"} }), nil},
		{"bad photodiode channel", mod(func(p *Params) { p.Photodiodes = map[string]string{"5": "90"} }), nil},
		{"bad IR channel", mod(func(p *Params) { p.IRChannel = "IR" }), nil},
		{"zero step", mod(func(p *Params) { p.Step = 0 }), nil},
		{"quiet step below step", mod(func(p *Params) { p.QuietStep = time.Millisecond }), nil},
		{"huge calibration error", mod(func(p *Params) { p.PumpCalibrationErrorSD = 0.5 }), nil},
		{"break-away below dead band", mod(func(p *Params) { p.BreakawayPercent = 5 }), nil},
		{"unknown role", DefaultParams(), map[string]string{"1": "mixer"}},
		{"bad channel", DefaultParams(), map[string]string{"6": "media"}},
		{"two heaters", DefaultParams(), map[string]string{"4": "heating", "5": "heating"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if _, err := New(c.p, clock.Real{}, c.roles); err == nil {
				t.Error("New accepted it")
			}
		})
	}
	if _, err := New(DefaultParams(), nil, nil); err == nil {
		t.Error("New accepted a nil clock")
	}
	if err := DefaultParams().Validate(); err != nil {
		t.Errorf("DefaultParams: %v", err)
	}
}

// Roles follow the [PWM] map: two media pumps add up, an unused channel does nothing.
func TestRoles(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := exactPumps(quietParams())
		b, err := New(p, clock.Real{}, map[string]string{"1": "", "2": "waste", "3": "media", "4": "media", "5": "heating"})
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range []string{"1", "3", "4"} {
			setDuty(t, b, ch, 100)
		}
		wait(t, b, 10*time.Second)
		tr := b.Truth()
		if !near(tr.MediaML, 2, 1e-9) || tr.RPM != 0 || !near(tr.VolumeML, 17, 1e-9) {
			t.Errorf("media %v mL, RPM %v, volume %v; want 2 mL, 0, 17 mL", tr.MediaML, tr.RPM, tr.VolumeML)
		}
	})
}

// Channel 5 heats even when [PWM] does not say so, as on the HAT.
func TestHeaterDefaultsToChannel5(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b, err := New(quietParams(), clock.Real{}, map[string]string{"2": "media"})
		if err != nil {
			t.Fatal(err)
		}
		setDuty(t, b, "5", 50)
		wait(t, b, time.Minute)
		if tr := b.Truth(); tr.HeaterC < 30 {
			t.Errorf("heater PCB at %v °C after a minute at 50 %%", tr.HeaterC)
		}
	})
}

func TestFaults(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		f     Fault
		check func(*testing.T, hal.Board) error // the failing behaviour; nil error means "healthy"
	}{
		{FaultThermometer, func(t *testing.T, bd hal.Board) error {
			_, err := bd.Thermometer.ReadCelsius(context.Background())
			return err
		}},
		{FaultPhotodiodes, func(t *testing.T, bd hal.Board) error {
			_, err := bd.Photodiodes.ReadVolts(context.Background())
			return err
		}},
		{FaultLEDs, func(t *testing.T, bd hal.Board) error {
			return bd.LEDs.SetIntensity("A", 50)
		}},
		{FaultHallDead, func(t *testing.T, bd hal.Board) error {
			e, err := bd.Hall.Edges(context.Background(), 2*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if len(e) == 0 {
				return ErrNoAnswer
			}
			return nil
		}},
		{FaultStirDecoupled, func(t *testing.T, bd hal.Board) error {
			time.Sleep(10 * time.Second) // let the bar spin down (or back up)
			e, err := bd.Hall.Edges(context.Background(), 2*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if len(e) == 0 {
				return ErrNoAnswer
			}
			return nil
		}},
	} {
		t.Run(c.f.String(), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				b := newUnit(t, DefaultParams())
				setDuty(t, b, "1", 30)
				wait(t, b, 5*time.Second)
				bd := b.Board()
				if err := c.check(t, bd); err != nil {
					t.Fatalf("healthy: %v", err)
				}
				b.SetFault(c.f, true)
				if err := c.check(t, bd); !errors.Is(err, ErrNoAnswer) {
					t.Errorf("with fault: err %v, want ErrNoAnswer", err)
				}
				if c.f == FaultStirDecoupled && b.Truth().RPM != 0 {
					t.Errorf("decoupled bar at %v RPM", b.Truth().RPM)
				}
				b.SetFault(c.f, false)
				if err := c.check(t, bd); err != nil {
					t.Errorf("after clearing: %v", err)
				}
			})
		})
	}
}

// Many goroutines using every device at once: run with -race.
func TestConcurrentDevices(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := newUnit(t, DefaultParams())
		bd := b.Board()
		ctx := context.Background()
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				for range 20 {
					if _, err := bd.Photodiodes.ReadVolts(ctx); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Go(func() {
			for range 20 {
				if _, err := bd.Hall.Edges(ctx, time.Second); err != nil {
					t.Error(err)
				}
			}
		})
		wg.Go(func() {
			for i := range 40 {
				_ = bd.PWM["5"].SetDutyCycle(float64(i))
				_ = bd.PWM["1"].SetDutyCycle(30)
				_ = bd.LEDs.SetIntensity("A", float64(i))
				_, _ = bd.Thermometer.ReadCelsius(ctx)
				time.Sleep(500 * time.Millisecond)
			}
		})
		wg.Go(func() {
			for range 40 {
				_ = b.Truth()
				b.SetFault(FaultHallDead, false)
				time.Sleep(300 * time.Millisecond)
			}
		})
		wg.Wait()
	})
}

// A Scaled clock works too: 10 virtual minutes at 600× take about a second of wall time.
func TestScaledClock(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		clk, err := clock.NewScaled(600)
		if err != nil {
			t.Fatal(err)
		}
		p := DefaultParams()
		p.AmbientC = 37
		b, err := New(p, clk, nil)
		if err != nil {
			t.Fatal(err)
		}
		x0 := b.Truth().OD
		if err := clk.Sleep(context.Background(), 10*time.Minute); err != nil {
			t.Fatal(err)
		}
		tr := b.Truth()
		want := x0 * math.Exp(tr.GrowthRatePerHour/6)
		if !near(tr.OD, want, 0.005*want) {
			t.Errorf("X after 10 virtual minutes %v, want ≈ %v", tr.OD, want)
		}
	})
}
