package jobs

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/control"
	"github.com/pioreactor/pioreactord/pkg/hal"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// odChain is the hardware half of an OD reading (docs/jobs.md, "od_reading", docs/algorithms.md, "OD signal chain"): the LEDs
// around a snapshot, dark offsets, REF normalisation and the ADC over-voltage guard. od_reading,
// od_blank and self_test each own one.
type odChain struct {
	irChannel   string
	settle      time.Duration
	useDark     bool
	othersOff   bool              // turn_off_leds_during_reading
	angles      map[string]string // signal channel -> angle
	refChannel  string            // "" without a REF photodiode
	ref         refTracker
	dark        map[string]float64
	maxSignal   map[string]*control.EMA
	holder      string // LED soft-lock id
	rt          *supervisor.Runtime
	pds         hal.Photodiodes
	bank        *ledBank
	overVoltage bool // the 3.2 V guard tripped: the chain refuses to light the LEDs again
}

// Over-voltage thresholds of the ADC inputs (docs/jobs.md, "Sensor safety").
const (
	adcWarnVolts = 3.0
	adcStopVolts = 3.2
)

// odChainConfig reads the [od_reading.config] keys every OD user shares.
func odChainConfig(c *config.Config) (*odChain, float64, error) {
	var r collect
	emaWeight := r.float(c.Float(odSection, "pd_reference_ema", 0.75))
	useDark := r.bool(c.Bool(odSection, "use_dark_offsets", true))
	othersOff := r.bool(c.Bool(odSection, "turn_off_leds_during_reading", true))
	if err := r.err(); err != nil {
		return nil, 0, err
	}
	if !(emaWeight >= 0 && emaWeight <= 1) {
		return nil, 0, fmt.Errorf("[%s] pd_reference_ema %v must be within 0–1", odSection, emaWeight)
	}
	settle, err := ledSettle(c)
	if err != nil {
		return nil, 0, err
	}
	irChannel, ok := c.LEDChannelFor("IR")
	if !ok {
		return nil, 0, errors.New("`leds` section must contain `IR` value")
	}
	channels, err := c.PhotodiodeChannels()
	if err != nil {
		return nil, 0, err
	}
	ch := &odChain{irChannel: irChannel, settle: settle, useDark: useDark, othersOff: othersOff,
		angles: map[string]string{}, maxSignal: map[string]*control.EMA{}}
	for k, angle := range channels {
		if angle == config.RefChannel {
			ch.refChannel = k
		} else {
			ch.angles[k] = angle
		}
	}
	return ch, emaWeight, nil
}

// attach binds the chain to a running job's devices.
func (c *odChain) attach(rt *supervisor.Runtime) error {
	b := rt.Board()
	if b.Photodiodes == nil || b.LEDs == nil {
		return fmt.Errorf("OD reading needs the photodiode ADC and the LED driver: %w", hal.ErrNotPresent)
	}
	c.rt, c.pds, c.bank = rt, b.Photodiodes, unitLEDs(b.LEDs)
	c.holder = fmt.Sprintf("%s-%d", rt.Job(), rt.JobID())
	return nil
}

// others are the LED channels that are not the IR LED.
func (c *odChain) others() []string {
	var out []string
	for _, ch := range hal.LEDChannels {
		if ch != c.irChannel {
			out = append(out, ch)
		}
	}
	return out
}

// withLEDs sets the LEDs to want (channel → %) with the other channels soft-locked, runs fn,
// and restores the previous intensities. These temporary changes are not LED change events.
func (c *odChain) withLEDs(ctx context.Context, want map[string]float64, fn func() error) error {
	if c.overVoltage {
		return errOverVoltage
	}
	locked := c.others()
	if !c.bank.lock(c.holder, locked...) {
		return errors.New("another job holds the LEDs: skipping this reading")
	}
	defer c.bank.unlock(c.holder, locked...)
	prev := c.bank.snapshot()
	restore := map[string]float64{}
	for ch := range want {
		restore[ch] = prev[ch]
	}
	if _, err := setLEDs(ctx, c.rt, c.bank, ledChange{desired: want, holder: c.holder}); err != nil {
		c.restore(restore)
		return fmt.Errorf("set LEDs for the reading: %w", err)
	}
	err := fn()
	if !c.overVoltage {
		c.restore(restore)
	}
	return err
}

// restore puts LEDs back after a reading, even when the job is being stopped.
func (c *odChain) restore(prev map[string]float64) {
	if _, err := setLEDs(context.Background(), c.rt, c.bank, ledChange{desired: prev, holder: c.holder}); err != nil {
		c.rt.Log().Error("could not restore the LEDs after an OD reading", "err", err)
	}
}

// readingLEDs is the LED state during a snapshot: IR at intensity, the others off (or left
// as they are when turn_off_leds_during_reading is false).
func (c *odChain) readingLEDs(intensity float64) map[string]float64 {
	want := map[string]float64{c.irChannel: intensity}
	if c.othersOff {
		for _, ch := range c.others() {
			want[ch] = 0
		}
	}
	return want
}

// allOff is every LED at 0.
func allOff() map[string]float64 {
	m := map[string]float64{}
	for _, ch := range hal.LEDChannels {
		m[ch] = 0
	}
	return m
}

// readDark takes the dark offsets with every LED off.
func (c *odChain) readDark(ctx context.Context) error {
	c.dark = map[string]float64{}
	return c.withLEDs(ctx, allOff(), func() error {
		volts, err := c.pds.ReadVolts(ctx)
		if err != nil {
			return fmt.Errorf("dark reading: %w", err)
		}
		if c.useDark {
			c.dark = volts
		}
		return nil
	})
}

// snapshot reads every photodiode with the IR LED at intensity: volts with the dark offsets
// subtracted (floored at 0), after the over-voltage guard saw the raw ones.
func (c *odChain) snapshot(ctx context.Context, intensity float64) (map[string]float64, error) {
	var volts map[string]float64
	err := c.withLEDs(ctx, c.readingLEDs(intensity), func() error {
		if err := c.rt.Clock().Sleep(ctx, c.settle); err != nil {
			return err
		}
		v, err := c.pds.ReadVolts(ctx)
		if err != nil {
			return fmt.Errorf("detected i2c error - is everything well connected? %w", err)
		}
		volts = v
		return c.guard(ctx, v)
	})
	if err != nil {
		return nil, err
	}
	for ch, v := range volts {
		volts[ch] = math.Max(0, v-c.dark[ch])
	}
	return volts, nil
}

// guard follows each channel's signal with an EMA (α 0.05) and protects the ADC: above 3.0 V
// a warning, above 3.2 V every LED goes off and the chain refuses to light them again.
func (c *odChain) guard(ctx context.Context, volts map[string]float64) error {
	var top float64
	for ch, v := range volts {
		e, ok := c.maxSignal[ch]
		if !ok {
			e = &control.EMA{Alpha: 0.05}
			c.maxSignal[ch] = e
		}
		top = math.Max(top, e.Update(v))
	}
	switch {
	case top > adcStopVolts:
		c.overVoltage = true
		c.rt.Log().Error(fmt.Sprintf("An ADC channel is recording a very high voltage, %.2fV. We are shutting down components and jobs to keep the ADC safe.", top))
		c.bank.unlock(c.holder, c.others()...)
		if _, err := setLEDs(context.WithoutCancel(ctx), c.rt, c.bank, ledChange{desired: allOff(), holder: c.holder, source: "ADCReader", verbose: true}); err != nil {
			c.rt.Log().Error("could not switch the LEDs off", "err", err)
		}
		c.flicker(ctx, contract.ErrorCodeADCTooHigh)
		return errOverVoltage
	case top > adcWarnVolts:
		c.rt.Log().Warn(fmt.Sprintf("An ADC channel is recording a very high voltage, %.2fV. It's recommended to keep it less than %.1fV. Suggestion: decrease the IR intensity, or change the PD resistor to a lower value.", top, adcWarnVolts))
		c.flicker(ctx, contract.ErrorCodeADCTooHigh)
	}
	return nil
}

// flicker asks the monitor to blink an error code.
func (c *odChain) flicker(ctx context.Context, code int) {
	if err := c.rt.Publish(context.WithoutCancel(ctx), contract.ErrorCodeTopic(c.rt.Unit(), c.rt.Experiment()), []byte(fmt.Sprint(code)), pubsub.AtLeastOnce, false); err != nil {
		c.rt.Log().Debug("flicker error code", "err", err)
	}
}

// normalise splits a snapshot into the REF factor and the raw OD of each signal channel
// (volts / REF factor). noisy reports a REF reading the tracker rejected.
func (c *odChain) normalise(volts map[string]float64) (raw map[string]float64, factor float64, noisy bool, err error) {
	factor = 1.0
	if c.refChannel != "" {
		factor, noisy = c.ref.update(volts[c.refChannel])
		if factor <= 0 {
			return nil, 0, noisy, errors.New("IR Reference is 0.0. Is it connected correctly? Is the IR LED working?")
		}
	}
	raw = make(map[string]float64, len(c.angles))
	for ch := range c.angles {
		raw[ch] = volts[ch] / factor
	}
	return raw, factor, noisy, nil
}

// autoIntensity picks the IR intensity from a tune snapshot at tuneIntensity
// (docs/algorithms.md, "Automatic IR intensity"): only with one signal channel and a REF, otherwise 85 %.
func (c *odChain) autoIntensity(tuneIntensity float64, volts map[string]float64) float64 {
	if c.refChannel == "" || len(c.angles) != 1 {
		return 85
	}
	var signal float64
	for ch := range c.angles {
		signal = volts[ch]
	}
	ratio := func(v float64) float64 {
		if v <= 0 {
			return math.Inf(1)
		}
		return tuneIntensity / v
	}
	iRef := ratio(volts[c.refChannel]) * 0.25
	iSig := ratio(signal) * 3.0 / 50
	return roundTo(math.Max(math.Min(85, math.Min(iRef, iSig)), 50), 2)
}
