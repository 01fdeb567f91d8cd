package jobs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/pioreactor/pioreactord/pkg/calibration"
	"github.com/pioreactor/pioreactord/pkg/contract"
)

// The multi-angle OD fusion estimator (docs/algorithms.md "OD fusion"): per angle a curve of
// the mean log signal μ_a(logc) and of its log spread s_a(logc) against log10 concentration;
// a reading's concentration is the logc that minimises a robust negative log-likelihood over
// the angles, searched on a 256-point grid and refined by golden-section search.

// fusedEstimator is an `od_fused_estimator` file.
type fusedEstimator struct {
	Type           string                       `yaml:"estimator_type"`
	Name           string                       `yaml:"estimator_name"`
	Unit           string                       `yaml:"calibrated_on_pioreactor_unit"`
	IRLEDIntensity float64                      `yaml:"ir_led_intensity"`
	Angles         []string                     `yaml:"angles"`
	Mu             map[string]calibration.Curve `yaml:"mu_splines"`
	LogSigma       map[string]calibration.Curve `yaml:"sigma_splines_log"`
	MinLogC        float64                      `yaml:"min_logc"`
	MaxLogC        float64                      `yaml:"max_logc"`
	SigmaFloor     float64                      `yaml:"sigma_floor"`
	LowConcScales  map[string]float64           `yaml:"low_conc_scales"`
	Y              string                       `yaml:"y"`
}

// decodeFusedEstimator reads and checks an estimator file.
func decodeFusedEstimator(b []byte) (*fusedEstimator, error) {
	var e fusedEstimator
	if err := yaml.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFusedEstimator, err)
	}
	if e.Type != "" && e.Type != "od_fused_estimator" {
		return nil, fmt.Errorf("%w: estimator_type %q", ErrFusedEstimator, e.Type)
	}
	if len(e.Angles) == 0 {
		return nil, fmt.Errorf("%w: no angles", ErrFusedEstimator)
	}
	for _, a := range e.Angles {
		if _, ok := e.Mu[a]; !ok {
			return nil, fmt.Errorf("%w: no mu_splines for angle %s", ErrFusedEstimator, a)
		}
		if _, ok := e.LogSigma[a]; !ok {
			return nil, fmt.Errorf("%w: no sigma_splines_log for angle %s", ErrFusedEstimator, a)
		}
	}
	if !(e.MaxLogC > e.MinLogC) || math.IsInf(e.MaxLogC-e.MinLogC, 0) {
		return nil, fmt.Errorf("%w: min_logc %v must be below max_logc %v", ErrFusedEstimator, e.MinLogC, e.MaxLogC)
	}
	return &e, nil
}

// fusedGrid is the number of grid points; fusedRefine the local minima refined.
const (
	fusedGrid   = 256
	fusedRefine = 4
)

// estimate is the fused OD (10^logc) of raw ODs by angle; every estimator angle is required.
// atBound reports a result within 0.1 % of the search range's ends.
func (e *fusedEstimator) estimate(ods map[string]float64) (od float64, atBound bool, err error) {
	obs := make(map[string]float64, len(e.Angles))
	for _, a := range e.Angles {
		v, ok := ods[a]
		if !ok {
			return 0, false, fmt.Errorf("od_fused: no reading at angle %s", a)
		}
		obs[a] = math.Log(math.Max(v, 1e-12))
	}
	lo, hi := e.MinLogC, e.MaxLogC
	step := (hi - lo) / (fusedGrid - 1)
	nll := make([]float64, fusedGrid)
	for i := range nll {
		nll[i] = e.nll(lo+float64(i)*step, obs)
	}
	// Local minima of the grid (ends included), best first.
	var minima []int
	for i := range nll {
		if (i == 0 || nll[i] <= nll[i-1]) && (i == fusedGrid-1 || nll[i] <= nll[i+1]) {
			minima = append(minima, i)
		}
	}
	sort.SliceStable(minima, func(a, b int) bool { return nll[minima[a]] < nll[minima[b]] })
	if len(minima) > fusedRefine {
		minima = minima[:fusedRefine]
	}
	best, bestNLL := lo, math.Inf(1)
	for _, i := range minima {
		a := math.Max(lo, lo+float64(i-1)*step)
		b := math.Min(hi, lo+float64(i+1)*step)
		x := goldenSection(func(x float64) float64 { return e.nll(x, obs) }, a, b)
		if v := e.nll(x, obs); v < bestNLL {
			best, bestNLL = x, v
		}
	}
	if math.IsInf(bestNLL, 0) || math.IsNaN(bestNLL) {
		return 0, false, fmt.Errorf("od_fused: no finite likelihood for %v", ods)
	}
	tol := 0.001 * (hi - lo)
	return math.Pow(10, best), best-lo <= tol || hi-best <= tol, nil
}

// nll is Σ_a √(1 + r_a²) − 1 + log σ_eff,a at logc.
func (e *fusedEstimator) nll(logc float64, obs map[string]float64) float64 {
	t := math.Max(0, math.Min(1, (e.MaxLogC-logc)/(e.MaxLogC-e.MinLogC)))
	var sum float64
	for _, a := range e.Angles {
		mu := e.Mu[a]
		scale := 1.0
		if s, ok := e.LowConcScales[a]; ok {
			scale = s
		}
		g := (1 - t) + scale*t
		sigma := math.Max(math.Exp(e.LogSigma[a].Y(logc)), e.SigmaFloor) / math.Max(math.Abs(curveSlope(mu, logc)), 0.05) * g
		r := (obs[a] - mu.Y(logc)) / sigma
		sum += math.Sqrt(1+r*r) - 1 + math.Log(sigma)
	}
	return sum
}

// goldenSection minimises f on [a, b]: 64 iterations or a bracket under 1e-6.
func goldenSection(f func(float64) float64, a, b float64) float64 {
	const invPhi = 0.6180339887498949
	c, d := b-invPhi*(b-a), a+invPhi*(b-a)
	fc, fd := f(c), f(d)
	for range 64 {
		if b-a < 1e-6 {
			break
		}
		if fc < fd {
			b, d, fd = d, c, fc
			c = b - invPhi*(b-a)
			fc = f(c)
		} else {
			a, c, fc = c, d, fd
			d = a + invPhi*(b-a)
			fd = f(d)
		}
	}
	return (a + b) / 2
}

// curveSlope is dy/dx of a calibration curve at x.
func curveSlope(c calibration.Curve, x float64) float64 {
	switch c.Type {
	case calibration.Poly:
		var d float64
		n := len(c.Coefficients) - 1
		for i, a := range c.Coefficients[:max(0, n)] {
			d = d*x + float64(n-i)*a
		}
		return d
	case calibration.Spline, calibration.Akima:
		if len(c.Pieces) == 0 || len(c.Knots) == 0 {
			return math.NaN()
		}
		i := 0
		for _, k := range c.Knots {
			if k <= x {
				i++
			}
		}
		i = max(0, min(i-1, len(c.Pieces)-1))
		p, u := c.Pieces[i], x-c.Knots[i]
		return p[1] + u*(2*p[2]+3*u*p[3])
	}
	return math.NaN()
}

// estimatorDevice is the only estimator device, and activeEstimators the pointer file
// beside the device folders (as the calibration store keeps its own).
const (
	estimatorDevice  = "od_fused"
	activeEstimators = ".active_estimators.yaml"
)

// loadActiveFusedEstimator reads dir's active od_fused estimator; nil without one.
func loadActiveFusedEstimator(dir string) (*fusedEstimator, error) {
	if dir == "" {
		return nil, nil
	}
	b, err := os.ReadFile(filepath.Join(dir, activeEstimators))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the active estimators: %w", err)
	}
	active := map[string]string{}
	if err := yaml.Unmarshal(b, &active); err != nil {
		return nil, fmt.Errorf("read the active estimators: %w", err)
	}
	name, ok := active[estimatorDevice]
	if !ok {
		return nil, nil
	}
	if err := calibration.ValidName(name); err != nil {
		return nil, fmt.Errorf("active od_fused estimator: %w", err)
	}
	b, err = os.ReadFile(filepath.Join(dir, estimatorDevice, name+".yaml"))
	if err != nil {
		return nil, fmt.Errorf("active od_fused estimator %s: %w", name, err)
	}
	e, err := decodeFusedEstimator(b)
	if err != nil {
		return nil, fmt.Errorf("active od_fused estimator %s: %w", name, err)
	}
	return e, nil
}

// fusedOD is od_reading's fusion: the estimator and when it last warned.
type fusedOD struct {
	est      *fusedEstimator
	lastWarn time.Time
}

// fusedWarnEvery spaces the fusion's warnings (a result on a bound, a failed fit).
const fusedWarnEvery = 300 * time.Second

// publishFused publishes od_fused for a reading's raw ODs by channel, or clears it when the
// IR intensity differs from the estimator's or the fit fails.
func (j *ODReading) publishFused(ctx context.Context, stamp contract.Timestamp, raw map[string]float64) error {
	e := j.fused.est
	if e == nil {
		return nil
	}
	byAngle := map[string]float64{}
	for ch, angle := range j.chain.angles {
		byAngle[angle] = raw[ch]
	}
	now := j.rt.Clock().Now()
	warn := func(msg string, args ...any) {
		if now.Sub(j.fused.lastWarn) >= fusedWarnEvery {
			j.fused.lastWarn = now
			j.rt.Log().Warn(msg, args...)
		}
	}
	if e.IRLEDIntensity != j.intensity {
		j.rt.Log().Error(fmt.Sprintf("The od_fused estimator %s was made at IR intensity %v%%, not %v%%: no fused OD.", e.Name, e.IRLEDIntensity, j.intensity))
		return j.rt.Set(ctx, "od_fused", nil)
	}
	od, atBound, err := e.estimate(byAngle)
	if err != nil {
		warn("od_fused failed", "err", err)
		return j.rt.Set(ctx, "od_fused", nil)
	}
	if atBound {
		warn(fmt.Sprintf("The fused OD %v is at the edge of the estimator %s's range: the culture may be outside what it was fitted on.", od, e.Name))
	}
	return j.rt.Set(ctx, "od_fused", contract.ODFused{ODFused: contract.Decimal(od), Timestamp: stamp})
}
