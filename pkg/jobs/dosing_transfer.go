package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// The dosing arithmetic of execute_io_action (docs/jobs.md, "Transfers", docs/algorithms.md, "Dosing arithmetic").

// inflow is one inflow of a transfer: a pump action (add_media, add_alt_media) and its mL.
type inflow struct {
	action string
	ml     float64
}

// transferResult is what a transfer moved: the inflows in request order, and the waste
// (without the extra waste, which is never reported).
type transferResult struct {
	in    []inflow
	waste float64
}

func (r *transferResult) add(o transferResult) {
	if r.in == nil {
		r.in = make([]inflow, len(o.in))
		for i, f := range o.in {
			r.in[i].action = f.action
		}
	}
	for i, f := range o.in {
		r.in[i].ml += f.ml
	}
	r.waste += o.waste
}

// data is the event payload form: {"media_ml": …, "alt_media_ml": …, "waste_ml": …}.
func (r transferResult) data() map[string]any {
	m := map[string]any{"waste_ml": contract.Decimal(r.waste)}
	for _, f := range r.in {
		m[volumeKey(f.action)] = contract.Decimal(f.ml)
	}
	return m
}

// ml is the volume moved by an action's pump.
func (r transferResult) ml(action string) float64 {
	for _, f := range r.in {
		if f.action == action {
			return f.ml
		}
	}
	return 0
}

// volumeKey is the keyword of execute_io_action for a pump: media_ml, alt_media_ml.
func volumeKey(action string) string {
	switch action {
	case contract.AddMedia:
		return "media_ml"
	case contract.AddAltMedia:
		return "alt_media_ml"
	}
	return action + "_ml"
}

// executeIO removes waste and adds the inflows (in the given order), split into sub-doses of
// at most max_subdose of inflow, and publishes DosingStarted and DosingStopped. Bad volumes
// and missing pumps are refused before anything is pumped.
func (a *DosingAutomation) executeIO(ctx context.Context, waste float64, in ...inflow) (transferResult, error) {
	if err := checkVolume("waste_ml", waste); err != nil {
		return transferResult{}, err
	}
	var sum float64
	for _, f := range in {
		if err := checkVolume(volumeKey(f.action), f.ml); err != nil {
			return transferResult{}, err
		}
		if _, ok := a.pumps[f.action]; f.ml > 0 && !ok {
			return transferResult{}, fmt.Errorf("%s: no pump for %s", a.name, volumeKey(f.action))
		}
		sum += f.ml
	}
	if waste < sum-1e-9 {
		return transferResult{}, fmt.Errorf("not removing enough waste: waste_ml %v < %v mL added", waste, sum)
	}
	if _, ok := a.pumps[contract.RemoveWaste]; waste > 0 && !ok {
		return transferResult{}, fmt.Errorf("%s: no pump for waste_ml", a.name)
	}
	requested := transferResult{in: in, waste: waste}
	a.setEvent(ctx, contract.NewAutomationEvent(contract.DosingStarted, "", requested.data()))
	moved := a.split(ctx, waste, in)
	a.setEvent(ctx, contract.NewAutomationEvent(contract.DosingStopped, "", moved.data()))
	return moved, nil
}

// setEvent publishes an intermediate latest_event.
func (a *DosingAutomation) setEvent(ctx context.Context, ev *contract.AutomationEvent) {
	if err := a.rt.Set(ctx, "latest_event", *ev); err != nil {
		a.rt.Log().Debug("publish latest_event", "err", err)
	}
}

// split halves a transfer while its inflow exceeds max_subdose (strictly), then runs leaves.
func (a *DosingAutomation) split(ctx context.Context, waste float64, in []inflow) transferResult {
	var sum float64
	for _, f := range in {
		sum += f.ml
	}
	if sum > a.maxSubdose {
		half := make([]inflow, len(in))
		for i, f := range in {
			half[i] = inflow{f.action, f.ml / 2}
		}
		r := a.split(ctx, waste/2, half)
		r.add(a.split(ctx, waste/2, half))
		return r
	}
	return a.leaf(ctx, waste, in)
}

// leaf is one sub-dose: the inflows in order (each refused if it would reach the maximum fill
// volume, which pauses the automation), then the waste, then the extra waste.
func (a *DosingAutomation) leaf(ctx context.Context, waste float64, in []inflow) transferResult {
	out := transferResult{in: make([]inflow, len(in))}
	for i, f := range in {
		out.in[i].action = f.action
	}
	maxStop := a.vessel().MaxFillML
	projected := a.volume()
	for i, f := range in {
		if projected+f.ml >= maxStop {
			a.rt.Log().Error(fmt.Sprintf("Pausing all pumping since %s mL + %s mL is beyond the safety threshold %s mL.", round3(projected), round3(f.ml), round3(maxStop)))
			a.pause(ctx)
			return out
		}
		if f.ml <= 0 || !a.awaitReady(ctx) {
			continue
		}
		moved, err := a.dose(ctx, f.action, f.ml)
		if err != nil {
			a.rt.Log().Error(err.Error())
		}
		out.in[i].ml = moved
		projected += moved
		if err := a.wait(ctx, a.pauseBetween); err != nil {
			return out
		}
	}
	if waste > 0 && a.awaitReady(ctx) {
		moved, err := a.dose(ctx, contract.RemoveWaste, waste)
		if err != nil {
			a.rt.Log().Error(err.Error())
		}
		out.waste = moved
		if a.wait(ctx, 50*time.Millisecond) != nil {
			return out
		}
		if extra := waste * a.wasteMult; extra > 0 && a.awaitReady(ctx) {
			if _, err := a.dose(ctx, contract.RemoveWaste, extra); err != nil {
				a.rt.Log().Error(err.Error())
			}
			if a.wait(ctx, 50*time.Millisecond) != nil {
				return out
			}
		}
	}
	if out.waste < waste-1e-9 {
		a.rt.Log().Warn(fmt.Sprintf("Waste was under-removed: %s mL of %s mL. Risk of overflow.", round3(out.waste), round3(waste)))
	}
	return out
}

// awaitReady blocks while the automation is sleeping, checking every 5 s, and reports whether
// pumping may go on (false once the job stops).
func (a *DosingAutomation) awaitReady(ctx context.Context) bool {
	for {
		if ctx.Err() != nil {
			return false
		}
		switch a.rt.State() {
		case supervisor.Ready:
			if !a.pausing {
				return true
			}
		case supervisor.Sleeping:
		default:
			return false
		}
		if a.wait(ctx, 5*time.Second) != nil {
			return false
		}
	}
}
