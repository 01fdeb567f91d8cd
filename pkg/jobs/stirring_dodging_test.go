package jobs

import (
	"context"
	"log/slog"
	"math"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/calibration"
	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/hal"
	"github.com/pioreactor/pioreactord/pkg/hal/sim"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// stirWatch records the stir motor's duty cycle and, for every photodiode read, the duty
// cycle the motor had while it was taken.
type stirWatch struct {
	hal.PWM
	pd hal.Photodiodes

	mu     sync.Mutex
	dc     float64
	reads  []stirAtRead
	maxDC  float64 // highest duty cycle applied since the last read
	dcSeen []float64
}

type stirAtRead struct {
	at     time.Time
	dc     float64 // duty cycle when the read began
	dcMax  float64 // highest duty cycle applied while it was taken
	rpmMax float64 // the bar's fastest speed while it was taken
}

func (w *stirWatch) SetDutyCycle(dc float64) error {
	w.mu.Lock()
	w.dc = dc
	w.maxDC = max(w.maxDC, dc)
	w.dcSeen = append(w.dcSeen, dc)
	w.mu.Unlock()
	return w.PWM.SetDutyCycle(dc)
}

// watchedPD is the photodiodes of a board whose stirring a stirWatch watches.
type watchedPD struct {
	w     *stirWatch
	plant *sim.Bioreactor
}

func (p watchedPD) ReadVolts(ctx context.Context) (map[string]float64, error) {
	w := p.w
	w.mu.Lock()
	r := stirAtRead{at: time.Now(), dc: w.dc}
	w.maxDC = w.dc
	w.mu.Unlock()
	r.rpmMax = p.plant.Truth().RPM
	v, err := w.pd.ReadVolts(ctx)
	r.rpmMax = max(r.rpmMax, p.plant.Truth().RPM)
	w.mu.Lock()
	r.dcMax = w.maxDC
	w.reads = append(w.reads, r)
	w.mu.Unlock()
	return v, err
}

// stirRig runs stirring (with the unit's calibrations) and od_reading on a simulated vial.
type stirRig struct {
	*simRig
	watch *stirWatch
	cals  *calibration.Store
}

func newStirRig(t *testing.T, overrides [][3]string, calibrated bool) *stirRig {
	t.Helper()
	ch, _ := config.LoadDefault().With(overrides).PWMChannelFor("stirring")
	var w *stirWatch
	watched := func(plant *sim.Bioreactor) hal.Board {
		board := plant.Board()
		w = &stirWatch{PWM: board.PWM[ch], pd: board.Photodiodes}
		pwms := map[string]hal.PWM{}
		for k, v := range board.PWM {
			pwms[k] = v
		}
		pwms[ch] = w
		board.PWM = pwms
		board.Photodiodes = watchedPD{w: w, plant: plant}
		return board
	}
	dir := t.TempDir()
	cals, err := calibration.Open(filepath.Join(dir, "calibrations"))
	if err != nil {
		t.Fatal(err)
	}
	if calibrated {
		// The simulated motor at 15 mL: 25 RPM per % above a 10 % dead band.
		c := calibration.Calibration{Type: calibration.TypeStirring, Name: "sim-stirring", Unit: "pio01",
			CreatedAt: time.Unix(0, 0).UTC(), Curve: calibration.PolyCurve(25, -250), X: "DC %", Y: "RPM",
			Recorded: calibration.Recorded{X: []float64{20, 60}, Y: []float64{250, 1250}}, PWMHz: 200, Voltage: -1}
		if _, err := cals.Save(stirringDevice, c); err != nil {
			t.Fatal(err)
		}
		if err := cals.SetActive(stirringDevice, c.Name); err != nil {
			t.Fatal(err)
		}
	}
	od := ODDeps{CacheDir: filepath.Join(dir, "cache"), Calibrations: cals, Simulated: true}
	r := newRig(t, rigConfig{specs: []supervisor.Spec{NewStirringSpec(cals), NewODReadingSpec(od)},
		overrides: overrides, board: watched, log: slog.DiscardHandler})
	return &stirRig{simRig: r, watch: w, cals: cals}
}

// With dodging on and od_reading running, stirring steps down to its during-reading target
// (0 RPM) before every OD reading and back up after it: no reading is taken while the motor
// is driven, and between readings the bar runs near its target.
func TestStirringDodgesODReadings(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newStirRig(t, [][3]string{
			{"od_reading.config", "samples_per_second", "0.1"}, // 10 s between readings
			{stirringSection, "enable_dodging_od", "1"},
			{stirringSection, "post_delay_duration", "0.5"},
		}, true)
		defer r.close()
		r.start("od_reading", nil)
		time.Sleep(5 * time.Second)
		r.start("stirring", map[string]any{"target_rpm": 500.0})
		time.Sleep(time.Minute)
		if got := r.retained("stirring", "currently_dodging_od"); got != "True" {
			t.Fatalf("currently_dodging_od %q with od_reading running", got)
		}
		if got := r.retained("stirring", "target_rpm_outside_od_reading"); got != "500.0" {
			t.Fatalf("target_rpm_outside_od_reading %q", got)
		}
		r.watch.mu.Lock()
		from := len(r.watch.reads)
		r.watch.mu.Unlock()
		var fastest float64
		for range 10 * 60 {
			time.Sleep(time.Second)
			fastest = max(fastest, r.plant.Truth().RPM)
		}
		r.watch.mu.Lock()
		reads := append([]stirAtRead(nil), r.watch.reads[from:]...)
		r.watch.mu.Unlock()
		if len(reads) < 55 {
			t.Fatalf("%d OD readings in 10 min at a 10 s interval", len(reads))
		}
		for _, rd := range reads {
			if rd.dc != 0 || rd.dcMax != 0 {
				t.Fatalf("an OD reading at %v was taken with the stir motor at %v %% (up to %v %%)", rd.at, rd.dc, rd.dcMax)
			}
			if rd.rpmMax > 100 {
				t.Fatalf("an OD reading at %v saw the bar at %v RPM", rd.at, rd.rpmMax)
			}
		}
		t.Logf("%d OD readings in 10 min, each with the motor at 0 %%; between them the bar reached %.0f RPM", len(reads), fastest)
		if fastest < 400 {
			t.Fatalf("between readings the bar reached only %v RPM, want near 500", fastest)
		}

		// Dodging off: continuous stirring again, the two targets cleared.
		r.set("stirring", "enable_dodging_od", "false")
		time.Sleep(2 * time.Minute)
		if got := r.retained("stirring", "currently_dodging_od"); got != "False" {
			t.Fatalf("currently_dodging_od %q after disabling", got)
		}
		if got := r.retained("stirring", "target_rpm_during_od_reading"); got != "" {
			t.Fatalf("target_rpm_during_od_reading %q still published", got)
		}
		if rpm := r.plant.Truth().RPM; math.Abs(rpm-500) > 50 {
			t.Fatalf("continuous stirring at %v RPM", rpm)
		}
	})
}

// An OD interval too short for the delays ends the job with a timing error.
func TestStirringDodgingNeedsTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newStirRig(t, [][3]string{
			{"od_reading.config", "samples_per_second", "0.5"}, // 2 s between readings
			{stirringSection, "enable_dodging_od", "1"},
		}, true)
		defer r.close()
		r.start("od_reading", nil)
		time.Sleep(5 * time.Second)
		r.start("stirring", map[string]any{"target_rpm": 500.0})
		time.Sleep(time.Minute)
		if got := r.retained("stirring", "$state"); got != "disconnected" {
			t.Fatalf("stirring %q with a 2 s OD interval and 1.5 + 0.5 s delays, want disconnected", got)
		}
	})
}

// A stirring calibration sets the duty cycle of the target before the PID acts: the first
// measured RPM is within 10 % of target. Without it the start is the configured 30 %.
func TestStirringCalibrationAtStart(t *testing.T) {
	for _, c := range []struct {
		name       string
		calibrated bool
		within     bool
	}{{"calibrated", true, true}, {"uncalibrated", false, false}} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newStirRig(t, nil, c.calibrated)
				defer r.close()
				const target = 800.0
				r.start("stirring", map[string]any{"target_rpm": target})
				time.Sleep(5 * time.Second) // the first PID update is at 6 s
				dc := decode[float64](t, r.retained("stirring", "duty_cycle"))
				time.Sleep(3 * time.Second)
				first := measuredRPM(t, r.simRig)
				if got := math.Abs(first-target)/target <= 0.10; got != c.within {
					t.Fatalf("first measured RPM %v at %v %% duty (target %v): within 10 %% = %v, want %v", first, dc, target, got, c.within)
				}
				if c.calibrated {
					// est = inverse(800) = 42 %, then lookup: 1.05·(0.1·42 + 0.9·42) = 44.1 %.
					if math.Abs(dc-44.1) > 1e-9 {
						t.Fatalf("duty cycle %v, want 44.1", dc)
					}
					// A new target goes through the lookup: 1.05·(0.1·44.1 + 0.9·34) = 36.7605 %.
					r.set("stirring", "target_rpm", "600")
					time.Sleep(100 * time.Millisecond)
					if dc := decode[float64](t, r.retained("stirring", "duty_cycle")); math.Abs(dc-36.7605) > 0.5 {
						t.Fatalf("duty cycle %v after target 600, want ≈ 36.76 (before the PID's next step)", dc)
					}
				}
			})
		})
	}
}
