package session

import (
	"context"
	"fmt"
	"strings"

	"github.com/pioreactor/pioreactord/pkg/calibration"
)

// pumpProtocol times the pump and asks how much it moved: volume = slope · seconds, fitted
// through the origin.
type pumpProtocol struct{}

func (pumpProtocol) name() string { return "duration_based" }
func (pumpProtocol) devices() []string {
	return []string{calibration.AltMediaPump, calibration.MediaPump, calibration.WastePump}
}
func (pumpProtocol) first() string { return "intro" }

func (p pumpProtocol) info(device string) ProtocolInfo {
	return ProtocolInfo{ID: device + "_" + p.name(), TargetDevice: device, ProtocolName: p.name(), Priority: 1,
		Title:        "Pump calibration (timed runs)",
		Description:  "Runs the pump for a few set durations; you weigh what it moved. The fit gives mL per second.",
		Requirements: []string{"a container on a scale (0.01 g)", "water in the source bottle", "the tubing primed"}}
}

var defaultDurations = []float64{5, 10, 15, 20}

func (pumpProtocol) step(s *Session) *Step {
	durations := dataFloats(s.Data, "durations")
	i := int(dataFloat(s.Data, "run"))
	switch s.StepID {
	case "intro":
		return &Step{StepID: "intro", StepType: Form, Title: "Prepare the " + strings.ReplaceAll(s.TargetDevice, "_", " "),
			Body: "Put the pump's outlet tube into a container on a scale, and prime the tubing so that liquid comes out at once. Choose the run durations (seconds).",
			Fields: []Field{{Name: "durations", Label: "Run durations (s)", FieldType: "float_list", Default: defaultDurations,
				Minimum: ptr(0.1), Maximum: ptr(120), HelpText: "at least two; longer runs give a more precise rate"}},
			Metadata: map[string]any{}}
	case "run":
		return &Step{StepID: "run", StepType: Action, Title: fmt.Sprintf("Run %d of %d: %g s", i+1, len(durations), durations[i]),
			Body:   fmt.Sprintf("Tare the scale, then continue: the pump runs for %g s.", durations[i]),
			Fields: []Field{}, Metadata: map[string]any{"duration_s": durations[i]}}
	case "measure":
		return &Step{StepID: "measure", StepType: Form, Title: fmt.Sprintf("How much did %g s move?", durations[i]),
			Body: "Read the scale (1 g of water is 1 mL).",
			Fields: []Field{{Name: "volume_ml", Label: "Volume (mL)", FieldType: "float", Required: true, Minimum: ptr(0),
				Maximum: ptr(1000)}}, Metadata: map[string]any{"duration_s": durations[i]}}
	case "review", "complete":
		return reviewStep(s, "mL per second")
	}
	return nil
}

func (p pumpProtocol) advance(ctx context.Context, m *Manager, s *Session, in Inputs) error {
	switch s.StepID {
	case "intro":
		d, err := in.Floats("durations", defaultDurations, 0.1, 120, 2)
		if err != nil {
			return err
		}
		s.Data["durations"], s.Data["run"], s.Data["seconds"], s.Data["volumes"] = d, 0.0, []float64{}, []float64{}
		s.StepID = "run"
	case "run":
		i := int(dataFloat(s.Data, "run"))
		dc, err := m.rig.RunPump(ctx, s.TargetDevice, dataFloats(s.Data, "durations")[i])
		if err != nil {
			return fmt.Errorf("run the pump: %w", err)
		}
		s.Data["dc"] = dc
		s.StepID = "measure"
	case "measure":
		v, err := in.Required("volume_ml", 0, 1000)
		if err != nil {
			return err
		}
		i := int(dataFloat(s.Data, "run"))
		durations := dataFloats(s.Data, "durations")
		s.Data["seconds"] = append(dataFloats(s.Data, "seconds"), durations[i])
		s.Data["volumes"] = append(dataFloats(s.Data, "volumes"), v)
		if i+1 < len(durations) {
			s.Data["run"], s.StepID = float64(i+1), "run"
			return nil
		}
		c, err := calibration.NewPump(m.defaultName(s), m.unit, m.now().UTC(), dataFloats(s.Data, "seconds"), dataFloats(s.Data, "volumes"), 250, dataFloat(s.Data, "dc"), -1)
		if err != nil {
			return err
		}
		review(s, c)
	case "review":
		return m.save(s, s.TargetDevice, calibrationOf(s), in)
	}
	return nil
}

func (m *Manager) defaultName(s *Session) string {
	return s.TargetDevice + "-" + m.now().UTC().Format("2006-01-02_15-04-05")
}
