package simbench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/internal/clocktest"
	"github.com/pioreactor/pioreactord/pkg/calibration"
	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal/sim"
	"github.com/pioreactor/pioreactord/pkg/jobs"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/store"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

const (
	experiment = "bench"
	targetNOD  = 2.0
	targetC    = 30.0
	targetRPM  = 500.0
	simulated  = 24 * time.Hour
	sampleStep = 30 * time.Second
)

// unit is one simulated Pioreactor of the bench.
type unit struct {
	name  string
	plant *sim.Bioreactor
	sup   *supervisor.Supervisor
	db    *store.DB
	done  chan struct{}
	fig   figures
}

// figures are one unit's control-quality measurements.
type figures struct {
	reachedTarget             time.Duration // when nOD first reached the target (0: never)
	nodLo, nodHi              float64       // nOD after the target was reached
	settledAt                 time.Duration // thermostat: first time within ±0.5 °C
	tempLo, tempHi            float64       // published temperature after settling
	inBand, afterSettle       int           // samples within ±0.5 °C / all samples, after settling
	biasSum                   float64       // Σ (true liquid − published) after settling
	biasN                     int
	rpmLo, rpmHi              float64 // measured RPM after 10 min
	nodN, rpmN                int     // samples behind nodLo/Hi and rpmLo/Hi
	grErrMax                  float64 // max relative growth-rate error in exponential phase
	grPeak                    float64 // the highest true growth rate
	grExp, grLate             []grSample
	mediaPublished, mediaTrue float64
	overflowML                float64
	// The true liquid after thermalSettle: its mean and range.
	liquidSum          float64
	liquidN            int
	liquidLo, liquidHi float64
}

// speed is what each unit's jobs run as: a millisecond of scheduler latency is speed ms of
// virtual time on a clock that fast, so the three units stand for --speed 1, 600 and 3600.
var speeds = []int{1, 600, 3600}

const (
	thermalSettle = 4 * time.Hour // the vial's slow time constant is 26 min
	// doseStepK is how much one turbidostat dose of room-temperature media (22 °C) cools the
	// culture at once, whatever the thermostat: 1 mL into 15 mL at 30 °C.
	doseStepK = 1.0 * (targetC - 22) / (15 + 1.0)
)

func newUnit(t *testing.T, name string, seed int64, speed int, bus *pubsub.Bus, conf *config.Config) *unit {
	dir := t.TempDir()
	p := sim.DefaultParams()
	p.Seed = seed
	plant, err := sim.New(p, clock.Real{}, conf.PWMRoles())
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(filepath.Join(dir, "unit.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	dosing, err := jobs.NewDosing(filepath.Join(dir, "calibrations"), filepath.Join(dir, "cache"), nil)
	if err != nil {
		t.Fatal(err)
	}
	// A perfect pump calibration: the simulated pumps' true flow.
	flows := plant.Truth().PumpFlowMLPerS
	for dev, ch := range map[string]string{calibration.MediaPump: "2", calibration.AltMediaPump: "3", calibration.WastePump: "4"} {
		c := calibration.DefaultPump()
		c.Name, c.Unit, c.Curve = dev+"-bench", name, calibration.PolyCurve(flows[ch], 0)
		if _, err := dosing.Calibrations.Save(dev, c); err != nil {
			t.Fatal(err)
		}
		if err := dosing.Calibrations.SetActive(dev, c.Name); err != nil {
			t.Fatal(err)
		}
	}
	cache := filepath.Join(dir, "cache")
	od := jobs.ODDeps{CacheDir: cache, Calibrations: dosing.Calibrations, Simulated: true}
	sup, err := supervisor.New(supervisor.Config{Unit: name, Leader: "leader", Dialer: bus, Registry: db.Registry(),
		Board: plant.Board(), Clock: clocktest.NewLate(clock.Real{}, time.Duration(speed)*time.Millisecond, uint64(seed)), Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Conf: conf,
		Jobs: []supervisor.Spec{jobs.NewBioreactorSpec(dosing), jobs.NewStirringSpec(nil), jobs.NewODReadingSpec(od),
			jobs.NewGrowthRateSpec(od), jobs.NewTemperatureAutomationSpec(jobs.TemperatureAutomations()), jobs.NewDosingAutomationSpec(dosing, jobs.DosingAutomations())},
		Autostart: []string{jobs.BioreactorJobName}})
	if err != nil {
		t.Fatal(err)
	}
	return &unit{name: name, plant: plant, sup: sup, db: db, done: make(chan struct{}), fig: emptyFigures()}
}

// emptyFigures are the figures before the first sample.
func emptyFigures() figures {
	return figures{nodLo: math.Inf(1), nodHi: math.Inf(-1), tempLo: math.Inf(1), tempHi: math.Inf(-1), rpmLo: math.Inf(1), rpmHi: math.Inf(-1),
		liquidLo: math.Inf(1), liquidHi: math.Inf(-1)}
}

func (u *unit) start(t *testing.T, job string, options map[string]any) {
	err := u.sup.StartJob(context.Background(), job, contract.RunRequest{Options: options, Env: map[string]string{"EXPERIMENT": experiment}})
	if err != nil {
		t.Fatalf("%s: start %s: %v", u.name, job, err)
	}
}

// TestSimBench is the 24 h, 3-unit experiment. It asserts the control targets.
func TestSimBench(t *testing.T) {
	if os.Getenv("SIM_BENCH") == "" {
		t.Skip("set SIM_BENCH=1 (make sim-bench) to run the 24 h simulated experiment")
	}
	var units []*unit
	wallStart := time.Now()
	synctest.Test(t, func(t *testing.T) {
		bus := pubsub.NewBus()
		// As --sim's config.ini: the simulated PCB's decay is fitted (docs/jobs.md §4).
		conf := config.LoadDefault().With([][3]string{{"temperature_automation.config", "inference_model", "decay"}})
		ctx, cancel := context.WithCancel(context.Background())
		for i := 1; i <= 3; i++ {
			u := newUnit(t, fmt.Sprintf("pio%02d", i), int64(1000+i), speeds[i-1], bus, conf)
			units = append(units, u)
			go func() { _ = u.sup.Run(ctx); close(u.done) }()
		}
		for _, u := range units {
			u.start(t, "stirring", map[string]any{"target_rpm": targetRPM})
			u.start(t, "od_reading", nil)
			u.start(t, "growth_rate_calculating", nil)
			u.start(t, "temperature_automation", map[string]any{"automation_name": "thermostat", "target_temperature": targetC})
			u.start(t, "dosing_automation", map[string]any{"automation_name": "turbidostat", "target_biomass": targetNOD, "exchange_volume_ml": 1.0})
		}
		dosed := map[string]float64{}
		obs, _ := bus.Dial(context.Background(), pubsub.Options{})
		_ = obs.Subscribe(context.Background(), contract.Topic("+", experiment, "dosing_events"), 2, func(m pubsub.Message) {
			var e contract.DosingEvent
			if json.Unmarshal(m.Payload, &e) == nil && e.Event == contract.AddMedia {
				p, _ := contract.Parse(m.Topic)
				dosed[p.Unit] += float64(e.VolumeChange)
			}
		})
		start := time.Now()
		for elapsed := time.Duration(0); elapsed < simulated; elapsed = time.Since(start) {
			time.Sleep(sampleStep)
			for _, u := range units {
				u.sample(bus, time.Since(start))
			}
		}
		synctest.Wait()
		for _, u := range units {
			u.fig.mediaPublished = dosed[u.name]
			truth := u.plant.Truth()
			u.fig.mediaTrue, u.fig.overflowML = truth.MediaML, truth.OverflowML
		}
		cancel()
		for _, u := range units {
			<-u.done
			_ = u.db.Close()
		}
		obs.Close()
	})
	wall := time.Since(wallStart)
	report(t, units, wall)
}

func retained[T any](bus *pubsub.Bus, unit, job, attr string) (T, bool) {
	var v T
	b, ok := bus.Retained(contract.JobTopic(unit, experiment, job, attr))
	if !ok || json.Unmarshal(b, &v) != nil {
		return v, false
	}
	return v, true
}

// sample records one observation of every loop.
func (u *unit) sample(bus *pubsub.Bus, at time.Duration) {
	f := &u.fig
	truth := u.plant.Truth()
	if nod, ok := retained[contract.ODFiltered](bus, u.name, "growth_rate_calculating", "od_filtered"); ok {
		x := float64(nod.ODFiltered)
		if f.reachedTarget == 0 && x >= targetNOD {
			f.reachedTarget = at
		}
		if f.reachedTarget > 0 && at > f.reachedTarget {
			f.nodLo, f.nodHi = math.Min(f.nodLo, x), math.Max(f.nodHi, x)
			f.nodN++
		}
	}
	// Exponential phase: from 1 h (past the filter's warm-up) until the turbidostat starts
	// diluting; and the last lateWindow of the day, in turbidostat.
	f.grPeak = math.Max(f.grPeak, truth.GrowthRatePerHour)
	if gr, ok := retained[contract.GrowthRate](bus, u.name, "growth_rate_calculating", "growth_rate"); ok {
		s := grSample{est: float64(gr.GrowthRate), truth: truth.GrowthRatePerHour}
		switch {
		case at >= time.Hour && f.reachedTarget == 0:
			if s.truth > 0.1 {
				f.grErrMax = math.Max(f.grErrMax, math.Abs(s.est-s.truth)/s.truth)
			}
			f.grExp = append(f.grExp, s)
		case at >= simulated-lateWindow:
			f.grLate = append(f.grLate, s)
		}
	}
	if temp, ok := retained[contract.Temperature](bus, u.name, "temperature_automation", "temperature"); ok {
		x := float64(temp.Temperature)
		inBand := math.Abs(x-targetC) <= 0.5
		if f.settledAt == 0 && inBand {
			f.settledAt = at
		}
		if f.settledAt > 0 {
			f.afterSettle++
			if inBand {
				f.inBand++
			}
			f.tempLo, f.tempHi = math.Min(f.tempLo, x), math.Max(f.tempHi, x)
			f.biasSum += truth.LiquidC - x
			f.biasN++
		}
	}
	if at >= thermalSettle {
		f.liquidSum += truth.LiquidC
		f.liquidN++
		f.liquidLo, f.liquidHi = math.Min(f.liquidLo, truth.LiquidC), math.Max(f.liquidHi, truth.LiquidC)
	}
	if rpm, ok := retained[contract.MeasuredRPM](bus, u.name, "stirring", "measured_rpm"); ok && at > 10*time.Minute {
		x := float64(rpm.MeasuredRPM)
		f.rpmLo, f.rpmHi = math.Min(f.rpmLo, x), math.Max(f.rpmHi, x)
		f.rpmN++
	}
}

func report(t *testing.T, units []*unit, wall time.Duration) {
	fmt.Printf("sim-bench: 3 units × %v simulated in %.1f s wall: %.0f× real time\n", simulated, wall.Seconds(), simulated.Seconds()/wall.Seconds())
	for i, u := range units {
		f := u.fig
		bias := f.biasSum / math.Max(1, float64(f.biasN))
		fmt.Printf("%s: turbidostat target nOD %.1f reached after %v, then nOD in [%.3f, %.3f]; media %.1f mL published, %.1f mL delivered, overflow %.2f mL\n",
			u.name, targetNOD, f.reachedTarget.Round(time.Minute), f.nodLo, f.nodHi, f.mediaPublished, f.mediaTrue, f.overflowML)
		fmt.Printf("%s: thermostat %.0f °C first within ±0.5 °C after %v, then in band %.1f %% of the time (dosed with 22 °C media), published in [%.2f, %.2f] °C, true liquid − published = %+.2f K on average\n",
			u.name, targetC, f.settledAt.Round(time.Minute), 100*float64(f.inBand)/math.Max(1, float64(f.afterSettle)), f.tempLo, f.tempHi, bias)
		fmt.Printf("%s (jobs late as at --speed %d): true liquid after %v: mean %.2f °C, in [%.2f, %.2f] °C over %d samples (a dose cools it %.1f K at once)\n",
			u.name, speeds[i], thermalSettle, f.liquidSum/math.Max(1, float64(f.liquidN)), f.liquidLo, f.liquidHi, f.liquidN, doseStepK)
		fmt.Printf("%s: stirring %.0f RPM measured in [%.1f, %.1f]; growth-rate error ≤ %.1f %% of the true rate in exponential phase (from 1 h, no blank); as %% of the peak true rate %.2f h⁻¹: mean %.1f, max %.1f there (%d samples), mean %.1f, max %.1f in the last %v, dosing (%d samples)\n",
			u.name, targetRPM, f.rpmLo, f.rpmHi, 100*f.grErrMax, f.grPeak, 100*f.meanPeakErr(f.grExp), 100*f.peakErr(f.grExp), len(f.grExp),
			100*f.meanPeakErr(f.grLate), 100*f.peakErr(f.grLate), lateWindow, len(f.grLate))
		for _, p := range f.judge() {
			t.Errorf("%s: %s", u.name, p)
		}
	}
}

// grSample is a growth-rate estimate and the true rate at the same moment.
type grSample struct{ est, truth float64 }

// grMeanErrMax is the mean growth-rate error, as a fraction of the peak true rate, that the
// missing blank explains (see judge).
const grMeanErrMax = 0.5

// lateWindow is the end of the day the late growth-rate error is judged over.
const lateWindow = 2 * time.Hour

// peakErr is the largest |estimate − truth| of the samples, as a fraction of the peak true
// growth rate (how sim-truth judges the estimate: relative errors blow up as the true rate
// passes through 0).
func (f figures) peakErr(samples []grSample) float64 {
	var worst float64
	for _, s := range samples {
		worst = math.Max(worst, math.Abs(s.est-s.truth))
	}
	return worst / math.Max(f.grPeak, 1e-9)
}

// meanPeakErr is the mean |estimate − truth| as a fraction of the peak true growth rate.
func (f figures) meanPeakErr(samples []grSample) float64 {
	var sum float64
	for _, s := range samples {
		sum += math.Abs(s.est - s.truth)
	}
	return sum / math.Max(1, float64(len(samples))) / math.Max(f.grPeak, 1e-9)
}

// minSeries is the fewest samples a judged series needs: the bench samples every 30 s for a
// day, so a loop that published nothing for more than a few hours is a failure, not a pass
// on bounds that stayed at ±Inf.
const minSeries = 100

// judge lists how the unit missed the control targets; nothing means it met them.
func (f figures) judge() []string {
	var out []string
	switch {
	case f.reachedTarget == 0:
		out = append(out, fmt.Sprintf("the culture never reached nOD %v", targetNOD))
	case f.nodN < minSeries:
		out = append(out, fmt.Sprintf("only %d nOD samples after the target was reached", f.nodN))
	case f.nodLo < 0.9*targetNOD || f.nodHi > 1.1*targetNOD:
		out = append(out, fmt.Sprintf("nOD left ±10 %% of target: [%v, %v]", f.nodLo, f.nodHi))
	}
	// The turbidostat's room-temperature media disturb the thermostat (the job skips an
	// inference the vial was dosed during); the strict ±0.5 °C hold without doses is asserted
	// in pkg/jobs (TestThermostatHoldsTrueLiquid).
	if f.settledAt == 0 || f.settledAt > time.Hour || f.afterSettle < minSeries || f.inBand < f.afterSettle*95/100 {
		out = append(out, fmt.Sprintf("thermostat settled after %v, then in band %d of %d samples", f.settledAt, f.inBand, f.afterSettle))
	}
	if bias := f.biasSum / math.Max(1, float64(f.biasN)); f.biasN < minSeries || math.Abs(bias) > 0.3 {
		out = append(out, fmt.Sprintf("true liquid − published %+.2f K on average over %d samples, want within ±0.3 K", bias, f.biasN))
	}
	if f.tempLo < targetC-1.5 || f.tempHi > targetC+1.5 {
		out = append(out, fmt.Sprintf("published temperature left ±1.5 K of target: [%.2f, %.2f]", f.tempLo, f.tempHi))
	}
	// The growth rate without a blank: the vial's own scatter is 1/3 to 2/3 of the signal,
	// so the estimate runs 35–45 % of the peak rate below the truth (with a blank,
	// TestGrowthRateTracksSimulatedCulture and the sim-truth acceptance hold it within 10 %).
	// Judged here: both series exist and the error stays at what that explains.
	for _, g := range []struct {
		name    string
		samples []grSample
	}{{"exponential phase", f.grExp}, {"turbidostat", f.grLate}} {
		switch {
		case len(g.samples) < minSeries:
			out = append(out, fmt.Sprintf("only %d growth-rate samples in the %s", len(g.samples), g.name))
		case f.meanPeakErr(g.samples) > grMeanErrMax:
			out = append(out, fmt.Sprintf("growth-rate error in the %s: mean %.0f %% of the peak true rate, want ≤ %.0f %%", g.name, 100*f.meanPeakErr(g.samples), 100*grMeanErrMax))
		}
	}
	if f.overflowML > 0 {
		out = append(out, fmt.Sprintf("%.2f mL overflowed", f.overflowML))
	}
	// The true liquid, which the culture lives at: mean within 0.3 K of target; within 0.5 K
	// of it but for the step a dose of cold media makes (TestThermostatHoldsTrueLiquid holds
	// ±0.5 K without doses).
	switch {
	case f.liquidN < minSeries:
		out = append(out, fmt.Sprintf("only %d true liquid samples", f.liquidN))
	case math.Abs(f.liquidSum/float64(f.liquidN)-targetC) > 0.3:
		out = append(out, fmt.Sprintf("true liquid mean %.2f °C more than 0.3 K from target", f.liquidSum/float64(f.liquidN)))
	case f.liquidLo < targetC-0.5-doseStepK || f.liquidHi > targetC+0.5:
		out = append(out, fmt.Sprintf("true liquid left [-%.1f, +0.5] K of target: [%.2f, %.2f]", 0.5+doseStepK, f.liquidLo, f.liquidHi))
	}
	switch {
	case f.rpmN < minSeries:
		out = append(out, fmt.Sprintf("only %d RPM samples", f.rpmN))
	case f.rpmLo < 0.95*targetRPM || f.rpmHi > 1.05*targetRPM:
		out = append(out, fmt.Sprintf("RPM left ±5 %%: [%v, %v]", f.rpmLo, f.rpmHi))
	}
	if math.Abs(f.mediaPublished-f.mediaTrue) > 0.03*math.Max(1, f.mediaPublished) {
		out = append(out, fmt.Sprintf("%v mL media published but %v mL delivered", f.mediaPublished, f.mediaTrue))
	}
	return out
}
