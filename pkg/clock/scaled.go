package clock

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Scaled runs speed times faster than the wall clock, starting at the wall time of its
// creation. Durations given to it are virtual; it waits d/speed of wall time.
type Scaled struct {
	speed     float64
	wallStart time.Time
	virtStart time.Time
}

// NewScaled returns a clock running speed times faster than the wall clock.
func NewScaled(speed float64) (*Scaled, error) {
	if !(speed > 0) || speed > 1e6 {
		return nil, fmt.Errorf("clock speed %v: must be in (0, 1e6]", speed)
	}
	now := time.Now()
	return &Scaled{speed: speed, wallStart: now, virtStart: now}, nil
}

// Speed is the ratio of virtual to wall time.
func (s *Scaled) Speed() float64 { return s.speed }

func (s *Scaled) Now() time.Time {
	elapsed := time.Since(s.wallStart)
	return s.virtStart.Add(time.Duration(float64(elapsed) * s.speed))
}

func (s *Scaled) wall(d time.Duration) time.Duration {
	return time.Duration(float64(d) / s.speed)
}

func (s *Scaled) Sleep(ctx context.Context, d time.Duration) error {
	return sleepWall(ctx, s.wall(d))
}

// NewTicker ticks every d of virtual time; ticks carry virtual timestamps. A period d ≤ 0
// never ticks (as Real); a positive period shorter than a wall nanosecond ticks every
// nanosecond.
func (s *Scaled) NewTicker(d time.Duration) Ticker {
	if d <= 0 {
		return idleTicker{}
	}
	wd := s.wall(d)
	if wd <= 0 {
		wd = time.Nanosecond
	}
	t := &scaledTicker{t: time.NewTicker(wd), c: make(chan time.Time, 1), done: make(chan struct{})}
	go t.forward(s)
	return t
}

type scaledTicker struct {
	t    *time.Ticker
	c    chan time.Time
	done chan struct{}
	once sync.Once
}

func (t *scaledTicker) forward(s *Scaled) {
	for {
		select {
		case <-t.done:
			return
		case <-t.t.C:
			select {
			case t.c <- s.Now():
			default: // the reader is behind: drop, as time.Ticker does
			}
		}
	}
}

func (t *scaledTicker) C() <-chan time.Time { return t.c }

func (t *scaledTicker) Stop() {
	t.once.Do(func() {
		t.t.Stop()
		close(t.done)
	})
}
