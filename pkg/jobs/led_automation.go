package jobs

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// LEDAutomation runs an LED automation chosen by `automation_name` (docs/jobs.md, "led_automation"). It
// writes LEDs through the unit's LED bank, so its changes appear in leds/intensity and
// led_change_events like the led_intensity action's, and switches every channel it set off
// when it ends.
type LEDAutomation struct {
	automationBase
	name string
	algo Automation

	bank *ledBank
	used map[string]bool // channels set successfully, switched off at the end

	phase     chan time.Time // the automation's one-shot timer (schedule)
	phaseStop context.CancelFunc
}

// NewLEDAutomationSpec is the job table entry; registry holds the automations
// `automation_name` may choose (LEDAutomations in production).
func NewLEDAutomationSpec(registry map[string]LEDFactory) supervisor.Spec {
	return supervisor.Spec{Name: "led_automation", New: func(o supervisor.Options) (supervisor.Job, error) {
		return newLEDAutomation(o, registry)
	}}
}

// LEDFactory builds an LED automation from its start options.
type LEDFactory func(o supervisor.Options, l *LEDAutomation) (Automation, error)

// LEDAutomations returns a fresh copy of the production LED automations.
func LEDAutomations() map[string]LEDFactory {
	return map[string]LEDFactory{
		"silent":           newLEDSilent,
		"light_dark_cycle": newLightDarkCycle,
	}
}

const (
	ledRetries   = 6 // attempts of a locked channel, …
	ledRetryWait = 500 * time.Millisecond
)

func newLEDAutomation(o supervisor.Options, registry map[string]LEDFactory) (supervisor.Job, error) {
	l := &LEDAutomation{used: map[string]bool{}, phase: make(chan time.Time, 1)}
	name, factory, err := pickAutomation("led_automation", registry, o)
	if err != nil {
		return nil, err
	}
	algo, err := factory(o, l)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	l.name, l.algo = name, algo
	return l, nil
}

// Run implements supervisor.Job.
func (l *LEDAutomation) Run(ctx context.Context, rt *supervisor.Runtime) error {
	dev := rt.Board().LEDs
	if dev == nil {
		return fmt.Errorf("led_automation needs the LED driver: %w", hal.ErrNotPresent)
	}
	l.bank = unitLEDs(dev)
	if err := l.init(ctx, rt, l.name, l.algo); err != nil {
		return err
	}
	defer l.stop(context.WithoutCancel(ctx))
	defer l.allOff(context.WithoutCancel(ctx))
	defer l.cancelPhase()
	if err := l.startAutomation(ctx); err != nil {
		return err
	}
	if err := rt.Ready(ctx); err != nil {
		return err
	}
	if w, ok := l.algo.(automationWaker); ok {
		if err := w.Wake(ctx); err != nil { // the first run and timer, as on every resume
			return err
		}
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case c := <-rt.Commands():
			rt.Apply(ctx, c)
		case <-l.everyC():
			l.onEvery(ctx)
		case <-l.phase:
			if p, ok := l.algo.(phaseRunner); ok {
				p.onPhase(ctx)
			}
		}
	}
}

// phaseRunner is an LED automation driven by the one-shot phase timer.
type phaseRunner interface {
	onPhase(ctx context.Context)
}

// schedule arms the one-shot phase timer d from now, replacing an armed one.
func (l *LEDAutomation) schedule(d time.Duration) {
	l.cancelPhase()
	ctx, cancel := context.WithCancel(l.ctx)
	l.phaseStop = cancel
	l.rt.Go(func() {
		if l.rt.Clock().Sleep(ctx, d) != nil {
			return
		}
		select {
		case l.phase <- l.rt.Clock().Now():
		case <-ctx.Done():
		}
	})
}

// cancelPhase disarms the phase timer and drops a tick not yet read.
func (l *LEDAutomation) cancelPhase() {
	if l.phaseStop != nil {
		l.phaseStop()
		l.phaseStop = nil
	}
	select {
	case <-l.phase:
	default:
	}
}

// setLED sets one channel for the automation, retrying while another job holds it locked (an
// OD reading in progress); it reports whether the channel was set.
func (l *LEDAutomation) setLED(ctx context.Context, channel string, pct float64) bool {
	c := ledChange{desired: map[string]float64{channel: pct}, source: "led_automation:" + l.name, verbose: true}
	var err error
	for attempt := range ledRetries {
		if attempt > 0 {
			if l.wait(ctx, ledRetryWait) != nil {
				return false
			}
		}
		var ok bool
		if ok, err = setLEDs(ctx, l.rt, l.bank, c); ok {
			l.used[channel] = true
			return true
		}
		if !errors.Is(err, errLEDLocked) {
			break
		}
	}
	l.rt.Log().Warn(fmt.Sprintf("%s was unable to update channel %s", l.name, channel), "err", err)
	return false
}

// allOff switches off every channel the automation set.
func (l *LEDAutomation) allOff(ctx context.Context) {
	if len(l.used) == 0 {
		return
	}
	desired := map[string]float64{}
	for ch := range l.used {
		desired[ch] = 0
	}
	if _, err := setLEDs(ctx, l.rt, l.bank, ledChange{desired: desired, source: "led_automation:" + l.name, verbose: true}); err != nil {
		l.rt.Log().Error("could not switch the LEDs off", "err", err)
	}
}

// Sleep pauses the automation (its phase timer stops; LEDs stay as they are).
func (l *LEDAutomation) Sleep(ctx context.Context) error {
	l.cancelPhase()
	return l.sleep(ctx)
}

// Wake resumes the automation.
func (l *LEDAutomation) Wake(ctx context.Context) error { return l.wake(ctx) }

// ledSilent changes nothing.
type ledSilent struct{}

func newLEDSilent(supervisor.Options, *LEDAutomation) (Automation, error) { return ledSilent{}, nil }

func (ledSilent) Execute(context.Context) (*contract.AutomationEvent, error) {
	return contract.NewAutomationEvent(contract.NoEvent, "no changes occur in Silent", nil), nil
}

// lightDarkCycle alternates light and dark phases on channels D and C (docs/jobs.md, "led_automation").
type lightDarkCycle struct {
	l                 *LEDAutomation
	intensity         float64 // %
	lightMin, darkMin float64 // phase lengths, minutes
	channels          []string
	t0                time.Time
	lightActive       bool
}

func newLightDarkCycle(o supervisor.Options, l *LEDAutomation) (Automation, error) {
	c := &lightDarkCycle{l: l, channels: []string{"D", "C"}}
	var r collect
	c.intensity = r.float(o.Float("light_intensity", 5))
	c.lightMin = r.float(o.Float("light_duration_minutes", 960))
	c.darkMin = r.float(o.Float("dark_duration_minutes", 480))
	if err := r.err(); err != nil {
		return nil, err
	}
	if err := checkIntensity(c.intensity); err != nil {
		return nil, err
	}
	if err := errors.Join(checkLEDPhase("light_duration_minutes", c.lightMin), checkLEDPhase("dark_duration_minutes", c.darkMin)); err != nil {
		return nil, err
	}
	for _, ch := range c.channels {
		if ir, ok := o.Config.LEDChannelFor("IR"); ok && ir == ch {
			return nil, fmt.Errorf("light_dark_cycle drives LED channels D and C, but [leds] %s is the IR LED", ch)
		}
	}
	return c, nil
}

// checkLEDPhase accepts 0 (the phase never comes) or [minLEDPhase, a year] in minutes: a
// phase of a few nanoseconds would switch the LEDs back to back.
func checkLEDPhase(name string, minutes float64) error {
	if minutes == 0 {
		return nil
	}
	if _, err := clock.Range(minutes, time.Minute, minLEDPhase, clock.MaxDuration); err != nil {
		return fmt.Errorf("%s must be 0, or from %v to a year: %w", name, minLEDPhase, err)
	}
	return nil
}

func checkIntensity(v float64) error {
	if !(v >= 0 && v <= 100) {
		return fmt.Errorf("light_intensity %v must be within 0–100", v)
	}
	return nil
}

func (c *lightDarkCycle) Settings() []supervisor.Setting {
	return []supervisor.Setting{
		{Name: "light_intensity", Datatype: contract.Float, Unit: "%", Settable: true, OnSet: c.onIntensity},
		{Name: "light_duration_minutes", Datatype: contract.Float, Unit: "min", Settable: true, OnSet: c.onDuration("light_duration_minutes", &c.lightMin)},
		{Name: "dark_duration_minutes", Datatype: contract.Float, Unit: "min", Settable: true, OnSet: c.onDuration("dark_duration_minutes", &c.darkMin)},
	}
}

// Start publishes the settings; the cycle's clock starts now, light phase first.
func (c *lightDarkCycle) Start(ctx context.Context) error {
	c.t0 = c.l.rt.Clock().Now()
	for _, s := range []struct {
		name string
		v    float64
	}{{"light_intensity", c.intensity}, {"light_duration_minutes", c.lightMin}, {"dark_duration_minutes", c.darkMin}} {
		if err := c.l.set(ctx, s.name, s.v); err != nil {
			return err
		}
	}
	return nil
}

// Wake runs once and arms the timer for the next phase boundary (at start and on resume).
func (c *lightDarkCycle) Wake(ctx context.Context) error {
	c.onPhase(ctx)
	return nil
}

func (c *lightDarkCycle) onPhase(ctx context.Context) {
	c.l.runOnce(ctx)
	c.arm()
}

// elapsed is the cycle position in minutes since the start.
func (c *lightDarkCycle) elapsed() float64 {
	return c.l.rt.Clock().Now().Sub(c.t0).Minutes()
}

// wantLight is the phase logic at e minutes.
func (c *lightDarkCycle) wantLight(e float64) bool {
	switch {
	case c.lightMin <= 0:
		return false
	case c.darkMin <= 0:
		return true
	}
	return math.Mod(e, c.lightMin+c.darkMin) < c.lightMin
}

// arm schedules the next run at the next phase boundary.
func (c *lightDarkCycle) arm() {
	if c.lightMin <= 0 || c.darkMin <= 0 || c.l.rt.State() != supervisor.Ready {
		c.l.cancelPhase()
		return
	}
	pos := math.Mod(c.elapsed(), c.lightMin+c.darkMin)
	next := c.lightMin - pos
	if pos >= c.lightMin {
		next = c.lightMin + c.darkMin - pos
	}
	c.l.schedule(max(50*time.Millisecond, clock.Saturate(next, time.Minute)))
}

func (c *lightDarkCycle) Execute(ctx context.Context) (*contract.AutomationEvent, error) {
	e := c.elapsed()
	want := c.wantLight(e)
	if want == c.lightActive {
		return nil, nil
	}
	c.lightActive = want
	pct, word := 0.0, "off"
	if want {
		pct, word = c.intensity, "on"
	}
	for _, ch := range c.channels {
		c.l.setLED(ctx, ch, pct)
	}
	return contract.NewAutomationEvent(contract.ChangedLedIntensity, fmt.Sprintf("%.1fmin: turned %s LEDs.", e, word), nil), nil
}

func (c *lightDarkCycle) onIntensity(v any) error {
	pct := v.(float64)
	if err := checkIntensity(pct); err != nil {
		return err
	}
	c.intensity = pct
	if c.lightActive {
		for _, ch := range c.channels {
			c.l.setLED(c.l.ctx, ch, pct)
		}
	}
	return c.l.set(c.l.ctx, "light_intensity", pct)
}

func (c *lightDarkCycle) onDuration(name string, dst *float64) func(v any) error {
	return func(v any) error {
		m := v.(float64)
		if err := checkLEDPhase(name, m); err != nil {
			return err
		}
		*dst = m
		if err := c.l.set(c.l.ctx, name, m); err != nil {
			return err
		}
		if c.l.rt.State() == supervisor.Ready {
			c.onPhase(c.l.ctx)
		}
		return nil
	}
}
