package jobs

import (
	"fmt"
	"math"
	"time"
)

// The 20 ml v1.0's inference (docs/algorithms.md "Temperature inference"): the heater-off
// decay, relative to a 22 ℃ room, is fitted as two exponentials through a linear
// differential model y ≈ A·∬y + B·∫y + c·x + d (ridge priors pull A toward −0.0012 and B
// toward −0.325 per sample, the real vial's rates), whose characteristic roots are the two
// rates; the slow term extrapolated to the end of the window is the liquid.

const (
	twoExpRoomC  = 22.0
	twoExpPriorA = -0.0012
	twoExpPriorB = -0.325
	twoExpWeight = 100.0 // on A
	twoExpWeigB  = 50.0  // on B
)

// twoExpHeaterModel is the 20 ml v1.0's limits and timing.
var twoExpHeaterModel = heaterModel{reduceAbove: 63, disableAbove: 65, shutdownAbove: 66, samples: 29, period: 225 * time.Second}

// inferTwoExponential is the 20 ml v1.0 model: h the duty cycle before the heater went off,
// samples one per 5 s. With the heater off before the cycle the last sample is the answer.
func inferTwoExponential(h float64, samples []float64) (float64, error) {
	n := len(samples)
	if n == 0 {
		return 0, fmt.Errorf("temperature inference: no samples")
	}
	if h == 0 {
		return samples[n-1], nil
	}
	if n < 4 {
		return 0, fmt.Errorf("temperature inference: the two-exponential model needs at least 4 samples, got %d", n)
	}
	y := make([]float64, n)
	s := make([]float64, n)
	ss := make([]float64, n)
	for i, t := range samples {
		y[i] = t - twoExpRoomC
		if i > 0 {
			s[i] = s[i-1] + (y[i-1]+y[i])/2
			ss[i] = ss[i-1] + (s[i-1]+s[i])/2
		}
	}
	var a [4][4]float64
	var b [4]float64
	for i := range n {
		f := [4]float64{ss[i], s[i], float64(i), 1}
		for j := range 4 {
			for k := range 4 {
				a[j][k] += f[j] * f[k]
			}
			b[j] += f[j] * y[i]
		}
	}
	a[0][0] += twoExpWeight
	b[0] += twoExpWeight * twoExpPriorA
	a[1][1] += twoExpWeigB
	b[1] += twoExpWeigB * twoExpPriorB
	coef, ok := solveN([][]float64{a[0][:], a[1][:], a[2][:], a[3][:]}, b[:])
	if !ok {
		return 0, fmt.Errorf("temperature inference: the two-exponential system is singular")
	}
	A, B := coef[0], coef[1]
	disc := B*B + 4*A
	if disc < 0 {
		return 0, fmt.Errorf("temperature inference: the decay has no two real rates (B² + 4A = %v)", disc)
	}
	p, q := (B+math.Sqrt(disc))/2, (B-math.Sqrt(disc))/2
	var m [2][2]float64
	var r [2]float64
	for i := range n {
		f := [2]float64{math.Exp(p * float64(i)), math.Exp(q * float64(i))}
		for j := range 2 {
			for k := range 2 {
				m[j][k] += f[j] * f[k]
			}
			r[j] += f[j] * y[i]
		}
	}
	bc, ok := solveN([][]float64{m[0][:], m[1][:]}, r[:])
	if !ok {
		return 0, fmt.Errorf("temperature inference: the two-exponential amplitudes are singular")
	}
	t := twoExpRoomC + bc[0]*math.Exp(p*float64(n))
	if math.IsNaN(t) || math.IsInf(t, 0) {
		return 0, fmt.Errorf("temperature inference: model gave %v", t)
	}
	return t, nil
}

// solveN solves a small dense system by Gaussian elimination with partial pivoting.
func solveN(rows [][]float64, rhs []float64) ([]float64, bool) {
	n := len(rhs)
	a := make([][]float64, n)
	for i := range rows {
		a[i] = append([]float64(nil), rows[i]...)
	}
	b := append([]float64(nil), rhs...)
	for i := range n {
		p := i
		for j := i + 1; j < n; j++ {
			if math.Abs(a[j][i]) > math.Abs(a[p][i]) {
				p = j
			}
		}
		if math.Abs(a[p][i]) < 1e-300 {
			return nil, false
		}
		a[i], a[p] = a[p], a[i]
		b[i], b[p] = b[p], b[i]
		for j := i + 1; j < n; j++ {
			f := a[j][i] / a[i][i]
			for k := i; k < n; k++ {
				a[j][k] -= f * a[i][k]
			}
			b[j] -= f * b[i]
		}
	}
	x := make([]float64, n)
	for i := n - 1; i >= 0; i-- {
		s := b[i]
		for k := i + 1; k < n; k++ {
			s -= a[i][k] * x[k]
		}
		x[i] = s / a[i][i]
	}
	return x, true
}
