package session

import (
	"context"
	"fmt"
	"math"

	"github.com/pioreactor/pioreactord/pkg/calibration"
)

// stirringProtocol sweeps the duty cycle down, up and down again, measuring the stir bar's RPM
// at each point, and fits RPM against duty cycle.
type stirringProtocol struct{}

func (stirringProtocol) name() string      { return "dc_based" }
func (stirringProtocol) devices() []string { return []string{"stirring"} }
func (stirringProtocol) first() string     { return "intro" }

func (p stirringProtocol) info(device string) ProtocolInfo {
	return ProtocolInfo{ID: device + "_" + p.name(), TargetDevice: device, ProtocolName: p.name(), Priority: 1,
		Title:        "Stirring calibration (duty cycle to RPM)",
		Description:  "Measures the stir bar's RPM at 15 duty cycles; the fit lets stirring start near its target.",
		Requirements: []string{"a vial with liquid and a stir bar in the unit", "stirring not running"}}
}

// Timing of each point (seconds of the unit's clock): a first settle at mid range, then per
// point a settle and a measurement window. Each point restarts stirring, whose start kicks
// the bar at full power for half a second: 5 s lets that die out (the original, changing the
// duty cycle in place, waited 2 s).
const (
	stirFirstSettle = 3.0
	stirSettle      = 5.0
	stirWindow      = 2.0
)

func (stirringProtocol) step(s *Session) *Step {
	switch s.StepID {
	case "intro":
		return &Step{StepID: "intro", StepType: Form, Title: "Prepare stirring",
			Body: "Put a vial with liquid and a stir bar in the unit, with stirring stopped. Choose the duty-cycle range; the sweep takes about two minutes.",
			Fields: []Field{
				{Name: "min_dc", Label: "Lowest duty cycle (%)", FieldType: "float", Default: 20.0, Minimum: ptr(1), Maximum: ptr(100)},
				{Name: "max_dc", Label: "Highest duty cycle (%)", FieldType: "float", Default: 45.0, Minimum: ptr(1), Maximum: ptr(100)},
			}, Metadata: map[string]any{}}
	case "sweep":
		return &Step{StepID: "sweep", StepType: Action, Title: "Measure",
			Body:   fmt.Sprintf("Continue to sweep %g–%g %% (15 points); the unit's stirring runs meanwhile.", dataFloat(s.Data, "min_dc"), dataFloat(s.Data, "max_dc")),
			Fields: []Field{}, Metadata: map[string]any{}}
	case "review", "complete":
		return reviewStep(s, "RPM per % duty cycle")
	}
	return nil
}

// sweep is 5 evenly spaced duty cycles from max to min, then min to max, then max to min.
func sweep(lo, hi float64) []float64 {
	var pts [5]float64
	for i := range pts {
		pts[i] = math.Round((hi-float64(i)*(hi-lo)/4)*1000) / 1000
	}
	var out []float64
	out = append(out, pts[:]...)
	for i := 4; i >= 0; i-- {
		out = append(out, pts[i])
	}
	return append(out, pts[:]...)
}

func (p stirringProtocol) advance(ctx context.Context, m *Manager, s *Session, in Inputs) error {
	switch s.StepID {
	case "intro":
		lo, err := in.Float("min_dc", 20, 1, 100)
		if err != nil {
			return err
		}
		hi, err := in.Float("max_dc", 45, 1, 100)
		if err != nil {
			return err
		}
		if hi <= lo {
			return fmt.Errorf("%w: max_dc %g must be above min_dc %g", ErrBadInput, hi, lo)
		}
		s.Data["min_dc"], s.Data["max_dc"], s.StepID = lo, hi, "sweep"
	case "sweep":
		lo, hi := dataFloat(s.Data, "min_dc"), dataFloat(s.Data, "max_dc")
		defer func() { _ = m.rig.StopStirring(context.WithoutCancel(ctx)) }()
		if _, err := m.rig.MeasureRPM(ctx, (lo+hi)/2, stirFirstSettle, 0); err != nil {
			return fmt.Errorf("stir: %w", err)
		}
		var dcs, rpms []float64
		for _, dc := range sweep(lo, hi) {
			rpm, err := m.rig.MeasureRPM(ctx, dc, stirSettle, stirWindow)
			if err != nil {
				return fmt.Errorf("measure RPM at %g %%: %w", dc, err)
			}
			if rpm > 0 { // a stalled bar says nothing about the curve
				dcs, rpms = append(dcs, dc), append(rpms, rpm)
			}
		}
		if len(dcs) < 3 {
			return fmt.Errorf("the bar turned at only %d of 15 duty cycles: is a stir bar in the vial, and the range high enough?", len(dcs))
		}
		coef, err := fitPoly(dcs, rpms, 2)
		if err != nil {
			return err
		}
		c := calibration.Calibration{Type: calibration.TypeStirring, Name: "stirring-" + m.now().UTC().Format("2006-01-02_15-04-05"),
			Unit: m.unit, CreatedAt: m.now().UTC(), Curve: calibration.PolyCurve(coef...), X: "DC %", Y: "RPM",
			Recorded: calibration.Recorded{X: dcs, Y: rpms}, PWMHz: 200, Voltage: -1}
		if err := c.Validate(); err != nil {
			return err
		}
		review(s, c)
	case "review":
		return m.save(s, "stirring", calibrationOf(s), in)
	}
	return nil
}
