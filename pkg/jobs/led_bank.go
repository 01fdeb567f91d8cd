package jobs

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"sync"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// ledBank is a unit's LED state, shared by every job that drives the LEDs (od_reading's IR,
// the led_intensity action, led_automation): the intensities last written (the reference's
// intermittent cache `leds`) and per-channel soft locks. There is one bank per LED driver, so
// several simulated units in one process do not share it.
type ledBank struct {
	dev hal.LEDs

	mu        sync.Mutex
	intensity map[string]float64 // every channel A–D, 0 until written
	locks     map[string]ledLock
	changed   chan struct{} // closed (and replaced) at every write
}

type ledLock struct {
	holder string
	depth  int // a nested lock by the same holder does not release the outer one
}

var ledBanks sync.Map // hal.LEDs → *ledBank

// unitLEDs returns the bank of a unit's LED driver.
func unitLEDs(dev hal.LEDs) *ledBank {
	fresh := func() *ledBank {
		b := &ledBank{dev: dev, intensity: map[string]float64{}, locks: map[string]ledLock{}, changed: make(chan struct{})}
		for _, ch := range hal.LEDChannels {
			b.intensity[ch] = 0
		}
		return b
	}
	if t := reflect.TypeOf(dev); t == nil || !t.Comparable() {
		return fresh() // a driver that cannot be a map key gets no sharing
	}
	b, _ := ledBanks.LoadOrStore(dev, fresh())
	return b.(*ledBank)
}

// lock soft-locks channels for holder; it fails, locking nothing, if another holder has one.
func (b *ledBank) lock(holder string, channels ...string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, ch := range channels {
		if l, ok := b.locks[ch]; ok && l.holder != holder {
			return false
		}
	}
	for _, ch := range channels {
		l := b.locks[ch]
		b.locks[ch] = ledLock{holder: holder, depth: l.depth + 1}
	}
	return true
}

// unlock releases one level of holder's locks on channels.
func (b *ledBank) unlock(holder string, channels ...string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, ch := range channels {
		l, ok := b.locks[ch]
		if !ok || l.holder != holder {
			continue
		}
		if l.depth <= 1 {
			delete(b.locks, ch)
			b.notify()
		} else {
			b.locks[ch] = ledLock{holder: holder, depth: l.depth - 1}
		}
	}
}

// watch returns a channel closed at the next write of any channel or release of a lock.
func (b *ledBank) watch() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.changed
}

// notify wakes the watchers; the caller holds b.mu.
func (b *ledBank) notify() {
	close(b.changed)
	b.changed = make(chan struct{})
}

// locked reports whether any holder has soft-locked channel.
func (b *ledBank) locked(channel string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.locks[channel]
	return ok
}

// snapshot copies the cached intensities.
func (b *ledBank) snapshot() map[string]float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[string]float64, len(b.intensity))
	for k, v := range b.intensity {
		out[k] = v
	}
	return out
}

// validLEDChange checks a channel → intensity request before anything is written.
func validLEDChange(desired map[string]float64) error {
	for ch, v := range desired {
		if _, ok := ledIndex[ch]; !ok {
			return fmt.Errorf("invalid LED channel %q: must be one of A, B, C, D", ch)
		}
		if !(v >= 0 && v <= 100) {
			return fmt.Errorf("LED %s intensity %v must be within 0–100", ch, v)
		}
	}
	return nil
}

var ledIndex = map[string]int{"A": 0, "B": 1, "C": 2, "D": 3}

// ledChange is one call of the LED action (docs/jobs.md, "led_intensity").
type ledChange struct {
	desired map[string]float64
	source  string // source_of_event; "" publishes null
	verbose bool   // publish led_change_events and log each change
	holder  string // a lock id this caller may write through ("" holds none)
}

// setLEDs writes the channels of c in A–D order, skipping channels another holder locked,
// updates the unit's cache and publishes leds/intensity (and, when verbose, one
// led_change_events message per channel written). It reports whether every requested channel
// was set; a validation or driver error returns false with the error.
func setLEDs(ctx context.Context, rt *supervisor.Runtime, bank *ledBank, c ledChange) (bool, error) {
	if err := validLEDChange(c.desired); err != nil {
		return false, err
	}
	var applied []string
	old := bank.snapshot()
	all := true
	var driverErr error
	bank.mu.Lock()
	for _, ch := range hal.LEDChannels {
		v, ok := c.desired[ch]
		if !ok {
			continue
		}
		if l, locked := bank.locks[ch]; locked && l.holder != c.holder {
			all = false
			continue
		}
		if err := bank.dev.SetIntensity(ch, v); err != nil {
			driverErr = fmt.Errorf("set LED %s: %w", ch, err)
			break
		}
		bank.intensity[ch] = v
		applied = append(applied, ch)
	}
	if len(applied) > 0 {
		bank.notify()
	}
	state := make(map[string]contract.Decimal, len(bank.intensity))
	for ch, v := range bank.intensity {
		state[ch] = contract.Decimal(v)
	}
	bank.mu.Unlock()

	if len(applied) > 0 {
		if err := rt.Publish(ctx, contract.LEDIntensityTopic(rt.Unit(), rt.Experiment()), contract.Marshal(state), pubsub.AtMostOnce, true); err != nil {
			rt.Log().Debug("publish leds/intensity", "err", err)
		}
	}
	if c.verbose {
		var source *string
		if c.source != "" {
			source = &c.source
		}
		now := contract.Timestamp(rt.Clock().Now())
		for _, ch := range applied {
			ev := contract.LEDChangeEvent{Channel: ch, Intensity: contract.Decimal(c.desired[ch]), SourceOfEvent: source, Timestamp: now}
			if err := rt.Publish(ctx, contract.LEDChangeEventsTopic(rt.Unit(), rt.Experiment()), contract.Marshal(ev), pubsub.AtMostOnce, false); err != nil {
				rt.Log().Debug("publish led_change_events", "err", err)
			}
			rt.Log().Info(fmt.Sprintf("Updated LED %s from %s%% to %s%%.", ch, pct3g(old[ch]), pct3g(c.desired[ch])))
		}
	}
	if driverErr != nil {
		return false, driverErr
	}
	if !all {
		return false, errLEDLocked
	}
	return true, nil
}

// pct3g renders an intensity as Python's {:0.3g}.
func pct3g(v float64) string { return strconv.FormatFloat(v, 'g', 3, 64) }
