package calibration

import (
	"errors"
	"math"
	"os"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// The worked examples of docs/algorithms.md, "Calibration curves" and the original's calibration edge cases.
func TestCurveForward(t *testing.T) {
	t.Parallel()
	sp := Curve{Type: Spline, Knots: []float64{0, 1, 2}, Pieces: [][4]float64{{0, 1.5, 0, -0.5}, {1, 0, -1.5, 0.5}}}
	for _, tc := range []struct {
		name  string
		curve Curve
		x, y  float64
	}{
		{"poly [3,2] at 4", PolyCurve(3, 2), 4, 14},
		{"poly rounds to 10 dp", PolyCurve(1.0/3, 0), 1, 0.3333333333},
		{"spline inside first piece", sp, 0.5, 0.6875},
		{"spline inside last piece", sp, 1.5, 0.6875},
		{"spline at a knot", sp, 1, 1},
		{"spline extrapolates left", sp, -1, -1},
		{"spline extrapolates right", sp, 2.5, -0.6875},
		{"2-knot spline", Curve{Type: Spline, Knots: []float64{0, 2}, Pieces: [][4]float64{{1, 2, 0, 0}}}, 1, 3},
		{"akima evaluates like a spline", Curve{Type: Akima, Knots: []float64{0, 1, 2}, Pieces: sp.Pieces}, 0.5, 0.6875},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.curve.Y(tc.x); !near(got, tc.y, 1e-12) {
				t.Fatalf("Y(%v) = %v, want %v", tc.x, got, tc.y)
			}
		})
	}
}

func TestCurveSolve(t *testing.T) {
	t.Parallel()
	sp := Curve{Type: Spline, Knots: []float64{0, 1, 2}, Pieces: [][4]float64{{0, 1.5, 0, -0.5}, {1, 0, -1.5, 0.5}}}
	for _, tc := range []struct {
		name  string
		curve Curve
		y     float64
		want  []float64
	}{
		{"poly line", PolyCurve(3, 2), 14, []float64{4}},
		{"poly quadratic, both roots ascending", PolyCurve(5, 3, 2), 12, []float64{-1.745683229480096, 1.145683229480096}},
		{"no real root", PolyCurve(1, 0, 1), 0, nil},
		{"empty poly", PolyCurve(), 1, nil},
		{"constant poly", PolyCurve(2), 1, nil},
		{"spline four solutions", sp, 0.5, []float64{-1.879385, 0.347296, 1.652704, 3.879385}},
		{"spline root at a shared knot counted once", sp, 1, []float64{-2, 1, 4}},
		{"flat piece contributes its ends", Curve{Type: Spline, Knots: []float64{0, 1, 2}, Pieces: [][4]float64{{0, 1, 0, 0}, {1, 0, 0, 0}}}, 1, []float64{1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := tc.curve.Solve(tc.y)
			if len(got) != len(tc.want) {
				t.Fatalf("Solve(%v) = %v, want %v", tc.y, got, tc.want)
			}
			for i := range got {
				if !near(got[i], tc.want[i], 1e-6) {
					t.Fatalf("Solve(%v) = %v, want %v", tc.y, got, tc.want)
				}
			}
		})
	}
}

func TestYToX(t *testing.T) {
	t.Parallel()
	sp := Curve{Type: Spline, Knots: []float64{0, 1, 2}, Pieces: [][4]float64{{0, 1.5, 0, -0.5}, {1, 0, -1.5, 0.5}}}
	rec := func(x ...float64) Recorded { return Recorded{X: x, Y: make([]float64, len(x))} }
	odFile, err := os.ReadFile("testdata/od600.yaml")
	if err != nil {
		t.Fatal(err)
	}
	od, err := Parse(odFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		cal     Calibration
		y       float64
		enforce bool
		want    float64
		err     error
	}{
		{"quadratic picks the in-domain root", Calibration{Curve: PolyCurve(5, 3, 2), Recorded: rec(0, 2)}, 12, true, 1.145683229480096, nil},
		{"quadratic without data takes the smallest root", Calibration{Curve: PolyCurve(5, 3, 2)}, 12, false, -1.745683229480096, nil},
		{"spline with recorded range", Calibration{Curve: sp, Recorded: rec(0, 2)}, 0.5, true, 0.347296, nil},
		{"2-knot spline inverse", Calibration{Curve: Curve{Type: Spline, Knots: []float64{0, 2}, Pieces: [][4]float64{{1, 2, 0, 0}}}}, 3, false, 1, nil},
		{"no solution", Calibration{Curve: PolyCurve(1, 0, 1)}, 0, false, 0, ErrNoSolution},
		{"one root above the domain, enforced", Calibration{Curve: PolyCurve(1, 0), Recorded: rec(0, 1)}, 2, true, 0, ErrAboveDomain},
		{"one root below the domain, enforced", Calibration{Curve: PolyCurve(1, 0), Recorded: rec(0, 1)}, -1, true, 0, ErrBelowDomain},
		{"one root outside, not enforced", Calibration{Curve: PolyCurve(1, 0), Recorded: rec(0, 1)}, 2, false, 2, nil},
		{"snap within 1e-12", Calibration{Curve: PolyCurve(1, 0), Recorded: rec(0, 1)}, 1 + 1e-13, true, 1, nil},
		{"two roots outside: the nearer", Calibration{Curve: PolyCurve(1, 0, -4), Recorded: rec(2.5, 3)}, 0, false, 2, nil},
		{"two roots outside enforced: above", Calibration{Curve: PolyCurve(1, 0, -4), Recorded: rec(0.5, 1)}, 0, true, 0, ErrAboveDomain},
		{"OD example: 0.44 V is OD 1.0", od, 0.44, true, 1.0, nil},
		{"OD example: 0.9 V is above the recorded ODs", od, 0.9, true, 0, ErrAboveDomain},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := tc.cal.YToX(tc.y, tc.enforce)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("YToX(%v) = %v, %v; want error %v", tc.y, got, err, tc.err)
				}
				return
			}
			if err != nil || !near(got, tc.want, 1e-6) {
				t.Fatalf("YToX(%v) = %v, %v; want %v", tc.y, got, err, tc.want)
			}
		})
	}
}

func TestPumpConversions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		cal      Calibration
		ml, secs float64 // ml ⇒ secs
		s2, ml2  float64 // s2 seconds ⇒ ml2
	}{
		{"slope 0.5 bias 0.1 (docs/algorithms.md, Calibration curves)", Calibration{Curve: PolyCurve(0.5, 0.1)}, 1.1, 2.0, 0.5, 0.35},
		{"profiles.md B4.2", mustLoad(t, "testdata/pump.yaml"), 1.04, 2.0, 0.5, 0.26},
		{"default pump", DefaultPump(), 0.0911, 1, 10, 0.911},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := tc.cal.Seconds(tc.ml)
			if err != nil || !near(s, tc.secs, 1e-9) {
				t.Fatalf("Seconds(%v) = %v, %v; want %v", tc.ml, s, err, tc.secs)
			}
			if v := tc.cal.ML(tc.s2); !near(v, tc.ml2, 1e-9) {
				t.Fatalf("ML(%v) = %v, want %v", tc.s2, v, tc.ml2)
			}
		})
	}
	stir := mustLoad(t, "testdata/stirring.yaml")
	if dc, err := stir.YToX(500, false); err != nil || !near(dc, 28, 1e-9) {
		t.Fatalf("stirring inverse of 500 RPM = %v, %v; want 28", dc, err)
	}
}

func TestNewPumpFitsThroughOrigin(t *testing.T) {
	t.Parallel()
	secs := []float64{1, 2, 4}
	ml := []float64{0.51, 0.99, 2.01}
	c, err := NewPump("p", "pio01", DefaultPump().CreatedAt, secs, ml, 250, 100, -1)
	if err != nil {
		t.Fatal(err)
	}
	// Σxy/Σx² = (0.51 + 1.98 + 8.04)/21
	if want := 10.53 / 21; !near(c.Curve.Coefficients[0], want, 1e-12) || c.Curve.Coefficients[1] != 0 {
		t.Fatalf("curve %v, want [%v 0]", c.Curve.Coefficients, want)
	}
	for _, bad := range []struct{ s, m []float64 }{{nil, nil}, {[]float64{1}, []float64{1, 2}}, {[]float64{1, 2}, []float64{-1, -2}}} {
		if _, err := NewPump("p", "u", DefaultPump().CreatedAt, bad.s, bad.m, 250, 100, -1); !errors.Is(err, ErrInvalid) {
			t.Errorf("fit of %v, %v: err %v, want ErrInvalid", bad.s, bad.m, err)
		}
	}
}

func mustLoad(t *testing.T, path string) Calibration {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}
