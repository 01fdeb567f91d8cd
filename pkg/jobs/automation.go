package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// The automation framework (docs/jobs.md, "Automation framework"), shared by the temperature, dosing and LED
// automation jobs.
//
// A family is one job name (temperature_automation, dosing_automation, led_automation). Its job
// type embeds automationBase, which owns what every automation has in common: the
// `automation_name` and `latest_event` settings, run_once and run_every, the `duration` setter,
// the AutomationSettings records, and the sensor inputs (automation_inputs.go). The algorithm is
// an Automation chosen at start from the family's registry by the `automation_name` option.
// A family looks like this (temperature_automation.go and led_automation.go are complete examples):
//
//	type DosingAutomation struct {
//		automationBase
//		name string
//		algo Automation
//		... // pumps, volumes: what every dosing automation uses
//	}
//
//	type DosingFactory func(o supervisor.Options, d *DosingAutomation) (Automation, error)
//
//	// DosingAutomations is the production registry; the daemon hands it to the spec, a test
//	// hands its own copy (with test automations added): nobody mutates a package-level table.
//	func DosingAutomations() map[string]DosingFactory { return map[string]DosingFactory{"chemostat": newChemostat, ...} }
//
//	func NewDosingAutomationSpec(registry map[string]DosingFactory) supervisor.Spec {
//		return supervisor.Spec{Name: "dosing_automation", New: func(o supervisor.Options) (supervisor.Job, error) {
//			return newDosingAutomation(o, registry)
//		}}
//	}
//
//	func newDosingAutomation(o supervisor.Options, registry map[string]DosingFactory) (supervisor.Job, error) {
//		d := &DosingAutomation{}
//		name, factory, err := pickAutomation("dosing_automation", registry, o)
//		if err != nil {
//			return nil, err // unknown name: the error lists the available ones
//		}
//		algo, err := factory(o, d) // reads and checks its options
//		if err != nil {
//			return nil, err
//		}
//		d.name, d.algo = name, algo
//		return d, nil
//	}
//
//	func (d *DosingAutomation) Run(ctx context.Context, rt *supervisor.Runtime) error {
//		if err := d.init(ctx, rt, d.name, d.algo, familySettings...); err != nil {
//			return err
//		}
//		defer d.stop(context.WithoutCancel(ctx))
//		if err := d.startAutomation(ctx); err != nil { // the algorithm's Start: initial values, runEvery
//			return err
//		}
//		if err := rt.Ready(ctx); err != nil {
//			return err
//		}
//		return d.serve(ctx) // commands + run_every; or the family's own select loop with d.everyC()
//	}
//
// Factories run in the job's New: they read options (numbers may come as strings: use o.Float)
// and return an error for bad input, so nothing is published for a refused start. A factory
// receives the family job, and the automation keeps that pointer to reach the family's helpers
// (heater, pumps) and the base's (set, runEvery, latest inputs, wait) during Execute.
//
// Everything here runs on the job's goroutine (Execute, setters, timers), so automations need
// no locks; the only exception is the sensor inputs, fed by MQTT delivery goroutines and
// guarded inside automation_inputs.go. Execute may take long (a dose): it then waits with
// automationBase.wait, which keeps applying /set commands and pauses meanwhile.

// Automation is one algorithm of a family.
type Automation interface {
	// Execute runs one step. A nil event means nothing happened (latest_event is cleared). An
	// error becomes an ErrorOccurred event: errors wrapping ErrRequiredData are logged as
	// warnings (missing or stale inputs), others as errors.
	Execute(ctx context.Context) (*contract.AutomationEvent, error)
}

// Optional hooks an Automation may implement. The base calls them; a family job calls the
// base (init, startAutomation, sleep, wake, stop) at the matching points of its life.
type (
	// automationSettings declares the automation's own settings, after the family's. Settable
	// settings without OnSet are assigned through automationBase.set; settable settings with an
	// OnSet must publish the accepted value with automationBase.set themselves, so that each
	// assignment publishes one AutomationSettings record.
	automationSettings interface {
		Settings() []supervisor.Setting
	}
	// automationStarter runs after the settings are declared and before `ready`: publish the
	// initial values (with automationBase.set), start timers (runEvery).
	automationStarter interface {
		Start(ctx context.Context) error
	}
	// automationSleeper and automationWaker run when the job is paused and resumed.
	automationSleeper interface {
		Sleep(ctx context.Context) error
	}
	automationWaker interface {
		Wake(ctx context.Context) error
	}
	// automationStopper runs when the job ends, however it ends (switch outputs off).
	automationStopper interface {
		Stop(ctx context.Context)
	}
)

// pickAutomation reads the `automation_name` option and finds it in a family's registry. An
// unknown or missing name is an error listing the available ones.
func pickAutomation[F any](job string, registry map[string]F, o supervisor.Options) (string, F, error) {
	var zero F
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	if !o.Has("automation_name") {
		return "", zero, fmt.Errorf("%s needs the option automation_name, one of: %s", job, strings.Join(names, ", "))
	}
	name := o.String("automation_name", "")
	f, ok := registry[name]
	if !ok || name == "config" {
		return "", zero, fmt.Errorf("%w: %q is not a %s; available: %s", ErrUnknownAutomation, name, job, strings.Join(names, ", "))
	}
	return name, f, nil
}

// automationBase is the part of an automation job shared by all families. Its zero value is
// ready for New; init completes it in Run.
type automationBase struct {
	rt   *supervisor.Runtime
	ctx  context.Context // the job's context, for timers restarted from setters
	name string          // automation_name
	algo Automation

	running bool      // run_once in progress (run_once is not re-entrant)
	lastRun time.Time // start of the latest run_once; zero if never run

	every  *repeat // run_every timer; nil when the automation has none
	period time.Duration
	// everyUnpaused: the timer was armed while the job slept, so it is not paused with it
	// (automation_wait.go).
	everyUnpaused bool

	settable    []string  // settable settings in declaration order (AutomationSettings)
	periodStart time.Time // start of the current AutomationSettings period

	inputs *automationInputs
}

// init declares automation_name, latest_event, the family's settings and the automation's,
// publishes automation_name, and subscribes to the sensor inputs.
func (a *automationBase) init(ctx context.Context, rt *supervisor.Runtime, name string, algo Automation, family ...supervisor.Setting) error {
	a.rt, a.ctx, a.name, a.algo = rt, ctx, name, algo
	a.periodStart = rt.Clock().Now()
	settings := []supervisor.Setting{
		{Name: "automation_name", Datatype: contract.String},
		{Name: "latest_event", Datatype: contract.TypeAutomationEvent},
	}
	settings = append(settings, family...)
	if s, ok := algo.(automationSettings); ok {
		settings = append(settings, s.Settings()...)
	}
	for i, s := range settings {
		if !s.Settable {
			continue
		}
		a.settable = append(a.settable, s.Name)
		if s.OnSet == nil {
			name := s.Name
			settings[i].OnSet = func(v any) error { return a.set(a.ctx, name, v) }
		}
	}
	if err := rt.Declare(settings...); err != nil {
		return err
	}
	if err := rt.Set(ctx, "automation_name", name); err != nil {
		return err
	}
	a.inputs = newAutomationInputs(rt.Clock())
	return a.inputs.subscribe(ctx, rt)
}

// startAutomation runs the automation's Start hook, if it has one.
func (a *automationBase) startAutomation(ctx context.Context) error {
	if s, ok := a.algo.(automationStarter); ok {
		return s.Start(ctx)
	}
	return nil
}

// set assigns a setting and, when it is settable, publishes an AutomationSettings record.
func (a *automationBase) set(ctx context.Context, name string, v any) error {
	if err := a.rt.Set(ctx, name, v); err != nil {
		return err
	}
	if slices.Contains(a.settable, name) {
		a.publishSettings(ctx, false)
	}
	return nil
}

// publishSettings closes the current settings period at now and starts a new one; the final
// record, written when the job ends, shows the state as disconnected.
func (a *automationBase) publishSettings(ctx context.Context, final bool) {
	now := a.rt.Clock().Now()
	end := contract.Timestamp(now)
	rec := contract.AutomationSettings{PioreactorUnit: a.rt.Unit(), Experiment: a.rt.Experiment(),
		StartedAt: contract.Timestamp(a.periodStart), EndedAt: &end, AutomationName: a.name,
		Settings: a.settingsJSON(final)}
	topic := contract.AutomationSettingsTopic(a.rt.Unit(), a.rt.Experiment(), a.rt.Job())
	if err := a.rt.Publish(ctx, topic, contract.Marshal(rec), pubsub.ExactlyOnce, false); err != nil {
		a.rt.Log().Debug("publish automation settings", "err", err)
	}
	a.periodStart = now
}

// settingsJSON is the JSON object of the settable settings in declaration order, then state.
func (a *automationBase) settingsJSON(final bool) []byte {
	var b strings.Builder
	b.WriteByte('{')
	for _, name := range append(slices.Clone(a.settable), "state") {
		v := a.rt.Value(name)
		if name == "state" {
			v = string(a.rt.State())
			if final {
				v = string(supervisor.Disconnected)
			}
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(name)
		b.Write(k)
		b.WriteByte(':')
		b.Write(jsonValue(v))
	}
	b.WriteByte('}')
	return []byte(b.String())
}

// jsonValue renders a setting value as JSON, floats with a decimal point (20.0).
func jsonValue(v any) []byte {
	var out []byte
	var err error
	switch x := v.(type) {
	case float64:
		out, err = contract.Decimal(x).MarshalJSON()
	case json.RawMessage:
		out = x
	default:
		out, err = json.Marshal(x)
	}
	if err != nil || len(out) == 0 {
		return []byte("null")
	}
	return out
}

// runOnce executes the automation once if the job is in one of the allowed states (default:
// ready) and no run is in progress, and publishes the result as latest_event.
func (a *automationBase) runOnce(ctx context.Context, allowed ...supervisor.State) *contract.AutomationEvent {
	if len(allowed) == 0 {
		allowed = []supervisor.State{supervisor.Ready}
	}
	if a.running {
		a.rt.Log().Debug("automation already running; run dropped")
		return nil
	}
	if !slices.Contains(allowed, a.rt.State()) {
		return nil
	}
	a.running = true
	defer func() { a.running = false }()
	a.lastRun = a.rt.Clock().Now()
	ev, err := a.algo.Execute(ctx)
	if ctx.Err() != nil {
		return nil // stopping: nothing more is published
	}
	log := a.rt.Log()
	switch {
	case errors.Is(err, ErrRequiredData):
		log.Warn(err.Error())
		ev = contract.NewAutomationEvent(contract.ErrorOccurred, err.Error(), nil)
	case err != nil:
		log.Error(err.Error())
		ev = contract.NewAutomationEvent(contract.ErrorOccurred, err.Error(), nil)
	case ev != nil:
		msg := ""
		if ev.Message != nil {
			msg = *ev.Message
		}
		log.Info(ev.EventName + ": " + msg)
	}
	var value any // an untyped nil clears the retained event
	if ev != nil {
		value = *ev
	}
	if err := a.rt.Set(ctx, "latest_event", value); err != nil {
		log.Debug("publish latest_event", "err", err)
	}
	return ev
}

// runEvery starts the periodic run: every `minutes`, first after runAfter, or after one full
// period when skipFirst (docs/jobs.md, "Automation framework").
func (a *automationBase) runEvery(minutes float64, skipFirst bool, runAfter time.Duration) error {
	period, err := automationPeriod(minutes)
	if err != nil {
		return err
	}
	a.period = period
	if skipFirst {
		runAfter = a.period
	}
	a.restartEvery(max(0, runAfter))
	return nil
}

func (a *automationBase) restartEvery(runAfter time.Duration) {
	if a.every != nil {
		a.every.Stop()
	}
	a.every = newRepeat(a.ctx, a.rt.Clock(), runAfter, a.period)
	a.everyUnpaused = a.rt.State() == supervisor.Sleeping
}

// setDuration changes the run_every period: the timer restarts at once, the next run comes
// `minutes` after the previous one (or now, if that is past or there was none).
func (a *automationBase) setDuration(minutes float64) error {
	period, err := automationPeriod(minutes)
	if err != nil {
		return err
	}
	a.period = period
	var runAfter time.Duration
	if !a.lastRun.IsZero() {
		runAfter = max(0, a.period-a.rt.Clock().Now().Sub(a.lastRun))
	}
	a.restartEvery(runAfter)
	return nil
}

// durationSetting is the settable `duration` (minutes) of automations that run periodically.
func (a *automationBase) durationSetting() supervisor.Setting {
	return supervisor.Setting{Name: "duration", Datatype: contract.Float, Unit: "min", Settable: true,
		OnSet: func(v any) error {
			m := v.(float64)
			if err := a.setDuration(m); err != nil {
				return err
			}
			return a.set(a.ctx, "duration", m)
		}}
}

// everyC delivers the run_every ticks; nil (never ready) when there is no timer.
func (a *automationBase) everyC() <-chan time.Time {
	if a.every == nil {
		return nil
	}
	return a.every.C
}

// onEvery handles a run_every tick: run once, then drop a tick that came during the run, as
// the reference's non-reentrant run_once would.
func (a *automationBase) onEvery(ctx context.Context) {
	a.onTimedRun(ctx)
	select {
	case <-a.everyC():
	default:
	}
}

// serve is the main loop of an automation job without timers of its own.
func (a *automationBase) serve(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case c := <-a.rt.Commands():
			a.rt.Apply(ctx, c)
		case <-a.everyC():
			a.onEvery(ctx)
		}
	}
}

// wait lets d of clock time pass inside Execute while still applying commands (a setter, a
// pause). A command that asks for a run meanwhile is dropped, since run_once is in progress.
func (a *automationBase) wait(ctx context.Context, d time.Duration) error {
	done := make(chan error, 1)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	a.rt.Go(func() { done <- a.rt.Clock().Sleep(wctx, d) })
	for {
		select {
		case err := <-done:
			return err
		case c := <-a.rt.Commands():
			a.rt.Apply(ctx, c)
		}
	}
}

// sleep and wake forward a pause and a resume to the automation's hooks.
func (a *automationBase) sleep(ctx context.Context) error {
	a.everyUnpaused = false // a pause pauses the timer
	if s, ok := a.algo.(automationSleeper); ok {
		return s.Sleep(ctx)
	}
	return nil
}

func (a *automationBase) wake(ctx context.Context) error {
	if w, ok := a.algo.(automationWaker); ok {
		return w.Wake(ctx)
	}
	return nil
}

// stop ends the timers, runs the automation's Stop hook and closes the settings period.
// Call it with a context that is not cancelled (context.WithoutCancel).
func (a *automationBase) stop(ctx context.Context) {
	if a.every != nil {
		a.every.Stop()
	}
	if s, ok := a.algo.(automationStopper); ok {
		s.Stop(ctx)
	}
	if a.rt != nil {
		a.publishSettings(ctx, true)
	}
}

// automationPeriod checks a run_every `duration` in minutes: [minAutomationPeriod, a year].
func automationPeriod(minutes float64) (time.Duration, error) {
	return durationIn("duration", minutes, time.Minute, minAutomationPeriod, clock.MaxDuration)
}
