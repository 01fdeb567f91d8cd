package periph

import (
	"context"
	"math"
	"testing"
	"time"
)

// jittered are 40 sample times over 0.85 s with the OD reading's golden-ratio spacing.
func jittered() []float64 {
	var ts []float64
	t := 0.0
	for k := range 40 {
		ts = append(ts, t)
		_, f := math.Modf(0.618034 * float64(k))
		t += 0.85 / 39 * f
	}
	return ts
}

func TestFitHum(t *testing.T) {
	t.Parallel()
	ts := jittered()
	series := func(f func(t float64) float64) []float64 {
		var ys []float64
		for _, x := range ts {
			ys = append(ys, f(x))
		}
		return ys
	}
	for _, tc := range []struct {
		name   string
		ys     []float64
		hz     float64
		want   float64
		tol    float64
		minAIC bool
	}{
		{"constant", series(func(float64) float64 { return 1 }), 60, 1, 1e-9, true},
		{"constant negative", series(func(float64) float64 { return -2 }), 50, -2, 1e-9, true},
		{"50 Hz hum around 0.3 V", series(func(x float64) float64 { return 0.3 + 0.05*math.Sin(2*math.Pi*50*x+1) }), 50, 0.3, 1e-9, true},
		{"a ramp is about its mean", series(func(x float64) float64 { return x }), 60, mean(ts), 0.05, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := fitHum(ts, tc.ys, tc.hz)
			if math.Abs(f.offset-tc.want) > tc.tol {
				t.Fatalf("offset %v, want %v", f.offset, tc.want)
			}
			if tc.minAIC && !math.IsInf(f.aic, -1) {
				t.Fatalf("aic %v, want −∞ for a perfect fit", f.aic)
			}
		})
	}
	hum50 := series(func(x float64) float64 { return 0.3 + 0.05*math.Sin(2*math.Pi*50*x) + 0.001*math.Sin(37*x) })
	if got := mainsHz(ts, hum50); got != 50 {
		t.Fatalf("mainsHz of a 50 Hz hum = %v", got)
	}
	if got := mainsHz(ts, series(func(float64) float64 { return 1 })); got != 60 {
		t.Fatalf("mainsHz of a tie = %v, want 60", got)
	}
	// Evenly spaced samples 1/60 s apart alias the 60 Hz terms: singular, so the mean.
	flat := []float64{0, 1.0 / 60, 2.0 / 60, 3.0 / 60}
	if f := fitHum(flat, []float64{1, 2, 3, 4}, 60); f.offset != 2.5 {
		t.Fatalf("singular fit: offset %v, want the mean 2.5", f.offset)
	}
}

func TestTrimExtremes(t *testing.T) {
	t.Parallel()
	ts, ys := trimExtremes([]float64{0, 1, 2, 3, 4}, []float64{1, 2, 100, 3, -4})
	if len(ys) != 3 || ys[0] != 1 || ys[2] != 3 || ts[1] != 1 {
		t.Fatalf("trimmed %v %v", ts, ys)
	}
	if _, ys := trimExtremes([]float64{0, 1, 2}, []float64{5, 5, 5}); len(ys) != 2 {
		t.Fatalf("constant: %v (one sample goes when min and max coincide)", ys)
	}
}

// A photodiode on the HAT MCU with mains hum reads as its offset; an ADS1114 one as its mean.
func TestPhotodiodesHum(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	start := clk.Now()
	hum := func(ctx context.Context) (float64, error) {
		x := clk.Now().Sub(start).Seconds()
		return 0.2 + 0.05*math.Sin(2*math.Pi*60*x), nil
	}
	pds := &Photodiodes{clk: clk, n: odSamples, span: odSpan, chans: []pdChannel{
		{name: "1", read: hum, hum: true},
		{name: "2", read: func(context.Context) (float64, error) { return 0.7, nil }},
	}}
	got, err := pds.ReadVolts(bg)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got["1"]-0.2) > 1e-6 || got["2"] != 0.7 || pds.mainsHz != 60 {
		t.Fatalf("volts %v, mains %v Hz", got, pds.mainsHz)
	}
	var slept time.Duration
	for _, d := range clk.slept() {
		slept += d
	}
	if slept < 400*time.Millisecond || slept > odSpan {
		t.Fatalf("the reading slept %v, want about half of %v (golden-ratio spacing)", slept, odSpan)
	}
}

func mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}
