package sim

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

func TestStirring(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		kick bool    // 100 % for 0.5 s first, as the stirring job does
		duty float64 // %
		rpm  float64 // expected steady speed
	}{
		{"default pairing 30%", true, 30, 500},
		{"50%", true, 50, 1000},
		{"80%", true, 80, 1750},
		{"no kick above break-away", false, 30, 500},
		{"no kick below break-away", false, 18, 0},
		{"kick then above stall", true, 18, 200},
		{"kick then below stall", true, 15, 0}, // ω_ss = 125 RPM < 150: stalls
		{"dead band", true, 8, 0},
		{"clamped", true, 100, 2250},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				b := newUnit(t, quietParams())
				if c.kick {
					setDuty(t, b, "1", 100)
					wait(t, b, 500*time.Millisecond)
				}
				setDuty(t, b, "1", c.duty)
				wait(t, b, 15*time.Second)
				if got := b.Truth().RPM; !near(got, c.rpm, 0.001*c.rpm) {
					t.Fatalf("steady RPM %v, want %v", got, c.rpm)
				}
				edges, err := b.Board().Hall.Edges(context.Background(), 2*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				got := rpmFromEdges(edges)
				if !near(got, c.rpm, 0.02*c.rpm) {
					t.Errorf("RPM from %d edges %v, want %v ± 2 %%", len(edges), got, c.rpm)
				}
				if c.rpm == 0 && len(edges) != 0 {
					t.Errorf("%d edges from a stopped bar", len(edges))
				}
			})
		})
	}
}

// The edges of one window lie in it, are ordered, and are one revolution apart.
func TestEdgesTiming(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := newUnit(t, quietParams())
		setDuty(t, b, "1", 30)
		wait(t, b, 10*time.Second)
		start := time.Now()
		edges, err := b.Board().Hall.Edges(context.Background(), 4*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != 4*time.Second {
			t.Errorf("Edges blocked %v of clock time, want 4s", d)
		}
		if n := len(edges); n < 32 || n > 34 { // 500 RPM for 4 s ≈ 33.3 revolutions
			t.Fatalf("%d edges in 4 s at 500 RPM", n)
		}
		for i := 1; i < len(edges); i++ {
			gap := edges[i].Sub(edges[i-1]).Seconds()
			if !near(gap, 0.12, 0.12*0.06) { // period 120 ms, jitter σ 1 % on each end
				t.Errorf("edge gap %v s, want 0.12 s", gap)
			}
		}
		if edges[0].Before(start.Add(-10*time.Millisecond)) || edges[len(edges)-1].After(start.Add(4*time.Second+10*time.Millisecond)) {
			t.Errorf("edges %v … %v outside the window starting %v", edges[0], edges[len(edges)-1], start)
		}
	})
}

// Edges honours its context.
func TestEdgesCancelled(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := newUnit(t, quietParams())
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := b.Board().Hall.Edges(ctx, time.Second); err == nil {
			t.Error("Edges on a cancelled context returned nil error")
		}
	})
}

// More liquid slows the bar: ω_ss ∝ 1 − 0.004·(V − 15).
func TestStirringVolumeLoad(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := quietParams()
		p.InitialVolumeML, p.EffluxVolumeML = 30, 30
		b := newUnit(t, p)
		setDuty(t, b, "1", 30)
		wait(t, b, 15*time.Second)
		if got, want := b.Truth().RPM, 500*(1-0.004*15); !near(got, want, 0.5) {
			t.Errorf("RPM at 30 mL %v, want %v", got, want)
		}
	})
}
