package jobs

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pioreactor/pioreactord/pkg/calibration"
	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// DosingAutomation is the dosing_automation job (docs/jobs.md, "dosing_automation"): the automation chosen by
// `automation_name` (from the registry given to NewDosingAutomationSpec) moves liquid with the unit's pumps, each dose split
// into sub-doses (dosing_transfer.go), guarded against overflowing the vial.
type DosingAutomation struct {
	automationBase
	d    *Dosing
	conf *config.Config
	name string
	algo Automation

	pauseBetween time.Duration // between the inflows of a sub-dose
	wasteMult    float64       // extra waste per sub-dose, × its waste
	maxSubdose   float64       // mL of inflow above which a dose is split in halves

	pumps map[string]dosingPump // by action (add_media, …): the pumps this automation uses
	start map[string]float64    // bioreactor start options given

	trigger    chan struct{} // event-driven runs (turbidostat)
	volumes    chan float64  // bioreactor/current_volume_ml updates, for the volume guard
	pausing    bool          // a pause was requested by the automation itself, not yet applied
	lastWarn   time.Time     // of the near-full warning
	doseMu     sync.Mutex    // guards cancelDose: pump-stop messages arrive on delivery goroutines
	cancelDose func()        // stops the dose in flight; nil when none
	events     *eventSink
}

// dosingPump is one pump of the automation: its PWM channel and active calibration.
type dosingPump struct {
	kind    pumpKind
	channel string
	cal     calibration.Calibration
}

// DosingFactory builds a dosing automation from its start options.
type DosingFactory func(o supervisor.Options, d *DosingAutomation) (Automation, error)

// DosingAutomations returns a fresh copy of the production dosing automations.
func DosingAutomations() map[string]DosingFactory {
	return map[string]DosingFactory{
		"silent":          newSilentDosing,
		"chemostat":       newChemostat,
		"turbidostat":     newTurbidostat,
		"pid_morbidostat": newPIDMorbidostat,
		"fed_batch":       newFedBatch,
	}
}

// dosingJobName is the family's job name.
const dosingJobName = "dosing_automation"

const dosingSection = "dosing_automation.config"

// NewDosingAutomationSpec is the job table entry; registry holds the automations
// `automation_name` may choose (DosingAutomations in production).
func NewDosingAutomationSpec(d *Dosing, registry map[string]DosingFactory) supervisor.Spec {
	return supervisor.Spec{Name: dosingJobName, New: func(o supervisor.Options) (supervisor.Job, error) {
		return newDosingAutomation(d, registry, o)
	}}
}

func newDosingAutomation(d *Dosing, registry map[string]DosingFactory, o supervisor.Options) (*DosingAutomation, error) {
	if d == nil || d.Bioreactor == nil {
		return nil, fmt.Errorf("%s: no bioreactor book configured", dosingJobName)
	}
	name, factory, err := pickAutomation(dosingJobName, registry, o)
	if err != nil {
		return nil, err
	}
	var r collect
	a := &DosingAutomation{d: d, conf: o.Config, name: name,
		wasteMult:  r.float(o.Config.Float(dosingSection, "waste_removal_multiplier", 2)),
		maxSubdose: r.float(maxSubdose(o.Config)),
		pumps:      map[string]dosingPump{}, start: map[string]float64{},
		trigger: make(chan struct{}, 1), volumes: make(chan float64, 1)}
	if err := r.err(); err != nil {
		return nil, err
	}
	if a.pauseBetween, err = subdosePause(o.Config); err != nil {
		return nil, err
	}
	if !(a.wasteMult >= 0) || math.IsInf(a.wasteMult, 0) {
		return nil, fmt.Errorf("[%s] waste_removal_multiplier %v must be 0 or more", dosingSection, a.wasteMult)
	}
	if err := a.readStartValues(o); err != nil {
		return nil, err
	}
	algo, err := factory(o, a)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	a.algo = algo
	return a, nil
}

// vessel is the unit's model now: a model learned while the automation runs guards its next dose.
func (a *DosingAutomation) vessel() Vessel { return a.d.Bioreactor.Vessel() }

// readStartValues checks the bioreactor start options; unset ones come from the book in Run.
func (a *DosingAutomation) readStartValues(o supervisor.Options) error {
	if _, err := a.d.Bioreactor.Values(o.Experiment, o.Config); err != nil {
		return err
	}
	var r collect
	for _, name := range []string{contract.AltMediaFraction, contract.CurrentVolumeML, contract.EffluxTubeVolumeML} {
		if o.Has(name) {
			a.start[name] = r.float(o.Float(name, 0))
		}
	}
	if err := r.err(); err != nil {
		return err
	}
	probe := BioreactorValues{}
	for name, v := range a.start {
		*probe.field(name) = v
	}
	return probe.Validate(a.vessel())
}

// needPumps resolves the pumps an automation doses with: each must be mapped in [PWM] and
// have an active calibration, checked before the job starts (docs/jobs.md, "Transfers").
func (a *DosingAutomation) needPumps(o supervisor.Options, kinds ...pumpKind) error {
	for _, k := range kinds {
		ch, ok := o.Config.PWMChannelFor(k.role)
		if !ok {
			return fmt.Errorf("%w: add `%s` to the [PWM] section of config.ini", ErrNoCalibration, k.role)
		}
		cal, ok, err := a.d.activeCalibration(k)
		if err != nil {
			return err
		}
		if !ok {
			return noCalibration(k)
		}
		a.pumps[k.action] = dosingPump{kind: k, channel: ch, cal: cal}
	}
	return nil
}

// Run implements supervisor.Job.
func (a *DosingAutomation) Run(ctx context.Context, rt *supervisor.Runtime) error {
	if err := a.init(ctx, rt, a.name, a.algo); err != nil {
		return err
	}
	defer a.stop(context.WithoutCancel(ctx))
	a.events = newEventSink(rt)
	defer a.events.close()
	defer a.stopPumps(context.WithoutCancel(ctx))
	if err := a.publishStartValues(ctx); err != nil {
		return err
	}
	if err := a.subscribe(ctx); err != nil {
		return err
	}
	if err := a.startAutomation(ctx); err != nil {
		return err
	}
	if err := rt.Ready(ctx); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case c := <-rt.Commands():
			rt.Apply(ctx, c)
		case <-a.everyC():
			a.onEvery(ctx)
		case <-a.trigger:
			a.runOnce(ctx)
		case v := <-a.volumes:
			a.guardVolume(ctx, v)
		}
	}
}

// publishStartValues stores the bioreactor start options (unset ones from the book) and
// publishes the three values retained.
func (a *DosingAutomation) publishStartValues(ctx context.Context) error {
	exp := a.rt.Experiment()
	_, now, err := a.d.Bioreactor.Update(exp, a.conf, a.start)
	if err != nil {
		return err
	}
	return publishBioreactor(ctx, a.rt, exp, now, contract.AltMediaFraction, contract.CurrentVolumeML, contract.EffluxTubeVolumeML)
}

// subscribe follows the bookkeeping's volume (guard) and the pump actions' stop topics, which
// also stop this automation's dose in flight, as they would stop the reference's pump call.
func (a *DosingAutomation) subscribe(ctx context.Context) error {
	rt := a.rt
	topic := contract.BioreactorTopic(rt.Unit(), rt.Experiment(), contract.CurrentVolumeML)
	if err := rt.Subscribe(ctx, topic, pubsub.ExactlyOnce, func(m pubsub.Message) {
		v, err := strconv.ParseFloat(strings.TrimSpace(string(m.Payload)), 64)
		if err != nil {
			return
		}
		select { // keep only the latest
		case <-a.volumes:
		default:
		}
		select {
		case a.volumes <- v:
		default:
		}
	}); err != nil {
		return fmt.Errorf("subscribe to %s: %w", topic, err)
	}
	for _, k := range []pumpKind{mediaPump, altMediaPump, wastePump} {
		for _, unit := range []string{rt.Unit(), contract.Broadcast} {
			for _, exp := range []string{rt.Experiment(), contract.UniversalExp} {
				topic := contract.SetTopic(unit, exp, k.action, contract.StateAttr)
				if err := rt.Subscribe(ctx, topic, pubsub.ExactlyOnce, a.onPumpStop); err != nil {
					return fmt.Errorf("subscribe to %s: %w", topic, err)
				}
			}
		}
	}
	return nil
}

func (a *DosingAutomation) onPumpStop(m pubsub.Message) {
	if m.Retained || strings.TrimSpace(string(m.Payload)) != string(supervisor.Disconnected) {
		return
	}
	a.doseMu.Lock()
	defer a.doseMu.Unlock()
	if a.cancelDose != nil {
		a.cancelDose()
	}
}

// guardVolume reacts to a new current_volume_ml: at the maximum fill it pauses the automation,
// near it (95 %) it warns, at most once per 10 s.
func (a *DosingAutomation) guardVolume(ctx context.Context, v float64) {
	maxStop := a.vessel().MaxFillML
	switch {
	case v >= maxStop:
		a.rt.Log().Error(fmt.Sprintf("Current volume %s mL has reached the maximum fill volume %s mL. Pausing dosing.", round3(v), round3(maxStop)))
		a.pause(ctx)
	case v >= 0.95*maxStop:
		if now := a.rt.Clock().Now(); now.Sub(a.lastWarn) >= 10*time.Second {
			a.lastWarn = now
			a.rt.Log().Warn(fmt.Sprintf("Current volume %s mL is close to the maximum fill volume %s mL.", round3(v), round3(maxStop)))
		}
	}
}

// pause moves the job to sleeping: at once for the transfer in progress (pausing), through
// the job's own $state/set for the lifecycle, which the supervisor applies between steps.
func (a *DosingAutomation) pause(ctx context.Context) {
	if a.rt.State() != supervisor.Ready {
		return
	}
	a.pausing = true
	topic := contract.SetTopic(a.rt.Unit(), a.rt.Experiment(), a.rt.Job(), contract.StateAttr)
	if err := a.rt.Publish(ctx, topic, []byte(supervisor.Sleeping), pubsub.AtLeastOnce, false); err != nil {
		a.pausing = false // no pause will come to clear it; the leaf guard still refuses the dose
		a.rt.Log().Error("could not pause dosing", "err", err)
	}
}

// Sleep implements supervisor.Sleeper: the dose in flight stops, and so do running pump
// actions (docs/jobs.md, "Transfers").
func (a *DosingAutomation) Sleep(ctx context.Context) error {
	a.pausing = false
	a.stopPumps(ctx)
	return a.sleep(ctx)
}

// Wake implements supervisor.Waker.
func (a *DosingAutomation) Wake(ctx context.Context) error { return a.wake(ctx) }

// stopPumps cancels the dose in flight and asks the pump actions to stop, media first.
func (a *DosingAutomation) stopPumps(ctx context.Context) {
	a.doseMu.Lock()
	if a.cancelDose != nil {
		a.cancelDose()
	}
	a.doseMu.Unlock()
	for _, k := range []pumpKind{mediaPump, altMediaPump, wastePump} {
		topic := contract.SetTopic(a.rt.Unit(), a.rt.Experiment(), k.action, contract.StateAttr)
		if err := a.rt.Publish(ctx, topic, []byte(supervisor.Disconnected), pubsub.AtLeastOnce, false); err != nil {
			a.rt.Log().Debug("stop pump action", "pump", k.action, "err", err)
		}
	}
}

// dose runs one pump for ml through the automation's own connection: the channel is held for
// the dose only, events carry source `dosing_automation:<name>`, and the dose stops when the
// job pauses or stops or a pump-stop message arrives. It returns the volume moved.
func (a *DosingAutomation) dose(ctx context.Context, action string, ml float64) (float64, error) {
	p, ok := a.pumps[action]
	if !ok {
		return 0, fmt.Errorf("%s: this automation has no %s pump", a.name, action)
	}
	if err := checkVolume(action, ml); err != nil || ml == 0 {
		return 0, err
	}
	secs, err := p.cal.Seconds(ml)
	if err == nil {
		_, err = pumpRunSeconds(max(0, secs))
	}
	if err != nil {
		return 0, fmt.Errorf("%s %s mL: %w", action, round3(ml), err)
	}
	pwm, err := claimPump(a.rt, p.kind, p.channel)
	if err != nil {
		return 0, err
	}
	defer func() {
		if err := a.rt.ReleasePWM(p.channel); err != nil {
			a.rt.Log().Error(err.Error())
		}
	}()
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	a.doseMu.Lock()
	a.cancelDose = cancel
	a.doseMu.Unlock()
	defer func() {
		a.doseMu.Lock()
		a.cancelDose = nil
		a.doseMu.Unlock()
	}()
	run := &pumpRun{rt: a.rt, kind: p.kind, cal: p.cal, pwm: pwm, source: dosingJobName + ":" + a.name,
		events: a.events, wait: a.wait}
	a.rt.Log().Info(fmt.Sprintf("%s %s mL %s.", p.kind.verb, round3(ml), p.kind.liquid))
	return run.finite(dctx, max(0, secs), ml)
}

// volume is the bookkeeping's current volume of the experiment.
func (a *DosingAutomation) volume() float64 {
	v, err := a.d.Bioreactor.Values(a.rt.Experiment(), a.conf)
	if err != nil {
		a.rt.Log().Error("read bioreactor values", "err", err)
	}
	return v.CurrentVolumeML
}

// floatOption reads a required or defaulted automation option, refusing NaN, infinities and,
// for volumes and durations, negatives.
func floatOption(o supervisor.Options, name string, fallback float64, required bool) (float64, error) {
	if required && !o.Has(name) {
		return 0, fmt.Errorf("the option %s is required", name)
	}
	v, err := o.Float(name, fallback)
	if err != nil {
		return 0, err
	}
	return v, checkVolume(name, v)
}
