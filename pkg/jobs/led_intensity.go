package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pioreactor/pioreactord/pkg/hal"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// LEDIntensity is the `led_intensity` action: it sets some LED channels (options "A"–"D",
// 0–100 %), publishes the unit's LED state and one led_change_events message per channel
// (spec/jobs.md §8.4). When it leaves an LED on it stays running, so that stopping it (or
// stopping all jobs) switches that LED off; it ends by itself once every LED it switched on
// has been changed by someone else. Several instances may run at once (an action).
type LEDIntensity struct {
	change ledChange
}

// LEDIntensitySpec is the job table entry.
var LEDIntensitySpec = supervisor.Spec{Name: "led_intensity", Action: true, New: newLEDIntensity}

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
	ok, err := setLEDs(ctx, rt, bank, l.change)
	switch {
	case errors.Is(err, errLEDLocked):
		rt.Log().Warn("some LED channels are locked by another job and were not changed", "requested", fmt.Sprint(l.change.desired))
	case err != nil:
		return err
	case !ok:
		return errors.New("LED change not applied")
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
