package jobs

import (
	"fmt"
	"math"
	"time"

	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/contract"
)

// temperatureInference names how a heater-off decay becomes a liquid temperature:
// `[temperature_automation.config] inference_model`.
type temperatureInference string

const (
	// inferLinear is the reference's regression on the 21 samples (fitted to real vials);
	// `auto` picks it for every model but the 20 ml v1.0 (and for an unknown model).
	inferLinear temperatureInference = "linear"
	// inferDecay fits the decay itself, at the times the samples were taken: exact for a
	// heating PCB that relaxes toward the liquid, like the simulated one (docs/jobs.md §4).
	inferDecay temperatureInference = "decay"
	// inferTwoExp is the 20 ml v1.0's two-exponential fit on 29 samples, with that model's
	// limits (63/65/66 ℃) and 225 s cycle (temperature_twoexp.go); `auto` picks it on a
	// 20 ml v1.0.
	inferTwoExp temperatureInference = "two_exponential"
)

const temperatureConfigSection = "temperature_automation.config"

// twoExpModel is the bioreactor model whose heater the two-exponential fit describes.
var twoExpModel = contract.Model{Name: "pioreactor_20ml", Version: "1.0"}

// temperatureInferenceFrom reads the inference model from the config; `auto` (the default)
// chooses by the unit's bioreactor model, as the original does.
func temperatureInferenceFrom(c *config.Config, model contract.Model) (temperatureInference, error) {
	switch v := c.String(temperatureConfigSection, "inference_model", "auto"); v {
	case "", "auto":
		if model == twoExpModel {
			return inferTwoExp, nil
		}
		return inferLinear, nil
	case string(inferLinear):
		return inferLinear, nil
	case string(inferDecay):
		return inferDecay, nil
	case string(inferTwoExp):
		return inferTwoExp, nil
	default:
		return "", fmt.Errorf("[%s] inference_model %q: want auto, linear, two_exponential or decay", temperatureConfigSection, v)
	}
}

// decayEstimate is what a decay fit says about the liquid.
type decayEstimate struct {
	atEnd     float64 // °C; the liquid when the last sample was taken
	slope     float64 // K/s; how fast the liquid itself was cooling
	tau       float64 // s; the PCB's time constant toward the liquid
	cycleMean float64 // °C; the liquid's mean over a heater cycle (see inferByDecay)
}

// fitDecay fits T(t) = L + s·(t − t_N) + a·e^{−t/τ} to the samples, t in seconds from the
// heater going off, by least squares in (L, s, a) for each τ on a geometric grid. The PCB
// relaxes toward the liquid with time constant τ while the liquid cools slowly (slope s),
// so it trails the liquid by s·τ: the liquid at t_N is L + s·τ.
func fitDecay(secs, samples []float64) (decayEstimate, error) {
	n := len(samples)
	if n < 5 || len(secs) != n {
		return decayEstimate{}, fmt.Errorf("temperature inference: a decay fit needs at least 5 timed samples, got %d", n)
	}
	tN := secs[n-1]
	best := decayEstimate{}
	bestSSE := math.Inf(1)
	for tau := 3.0; tau <= 150; tau *= 1.02 {
		var a [3][3]float64
		var b [3]float64
		for i := range n {
			f := [3]float64{1, secs[i] - tN, math.Exp(-secs[i] / tau)}
			for j := range 3 {
				for k := range 3 {
					a[j][k] += f[j] * f[k]
				}
				b[j] += f[j] * samples[i]
			}
		}
		x, ok := solve3(a, b)
		if !ok {
			continue
		}
		var sse float64
		for i := range n {
			d := x[0] + x[1]*(secs[i]-tN) + x[2]*math.Exp(-secs[i]/tau) - samples[i]
			sse += d * d
		}
		if sse < bestSSE {
			bestSSE = sse
			best = decayEstimate{atEnd: x[0] + x[1]*tau, slope: x[1], tau: tau}
		}
	}
	if math.IsInf(bestSSE, 1) || math.IsNaN(best.atEnd) {
		return decayEstimate{}, fmt.Errorf("temperature inference: the decay fit has no solution")
	}
	return best, nil
}

// inferByDecay estimates the liquid's mean temperature over a heater cycle from the samples
// of a heater-off window and when they were taken (heaterOff: when the heater went to 0).
// The liquid falls at the fitted slope s through the window W and for about τ after the
// heater comes back on (the PCB must warm first), then climbs back: its swing is about
// |s|·W, its minimum |s|·τ below its value at the window's end, so its cycle mean sits
// |s|·(W/2 − τ) above that value.
func inferByDecay(h float64, heaterOff time.Time, times []time.Time, samples []float64) (decayEstimate, error) {
	if len(samples) == 0 {
		return decayEstimate{}, fmt.Errorf("temperature inference: no samples")
	}
	if h == 0 {
		last := samples[len(samples)-1]
		return decayEstimate{atEnd: last, cycleMean: last}, nil
	}
	secs := make([]float64, len(times))
	for i, at := range times {
		secs[i] = at.Sub(heaterOff).Seconds()
	}
	e, err := fitDecay(secs, samples)
	if err != nil {
		return e, err
	}
	window := secs[len(secs)-1]
	e.cycleMean = e.atEnd + math.Max(0, -e.slope*(window/2-e.tau))
	return e, nil
}

// solve3 solves a 3×3 system by Gaussian elimination with partial pivoting.
func solve3(a [3][3]float64, b [3]float64) ([3]float64, bool) {
	var x [3]float64
	for i := range 3 {
		p := i
		for j := i + 1; j < 3; j++ {
			if math.Abs(a[j][i]) > math.Abs(a[p][i]) {
				p = j
			}
		}
		if math.Abs(a[p][i]) < 1e-12 {
			return x, false
		}
		a[i], a[p] = a[p], a[i]
		b[i], b[p] = b[p], b[i]
		for j := i + 1; j < 3; j++ {
			f := a[j][i] / a[i][i]
			for k := i; k < 3; k++ {
				a[j][k] -= f * a[i][k]
			}
			b[j] -= f * b[i]
		}
	}
	for i := 2; i >= 0; i-- {
		s := b[i]
		for k := i + 1; k < 3; k++ {
			s -= a[i][k] * x[k]
		}
		x[i] = s / a[i][i]
	}
	return x, true
}

// inferFrom turns one inference cycle's samples into the published temperature with the
// configured model; h is the duty cycle before the heater went off at heaterOff.
func (t *TemperatureAutomation) inferFrom(h float64, heaterOff time.Time, times []time.Time, samples []float64) (float64, error) {
	switch t.infer {
	case inferDecay:
		e, err := inferByDecay(h, heaterOff, times, samples)
		return e.cycleMean, err
	case inferTwoExp:
		return inferTwoExponential(h, onGrid(times, samples, inferenceSpacing))
	}
	// onGrid restores the model's even spacing when a read was late.
	return inferTemperature(h, onGrid(times, samples, inferenceSpacing))
}

// useInference sets the inference model and the heater limits and timing that go with it.
func (t *TemperatureAutomation) useInference(i temperatureInference) {
	t.infer = i
	if i == inferTwoExp {
		t.model = twoExpHeaterModel
	}
}
