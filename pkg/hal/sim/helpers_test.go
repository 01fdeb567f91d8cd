package sim

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/clock"
)

// quietParams is DefaultParams with the culture frozen, for tests about something else.
func quietParams() Params {
	p := DefaultParams()
	p.MuOptPerHour = 0
	p.DeathPerHour = 0
	return p
}

// newUnit builds a unit on clock.Real, which is virtual time inside a synctest bubble.
func newUnit(t testing.TB, p Params) *Bioreactor {
	t.Helper()
	b, err := New(p, clock.Real{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wait sleeps d of virtual time.
func wait(t testing.TB, b *Bioreactor, d time.Duration) {
	t.Helper()
	if err := b.clk.Sleep(context.Background(), d); err != nil {
		t.Fatal(err)
	}
}

func setDuty(t testing.TB, b *Bioreactor, ch string, pct float64) {
	t.Helper()
	if err := b.Board().PWM[ch].SetDutyCycle(pct); err != nil {
		t.Fatal(err)
	}
}

func setLED(t testing.TB, b *Bioreactor, ch string, pct float64) {
	t.Helper()
	if err := b.Board().LEDs.SetIntensity(ch, pct); err != nil {
		t.Fatal(err)
	}
}

// rpmFromEdges is the reference RPM estimate: count·60/Σ intervals.
func rpmFromEdges(edges []time.Time) float64 {
	if len(edges) < 2 {
		return 0
	}
	sum := edges[len(edges)-1].Sub(edges[0]).Seconds()
	return float64(len(edges)-1) * 60 / sum
}

// readMean averages n photodiode readings per channel.
func readMean(t testing.TB, b *Bioreactor, n int) map[string]float64 {
	t.Helper()
	sum := map[string]float64{}
	for range n {
		v, err := b.Board().Photodiodes.ReadVolts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for k, x := range v {
			sum[k] += x / float64(n)
		}
	}
	return sum
}

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

// manualClock is a single-goroutine clock whose Sleep just moves time on, for benchmarks
// (synctest bubbles need a *testing.T).
type manualClock struct{ now time.Time }

func (c *manualClock) Now() time.Time { return c.now }

func (c *manualClock) Sleep(ctx context.Context, d time.Duration) error {
	c.now = c.now.Add(d)
	return ctx.Err()
}

func (c *manualClock) NewTicker(time.Duration) clock.Ticker { panic("manualClock: no tickers") }
