package jobs

import (
	"math"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// A PCB relaxing toward a cooling liquid with time constant τ trails it by slope·τ; the decay
// fit reads the liquid at the last sample exactly, however unevenly the samples were taken
// (late wake-ups on a fast simulated clock).
func TestDecayInference(t *testing.T) {
	t.Parallel()
	const (
		liquidEnd = 30.0   // °C at the last sample
		slope     = -0.003 // K/s
		tau       = 26.0   // s
		excess    = 4.0    // K the PCB starts above its trailing line
	)
	off := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		late func(i int) time.Duration
	}{
		{"on the 5.25 s grid", func(int) time.Duration { return 0 }},
		{"each read up to 3.6 s late", func(i int) time.Duration { return time.Duration((i*7919)%3600) * time.Millisecond }},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			times := make([]time.Time, 21)
			for i := range times {
				times[i] = off.Add(125*time.Millisecond + time.Duration(i)*inferenceSpacing + c.late(i))
			}
			tN := times[20].Sub(off).Seconds()
			samples := make([]float64, 21)
			for i, at := range times {
				s := at.Sub(off).Seconds()
				samples[i] = liquidEnd + slope*(s-tN) - slope*tau + excess*math.Exp(-s/tau)
			}
			e, err := inferByDecay(20, off, times, samples)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(e.atEnd-liquidEnd) > 0.01 || math.Abs(e.slope-slope) > 1e-4 || math.Abs(e.tau-tau) > 1 {
				t.Fatalf("fit %+v, want the liquid at %v ℃, slope %v K/s, τ %v s", e, liquidEnd, slope, tau)
			}
			// The cycle mean sits |s|·(W/2 − τ) above the end.
			if want := liquidEnd - slope*(tN/2-e.tau); math.Abs(e.cycleMean-want) > 0.01 {
				t.Fatalf("cycle mean %v, want %v", e.cycleMean, want)
			}
		})
	}
	// With the heater off before the cycle the last sample is the liquid.
	if e, err := inferByDecay(0, off, []time.Time{off, off.Add(time.Second)}, []float64{25, 24.5}); err != nil || e.cycleMean != 24.5 {
		t.Fatalf("heater off before: %+v, %v", e, err)
	}
	if _, err := inferByDecay(20, off, []time.Time{off}, []float64{30}); err == nil {
		t.Fatal("a fit from one sample")
	}
}

func TestTemperatureInferenceConfig(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]temperatureInference{"": inferLinear, "auto": inferLinear, "linear": inferLinear, "decay": inferDecay, "two_exponential": inferTwoExp} {
		got, err := temperatureInferenceFrom(config.LoadDefault().With([][3]string{{temperatureConfigSection, "inference_model", v}}), contract.Model{})
		if err != nil || got != want {
			t.Errorf("inference_model=%q: %v, %v; want %v", v, got, err, want)
		}
	}
	if _, err := temperatureInferenceFrom(config.LoadDefault().With([][3]string{{temperatureConfigSection, "inference_model", "magic"}}), contract.Model{}); err == nil {
		t.Error("inference_model=magic accepted")
	}
}

// TestTemperatureInferenceByModel: `auto` is the two-exponential fit on a 20 ml v1.0 and the
// linear regression on every other model; a configured model wins over the unit's.
func TestTemperatureInferenceByModel(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		setting string
		model   contract.Model
		want    temperatureInference
	}{
		{"auto", contract.Model{Name: "pioreactor_20ml", Version: "1.0"}, inferTwoExp},
		{"", contract.Model{Name: "pioreactor_20ml", Version: "1.0"}, inferTwoExp},
		{"auto", contract.Model{Name: "pioreactor_20ml", Version: "1.1"}, inferLinear},
		{"auto", contract.Model{Name: "pioreactor_20ml", Version: "1.5"}, inferLinear},
		{"auto", contract.Model{Name: "pioreactor_20ml_XR", Version: "1.5"}, inferLinear},
		{"auto", contract.Model{Name: "pioreactor_40ml", Version: "1.0"}, inferLinear},
		{"auto", contract.Model{}, inferLinear},
		{"linear", contract.Model{Name: "pioreactor_20ml", Version: "1.0"}, inferLinear},
		{"decay", contract.Model{Name: "pioreactor_20ml", Version: "1.0"}, inferDecay},
		{"two_exponential", contract.Model{Name: "pioreactor_40ml", Version: "1.5"}, inferTwoExp},
	} {
		got, err := temperatureInferenceFrom(config.LoadDefault().With([][3]string{{temperatureConfigSection, "inference_model", c.setting}}), c.model)
		if err != nil || got != c.want {
			t.Errorf("inference_model=%q on %+v: %v, %v; want %v", c.setting, c.model, got, err, c.want)
		}
	}
}

// TestTemperatureAutomationTakesTheUnitsModel: the job built for a 20 ml v1.0 runs the
// two-exponential inference with that model's limits (shut down at 66 ℃, 29 samples every
// 225 s); on a 40 ml v1.5 the linear one at 85 ℃, 21 samples every 200 s.
func TestTemperatureAutomationTakesTheUnitsModel(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		model    contract.Model
		infer    temperatureInference
		shutdown float64
		samples  int
	}{
		{contract.Model{Name: "pioreactor_20ml", Version: "1.0"}, inferTwoExp, 66, 29},
		{contract.Model{Name: "pioreactor_40ml", Version: "1.5"}, inferLinear, 85, 21},
	} {
		o := supervisor.Options{Config: config.LoadDefault(), Unit: "pio01", Experiment: "exp", Model: c.model,
			Values: map[string]any{"automation_name": "only_record_temperature"}}
		j, err := newTemperatureAutomation(o, TemperatureAutomations())
		if err != nil {
			t.Fatal(err)
		}
		ta := j.(*TemperatureAutomation)
		if ta.infer != c.infer || ta.model.shutdownAbove != c.shutdown || ta.model.samples != c.samples {
			t.Errorf("%+v: inference %v, shut down at %v, %d samples; want %v, %v, %d", c.model, ta.infer, ta.model.shutdownAbove, ta.model.samples, c.infer, c.shutdown, c.samples)
		}
	}
}
