package clock

import (
	"context"
	"time"
)

// Clock tells time and waits. Everything that blocks takes a context.
type Clock interface {
	Now() time.Time
	// Sleep waits d of this clock's time; it returns ctx.Err() if ctx ends first.
	Sleep(ctx context.Context, d time.Duration) error
	// NewTicker ticks every d of this clock's time. The values sent are this clock's Now.
	// A period d ≤ 0 gives a ticker that never ticks (callers range-check their periods;
	// this only keeps a missed check from panicking or spinning).
	NewTicker(d time.Duration) Ticker
}

// Ticker delivers ticks on C until Stop.
type Ticker interface {
	C() <-chan time.Time
	Stop()
}

// Real is the wall clock.
type Real struct{}

func (Real) Now() time.Time { return time.Now() }

func (Real) Sleep(ctx context.Context, d time.Duration) error { return sleepWall(ctx, d) }

// NewTicker never panics: time.NewTicker does on d ≤ 0, and that would kill the daemon from
// a job's goroutine; such a ticker never ticks instead.
func (Real) NewTicker(d time.Duration) Ticker {
	if d <= 0 {
		return idleTicker{}
	}
	return realTicker{time.NewTicker(d)}
}

type realTicker struct{ t *time.Ticker }

func (r realTicker) C() <-chan time.Time { return r.t.C }
func (r realTicker) Stop()               { r.t.Stop() }

// idleTicker is the ticker of a non-positive period: its channel never delivers.
type idleTicker struct{}

func (idleTicker) C() <-chan time.Time { return nil }
func (idleTicker) Stop()               {}

func sleepWall(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
