package periph

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/pioreactor/pioreactord/pkg/clock"
)

// nackBus plays the script, but transaction number at (0-based) is not acknowledged, as
// i2c-bcm2835 reports it.
type nackBus struct {
	*i2ctest.Playback
	at, n int
}

func (b *nackBus) Tx(addr uint16, w, r []byte) error {
	b.n++
	if b.n-1 == b.at {
		return syscall.EREMOTEIO
	}
	return b.Playback.Tx(addr, w, r)
}

var _ i2c.Bus = (*nackBus)(nil)

// played fails the test if the script was not played to the end.
func played(t *testing.T, p *i2ctest.Playback) {
	t.Helper()
	if err := p.Close(); err != nil {
		t.Fatalf("register script: %v", err)
	}
}

// fakeClock advances when slept on, and records the sleeps.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return ctx.Err()
}

func (c *fakeClock) NewTicker(time.Duration) clock.Ticker { panic("not used") }

func (c *fakeClock) slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

var bg = context.Background()

// probeSet acknowledges the addresses it holds.
type probeSet map[uint16]bool

func (p probeSet) Probe(addr uint16) error {
	if !p[addr] {
		return fmt.Errorf("probe %s: %w", hex(addr), ErrNoAnswer)
	}
	return nil
}
