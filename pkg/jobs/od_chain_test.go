package jobs

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/calibration"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal/sim"
)

// odOf reads the od of a retained ODReading payload.
func odOf(t *testing.T, payload string) float64 {
	t.Helper()
	return decodeField(t, payload, "od")
}

// calStore is a calibration folder with one active od90 calibration V = 0.3·OD + 0.024.
func calStore(t *testing.T, ir float64) (*calibration.Store, calibration.Calibration) {
	t.Helper()
	s, err := calibration.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c := odCal(calibration.PolyCurve(0.3, 0.024), []float64{0, 0.5, 1}, []float64{0.024, 0.174, 0.324})
	c.Name, c.IRLEDIntensity = "od90-linear", ir
	if _, err := s.Save("od90", c); err != nil {
		t.Fatal(err)
	}
	if err := s.SetActive("od90", c.Name); err != nil {
		t.Fatal(err)
	}
	return s, c
}

// An active od90 calibration turns channel 2's raw OD into an OD: od2 and calibrated_od2 carry
// it (calibrated 1, with the calibration's name), raw_od2 the raw value.
func TestODReadingAppliesCalibration(t *testing.T) {
	store, _ := calStore(t, 80)
	synctest.Test(t, func(t *testing.T) {
		r := newODRigDeps(t, sim.DefaultParams(), ODDeps{Calibrations: store})
		defer r.close()
		r.start("od_reading", nil)
		time.Sleep(30 * time.Second)
		var od struct {
			OD              float64 `json:"od"`
			Calibrated      int     `json:"calibrated"`
			CalibrationName string  `json:"calibration_name"`
		}
		if err := json.Unmarshal([]byte(r.retained("od_reading", "od2")), &od); err != nil {
			t.Fatal(err)
		}
		raw := odOf(t, r.retained("od_reading", "raw_od2"))
		want := (raw - 0.024) / 0.3
		if od.Calibrated != 1 || od.CalibrationName != "od90-linear" || math.Abs(od.OD-want) > 1e-9 {
			t.Fatalf("od2 = %+v, raw %v: want calibrated %v", od, raw, want)
		}
		if r.retained("od_reading", "calibrated_od2") != r.retained("od_reading", "od2") {
			t.Fatalf("calibrated_od2 %s differs from od2 %s", r.retained("od_reading", "calibrated_od2"), r.retained("od_reading", "od2"))
		}
		if !strings.Contains(r.retained("od_reading", "raw_od2"), `"calibrated":0`) {
			t.Fatalf("raw_od2 %s", r.retained("od_reading", "raw_od2"))
		}
		ods := readODs(t, r.simRig)
		if math.Abs(ods.ODs["2"].OD-od.OD) > 1e-12 {
			t.Fatalf("ods %+v disagrees with od2 %v", ods, od.OD)
		}
	})
}

// A calibration made at another IR intensity: ods, od2 and calibrated_od2 are cleared, the
// fresh raw_od2 is still published, and the job keeps running.
func TestODReadingCalibrationIntensityMismatch(t *testing.T) {
	store, _ := calStore(t, 70)
	synctest.Test(t, func(t *testing.T) {
		r := newODRigDeps(t, sim.DefaultParams(), ODDeps{Calibrations: store})
		defer r.close()
		r.start("od_reading", nil)
		time.Sleep(12 * time.Second)
		first := r.retained("od_reading", "raw_od2")
		time.Sleep(10 * time.Second)
		for _, attr := range []string{"ods", "od2", "calibrated_od2"} {
			if got := r.retained("od_reading", attr); got != "" {
				t.Errorf("%s = %q, want cleared", attr, got)
			}
		}
		if got := r.retained("od_reading", "raw_od2"); got == "" || got == first {
			t.Errorf("raw_od2 %q not refreshed (was %q)", got, first)
		}
		if st := r.retained("od_reading", "$state"); st != "ready" {
			t.Errorf("state %q", st)
		}
	})
}

// A blank is subtracted from the raw OD; a blank and a calibration together refuse the start;
// a corrupt calibration file refuses the start with a clear error, never a crash.
func TestODReadingBlankAndRefusals(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newODRig(t, sim.DefaultParams(), "")
		defer r.close()
		r.start("od_reading", nil)
		time.Sleep(2 * time.Minute)
		before := odOf(t, r.retained("od_reading", "od2"))
		r.set("od_reading", "$state", "disconnected")
		time.Sleep(time.Second)
		if err := (unitCache{dir: r.cacheDir}).put(cacheODBlank, "exp", map[string]float64{"2": 0.01, "3": 5}); err != nil {
			t.Fatal(err)
		}
		r.start("od_reading", nil)
		time.Sleep(12 * time.Second)
		after := odOf(t, r.retained("od_reading", "od2"))
		if math.Abs(before-0.01-after) > 0.001 {
			t.Fatalf("od2 %v with a blank of 0.01, %v without", after, before)
		}
	})

	store, c := calStore(t, 80)
	cache := t.TempDir()
	if err := (unitCache{dir: cache}).put(cacheODBlank, "exp", map[string]float64{"2": 0.01}); err != nil {
		t.Fatal(err)
	}
	synctest.Test(t, func(t *testing.T) {
		r := newODRigDeps(t, sim.DefaultParams(), ODDeps{CacheDir: cache, Calibrations: store})
		defer r.close()
		if err := r.startErr("od_reading", nil); err == nil || !strings.Contains(err.Error(), "blank") {
			t.Fatalf("blank + calibration: %v", err)
		}
	})

	path, _ := store.Path("od90", c.Name)
	if err := os.WriteFile(path, []byte("calibration_type: [unclosed"), 0o644); err != nil {
		t.Fatal(err)
	}
	synctest.Test(t, func(t *testing.T) {
		r := newODRigDeps(t, sim.DefaultParams(), ODDeps{Calibrations: store})
		defer r.close()
		err := r.startErr("od_reading", nil)
		if err == nil || !strings.Contains(err.Error(), filepath.Base(path)) {
			t.Fatalf("corrupt calibration: %v", err)
		}
		if st := r.retained("od_reading", "$state"); st != "" {
			t.Fatalf("a refused start published state %q", st)
		}
	})
}

// unity: v0 is the experiment's first REF reading, cached, and reused by the next run.
func TestODReadingKeepsREFv0PerExperiment(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newODRig(t, sim.DefaultParams(), "")
		defer r.close()
		r.start("od_reading", nil)
		time.Sleep(12 * time.Second)
		var v0 float64
		if ok, err := (unitCache{dir: r.cacheDir}).get(cacheIRReference, "exp", &v0); !ok || err != nil || !(v0 > 0.05) {
			t.Fatalf("cached v0 %v (%v, %v)", v0, ok, err)
		}
		before := odOf(t, r.retained("od_reading", "od2"))
		r.set("od_reading", "$state", "disconnected")
		time.Sleep(time.Second)
		// Pretend the first reading of the experiment was twice as bright: every OD doubles.
		if err := (unitCache{dir: r.cacheDir}).put(cacheIRReference, "exp", 2*v0); err != nil {
			t.Fatal(err)
		}
		r.start("od_reading", nil)
		time.Sleep(12 * time.Second)
		if after := odOf(t, r.retained("od_reading", "od2")); math.Abs(after/before-2) > 0.03 {
			t.Fatalf("od2 %v with v0 doubled, %v before", after, before)
		}
		var kept float64
		_, _ = (unitCache{dir: r.cacheDir}).get(cacheIRReference, "exp", &kept)
		if kept != 2*v0 {
			t.Fatalf("cached v0 overwritten: %v", kept)
		}
	})
}

// The ADC guard: above 3.0 V a warning and error code 5, the job goes on; above 3.2 V every
// LED goes off and the job stops.
func TestODReadingOverVoltageGuard(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ambient float64
		stops   bool
	}{{"warn", 3.02, false}, {"stop", 3.25, true}} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := sim.DefaultParams()
				p.AmbientLightVolts = tc.ambient // light leaking onto every photodiode
				r := newODRig(t, p, "", [3]string{"od_reading.config", "use_dark_offsets", "0"})
				defer r.close()
				codes := r.watch(contract.ErrorCodeTopic("pio01", "exp"))
				r.start("od_reading", nil)
				time.Sleep(30 * time.Second)
				msgs := codes.drain()
				if len(msgs) == 0 || string(msgs[0].Payload) != "5" {
					t.Fatalf("error codes %v, want 5", msgs)
				}
				state := r.retained("od_reading", "$state")
				leds, _ := r.bus.Retained(contract.LEDIntensityTopic("pio01", "exp"))
				if tc.stops {
					if state != "disconnected" || !strings.Contains(string(leds), `"A":0.0`) {
						t.Fatalf("state %q, leds %s: want disconnected with every LED off", state, leds)
					}
					if got := unitLEDs(r.plant.Board().LEDs).snapshot(); got["A"] != 0 {
						t.Fatalf("IR LED left at %v", got["A"])
					}
				} else if state != "ready" || r.retained("od_reading", "od2") == "" {
					t.Fatalf("state %q: a warning must not stop the readings", state)
				}
			})
		})
	}
}

// A noisy REF pauses dosing: od_reading asks dosing_automation to sleep.
func TestODReadingNoisyREFPausesDosing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := sim.DefaultParams()
		p.RefNoiseVolts = 0.01
		r := newODRig(t, p, "")
		defer r.close()
		w := r.watch(contract.SetTopic("pio01", "exp", "dosing_automation", contract.StateAttr))
		r.start("od_reading", nil)
		time.Sleep(2 * time.Minute)
		msgs := w.drain()
		if len(msgs) == 0 || string(msgs[0].Payload) != "sleeping" {
			t.Fatalf("dosing pause requests %v", msgs)
		}
	})
}

// Other LEDs are off during a reading and restored after it; the IR LED is off between
// readings and after the job.
func TestODReadingRestoresOtherLEDs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newODRig(t, sim.DefaultParams(), "")
		defer r.close()
		bank := unitLEDs(r.plant.Board().LEDs)
		bank.mu.Lock()
		if err := bank.dev.SetIntensity("B", 40); err != nil {
			t.Fatal(err)
		}
		bank.intensity["B"] = 40
		bank.mu.Unlock()
		r.start("od_reading", nil)
		time.Sleep(7 * time.Second)
		if got := bank.snapshot(); got["B"] != 40 || got["A"] != 0 {
			t.Fatalf("between readings LEDs are %v, want B back at 40 and IR off", got)
		}
		r.set("od_reading", "$state", "disconnected")
		time.Sleep(time.Second)
		if got := bank.snapshot(); got["A"] != 0 || got["B"] != 40 {
			t.Fatalf("after the job LEDs are %v", got)
		}
	})
}

// A corrupt cache file is a clear error or a warning, never a crash: an unreadable blank
// refuses the start (od_blank delete replaces it), an unreadable REF v0 is measured again.
func TestODReadingCorruptCache(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newODRig(t, sim.DefaultParams(), "")
		defer r.close()
		for _, ns := range []string{cacheODBlank, cacheIRReference} {
			if err := os.WriteFile(filepath.Join(r.cacheDir, ns+".json"), []byte("{not json"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := r.startErr("od_reading", nil); err == nil || !strings.Contains(err.Error(), "corrupt") {
			t.Fatalf("corrupt blank: %v", err)
		}
		r.start("od_blank", map[string]any{"delete": true})
		time.Sleep(time.Second)
		r.start("od_reading", nil)
		time.Sleep(12 * time.Second)
		var v0 float64
		if ok, err := (unitCache{dir: r.cacheDir}).get(cacheIRReference, "exp", &v0); !ok || err != nil || !(v0 > 0) {
			t.Fatalf("REF v0 not measured again: %v, %v, %v", v0, ok, err)
		}
		if r.retained("od_reading", "od2") == "" {
			t.Fatal("no reading")
		}
	})
}
