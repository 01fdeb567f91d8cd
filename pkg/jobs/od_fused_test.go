package jobs

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/calibration"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal/sim"
)

// An estimator whose angles see OD proportionally (signal = k_a·c) recovers the
// concentration of a reading, and says when the answer sits on a bound.
func TestFusedEstimate(t *testing.T) {
	t.Parallel()
	k := map[string]float64{"45": 0.5, "90": 1.2, "135": 3}
	e := &fusedEstimator{Angles: []string{"45", "90", "135"}, MinLogC: -3, MaxLogC: 1, SigmaFloor: 0.01,
		Mu: map[string]calibration.Curve{}, LogSigma: map[string]calibration.Curve{},
		LowConcScales: map[string]float64{"135": 0.04, "90": 4.0, "45": 10.0}}
	for a, ka := range k {
		e.Mu[a] = calibration.PolyCurve(math.Ln10, math.Log(ka))
		e.LogSigma[a] = calibration.PolyCurve(math.Log(0.05))
	}
	for _, c := range []struct {
		conc    float64
		bounded bool
		scales  map[string]float64
	}{{0.5, false, e.LowConcScales}, {0.012, false, e.LowConcScales}, {3.3, false, e.LowConcScales},
		// Outside the range, with neutral low-concentration scales: the nearer bound.
		{100, true, nil}, {1e-6, true, nil}} {
		e.LowConcScales = c.scales
		ods := map[string]float64{}
		for a, ka := range k {
			ods[a] = ka * c.conc
		}
		got, atBound, err := e.estimate(ods)
		if err != nil {
			t.Fatal(err)
		}
		want := math.Min(math.Max(c.conc, 1e-3), 10)
		// The scales tilt the likelihood's log σ term: a 1e-3 relative pull at most here.
		if math.Abs(got-want)/want > 1e-3 || atBound != c.bounded {
			t.Errorf("concentration %v: estimate %v (at bound %v), want %v (at bound %v)", c.conc, got, atBound, want, c.bounded)
		}
	}
	if _, _, err := e.estimate(map[string]float64{"90": 1}); err == nil {
		t.Error("an estimate without every angle")
	}
}

func TestDecodeFusedEstimator(t *testing.T) {
	t.Parallel()
	const file = `estimator_type: od_fused_estimator
estimator_name: fused1
calibrated_on_pioreactor_unit: pio01
created_at: 2025-03-01T12:00:00Z
ir_led_intensity: 80
angles: ["90"]
mu_splines:
  "90": {type: akima, knots: [-3, 0, 1], coefficients: [[-6.9, 2.3, 0, 0], [0, 2.3, 0, 0]]}
sigma_splines_log:
  "90": {type: poly, coefficients: [-3]}
min_logc: -3
max_logc: 1
sigma_floor: 0.01
recorded_data: {}
`
	e, err := decodeFusedEstimator([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	if e.Name != "fused1" || e.IRLEDIntensity != 80 || e.Mu["90"].Type != calibration.Akima {
		t.Fatalf("decoded %+v", e)
	}
	if s := curveSlope(e.Mu["90"], -1); math.Abs(s-2.3) > 1e-12 {
		t.Fatalf("slope %v", s)
	}
	for _, bad := range []string{
		"estimator_type: od\nangles: [\"90\"]\n",
		"angles: []\n",
		"angles: [\"90\"]\nmin_logc: 1\nmax_logc: -1\nmu_splines: {\"90\": {type: poly, coefficients: [1]}}\nsigma_splines_log: {\"90\": {type: poly, coefficients: [1]}}\n",
		"angles: [\"45\"]\nmin_logc: -1\nmax_logc: 1\n",
	} {
		if _, err := decodeFusedEstimator([]byte(bad)); !errors.Is(err, ErrFusedEstimator) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// writeEstimator saves an od_fused estimator with one 90° angle seeing OD proportionally,
// made at ir, and activates it.
func writeEstimator(t *testing.T, dir string, ir float64) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "od_fused"), 0o755); err != nil {
		t.Fatal(err)
	}
	est := fmt.Sprintf(`estimator_type: od_fused_estimator
estimator_name: fused1
ir_led_intensity: %v
angles: ["90"]
mu_splines: {"90": {type: poly, coefficients: [%v, 0]}}
sigma_splines_log: {"90": {type: poly, coefficients: [-3]}}
min_logc: -4
max_logc: 2
sigma_floor: 0.01
`, ir, math.Ln10)
	if err := os.WriteFile(filepath.Join(dir, "od_fused", "fused1.yaml"), []byte(est), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, activeEstimators), []byte("od_fused: fused1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// With an active estimator od_reading publishes od_fused beside every ods, at the same
// timestamp; an estimator made at another IR intensity gives none (and an error log).
func TestODReadingPublishesFused(t *testing.T) {
	for _, c := range []struct {
		name string
		ir   float64
		want bool
	}{{"matching IR intensity", 80, true}, {"another IR intensity", 50, false}} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				dir := t.TempDir()
				writeEstimator(t, dir, c.ir)
				r := newODRigDeps(t, sim.DefaultParams(), ODDeps{Simulated: true, Estimators: dir})
				defer r.close()
				r.start("od_reading", nil)
				time.Sleep(time.Minute)
				fused := r.retained("od_reading", "od_fused")
				if !c.want {
					if fused != "" {
						t.Fatalf("od_fused %q with a mismatched estimator", fused)
					}
					return
				}
				f := decode[contract.ODFused](t, fused)
				ods := decode[contract.ODReadings](t, r.retained("od_reading", "ods"))
				od := decode[contract.RawODReading](t, r.retained("od_reading", "od2"))
				if f.Timestamp != ods.Timestamp || !(float64(f.ODFused) > 0) {
					t.Fatalf("od_fused %+v beside ods at %v", f, ods.Timestamp)
				}
				// μ = ln(10)·logc: the fused OD is the raw OD itself.
				if math.Abs(float64(f.ODFused)-float64(od.OD))/float64(od.OD) > 1e-3 {
					t.Fatalf("od_fused %v, raw OD %v", f.ODFused, od.OD)
				}
			})
		})
	}
}

// A blank cannot be combined with an estimator: od_reading refuses to start.
func TestODReadingRefusesBlankWithEstimator(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		writeEstimator(t, dir, 80)
		cache := t.TempDir()
		if err := (unitCache{dir: cache}).put(cacheODBlank, "exp", map[string]float64{"2": 0.01}); err != nil {
			t.Fatal(err)
		}
		r := newODRigDeps(t, sim.DefaultParams(), ODDeps{Simulated: true, CacheDir: cache, Estimators: dir})
		defer r.close()
		if err := r.startErr("od_reading", nil); err == nil {
			t.Fatal("od_reading started with a blank and an estimator")
		}
	})
}

// The turbidostat's auto signal is od_fused when an estimator is active.
func TestTurbidostatAutoPicksFused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newDosingRig(t, sim.DefaultParams())
		defer r.close()
		r.calibrateAll(1)
		r.dosing.Estimators = t.TempDir()
		writeEstimator(t, r.dosing.Estimators, 80)
		if err := r.startErr(dosingJobName, map[string]any{"automation_name": "turbidostat", "target_biomass": 0.5, "exchange_volume_ml": 0.5}); err != nil {
			t.Fatal(err)
		}
		if sig := r.retained(dosingJobName, "biomass_signal"); sig != "od_fused" {
			t.Fatalf("auto resolved to %q, want od_fused", sig)
		}
	})
}
