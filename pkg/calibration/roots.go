package calibration

import (
	"math"
	"math/cmplx"

	"gonum.org/v1/gonum/mat"
)

// realRoots returns the real roots of the polynomial with coefficients highest degree first,
// as numpy.roots does: the eigenvalues of the companion matrix. A root counts as real when
// |Im| ≤ tol·(|Re| + 1) (relative) or |Im| ≤ tol (absolute). Leading coefficients below
// 1e-12 are dropped; a constant polynomial has no roots.
func realRoots(coef []float64, tol float64, relative bool) []float64 {
	for len(coef) > 0 && math.Abs(coef[0]) < 1e-12 {
		coef = coef[1:]
	}
	var out []float64
	for len(coef) > 1 && coef[len(coef)-1] == 0 { // x = 0 roots, exact
		coef = coef[:len(coef)-1]
		out = append(out, 0)
	}
	n := len(coef) - 1
	switch {
	case n < 1:
		return out
	case n == 1:
		return append(out, -coef[1]/coef[0])
	}
	comp := mat.NewDense(n, n, nil)
	for j := 0; j < n; j++ {
		comp.Set(0, j, -coef[j+1]/coef[0])
	}
	for i := 1; i < n; i++ {
		comp.Set(i, i-1, 1)
	}
	var eig mat.Eigen
	if !eig.Factorize(comp, mat.EigenNone) {
		return out
	}
	for _, z := range eig.Values(nil) {
		limit := tol
		if relative {
			limit = tol * (math.Abs(real(z)) + 1)
		}
		if math.Abs(imag(z)) <= limit && !cmplx.IsNaN(z) {
			out = append(out, real(z))
		}
	}
	return out
}
