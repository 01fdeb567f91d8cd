package sim

import (
	"context"
	"fmt"
	"time"
)

// The hal devices. Each is a thin view on the Bioreactor: validate, lock, bring the plant up
// to now, act, unlock. Waiting (ADC sampling, hall windows) happens on the clock with the lock
// released, so other devices keep working meanwhile.

type pwmOut struct {
	b *Bioreactor
	i int // index into plant.outs
}

func (o pwmOut) SetDutyCycle(pct float64) error {
	if !(pct >= 0 && pct <= 100) {
		return fmt.Errorf("pwm channel %s duty %v%%: %w", o.b.pl.outs[o.i].ch, pct, ErrOutOfRange)
	}
	pl := o.b.lock()
	defer o.b.mu.Unlock()
	pl.setDuty(o.i, pct)
	return nil
}

// pwmTimer is the board's hal.PWMTimer: the plant switches the output off at the exact
// plant time, however late the job that asked wakes up.
type pwmTimer struct{ b *Bioreactor }

func (t pwmTimer) OffAfter(channel string, d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("pwm channel %s stop after %v: %w", channel, d, ErrOutOfRange)
	}
	b := t.b
	for i, o := range b.pl.outs { // outs never change after New
		if o.ch != channel {
			continue
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		// Schedule before bringing the plant up to now, so a stop in between is not missed.
		b.pl.scheduleStop(i, d)
		b.pl.advance(b.clk.Now())
		return nil
	}
	return fmt.Errorf("pwm channel %q: %w", channel, ErrUnknownChannel)
}

type hall struct{ b *Bioreactor }

// Edges opens a window, sleeps through it on the clock and returns the edges recorded in it.
// Edges are recorded only while some window is open.
func (h hall) Edges(ctx context.Context, window time.Duration) ([]time.Time, error) {
	pl := h.b.lock()
	from := pl.t
	pl.listeners++
	h.b.mu.Unlock()

	err := h.b.clk.Sleep(ctx, window)

	pl = h.b.lock()
	defer h.b.mu.Unlock()
	var edges []time.Time
	if err == nil && !pl.faults[FaultHallDead] {
		edges = pl.takeEdges(from, from+window)
	}
	pl.listeners--
	if pl.listeners == 0 {
		pl.edges = pl.edges[:0]
	}
	if err != nil {
		return nil, fmt.Errorf("hall edges: %w", err)
	}
	return edges, nil
}

type photodiodes struct{ b *Bioreactor }

// ReadVolts sleeps for the sampling time, then returns one averaged reading per configured
// channel taken with the plant and LEDs as they are at the end of it. A faulty ADC fails at
// once, as an I²C NACK would.
func (d photodiodes) ReadVolts(ctx context.Context) (map[string]float64, error) {
	if err := d.fault(); err != nil {
		return nil, err
	}
	if err := d.b.clk.Sleep(ctx, d.b.pl.p.SamplingTime); err != nil {
		return nil, fmt.Errorf("read photodiodes: %w", err)
	}
	pl := d.b.lock()
	defer d.b.mu.Unlock()
	if pl.faults[FaultPhotodiodes] {
		return nil, fmt.Errorf("read photodiodes: %w", ErrNoAnswer)
	}
	out := make(map[string]float64, len(pl.diodes))
	for _, pd := range pl.diodes {
		out[pd.ch] = pl.read(pd)
	}
	return out, nil
}

func (d photodiodes) fault() error {
	pl := d.b.lock()
	defer d.b.mu.Unlock()
	if pl.faults[FaultPhotodiodes] {
		return fmt.Errorf("read photodiodes: %w", ErrNoAnswer)
	}
	return nil
}

type leds struct{ b *Bioreactor }

func (l leds) SetIntensity(channel string, pct float64) error {
	i := ledIndex(channel)
	if i < 0 {
		return fmt.Errorf("led channel %q: %w", channel, ErrUnknownChannel)
	}
	if !(pct >= 0 && pct <= 100) {
		return fmt.Errorf("led channel %s intensity %v%%: %w", channel, pct, ErrOutOfRange)
	}
	pl := l.b.lock()
	defer l.b.mu.Unlock()
	if pl.faults[FaultLEDs] {
		return fmt.Errorf("set led %s: %w", channel, ErrNoAnswer)
	}
	pl.leds[i] = pct
	return nil
}

type thermometer struct{ b *Bioreactor }

func (t thermometer) ReadCelsius(ctx context.Context) (float64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("read tmp1075: %w", err)
	}
	pl := t.b.lock()
	defer t.b.mu.Unlock()
	if pl.faults[FaultThermometer] {
		return 0, fmt.Errorf("read tmp1075: %w", ErrNoAnswer)
	}
	return pl.thermometerC(), nil
}
