package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pioreactor/pioreactord/pkg/hal"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// LEDIntensity is the `led_intensity` action: it sets some LED channels (options "A"–"D",
// 0–100 %), publishes the unit's LED state and one led_change_events message per channel
// (docs/jobs.md, "led_intensity"). When it leaves an LED on it stays running, so that stopping it (or
// stopping all jobs) switches that LED off; it ends by itself once every LED it switched on
// has been changed by someone else. Several instances may run at once (an action).
type LEDIntensity struct {
	change ledChange
}

// NewLEDIntensitySpec is the job table entry.
func NewLEDIntensitySpec() supervisor.Spec {
	return supervisor.Spec{Name: "led_intensity", Action: true, New: newLEDIntensity}
}

// ledIntensityOptions are the options that are not channels.
var ledIntensityOptions = map[string]bool{"source_of_event": true, "verbose": true, "no_verbose": true}

func newLEDIntensity(o supervisor.Options) (supervisor.Job, error) {
	c := ledChange{desired: map[string]float64{}, source: o.String("source_of_event", "CLI")}
	var r collect
	c.verbose = r.bool(o.Bool("verbose", true))
	if r.bool(o.Bool("no_verbose", false)) {
		c.verbose = false
	}
	for key := range o.Values {
		if ledIntensityOptions[key] || !o.Has(key) {
			continue
		}
		ch := strings.ToUpper(key)
		if _, ok := ledIndex[ch]; !ok {
			r.errs = append(r.errs, fmt.Errorf("invalid LED channel %q: must be one of A, B, C, D", key))
			continue
		}
		c.desired[ch] = r.float(o.Float(key, 0))
	}
	if err := r.err(); err != nil {
		return nil, err
	}
	if len(c.desired) == 0 {
		return nil, errors.New("led_intensity needs at least one channel option (A, B, C or D) with an intensity")
	}
	if err := validLEDChange(c.desired); err != nil {
		return nil, err
	}
	return &LEDIntensity{change: c}, nil
}

// Run implements supervisor.Job.
func (l *LEDIntensity) Run(ctx context.Context, rt *supervisor.Runtime) error {
	dev := rt.Board().LEDs
	if dev == nil {
		return fmt.Errorf("led_intensity needs the LED driver: %w", hal.ErrNotPresent)
	}
	if err := rt.Ready(ctx); err != nil {
		return err
	}
	if err := rt.StopOnAnyExperiment(ctx); err != nil {
		return err
	}
	bank := unitLEDs(dev)
	if err := setWhenUnlocked(ctx, rt, bank, l.change); err != nil {
		return err
	}
	for {
		changed := bank.watch()
		lit := l.stillLit(bank)
		if len(lit) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			off := ledChange{desired: map[string]float64{}, source: l.change.source, verbose: l.change.verbose}
			for _, ch := range lit {
				off.desired[ch] = 0
			}
			if _, err := setLEDs(context.WithoutCancel(ctx), rt, bank, off); err != nil {
				rt.Log().Error("could not switch the LEDs off", "err", err)
			}
			return nil
		case c := <-rt.Commands():
			rt.Apply(ctx, c)
		case <-changed:
		}
	}
}

// stillLit lists the channels this action switched on that still hold its intensity. A
// channel under another job's soft lock counts as still lit: od_reading switches LEDs off
// during a reading and restores them afterwards.
func (l *LEDIntensity) stillLit(bank *ledBank) []string {
	now := bank.snapshot()
	var out []string
	for _, ch := range hal.LEDChannels {
		if v, ok := l.change.desired[ch]; ok && v > 0 && (now[ch] == v || bank.locked(ch)) {
			out = append(out, ch)
		}
	}
	return out
}

// ledLockWait bounds how long a change waits for channels another job soft-locked: od_reading
// holds the other channels for the length of one reading, well under a second, so a request
// that lands during a reading is applied right after it instead of failing.
const ledLockWait = 10 * time.Second

// setWhenUnlocked applies c, waiting up to ledLockWait of the job's clock for channels
// another job has soft-locked; channels still locked then are an error naming them.
func setWhenUnlocked(ctx context.Context, rt *supervisor.Runtime, bank *ledBank, c ledChange) error {
	pending := c
	deadline := rt.Clock().Now().Add(ledLockWait)
	for {
		changed := bank.watch() // before the attempt: an unlock right after it still wakes us
		ok, err := setLEDs(ctx, rt, bank, pending)
		if err != nil && !errors.Is(err, errLEDLocked) {
			return err
		}
		if ok {
			return nil
		}
		waiting := map[string]float64{}
		for ch, v := range pending.desired {
			if bank.locked(ch) {
				waiting[ch] = v
			}
		}
		if len(waiting) == 0 {
			return nil
		}
		if len(pending.desired) == len(c.desired) || len(waiting) != len(pending.desired) {
			rt.Log().Info(fmt.Sprintf("LED %s locked by another job (an OD reading?): waiting up to %v.", strings.Join(sortedKeys(waiting), ", "), ledLockWait))
		}
		pending.desired = waiting
		left := deadline.Sub(rt.Clock().Now())
		if left <= 0 {
			return fmt.Errorf("%w: %s not changed after %v", errLEDLocked, strings.Join(sortedKeys(waiting), ", "), ledLockWait)
		}
		t := rt.Clock().NewTicker(left)
		select {
		case <-changed:
		case <-t.C():
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		t.Stop()
	}
}
