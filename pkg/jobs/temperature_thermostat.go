package jobs

import (
	"context"
	"fmt"
	"math"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/control"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// thermostat holds target_temperature with the reference's PID; its output is added to the
// heater duty cycle after each inferred temperature (docs/jobs.md, "temperature_automation").
type thermostat struct {
	t       *TemperatureAutomation
	target  float64
	clamped bool // the requested start target was above the maximum
	pid     *control.PID
	// stirringChecked: the first run when ready warned if stirring was not running.
	stirringChecked bool
}

const thermostatSection = "temperature_automation.thermostat"

func newThermostat(o supervisor.Options, t *TemperatureAutomation) (Automation, error) {
	if !o.Has("target_temperature") {
		return nil, fmt.Errorf("the option target_temperature is required")
	}
	var r collect
	target := r.float(o.Float("target_temperature", 0))
	kp := r.float(o.Config.Float(thermostatSection, "Kp", 2.6))
	ki := r.float(o.Config.Float(thermostatSection, "Ki", 0))
	kd := r.float(o.Config.Float(thermostatSection, "Kd", 4.6))
	if err := r.err(); err != nil {
		return nil, err
	}
	if math.IsNaN(target) || math.IsInf(target, 0) {
		return nil, fmt.Errorf("target_temperature %v is not a temperature", target)
	}
	th := &thermostat{t: t}
	th.target, th.clamped = th.clamp(target)
	th.pid = control.NewPID(kp, ki, kd, th.target, -25, 25)
	return th, nil
}

// clamp bounds a target to [0, the model's reduce-heating threshold].
func (th *thermostat) clamp(v float64) (float64, bool) {
	maxT := th.t.model.reduceAbove
	if v > maxT {
		return maxT, true
	}
	return math.Max(0, v), false
}

func (th *thermostat) Settings() []supervisor.Setting {
	return []supervisor.Setting{{Name: "target_temperature", Datatype: contract.Float, Unit: "℃", Settable: true, OnSet: th.onTarget}}
}

func (th *thermostat) warnMax() {
	th.t.rt.Log().Warn(fmt.Sprintf("Values over %v℃ are not supported. Setting to %v℃.", th.t.model.reduceAbove, th.t.model.reduceAbove))
}

func (th *thermostat) Start(ctx context.Context) error {
	if th.clamped {
		th.warnMax()
	}
	return th.t.set(ctx, "target_temperature", th.target)
}

func (th *thermostat) onTarget(v any) error {
	f := v.(float64)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("target_temperature %v is not a temperature", f)
	}
	target, clamped := th.clamp(f)
	if clamped {
		th.warnMax()
	}
	th.target = target
	th.pid.Setpoint = target
	return th.t.set(th.t.ctx, "target_temperature", target)
}

func (th *thermostat) Execute(ctx context.Context) (*contract.AutomationEvent, error) {
	t := th.t
	if !t.haveTemperature {
		return nil, fmt.Errorf("%w: no temperature inferred yet", ErrRequiredData)
	}
	if !th.stirringChecked && t.rt.State() == supervisor.Ready {
		th.stirringChecked = true
		if !t.inputs.running(jobStirring) {
			t.rt.Log().Warn("It's recommended to have stirring on to improve the temperature readings.")
		}
	}
	terms := th.pid.Update(t.temperature, 1)
	t.updateHeaterWithDelta(ctx, terms.Output)
	th.publishPIDLog(ctx, terms)
	return contract.NewAutomationEvent(contract.UpdatedHeaterDC, "delta_dc="+contract.FormatFloat(terms.Output), map[string]any{
		"current_dc":         contract.Decimal(t.dc),
		"delta_dc":           contract.Decimal(terms.Output),
		"target_temperature": contract.Decimal(th.target),
		"latest_temperature": contract.Decimal(t.temperature),
	}), nil
}

func (th *thermostat) publishPIDLog(ctx context.Context, terms control.Terms) {
	rt, p := th.t.rt, th.pid
	rec := contract.PIDLog{Setpoint: contract.Decimal(p.Setpoint), OutputLimitsLB: contract.Decimal(p.Lo),
		OutputLimitsUB: contract.Decimal(p.Hi), Kd: contract.Decimal(p.Kd), Ki: contract.Decimal(p.Ki),
		Kp: contract.Decimal(p.Kp), Integral: contract.Decimal(terms.Integral),
		Proportional: contract.Decimal(terms.Proportional), Derivative: contract.Decimal(terms.Derivative),
		LatestInput: contract.Decimal(th.t.temperature), LatestOutput: contract.Decimal(terms.Output),
		JobName: rt.Job(), TargetName: "temperature"}
	if err := rt.Publish(ctx, contract.PIDLogTopic(rt.Unit(), rt.Experiment(), "temperature"), contract.Marshal(rec), pubsub.AtMostOnce, false); err != nil {
		rt.Log().Debug("publish pid_log", "err", err)
	}
}

// onlyRecordTemperature keeps the heater off and only publishes temperatures (§4.2).
type onlyRecordTemperature struct{ t *TemperatureAutomation }

func newOnlyRecordTemperature(_ supervisor.Options, t *TemperatureAutomation) (Automation, error) {
	return &onlyRecordTemperature{t: t}, nil
}

func (a *onlyRecordTemperature) Start(ctx context.Context) error {
	a.t.forceHeater(ctx, 0)
	return nil
}

func (a *onlyRecordTemperature) Execute(ctx context.Context) (*contract.AutomationEvent, error) {
	if a.t.dc != 0 {
		a.t.updateHeater(ctx, 0)
	}
	return contract.NewAutomationEvent(contract.NoEvent, "", nil), nil
}
