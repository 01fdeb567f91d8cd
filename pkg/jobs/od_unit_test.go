package jobs

import (
	"math"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/calibration"
)

func odCal(curve calibration.Curve, odX, voltY []float64) calibration.Calibration {
	return calibration.Calibration{Type: calibration.TypeOD, Name: "cal", Unit: "pio01", CreatedAt: time.Unix(0, 0),
		Curve: curve, X: "OD", Y: "Voltage", Recorded: calibration.Recorded{X: odX, Y: voltY},
		IRLEDIntensity: 80, Angle: "90", PDChannel: "2"}
}

// The examples of docs/algorithms.md, "Calibrated OD" and "OD signal chain".
func TestCalibratedOD(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		cal     calibration.Calibration
		v, want float64
		clamped bool
	}{
		{"linear inside", odCal(calibration.PolyCurve(2, 0), []float64{0, 2}, []float64{0, 1}), 0.5, 0.25, false},
		{"linear above the domain", odCal(calibration.PolyCurve(2, 0), []float64{0, 2}, []float64{0, 1}), 10, 2, true},
		{"decreasing inside", odCal(calibration.PolyCurve(-0.1, 2), []float64{0, 20}, []float64{2, 0}), 0.5, 15, false},
		{"decreasing outside", odCal(calibration.PolyCurve(-0.1, 2), []float64{0, 20}, []float64{2, 0}), 12, 0, true},
		{"quadratic", odCal(calibration.PolyCurve(1, 0, -0.1), []float64{0, 1}, []float64{-0.1, 0.9}), 0.5, math.Sqrt(0.6), false},
		{"constant above", odCal(calibration.PolyCurve(1.0), []float64{0, 2}, []float64{1.0, 0.5}), 2.0, 0, true},
		{"constant below", odCal(calibration.PolyCurve(1.0), []float64{0, 2}, []float64{1.0, 0.5}), -1, 2, true},
		{"no recorded data, no solution", odCal(calibration.PolyCurve(1.0), nil, nil), 0.5, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, clamped, err := odFor(tc.cal, tc.v, 80)
			if err != nil || math.Abs(got-tc.want) > 1e-6 || clamped != tc.clamped {
				t.Fatalf("odFor(%v) = %v, %v, %v; want %v, clamped %v", tc.v, got, clamped, err, tc.want, tc.clamped)
			}
		})
	}
	if _, _, err := odFor(odCal(calibration.PolyCurve(2, 0), []float64{0, 2}, []float64{0, 1}), 0.5, 70); err == nil {
		t.Fatal("an IR intensity other than the calibration's was accepted")
	}
	if !flatPoly([]float64{0, 0, 3}) || flatPoly([]float64{1, 0}) || !flatPoly(nil) {
		t.Fatal("flatPoly")
	}
}

// docs/algorithms.md, "Automatic IR intensity".
func TestAutoIRIntensity(t *testing.T) {
	t.Parallel()
	c := &odChain{refChannel: "1", angles: map[string]string{"2": "90"}}
	for _, tc := range []struct{ ref, sig, want float64 }{{0.05, 0.02, 85}, {0.2, 0.02, 62.5}, {0.2, 0.5, 50}, {0, 0, 85}} {
		if got := c.autoIntensity(50, map[string]float64{"1": tc.ref, "2": tc.sig}); got != tc.want {
			t.Errorf("REF %v, signal %v: %v, want %v", tc.ref, tc.sig, got, tc.want)
		}
	}
	two := &odChain{refChannel: "1", angles: map[string]string{"2": "90", "3": "135"}}
	if got := two.autoIntensity(50, map[string]float64{"1": 0.2, "2": 0.5, "3": 0.5}); got != 85 {
		t.Errorf("two signal channels: %v, want 85", got)
	}
}

// docs/algorithms.md, "REF normalisation" and "OD signal chain" worked examples (cached v0, noise threshold).
func TestRefTracker(t *testing.T) {
	t.Parallel()
	c := &odChain{refChannel: "1", angles: map[string]string{"2": "90"}, ref: newRefTracker("unity", 0.75, 5, true)}
	raw, f, noisy, err := c.normalise(map[string]float64{"1": 0.25, "2": 0.5})
	if err != nil || noisy || f != 1 || raw["2"] != 0.5 {
		t.Fatalf("first reading: %v %v %v %v", raw, f, noisy, err)
	}
	raw, f, noisy, _ = c.normalise(map[string]float64{"1": 0.24, "2": 0.5})
	if noisy || math.Abs(f-0.99) > 1e-12 || math.Abs(raw["2"]-0.505051) > 1e-6 {
		t.Fatalf("second reading: factor %v, od %v, noisy %v", f, raw["2"], noisy)
	}
	if c.ref.v0() != 0.25 {
		t.Fatalf("v0 %v", c.ref.v0())
	}

	classic := &odChain{refChannel: "1", angles: map[string]string{"2": "90"}, ref: newRefTracker("classic", 0.75, 5, true)}
	if raw, _, _, _ := classic.normalise(map[string]float64{"1": 0.25, "2": 0.5}); raw["2"] != 2.0 || classic.ref.v0() != 0 {
		t.Fatalf("classic: %v", raw)
	}

	cached := newRefTracker("unity", 0.75, 5, true)
	cached.seed(0.25)
	if f, _ := cached.update(0.5); f != 2 || cached.v0() != 0.25 {
		t.Fatalf("cached v0 not reused: factor %v, v0 %v", f, cached.v0())
	}

	for _, tc := range []struct {
		interval float64
		noisy    bool
	}{{1.25, true}, {20, false}} {
		tr := newRefTracker("classic", 0.75, tc.interval, true)
		tr.update(1)
		// a jump whose noise power after the update gives σ ≈ 0.015
		jump := math.Sqrt((0.015*0.015 - 0.95*1e-6) / 0.05)
		if _, noisy := tr.update(1 + jump); noisy != tc.noisy {
			t.Errorf("interval %v: noisy = %v, want %v", tc.interval, noisy, tc.noisy)
		}
	}

	zero := &odChain{refChannel: "1", angles: map[string]string{"2": "90"}, ref: newRefTracker("classic", 0.75, 5, true)}
	if _, _, _, err := zero.normalise(map[string]float64{"1": 0, "2": 0.5}); err == nil {
		t.Fatal("a REF of 0 V was accepted")
	}
}

func TestTrimmedMean(t *testing.T) {
	t.Parallel()
	if got := trimmedMean([]float64{1, 2, 100, 3, 4, -50, 5}, 2); got != 3 {
		t.Fatalf("trimmed mean %v, want 3", got)
	}
	if got := trimmedMean([]float64{1, 3}, 2); got != 2 {
		t.Fatalf("too few to trim: %v, want 2", got)
	}
}
