package jobs

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// TemperatureAutomation infers the culture's temperature from the heating PCB's sensor by
// pausing the heater periodically and fitting the decay, and runs a heater automation on each
// new temperature (docs/jobs.md, "temperature_automation"). The automation is chosen by `automation_name` from
// the registry given to NewTemperatureAutomationSpec.
type TemperatureAutomation struct {
	automationBase
	name    string
	algo    Automation
	channel string
	model   heaterModel
	infer   temperatureInference

	therm  hal.Thermometer
	pwm    hal.PWM
	cache  *heaterCache
	dc     float64 // heater duty cycle, %
	locked bool    // heater held at 0 by an inference cycle

	temperature     float64 // latest inferred temperature, °C
	haveTemperature bool
	// safetyCap bounds the duty cycle an inference restores after a safety action during it.
	safetyCap float64
	// lastDose is when the vial last received liquid: fresh media at room temperature bends
	// the heater-off decay the inference model reads, so such a cycle is not published.
	lastDose atomic.Int64 // unix ns of the clock
}

// NewTemperatureAutomationSpec is the job table entry; registry holds the automations
// `automation_name` may choose (TemperatureAutomations in production).
func NewTemperatureAutomationSpec(registry map[string]TemperatureFactory) supervisor.Spec {
	return supervisor.Spec{Name: "temperature_automation", New: func(o supervisor.Options) (supervisor.Job, error) {
		return newTemperatureAutomation(o, registry)
	}}
}

// TemperatureFactory builds a temperature automation from its start options.
type TemperatureFactory func(o supervisor.Options, t *TemperatureAutomation) (Automation, error)

// TemperatureAutomations returns a fresh copy of the production temperature automations.
func TemperatureAutomations() map[string]TemperatureFactory {
	return map[string]TemperatureFactory{
		"thermostat":              newThermostat,
		"only_record_temperature": newOnlyRecordTemperature,
	}
}

// heaterModel holds the constants that depend on the bioreactor model (docs/jobs.md, "temperature_automation").
type heaterModel struct {
	reduceAbove, disableAbove, shutdownAbove float64 // °C of the heating PCB
	samples                                  int     // N reads of an inference
	period                                   time.Duration
}

// defaultHeaterModel is every model but the 20 ml v1.0 (twoExpHeaterModel).
var defaultHeaterModel = heaterModel{reduceAbove: 78, disableAbove: 80, shutdownAbove: 85, samples: 21, period: 200 * time.Second}

const (
	safetyPeriod = 53 * time.Second
	inferenceGap = 5 * time.Second       // between samples of an inference
	readSamples  = 6                     // one sensor read is the mean of 6 samples …
	readGap      = 50 * time.Millisecond // … 50 ms apart
	// inferenceSpacing is how far apart inference reads are: a read, then inferenceGap, as the
	// reference spaces them.
	inferenceSpacing = inferenceGap + (readSamples-1)*readGap
	// doseSettle: a dose this long before an inference still disturbs it (the liquid and the
	// PCB take about 20 s to re-equilibrate).
	doseSettle        = 30 * time.Second
	heaterOffLongAgo  = 10 * time.Second
	sensorMissingHelp = "Is the Heating PCB attached to the Pioreactor HAT? Unable to read the temperature sensor"
)

func newTemperatureAutomation(o supervisor.Options, registry map[string]TemperatureFactory) (supervisor.Job, error) {
	t := &TemperatureAutomation{model: defaultHeaterModel, channel: "5", safetyCap: 100}
	if ch, ok := o.Config.PWMChannelFor("heating"); ok {
		t.channel = ch
	}
	infer, err := temperatureInferenceFrom(o.Config, o.Model)
	if err != nil {
		return nil, err
	}
	t.useInference(infer)
	name, factory, err := pickAutomation("temperature_automation", registry, o)
	if err != nil {
		return nil, err
	}
	algo, err := factory(o, t)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	t.name, t.algo = name, algo
	return t, nil
}

// Run implements supervisor.Job.
func (t *TemperatureAutomation) Run(ctx context.Context, rt *supervisor.Runtime) error {
	t.therm = rt.Board().Thermometer
	if t.therm == nil {
		return fmt.Errorf("temperature automation needs the heating PCB's temperature sensor: %w", hal.ErrNotPresent)
	}
	t.cache = acquireHeaterCache(t.therm, rt.Clock().Now())
	defer func() { releaseHeaterCache(t.therm, rt.Clock().Now()) }() // after the heater is off
	pwm, err := rt.PWM(t.channel)
	if err != nil {
		return err
	}
	t.pwm = pwm
	if err := pwm.SetDutyCycle(0); err != nil { // not recorded as "switched off": see onReady
		return fmt.Errorf("heater PWM: %w", err)
	}
	if err := t.init(ctx, rt, t.name, t.algo,
		supervisor.Setting{Name: "temperature", Datatype: contract.TypeTemperature, Unit: "℃"},
		supervisor.Setting{Name: "heater_duty_cycle", Datatype: contract.Float, Unit: "%"},
	); err != nil {
		return err
	}
	defer t.stop(context.WithoutCancel(ctx))
	defer t.forceHeater(context.WithoutCancel(ctx), 0) // and remember when it went off
	if err := rt.Set(ctx, "heater_duty_cycle", 0.0); err != nil {
		return err
	}
	if err := t.startAutomation(ctx); err != nil {
		return err
	}
	if err := t.onReady(ctx); err != nil {
		return err
	}
	if err := rt.Subscribe(ctx, contract.DosingEventsTopic(rt.Unit(), rt.Experiment()), pubsub.AtLeastOnce, t.onDose); err != nil {
		return err
	}
	if err := rt.Ready(ctx); err != nil {
		return err
	}
	safety := newRepeat(ctx, rt.Clock(), safetyPeriod, safetyPeriod)
	defer safety.Stop()
	inference := newRepeat(ctx, rt.Clock(), t.model.period-time.Duration(t.model.samples)*inferenceGap, t.model.period)
	defer inference.Stop()
	for {
		var err error
		select {
		case <-ctx.Done():
			return nil
		case c := <-rt.Commands():
			rt.Apply(ctx, c)
		case <-safety.C:
			_, err = t.read(ctx)
		case <-inference.C:
			if rt.State() == supervisor.Ready {
				err = t.inferAndRun(ctx)
			}
		}
		if err != nil && ctx.Err() == nil {
			return err // sensor gone or over the shutdown limit: the heater is already off
		}
	}
}

// onDose notes when liquid entered or left the vial (any dosing event that is not retained).
func (t *TemperatureAutomation) onDose(m pubsub.Message) {
	if !m.Retained {
		t.lastDose.Store(t.rt.Clock().Now().UnixNano())
	}
}

// onReady runs before `ready`: when the heater has been off long enough for the PCB to read
// the liquid, that reading is published and the automation runs at once.
func (t *TemperatureAutomation) onReady(ctx context.Context) error {
	if off := t.cache.lastOff(); !off.IsZero() && t.rt.Clock().Now().Sub(off) < heaterOffLongAgo {
		return nil
	}
	v, err := t.read(ctx)
	if err != nil {
		return err
	}
	if err := t.publishTemperature(ctx, v); err != nil {
		return err
	}
	t.runOnce(ctx, supervisor.Ready, supervisor.Init)
	return nil
}

// read takes one sensor reading (the mean of 6 samples 50 ms apart) and applies the safety
// check. A sensor failure switches the heater off and returns an error that ends the job.
func (t *TemperatureAutomation) read(ctx context.Context) (float64, error) {
	v, _, err := t.readAt(ctx)
	return v, err
}

// readAt is read that also tells when the reading was taken: the mean time of its samples.
func (t *TemperatureAutomation) readAt(ctx context.Context) (float64, time.Time, error) {
	var sum float64
	var start time.Time
	var offsets time.Duration
	for i := range readSamples {
		if i > 0 {
			// To the sample's slot, not a gap after a late wake-up: a fast simulated
			// clock would otherwise stretch every read by six wake-ups' latency.
			if err := t.rt.Clock().Sleep(ctx, start.Add(time.Duration(i)*readGap).Sub(t.rt.Clock().Now())); err != nil {
				return 0, start, err
			}
		}
		now := t.rt.Clock().Now()
		if i == 0 {
			start = now
		}
		offsets += now.Sub(start)
		v, err := t.therm.ReadCelsius(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return 0, start, ctx.Err()
			}
			t.forceHeater(ctx, 0)
			return 0, start, fmt.Errorf("%s (heater switched off): %w: %w", sensorMissingHelp, hal.ErrNotPresent, err)
		}
		sum += v
	}
	v := sum / readSamples
	return v, start.Add(offsets / readSamples), t.safetyCheck(ctx, v)
}

// safetyCheck applies the model's limits to a PCB reading (docs/jobs.md, "temperature_automation").
func (t *TemperatureAutomation) safetyCheck(ctx context.Context, v float64) error {
	m := t.model
	switch {
	case v > m.shutdownAbove:
		t.forceHeater(ctx, 0)
		t.safetyCap = 0
		t.flickerError(ctx)
		t.rt.Log().Error(fmt.Sprintf("Temperature of heating surface has exceeded %v℃ - currently %v℃. This is beyond our recommendations. Shutting down Raspberry Pi to prevent further problems. Take caution when touching the heating surface and wetware.", m.shutdownAbove, roundTo(v, 2)))
		t.rt.Log().Warn("power-off requested but not performed: pioreactord does not power the computer off; the temperature automation stops with the heater off")
		return fmt.Errorf("%w: heating PCB at %v℃, above %v℃", ErrOverTemperature, roundTo(v, 2), m.shutdownAbove)
	case v > m.disableAbove:
		t.flickerError(ctx)
		t.rt.Log().Warn(fmt.Sprintf("Temperature of heating surface has exceeded %v℃ - currently %v℃. This is beyond our recommendations. The heating PWM channel will be forced to 0. Take caution when touching the heating surface and wetware.", m.disableAbove, roundTo(v, 2)))
		t.forceHeater(ctx, 0)
		t.safetyCap = 0
	case v > m.reduceAbove:
		t.rt.Log().Debug(fmt.Sprintf("Temperature of heating surface has exceeded %v℃ - currently %v℃. This is close to our maximum recommended value. The heating PWM channel will be reduced to 90%% its current value. Take caution when touching the heating surface and wetware.", m.reduceAbove, roundTo(v, 2)))
		t.forceHeater(ctx, 0.9*t.dc)
		t.safetyCap = 0.9 * t.safetyCap
	}
	return nil
}

func (t *TemperatureAutomation) flickerError(ctx context.Context) {
	payload := []byte(fmt.Sprint(contract.ErrorCodeHighTemperature))
	if err := t.rt.Publish(ctx, contract.ErrorCodeTopic(t.rt.Unit(), t.rt.Experiment()), payload, pubsub.AtLeastOnce, false); err != nil {
		t.rt.Log().Debug("publish error code", "err", err)
	}
}

// updateHeater sets the duty cycle unless an inference holds the heater; it reports whether
// the change was made.
func (t *TemperatureAutomation) updateHeater(ctx context.Context, dc float64) bool {
	if t.locked {
		return false
	}
	return t.forceHeater(ctx, dc)
}

// updateHeaterWithDelta moves the duty cycle by delta.
func (t *TemperatureAutomation) updateHeaterWithDelta(ctx context.Context, delta float64) bool {
	return t.updateHeater(ctx, t.dc+delta)
}

// forceHeater sets the duty cycle even during an inference (the safety path).
func (t *TemperatureAutomation) forceHeater(ctx context.Context, dc float64) bool {
	dc = math.Max(0, math.Min(100, roundTo(dc, 2)))
	if math.IsNaN(dc) {
		dc = 0
	}
	if err := t.pwm.SetDutyCycle(dc); err != nil {
		t.rt.Log().Error("could not set the heater", "err", err)
		return false
	}
	if dc == 0 && t.dc != 0 {
		t.cache.setOff(t.rt.Clock().Now()) // when the heater last went off, not last stayed off
	}
	t.dc = dc
	if err := t.rt.Set(ctx, "heater_duty_cycle", dc); err != nil {
		t.rt.Log().Debug("publish heater_duty_cycle", "err", err)
	}
	return true
}

// inferAndRun is one inference cycle: heater off, N reads 5 s apart, restore the heater,
// publish the inferred temperature and run the automation.
func (t *TemperatureAutomation) inferAndRun(ctx context.Context) error {
	t.locked = true
	previous := t.dc
	t.safetyCap = 100
	t.forceHeater(ctx, 0)
	heaterOff := t.rt.Clock().Now()
	samples := make([]float64, 0, t.model.samples)
	times := make([]time.Time, 0, t.model.samples)
	err := func() error {
		defer func() { t.locked = false }()
		for range t.model.samples {
			v, at, err := t.readAt(ctx)
			if err != nil {
				return err
			}
			samples, times = append(samples, v), append(times, at)
			// Sleep to the next read's slot, not a fixed gap after this read: late wake-ups
			// (a busy machine, a simulated clock hundreds of times faster than real time)
			// then cannot stretch the heater-off window and starve the heater.
			next := times[0].Add(time.Duration(len(samples)) * inferenceSpacing)
			if err := t.wait(ctx, next.Sub(t.rt.Clock().Now())); err != nil {
				return err
			}
		}
		if t.rt.State() == supervisor.Ready {
			t.forceHeater(ctx, math.Min(previous, t.safetyCap))
		}
		return nil
	}()
	if err != nil {
		return err // disconnecting (heater stays 0, nothing published) or a sensor failure
	}
	if dosed := time.Unix(0, t.lastDose.Load()); !dosed.Before(times[0].Add(-doseSettle)) {
		t.rt.Log().Debug("temperature inference skipped: the vial was dosed during it", "dosed_at", dosed)
		return nil
	}
	temp, err := t.inferFrom(previous, heaterOff, times, samples)
	if err != nil {
		t.rt.Log().Error("temperature inference failed", "err", err)
		return nil
	}
	if err := t.publishTemperature(ctx, temp); err != nil {
		t.rt.Log().Debug("publish temperature", "err", err)
	}
	t.runOnce(ctx, supervisor.Ready, supervisor.Init)
	return nil
}

func (t *TemperatureAutomation) publishTemperature(ctx context.Context, v float64) error {
	v = roundTo(v, 2)
	t.temperature, t.haveTemperature = v, true
	return t.rt.Set(ctx, "temperature", contract.Temperature{Timestamp: contract.Timestamp(t.rt.Clock().Now()), Temperature: contract.Decimal(v)})
}

// Sleep pauses: the heater goes off (inference ticks are ignored while not ready).
func (t *TemperatureAutomation) Sleep(ctx context.Context) error {
	t.forceHeater(ctx, 0)
	return t.sleep(ctx)
}

// Wake resumes; the heater stays off until the automation next runs.
func (t *TemperatureAutomation) Wake(ctx context.Context) error { return t.wake(ctx) }

// heaterCache is the unit-wide memory of when the heater last went to 0 (the reference's
// intermittent cache `last_heating_timestamp`), shared by successive runs of the job.
type heaterCache struct {
	mu    sync.Mutex
	off   time.Time
	users int // running jobs holding it; guarded by heaterCachesMu
}

// heaterCaches maps a thermometer to its heaterCache while a job uses it, and for
// heaterOffLongAgo after the last user let go (the next run still needs to know the heater
// was just on); acquire and release prune older entries, so boards that are gone (a removed
// simulated worker) are not kept forever. Age is judged by the caller's clock: the daemon
// has one clock for every unit.
var (
	heaterCaches   sync.Map // hal.Thermometer → *heaterCache
	heaterCachesMu sync.Mutex
)

// acquireHeaterCache returns dev's cache; pair it with releaseHeaterCache.
func acquireHeaterCache(dev hal.Thermometer, now time.Time) *heaterCache {
	if t := reflect.TypeOf(dev); t == nil || !t.Comparable() {
		return &heaterCache{}
	}
	heaterCachesMu.Lock()
	defer heaterCachesMu.Unlock()
	pruneHeaterCaches(now)
	c, _ := heaterCaches.LoadOrStore(dev, &heaterCache{})
	hc := c.(*heaterCache)
	hc.users++
	return hc
}

func releaseHeaterCache(dev hal.Thermometer, now time.Time) {
	if t := reflect.TypeOf(dev); t == nil || !t.Comparable() {
		return
	}
	heaterCachesMu.Lock()
	defer heaterCachesMu.Unlock()
	if c, ok := heaterCaches.Load(dev); ok {
		c.(*heaterCache).users--
	}
	pruneHeaterCaches(now)
}

// pruneHeaterCaches drops the entries nobody holds whose heater has been off long enough
// (or never went off) to be of no use; heaterCachesMu is held.
func pruneHeaterCaches(now time.Time) {
	heaterCaches.Range(func(k, v any) bool {
		c := v.(*heaterCache)
		if off := c.lastOff(); c.users <= 0 && (off.IsZero() || now.Sub(off) >= heaterOffLongAgo) {
			heaterCaches.Delete(k)
		}
		return true
	})
}

func (c *heaterCache) lastOff() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.off
}

func (c *heaterCache) setOff(at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off = at
}
