package periph

import (
	"math"
)

// Mains hum: the photodiodes of the RP2040 and ADS1115 inputs pick up the room's 50 or 60 Hz
// lighting. Their samples are fitted with y = C + b·sin(2πft) + c·cos(2πft) and the offset C
// is the reading; the ADS1114 optics boards filter it and use the trimmed mean.

// humFit is one least-squares fit at frequency hz.
type humFit struct {
	offset float64 // C
	aic    float64 // n·log(SSE/n) + 6; −∞ for a perfect fit
}

// fitHum fits ys taken at ts (seconds). A singular system (too few or evenly aliased
// samples) falls back to the mean.
func fitHum(ts, ys []float64, hz float64) humFit {
	n := float64(len(ys))
	if len(ys) == 0 {
		return humFit{aic: math.Inf(1)}
	}
	// Normal equations of [1, sin, cos].
	var a [3][3]float64
	var r [3]float64
	for i, t := range ts {
		x := [3]float64{1, math.Sin(2 * math.Pi * hz * t), math.Cos(2 * math.Pi * hz * t)}
		for j := range 3 {
			for k := range 3 {
				a[j][k] += x[j] * x[k]
			}
			r[j] += x[j] * ys[i]
		}
	}
	coef, ok := solve3(a, r)
	if !ok {
		mean := 0.0
		for _, y := range ys {
			mean += y
		}
		mean /= n
		return humFit{offset: mean, aic: aicOf(ts, ys, hz, [3]float64{mean, 0, 0})}
	}
	return humFit{offset: coef[0], aic: aicOf(ts, ys, hz, coef)}
}

func aicOf(ts, ys []float64, hz float64, c [3]float64) float64 {
	sse := 0.0
	for i, t := range ts {
		d := ys[i] - (c[0] + c[1]*math.Sin(2*math.Pi*hz*t) + c[2]*math.Cos(2*math.Pi*hz*t))
		sse += d * d
	}
	n := float64(len(ys))
	if sse <= 1e-20 {
		return math.Inf(-1)
	}
	return n*math.Log(sse/n) + 6
}

// solve3 is Gaussian elimination with partial pivoting.
func solve3(a [3][3]float64, r [3]float64) ([3]float64, bool) {
	for col := range 3 {
		p := col
		for row := col + 1; row < 3; row++ {
			if math.Abs(a[row][col]) > math.Abs(a[p][col]) {
				p = row
			}
		}
		if math.Abs(a[p][col]) < 1e-12 {
			return [3]float64{}, false
		}
		a[col], a[p] = a[p], a[col]
		r[col], r[p] = r[p], r[col]
		for row := col + 1; row < 3; row++ {
			f := a[row][col] / a[col][col]
			for k := col; k < 3; k++ {
				a[row][k] -= f * a[col][k]
			}
			r[row] -= f * r[col]
		}
	}
	var x [3]float64
	for row := 2; row >= 0; row-- {
		s := r[row]
		for k := row + 1; k < 3; k++ {
			s -= a[row][k] * x[k]
		}
		x[row] = s / a[row][row]
	}
	return x, true
}

// mainsHz picks 50 or 60 Hz by the lower AIC (ties: 60), as the original does on its first
// reading when local_ac_hz is not configured.
func mainsHz(ts, ys []float64) float64 {
	if fitHum(ts, ys, 50).aic < fitHum(ts, ys, 60).aic {
		return 50
	}
	return 60
}

// trimExtremes drops the first minimum and the first maximum (one sample when they coincide).
func trimExtremes(ts, ys []float64) ([]float64, []float64) {
	if len(ys) == 0 {
		return ts, ys
	}
	lo, hi := 0, 0
	for i, y := range ys {
		if y < ys[lo] {
			lo = i
		}
		if y > ys[hi] {
			hi = i
		}
	}
	var ot, oy []float64
	for i := range ys {
		if i != lo && i != hi {
			ot, oy = append(ot, ts[i]), append(oy, ys[i])
		}
	}
	return ot, oy
}
