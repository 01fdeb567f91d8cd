package jobs

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/clock"
)

// slowStopClock is the real clock (virtual in a bubble) whose tickers take a second of clock
// time to stop, and count the stops that completed.
type slowStopClock struct {
	clock.Real
	stopped *atomic.Int32
}

func (c slowStopClock) NewTicker(d time.Duration) clock.Ticker {
	return slowStopTicker{Ticker: c.Real.NewTicker(d), stopped: c.stopped}
}

type slowStopTicker struct {
	clock.Ticker
	stopped *atomic.Int32
}

func (t slowStopTicker) Stop() {
	time.Sleep(time.Second)
	t.Ticker.Stop()
	t.stopped.Add(1)
}

// Stop returns only once the timer's goroutine has finished (it used to cancel and return,
// leaving the goroutine to outlive the job's Run).
func TestRepeatStopJoinsItsGoroutine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var stopped atomic.Int32
		r := newRepeat(context.Background(), slowStopClock{stopped: &stopped}, 0, time.Minute)
		<-r.C
		<-r.C // the loop is on its ticker now
		r.Stop()
		if stopped.Load() != 1 {
			t.Fatal("Stop returned before the timer's goroutine stopped its ticker")
		}
		r.Stop() // a second Stop is harmless
	})
}

// A non-positive period ticks once, never back to back.
func TestRepeatNonPositivePeriodTicksOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, period := range []time.Duration{0, -time.Second, time.Duration(-1 << 63)} {
			r := newRepeat(context.Background(), clock.Real{}, time.Second, period)
			<-r.C
			time.Sleep(time.Hour)
			select {
			case <-r.C:
				t.Errorf("period %v: ticked again", period)
			default:
			}
			r.Stop()
		}
	})
}
