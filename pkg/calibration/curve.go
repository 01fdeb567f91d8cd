package calibration

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"

	"gopkg.in/yaml.v3"
)

// Curve kinds (the `type` tag of curve_data_).
const (
	Poly   = "poly"
	Spline = "spline"
	Akima  = "akima"
)

// Curve maps x to y (docs/profiles.md, "Curves"). A poly curve uses Coefficients, highest degree
// first; a spline or akima curve uses Knots t_0 < … < t_m and m Pieces [a, b, c, d], piece i
// being y = a + b·u + c·u² + d·u³ with u = x − t_i.
type Curve struct {
	Type         string
	Coefficients []float64
	Knots        []float64
	Pieces       [][4]float64
}

// PolyCurve is the polynomial with coefficients highest degree first.
func PolyCurve(coefficients ...float64) Curve {
	return Curve{Type: Poly, Coefficients: append([]float64(nil), coefficients...)}
}

// curveWire is the on-disk shape: `coefficients` is a list of numbers for poly and a list of
// 4-number rows for splines, so it is decoded once the type is known.
type curveWire struct {
	Type         string    `yaml:"type" json:"type"`
	Knots        []float64 `yaml:"knots,omitempty" json:"knots,omitempty"`
	Coefficients any       `yaml:"coefficients" json:"coefficients"`
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (c *Curve) UnmarshalYAML(n *yaml.Node) error {
	var w struct {
		Type         string    `yaml:"type"`
		Knots        []float64 `yaml:"knots"`
		Coefficients yaml.Node `yaml:"coefficients"`
	}
	if err := n.Decode(&w); err != nil {
		return err
	}
	out := Curve{Type: w.Type, Knots: w.Knots}
	if w.Coefficients.Kind == 0 {
		return errors.New("curve_data_: missing coefficients")
	}
	switch w.Type {
	case Poly:
		if err := w.Coefficients.Decode(&out.Coefficients); err != nil {
			return fmt.Errorf("curve_data_: poly coefficients must be a list of numbers: %w", err)
		}
	case Spline, Akima:
		var rows [][]float64
		if err := w.Coefficients.Decode(&rows); err != nil {
			return fmt.Errorf("curve_data_: %s coefficients must be rows [a, b, c, d]: %w", w.Type, err)
		}
		pieces, err := toPieces(rows)
		if err != nil {
			return err
		}
		out.Pieces = pieces
	default:
		return fmt.Errorf("curve_data_: unknown type %q (want poly, spline or akima)", w.Type)
	}
	*c = out
	return nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (c *Curve) UnmarshalJSON(b []byte) error {
	var w struct {
		Type         string          `json:"type"`
		Knots        []float64       `json:"knots"`
		Coefficients json.RawMessage `json:"coefficients"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	out := Curve{Type: w.Type, Knots: w.Knots}
	if len(w.Coefficients) == 0 {
		return errors.New("curve_data_: missing coefficients")
	}
	switch w.Type {
	case Poly:
		if err := json.Unmarshal(w.Coefficients, &out.Coefficients); err != nil {
			return fmt.Errorf("curve_data_: poly coefficients must be a list of numbers: %w", err)
		}
	case Spline, Akima:
		var rows [][]float64
		if err := json.Unmarshal(w.Coefficients, &rows); err != nil {
			return fmt.Errorf("curve_data_: %s coefficients must be rows [a, b, c, d]: %w", w.Type, err)
		}
		pieces, err := toPieces(rows)
		if err != nil {
			return err
		}
		out.Pieces = pieces
	default:
		return fmt.Errorf("curve_data_: unknown type %q (want poly, spline or akima)", w.Type)
	}
	*c = out
	return nil
}

func toPieces(rows [][]float64) ([][4]float64, error) {
	out := make([][4]float64, len(rows))
	for i, r := range rows {
		if len(r) != 4 {
			return nil, fmt.Errorf("curve_data_: coefficient row %d has %d numbers, want 4", i, len(r))
		}
		copy(out[i][:], r)
	}
	return out, nil
}

func (c Curve) wire() curveWire {
	w := curveWire{Type: c.Type, Knots: c.Knots}
	if c.Type == Poly {
		w.Coefficients = nonNil(c.Coefficients)
	} else {
		rows := make([][]float64, len(c.Pieces))
		for i, p := range c.Pieces {
			rows[i] = []float64{p[0], p[1], p[2], p[3]}
		}
		w.Coefficients = rows
	}
	return w
}

func nonNil(s []float64) []float64 {
	if s == nil {
		return []float64{}
	}
	return s
}

// MarshalYAML implements yaml.Marshaler.
func (c Curve) MarshalYAML() (any, error) { return c.wire(), nil }

// MarshalJSON implements json.Marshaler.
func (c Curve) MarshalJSON() ([]byte, error) { return json.Marshal(c.wire()) }

// Validate checks the curve's shape: a known type, finite numbers, and for splines strictly
// increasing knots with one piece per interval. An empty poly is valid (it solves nothing).
func (c Curve) Validate() error {
	switch c.Type {
	case Poly:
		for _, a := range c.Coefficients {
			if !finite(a) {
				return fmt.Errorf("%w: poly coefficient %v is not finite", ErrInvalid, a)
			}
		}
	case Spline, Akima:
		if len(c.Knots) < 2 {
			return fmt.Errorf("%w: a %s needs at least 2 knots, has %d", ErrInvalid, c.Type, len(c.Knots))
		}
		if len(c.Pieces) != len(c.Knots)-1 {
			return fmt.Errorf("%w: a %s with %d knots needs %d coefficient rows, has %d", ErrInvalid, c.Type, len(c.Knots), len(c.Knots)-1, len(c.Pieces))
		}
		for i, t := range c.Knots {
			if !finite(t) || i > 0 && !(t > c.Knots[i-1]) {
				return fmt.Errorf("%w: %s knots must be finite and strictly increasing: %v", ErrInvalid, c.Type, c.Knots)
			}
		}
		for _, p := range c.Pieces {
			for _, a := range p {
				if !finite(a) {
					return fmt.Errorf("%w: %s coefficient %v is not finite", ErrInvalid, c.Type, a)
				}
			}
		}
	default:
		return fmt.Errorf("%w: unknown curve type %q (want poly, spline or akima)", ErrInvalid, c.Type)
	}
	return nil
}

// Y evaluates the curve at x, rounded to 10 decimals (docs/algorithms.md, "Calibration curves"). Spline pieces
// extrapolate beyond the end knots.
func (c Curve) Y(x float64) float64 {
	switch c.Type {
	case Poly:
		return round10(horner(c.Coefficients, x))
	case Spline, Akima:
		if len(c.Pieces) == 0 || len(c.Knots) == 0 {
			return math.NaN()
		}
		i := c.piece(x)
		p := c.Pieces[i]
		u := x - c.Knots[i]
		return round10(p[0] + u*(p[1]+u*(p[2]+u*p[3])))
	}
	return math.NaN()
}

// piece is (number of knots ≤ x) − 1, clamped to [0, m−1].
func (c Curve) piece(x float64) int {
	n := 0
	for _, t := range c.Knots {
		if t <= x {
			n++
		}
	}
	return max(0, min(n-1, len(c.Pieces)-1))
}

// Solve returns every real x with Y(x) = y, sorted ascending (docs/algorithms.md, "Calibration curves").
func (c Curve) Solve(y float64) []float64 {
	switch c.Type {
	case Poly:
		if len(c.Coefficients) == 0 {
			return nil
		}
		p := slices.Clone(c.Coefficients)
		p[len(p)-1] -= y
		sols := realRoots(p, 1e-10, true)
		slices.Sort(sols)
		return sols
	case Spline, Akima:
		return c.solvePieces(y)
	}
	return nil
}

func (c Curve) solvePieces(y float64) []float64 {
	const tol = 1e-9
	m := len(c.Pieces)
	var xs []float64
	for i, p := range c.Pieces {
		t0 := c.Knots[i]
		h := c.Knots[i+1] - t0
		lo, hi := 0.0, h
		switch {
		case m == 1:
			lo, hi = math.Inf(-1), math.Inf(1)
		case i == 0:
			lo = math.Inf(-1)
		case i == m-1:
			hi = math.Inf(1)
		}
		a0 := p[0] - y
		if math.Abs(p[1]) < 1e-12 && math.Abs(p[2]) < 1e-12 && math.Abs(p[3]) < 1e-12 {
			if math.Abs(a0) < 1e-12 { // a flat piece at y: its finite ends solve it
				for _, u := range []float64{lo, hi} {
					if finite(u) {
						xs = append(xs, t0+u)
					}
				}
			}
			continue
		}
		for _, u := range realRoots([]float64{p[3], p[2], p[1], a0}, 1e-9, false) {
			if u < lo-tol || u > hi+tol {
				continue
			}
			xs = append(xs, t0+math.Max(lo, math.Min(hi, u)))
		}
	}
	slices.Sort(xs)
	out := xs[:0]
	for _, x := range xs {
		if len(out) > 0 && x-out[len(out)-1] < 1e-7 {
			continue
		}
		out = append(out, x)
	}
	return out
}

// horner evaluates a polynomial given highest degree first.
func horner(coef []float64, x float64) float64 {
	var y float64
	for _, a := range coef {
		y = y*x + a
	}
	return y
}

func round10(x float64) float64 {
	if !finite(x) {
		return x
	}
	r := math.Round(x*1e10) / 1e10
	if !finite(r) { // |x| so large that x·1e10 overflows: nothing to round
		return x
	}
	return r
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
