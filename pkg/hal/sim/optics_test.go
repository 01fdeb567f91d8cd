package sim

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

// REF normalisation (dark-subtracted signal over dark-subtracted REF) cancels a 10 % drop of
// the IR LED's output (spec B.11 #7), while the raw signal drops by it.
func TestREFCancelsLEDAging(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := quietParams()
		p.InitialOD = 1
		b := newUnit(t, p)
		dark := readMean(t, b, 20)
		setLED(t, b, "A", 80)
		ratio := func() (sig, norm float64) {
			v := readMean(t, b, 40)
			s := v["2"] - dark["2"]
			return s, s / (v["1"] - dark["1"])
		}
		sig0, norm0 := ratio()
		b.AgeIRLED(p.LEDAgingHours * -math.Log(0.9)) // output × 0.9
		sig1, norm1 := ratio()
		if drop := 1 - sig1/sig0; !near(drop, 0.1, 0.01) {
			t.Errorf("raw signal dropped %.1f %%, want 10 %%", 100*drop)
		}
		if change := norm1/norm0 - 1; math.Abs(change) > 0.005 {
			t.Errorf("REF-normalised signal changed %.2f %%, want < 0.5 %%", 100*change)
		}
	})
}

// Voltages at 80 % IR match B.5's figures and move the right way with X.
func TestOpticsLevels(t *testing.T) {
	t.Parallel()
	p := quietParams()
	p.Photodiodes = map[string]string{"1": "REF", "2": "90", "3": "135", "4": "180"}
	p.UnitGainSD, p.RefGainSD = 0, 0 // nominal unit
	for _, c := range []struct {
		x                    float64
		v90, v135, v180, ref float64 // expected, ±3 %
	}{
		{0, 0.024, 0.096, 1.44, 0.10},
		{1, 0.024 + 0.8*0.31*0.8, 0.096 + 0.8*0.5*0.8, 1.44 * math.Exp(-1), 0.10},
		{2, 0.024 + 0.8*0.31*2/1.5, 0.096 + 0.8*0.5*2/1.5, 1.44 * math.Exp(-2), 0.10},
	} {
		t.Run(fmt.Sprintf("X=%v", c.x), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				p := p
				p.InitialOD = c.x
				b := newUnit(t, p)
				setLED(t, b, "A", 80)
				v := readMean(t, b, 20)
				// The LED loses 0.4 %/K above 25 °C, so at 22 °C it is 1.2 % brighter.
				l := 1 - p.LEDTempCoeffPerK*(p.AmbientC-25)
				for ch, want := range map[string]float64{"1": c.ref, "2": c.v90, "3": c.v135, "4": c.v180} {
					want = want*l + p.DarkVolts
					if !near(v[ch], want, 0.03*want) {
						t.Errorf("channel %s: %v V, want %v", ch, v[ch], want)
					}
				}
			})
		})
	}
}

// With the IR LED off every channel reads about the dark offset; other LEDs leak a little.
func TestDark(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := quietParams()
		p.InitialOD = 2
		b := newUnit(t, p)
		for ch, v := range readMean(t, b, 10) {
			if !near(v, p.DarkVolts, 0.0005) {
				t.Errorf("dark channel %s: %v V", ch, v)
			}
		}
		setLED(t, b, "B", 100)
		for ch, v := range readMean(t, b, 10) {
			if want := p.DarkVolts + p.LeakageVolts; !near(v, want, 0.0005) {
				t.Errorf("channel %s with LED B on: %v V, want %v", ch, v, want)
			}
		}
	})
}

// ReadVolts returns exactly the configured channels, after the sampling time.
func TestChannels(t *testing.T) {
	t.Parallel()
	for name, m := range map[string]map[string]string{
		"default":    {"1": "REF", "2": "90"},
		"all angles": {"1": "REF", "2": "45", "3": "135", "4": "180"},
		"no REF":     {"3": "90"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				p := quietParams()
				p.Photodiodes = m
				p.SamplingTime = 2 * time.Second
				b := newUnit(t, p)
				start := time.Now()
				v, err := b.Board().Photodiodes.ReadVolts(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if d := time.Since(start); d != p.SamplingTime {
					t.Errorf("ReadVolts blocked %v, want %v", d, p.SamplingTime)
				}
				if got, want := slices.Sorted(maps.Keys(v)), slices.Sorted(maps.Keys(m)); !slices.Equal(got, want) {
					t.Errorf("channels %v, want %v", got, want)
				}
			})
		})
	}
}

// A 40-sample mean has CV ≈ 0.56 % (the reference fake's statistics) without stirring.
func TestNoiseLevel(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := quietParams()
		p.InitialOD = 1
		p.ShockProb = 0
		b := newUnit(t, p)
		setLED(t, b, "A", 80)
		var xs []float64
		for range 400 {
			v, err := b.Board().Photodiodes.ReadVolts(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			xs = append(xs, v["2"])
		}
		var m, s float64
		for _, x := range xs {
			m += x / float64(len(xs))
		}
		for _, x := range xs {
			s += (x - m) * (x - m) / float64(len(xs)-1)
		}
		if cv := math.Sqrt(s) / m; cv < 0.0048 || cv > 0.0064 {
			t.Errorf("CV %.3f %%, want ≈ 0.56 %%", 100*cv)
		}
	})
}

// The same seed and the same accesses give identical readings; another seed does not.
func TestDeterminism(t *testing.T) {
	t.Parallel()
	run := func(t *testing.T, seed int64) []map[string]float64 {
		var out []map[string]float64
		synctest.Test(t, func(t *testing.T) {
			p := DefaultParams()
			p.Seed = seed
			b := newUnit(t, p)
			setLED(t, b, "A", 80)
			setDuty(t, b, "1", 30)
			setDuty(t, b, "5", 40)
			for i := range 50 {
				v, err := b.Board().Photodiodes.ReadVolts(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				c, _ := b.Board().Thermometer.ReadCelsius(context.Background())
				e, _ := b.Board().Hall.Edges(context.Background(), time.Second)
				v["T"], v["edges"] = c, float64(len(e))
				if len(e) > 0 {
					v["edge0"] = float64(e[0].UnixNano())
				}
				out = append(out, v)
				if i%10 == 0 {
					setDuty(t, b, "2", 100)
					setDuty(t, b, "4", 100)
					wait(t, b, time.Second)
					setDuty(t, b, "2", 0)
					setDuty(t, b, "4", 0)
				}
				wait(t, b, 5*time.Second)
			}
		})
		return out
	}
	a, b, c := run(t, 7), run(t, 7), run(t, 8)
	for i := range a {
		if !maps.Equal(a[i], b[i]) {
			t.Fatalf("reading %d differs with the same seed: %v vs %v", i, a[i], b[i])
		}
	}
	if maps.Equal(a[0], c[0]) {
		t.Errorf("seeds 7 and 8 give the same first reading %v", a[0])
	}
}

// Right after a dose the scatter signal is up by ≈ β and relaxes with τ_s.
func TestMixingArtefact(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := quietParams()
		p.InitialOD = 1
		p.ShockProb = 0
		b := newUnit(t, p)
		setLED(t, b, "A", 80)
		setDuty(t, b, "2", 100)
		setDuty(t, b, "4", 100)
		wait(t, b, time.Second)
		setDuty(t, b, "2", 0)
		setDuty(t, b, "4", 0)
		just := readMean(t, b, 1)["2"] // read 0.85 s after the dose
		wait(t, b, 2*time.Minute)
		later := readMean(t, b, 10)["2"]
		want := 1 + p.MixingArtefact*math.Exp(-0.85/p.MixingTimeS)
		if r := just / later; !near(r, want, 0.015) {
			t.Errorf("post-dose/settled = %v, want ≈ %v", r, want)
		}
	})
}
