package jobs

import (
	"math"
	"testing"
)

// close6 compares to the printed digits of the worked examples (six significant figures).
func close6(got, want float64) bool {
	if want == 0 {
		return math.Abs(got) < 1e-12
	}
	return math.Abs(got-want) <= 5e-6*math.Abs(want)
}

// Worked example A (docs/algorithms.md, "Start from the warm-up"): initialisation from five warm-up readings.
func TestEKFWorkedExampleA(t *testing.T) {
	t.Parallel()
	raw := []float64{0.050, 0.051, 0.049, 0.050, 0.052}
	f := odMedian(raw)
	if f != 0.050 {
		t.Fatalf("normalisation factor %v, want 0.050", f)
	}
	y := make([][]float64, len(raw))
	for i, v := range raw {
		y[i] = []float64{v / f}
	}
	s, err := warmupStart(y, 1.0/720, 5)
	if err != nil {
		t.Fatal(err)
	}
	filter, err := newEKF(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"R", s.R[0], 0.000546319},
		{"P0[0]", s.P0[0], 0.00344789},
		{"P0[1]", s.P0[1], 0.0009},
		{"P0[2]", s.P0[2], 0.0025},
		{"b", filter.base, 0.00163896},
		{"Q[0]", s.Q[0], 1e-8}, {"Q[1]", s.Q[1], 5e-8}, {"Q[2]", s.Q[2], 5e-6},
	} {
		if !close6(c.got, c.want) {
			t.Errorf("%s = %.9g, want %.9g", c.name, c.got, c.want)
		}
	}
	if s.X0 != [3]float64{0, 0, 0} {
		t.Errorf("x0 = %v, want [0 0 0]", s.X0)
	}
}

// Worked example B (docs/algorithms.md, "One update"): three updates, the third an outlier, and the
// dilution variant.
func TestEKFWorkedExampleB(t *testing.T) {
	t.Parallel()
	start := ekfStart{P0: [3]float64{0.0025, 0.0009, 0.0025}, Q: [3]float64{1e-8, 5e-8, 5e-6}, R: []float64{1e-4}, Tau: 5}
	f, err := newEKF(start)
	if err != nil {
		t.Fatal(err)
	}
	if !close6(f.base, 3e-4) || f.logNoise != f.base {
		t.Fatalf("b = %v, L = %v, want 3e-4", f.base, f.logNoise)
	}
	for i, want := range []struct {
		y, z, s, u float64
		outlier    bool
		k0         float64
		x          [3]float64
		p00        float64
	}{
		{1.01, 0.00995033, 0.00280001, 0.18804, false, 0.892858, [3]float64{0.00888423, 4.44211e-6, 8.526e-9}, 2.67857e-4},
		{1.02, 0.0198026, 5.67869e-4, 0.45818, false, 0.471710, [3]float64{0.0140345, 3.10525e-5, 1.5096e-7}, 1.41513e-4},
		{2.00, 0.693147, 0.0126761, 32.319, true, 0.0111649, [3]float64{0.0216168, 1.37203e-4, 9.936e-7}, 1.39946e-4},
	} {
		step, err := f.update([]float64{want.y}, 1.0/720, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name      string
			got, want float64
		}{
			{"z", step.Z, want.z}, {"S", step.S, want.s}, {"u", step.U, want.u}, {"K0", step.K0, want.k0},
			{"x0", f.x.AtVec(0), want.x[0]}, {"x1", f.x.AtVec(1), want.x[1]}, {"x2", f.x.AtVec(2), want.x[2]},
			{"P00", f.p.At(0, 0), want.p00},
		} {
			// The printed u and the tiny drift term carry 5 figures.
			if !close6(c.got, c.want) && math.Abs(c.got-c.want) > 5e-5*math.Abs(c.want) {
				t.Errorf("step %d: %s = %.9g, want %.9g", i+1, c.name, c.got, c.want)
			}
		}
		if step.Outlier != want.outlier {
			t.Errorf("step %d: outlier = %v", i+1, step.Outlier)
		}
		if i == 0 && !close6(f.odFiltered(), 1.008924) {
			t.Errorf("od_filtered after step 1 = %.9g, want 1.008924", f.odFiltered())
		}
		if !close6(f.logNoise, 3e-4) {
			t.Errorf("step %d: L = %v, want 3e-4", i+1, f.logNoise)
		}
	}

	d, _ := newEKF(start)
	step, err := d.update([]float64{0.8}, 1.0/720, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"S", step.S, 0.0528000}, {"u", step.U, -0.97111}, {"K0", step.K0, 0.994318}, {"x0", d.x.AtVec(0), -0.221876}} {
		if !close6(c.got, c.want) {
			t.Errorf("dilution: %s = %.9g, want %.9g", c.name, c.got, c.want)
		}
	}
	if math.Abs(d.growthRate()) > 1e-3 || d.logNoise != d.base {
		t.Errorf("dilution: μ moved to %v or L changed to %v", d.growthRate(), d.logNoise)
	}
}

func TestEKFEdgeCases(t *testing.T) {
	t.Parallel()
	t.Run("one warm-up reading gives R = 1e-3", func(t *testing.T) {
		t.Parallel()
		s, err := warmupStart([][]float64{{1, 1}}, 1.0/720, 5)
		if err != nil || s.R[0] != 1e-3 || s.R[1] != 1e-3 {
			t.Fatalf("R = %v, %v", s.R, err)
		}
	})
	t.Run("growth rate stays within [-1, 3]", func(t *testing.T) {
		t.Parallel()
		f, _ := newEKF(ekfStart{P0: [3]float64{1, 1, 1}, Q: [3]float64{1e-8, 5e-8, 5e-6}, R: []float64{1e-4}, Tau: 100})
		for i := range 50 {
			if _, err := f.update([]float64{math.Exp(float64(i))}, 1.0/720, false); err != nil {
				t.Fatal(err)
			}
			if mu := f.growthRate(); mu < -1 || mu > 3 {
				t.Fatalf("μ = %v", mu)
			}
		}
	})
	t.Run("noisier sensor gets the larger R in its own position", func(t *testing.T) {
		t.Parallel()
		// columns: channel "2" (quiet) then "1" (noisy), the descending channel order
		y := [][]float64{{1, 1.1}, {1.001, 0.9}, {0.999, 1.12}, {1, 0.88}, {1.002, 1.09}, {1, 0.91}}
		s, err := warmupStart(y, 1.0/720, 5)
		if err != nil || !(s.R[1] > 10*s.R[0]) {
			t.Fatalf("R = %v, %v", s.R, err)
		}
	})
	t.Run("bad starts are refused", func(t *testing.T) {
		t.Parallel()
		for _, s := range []ekfStart{
			{P0: [3]float64{0, 1, 1}, Q: [3]float64{1, 1, 1}, R: []float64{1}, Tau: 5},
			{P0: [3]float64{1, 1, 1}, Q: [3]float64{1, 1, 1}, R: []float64{-1}, Tau: 5},
			{X0: [3]float64{math.NaN()}, P0: [3]float64{1, 1, 1}, Q: [3]float64{1, 1, 1}, R: []float64{1}, Tau: 5},
			{P0: [3]float64{1, 1, 1}, Q: [3]float64{1, 1, 1}, R: []float64{1}, Tau: 2},
			{P0: [3]float64{1, 1, 1}, Q: [3]float64{1, 1, 1}, Tau: 5},
		} {
			if _, err := newEKF(s); err == nil {
				t.Errorf("start %+v accepted", s)
			}
		}
	})
	t.Run("wrong number of observations is an error, not a crash", func(t *testing.T) {
		t.Parallel()
		f, _ := newEKF(ekfStart{P0: [3]float64{1, 1, 1}, Q: [3]float64{1, 1, 1}, R: []float64{1, 1}, Tau: 5})
		if _, err := f.update([]float64{1}, 1.0/720, false); err == nil {
			t.Fatal("accepted")
		}
	})
}

// One filter update per OD reading (every 5 s per unit): the target is well under 10 µs and
// a handful of small allocations, so a leader with dozens of units never notices it.
func BenchmarkEKFUpdate(b *testing.B) {
	f, err := newEKF(ekfStart{P0: [3]float64{0.0025, 0.0009, 0.0025}, Q: [3]float64{1e-8, 5e-8, 5e-6}, R: []float64{1e-4, 2e-4}, Tau: 5})
	if err != nil {
		b.Fatal(err)
	}
	y := []float64{1.01, 0.99}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.update(y, 1.0/720, false); err != nil {
			b.Fatal(err)
		}
	}
}
