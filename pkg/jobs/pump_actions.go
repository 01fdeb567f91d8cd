package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/pioreactor/pioreactord/pkg/calibration"
	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// The pump actions add_media, add_alt_media and remove_waste (docs/jobs.md, "Pump actions"): one-shot
// jobs with the light lifecycle that run one pump by volume (`ml`), by `duration` (s) or
// `continuously`, publish their dosing events, and end. Stopping one midway (its
// $state/set `disconnected`, a stop request, the daemon's shutdown) switches the pump off
// and publishes a correction for what was not delivered.

// NewAddMediaSpec, NewAddAltMediaSpec and NewRemoveWasteSpec are the job table entries.
func NewAddMediaSpec(d *Dosing) supervisor.Spec    { return pumpActionSpec(d, mediaPump) }
func NewAddAltMediaSpec(d *Dosing) supervisor.Spec { return pumpActionSpec(d, altMediaPump) }
func NewRemoveWasteSpec(d *Dosing) supervisor.Spec { return pumpActionSpec(d, wastePump) }

func pumpActionSpec(d *Dosing, k pumpKind) supervisor.Spec {
	return supervisor.Spec{Name: k.action, Action: true, New: func(o supervisor.Options) (supervisor.Job, error) {
		return newPumpAction(d, k, o)
	}}
}

// pumpAction is one run of one pump.
type pumpAction struct {
	d       *Dosing
	conf    *config.Config
	kind    pumpKind
	channel string
	cal     calibration.Calibration
	source  string
	mode    string // "ml", "duration" or "continuously"
	ml      float64
	seconds float64
}

// defaultSource is the source_of_event of a pump action started without one (the CLI's).
const defaultSource = "CLI"

func newPumpAction(d *Dosing, k pumpKind, o supervisor.Options) (*pumpAction, error) {
	a := &pumpAction{d: d, conf: o.Config, kind: k, source: o.String("source_of_event", defaultSource)}
	cont, err := o.Bool("continuously", false)
	if err != nil {
		return nil, err
	}
	var modes []string
	for _, m := range []string{"ml", "duration"} {
		if o.Has(m) {
			modes = append(modes, m)
		}
	}
	if cont {
		modes = append(modes, "continuously")
	}
	if len(modes) != 1 {
		return nil, fmt.Errorf("%s needs exactly one of ml, duration or continuously (got %d)", k.action, len(modes))
	}
	a.mode = modes[0]
	switch a.mode {
	case "ml":
		if a.ml, err = o.Float("ml", 0); err == nil {
			err = checkVolume("ml", a.ml)
		}
	case "duration":
		if a.seconds, err = o.Float("duration", 0); err == nil {
			_, err = durationIn("duration", a.seconds, time.Second, 0, maxPumpRun)
		}
	}
	if err != nil {
		return nil, err
	}
	ch, ok := o.Config.PWMChannelFor(k.role)
	if !ok {
		return nil, fmt.Errorf("add `%s` to the [PWM] section of config.ini: the %s has no PWM channel", k.role, k.device)
	}
	a.channel = ch
	if err := a.pickCalibration(o); err != nil {
		return nil, err
	}
	switch a.mode {
	case "ml":
		if a.seconds, err = a.cal.Seconds(a.ml); err != nil {
			return nil, err
		}
		a.seconds = math.Max(0, a.seconds)
	case "duration":
		a.ml = math.Max(0, a.cal.ML(a.seconds))
	}
	if err := a.checkRun(); err != nil {
		return nil, err
	}
	return a, a.checkOverflow(o)
}

// pickCalibration takes the `calibration` option (a calibration object, or the name of one of
// the device's calibrations), else the active one, else the default curve, which volume doses
// and continuous inflow refuse.
func (a *pumpAction) pickCalibration(o supervisor.Options) error {
	switch v := o.Values["calibration"].(type) {
	case nil:
	case string:
		if a.d == nil || a.d.Calibrations == nil {
			return fmt.Errorf("calibration %q: no calibration store", v)
		}
		c, err := a.d.Calibrations.Load(a.kind.device, v)
		if err != nil {
			return err
		}
		a.cal = c
		return checkPumpCalibration(c)
	default:
		b, err := json.Marshal(v)
		if err == nil {
			err = json.Unmarshal(b, &a.cal)
		}
		if err != nil {
			return fmt.Errorf("option calibration: %w", err)
		}
		return checkPumpCalibration(a.cal)
	}
	c, ok, err := a.d.activeCalibration(a.kind)
	if err != nil {
		return err
	}
	if ok {
		a.cal = c
		return nil
	}
	if a.mode == "ml" || a.mode == "continuously" && a.kind.inflow {
		return noCalibration(a.kind)
	}
	a.cal = calibration.DefaultPump()
	return nil
}

func checkPumpCalibration(c calibration.Calibration) error {
	if c.Type != calibration.TypePump {
		return fmt.Errorf("calibration %s is a %s, not a pump calibration", c.Name, c.Type)
	}
	return nil
}

// checkRun refuses, before anything moves, a run whose length or volume is out of range once
// the calibration converted one into the other (a tiny slope turns 1 mL into years; a
// 1e308 s waste run into 9e306 mL).
func (a *pumpAction) checkRun() error {
	if a.mode == "continuously" {
		return nil
	}
	if _, err := pumpRunSeconds(a.seconds); err != nil {
		return fmt.Errorf("%s %s mL: %w", a.kind.action, round3(a.ml), err)
	}
	return checkVolume(a.kind.action, a.ml)
}

// checkOverflow refuses an inflow that would meet or exceed the vessel's maximum fill volume
// (the worker API's manual dosing guard of docs/http.md, "Experiments", applied to every start).
func (a *pumpAction) checkOverflow(o supervisor.Options) error {
	if !a.kind.inflow || a.d == nil || a.d.Bioreactor == nil {
		return nil
	}
	v, err := a.d.Bioreactor.Values(o.Experiment, o.Config)
	if err != nil {
		return err
	}
	limit := a.d.Bioreactor.Vessel().MaxFillML
	if v.CurrentVolumeML+a.ml >= limit {
		return fmt.Errorf("%w: %s mL + %s mL ≥ %s mL", ErrOverflow, round3(v.CurrentVolumeML), round3(a.ml), round3(limit))
	}
	return nil
}

// Run implements supervisor.Job.
func (a *pumpAction) Run(ctx context.Context, rt *supervisor.Runtime) error {
	pwm, err := claimPump(rt, a.kind, a.channel) // before ready: a busy pump fails the start
	if err != nil {
		return err
	}
	if err := rt.Ready(ctx); err != nil {
		return err
	}
	if err := rt.StopOnAnyExperiment(ctx); err != nil {
		return err
	}
	events := newEventSink(rt)
	defer events.close()
	run := &pumpRun{rt: rt, kind: a.kind, cal: a.cal, pwm: pwm, source: a.source, events: events,
		wait: rt.Clock().Sleep}
	log := rt.Log()
	var moved float64
	switch a.mode {
	case "ml":
		log.Info(fmt.Sprintf("%s %s mL %s.", a.kind.verb, round3(a.ml), a.kind.liquid))
		moved, err = run.finite(ctx, a.seconds, a.ml)
	case "duration":
		log.Info(fmt.Sprintf("%s %s for %ss.", a.kind.verb, a.kind.liquid, round2(a.seconds)))
		moved, err = run.finite(ctx, a.seconds, a.ml)
	default:
		log.Info(fmt.Sprintf("%s %s continuously.", a.kind.verb, a.kind.liquid))
		moved, err = run.continuous(ctx, a.full(rt))
	}
	log.Debug("pump action done", "ml", moved)
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// full reports, for continuous inflow, when the bookkeeping's volume reaches the maximum fill.
func (a *pumpAction) full(rt *supervisor.Runtime) func() bool {
	if !a.kind.inflow || a.d == nil || a.d.Bioreactor == nil {
		return nil
	}
	book := a.d.Bioreactor
	return func() bool {
		v, err := book.Values(rt.Experiment(), a.conf)
		return err == nil && v.CurrentVolumeML >= book.Vessel().MaxFillML
	}
}
