package jobs

import (
	"fmt"
	"math"
	"time"
)

// linearModelBeta are the coefficients of the linear inference model (docs/algorithms.md, "Temperature inference")
// for the features [h, T_1 … T_21]/35, X_1² and X_20·X_0; linearModelIntercept is β_0.
var linearModelBeta = [24]float64{
	-13.7221255, 150.807347, 15.2808570, -71.7124615, -81.5352596, -58.2053398, -84.9915201,
	-36.9729300, -0.0851994806, 11.2635670, 33.7434235, 33.6348041, 42.5731033, 67.2551219,
	83.7883314, 62.9508694, 49.5735854, 18.6594862, 0.312848519, -38.2815596, -56.2834504,
	-92.7840943, -7.62113224, 8.18877406,
}

const linearModelIntercept = -6.171633633597331

// inferTemperature estimates the liquid temperature from the heater's previous duty cycle h
// and the heater-off samples, 5 s apart. With the heater off before the cycle the PCB already
// reads the liquid, so the last sample is the answer.
func inferTemperature(h float64, samples []float64) (float64, error) {
	if len(samples) == 0 {
		return 0, fmt.Errorf("temperature inference: no samples")
	}
	if h == 0 {
		return samples[len(samples)-1], nil
	}
	if len(samples) != 21 {
		return 0, fmt.Errorf("temperature inference: the linear model needs 21 samples, got %d", len(samples))
	}
	var x [24]float64
	x[0] = h / 35
	for i, s := range samples {
		x[i+1] = s / 35
	}
	x[22] = x[1] * x[1]
	x[23] = x[20] * x[0]
	t := linearModelIntercept
	for i, b := range linearModelBeta {
		t += b * x[i]
	}
	if math.IsNaN(t) || math.IsInf(t, 0) {
		return 0, fmt.Errorf("temperature inference: model gave %v", t)
	}
	return t, nil
}

// onGrid resamples readings taken at times onto a regular grid, one every gap from the first,
// by linear interpolation. The model expects evenly spaced readings; a busy machine (or a
// simulation running hundreds of times faster than real time) spaces them unevenly, and fed
// as they are they would bias the inference.
func onGrid(times []time.Time, values []float64, gap time.Duration) []float64 {
	out := make([]float64, len(values))
	if len(values) == 0 {
		return out
	}
	j := 0
	for k := range out {
		at := times[0].Add(time.Duration(k) * gap)
		for j+1 < len(times)-1 && times[j+1].Before(at) {
			j++
		}
		switch {
		case len(times) == 1 || !at.After(times[0]):
			out[k] = values[0]
		case !at.Before(times[len(times)-1]):
			out[k] = values[len(values)-1]
		default:
			span := times[j+1].Sub(times[j]).Seconds()
			f := 0.0
			if span > 0 {
				f = at.Sub(times[j]).Seconds() / span
			}
			out[k] = values[j] + f*(values[j+1]-values[j])
		}
	}
	return out
}
