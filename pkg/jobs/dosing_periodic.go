package jobs

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/control"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// The periodic dosing automations: silent, chemostat, pid_morbidostat, fed_batch
// (docs/jobs.md, "dosing_automation"). Turbidostat is in dosing_turbidostat.go.

// firstRunAfter is when a periodic dosing automation first runs (run_after_seconds = 2).
const firstRunAfter = 2 * time.Second

// periodic is what every periodic dosing automation reads: its duration and skip_first_run.
type periodic struct {
	duration  float64 // minutes
	skipFirst bool
}

func readPeriodic(o supervisor.Options, fallback float64) (periodic, error) {
	var p periodic
	var r collect
	p.duration = r.float(o.Float("duration", fallback))
	p.skipFirst = r.bool(o.Bool("skip_first_run", false))
	if err := r.err(); err != nil {
		return p, err
	}
	_, err := automationPeriod(p.duration)
	return p, err
}

// start publishes duration and starts run_every.
func (p periodic) start(ctx context.Context, a *DosingAutomation) error {
	if err := a.set(ctx, "duration", p.duration); err != nil {
		return err
	}
	return a.runEvery(p.duration, p.skipFirst, firstRunAfter)
}

// volumeSetting is a settable mL setting that refuses negative or non-finite values.
func volumeSetting(a *DosingAutomation, name string, dst *float64) supervisor.Setting {
	return supervisor.Setting{Name: name, Datatype: contract.Float, Unit: "mL", Settable: true, OnSet: func(v any) error {
		x := v.(float64)
		if err := checkVolume(name, x); err != nil {
			return err
		}
		*dst = x
		return a.set(a.ctx, name, x)
	}}
}

// finiteSetting is a settable float that refuses NaN and infinities; then runs after.
func finiteSetting(a *DosingAutomation, name, unit string, dst *float64, after func(float64)) supervisor.Setting {
	return supervisor.Setting{Name: name, Datatype: contract.Float, Unit: unit, Settable: true, OnSet: func(v any) error {
		x := v.(float64)
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("%s %v is not a number", name, x)
		}
		*dst = x
		if after != nil {
			after(x)
		}
		return a.set(a.ctx, name, x)
	}}
}

// silentDosing does nothing (§5.2).
type silentDosing struct{}

func newSilentDosing(supervisor.Options, *DosingAutomation) (Automation, error) {
	return silentDosing{}, nil
}

func (silentDosing) Execute(context.Context) (*contract.AutomationEvent, error) { return nil, nil }

// chemostat exchanges exchange_volume_ml every duration minutes (§5.3).
type chemostat struct {
	a        *DosingAutomation
	p        periodic
	exchange float64
}

func newChemostat(o supervisor.Options, a *DosingAutomation) (Automation, error) {
	c := &chemostat{a: a}
	var err error
	if c.p, err = readPeriodic(o, 20); err != nil {
		return nil, err
	}
	if c.exchange, err = floatOption(o, "exchange_volume_ml", 0, true); err != nil {
		return nil, err
	}
	return c, a.needPumps(o, mediaPump, wastePump)
}

func (c *chemostat) Settings() []supervisor.Setting {
	return []supervisor.Setting{c.a.durationSetting(), volumeSetting(c.a, "exchange_volume_ml", &c.exchange)}
}

func (c *chemostat) Start(ctx context.Context) error {
	if err := c.a.set(ctx, "exchange_volume_ml", c.exchange); err != nil {
		return err
	}
	return c.p.start(ctx, c.a)
}

func (c *chemostat) Execute(ctx context.Context) (*contract.AutomationEvent, error) {
	v := c.exchange
	moved, err := c.a.executeIO(ctx, v, inflow{contract.AddMedia, v})
	if err != nil {
		return nil, err
	}
	return contract.NewAutomationEvent(contract.DilutionEvent, "exchanged "+contract.FormatFloat(moved.waste)+"mL",
		map[string]any{"exchange_volume_ml": contract.Decimal(v), "volume_actually_cycled_ml": contract.Decimal(moved.waste)}), nil
}

// fedBatch adds dosing_volume_ml of media every duration minutes, removing nothing (§5.6).
type fedBatch struct {
	a    *DosingAutomation
	p    periodic
	dose float64
}

func newFedBatch(o supervisor.Options, a *DosingAutomation) (Automation, error) {
	f := &fedBatch{a: a}
	var err error
	if f.p, err = readPeriodic(o, 720); err != nil {
		return nil, err
	}
	if f.dose, err = floatOption(o, "dosing_volume_ml", 0, true); err != nil {
		return nil, err
	}
	return f, a.needPumps(o, mediaPump)
}

func (f *fedBatch) Settings() []supervisor.Setting {
	return []supervisor.Setting{f.a.durationSetting(), volumeSetting(f.a, "dosing_volume_ml", &f.dose)}
}

func (f *fedBatch) Start(ctx context.Context) error {
	f.a.rt.Log().Warn("fed_batch adds media and removes nothing: watch the liquid level.")
	if err := f.a.set(ctx, "dosing_volume_ml", f.dose); err != nil {
		return err
	}
	return f.p.start(ctx, f.a)
}

func (f *fedBatch) Execute(ctx context.Context) (*contract.AutomationEvent, error) {
	a := f.a
	if maxStop := a.vessel().MaxFillML; a.volume()+f.dose >= maxStop {
		a.rt.Log().Error(fmt.Sprintf("Current volume %s mL + %s mL would reach the maximum fill volume %s mL. Pausing dosing.", round3(a.volume()), round3(f.dose), round3(maxStop)))
		a.pause(ctx)
		return contract.NewAutomationEvent(contract.NoEvent, "Skipped dosing to avoid overflow.", nil), nil
	}
	moved, err := a.dose(ctx, contract.AddMedia, f.dose)
	if err != nil {
		return nil, err
	}
	if math.Abs(moved-f.dose) > 1e-9 {
		a.rt.Log().Warn(fmt.Sprintf("Under-dosed! %s mL of %s mL added.", round3(moved), round3(f.dose)))
	}
	return contract.NewAutomationEvent(contract.AddMediaEvent, "Added "+round3(moved)+" mL", nil), nil
}

// pidMorbidostat splits each exchange between media and alt media by a PID on the growth
// rate (§5.5): the fraction of alt media rises when the culture grows faster than the target.
type pidMorbidostat struct {
	a            *DosingAutomation
	p            periodic
	targetOD     float64
	targetGrowth float64
	minDose      float64
	pid          *control.PID
}

const morbidostatSection = "dosing_automation.pid_morbidostat"

func newPIDMorbidostat(o supervisor.Options, a *DosingAutomation) (Automation, error) {
	m := &pidMorbidostat{a: a}
	var err error
	if m.p, err = readPeriodic(o, 60); err != nil {
		return nil, err
	}
	for _, req := range []struct {
		name string
		dst  *float64
	}{{"target_normalized_od", &m.targetOD}, {"target_growth_rate", &m.targetGrowth}} {
		if !o.Has(req.name) {
			return nil, fmt.Errorf("the option %s is required", req.name)
		}
		v, err := o.Float(req.name, 0)
		if err != nil {
			return nil, err
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%s %v is not a number", req.name, v)
		}
		*req.dst = v
	}
	var r collect
	kp := r.float(o.Config.Float(morbidostatSection, "Kp", 1))
	ki := r.float(o.Config.Float(morbidostatSection, "Ki", 0))
	kd := r.float(o.Config.Float(morbidostatSection, "Kd", 0))
	m.minDose = r.float(o.Config.Float(morbidostatSection, "minimum_dosing_volume_ml", 0.1))
	if err := r.err(); err != nil {
		return nil, err
	}
	m.pid = control.NewPID(-kp, -ki, -kd, m.targetGrowth, 0, 1)
	return m, a.needPumps(o, mediaPump, wastePump, altMediaPump)
}

func (m *pidMorbidostat) Settings() []supervisor.Setting {
	return []supervisor.Setting{m.a.durationSetting(),
		finiteSetting(m.a, "target_normalized_od", "AU", &m.targetOD, nil),
		finiteSetting(m.a, "target_growth_rate", "h⁻¹", &m.targetGrowth, func(g float64) { m.pid.Setpoint = g }),
	}
}

func (m *pidMorbidostat) Start(ctx context.Context) error {
	if err := m.a.set(ctx, "target_normalized_od", m.targetOD); err != nil {
		return err
	}
	if err := m.a.set(ctx, "target_growth_rate", m.targetGrowth); err != nil {
		return err
	}
	return m.p.start(ctx, m.a)
}

// durationMinutes is the current run_every period.
func (m *pidMorbidostat) durationMinutes() float64 { return m.a.period.Minutes() }

func (m *pidMorbidostat) Execute(ctx context.Context) (*contract.AutomationEvent, error) {
	a := m.a
	nod, err := a.latestNormalizedOD(ctx)
	if err != nil {
		return nil, err
	}
	if start := 0.7 * m.targetOD; nod <= start {
		return contract.NewAutomationEvent(contract.NoEvent, "latest OD less than OD to start diluting, "+contract.FormatFloat(start), nil), nil
	}
	growth, err := a.latestGrowthRate(ctx)
	if err != nil {
		return nil, err
	}
	hours := m.durationMinutes() / 60
	terms := m.pid.Update(growth, hours)
	f := terms.Output
	m.publishPIDLog(ctx, growth, terms)
	exchange := math.Round(m.targetGrowth*a.volume()*hours*1e4) / 1e4
	total := exchange
	if nod > 1.25*m.targetOD {
		total = 2.5 * exchange
		a.rt.Log().Info("Executing triple dilution since we are far past target OD.")
	}
	alt, media := f*total, (1-f)*total
	if alt < m.minDose {
		total -= alt
		alt = 0
	}
	if media < m.minDose {
		total -= media
		media = 0
	}
	total = math.Max(0, total)
	if _, err := a.executeIO(ctx, total, inflow{contract.AddAltMedia, alt}, inflow{contract.AddMedia, media}); err != nil {
		return nil, err
	}
	return contract.NewAutomationEvent(contract.AddAltMediaEvent,
		fmt.Sprintf("PID output=%.2f, alt_media_ml=%.2fmL, media_ml=%.2fmL", f, alt, media),
		map[string]any{"fraction_of_alt_media_to_add": contract.Decimal(f), "alt_media_ml": contract.Decimal(alt), "media_ml": contract.Decimal(media)}), nil
}

func (m *pidMorbidostat) publishPIDLog(ctx context.Context, input float64, terms control.Terms) {
	rt, p := m.a.rt, m.pid
	rec := contract.PIDLog{Setpoint: contract.Decimal(p.Setpoint), OutputLimitsLB: contract.Decimal(p.Lo),
		OutputLimitsUB: contract.Decimal(p.Hi), Kd: contract.Decimal(p.Kd), Ki: contract.Decimal(p.Ki),
		Kp: contract.Decimal(p.Kp), Integral: contract.Decimal(terms.Integral),
		Proportional: contract.Decimal(terms.Proportional), Derivative: contract.Decimal(terms.Derivative),
		LatestInput: contract.Decimal(input), LatestOutput: contract.Decimal(terms.Output),
		JobName: rt.Job(), TargetName: "growth_rate"}
	if err := rt.Publish(ctx, contract.PIDLogTopic(rt.Unit(), rt.Experiment(), "growth_rate"), contract.Marshal(rec), pubsub.AtMostOnce, false); err != nil {
		rt.Log().Debug("publish pid_log", "err", err)
	}
}
