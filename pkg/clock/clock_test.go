package clock

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

func TestScaledRunsFaster(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, err := NewScaled(60)
		if err != nil {
			t.Fatal(err)
		}
		start := c.Now()
		if err := c.Sleep(context.Background(), time.Minute); err != nil {
			t.Fatal(err)
		}
		if got := c.Now().Sub(start); got != time.Minute {
			t.Fatalf("virtual elapsed %v, want 1m", got)
		}
	})
}

func TestScaledTickerCarriesVirtualTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := NewScaled(10)
		start := c.Now()
		tk := c.NewTicker(10 * time.Second)
		defer tk.Stop()
		for i := 1; i <= 3; i++ {
			got := (<-tk.C()).Sub(start)
			if want := time.Duration(i) * 10 * time.Second; got != want {
				t.Fatalf("tick %d at %v, want %v", i, got, want)
			}
		}
	})
}

func TestSleepHonoursContext(t *testing.T) {
	for _, c := range []Clock{Real{}, mustScaled(t, 2)} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := c.Sleep(ctx, time.Hour); err == nil {
			t.Fatalf("%T: Sleep on a cancelled context returned nil", c)
		}
	}
}

func TestNewScaledRejectsBadSpeed(t *testing.T) {
	for _, s := range []float64{0, -1, 2e6} {
		if _, err := NewScaled(s); err == nil {
			t.Errorf("speed %v accepted", s)
		}
	}
}

func mustScaled(t *testing.T, s float64) *Scaled {
	c, err := NewScaled(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A non-positive period used to panic on Real (time.NewTicker) and tick every nanosecond on
// Scaled; it must do neither.
func TestNonPositiveTickerNeverTicks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, c := range []Clock{Real{}, mustScaled(t, 600)} {
			for _, d := range []time.Duration{0, -1, -time.Hour, time.Duration(-1 << 63)} {
				tk := c.NewTicker(d)
				timeout := time.After(time.Hour)
				select {
				case <-tk.C():
					t.Errorf("%T: ticker of %v ticked", c, d)
				case <-timeout:
				}
				tk.Stop()
			}
		}
	})
}
