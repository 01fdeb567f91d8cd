package session

import (
	"errors"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/pioreactor/pioreactord/pkg/calibration"
)

// fitPoly fits y = poly(x) by least squares, choosing the degree in 1…maxDeg with the least
// AICc (a line unless the data ask for more). Coefficients come highest degree first, as
// calibration files keep them.
func fitPoly(x, y []float64, maxDeg int) ([]float64, error) {
	n := len(x)
	if n < 2 || n != len(y) {
		return nil, errors.New("a fit needs at least two points")
	}
	best, bestScore := []float64(nil), math.Inf(1)
	for deg := 1; deg <= maxDeg && deg <= n-1; deg++ {
		coef, sse, err := lstsq(x, y, deg)
		if err != nil {
			continue
		}
		p := float64(deg + 1)
		score := math.Inf(1)
		if float64(n) > p+1 {
			score = float64(n)*math.Log(math.Max(sse, 1e-300)/float64(n)) + 2*p + 2*p*(p+1)/(float64(n)-p-1)
		}
		if best == nil || score < bestScore {
			best, bestScore = coef, score
		}
	}
	if best == nil {
		return nil, errors.New("the points do not determine a curve (are the x values all the same?)")
	}
	return best, nil
}

func lstsq(x, y []float64, deg int) ([]float64, float64, error) {
	n := len(x)
	a := mat.NewDense(n, deg+1, nil)
	for i, xi := range x {
		for j := 0; j <= deg; j++ {
			a.Set(i, j, math.Pow(xi, float64(deg-j)))
		}
	}
	var qr mat.QR
	qr.Factorize(a)
	var c mat.Dense
	if err := qr.SolveTo(&c, false, mat.NewDense(n, 1, append([]float64(nil), y...))); err != nil {
		return nil, 0, err
	}
	coef := make([]float64, deg+1)
	for j := range coef {
		coef[j] = c.At(j, 0)
		if math.IsNaN(coef[j]) || math.IsInf(coef[j], 0) {
			return nil, 0, errors.New("singular fit")
		}
	}
	sse := 0.0
	curve := calibration.PolyCurve(coef...)
	for i := range x {
		r := y[i] - curve.Y(x[i])
		sse += r * r
	}
	return coef, sse, nil
}

// residuals are y − curve(x) at each recorded point.
func residuals(c calibration.Calibration) []float64 {
	out := make([]float64, len(c.Recorded.X))
	for i, x := range c.Recorded.X {
		out[i] = round(c.Recorded.Y[i]-c.XToY(x), 6)
	}
	return out
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}
