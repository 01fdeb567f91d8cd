package jobs

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

// ekf is the growth-rate filter of docs/algorithms.md, "Growth rate": an extended Kalman filter on
// x = [log nOD, μ (1/h), ν (1/h²)] that fuses one normalised OD per sensor by inverse-variance
// weighting and adapts its log-noise level to the innovations.
type ekf struct {
	x        *mat.VecDense // state
	p        *mat.Dense    // covariance
	q        *mat.Dense    // process noise per step
	r        []float64     // observation variance per sensor (diagonal of R), in y units
	tau      float64       // outlier threshold, in standard deviations
	base     float64       // b: floor of the log-noise
	logNoise float64       // L: adaptive log-noise
}

// ekfStep is what one update did, for tests and diagnostics.
type ekfStep struct {
	Z, S, U float64 // fused log observation, innovation variance, standardised innovation
	Outlier bool
	K0      float64 // gain on log nOD
}

const (
	ekfMuMin, ekfMuMax = -1.0, 3.0
	ekfFloor           = 1e-9
	ekfCovFloor        = 1e-12
)

// ekfStart is a filter's starting point.
type ekfStart struct {
	X0  [3]float64
	P0  [3]float64 // diagonal
	Q   [3]float64 // diagonal
	R   []float64  // diagonal, one entry per sensor
	Tau float64
}

// newEKF builds a filter, refusing a start that is not positive definite or finite.
func newEKF(s ekfStart) (*ekf, error) {
	if len(s.R) == 0 {
		return nil, errors.New("growth-rate filter: no sensor")
	}
	for i := range 3 {
		if !(s.P0[i] > 0) || !(s.Q[i] > 0) || math.IsInf(s.P0[i], 0) || math.IsInf(s.Q[i], 0) {
			return nil, fmt.Errorf("growth-rate filter: P0 %v and Q %v must be positive definite", s.P0, s.Q)
		}
		if math.IsNaN(s.X0[i]) || math.IsInf(s.X0[i], 0) {
			return nil, fmt.Errorf("growth-rate filter: initial state %v must be finite", s.X0)
		}
	}
	for _, v := range s.R {
		if !(v > 0) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("growth-rate filter: observation noise %v must be positive definite", s.R)
		}
	}
	if !(s.Tau > 2) {
		return nil, fmt.Errorf("growth-rate filter: outlier threshold %v must be > 2", s.Tau)
	}
	f := &ekf{
		x:   mat.NewVecDense(3, s.X0[:]),
		p:   mat.NewDense(3, 3, nil),
		q:   mat.NewDense(3, 3, nil),
		r:   slices.Clone(s.R),
		tau: s.Tau,
	}
	for i := range 3 {
		f.p.Set(i, i, s.P0[i])
		f.q.Set(i, i, s.Q[i])
	}
	f.base = math.Max(2e-5, 3*odMean(s.R)/math.Max(math.Exp(s.X0[0])*math.Exp(s.X0[0]), 1e-9))
	f.logNoise = f.base
	return f, nil
}

// warmupStart derives the filter's start from K warm-up observations y[i][c] (already
// normalised, one column per sensor in the filter's order) spaced delta hours apart
// (docs/algorithms.md, "Start from the warm-up").
func warmupStart(y [][]float64, delta, tau float64) (ekfStart, error) {
	k := len(y)
	if k == 0 || len(y[0]) == 0 {
		return ekfStart{}, errors.New("growth-rate filter: no warm-up data")
	}
	n := len(y[0])
	s := ekfStart{R: make([]float64, n), Tau: tau}
	if k < 2 {
		for c := range s.R {
			s.R[c] = 1e-3
		}
	} else {
		t := make([]float64, k)
		for i := range t {
			t[i] = float64(i) * delta
		}
		logs := make([]float64, k)
		res := make([]float64, k)
		for c := range n {
			for i := range k {
				logs[i] = math.Log(math.Max(y[i][c], ekfFloor))
			}
			alpha, beta := stat.LinearRegression(t, logs, nil, false)
			for i := range k {
				res[i] = logs[i] - (alpha + beta*t[i])
			}
			sd := math.Max(odRobustSD(res), 5e-3)
			s.R[c] = sd * sd
		}
	}
	g := make([]float64, k) // fused series: mean over sensors
	logG := make([]float64, k)
	for i := range k {
		g[i] = odMean(y[i])
		logG[i] = math.Log(math.Max(g[i], ekfFloor))
	}
	s.X0[0] = math.Log(math.Max(odMedian(g[max(0, k-5):]), ekfFloor))
	sigma0 := max(0.05, 2*odRobustSD(logG), math.Sqrt(odMean(s.R)))
	s.P0 = [3]float64{sigma0 * sigma0, 0.03 * 0.03, 0.05 * 0.05}
	scale := math.Max(delta/(5.0/3600), 0.25)
	s.Q = [3]float64{1e-8 * scale, 5e-8 * scale, 5e-6 * scale}
	return s, nil
}

// update feeds one observation vector (one normalised OD per sensor) dt hours after the
// previous one; dilution marks the updates right after a dose (docs/algorithms.md, "One update").
func (f *ekf) update(y []float64, dt float64, dilution bool) (ekfStep, error) {
	if len(y) != len(f.r) {
		return ekfStep{}, fmt.Errorf("growth-rate filter: %d observations for %d sensors", len(y), len(f.r))
	}
	// 1–2. Per-sensor log observations fused by inverse variance.
	var sumW, sumWZ float64
	for c, yc := range y {
		m := math.Max(yc, ekfFloor)
		v := math.Max(math.Max(f.r[c], ekfCovFloor)/(m*m), f.base)
		sumW += 1 / v
		sumWZ += math.Log(m) / v
	}
	fusedVar := 1 / sumW
	z := fusedVar * sumWZ

	// 3. Predict.
	tr := mat.NewDense(3, 3, []float64{1, dt, dt * dt / 2, 0, 1, dt, 0, 0, 0.995})
	var xp mat.VecDense
	xp.MulVec(tr, f.x)
	var pp mat.Dense
	pp.Product(tr, f.p, tr.T())
	pp.Add(&pp, f.q)
	if dilution {
		pp.Set(0, 0, pp.At(0, 0)+0.05)
		pp.Set(1, 1, pp.At(1, 1)+1e-4)
	}

	// 4–5. Innovation; an outlier is down-weighted, never dropped.
	e := z - xp.AtVec(0)
	m := math.Max(fusedVar, f.logNoise)
	s := pp.At(0, 0) + m
	u := e / math.Sqrt(math.Max(s, ekfCovFloor))
	step := ekfStep{Z: z, U: u}
	sPlain := s
	if math.Abs(u) > f.tau {
		step.Outlier = true
		m *= math.Max((math.Abs(u)/f.tau)*(math.Abs(u)/f.tau), 1)
		s = pp.At(0, 0) + m
	}
	step.S = s

	// 6. Correct.
	gain := mat.VecDenseCopyOf(pp.ColView(0))
	gain.ScaleVec(1/math.Max(s, ekfCovFloor), gain)
	step.K0 = gain.AtVec(0)
	var x mat.VecDense
	x.AddScaledVec(&xp, e, gain)
	var kp mat.Dense
	kp.Outer(1, gain, pp.RowView(0))
	pp.Sub(&pp, &kp)
	for i := range 3 {
		pp.Set(i, i, math.Max(pp.At(i, i), ekfCovFloor))
	}
	x.SetVec(1, math.Min(math.Max(x.AtVec(1), ekfMuMin), ekfMuMax))
	for i := range 3 {
		if math.IsNaN(x.AtVec(i)) {
			return step, fmt.Errorf("growth-rate filter: state became NaN (%v)", mat.Formatted(x.T()))
		}
	}
	f.x, f.p = &x, &pp

	// 7. Adapt the log-noise to quiet innovations only.
	if !step.Outlier && !dilution {
		f.logNoise = math.Max(f.base, 0.98*f.logNoise+0.02*math.Min(e*e, 16*sPlain))
		level := math.Exp(x.AtVec(0))
		for c := range f.r {
			f.r[c] = f.logNoise * level * level
		}
	}
	return step, nil
}

// growthRate is μ in 1/h; odFiltered is the filtered normalised OD.
func (f *ekf) growthRate() float64 { return f.x.AtVec(1) }
func (f *ekf) odFiltered() float64 { return math.Exp(f.x.AtVec(0)) }

// odMedian is the median of v (mean of the middle two for an even count), v unchanged.
func odMedian(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return math.NaN()
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// odRobustSD is 1.4826·MAD, the normal-consistent spread of docs/algorithms.md, "Normalisation".
func odRobustSD(v []float64) float64 {
	m := odMedian(v)
	dev := make([]float64, len(v))
	for i, x := range v {
		dev[i] = math.Abs(x - m)
	}
	return 1.4826 * odMedian(dev)
}

func odMean(v []float64) float64 { return stat.Mean(v, nil) }
