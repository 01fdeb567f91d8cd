package jobs

import (
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal/sim"
)

func TestTwoExponentialWorkedExample(t *testing.T) {
	t.Parallel()
	samples := make([]float64, 29)
	for i := range samples {
		samples[i] = 22 + 5*math.Exp(-0.001*float64(i)) + 3*math.Exp(-0.14*float64(i))
	}
	got, err := inferTwoExponential(30, samples)
	if err != nil || math.Abs(got-26.7508983) > 1e-6 {
		t.Fatalf("got %v, %v; want 26.7508983", got, err)
	}
	if got, err := inferTwoExponential(0, samples); err != nil || got != samples[28] {
		t.Fatalf("heater off before: %v, %v", got, err)
	}
}

// inferenceCase is one of the real heater-off traces the original project tests its
// inference models with (testdata/temperature_inference_cases.json).
type inferenceCase struct {
	Model   string    `json:"model"`
	H       float64   `json:"previous_heater_dc"`
	Room    float64   `json:"room_temp"`
	Samples []float64 `json:"samples"`
	Min     *float64  `json:"true_temperature_min"`
	Max     *float64  `json:"true_temperature_max"`
}

func loadInferenceCases(t *testing.T) []inferenceCase {
	t.Helper()
	b, err := os.ReadFile("testdata/temperature_inference_cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var cs []inferenceCase
	if err := json.Unmarshal(b, &cs); err != nil {
		t.Fatal(err)
	}
	return cs
}

// twoExpOutOfRange are the real 20 ml v1.0 traces the two-exponential fit, exactly as
// specified (its worked example matches to 1e-7), lands 0.03–0.22 K outside the range the
// true liquid was in. Known, not hidden: a change that moves any case shows here.
var twoExpOutOfRange = map[int]bool{19: true, 26: true, 27: true}

// Each model lands every real trace of its family in the range the true liquid was in (the
// linear model all 5; the two-exponential fit all but twoExpOutOfRange).
func TestInferenceOnRealTraces(t *testing.T) {
	t.Parallel()
	var linear, twoExp int
	for i, c := range loadInferenceCases(t) {
		var got float64
		var err error
		switch {
		case strings.HasPrefix(c.Model, "20ml v1.0"):
			got, err = inferTwoExponential(c.H, c.Samples)
			twoExp++
		case len(c.Samples) == 21:
			got, err = inferTemperature(c.H, c.Samples)
			linear++
		default:
			continue
		}
		if err != nil {
			t.Errorf("case %d (%s, h %v): %v", i, c.Model, c.H, err)
			continue
		}
		out := c.Min != nil && got < *c.Min || c.Max != nil && got > *c.Max
		if out != twoExpOutOfRange[i] {
			t.Errorf("case %d (%s, h %.1f): %.3f ℃, true in [%v, %v]; out of range %v, expected %v", i, c.Model, c.H, got, deref(c.Min), deref(c.Max), out, twoExpOutOfRange[i])
		}
	}
	if linear < 5 || twoExp < 20 {
		t.Fatalf("%d linear and %d two-exponential cases", linear, twoExp)
	}
}

func deref(p *float64) any {
	if p == nil {
		return "open"
	}
	return *p
}

// inference_model=two_exponential is the 20 ml v1.0: its 63 ℃ target clamp, 29 samples and
// a temperature published from the fit.
func TestTwoExponentialModelInTheJob(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newAutoRig(t, sim.DefaultParams(), [][3]string{{temperatureConfigSection, "inference_model", "two_exponential"}}, temperatureSpec)
		defer r.close()
		r.start("temperature_automation", map[string]any{"automation_name": "thermostat", "target_temperature": 70.0})
		time.Sleep(time.Second)
		if got := r.retained("temperature_automation", "target_temperature"); got != "63.0" {
			t.Fatalf("target_temperature %q, want the 20 ml v1.0 clamp 63.0", got)
		}
		time.Sleep(30 * time.Minute)
		n := len(r.msgs.on(contract.JobTopic("pio01", "exp", "temperature_automation", "temperature")))
		// One at start, then one per 225 s cycle.
		if n < 30*60/225 || n > 30*60/225+2 {
			t.Fatalf("%d temperatures in 30 min, want one every 225 s", n)
		}
		got := decode[temperaturePayload](t, r.retained("temperature_automation", "temperature")).Temperature
		if got < 25 || got > 70 {
			t.Fatalf("published %v ℃", got)
		}
	})
}
