package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/pioreactor/pioreactord/pkg/calibration"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// circulate_media and circulate_alt_media (docs/jobs.md, "Pump actions"): the waste pump runs for the
// whole action while the inflow pump pulses a fraction r of each second, so the level stays
// at the efflux tube and the vial's liquid is exchanged. One remove_waste event of 20 mL at
// the start drains the bookkeeping to the efflux level; no inflow events are published.

// NewCirculateMediaSpec and NewCirculateAltMediaSpec are the job table entries.
func NewCirculateMediaSpec(d *Dosing) supervisor.Spec { return circulateSpec(d, mediaPump) }
func NewCirculateAltMediaSpec(d *Dosing) supervisor.Spec {
	return circulateSpec(d, altMediaPump)
}

func circulateSpec(d *Dosing, in pumpKind) supervisor.Spec {
	name := "circulate_" + in.role
	return supervisor.Spec{Name: name, Action: true, New: func(o supervisor.Options) (supervisor.Job, error) {
		return newCirculate(d, in, o)
	}}
}

const (
	circulateRatio     = 0.85
	circulateDrainML   = 20 // the event that drains the bookkeeping to the efflux tube
	circulatePeriod    = time.Second
	circulateLeadOut   = time.Second // waste runs this long before the first and after the last pulse
	circulateTolerance = 1e-9
)

type circulate struct {
	in, waste       dosingPump
	seconds, ratio  float64
	calibrated      bool
	source          string
	inflowML, outML float64 // results, for the log
}

func newCirculate(d *Dosing, in pumpKind, o supervisor.Options) (*circulate, error) {
	if !o.Has("duration") {
		return nil, fmt.Errorf("the option duration (seconds) is required")
	}
	secs, err := o.Float("duration", 0)
	if err == nil {
		_, err = durationIn("duration", secs, time.Second, 0, maxPumpRun)
	}
	if err != nil {
		return nil, err
	}
	c := &circulate{seconds: secs, ratio: circulateRatio, calibrated: true, source: o.String("source_of_event", defaultSource)}
	for _, p := range []struct {
		dst  *dosingPump
		kind pumpKind
	}{{&c.in, in}, {&c.waste, wastePump}} {
		ch, ok := o.Config.PWMChannelFor(p.kind.role)
		if !ok {
			return nil, fmt.Errorf("add `%s` to the [PWM] section of config.ini: the %s has no PWM channel", p.kind.role, p.kind.device)
		}
		cal, ok, err := d.activeCalibration(p.kind)
		if err != nil {
			return nil, err
		}
		if !ok {
			cal, c.calibrated = calibration.DefaultPump(), false
		}
		*p.dst = dosingPump{kind: p.kind, channel: ch, cal: cal}
	}
	if c.calibrated {
		inFlow, outFlow := c.in.cal.ML(1)-c.in.cal.ML(0), c.waste.cal.ML(1)-c.waste.cal.ML(0)
		if inFlow > outFlow && inFlow > 0 {
			c.ratio = min(outFlow/inFlow, circulateRatio)
		}
	}
	return c, nil
}

// Run implements supervisor.Job.
func (c *circulate) Run(ctx context.Context, rt *supervisor.Runtime) error {
	waste, err := claimPump(rt, wastePump, c.waste.channel) // before ready: a busy pump fails the start
	if err != nil {
		return err
	}
	in, err := claimPump(rt, c.in.kind, c.in.channel)
	if err != nil {
		return err
	}
	if err := rt.Ready(ctx); err != nil {
		return err
	}
	if err := rt.StopOnAnyExperiment(ctx); err != nil {
		return err
	}
	if !c.calibrated {
		rt.Log().Warn("Calibrations for both pumps are not present. Keep an eye on the liquid level: it may overflow.")
	}
	events := newEventSink(rt)
	defer events.close()
	events.emit(contract.RemoveWaste, circulateDrainML, c.source)
	clk := rt.Clock()
	rt.Log().Info(fmt.Sprintf("Circulating %s for %ss.", c.in.kind.liquid, round2(c.seconds)))
	if err := waste.SetDutyCycle(c.waste.cal.DC); err != nil {
		return fmt.Errorf("start %s: %w", wastePump.device, err)
	}
	t0 := clk.Now()
	var inSeconds float64
	stopped := clk.Sleep(ctx, circulateLeadOut) != nil
	for !stopped && inSeconds < c.seconds-circulateTolerance {
		pulse := min(c.seconds-inSeconds, c.ratio)
		if err := in.SetDutyCycle(c.in.cal.DC); err != nil {
			return fmt.Errorf("start %s: %w", c.in.kind.device, err)
		}
		start := clk.Now()
		stopped = clk.Sleep(ctx, seconds(pulse)) != nil
		if err := in.SetDutyCycle(0); err != nil {
			return fmt.Errorf("could not switch %s off: %w", c.in.kind.device, err)
		}
		inSeconds += clk.Now().Sub(start).Seconds()
		if !stopped {
			stopped = clk.Sleep(ctx, seconds(1-c.ratio)) != nil
		}
	}
	if !stopped {
		_ = clk.Sleep(ctx, circulateLeadOut)
	}
	if err := waste.SetDutyCycle(0); err != nil {
		return fmt.Errorf("could not switch %s off: %w", wastePump.device, err)
	}
	c.inflowML, c.outML = c.in.cal.ML(inSeconds), c.waste.cal.ML(clk.Now().Sub(t0).Seconds())
	rt.Log().Info(fmt.Sprintf("Circulated %s mL of %s, removed %s mL.", round3(c.inflowML), c.in.kind.liquid, round3(c.outML)))
	return nil
}
