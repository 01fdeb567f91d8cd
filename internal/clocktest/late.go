// Package clocktest holds clocks for tests that more than one test package needs.
package clocktest

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/pioreactor/pioreactord/pkg/clock"
)

// Late is a clock whose every wake-up (a Sleep, a tick) comes late by a random 0 to 2·Mean,
// as a job's do on a simulated clock S times faster than real time: a millisecond of
// scheduler latency is then S ms of virtual time. Now is the underlying clock's.
type Late struct {
	clock.Clock
	mean time.Duration
	mu   sync.Mutex
	rng  *rand.Rand
}

// NewLate wraps c; the seed makes the latencies repeatable.
func NewLate(c clock.Clock, mean time.Duration, seed uint64) *Late {
	return &Late{Clock: c, mean: mean, rng: rand.New(rand.NewPCG(seed, 1))}
}

func (c *Late) lag() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Duration(2 * c.rng.Float64() * float64(c.mean))
}

// Sleep waits d and then the latency; a wait of nothing does not wake up late.
func (c *Late) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return c.Clock.Sleep(ctx, d)
	}
	return c.Clock.Sleep(ctx, d+c.lag())
}

// NewTicker delivers each tick late (a tick still pending when the next is due is dropped,
// as a time.Ticker's are).
func (c *Late) NewTicker(d time.Duration) clock.Ticker {
	ctx, cancel := context.WithCancel(context.Background())
	t := &lateTicker{inner: c.Clock.NewTicker(d), c: make(chan time.Time, 1), cancel: cancel}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.inner.C():
				if c.Clock.Sleep(ctx, c.lag()) != nil {
					return
				}
				select {
				case t.c <- c.Now():
				default:
				}
			}
		}
	}()
	return t
}

type lateTicker struct {
	inner  clock.Ticker
	c      chan time.Time
	cancel context.CancelFunc
}

func (t *lateTicker) C() <-chan time.Time { return t.c }

// Stop stops the ticks and the goroutine that delays them.
func (t *lateTicker) Stop() { t.inner.Stop(); t.cancel() }
