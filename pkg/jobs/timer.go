package jobs

import (
	"context"
	"sync"
	"time"

	"github.com/pioreactor/pioreactord/pkg/clock"
)

// repeat is the reference's RepeatedTimer (docs/jobs.md, "Conventions") as a channel: the first tick
// comes after runAfter, then one every period. Pausing is the reader's business (it ignores
// ticks while sleeping), so the grid never shifts. A period ≤ 0 ticks once, after runAfter:
// callers range-check their periods, and a missed check must never mean "tick constantly".
//
// Its goroutine ends when ctx ends or on Stop, and Stop waits for it: a job that stops its
// timers before Run returns leaves nothing running behind it.
type repeat struct {
	C      chan time.Time
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

func newRepeat(ctx context.Context, clk clock.Clock, runAfter, period time.Duration) *repeat {
	ctx, cancel := context.WithCancel(ctx)
	r := &repeat{C: make(chan time.Time, 1), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.loop(ctx, clk, runAfter, period)
	}()
	return r
}

func (r *repeat) loop(ctx context.Context, clk clock.Clock, runAfter, period time.Duration) {
	if err := clk.Sleep(ctx, runAfter); err != nil {
		return
	}
	if !r.send(ctx, clk.Now()) || period <= 0 {
		return
	}
	t := clk.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C():
			if !r.send(ctx, now) {
				return
			}
		}
	}
}

// send hands over a tick, or drops it if the previous one is still unread.
func (r *repeat) send(ctx context.Context, now time.Time) bool {
	select {
	case r.C <- now:
	case <-ctx.Done():
		return false
	default:
	}
	return true
}

// Stop ends the timer and waits until its goroutine has returned. Safe to call twice.
func (r *repeat) Stop() {
	r.once.Do(r.cancel)
	<-r.done
}
